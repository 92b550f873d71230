// The shared harness of every bench (suite, compiler, load, soak, hostile, A/B, netref-cost):
// option parsing and the entry point's shutdown, child processes that never outlive the bench,
// servers that print "PORT n", JSON lines, CPU time from /proc, latency statistics.

import { execFileSync, spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, cpus } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type CliTable from "cli-table3";

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = path.resolve(BENCH_DIR, "..");
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- options and entry points ----------------------------------------------------------------

type Opts = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs (strict) of process.argv plus -h/--help, which prints `help` and exits. */
export function cli<const O extends Opts>(
  help: string,
  options: O,
  allowPositionals = false,
): { values: ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: boolean }>>["values"]; positionals: string[] } {
  const all = { ...options, help: { type: "boolean", short: "h" } } as const;
  const { values, positionals } = parseArgs({ args: process.argv.slice(2), options: all, strict: true, allowPositionals });
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help.endsWith("\n") ? help : help + "\n");
    process.exit(0);
  }
  return { values: values as never, positionals };
}

/** Parses a number option: finite and at least `min` (underscores allowed); `fallback` when absent. */
export function num(what: string, raw: string | undefined, fallback: number, min: number, integer = false): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.replace(/_/g, ""));
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${what} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  return integer ? Math.floor(value) : value;
}

export const list = (raw: string | undefined): string[] =>
  (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/** A comma-separated option whose every item must be one of `allowed`. */
export function listOf<T extends string | number>(what: string, raw: string | undefined, allowed: readonly T[]): T[] {
  const items = list(raw).map((item) => allowed.find((a) => String(a) === item));
  const bad = list(raw).find((_, i) => items[i] === undefined);
  if (bad !== undefined) throw new RangeError(`${what}: unknown ${JSON.stringify(bad)}; choose from ${allowed.join(",")}`);
  return items as T[];
}

/** Set once the bench received SIGINT, SIGTERM or SIGHUP; its loops check it and stop. */
export const interruption = { interrupted: false };

/**
 * Runs an orchestrator's main: on SIGINT/SIGTERM/SIGHUP, `cleanup` (which must stop the
 * children) runs once and the bench exits 130 without results; after main (or its error),
 * `cleanup` runs too, and the exit code is main's (1 on an error).
 */
export function runMain(main: () => Promise<number>, cleanup: () => Promise<void> = stopAllChildren): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruption.interrupted) return;
    interruption.interrupted = true;
    const count = children.size;
    void cleanup().then(() => {
      process.stderr.write(`\n${signal}: stopped ${count} bench process${count === 1 ? "" : "es"}; no results.\n`);
      process.exit(130);
    });
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  main().then(
    async (code) => {
      if (interruption.interrupted) return;
      await cleanup();
      process.exitCode = code;
    },
    async (err: unknown) => {
      if (interruption.interrupted) return;
      process.stderr.write(`\nbench failed: ${err instanceof Error ? err.message : String(err)}\n`);
      await cleanup();
      process.exit(1);
    },
  );
}

/**
 * A child process of a bench (server, client, attacker): leaves cleanly on SIGTERM/SIGINT and,
 * with --watch-stdin (as the benches start them), when stdin reaches EOF, which happens when the
 * bench is gone (even killed with SIGKILL). `onLine` gets the lines the bench writes to stdin.
 */
export function exitWithParent(shutdown: () => Promise<void>, watchStdin = process.argv.includes("--watch-stdin"), onLine?: (line: string) => void): void {
  let leaving = false;
  const leave = (code: number): void => {
    if (leaving) return;
    leaving = true;
    setTimeout(() => process.exit(code), 2000).unref(); // never hang on a stuck close
    shutdown().then(
      () => process.exit(code),
      () => process.exit(code),
    );
  };
  process.on("SIGTERM", () => leave(0));
  process.on("SIGINT", () => leave(0));
  const lines = createInterface({ input: process.stdin });
  if (onLine) lines.on("line", onLine);
  if (watchStdin) lines.on("close", () => leave(3));
}

// ---- child processes ---------------------------------------------------------------------------

/** Every process a bench started and that has not exited yet. */
export const children = new Set<ChildProcess>();

/**
 * Starts a child in its own process group (a Ctrl-C reaches only the bench, which stops it).
 * Its stdin stays an open pipe: children leave by themselves when it reaches EOF.
 */
