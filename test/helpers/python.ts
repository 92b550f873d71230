// The real Python RPyC 5.3 peer (Debian python3-rpyc, run with /usr/bin/python3): start
// Python servers, run Python clients, and dump values with rpyc's own brine. Every process
// started here is killed by stop() or when the test file ends.

import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { afterAll } from "vitest";

export const PYTHON = "/usr/bin/python3";
/** Directory of the Python fixtures (servers and clients the interop tests run). */
export const PY_FIXTURES = fileURLToPath(new URL("../interop/python/", import.meta.url));

/**
 * False in the fast tier (`npm run test:fast` sets RPYC_TESTS=fast): files that mix Python
 * interop with plain tests wrap the Python part in `describe.runIf(WITH_PYTHON)`, so the
 * rest of the file still runs in the edit loop. `npm test` runs everything.
 */
export const WITH_PYTHON = process.env.RPYC_TESTS !== "fast";

let checked = false;
/** Fails with a clear instruction when python3-rpyc 5.3 is missing. */
export function requirePythonRpyc(): void {
  if (checked) return;
  try {
    const version = execFileSync(PYTHON, ["-c", "import rpyc; print(rpyc.__version__)"], { encoding: "utf8" }).trim();
    if (!version.startsWith("5.3")) throw new Error(`found rpyc ${version}, need 5.3`);
  } catch (err) {
    throw new Error(
      `the interop tests need Python RPyC 5.3 at ${PYTHON}: run 'apt-get install -y python3-rpyc' (bash .ci/run does). ${(err as Error).message}`,
    );
  }
  checked = true;
}

const running = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.all([...running].map((proc) => stopProcess(proc)));
});

function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    running.delete(proc);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
    proc.once("exit", () => {
      clearTimeout(timer);
      running.delete(proc);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

export interface PythonProcess {
  readonly proc: ChildProcess;
  /** The port the script printed as "PORT <n>" (0 if it printed none). */
  readonly port: number;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once the process ends by itself. */
  exited(): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts a Python fixture script. If `waitForPort`, resolves once it prints "PORT <n>"
 * (scripts bind 127.0.0.1 port 0 and print the port); otherwise at once.
 */
export function startPython(script: string, args: readonly string[] = [], waitForPort = true): Promise<PythonProcess> {
  requirePythonRpyc();
  const proc = spawn(PYTHON, ["-u", path.join(PY_FIXTURES, script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  running.add(proc);
  let text = "";
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopProcess(proc);
      reject(new Error(`${script} printed no PORT line within 10 s:\n${text}`));
    }, 10_000);
    const make = (port: number): PythonProcess => ({
      proc,
      port,
      output: () => text,
      exited: () => exit,
      stop: () => stopProcess(proc),
    });
    const onText = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = /^PORT (\d+)$/m.exec(text);
      if (waitForPort && match) {
        clearTimeout(timer);
        resolve(make(Number(match[1])));
      }
    };
    proc.stdout!.on("data", onText);
    proc.stderr!.on("data", onText);
    void exit.then((code) => {
      clearTimeout(timer);
      if (waitForPort) reject(new Error(`${script} exited with ${code} before printing PORT:\n${text}`));
    });
    if (!waitForPort) {
      clearTimeout(timer);
      resolve(make(0));
    }
  });
}

/** Runs a Python fixture to completion; rejects if it fails or outlives `timeoutMs`. */
export async function runPython(script: string, args: readonly string[] = [], timeoutMs = 20_000): Promise<string> {
  const py = await startPython(script, args, false);
  const timer = setTimeout(() => void py.stop(), timeoutMs);
  const code = await py.exited();
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${script} exited with ${code}:\n${py.output()}`);
  return py.output();
}

/** Runs a Python client that prints one JSON object per line ("RESULT {...}") and returns them. */
export async function runPythonClient(script: string, args: readonly string[] = [], timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const output = await runPython(script, args, timeoutMs);
  const line = output.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`${script} printed no RESULT line:\n${output}`);
  return JSON.parse(line.slice("RESULT ".length)) as Record<string, unknown>;
}

/** Hex of rpyc's own `brine.dump(eval(expr))` for each Python expression. */
export function pythonBrineDump(expressions: readonly string[]): string[] {
  requirePythonRpyc();
  const program = [
    "import sys, json",
    "from rpyc.core import brine",
    "exprs = json.loads(sys.stdin.read())",
    "print(json.dumps([brine.dump(eval(e)).hex() for e in exprs]))",
  ].join("\n");
  const out = execFileSync(PYTHON, ["-c", program], { input: JSON.stringify(expressions), encoding: "utf8" });
  return JSON.parse(out) as string[];
}

/** `repr(brine.load(bytes.fromhex(h)))` for each hex string, computed by Python. */
export function pythonBrineLoadRepr(hexes: readonly string[]): string[] {
  requirePythonRpyc();
  const program = [
    "import sys, json",
    "from rpyc.core import brine",
    "hs = json.loads(sys.stdin.read())",
    "print(json.dumps([repr(brine.load(bytes.fromhex(h))) for h in hs]))",
  ].join("\n");
  const out = execFileSync(PYTHON, ["-c", program], { input: JSON.stringify(hexes), encoding: "utf8" });
  return JSON.parse(out) as string[];
}
