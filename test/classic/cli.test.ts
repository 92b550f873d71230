// rpyc-classic's command line: --help, usage errors (exit code 2, the error and a hint on
// stderr, nothing served) and the forms its options take. Serving itself (the warning,
// --logfile, --register, oneshot, signals) is tested in classic.test.ts.

import { afterEach, describe, expect, it, vi } from "vitest";
import { main, type ClassicCli, type ClassicCliIO } from "../../runtime/classic/cli.js";
import { OneShotServer } from "../../runtime/server/server.js";

function captureIO(): ClassicCliIO & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}

const started = new Set<ClassicCli>();
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all([...started].map((cli) => cli.close()));
  started.clear();
});

describe("rpyc-classic command line", () => {
  it("--help and -h list every option with its default and choices on stdout, exit code 0", async () => {
    for (const argv of [["--help"], ["-h"], ["--port", "0", "--help"], ["--bogus", "-h"]]) {
      const io = captureIO();
      const cli = await main(argv, { io, handleSignals: false });
      expect(cli.server, argv.join(" ")).toBeUndefined();
      expect(await cli.done, argv.join(" ")).toBe(0);
      expect(io.err, argv.join(" ")).toBe("");
      expect(io.out.startsWith("Usage: rpyc-classic [options]\n\nServe ClassicService"), argv.join(" ")).toBe(true);
    }
    const io = captureIO();
    await main(["--help"], { io, handleSignals: false });
    expect(io.out).toContain("WARNING: this grants arbitrary code execution to anyone who can connect.");
    const options = io.out.slice(io.out.indexOf("Options:\n"));
    for (const term of [
      "--host <host>",
      "-p, --port <port>",
      "--ipv6",
      "-m, --mode <mode>",
      "-q, --quiet",
      "--logfile <path>",
      "--register",
      "--registry-type <type>",
      "--registry-port <port>",
      "--registry-host <host>",
      "-h, --help",
    ]) {
      expect(options).toMatch(new RegExp(`^  ${term} `, "m"));
    }
    const text = options.replace(/\s+/g, " ");
    expect(text).toContain("TCP port (0 picks a free one) (default: 18812)");
    expect(text).toContain('(choices: "threaded", "oneshot", default: "threaded")');
    expect(text).toContain('UDP or TCP registry (choices: "UDP", "TCP", default: "UDP")');
    expect(text).toContain("NOT all interfaces");
    for (const line of options.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it("refuses a bad command line: one error line naming the option, a hint to --help, exit code 2, nothing served", async () => {
    const cases: [string[], string][] = [
      [["--mode", "forking"], "option '-m, --mode <mode>' argument 'forking' is invalid: allowed choices are threaded, oneshot"],
      [["-p", "70000"], "option '-p, --port <port>' argument '70000' is invalid: must be an integer from 0 to 65535"],
      [["--port=x"], "argument 'x' is invalid: must be an integer from 0 to 65535"],
      [["--registry-port", "-1"], "option '--registry-port <port>' argument '-1' is invalid"],
      [["--registry-type", "HTTP"], "allowed choices are UDP, TCP"],
      [["--logfile"], "option '--logfile <path>' argument missing"],
      [["--bogus"], "unknown option '--bogus'"],
      [["--regster"], "unknown option '--regster' (did you mean --register?)"],
      [["-x"], "unknown option '-x'"],
      [["--quiet=yes"], "option '-q, --quiet' takes no value"],
      [["-q", "x"], "unexpected argument 'x'"],
      [["--port", "0", "forking"], "unexpected argument 'forking'"],
    ];
    for (const [argv, message] of cases) {
      const io = captureIO();
      const cli = await main(argv, { io, handleSignals: false });
      expect(cli.server, argv.join(" ")).toBeUndefined();
      expect(await cli.done, argv.join(" ")).toBe(2);
      expect(io.out, argv.join(" ")).toBe("");
      const lines = io.err.split("\n");
      expect(lines, argv.join(" ")).toHaveLength(3); // the error, the hint, ""
      expect(lines[0], argv.join(" ")).toMatch(/^error: /);
      expect(lines[0], argv.join(" ")).toContain(message);
      expect(lines[1]).toBe("(see rpyc-classic --help)");
    }
  });

  it("--register with a TCP registry needs its host: a usage error naming --registry-host", async () => {
    vi.stubEnv("RPYC_REGISTRY_HOST", undefined);
    const io = captureIO();
    const cli = await main(["--port", "0", "--register", "--registry-type", "TCP"], { io, handleSignals: false });
    expect(cli.server).toBeUndefined();
    expect(await cli.done).toBe(2);
    expect(io.err).toMatch(/^error: .*--registry-host.*\n\(see rpyc-classic --help\)\n$/);
    expect(io.err).not.toContain("GRANTS ARBITRARY CODE EXECUTION");
  });

  it("takes values after a space, after '=' or attached, short flags grouped", async () => {
    const io = captureIO();
    const cli = await main(["--port=0", "-moneshot", "-q", "--host", "127.0.0.1"], { io, handleSignals: false });
    started.add(cli);
    expect(cli.server).toBeInstanceOf(OneShotServer);
    expect(cli.server!.host).toBe("127.0.0.1");
    expect(io.out).toBe(`rpyc-oneshot\n127.0.0.1\t${cli.server!.port}\n`);
    expect(io.err).toContain("GRANTS ARBITRARY CODE EXECUTION");
    expect(io.err).not.toContain("INFO"); // -q
  });
});
