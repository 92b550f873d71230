// One measurement of the compiler bench (run, watch or phases; bench/README.md says what each
// does) in a process of its own, so that its peak memory is its own and nothing is warm from
// an earlier measurement. Prints JSON lines on stdout (ChildEvent, below: steps as they finish,
// then one result; times in milliseconds, memory in bytes). What rpyc-gen prints is captured,
// not shown (stderr on failure).
//
//   node --import tsx bench/compiler/child.ts run|watch|phases --corpus DIR [--check] [--files a.ts,b.ts]
//
// rpyc-gen runs as `rpyc-gen --project tsconfig.json --out generated src/services` in the corpus (bench/compiler/corpus.ts).

import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Project, type SourceFile } from "ts-morph";
import { apply, plan, run, type CliIO } from "../../compiler/cli/index.js";
import { emitAll, kebabCase, type EmitOptions } from "../../compiler/emit.js";
import { extractFromProject, type ExtractResult } from "../../compiler/extract.js";
import { cli, emitJson, exitWithParent, list, sleep } from "../harness.js";

export type RunResult = Awaited<ReturnType<typeof measureRun>>;
export type WatchResult = Awaited<ReturnType<typeof measureWatch>>;
export type PhasesResult = Awaited<ReturnType<typeof measurePhases>>;
export type ChildResult = RunResult | WatchResult | PhasesResult;
type ChildEvent = { readonly event: "step"; readonly label: string } | { readonly event: "result"; readonly result: ChildResult };
/** Named steps, in order: wall time and the process's CPU time (all threads). */
export type PhaseTimes = Record<string, { readonly ms: number; readonly cpuMs: number }>;

const usage = "child.ts run|watch|phases --corpus DIR [--check --files a.ts,b.ts --watch-stdin]";
const options = { corpus: { type: "string" }, check: { type: "boolean", default: false }, files: { type: "string", default: "" } } as const;
const { positionals, values } = cli(usage, options, true);

const mode = positionals[0];
if (values.corpus === undefined) throw new Error("--corpus DIR is required");
const corpus = path.resolve(values.corpus);
const [PROJECT, OUT, SOURCES] = ["tsconfig.json", "generated", "src/services"];
const outDir = path.resolve(corpus, OUT);
const editFiles = list(values.files);
/** Files the watch and phases measurements edited, with their original contents (restored at the end). */
const originals = new Map<string, string>();

function restoreEdits(): void {
  for (const [file, text] of originals) writeFileSync(file, text);
  originals.clear();
}

exitWithParent(async () => restoreEdits());

const emit = emitJson<ChildEvent>;
const step = (label: string): void => emit({ event: "step", label });

/** The remote name of the method edit `n` adds (the generated client stub must then contain it). */
const addedMethodName = (n: number): string => `bench_added_${n}`;

/** Edit `n` (from 1): one more exposed method at the end of the (last) class of a service file, written by `write()`. */
function edit(rel: string, n: number): { file: string; write(): void } {
  const file = path.resolve(corpus, rel);
  const text = readFileSync(file, "utf8");
  if (!originals.has(file)) originals.set(file, text);
  const end = text.lastIndexOf("}");
  if (end < 0) throw new Error(`${rel}: no class body to add a method to`);
  const method = [
    "",
    `  /**`,
    `   * Added by the compiler bench (edit ${n}).`,
    `   * @param value A number.`,
    `   */`,
    `  exposed_${addedMethodName(n)}(value: number, label?: string): string {`,
    '    return `${label ?? ""}${value}`;',
    `  }`,
    "",
  ];
  const next = text.slice(0, end) + method.join("\n") + text.slice(end);
  return { file, write: () => writeFileSync(file, next) };
}

/** Captured output of rpyc-gen. */
class Capture implements CliIO {
  readonly cwd = corpus;
  readonly interactive = false;
  out = "";
  err = "";
  stdout = (text: string): void => void (this.out += text);
  stderr = (text: string): void => void (this.err += text);
}

/** Starts the process numbers of a measurement; `finish()` takes the rest when it ends. */
function measureProcess() {
  const rssBefore = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const finish = () => {
    const used = process.cpuUsage(cpu);
    const all = process.cpuUsage();
    return {
      /** Peak resident set size of the whole process so far. */
      maxRss: process.resourceUsage().maxRSS * 1024,
      /** Resident set size just before the measurement started (node + tsx + compiler loaded). */
      rssBefore,
      heapUsedAfter: process.memoryUsage().heapUsed,
      /** user + system CPU time of the process during the measurement (all threads: GC, JIT). */
      cpuMs: (used.user + used.system) / 1000,
      /** user + system CPU time of the whole process, start-up included, when the measurement ended. */
      processCpuMs: (all.user + all.system) / 1000,
    };
  };
  return { finish };
}

const argv = (): string[] => ["--project", PROJECT, "--out", OUT, SOURCES];

