// rpyc-registry: its flags mirror rpyc_registry's, and the CLI runs as a child process
// (tsx on the .ts entry) bound to 127.0.0.1 until SIGTERM, then exits 0.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { CommanderError } from "commander";
import { DEFAULT_PRUNING_TIMEOUT, REGISTRY_PORT, listServices } from "../../runtime/index.js";
import { bannerLine, parseRegistryArgs } from "../../runtime/registry/cli.js";
import { HOST, registryClient, type Mode } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = path.join(ROOT, "runtime/registry/cli.ts");

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});

describe("rpyc-registry flags", () => {
  it("defaults are rpyc_registry's", () => {
    const o = parseRegistryArgs([]);
    expect(o.host.split(".").every((part) => part === "0")).toBe(true); // all interfaces
    expect({ ...o, host: undefined }).toEqual({
      mode: "UDP",
      host: undefined,
      port: REGISTRY_PORT,
      pruningTimeout: DEFAULT_PRUNING_TIMEOUT,
      allowListing: false,
      ipv6: false,
      quiet: false,
      maxEntries: 10_000,
    });
  });

  it("accepts RPyC's short and long flags", () => {
    const o = parseRegistryArgs(["-m", "tcp", "-p", "0", "-t", "5", "-l", "-q", "--logfile", "/tmp/x.log", "--host", HOST]);
    expect(o).toMatchObject({ mode: "TCP", port: 0, pruningTimeout: 5, allowListing: true, quiet: true, logfile: "/tmp/x.log", host: HOST });
    expect(parseRegistryArgs(["--mode", "UDP", "--port", "1234", "--timeout", "60", "--listing", "true"])).toMatchObject({
      mode: "UDP",
      port: 1234,
      pruningTimeout: 60,
      allowListing: true,
    });
    expect(parseRegistryArgs(["-l", "false"]).allowListing).toBe(false);
    expect(parseRegistryArgs(["-6"])).toMatchObject({ ipv6: true, host: "::" });
  });

  it("the banner says when the registry listens on all interfaces", () => {
    const defaults = parseRegistryArgs([]);
    expect(bannerLine(defaults, REGISTRY_PORT)).toMatch(/UDP registry listening on .*:18811 \(all interfaces\), pruning timeout 240 s, listing off/);
    expect(bannerLine(parseRegistryArgs(["-6", "-m", "TCP"]), 1)).toContain("listening on :::1 (all interfaces)");
    expect(bannerLine({ ...defaults, host: HOST }, 5)).toBe("rpyc-registry: UDP registry listening on 127.0.0.1:5, pruning timeout 240 s, listing off\n");
  });

  it("rejects bad values with a usage error", () => {
    for (const argv of [["-m", "HTTP"], ["-p", "70000"], ["-p", "x"], ["-t", "-1"], ["-l", "maybe"], ["--bogus"]]) {
      let stderr = "";
      expect(() => parseRegistryArgs(argv, { stdout: () => {}, stderr: (s) => void (stderr += s) }), argv.join(" ")).toThrow(CommanderError);
      expect(stderr, argv.join(" ")).toMatch(/error/);
    }
  });
});

/** Runs the CLI through tsx; resolves once it printed its listening line. */
function runCli(args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let text = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rpyc-registry printed no listening line:\n${text}`)), 15_000);
    const onText = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => text });
      }
    };
    child.stdout!.on("data", onText);
    child.stderr!.on("data", onText);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`rpyc-registry exited with ${code}:\n${text}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("rpyc-registry as a process", () => {
  const logDir = mkdtempSync(path.join(tmpdir(), "rpyc-registry-"));
  afterAll(() => rmSync(logDir, { recursive: true, force: true }));

  for (const mode of ["TCP", "UDP"] as Mode[]) {
    it(`${mode}: serves registrations until SIGTERM, then closes and exits 0`, async () => {
      const logfile = path.join(logDir, `${mode}.log`);
      const cli = await runCli(["-m", mode, "--host", HOST, "-p", "0", "-t", "5", "-l", "--logfile", logfile]);
      const registrar = registryClient(mode, cli.port);
      expect(await registrar.register(["cli-test"], 9100, HOST)).toBe(true);
      expect(await registrar.discover("CLI-TEST")).toEqual([[HOST, 9100]]);
      expect(await listServices({ registrar })).toEqual(["CLI-TEST"]);
      cli.child.kill("SIGTERM");
      expect(await exitOf(cli.child)).toBe(0);
      expect(cli.output()).toContain("SIGTERM, closing");
      const log = readFileSync(logfile, "utf8");
      expect(log).toContain(`REGSRV/${mode}: registry: registering ${HOST}:9100 as CLI-TEST`);
      expect(log).toContain("registry closed");
    });
  }

  it("stops on SIGINT too", async () => {
    const cli = await runCli(["--host", HOST, "-p", "0"]);
    cli.child.kill("SIGINT");
    expect(await exitOf(cli.child)).toBe(0);
    expect(cli.output()).toContain("SIGINT, closing");
  });
});
