// The compiler benchmark (`npm run bench:compiler`): rpyc-gen's time and memory on a generated
// corpus (bench/compiler/corpus.ts): cold, unchanged, --check, phase by phase, watch. Every
// measurement runs in a fresh process of its own (bench/compiler/child.ts), one at a time.
// See bench/README.md and --help.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { ChildResult, PhasesResult, PhaseTimes, RunResult, WatchResult } from "./compiler/child.js";
import { generateCorpus, type Corpus } from "./compiler/corpus.js";
import * as h from "./harness.js";

const OUT = "generated";
const MEASUREMENTS = ["cold", "unchanged", "check", "phases", "watch"] as const;
type MeasurementId = (typeof MEASUREMENTS)[number];

// ---- options ----------------------------------------------------------------------------------

type Options = ReturnType<typeof parseOptions>;

function parseOptions() {
  const { values } = h.cli("Compiler benchmark of rpyc-gen on a generated project (see bench/README.md).\n\nUsage: npm run bench:compiler [-- options]", {
    quick: { type: "boolean", default: false, help: "a smoke run: 20 services, 3 watch edits" },
    services: { type: "string", arg: "N", help: "service files in the corpus (default 200; --quick 20)" },
    methods: { type: "string", arg: "N", help: "exposed methods per service (default 20)" },
    seed: { type: "string", arg: "S", help: "corpus seed (default 1): the same seed gives the same corpus" },
    edits: { type: "string", arg: "N", help: "watch edits, one service file each; the median is reported (default 7; --quick 3)" },
    repeat: { type: "string", arg: "R", help: "run cold, unchanged and check R times each; medians reported (default 1)" },
    only: { type: "string", arg: "LIST", help: `any of ${MEASUREMENTS.join(",")} (a cold run is made first, unreported, when others need output)` },
    "cpu-prof": { type: "string", arg: "DIR", help: "V8 CPU profiles of every child in DIR/<n>-<measurement>/ (the largest file is the main thread)" },
    "wait-quiet": { type: "string", arg: "S", help: "before each measurement, wait up to S s for other processes to use < 1/4 core (default 0: off)" },
    keep: { type: "boolean", default: false, help: "keep the corpus and its generated output (prints where)" },
    json: { type: "string", arg: "FILE", help: "also write every number as JSON" },
    plain: { type: "boolean", default: false, help: "no progress bar, one line per measurement (automatic when stderr is no TTY)" },
  });
  const quick = values.quick;
  const only: ReadonlySet<MeasurementId> = new Set(h.listOf("--only", values.only ?? MEASUREMENTS.join(","), MEASUREMENTS));
  if (only.size === 0) throw new RangeError("--only selects no measurement");
  const services = h.num("--services", values.services, quick ? 20 : 200, 1, true);
  return {
    quick,
    services,
    methods: h.num("--methods", values.methods, 20, 1, true),
    seed: h.num("--seed", values.seed, 1, 0, true),
    edits: Math.min(services, h.num("--edits", values.edits, quick ? 3 : 7, 1, true)),
    repeat: h.num("--repeat", values.repeat, 1, 1, true),
    only,
    cpuProf: values["cpu-prof"] === undefined ? undefined : path.resolve(values["cpu-prof"]),
    waitQuiet: h.num("--wait-quiet", values["wait-quiet"], 0, 0),
    keep: values.keep,
    json: values.json,
    plain: values.plain || !process.stderr.isTTY,
  };
}

// ---- child processes -----------------------------------------------------------------------------

/** processMs: spawn to exit (node, tsx and module loading included); othersCores: CPU others used meanwhile (undefined without /proc). */
type ChildRun<R extends ChildResult> = { readonly result: R; readonly processMs: number; readonly othersCores: number | undefined };

