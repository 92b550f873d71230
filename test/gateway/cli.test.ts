// rpyc-gateway as a user runs it (tsx on the .ts entry): in front of the Python library
// service, a generated stub reaches it over WebSocket; SIGTERM closes it with exit 0. A bad
// command line exits 2 saying what is wrong.

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectLibraryWebSocket } from "../../examples/python/generated/library-service.client.js";
import { startPython, WITH_PYTHON, type PythonProcess } from "../helpers/python.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = "runtime/gateway/cli.ts";
const MODEL = "examples/python/generated/model.json";
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

function run(args: readonly string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, output: () => text, exit };
}

/** Resolves with the URL the gateway printed, or rejects with its output when it exits first. */
async function listening(cli: ReturnType<typeof run>): Promise<string> {
  for (;;) {
    const match = /pages connect to (ws:\/\/\S+);/.exec(cli.output());
    if (match) return match[1]!;
    const exited = await Promise.race([cli.exit.then(() => true), new Promise<false>((resolve) => cli.child.stdout!.once("data", () => resolve(false)))]);
    if (exited) throw new Error(`rpyc-gateway exited:\n${cli.output()}`);
  }
}

describe.runIf(WITH_PYTHON)("rpyc-gateway as a process", () => {
  let python: PythonProcess;
  beforeAll(async () => {
    python = await startPython("serve_service_file.py", [
      fileURLToPath(new URL("../../examples/python/library_service.py", import.meta.url)),
      "LibraryService",
    ]);
  });
  afterAll(async () => {
    await python?.stop();
  });

  it("forwards a stub's calls to the Python server until SIGTERM, then exits 0", async () => {
    const cli = run(["--listen", "127.0.0.1:0", "--upstream", `127.0.0.1:${python.port}`, "--model", MODEL, "--path", "/library"]);
    const url = await listening(cli);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/library$/);
    expect(cli.output()).toContain("(LibraryService: 9 methods, 1 attributes, from examples/python/generated/model.json)");
    const conn = await connectLibraryWebSocket(url);
    expect(await conn.root.count()).toBe(2);
    await conn.close();
    cli.child.kill("SIGTERM");
    expect(await cli.exit).toBe(0);
  }, 60_000);
});

describe("rpyc-gateway's command line", () => {
  it("--help exits 0; a missing or bad option, or a model it cannot use, exits 2 saying why", async () => {
    const help = run(["--help"]);
    expect(await help.exit).toBe(0);
    expect(help.output()).toContain("Usage: rpyc-gateway [options]");
    const missing = run(["--listen", "127.0.0.1:0"]);
    expect(await missing.exit).toBe(2);
    expect(missing.output()).toContain("missing --upstream, --model");
    const bad = run(["--listen", "localhost", "--upstream", "127.0.0.1:1", "--model", MODEL]);
    expect(await bad.exit).toBe(2);
    expect(bad.output()).toContain("--listen must be HOST:PORT");
    const notAModel = run(["--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--model", "package.json"]);
    expect(await notAModel.exit).toBe(2);
    expect(notAModel.output()).toMatch(/model version: expected 1/);
  }, 60_000);
});
