// The shared harness of every bench (suite, compiler, load, soak, hostile, A/B, netref-cost):
// options and their --help, the entry point's shutdown, child processes that never outlive the
// bench, servers that print "PORT n", JSON lines, CPU time from /proc, tables, progress bars,
// latency statistics.

import { execFileSync, spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo, Server } from "node:net";
import { availableParallelism, cpus, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type CliProgress from "cli-progress";
import type CliTable from "cli-table3";

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = path.resolve(BENCH_DIR, "..");
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** `fn()`, or `fallback` when it throws (a file of /proc that is missing, a command that fails). */
export function attempt<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
// cli-table3 and cli-progress load on first use: the harness imports nothing but Node's modules (netref-cost.ts runs compiled).
const require = createRequire(import.meta.url);

// ---- options and entry points ----------------------------------------------------------------

type Opt = NonNullable<ParseArgsConfig["options"]>[string] & { readonly arg?: string; readonly help?: string };
type Values<O extends Record<string, Opt>> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: boolean }>>["values"];

/**
 * parseArgs (strict) of process.argv. -h/--help prints `usage`, then each option that has a `help`
 * text ("--name ARG  text"; a "\n" in it continues on the next line), and exits. --watch-stdin,
 * which the benches give every child (exitWithParent), is accepted everywhere.
 */