/** Runs one measurement in a child process (child.ts), which reports its steps as it goes. */
async function runChild(args: readonly string[], options: Options, profileName: string, onStep: (label: string) => void): Promise<ChildRun<ChildResult>> {
  // --expose-gc: the watch child measures its live heap after a full GC (outside the timed parts).
  const nodeFlags = ["--expose-gc"];
  // --cpu-prof: one file per thread (tsx's loader has one).
  if (options.cpuProf !== undefined) nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${path.join(options.cpuProf, profileName)}`);
  const busyBefore = h.machineBusySeconds();
  const start = performance.now();
  let result: ChildResult | undefined;
  const child = h.startJsonChild(h.nodeScript("compiler/child.ts", args, nodeFlags), (event) => {
    if (event.event === "step") onStep(String(event.label));
    else if (event.event === "result") result = event.result as ChildResult;
  });
  const code = await child.done;
  const processMs = performance.now() - start;
  const busyAfter = h.machineBusySeconds();
  if (code !== 0 || result === undefined) throw new Error(`${args[0]} child failed, ${child.describe()}`);
  const others = busyBefore === undefined || busyAfter === undefined ? undefined : busyAfter - busyBefore - result.processCpuMs / 1000;
  return { result, processMs, othersCores: others === undefined ? undefined : Math.max(0, others) / (processMs / 1000) };
}

// ---- formatting ------------------------------------------------------------------------------------

interface Results {
  cold?: ChildRun<RunResult>[];
  unchanged?: ChildRun<RunResult>[];
  check?: ChildRun<RunResult>[];
  phases?: ChildRun<PhasesResult>;
  watch?: ChildRun<WatchResult>;
  errors: Partial<Record<MeasurementId, string>>;
  generated?: { files: number; bytes: number };
}

const median = (values: readonly number[]): number => h.median(values) ?? NaN;
const fmtMs = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms) ? "–" : ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s` : `${ms.toFixed(0)} ms`;
const fmtMb = (bytes: number | null | undefined): string => (bytes == null || !Number.isFinite(bytes) ? "–" : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
/** Sizes of files on disk: KB below a megabyte. */
const fmtSize = (bytes: number): string => (bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
const fmtPct = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(0)}%` : "–");
const fmtRange = (values: readonly number[] = []): string => (values.length > 1 ? `${fmtMs(Math.min(...values))} – ${fmtMs(Math.max(...values))}` : "–");

/** The median of each step (wall and CPU separately) over several entries. */
function medianPhases(entries: readonly PhaseTimes[]): PhaseTimes {
  const of = (key: string, f: "ms" | "cpuMs"): number => median(entries.map((e) => e[key]?.[f] ?? Number.NaN));
  return Object.fromEntries(Object.keys(entries[0] ?? {}).map((key) => [key, { ms: of(key, "ms"), cpuMs: of(key, "cpuMs") }]));
}

/** Total wall (or CPU) time of the steps. */
const sum = (times: PhaseTimes, of: "ms" | "cpuMs" = "ms"): number => Object.values(times).reduce((a, b) => a + b[of], 0);

/** The rows of the runs, and what their last run's result says. */
const RUN_ROWS: readonly (readonly ["cold" | "unchanged" | "check", string, (r: RunResult) => string])[] = [
  ["cold", "cold run (empty output directory)", (r) => `${r.written ?? "?"} files written`],
  ["unchanged", "second run (output unchanged)", (r) => `${r.unchanged ?? "?"} unchanged, ${r.written ?? "?"} written`],
  ["check", "--check (up to date)", (r) => `${r.upToDate ?? "?"} files up to date`],
];

/** The steps of the phases table: label, the full generation's step, the watch update's (null: in the line above). */
const STEPS: readonly (readonly [string, string, string | null])[] = [
  ["read + parse sources (ts-morph) / re-read the changed file", "read + parse sources", "re-read changed file"],
  ["TS program (lib .d.ts files, module resolution)", "program (libs, resolution)", "new program + checker"],
  ["bind (new type checker)", "bind (type checker)", null],
  ["extract the model (type checker, every service)", "extract model", "extract model"],
  ["emit every file (emitAll)", "emit (emitAll)", "emit (emitAll)"],
  ["compare with the files on disk (plan)", "compare with disk (plan)", "compare + write"],
  ["write (plan + apply into an empty directory)", "write all files", null],
];

function printTables(corpus: Corpus, results: Results, options: Options, header: readonly string[]): void {
  const s = corpus.stats;
  const m = results.phases?.result.model;
  const n = h.fmtInt;
  const runtime = corpus.runtime === "dist" ? "the package's .d.ts" : "the repository's sources";
  const files = `${n(s.files)} .ts (${s.serviceFiles} services, ${s.typeFiles} shared type files, ${s.baseFiles} base classes, 1 helper)`;
  const declared = `${n(s.services)} services, ${n(s.methods)} own exposed methods, ${n(s.attributes)} attributes, ${n(s.getters)} getters`;
  const model = m && `${n(m.services)} services, ${n(m.methods)} methods (inherited included), ${n(m.attributes)} attributes, ${n(m.types)} named types`;
  const corpusTable = h.newTable([], [0, 1]);
  corpusTable.push(
    ["corpus", `${n(s.serviceFiles)} service files × ${options.methods} methods, seed ${options.seed} (hash ${s.hash}); "rpyc-ts" from ${runtime}`],
    ["source files", `${files}, ${n(s.lines)} lines, ${fmtSize(s.bytes)}`],
    ["declared", `${declared}, ${n(s.typeDeclarations)} named types`],
    ["model", m ? `${model}; ${n(m.sourceFilesInProgram)} files in the TS program (libs included)` : "– (the phases measurement reports it)"],
    ["generated", results.generated ? `${n(results.generated.files)} files, ${fmtSize(results.generated.bytes)}` : "–"],
  );

  const main = h.newTable(["measurement", "time", "min – max", "CPU", "peak RSS", "RSS before", "process", "others", "result"], [0, 8]);
  type Cells = { ms?: number; range?: number[]; cpuMs?: number; peak?: number; before?: number | null; processMs?: number; others?: number | undefined };
  const row = (label: string, c: Cells, result: string): void =>
    void main.push([label, fmtMs(c.ms), fmtRange(c.range), fmtMs(c.cpuMs), fmtMb(c.peak), fmtMb(c.before), fmtMs(c.processMs), h.fix(c.others, 2), result]);
  const shown = (id: MeasurementId, label: string): boolean => {
    const error = results.errors[id];
    if (error !== undefined) main.push([label, { colSpan: 8, content: `FAILED: ${error.split("\n")[0]}` }]);
    return options.only.has(id) && error === undefined;
  };
  for (const [id, label, describe] of RUN_ROWS) {
    const runs = results[id];
    if (!shown(id, label) || !runs) continue;
    const of = (f: (r: ChildRun<RunResult>) => number): number[] => runs.map(f);
    const times = of((r) => r.result.ms);
    const [peak, others, processMs] = [Math.max(...of((r) => r.result.maxRss)), Math.max(...of((r) => r.othersCores ?? NaN)), median(of((r) => r.processMs))];
    const cells = { ms: median(times), range: times, cpuMs: median(of((r) => r.result.cpuMs)), peak, before: median(of((r) => r.result.rssBefore)), others };
    row(runs.length > 1 ? `${label} (median of ${runs.length})` : label, { ...cells, processMs }, describe(runs.at(-1)!.result));
  }
  const { phases, watch } = results;
  if (shown("phases", "phase by phase (see below)") && phases) {
    const p = phases.result;
    const same = p.matchesCli === null ? "not compared" : p.matchesCli ? "yes" : "NO";
    const cells = { ms: sum(p.cold), peak: p.maxRss, before: p.rssBefore, processMs: phases.processMs, others: phases.othersCores };
    row("phase by phase (see below)", cells, `same files as the cold run: ${same}; + ${p.incremental.length} updates`);
  }
  if (shown("watch", "watch") && watch) {
    const w = watch.result;
    const times = w.edits.map((e) => e.ms);
    const written = [...new Set(w.edits.map((e) => e.written ?? "?"))].join("/");
    const heap = `live heap ${fmtMb(w.heapLiveStart)} → ${fmtMb(w.heapLiveEnd)}${w.spuriousRuns ? `; ${w.spuriousRuns} extra regeneration(s)` : ""}`;
    row("watch: start (first generation, watcher ready)", { ms: w.startMs, before: w.rssBefore }, `watching ${w.watchedFiles ?? "?"} files`);
    const cells = { ms: median(times), range: times, peak: w.maxRss, processMs: watch.processMs, others: watch.othersCores };
    row(`watch: edit one service → regenerated (median of ${times.length})`, cells, `${written} written per edit; ${heap}`);
  }

  const out: string[] = ["", "rpyc-gen compiler benchmark", ...header, "", corpusTable.toString(), "", main.toString(), ""];
  let incMedian: number | undefined;
  if (phases) {
    const p = phases.result;
    const inc = medianPhases(p.incremental);
    const [coldTotal, incTotal] = [sum(p.cold), sum(inc)];
    const table = h.newTable(["step", "full generation", "CPU", "share", `one watch update (median of ${p.incremental.length})`, "CPU", "share"], [0]);
    for (const [label, coldStep, incStep] of STEPS) {
      const [a, b] = [p.cold[coldStep], incStep === null ? undefined : inc[incStep]];
      const full = a === undefined ? ["–", "–", ""] : [fmtMs(a.ms), fmtMs(a.cpuMs), fmtPct(a.ms, coldTotal)];
      const update = b === undefined ? [incStep === null ? "(in the line above)" : "–", "", ""] : [fmtMs(b.ms), fmtMs(b.cpuMs), fmtPct(b.ms, incTotal)];
      table.push([label, ...full, ...update]);
    }
    const some = p.incremental.length > 0;
    table.push(["total", fmtMs(coldTotal), fmtMs(sum(p.cold, "cpuMs")), "", some ? fmtMs(incTotal) : "–", some ? fmtMs(sum(inc, "cpuMs")) : "", ""]);
    if (some) incMedian = incTotal;
    out.push(
      "Where the time goes (the phases process: the compiler's own functions one by one, in a fresh process; the",
      "watch column repeats a watch update's steps on one edited service file, as ExtractSession.update and generate do):",
      table.toString(),
      "",
    );
  }
  out.push(
    "Reading it: time = wall time of the measured work inside its process (rpyc-gen's run(), or the watch's write → nextRun());",
    "  CPU = user + system time of that process during it (GC and JIT threads included); peak RSS = the process's maximum",
    "  resident set (process.resourceUsage().maxRSS, for watch over the start and every edit); RSS before = node, tsx and the",
    "  compiler loaded, before any work; process = spawn to exit, node start-up and module loading included; others = CPU that",
    `  other processes used meanwhile, in cores (/proc/stat): the machine has ${availableParallelism()}; well above 0.1, the measurement shared`,
    "  the CPU with something else (rerun on a quiet machine, or use --repeat).",
  );
  if (watch?.result.heapLiveEnd != null) {
    out.push("  live heap (watch) = V8 heap in use after a full GC, once the watch started and after the last edit: what the watching");
    out.push("  process keeps (project, program, checker, model); equal numbers mean the edits leaked nothing.");
  }
  if (watch && incMedian !== undefined) {
    const edit = fmtMs(median(watch.result.edits.map((e) => e.ms)));
    out.push(`  A watch edit (${edit}) = noticing the write (chokidar) + 50 ms debounce + the update's steps (${fmtMs(incMedian)} in the phases process).`);
  }
  if (results.generated !== undefined) out.push(`  Files per service: client stub, dispatch table, .proto; plus index.ts.`);
  process.stdout.write(`${out.join("\n")}\n`);
}

