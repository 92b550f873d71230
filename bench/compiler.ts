// The compiler benchmark (`npm run bench:compiler`): rpyc-gen's time and memory on a generated
// corpus (bench/compiler/corpus.ts): cold, unchanged, --check, phase by phase, watch. Every
// measurement runs in a fresh process of its own (bench/compiler/child.ts), one at a time.
// See bench/README.md and --help.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import cliProgress from "cli-progress";
import { generateCorpus, type Corpus } from "./compiler/corpus.js";
import type { ChildResult, PhasesResult, PhaseTimes, RunResult, WatchResult } from "./compiler/events.js";
import {
  BENCH_DIR,
  REPO_DIR,
  captureStderr,
  cli,
  describeExit,
  exited,
  onJsonLines,
  fmtInt,
  interruption,
  listOf,
  loadAverage,
  machine,
  machineBusySeconds,
  median as medianOf,
  newTable,
  num,
  runMain,
  startChild,
  stopAllChildren,
  waitForQuiet,
  writeJson,
} from "./harness.js";

const CHILD = path.join(BENCH_DIR, "compiler", "child.ts");
const OUT = "generated";

// ---- options ----------------------------------------------------------------------------------

const MEASUREMENTS = ["cold", "unchanged", "check", "phases", "watch"] as const;
type MeasurementId = (typeof MEASUREMENTS)[number];

const HELP = `Compiler benchmark of rpyc-gen on a generated project (see bench/README.md).

Usage: npm run bench:compiler [-- options]

  --quick            a smoke run: 20 services, 3 watch edits
  --services N       service files in the corpus (default 200; --quick 20)
  --methods N        exposed methods per service (default 20)
  --seed S           corpus seed (default 1): the same seed gives the same corpus
  --edits N          watch edits, one service file each; the median is reported (default 7; --quick 3)
  --repeat R         run cold, unchanged and check R times each; medians reported (default 1)
  --only LIST        subset of ${MEASUREMENTS.join(",")} (unchanged, check and phases need
                     generated output: a cold run is made first anyway, unreported)
  --cpu-prof DIR     also write V8 CPU profiles of every child to DIR/<n>-<measurement>/ (node --cpu-prof;
                     the largest file is the main thread; profiling slows the measurements down)
  --wait-quiet S     before each measurement, wait up to S s until other processes use less than a
                     quarter of a core (shared machines; default 0: off)
  --keep             keep the corpus and its generated output (prints where)
  --json FILE        also write every number as JSON
  --plain            no progress bar, one line per measurement (automatic when stderr is no TTY)
  -h, --help         this text
`;

type Options = ReturnType<typeof parseOptions>;

function parseOptions() {
  const { values } = cli(HELP, {
    quick: { type: "boolean", default: false },
    services: { type: "string" },
    methods: { type: "string" },
    seed: { type: "string" },
    edits: { type: "string" },
    repeat: { type: "string" },
    only: { type: "string" },
    "cpu-prof": { type: "string" },
    "wait-quiet": { type: "string" },
    keep: { type: "boolean", default: false },
    json: { type: "string" },
    plain: { type: "boolean", default: false },
  });
  const quick = values.quick;
  const only: ReadonlySet<MeasurementId> = new Set(listOf("--only", values.only ?? MEASUREMENTS.join(","), MEASUREMENTS));
  if (only.size === 0) throw new RangeError("--only selects no measurement");
  const services = num("--services", values.services, quick ? 20 : 200, 1, true);
  return {
    quick,
    services,
    methods: num("--methods", values.methods, 20, 1, true),
    seed: num("--seed", values.seed, 1, 0, true),
    edits: Math.min(services, num("--edits", values.edits, quick ? 3 : 7, 1, true)),
    repeat: num("--repeat", values.repeat, 1, 1, true),
    only,
    cpuProf: values["cpu-prof"] === undefined ? undefined : path.resolve(values["cpu-prof"]),
    waitQuiet: num("--wait-quiet", values["wait-quiet"], 0, 0),
    keep: values.keep,
    json: values.json,
    plain: values.plain || !process.stderr.isTTY,
  };
}

// ---- child processes -----------------------------------------------------------------------------