/** The counts in rpyc-gen's last summary line (upToDate: with --check). */
function summary(text: string) {
  const counts = [...text.matchAll(/\((\d+) written, (\d+) removed, (\d+) unchanged\)/g)].at(-1);
  const upToDate = [...text.matchAll(/: (\d+) files up to date/g)].at(-1);
  const count = (match: RegExpMatchArray | undefined, i: number): number | null => (match ? Number(match[i]) : null);
  return { written: count(counts, 1), removed: count(counts, 2), unchanged: count(counts, 3), upToDate: count(upToDate, 1) };
}

function fail(what: string, io: Capture): never {
  process.stderr.write(io.err);
  throw new Error(`${what}${io.err.trim() ? `: ${io.err.trim().split("\n")[0]}` : ""}`);
}

// ---- run ----------------------------------------------------------------------------------------

/** `rpyc-gen` once (cold, again over unchanged output, or --check); ms: wall time of `run(argv, io)`, in-process. */
async function measureRun() {
  const io = new Capture();
  const proc = measureProcess();
  const start = performance.now();
  const { code } = await run([...argv(), ...(values.check ? ["--check"] : [])], io);
  const ms = performance.now() - start;
  const numbers = proc.finish();
  if (code !== 0) process.stderr.write(io.err);
  step(values.check ? "--check" : "run");
  return { kind: "run" as const, ms, code, ...summary(io.out), ...numbers };
}

/** V8 heap in use after a full garbage collection (the child runs with --expose-gc); null without it. */
function liveHeap(): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  gc();
  return process.memoryUsage().heapUsed;
}

// ---- watch --------------------------------------------------------------------------------------

/** The client stub the compiler writes for the (last) service class of a file. */
function clientStubOf(file: string): string {
  const classes = [...readFileSync(file, "utf8").matchAll(/export (?:default )?class (\w+)/g)];
  const className = classes.at(-1)?.[1];
  if (!className) throw new Error(`${file}: no exported class`);
  return path.join(outDir, `${kebabCase(className)}.client.ts`);
}

async function measureWatch() {
  const io = new Capture();
  const proc = measureProcess();
  const start = performance.now();
  const { code, watcher } = await run([...argv(), "--watch"], io);
  /** Starting the watch: the first full generation, then chokidar ready. */
  const startMs = performance.now() - start;
  if (code !== 0 || !watcher) fail(`rpyc-gen --watch exited with ${code}`, io);
  const watchedMatch = /watching (\d+) file/.exec(io.out);
  const heapLiveStart = liveHeap();
  step("watch started");

  /** Regenerations nobody asked for (a second file-system event after one write). */
  let spuriousRuns = 0;
  /** Waits until no regeneration has happened for `quietMs` (a late second event of the last write). */
  const settle = async (quietMs: number): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      const outcome = await Promise.race([watcher.nextRun().then(() => "run" as const), sleep(quietMs).then(() => "quiet" as const)]);
      if (outcome === "quiet") return;
      spuriousRuns++;
    }
  };

  /** From the write of the source to the end of the regeneration. */
  const edits: { file: string; ms: number; code: number; written: number | null; rssAfter: number }[] = [];
  try {
    for (const [i, rel] of editFiles.entries()) {
      const { file, write } = edit(rel, i + 1);
      await settle(300);
      const before = io.out.length;
      const done = watcher.nextRun();
      const t0 = performance.now();
      write();
      const result = await done;
      const ms = performance.now() - t0;
      const stub = clientStubOf(file);
      if (result !== 0) fail(`regeneration after editing ${rel} exited with ${result}`, io);
      if (!readFileSync(stub, "utf8").includes(addedMethodName(i + 1)))
        throw new Error(`after editing ${rel}, ${path.relative(corpus, stub)} lacks ${addedMethodName(i + 1)}`);
      edits.push({ file: rel, ms, code: result, written: summary(io.out.slice(before)).written, rssAfter: process.memoryUsage.rss() });
      step(`edit ${i + 1}`);
    }
    await settle(300);
  } finally {
    await watcher.close();
    restoreEdits();
  }
  const numbers = proc.finish();
  // After close() the session is still referenced from here: what a watching process keeps.
  const heapLiveEnd = liveHeap();
  const watchedFiles = watchedMatch ? Number(watchedMatch[1]) : null;
  return { kind: "watch" as const, startMs, edits, spuriousRuns, watchedFiles, heapLiveStart, heapLiveEnd, ...numbers };
}

// ---- phases -------------------------------------------------------------------------------------

/** Consecutive steps: `lap(name)` ends one (wall and CPU time since the previous lap). */
function laps(onLap: (name: string) => void = () => {}): { readonly times: PhaseTimes; lap(name: string): void } {
  const times: Record<string, { ms: number; cpuMs: number }> = {};
  const now = (): [number, number] => {
    const { user, system } = process.cpuUsage();
    return [performance.now(), (user + system) / 1000];
  };
  let [wall, cpu] = now();
  const lap = (name: string): void => {
    const [w, c] = now();
    times[name] = { ms: w - wall, cpuMs: c - cpu };
    [wall, cpu] = [w, c];
    onLap(name);
  };
  return { times, lap };
}