// ---- main ---------------------------------------------------------------------------------------

/** Files and bytes under a directory. */
function treeSize(dir: string): { files: number; bytes: number } {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => statSync(path.join(dir, f)))
    .filter((s) => s.isFile());
  return { files: files.length, bytes: files.reduce((n, s) => n + s.size, 0) };
}

/** Checks that a measurement did what it claims and files it in `results`. */
function record(id: MeasurementId | "setup", run: ChildRun<ChildResult>, results: Results, outDir: string): void {
  const r = run.result;
  if (r.kind === "phases") {
    if (r.matchesCli === false) throw new Error("the phase-by-phase generation produced other files than the rpyc-gen run");
    results.phases = run as ChildRun<PhasesResult>;
  } else if (r.kind === "watch") {
    const bad = r.edits.find((e) => e.code !== 0);
    if (bad) throw new Error(`regeneration after editing ${bad.file} exited with ${bad.code}`);
    results.watch = run as ChildRun<WatchResult>;
  } else {
    const files = id === "cold" || id === "setup" ? undefined : results.generated?.files;
    if (r.code !== 0) throw new Error(`rpyc-gen exited with ${r.code}`);
    if (files === undefined && (r.written === null || r.written === 0 || r.unchanged !== 0))
      throw new Error(`a cold run wrote ${r.written} and left ${r.unchanged} unchanged`);
    if (id === "unchanged" && (r.written !== 0 || r.removed !== 0 || r.unchanged !== files))
      throw new Error(`expected all ${files} unchanged, got ${r.unchanged} unchanged, ${r.written} written, ${r.removed} removed`);
    if (id === "check" && r.upToDate !== files) throw new Error(`--check found ${r.upToDate} up to date, expected ${files}`);
    if (files === undefined) results.generated = treeSize(outDir);
    if (id !== "setup" && id !== "phases" && id !== "watch") results[id] = [...(results[id] ?? []), run as ChildRun<RunResult>];
  }
}