export function startChild(command: string, args: readonly string[], cwd = REPO_DIR): ChildProcessWithoutNullStreams {
  const proc = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "pipe"], detached: true });
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  proc.once("error", () => children.delete(proc));
  proc.stdin.on("error", () => {}); // a child that is gone closes the pipe: not our error
  return proc;
}

/** A Node child running a bench script (relative to bench/) through tsx's loader. */
export const startNode = (script: string, args: readonly string[], nodeFlags: readonly string[] = []): ChildProcessWithoutNullStreams =>
  startChild(process.execPath, [...nodeFlags, "--import", "tsx", path.join(BENCH_DIR, script), ...args]);

export function exited(proc: ChildProcess): Promise<number | null> {
  if (!isRunning(proc)) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
}

export const isRunning = (proc: ChildProcess): boolean => proc.exitCode === null && proc.signalCode === null;

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(proc: ChildProcess, graceMs = 2000): Promise<void> {
  if (!isRunning(proc)) return;
  const gone = exited(proc);
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}

export const stopAllChildren = (): Promise<void> => Promise.all([...children].map((proc) => stopChild(proc))).then(() => undefined);

// Last resort: whatever is still running when the bench exits is killed (synchronously).
process.on("exit", () => {
  for (const proc of children) proc.kill("SIGKILL");
});

/** Collects a child's stderr (the last 32-64 KB), for error messages. */
export function captureStderr(proc: ChildProcessWithoutNullStreams): () => string {
  let text = "";
  proc.stderr.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > 64_000) text = text.slice(-32_000);
  });
  return () => text;
}

/** Calls `onEvent` with every JSON object a child prints on its own line; resolves at EOF. */
export function onJsonLines(proc: ChildProcessWithoutNullStreams, onEvent: (event: Record<string, unknown>) => void): Promise<void> {
  const lines = createInterface({ input: proc.stdout });
  lines.on("line", (line) => {
    const value = parseJsonLine(line);
    if (value !== undefined) onEvent(value);
  });
  return new Promise((resolve) => lines.once("close", resolve));
}

/** What a child tells its bench: one JSON object per line on stdout. */
export function emitJson<E extends object>(event: E): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function describeExit(proc: ChildProcess, stderr: string): string {
  const how = proc.signalCode !== null ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode}`;
  const lines = stderr
    .trim()
    .split("\n")
    .filter((line) => line.trim() !== "");
  const gist = [...lines].reverse().find((line) => !/^\s*at /.test(line) && !/^\s*\^+\s*$/.test(line));
  return gist === undefined ? how : `${how}: ${gist.trim()}\n${lines.slice(-12).join("\n")}`;
}

export interface RunningServer {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly port: number;
  stderr(): string;
}

/** Starts a server (any command) that prints "PORT n" once listening; its later lines go to `onLine`. */
export async function startServerCommand(
  command: string,
  args: readonly string[],
  onLine: (line: string) => void = () => {},
  cwd = REPO_DIR,
): Promise<RunningServer> {
  const proc = startChild(command, args, cwd);
  const stderr = captureStderr(proc);
  let onPort: (port: number) => void = () => {};
  createInterface({ input: proc.stdout }).on("line", (line) => {
    const port = /^PORT (\d+)$/.exec(line.trim());
    if (port) onPort(Number(port[1]));
    else onLine(line);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.at(-1)}: no PORT line within 30 s: ${stderr()}`)), 30_000);
    onPort = (p) => (clearTimeout(timer), resolve(p));
    proc.once("error", (err) => (clearTimeout(timer), reject(err)));
    void exited(proc).then(() => (clearTimeout(timer), reject(new Error(`server ended before printing its port, ${describeExit(proc, stderr())}`))));
  });
  return { proc, port, stderr };
}

/** A Node server script of bench/ (started with --watch-stdin); JSON lines after PORT go to `onEvent`. */
export const startServer = (
  script: string,
  args: readonly string[],
  nodeFlags: readonly string[] = [],
  onEvent?: (event: Record<string, unknown>) => void,
): Promise<RunningServer> =>
  startServerCommand(process.execPath, [...nodeFlags, "--import", "tsx", path.join(BENCH_DIR, script), ...args, "--watch-stdin"], (line) => {
    const event = parseJsonLine(line);
    if (event !== undefined) onEvent?.(event);
  });