const SOURCE_FILE = /\.(c|m)?tsx?$/;
const DECLARATION_FILE = /\.d\.(c|m)?ts$/;

/**
 * A full generation step by step (an own ts-morph Project, as createExtractSession builds it), then each
 * edited file's update, as ExtractSession.update and the watch's regeneration do it.
 */
async function measurePhases() {
  const proc = measureProcess();
  const emitOptions: EmitOptions = { outDir, root: corpus };
  const { times: cold, lap } = laps((name) => step(name));

  // As createExtractSession: a Project from the tsconfig, the sources' files, their imports.
  const project = new Project({ tsConfigFilePath: path.join(corpus, PROJECT), skipAddingFilesFromTsConfig: true });
  const fileSystem = project.getFileSystem();
  const directory = path.join(corpus, SOURCES).split(path.sep).join("/");
  const glob = (): string[] =>
    fileSystem
      .globSync([`${directory}/**/*.{ts,tsx,mts,cts}`, `!${directory}/**/node_modules/**`])
      .filter((f) => SOURCE_FILE.test(f) && !DECLARATION_FILE.test(f));
  const entries = (): SourceFile[] => glob().map((f) => project.getSourceFile(f) ?? project.addSourceFileAtPath(f));
  let sources = entries();
  project.resolveSourceFileDependencies();
  lap("read + parse sources");
  // (Not kept in a variable: a watch update replaces the program, the old one must be garbage.)
  void project.getProgram().compilerObject;
  lap("program (libs, resolution)");
  project.getProgram().compilerObject.getTypeChecker();
  lap("bind (type checker)");
  let result: ExtractResult = extractFromProject(project, sources, corpus);
  lap("extract model");
  if (result.diagnostics.length > 0) throw new Error(`extraction reported ${result.diagnostics.length} diagnostic(s), e.g. ${result.diagnostics[0]!.message}`);
  let files = emitAll(result.model, emitOptions);
  lap("emit (emitAll)");
  // Compare with what the cold rpyc-gen run wrote: all unchanged, when the split did the same work.
  const againstCli = existsSync(outDir) ? plan(files, outDir) : undefined;
  lap("compare with disk (plan)");
  const scratch = path.join(corpus, ".phases-out");
  rmSync(scratch, { recursive: true, force: true });
  apply(plan(files, scratch), scratch);
  lap("write all files");

  const services = result.model.services;
  const model = {
    services: services.length,
    /** Exposed methods, inherited ones included. */
    methods: services.reduce((n, s) => n + s.methods.length, 0),
    attributes: services.reduce((n, s) => n + s.attributes.length, 0),
    types: result.model.types.length,
    sourceFilesInProgram: project.getProgram().compilerObject.getSourceFiles().length,
    generatedFiles: files.length,
    generatedBytes: files.reduce((n, f) => n + Buffer.byteLength(f.contents), 0),
  };

  // One watch update per edited file: as ExtractSession.update (refresh the file, glob, resolve,
  // extract with a new program) followed by the watch's generate (emit, compare, write).
  const incremental: PhaseTimes[] = [];
  try {
    for (const [i, rel] of editFiles.entries()) {
      const { file, write } = edit(rel, i + 1);
      write();
      const { times, lap: next } = laps();
      project.getSourceFile(file.split(path.sep).join("/"))!.refreshFromFileSystemSync();
      sources = entries();
      project.resolveSourceFileDependencies();
      next("re-read changed file");
      project.getProgram().compilerObject.getTypeChecker();
      next("new program + checker");
      result = extractFromProject(project, sources, corpus);
      next("extract model");
      files = emitAll(result.model, emitOptions);
      next("emit (emitAll)");
      const p = plan(files, scratch);
      apply(p, scratch);
      next("compare + write");
      if (p.write.length === 0) throw new Error(`editing ${rel} changed no generated file`);
      incremental.push(times);
      step(`incremental ${i + 1}`);
    }
  } finally {
    restoreEdits();
    rmSync(scratch, { recursive: true, force: true });
  }
  /** Whether emitAll's files equal what the cold `rpyc-gen` run wrote (the split measures the same work). */
  const matchesCli = againstCli ? againstCli.write.length === 0 && againstCli.remove.length === 0 : null;
  return { kind: "phases" as const, cold, incremental, model, matchesCli, ...proc.finish() };
}

// ---- main ---------------------------------------------------------------------------------------

const measurements: Record<string, () => Promise<ChildResult>> = { run: measureRun, watch: measureWatch, phases: measurePhases };
try {
  const measure = measurements[mode ?? ""];
  if (!measure) throw new Error(`unknown mode ${JSON.stringify(mode)}: run, watch or phases`);
  emit({ event: "result", result: await measure() });
  // Leave once stdout is flushed (the stdin watch would keep us alive).
  process.stdout.write("", () => process.exit(0));
} catch (err) {
  restoreEdits();
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