function describe(r: ChildResult): string {
  const time =
    r.kind === "run" ? fmtMs(r.ms) : r.kind === "phases" ? `${fmtMs(sum(r.cold))} in phases` : `median edit ${fmtMs(median(r.edits.map((e) => e.ms)))}`;
  return `${time}, peak RSS ${fmtMb(r.maxRss)}`;
}

async function main(): Promise<number> {
  const options = parseOptions();
  const header = [`${h.machine()} (the compiler via tsx); load average at start ${h.loadAverage()}`];
  const prefix = "rpyc-ts-compiler-bench-";
  const corpusDir = path.join(options.keep ? mkdtempSync(path.join(tmpdir(), prefix)) : h.tempDir(prefix), "corpus");
  if (options.keep) h.onCleanup(() => process.stderr.write(`corpus and output kept in ${corpusDir}\n`));
  const t0 = performance.now();
  mkdirSync(corpusDir);
  const corpus = generateCorpus({ dir: corpusDir, services: options.services, methods: options.methods, seed: options.seed, repoDir: h.REPO_DIR });
  header.push(`corpus generated in ${fmtMs(performance.now() - t0)} into ${tmpdir()}${options.keep ? ` (${corpusDir})` : " (removed at the end)"}`);
  if (options.cpuProf !== undefined) {
    mkdirSync(options.cpuProf, { recursive: true });
    header.push(`CPU profiles in ${options.cpuProf} (profiling slows every measurement down)`);
  }
  // Service files to edit in watch mode: spread evenly over the corpus.
  const services = corpus.serviceFiles;
  const edits = Array.from({ length: options.edits }, (_, i) => services[Math.floor(((i + 0.5) * services.length) / options.edits)]!);
  const common = h.flags({ corpus: corpusDir });
  const wants = options.only;
  const needsOutput = wants.has("unchanged") || wants.has("check") || wants.has("phases");

  // The plan: the measurement, the child's mode and arguments, the steps it reports.
  type Job = { readonly id: MeasurementId | "setup"; readonly args: readonly string[]; readonly steps: number; readonly label: string };
  const repeat = (n: number, job: Job): Job[] => Array.from({ length: n }, () => job);
  const cold: Job = { id: wants.has("cold") ? "cold" : "setup", args: ["run"], steps: 1, label: "cold run" };
  const jobs: Job[] = [
    ...repeat(wants.has("cold") ? options.repeat : needsOutput ? 1 : 0, cold),
    ...repeat(wants.has("unchanged") ? options.repeat : 0, { id: "unchanged", args: ["run"], steps: 1, label: "second run (unchanged)" }),
    ...repeat(wants.has("check") ? options.repeat : 0, { id: "check", args: ["run", "--check"], steps: 1, label: "--check" }),
    ...repeat(wants.has("phases") ? 1 : 0, { id: "phases", args: ["phases", "--files", edits.join(",")], steps: 7 + edits.length, label: "phase by phase" }),
    ...repeat(wants.has("watch") ? 1 : 0, { id: "watch", args: ["watch", "--files", edits.join(",")], steps: 1 + edits.length, label: "watch" }),
  ];
  const totalSteps = jobs.reduce((n, j) => n + j.steps, 0);
  const { stats } = corpus;
  const size = `${stats.serviceFiles} services × ${options.methods} methods (${stats.files} files, ${h.fmtInt(stats.lines)} lines)`;
  process.stderr.write(`rpyc-ts compiler bench: ${size}; ${h.plural(jobs.length, "child process", "es")}\n`);
  const format = "{bar} {percentage}% | {value}/{total} steps | {duration_formatted} | {job}: {step}";
  const bar = h.progress(options.plain, format, totalSteps, { job: "starting", step: "" });

  const results: Results = { errors: {} };
  let done = 0;
  for (const [index, job] of jobs.entries()) {
    if (h.interruption.interrupted) return 130;
    const name = `[${index + 1}/${jobs.length}] ${job.label}`;
    if (options.plain) bar.log(`${name} ...`);
    const stepsBefore = done;
    const id = job.id;
    if (id !== "setup" && results.errors[id] !== undefined) {
      done += job.steps; // a repetition of a measurement that failed: skipped
      continue;
    }
    if (options.waitQuiet > 0) bar.update(done, { job: name, step: "waiting for a quiet machine" });
    await h.waitForQuiet(options.waitQuiet, name, bar.log);
    bar.update(done, { job: name, step: "starting node" });
    if (job.args[0] === "run" && (id === "cold" || id === "setup")) rmSync(path.join(corpusDir, OUT), { recursive: true, force: true });
    try {
      const run = await runChild([...job.args, ...common], options, `${index + 1}-${job.id}`, (label) => bar.update(++done, { job: name, step: label }));
      record(id, run, results, path.join(corpusDir, OUT));
      if (options.plain) bar.log(`${name}: ${describe(run.result)}`);
    } catch (err) {
      if (h.interruption.interrupted) return 130;
      const message = err instanceof Error ? err.message : String(err);
      if (id === "setup") throw new Error(`the cold run that the other measurements need failed: ${message}`);
      results.errors[id] = message;
      bar.log(`${name} FAILED: ${message}`);
    }
    done = stepsBefore + job.steps;
    bar.update(done);
  }
  bar.stop();
  header.push(`load average at end ${h.loadAverage()} (a busy machine slows every number; compare within one run)`);
  printTables(corpus, results, options, header);
  const json = { header, options: { ...options, only: [...options.only] }, corpus: { stats: corpus.stats, runtime: corpus.runtime, edits }, results };
  h.writeJson(options.json, json);
  return Object.keys(results.errors).length > 0 ? 1 : 0;
}

h.runMain(main);
