// rpyc-registry: its flags mirror rpyc_registry's, and the CLI runs as a child process
// (tsx on the .ts entry) bound to 127.0.0.1 until SIGTERM, then exits 0.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { listServices } from "../../runtime/index.js";
import { DEFAULT_PRUNING_TIMEOUT, REGISTRY_PORT } from "../../runtime/registry/index.js";
import { CliExit, bannerLine, parseRegistryArgs, type RegistryCliIO } from "../../runtime/registry/cli.js";
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

  it("takes -l and -q bare, or with a value as RPyC does (-l true, --listing=false, -lno)", () => {
    const listing = (...argv: string[]): boolean => parseRegistryArgs(argv).allowListing;
    expect(listing("-l")).toBe(true);
    expect(listing("--listing")).toBe(true);
    expect(listing("-l", "true")).toBe(true);
    expect(listing("--listing", "false")).toBe(false);
    expect(listing("--listing=false")).toBe(false);
    expect(listing("--listing=yes")).toBe(true);
    expect(listing("-lfalse")).toBe(false);
    expect(listing("-l", "0")).toBe(false);
    expect(listing("-l", "true", "-l", "off")).toBe(false); // the last one wins
    // A bare one at the end, before another option, or ending a group of short flags.
    expect(parseRegistryArgs(["-p", "0", "-l"])).toMatchObject({ port: 0, allowListing: true });
    expect(parseRegistryArgs(["-l", "-q"])).toMatchObject({ allowListing: true, quiet: true });
    expect(parseRegistryArgs(["--quiet", "--listing"])).toMatchObject({ allowListing: true, quiet: true });
    expect(parseRegistryArgs(["-6l", "false"])).toMatchObject({ ipv6: true, allowListing: false });
    expect(parseRegistryArgs(["-q", "no", "-6"])).toMatchObject({ quiet: false, ipv6: true });
    // Values attached or after "=", as usual.
    expect(parseRegistryArgs(["-p0", "--timeout=7", "--max-entries=5", "-mtcp"])).toMatchObject({ port: 0, pruningTimeout: 7, maxEntries: 5, mode: "TCP" });
    expect(parseRegistryArgs(["--host", "::1", "-6"])).toMatchObject({ host: "::1", ipv6: true });
  });

  /** parseRegistryArgs(argv), which must throw CliExit: its exit code and what it wrote. */
  function refused(argv: string[]): { exitCode: number; stdout: string; stderr: string } {
    const out = { stdout: "", stderr: "" };
    const io: RegistryCliIO = { stdout: (s) => void (out.stdout += s), stderr: (s) => void (out.stderr += s) };
    try {
      parseRegistryArgs(argv, io);
    } catch (err) {
      expect(err, argv.join(" ")).toBeInstanceOf(CliExit);
      return { exitCode: (err as CliExit).exitCode, ...out };
    }
    throw new Error(`accepted: ${argv.join(" ")}`);
  }

  it("refuses bad values and unknown options: one error line naming the option, a hint to --help, exit code 2", () => {
    const cases: [string[], string][] = [
      [["-m", "HTTP"], "mode must be UDP or TCP"],
      [["-p", "70000"], "port must be an integer in [0..65535]"],
      [["-p", "x"], "port must be an integer in [0..65535]"],
      [["--port=-1"], "port must be an integer in [0..65535]"],
      [["-t", "-1"], "timeout must be an integer in [1..2147483648]"],
      [["--max-entries", "0"], "max-entries must be an integer in [1..2147483648]"],
      [["-l", "maybe"], "'-l, --listing [value]' argument 'maybe' is invalid: expected a boolean"],
      [["-q", "2"], "'-q, --quiet [value]' argument '2' is invalid"],
      [["-p"], "option '-p, --port <port>' argument missing"],
      [["--bogus"], "unknown option '--bogus'"],
      [["-x"], "unknown option '-x'"],
      [["--lsting"], "unknown option '--lsting' (did you mean --listing?)"],
      [["--no-listing"], "unknown option '--no-listing' (did you mean --listing=false?)"],
      [["--ipv6=yes"], "option '-6, --ipv6' takes no value"],
      [["extra"], "unexpected argument 'extra'"],
      [["-l", "true", "extra"], "unexpected argument 'extra'"],
    ];
    for (const [argv, message] of cases) {
      const result = refused(argv);
      expect(result.exitCode, argv.join(" ")).toBe(2);
      expect(result.stdout, argv.join(" ")).toBe("");
      const lines = result.stderr.split("\n");
      expect(lines, argv.join(" ")).toHaveLength(3); // the error, the hint, ""
      expect(lines[0], argv.join(" ")).toMatch(/^error: /);
      expect(lines[0], argv.join(" ")).toContain(message);
      expect(lines[1]).toBe("(see rpyc-registry --help)");
    }
  });

  it("--help and -h list every option with its default on stdout (exit code 0)", () => {
    for (const flag of ["--help", "-h", "-p 0 --help", "--bogus -h"]) {
      const result = refused(flag.split(" "));
      expect(result.exitCode, flag).toBe(0);
      expect(result.stderr, flag).toBe("");
      expect(result.stdout.startsWith("Usage: rpyc-registry [options]\n\nRPyC registry server"), flag).toBe(true);
    }
    const help = refused(["--help"]).stdout;
    const options = help.slice(help.indexOf("Options:\n"));
    for (const term of [
      "-m, --mode <mode>",
      "-p, --port <port>",
      "--host <host>",
      "-t, --timeout <seconds>",
      "-l, --listing [value]",
      "-6, --ipv6",
      "-q, --quiet [value]",
      "--logfile <path>",
      "--max-entries <n>",
      "-h, --help",
    ]) {
      expect(options).toMatch(new RegExp(`^  ${term.replace(/[[\]]/g, "\\$&")}  `, "m"));
    }
    expect(options).toContain('serving mode: UDP or TCP (default: "UDP")');
    expect(options).toContain("the UDP/TCP listener port (default: 18811)");
    expect(options).toMatch(/this long \(default: 240\)/);
    expect(options).toMatch(/\(default: 10000\)/);
    expect(help).toContain("RPYC_REGISTRY_HOST");
    // Descriptions start in one column (continuation lines too) and lines fit in 80 columns.
    const column = /^ {2}-m, --mode <mode> +/m.exec(options)![0].length;
    for (const line of options.split("\n").slice(1, -1)) {
      expect(line.length, line).toBeLessThanOrEqual(80);
      expect(line, line).toMatch(line.startsWith("  -") ? new RegExp(`^.{${column - 1}} \\S`) : new RegExp(`^ {${column}}\\S`));
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

  it("--help exits 0; a bad command line exits 2 with the error on stderr", async () => {
    const run = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
      const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      children.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
    };
    const [help, bad] = await Promise.all([run(["--help"]), run(["--host", HOST, "--port", "x"])]);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toContain("Usage: rpyc-registry [options]");
    expect(help.stdout).toContain("-l, --listing [value]");
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(bad.stderr).toBe("error: option '-p, --port <port>' argument 'x' is invalid: port must be an integer in [0..65535]\n(see rpyc-registry --help)\n");
  });

  it("stops on SIGINT too", async () => {
    const cli = await runCli(["--host", HOST, "-p", "0"]);
    cli.child.kill("SIGINT");
    expect(await exitOf(cli.child)).toBe(0);
    expect(cli.output()).toContain("SIGINT, closing");
  });
});
