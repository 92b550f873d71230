// Summarises V8 CPU profiles (`node --cpu-prof`): self time by function and by module, so a
// profile can be read (and pasted into a note) without DevTools.
//
//   node --import tsx bench/profile-summary.ts [--top N] [--since-ms T] FILE.cpuprofile|DIR ...
//
// A DIR means every *.cpuprofile in it. Per file: total sampled time, the top N functions by
// self time (default 15), and self time per module. A "module" is one of our runtime files
// (runtime/connection/connection.ts -> "runtime/protocol"), a package under node_modules ("protobufjs"),
// a Node internal grouped by area ("node:net", "node:stream", "node:timers",
// "node:promises"...), or one of V8's pseudo-frames: "(garbage collector)", "(program)"
// (native code outside JS, syscalls included), "(idle)" (waiting in epoll).
// --since-ms T drops the first T ms of samples (warm-up, tsx compile).

import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { cli, num } from "./harness.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The stream binding's write entry points: their self time is the write syscall itself. */
const NATIVE_WRITES = new Set(["writeBuffer", "writev", "writeUtf8String", "writeLatin1String", "writeAsciiString", "writeUcs2String"]);

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

/** The module a frame belongs to (see the header). */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName.startsWith("(")) return functionName; // (garbage collector), (program), (idle), (root)
    // Native functions without a script, grouped by what they do.
    if (NATIVE_WRITES.has(functionName)) return "node:net write (native: the syscall)";
    if (functionName === "runMicrotasks") return "node:promises (microtasks)";
    return "(native)"; // other builtins: Array.prototype.map, JSON.parse, zlib...
  }
  if (url.startsWith("node:")) {
    const name = url.slice(5);
    if (name.startsWith("internal/")) {
      const rest = name.slice(9);
      if (rest.startsWith("streams/") || rest.startsWith("stream_base_commons")) return "node:stream";
      if (rest.startsWith("timers") || rest === "process/task_queues") return rest.startsWith("timers") ? "node:timers" : "node:task_queues";
      if (rest.startsWith("process/promises")) return "node:promises";
      if (rest.startsWith("modules/") || rest.startsWith("vm")) return "node:modules (startup)";
      if (rest.startsWith("buffer") || rest === "util/inspect") return rest.startsWith("buffer") ? "node:buffer" : "node:util";
      if (rest.startsWith("perf/")) return "node:perf_hooks";
      return `node:internal/${rest.split("/")[0]!.replace(/\.js$/, "")}`;
    }
    return `node:${name}`;
  }
  let file = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = file.slice(nm + 14).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (file.startsWith(ROOT + "/")) file = file.slice(ROOT.length + 1);
  return file.replace(/\.(ts|js|mjs|cjs)$/, "");
}

export interface Summary {
  file: string;
  totalMs: number;
  /** Sampled ms outside "(idle)". */
  busyMs: number;
  functions: { name: string; module: string; ms: number }[];
  modules: { module: string; ms: number }[];
}

export function summarise(file: string, sinceMs = 0): Summary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < sinceMs * 1000) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const fns = new Map<string, { name: string; module: string; us: number }>();
  const mods = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const module = moduleOf(frame);
    const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
    // tsx-compiled files report line 0 for everything: a line is shown only when known.
    const where = frame.url === "" || frame.lineNumber <= 0 ? "" : `:${frame.lineNumber + 1}`;
    const key = `${module}\0${name}${where}`;
    const entry = fns.get(key) ?? { name: `${name}${where}`, module, us: 0 };
    entry.us += us;
    fns.set(key, entry);
    mods.set(module, (mods.get(module) ?? 0) + us);
    total += us;
    if (module === "(idle)") idle += us;
  }
  return {
    file,
    totalMs: total / 1000,
    busyMs: (total - idle) / 1000,
    functions: [...fns.values()].sort((a, b) => b.us - a.us).map((f) => ({ name: f.name, module: f.module, ms: f.us / 1000 })),
    modules: [...mods.entries()].sort((a, b) => b[1] - a[1]).map(([module, us]) => ({ module, ms: us / 1000 })),
  };
}

function pct(ms: number, of: number): string {
  return of === 0 ? "-" : `${((100 * ms) / of).toFixed(1)}%`;
}

function render(s: Summary, top: number): string {
  const lines = [`## ${path.basename(s.file)}: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy (percentages: of busy time)`, ""];
  lines.push("| self ms | % busy | function | module |", "|---:|---:|---|---|");
  for (const f of s.functions.filter((f) => f.module !== "(idle)").slice(0, top)) {
    lines.push(`| ${f.ms.toFixed(1)} | ${pct(f.ms, s.busyMs)} | ${f.name} | ${f.module} |`);
  }
  lines.push("", "| self ms | % busy | module |", "|---:|---:|---|");
  for (const m of s.modules) lines.push(`| ${m.ms.toFixed(1)} | ${m.module === "(idle)" ? "(not busy)" : pct(m.ms, s.busyMs)} | ${m.module} |`);
  return lines.join("\n");
}

function files(args: string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (statSync(arg).isDirectory()) {
      for (const name of readdirSync(arg).sort()) if (name.endsWith(".cpuprofile")) out.push(path.join(arg, name));
    } else out.push(arg);
  }
  return out;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const usage = "usage: node --import tsx bench/profile-summary.ts [--top N] [--since-ms T] FILE.cpuprofile|DIR ...";
  const { values, positionals } = cli(usage, { top: { type: "string" }, "since-ms": { type: "string" } }, true);
  if (positionals.length === 0) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  const [top, since] = [num("--top", values.top, 15, 1, true), num("--since-ms", values["since-ms"], 0, 0)];
  process.stdout.write(
    files(positionals)
      .map((f) => render(summarise(f, since), top))
      .join("\n\n") + "\n",
  );
}
