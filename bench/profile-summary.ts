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

type CallFrame = { functionName: string; url: string; lineNumber: number };
type CpuProfile = { nodes: { id: number; callFrame: CallFrame }[]; samples: number[]; timeDeltas: number[] };

/** The stream binding's write entry points: their self time is the write syscall itself. */
const NATIVE_WRITES = new Set(["writeBuffer", "writev", "writeUtf8String", "writeLatin1String", "writeAsciiString", "writeUcs2String"]);
/** Node's internal modules (node:internal/...) by area; the others by their first path segment. */
const NODE_AREAS: readonly (readonly [RegExp, string])[] = [
  [/^(streams\/|stream_base_commons)/, "node:stream"],
  [/^timers/, "node:timers"],
  [/^process\/task_queues$/, "node:task_queues"],
  [/^process\/promises/, "node:promises"],
  [/^(modules\/|vm)/, "node:modules (startup)"],
  [/^buffer/, "node:buffer"],
  [/^util\/inspect$/, "node:util"],
  [/^perf\//, "node:perf_hooks"],
];

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

/** The module a frame belongs to (see the header). */
function moduleOf({ url, functionName }: CallFrame): string {
  if (url === "") {
    if (functionName.startsWith("(")) return functionName; // (garbage collector), (program), (idle), (root)
    // Native functions without a script, grouped by what they do.
    if (NATIVE_WRITES.has(functionName)) return "node:net write (native: the syscall)";
    if (functionName === "runMicrotasks") return "node:promises (microtasks)";
    return "(native)"; // other builtins: Array.prototype.map, JSON.parse, zlib...
  }
  if (url.startsWith("node:internal/")) {
    const rest = url.slice(14);
    return NODE_AREAS.find(([pattern]) => pattern.test(rest))?.[1] ?? `node:internal/${rest.split("/")[0]!.replace(/\.js$/, "")}`;
  }
  if (url.startsWith("node:")) return url;
  const file = url.startsWith("file://") ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf("/node_modules/");
  const parts = file.slice(nm + 14).split("/");
  if (nm >= 0) return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  return (file.startsWith(`${ROOT}/`) ? file.slice(ROOT.length + 1) : file).replace(/\.(ts|js|mjs|cjs)$/, "");
}

/** Self time per function and per module (sorted, most first); busyMs: sampled ms outside "(idle)". */
function summarise(file: string, sinceMs = 0) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<number, number>();
  let t = 0;
  for (const [i, id] of profile.samples.entries()) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t >= sinceMs * 1000) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const fns = new Map<string, { name: string; module: string; us: number }>();
  const mods = new Map<string, number>();
  let [total, idle] = [0, 0];
  for (const [id, us] of selfUs) {
    const frame = frames.get(id)!;
    const module = moduleOf(frame);
    // tsx-compiled files report line 0 for everything: a line is shown only when known.
    const name = `${frame.functionName || "(anonymous)"}${frame.url === "" || frame.lineNumber <= 0 ? "" : `:${frame.lineNumber + 1}`}`;
    const entry = fns.get(`${module}\0${name}`) ?? { name, module, us: 0 };
    entry.us += us;
    fns.set(`${module}\0${name}`, entry);
    mods.set(module, (mods.get(module) ?? 0) + us);
    total += us;
    if (module === "(idle)") idle += us;
  }
  const functions = [...fns.values()].sort((a, b) => b.us - a.us).map((f) => ({ name: f.name, module: f.module, ms: f.us / 1000 }));
  const modules = [...mods.entries()].sort((a, b) => b[1] - a[1]).map(([module, us]) => ({ module, ms: us / 1000 }));
  return { file, totalMs: total / 1000, busyMs: (total - idle) / 1000, functions, modules };
}

function render(s: ReturnType<typeof summarise>, top: number): string {
  const pct = (ms: number): string => (s.busyMs === 0 ? "-" : `${((100 * ms) / s.busyMs).toFixed(1)}%`);
  const lines = [`## ${path.basename(s.file)}: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy (percentages: of busy time)`, ""];
  lines.push("| self ms | % busy | function | module |", "|---:|---:|---|---|");
  for (const f of s.functions.filter((f) => f.module !== "(idle)").slice(0, top)) lines.push(`| ${f.ms.toFixed(1)} | ${pct(f.ms)} | ${f.name} | ${f.module} |`);
  lines.push("", "| self ms | % busy | module |", "|---:|---:|---|");
  for (const m of s.modules) lines.push(`| ${m.ms.toFixed(1)} | ${m.module === "(idle)" ? "(not busy)" : pct(m.ms)} | ${m.module} |`);
  return lines.join("\n");
}

const usage = "usage: node --import tsx bench/profile-summary.ts [--top N] [--since-ms T] FILE.cpuprofile|DIR ...";
const { values, positionals } = cli(usage, { top: { type: "string" }, "since-ms": { type: "string" } }, true);
if (positionals.length === 0) {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}
const [top, since] = [num("--top", values.top, 15, 1, true), num("--since-ms", values["since-ms"], 0, 0)];
// A directory stands for every *.cpuprofile in it.
const files = positionals.flatMap((arg) =>
  statSync(arg).isDirectory()
    ? readdirSync(arg)
        .sort()
        .flatMap((name) => (name.endsWith(".cpuprofile") ? [path.join(arg, name)] : []))
    : [arg],
);
process.stdout.write(`${files.map((f) => render(summarise(f, since), top)).join("\n\n")}\n`);