export function cli<const O extends Record<string, Opt>>(usage: string, options: O, allowPositionals = false): { values: Values<O>; positionals: string[] } {
  const all = { ...options, help: { type: "boolean", short: "h" }, "watch-stdin": { type: "boolean" } } as const;
  const { values, positionals } = parseArgs({ args: process.argv.slice(2), options: all, strict: true, allowPositionals });
  if ((values as { help?: boolean }).help) {
    const lines = Object.entries(options).flatMap(([name, o]) =>
      o.help === undefined ? [] : [`${`  --${name}${o.arg ? ` ${o.arg}` : ""}`.padEnd(20)} ${o.help.replaceAll("\n", `\n${" ".repeat(21)}`)}`],
    );
    process.stdout.write(lines.length === 0 ? `${usage}\n` : `${usage}\n\n${lines.join("\n")}\n  -h, --help         this text\n`);
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

/** A child's command-line flags: `{ port: 1, quick: true }` -> ["--port", "1", "--quick"]; false and undefined are left out. */
export const flags = (values: Record<string, string | number | boolean | undefined>): string[] =>
  Object.entries(values).flatMap(([name, v]) => (v === undefined || v === false ? [] : v === true ? [`--${name}`] : [`--${name}`, String(v)]));

/** Set once the bench received SIGINT, SIGTERM or SIGHUP; its loops check it and stop. */
export const interruption = { interrupted: false };

const cleanups: (() => void)[] = [];

/** Work for the end of the bench (after main, its error or a signal), once the children are stopped. */
export const onCleanup = (fn: () => void): void => void cleanups.push(fn);

async function cleanup(): Promise<void> {
  await stopAllChildren();
  for (const fn of cleanups.splice(0).reverse()) fn();
}

/** A temporary directory, removed at the end of the bench. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs an orchestrator's main: on SIGINT/SIGTERM/SIGHUP every child is stopped, the cleanups run
 * once and the bench exits 130 without results; after main (or its error) too, and the exit code
 * is main's (1 on an error).
 */
export function runMain(main: () => Promise<number>): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interruption.interrupted) return;
    interruption.interrupted = true;
    const count = children.size;
    void cleanup().then(() => {
      process.stderr.write(`\n${signal}: stopped ${plural(count, "bench process", "es")}; no results.\n`);
      process.exit(130);
    });
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  const finish = async (code: number, error?: unknown): Promise<void> => {
    if (interruption.interrupted) return;
    await cleanup();
    process.exitCode = code;
    if (error === undefined) return;
    process.stderr.write(`\nbench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  };
  main().then(finish, (err: unknown) => finish(1, err ?? "error"));
}

/**
 * A child process of a bench (server, client, attacker): leaves cleanly on SIGTERM/SIGINT and,
 * with --watch-stdin (as the benches start them), when stdin reaches EOF, which happens when the
 * bench is gone (even killed with SIGKILL). `onLine` gets the lines the bench writes to stdin.
 */
export function exitWithParent(shutdown: () => Promise<void>, onLine?: (line: string) => void): void {
  let leaving = false;
  const leave = (code: number): void => {
    if (leaving) return;
    leaving = true;
    setTimeout(() => process.exit(code), 2000).unref(); // never hang on a stuck close
    void shutdown()
      .catch(() => {})
      .then(() => process.exit(code));
  };
  process.on("SIGTERM", () => leave(0));
  process.on("SIGINT", () => leave(0));
  const lines = createInterface({ input: process.stdin });
  if (onLine) lines.on("line", onLine);
  if (process.argv.includes("--watch-stdin")) lines.on("close", () => leave(3));
}

/** In a server child: prints "PORT n" once `server` listens, and closes it when the bench goes (exitWithParent). */
export function announce(server: { readonly port: number; close(): Promise<void> }, onLine?: (line: string) => void): void {
  process.stdout.write(`PORT ${server.port}\n`);
  exitWithParent(() => server.close(), onLine);
}

// ---- child processes ---------------------------------------------------------------------------

export type Command = readonly [command: string, args: readonly string[]];

/** A bench script (relative to `tree`/bench/) in Node through tsx's loader, with --watch-stdin (it leaves with the bench). */
export const nodeScript = (script: string, args: readonly string[] = [], nodeFlags: readonly string[] = [], tree = REPO_DIR): Command => [
  process.execPath,
  [...nodeFlags, "--import", "tsx", path.join(tree, "bench", script), ...args, "--watch-stdin"],
];

/** Every process a bench started and that has not exited yet. */
const children = new Set<ChildProcess>();

/**
 * Starts a child in its own process group (a Ctrl-C reaches only the bench, which stops it).
 * Its stdin stays an open pipe: children leave by themselves when it reaches EOF.
 */
export function startChild([command, args]: Command, cwd = REPO_DIR): ChildProcessWithoutNullStreams {
  const proc = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "pipe"], detached: true });
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  proc.once("error", () => children.delete(proc));
  proc.stdin.on("error", () => {}); // a child that is gone closes the pipe: not our error
  return proc;
}

/** Resolves with the exit code once the process is gone (null: a signal, or it never started). */
export function exited(proc: ChildProcess): Promise<number | null> {
  if (!isRunning(proc) || !children.has(proc)) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once("exit", (code) => resolve(code)).once("error", () => resolve(null)));
}

export const isRunning = (proc: ChildProcess): boolean => proc.exitCode === null && proc.signalCode === null;

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(proc: ChildProcess, graceMs = 2000): Promise<void> {
  if (!isRunning(proc) || !children.has(proc)) return;
  const gone = exited(proc);
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}

const stopAllChildren = (): Promise<void> => Promise.all([...children].map((proc) => stopChild(proc))).then(() => undefined);

// Last resort: whatever is still running when the bench exits is killed (synchronously).
process.on("exit", () => {
  for (const proc of children) proc.kill("SIGKILL");
});

/** Collects a child's stderr (the last 32-64 KB), for error messages. */
function captureStderr(proc: ChildProcessWithoutNullStreams): () => string {
  let text = "";
  proc.stderr.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > 64_000) text = text.slice(-32_000);
  });
  return () => text;
}

export type JsonChild = ReturnType<typeof startJsonChild>;

/**
 * Starts a child whose stdout lines go to `onLine`. `done`: its exit code, once it is gone and its stdout read;
 * `describe()`: how it ended (the last error line, the end of its stderr).
 */
function startLines(command: Command, onLine: (line: string) => void, cwd: string) {
  const proc = startChild(command, cwd);
  const stderr = captureStderr(proc);
  const lines = createInterface({ input: proc.stdout }).on("line", onLine);
  const read = new Promise((resolve) => lines.once("close", resolve));
  return { proc, done: Promise.all([exited(proc), read]).then(([code]) => code), describe: () => describeExit(proc, stderr()) };
}

/** Starts a child that prints JSON lines: `onEvent` gets every JSON object it prints on a line of its own (as an `E`). */
export function startJsonChild<E = Record<string, unknown>>(command: Command, onEvent: (event: E) => void, cwd = REPO_DIR) {
  const onLine = (line: string): void => {
    const event = parseJsonLine(line);
    if (event !== undefined) onEvent(event as E);
  };
  return startLines(command, onLine, cwd);
}

/** What a child tells its bench: one JSON object per line on stdout. */
export function emitJson<E extends object>(event: E): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  const value: unknown = line.startsWith("{") ? attempt(() => JSON.parse(line), undefined) : undefined;
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

function describeExit(proc: ChildProcess, stderr: string): string {
  const how = proc.signalCode !== null ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode}`;
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  const gist = [...lines].reverse().find((line) => !/^\s*at /.test(line) && !/^\s*\^+\s*$/.test(line));
  return gist === undefined ? how : `${how}: ${gist.trim()}\n${lines.slice(-12).join("\n")}`;
}

/** Starts a server (any command) that prints "PORT n" once listening; its later lines go to `onLine`. */
export async function startServer(command: Command, onLine: (line: string) => void = () => {}, cwd = REPO_DIR) {
  let onPort: (port: number) => void = () => {};
  const child = startLines(command, (line) => (/^PORT \d+$/.test(line.trim()) ? onPort(Number(line.trim().slice(5))) : onLine(line)), cwd);
  const name = command[1].find((a) => /\.(ts|py)$/.test(a)) ?? command[0];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no PORT line within 30 s: ${child.describe()}`)), 30_000);
    onPort = (p) => (clearTimeout(timer), resolve(p));
    child.proc.once("error", (err) => (clearTimeout(timer), reject(err)));
    void child.done.then(() => (clearTimeout(timer), reject(new Error(`server ended before printing its port, ${child.describe()}`))));
  });
  return { ...child, port };
}

/** Listens on 127.0.0.1 on a free port (a server in a bench's child); resolves with the port and a close(). */
export async function listenLocal(server: Server): Promise<{ readonly port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// ---- CPU time and the machine -------------------------------------------------------------------

/** The clock ticks of /proc's CPU times per second. */
let clockTicks: number | undefined;
const ticks = (): number => (clockTicks ??= attempt(() => Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })), 0) || 100);

/** utime + stime of a process (all its threads), in seconds; undefined where /proc is missing. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  const stat = attempt(() => readFileSync(`/proc/${pid}/stat`, "utf8"), "");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return pid === undefined || stat === "" ? undefined : (Number(fields[11]) + Number(fields[12])) / ticks();
}

/** The machine's busy CPU time (user, nice, system, steal, irq, softirq; all cores), in seconds. */
export function machineBusySeconds(): number | undefined {
  const line = attempt(() => readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!, "");
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  return line === "" ? undefined : (user + nice + system + steal + irq + softirq) / ticks();
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

/** --wait-quiet: waits (at most `seconds`) until other processes use under a quarter of a core; logs it when they did not. */
export async function waitForQuiet(seconds: number, name: string, log = (line: string): void => void process.stderr.write(`${line}\n`)): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (seconds > 0) {
    const others = otherCpu([]);
    await sleep(500);
    const load = others();
    if (load === null || load < 0.25) return;
    if (Date.now() >= deadline) return log(`${name}: others still use ${load.toFixed(2)} cores after ${seconds} s; measuring anyway`);
  }
}

export const loadAverage = (): string => attempt(() => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "), "unknown");

export function machine(): string {
  const cores = availableParallelism();
  return `machine: ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${plural(cores, "core")}, Node ${process.version}`;
}

/** "Python x, RPyC y" of a Python with RPyC, or null. */
export function pythonRuntime(python: string): string | null {
  const script = "import platform, rpyc; print('Python', platform.python_version() + ', RPyC', rpyc.__version__)";
  return attempt(() => execFileSync(python, ["-c", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim(), null);
}

export function writeJson(file: string | undefined, value: Record<string, unknown>): void {
  if (file === undefined) return;
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...value }, null, 2) + "\n");
  process.stderr.write(`results written to ${file}\n`);
}

/** The benches' tables: no colours, no borders; columns right-aligned except those in `left`. */
export function newTable(head: readonly string[], left: readonly number[] = [], options: CliTable.TableConstructorOptions = {}): CliTable.Table {
  const Table = require("cli-table3") as typeof CliTable;
  const colAligns = head.map((_, i): "left" | "right" => (left.includes(i) ? "left" : "right"));
  return new Table({ head: [...head], colAligns, ...options, style: { head: [], border: [] } });
}

type Payload = Record<string, unknown>;

/** A progress bar on stderr (cli-progress) that lines can be logged above (`log`); with `plain`, the log alone. Stopped at the end. */
export function progress(plain: boolean, format: string, total: number, payload: Payload = {}) {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  if (plain) return { update: (_value: number, _payload?: Payload): void => {}, log, stop: (): void => {} };
  const { MultiBar, Presets } = require("cli-progress") as typeof CliProgress;
  const multi = new MultiBar({ format, hideCursor: true, clearOnComplete: true, fps: 10, barsize: 24 }, Presets.shades_classic);
  const bar = multi.create(total, 0, payload);
  let active = true;
  const stop = (): void => {
    if (active) multi.stop();
    active = false;
  };
  onCleanup(stop);
  return { update: (value: number, p?: Payload) => bar.update(value, p), log: (line: string) => (active ? multi.log(`${line}\n`) : log(line)), stop };
}

// ---- numbers -------------------------------------------------------------------------------------

export const fmtInt = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "–");
export const fmtUs = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "–");
export const fmtMB = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : "–");
/** A figure with a fixed number of digits; "–" for null, NaN and the like. */
export const fix = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));
export const plural = (n: number, word: string, suffix = "s"): string => `${n} ${word}${n === 1 ? "" : suffix}`;

/** Per-call latencies, microseconds, float64 little-endian (written by the clients). */
export function readSamples(file: string): Float64Array {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length - (bytes.length % 8));
  return Float64Array.from({ length: view.byteLength / 8 }, (_, i) => view.getFloat64(i * 8, true));
}

export const writeSamples = (file: string, samples: Float64Array): void =>
  writeFileSync(file, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));

/** Summary of samples (several arrays are pooled). */
export function summarize(...parts: readonly Float64Array[]) {
  const sorted = Float64Array.from(parts.flatMap((part) => Array.from(part))).sort();
  const n = sorted.length;
  // Nearest-rank percentiles (the Python clients use the same rule).
  const p = (q: number): number => (n === 0 ? NaN : sorted[Math.min(Math.max(1, Math.ceil((q / 100) * n)), n) - 1]!);
  const mean = n > 0 ? sorted.reduce((s, v) => s + v, 0) / n : NaN;
  return { count: n, min: n > 0 ? sorted[0]! : NaN, median: p(50), p90: p(90), p99: p(99), p999: p(99.9), max: n > 0 ? sorted[n - 1]! : NaN, mean };
}

export function median(values: readonly number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? null : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