interface ChildRun<R extends ChildResult> {
  readonly result: R;
  /** From spawn to exit: node, tsx and module loading included. */
  readonly processMs: number;
  /** CPU that other processes used meanwhile, in cores (0.5 = half a core); undefined without /proc. */
  readonly othersCores: number | undefined;
}

/**
 * Runs one measurement in a child process: its own process group (a Ctrl-C reaches only us),
 * stdin an open pipe (it leaves when that closes, i.e. when we die), steps reported on stdout.
 */
async function runChild<R extends ChildResult>(
  mode: string,
  args: readonly string[],
  options: Options,
  profileName: string,
  onStep: (label: string) => void,
): Promise<ChildRun<R>> {
  // --expose-gc: the watch child measures its live heap after a full GC (outside the timed parts).
  const nodeArgs = ["--expose-gc", "--import", "tsx"];
  if (options.cpuProf !== undefined) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${path.join(options.cpuProf, profileName)}`); // one file per thread (tsx's loader has one)
  const busyBefore = machineBusySeconds();
  const start = performance.now();
  const proc = startChild(process.execPath, [...nodeArgs, CHILD, mode, ...args, "--watch-stdin"]);
  const stderr = captureStderr(proc);
  let result: ChildResult | undefined;
  const lines = onJsonLines(proc, (event) => {
    if (event.event === "step") onStep(String(event.label));
    else if (event.event === "result") result = event.result as ChildResult;
  });
  const spawnError = new Promise<never>((_, reject) => proc.once("error", reject));
  const [code] = await Promise.race([Promise.all([exited(proc), lines]), spawnError]);
  const processMs = performance.now() - start;
  const busyAfter = machineBusySeconds();
  if (code !== 0 || result === undefined) throw new Error(`${mode} child failed, ${describeExit(proc, stderr())}`);
  const othersCores =
    busyBefore === undefined || busyAfter === undefined ? undefined : Math.max(0, busyAfter - busyBefore - result.processCpuMs / 1000) / (processMs / 1000);
  return { result: result as R, processMs, othersCores };
}

// ---- measurements ----------------------------------------------------------------------------------

type RunRow = { readonly runs: readonly ChildRun<RunResult>[] };

interface Results {
  cold?: RunRow;
  unchanged?: RunRow;
  check?: RunRow;
  phases?: ChildRun<PhasesResult>;
  watch?: ChildRun<WatchResult>;
  errors: Partial<Record<MeasurementId, string>>;
  generated?: { files: number; bytes: number };
}

/** Files and bytes under a directory. */
function treeSize(dir: string): { files: number; bytes: number } {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => statSync(path.join(dir, f)))
    .filter((s) => s.isFile());
  return { files: files.length, bytes: files.reduce((n, s) => n + s.size, 0) };
}

/** Service files to edit in watch mode: spread evenly over the corpus. */
function editFiles(corpus: Corpus, count: number): string[] {
  const n = corpus.serviceFiles.length;
  return Array.from({ length: count }, (_, i) => corpus.serviceFiles[Math.floor(((i + 0.5) * n) / count)]!);
}

// ---- formatting ------------------------------------------------------------------------------------

const median = (values: readonly number[]): number => medianOf(values) ?? NaN;
const fmtMs = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms)
    ? "–"
    : ms >= 10_000
      ? `${(ms / 1000).toFixed(1)} s`
      : ms >= 1000
        ? `${(ms / 1000).toFixed(2)} s`
        : `${ms.toFixed(0)} ms`;
const fmtMb = (bytes: number | undefined): string => (bytes === undefined || !Number.isFinite(bytes) ? "–" : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
/** Sizes of files on disk: KB below a megabyte. */
const fmtSize = (bytes: number): string => (bytes < 1024 * 1024 ? `${Math.round(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
const fmtCores = (cores: number | undefined): string => (cores === undefined || !Number.isFinite(cores) ? "–" : cores.toFixed(2));
const fmtPct = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(0)}%` : "–");
const fmtRange = (values: readonly number[]): string => (values.length > 1 ? `${fmtMs(Math.min(...values))} – ${fmtMs(Math.max(...values))}` : "–");

/** The median of each step (wall and CPU separately) over several entries. */
function medianPhases(entries: readonly PhaseTimes[]): PhaseTimes {
  const out: Record<string, { ms: number; cpuMs: number }> = {};
  for (const key of Object.keys(entries[0] ?? {})) {
    out[key] = { ms: median(entries.map((e) => e[key]?.ms ?? Number.NaN)), cpuMs: median(entries.map((e) => e[key]?.cpuMs ?? Number.NaN)) };
  }
  return out;
}

/** Total wall (or CPU) time of the steps. */
const sum = (times: PhaseTimes, of: "ms" | "cpuMs" = "ms"): number => Object.values(times).reduce((a, b) => a + b[of], 0);

function printTables(corpus: Corpus, results: Results, options: Options, header: readonly string[]): void {
  const generatedFiles = results.generated?.files;

  // Corpus.
  const s = corpus.stats;
  const model = results.phases?.result.model;
  const corpusTable = newTable([], [0, 1]);
  corpusTable.push(
    [
      "corpus",
      `${fmtInt(s.serviceFiles)} service files × ${options.methods} methods, seed ${options.seed} (hash ${s.hash}); "rpyc-ts" from ${corpus.runtime === "dist" ? "the package's .d.ts" : "the repository's sources"}`,
    ],
    [
      "source files",
      `${fmtInt(s.files)} .ts (${s.serviceFiles} services, ${s.typeFiles} shared type files, ${s.baseFiles} base classes, 1 helper), ${fmtInt(s.lines)} lines, ${fmtSize(s.bytes)}`,
    ],
    [
      "declared",
      `${fmtInt(s.services)} services, ${fmtInt(s.methods)} own exposed methods, ${fmtInt(s.attributes)} attributes, ${fmtInt(s.getters)} getters, ${fmtInt(s.typeDeclarations)} named types`,
    ],
    [
      "model",
      model
        ? `${fmtInt(model.services)} services, ${fmtInt(model.methods)} methods (inherited included), ${fmtInt(model.attributes)} attributes, ${fmtInt(model.types)} named types; ${fmtInt(model.sourceFilesInProgram)} files in the TS program (libs included)`
        : "– (the phases measurement reports it)",
    ],
    ["generated", results.generated ? `${fmtInt(results.generated.files)} files, ${fmtSize(results.generated.bytes)}` : "–"],
  );

  // Measurements.
  const main = newTable(["measurement", "time", "min – max", "CPU", "peak RSS", "RSS before", "process", "others", "result"], [0, 8]);
  const failed = (id: MeasurementId, label: string): boolean => {
    const error = results.errors[id];
    if (error === undefined) return false;
    main.push([label, { colSpan: 8, content: `FAILED: ${error.split("\n")[0]}` }]);
    return true;
  };
  const runRow = (id: "cold" | "unchanged" | "check", label: string, describe: (r: RunResult) => string): void => {
    if (!options.only.has(id) || failed(id, label)) return;
    const row = results[id];
    if (!row) return;
    const times = row.runs.map((r) => r.result.ms);
    const last = row.runs.at(-1)!.result;
    main.push([
      row.runs.length > 1 ? `${label} (median of ${row.runs.length})` : label,
      fmtMs(median(times)),
      fmtRange(times),
      fmtMs(median(row.runs.map((r) => r.result.cpuMs))),
      fmtMb(Math.max(...row.runs.map((r) => r.result.maxRss))),
      fmtMb(median(row.runs.map((r) => r.result.rssBefore))),
      fmtMs(median(row.runs.map((r) => r.processMs))),
      fmtCores(Math.max(...row.runs.map((r) => r.othersCores ?? Number.NaN))),
      describe(last),
    ]);
  };
  runRow("cold", "cold run (empty output directory)", (r) => `${r.written ?? "?"} files written`);
  runRow("unchanged", "second run (output unchanged)", (r) => `${r.unchanged ?? "?"} unchanged, ${r.written ?? "?"} written`);
  runRow("check", "--check (up to date)", (r) => `${r.upToDate ?? "?"} files up to date`);
  if (options.only.has("phases") && !failed("phases", "phase by phase (see below)") && results.phases) {
    const p = results.phases.result;
    const cold = sum(p.cold);
    main.push([
      "phase by phase (see below)",
      fmtMs(cold),
      "–",
      "–",
      fmtMb(p.maxRss),
      fmtMb(p.rssBefore),
      fmtMs(results.phases.processMs),
      fmtCores(results.phases.othersCores),
      `same files as the cold run: ${p.matchesCli === null ? "not compared" : p.matchesCli ? "yes" : "NO"}; + ${p.incremental.length} updates`,
    ]);
  }
  if (options.only.has("watch") && !failed("watch", "watch") && results.watch) {
    const w = results.watch.result;
    const times = w.edits.map((e) => e.ms);
    const written = [...new Set(w.edits.map((e) => e.written ?? "?"))].join("/");
    main.push([
      "watch: start (first generation, watcher ready)",
      fmtMs(w.startMs),
      "–",
      "–",
      "–",
      fmtMb(w.rssBefore),
      "–",
      "",
      `watching ${w.watchedFiles ?? "?"} files`,
    ]);
    main.push([
      `watch: edit one service → regenerated (median of ${times.length})`,
      fmtMs(median(times)),
      fmtRange(times),
      "–",
      fmtMb(w.maxRss),
      "–",
      fmtMs(results.watch.processMs),
      fmtCores(results.watch.othersCores),
      `${written} written per edit; live heap ${fmtMb(w.heapLiveStart ?? undefined)} → ${fmtMb(w.heapLiveEnd ?? undefined)}${w.spuriousRuns ? `; ${w.spuriousRuns} extra regeneration(s)` : ""}`,
    ]);
  }

  // Where the time goes.
  let phasesText = "";
  if (results.phases) {
    const p = results.phases.result;
    const cold = p.cold;
    const inc = medianPhases(p.incremental);
    const coldTotal = sum(cold);
    const incTotal = sum(inc);
    const phases = newTable(["step", "full generation", "CPU", "share", `one watch update (median of ${p.incremental.length})`, "CPU", "share"], [0]);
    type Step = { readonly ms: number; readonly cpuMs: number } | undefined;
    const row = (label: string, a: Step, b: Step, bNote?: string): void => {
      phases.push([
        label,
        fmtMs(a?.ms),
        fmtMs(a?.cpuMs),
        a === undefined ? "" : fmtPct(a.ms, coldTotal),
        b === undefined ? (bNote ?? "–") : fmtMs(b.ms),
        b === undefined ? "" : fmtMs(b.cpuMs),
        b === undefined ? "" : fmtPct(b.ms, incTotal),
      ]);
    };
    row("read + parse sources (ts-morph) / re-read the changed file", cold["read + parse sources"], inc["re-read changed file"]);
    row("TS program (lib .d.ts files, module resolution)", cold["program (libs, resolution)"], inc["new program + checker"]);
    row("bind (new type checker)", cold["bind (type checker)"], undefined, "(in the line above)");
    row("extract the model (type checker, every service)", cold["extract model"], inc["extract model"]);
    row("emit every file (emitAll)", cold["emit (emitAll)"], inc["emit (emitAll)"]);
    row("compare with the files on disk (plan)", cold["compare with disk (plan)"], inc["compare + write"]);
    row("write (plan + apply into an empty directory)", cold["write all files"], undefined, "(in the line above)");
    const some = p.incremental.length > 0;
    phases.push(["total", fmtMs(coldTotal), fmtMs(sum(cold, "cpuMs")), "", some ? fmtMs(incTotal) : "–", some ? fmtMs(sum(inc, "cpuMs")) : "", ""]);
    phasesText = phases.toString();
  }

  const watchMedian = results.watch ? median(results.watch.result.edits.map((e) => e.ms)) : undefined;
  const incMedian = results.phases && results.phases.result.incremental.length > 0 ? sum(medianPhases(results.phases.result.incremental)) : undefined;
  const out: string[] = ["", "rpyc-gen compiler benchmark", ...header, "", corpusTable.toString(), "", main.toString(), ""];
  if (phasesText) {
    out.push(
      "Where the time goes (the phases process: the compiler's own functions one by one, in a fresh process; the",
      "watch column repeats a watch update's steps on one edited service file, as ExtractSession.update and generate do):",
      phasesText,
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
  if (results.watch?.result.heapLiveEnd != null) {
    out.push("  live heap (watch) = V8 heap in use after a full GC, once the watch started and after the last edit: what the watching");
    out.push("  process keeps (project, program, checker, model); equal numbers mean the edits leaked nothing.");
  }
  if (watchMedian !== undefined && incMedian !== undefined) {
    out.push(
      `  A watch edit (${fmtMs(watchMedian)}) = noticing the write (chokidar) + 50 ms debounce + the update's steps (${fmtMs(incMedian)} in the phases process).`,
    );
  }
  if (generatedFiles !== undefined) out.push(`  Files per service: client stub, dispatch table, .proto; plus index.ts.`);
  out.push("");
  process.stdout.write(out.join("\n"));
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions();
  const header = [`${machine()} (the compiler via tsx); load average at start ${loadAverage()}`];
  const workDir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-compiler-bench-"));
  const corpusDir = path.join(workDir, "corpus");
  let bar: cliProgress.SingleBar | undefined;
  cleanup = async (): Promise<void> => {
    bar?.stop();
    await stopAllChildren();
    if (options.keep) process.stderr.write(`corpus and output kept in ${corpusDir}\n`);
    else rmSync(workDir, { recursive: true, force: true });
  };
  const t0 = performance.now();
  mkdirSync(corpusDir);
  const corpus = generateCorpus({ dir: corpusDir, services: options.services, methods: options.methods, seed: options.seed, repoDir: REPO_DIR });
  header.push(`corpus generated in ${fmtMs(performance.now() - t0)} into ${tmpdir()}${options.keep ? ` (${corpusDir})` : " (removed at the end)"}`);
  if (options.cpuProf !== undefined) {
    mkdirSync(options.cpuProf, { recursive: true });
    header.push(`CPU profiles in ${options.cpuProf} (profiling slows every measurement down)`);
  }
  const edits = editFiles(corpus, options.edits);
  const common = ["--corpus", corpusDir, "--out", OUT, "--project", corpus.tsconfig, "--sources", corpus.sources];
  const wants = options.only;
  const needsOutput = wants.has("unchanged") || wants.has("check") || wants.has("phases");

  // The plan: [measurement, mode, extra args, steps it reports].
  type Job = { readonly id: MeasurementId | "setup"; readonly mode: string; readonly args: readonly string[]; readonly steps: number; readonly label: string };
  const jobs: Job[] = [];
  for (let r = 0; r < (wants.has("cold") ? options.repeat : needsOutput ? 1 : 0); r++)
    jobs.push({ id: wants.has("cold") ? "cold" : "setup", mode: "run", args: [], steps: 1, label: "cold run" });
  if (wants.has("unchanged"))
    for (let r = 0; r < options.repeat; r++) jobs.push({ id: "unchanged", mode: "run", args: [], steps: 1, label: "second run (unchanged)" });
  if (wants.has("check")) for (let r = 0; r < options.repeat; r++) jobs.push({ id: "check", mode: "run", args: ["--check"], steps: 1, label: "--check" });
  if (wants.has("phases")) jobs.push({ id: "phases", mode: "phases", args: ["--files", edits.join(",")], steps: 7 + edits.length, label: "phase by phase" });
  if (wants.has("watch")) jobs.push({ id: "watch", mode: "watch", args: ["--files", edits.join(",")], steps: 1 + edits.length, label: "watch" });
  const totalSteps = jobs.reduce((n, j) => n + j.steps, 0);

  process.stderr.write(
    `rpyc-ts compiler bench: ${corpus.stats.serviceFiles} services × ${options.methods} methods (${corpus.stats.files} files, ${fmtInt(corpus.stats.lines)} lines); ${jobs.length} child processes\n`,
  );
  if (!options.plain) {
    bar = new cliProgress.SingleBar(
      {
        format: "{bar} {percentage}% | {value}/{total} steps | {duration_formatted} | {job}: {step}",
        hideCursor: true,
        clearOnComplete: true,
        fps: 10,
        barsize: 24,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(totalSteps, 0, { job: "starting", step: "" });
  }

  const results: Results = { errors: {} };
  let done = 0;
  for (const [index, job] of jobs.entries()) {
    if (interruption.interrupted) return 130;
    const name = `[${index + 1}/${jobs.length}] ${job.label}`;
    if (options.plain) process.stderr.write(`${name} ...\n`);
    bar?.update(done, { job: name, step: "starting node" });
    const stepsBefore = done;
    const id = job.id;
    if (id !== "setup" && results.errors[id] !== undefined) {
      done += job.steps; // a repetition of a measurement that failed: skipped
      continue;
    }
    if (options.waitQuiet > 0) {
      bar?.update(done, { job: name, step: "waiting for a quiet machine" });
      const load = await waitForQuiet(options.waitQuiet);
      if (interruption.interrupted) return 130;
      if (load !== null && load >= 0.25)
        process.stderr.write(`${name}: still busy after ${options.waitQuiet} s (others use ${load.toFixed(2)} cores); measuring anyway\n`);
    }
    if (job.mode === "run" && job.args.length === 0 && (id === "cold" || id === "setup")) rmSync(path.join(corpusDir, OUT), { recursive: true, force: true });
    try {
      const run = await runChild(job.mode, [...common, ...job.args], options, `${index + 1}-${job.id}`, (label) => {
        done++;
        bar?.update(done, { job: name, step: label });
      });
      const result = run.result;
      // Check that each measurement did what it claims.
      if (result.kind === "run") {
        const r = result;
        if (r.code !== 0) throw new Error(`rpyc-gen exited with ${r.code}`);
        if ((id === "cold" || id === "setup") && (r.written === null || r.written === 0 || r.unchanged !== 0))
          throw new Error(`a cold run wrote ${r.written} and left ${r.unchanged} unchanged`);
        if (id === "cold" || id === "setup") results.generated = treeSize(path.join(corpusDir, OUT));
        if (id === "unchanged" && (r.written !== 0 || r.removed !== 0 || r.unchanged !== results.generated?.files))
          throw new Error(`expected all ${results.generated?.files} unchanged, got ${r.unchanged} unchanged, ${r.written} written, ${r.removed} removed`);
        if (id === "check" && r.upToDate !== results.generated?.files)
          throw new Error(`--check found ${r.upToDate} up to date, expected ${results.generated?.files}`);
        if (id === "cold" || id === "unchanged" || id === "check") {
          const row = results[id] ?? { runs: [] };
          results[id] = { runs: [...row.runs, run as ChildRun<RunResult>] };
        }
      } else if (result.kind === "phases") {
        if (result.matchesCli === false) throw new Error("the phase-by-phase generation produced other files than the rpyc-gen run");
        results.phases = run as ChildRun<PhasesResult>;
      } else {
        const bad = result.edits.find((e) => e.code !== 0);
        if (bad) throw new Error(`regeneration after editing ${bad.file} exited with ${bad.code}`);
        results.watch = run as ChildRun<WatchResult>;
      }
      if (options.plain) process.stderr.write(`${name}: ${describe(result)}\n`);
    } catch (err) {
      if (interruption.interrupted) return 130;
      const message = err instanceof Error ? err.message : String(err);
      if (id === "setup") throw new Error(`the cold run that the other measurements need failed: ${message}`);
      results.errors[id] = message;
      bar?.stop();
      process.stderr.write(`${name} FAILED: ${message}\n`);
      bar?.start(totalSteps, done, { job: name, step: "failed" });
    }
    done = stepsBefore + job.steps;
    bar?.update(done);
  }
  bar?.stop();
  bar = undefined;
  header.push(`load average at end ${loadAverage()} (a busy machine slows every number; compare within one run)`);
  printTables(corpus, results, options, header);
  writeJson(options.json, {
    header,
    options: { ...options, only: [...options.only] },
    corpus: { stats: corpus.stats, runtime: corpus.runtime, edits },
    results,
  });
  return Object.keys(results.errors).length > 0 ? 1 : 0;
}

function describe(result: ChildResult): string {
  const time =
    result.kind === "run"
      ? fmtMs(result.ms)
      : result.kind === "phases"
        ? `${fmtMs(sum(result.cold))} in phases`
        : `median edit ${fmtMs(median(result.edits.map((e) => e.ms)))}`;
  return `${time}, peak RSS ${fmtMb(result.maxRss)}`;
}

let cleanup: () => Promise<void> = stopAllChildren;
runMain(main, () => cleanup());
