// Helpers of the load and soak benches (bench/load.ts, bench/soak.ts): Node children run
// through tsx's loader, servers that print "PORT n", JSON lines on a child's stdout, CPU
// time of processes and of the machine from /proc, and how a child ended.

import { execFileSync, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { exited, startChild } from "./children.js";

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = path.resolve(BENCH_DIR, "..");

/** A Node child running a bench script through tsx's loader (the pid we watch is the one that works). */
export function startNode(script: string, args: readonly string[], nodeFlags: readonly string[] = []): ChildProcessWithoutNullStreams {
  return startChild(process.execPath, [...nodeFlags, "--import", "tsx", path.join(BENCH_DIR, script), ...args], REPO_DIR);
}

/** Collects a child's stderr, for error messages. */
export function captureStderr(proc: ChildProcessWithoutNullStreams): () => string {
  let text = "";
  proc.stderr.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > 64_000) text = text.slice(-32_000);
  });
  return () => text;
}

/** Calls `onEvent` with every JSON object a child prints on its own line of stdout. */
export function onJsonLines(proc: ChildProcessWithoutNullStreams, onEvent: (event: Record<string, unknown>) => void): Promise<void> {
  const lines = createInterface({ input: proc.stdout });
  lines.on("line", (line) => {
    if (!line.startsWith("{")) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof value === "object" && value !== null) onEvent(value as Record<string, unknown>);
  });
  return new Promise((resolve) => lines.once("close", resolve));
}

export function describeExit(proc: ChildProcess, stderr: string): string {
  const how = proc.signalCode !== null ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode}`;
  const lines = stderr.trim().split("\n").filter((line) => line.trim() !== "");
  const gist = [...lines].reverse().find((line) => !/^\s*at /.test(line) && !/^\s*\^+\s*$/.test(line));
  return gist === undefined ? how : `${how}: ${gist.trim()}\n${lines.slice(-12).join("\n")}`;
}

export function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

export interface RunningServer {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly port: number;
  stderr(): string;
}

/** Starts a Node server script that prints "PORT n" once listening. */
export async function startServer(script: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<RunningServer> {
  const proc = startNode(script, [...args, "--watch-stdin"], nodeFlags);
  const stderr = captureStderr(proc);
  const lines = createInterface({ input: proc.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} printed no PORT line within 20 s: ${stderr()}`)), 20_000);
    lines.on("line", (line) => {
      const match = /^PORT (\d+)$/.exec(line.trim());
      if (match) {
        clearTimeout(timer);
        lines.close();
        resolve(Number(match[1]));
      }
    });
    void exited(proc).then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} ended before printing its port, ${describeExit(proc, stderr())}`));
    });
    proc.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return { proc, port, stderr };
}

// ---- CPU time from /proc ---------------------------------------------------------------------

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

export function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Parses `--name value` numbers: finite and at least `min`. */
export function numberOption(what: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.replace(/_/g, ""));
  if (!Number.isFinite(value) || value < min) throw new RangeError(`${what} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

export const fmtInt = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "–");
export const fmtUs = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "–");
export const fmtMB = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : "–");