// ---- CPU time and the machine -------------------------------------------------------------------

let clockTicks = 0;
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process (all its threads), in seconds; undefined where /proc is missing. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** The machine's busy CPU time (user, nice, system, steal, irq, softirq; all cores), in seconds. */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
    return (user + nice + system + steal + irq + softirq) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Measures the CPU other processes use (the machine's busy time minus `pids` and this process), in cores. */
export function otherCpu(pids: readonly (number | undefined)[]): () => number | null {
  const read = (): (number | undefined)[] => [machineBusySeconds(), cpuSeconds(process.pid), ...pids.map(cpuSeconds)];
  const t0 = performance.now();
  const a = read();
  return () => {
    const b = read();
    const seconds = (performance.now() - t0) / 1000;
    if (seconds <= 0 || [...a, ...b].some((v) => v === undefined)) return null;
    const d = b.map((v, i) => v! - a[i]!);
    return Math.max(0, d[0]! - d.slice(1).reduce((s, v) => s + v, 0)) / seconds;
  };
}

/** Waits (at most `maxSeconds`) until other processes use under a quarter of a core; returns their last load, in cores. */
export async function waitForQuiet(maxSeconds: number): Promise<number | null> {
  const deadline = Date.now() + maxSeconds * 1000;
  for (;;) {
    const others = otherCpu([]);
    await sleep(500);
    const load = others();
    if (load === null || load < 0.25 || Date.now() >= deadline) return load;
  }
}

export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

export function machine(): string {
  const cores = availableParallelism();
  return `machine: ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cores} core${cores === 1 ? "" : "s"}, Node ${process.version}`;
}

/** "Python x, RPyC y" of a Python with RPyC, or null. */
export function pythonRuntime(python: string): string | null {
  try {
    return execFileSync(python, ["-c", "import platform, rpyc; print('Python', platform.python_version() + ', RPyC', rpyc.__version__)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch {
    return null;
  }
}

export function writeJson(file: string | undefined, value: Record<string, unknown>): void {
  if (file === undefined) return;
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...value }, null, 2) + "\n");
  process.stderr.write(`results written to ${file}\n`);
}

/**
 * The benches' tables: no colours, no borders; columns right-aligned except those in `left`. cli-table3 is loaded
 * here, on first use, so that the harness imports nothing but Node's modules (netref-cost.ts runs compiled outside the repository).
 */
export function newTable(
  head: readonly string[],
  left: readonly number[] = [],
  options: Omit<CliTable.TableConstructorOptions, "head" | "style"> = {},
): CliTable.Table {
  const Table = createRequire(import.meta.url)("cli-table3") as typeof CliTable;
  const colAligns = head.map((_, i): "left" | "right" => (left.includes(i) ? "left" : "right"));
  return new Table({ head: [...head], colAligns, ...options, style: { head: [], border: [] } });
}

// ---- numbers -------------------------------------------------------------------------------------

export const fmtInt = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "–");
export const fmtUs = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "–");
export const fmtMB = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : "–");
export const plural = (n: number, word: string, suffix = "s"): string => `${n} ${word}${n === 1 ? "" : suffix}`;

/** Per-call latencies, microseconds, float64 little-endian (written by the clients). */
export function readSamples(file: string): Float64Array {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length - (bytes.length % 8));
  return Float64Array.from({ length: view.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true));
}

/** Nearest-rank percentile of ascending `sorted` (the Python clients use the same rule). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(Math.max(1, Math.ceil((p / 100) * sorted.length)), sorted.length) - 1]!;
}

export type LatencySummary = ReturnType<typeof summarize>;

/** Summary of samples (several arrays are pooled). */
export function summarize(...parts: readonly Float64Array[]) {
  const sorted = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) sorted.set(part, (offset += part.length) - part.length);
  sorted.sort();
  const sum = sorted.reduce((s, v) => s + v, 0);
  const [p, n] = [(q: number): number => percentile(sorted, q), sorted.length];
  return {
    count: n,
    min: n > 0 ? sorted[0]! : NaN,
    median: p(50),
    p90: p(90),
    p99: p(99),
    p999: p(99.9),
    max: n > 0 ? sorted[n - 1]! : NaN,
    mean: n > 0 ? sum / n : NaN,
  };
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
