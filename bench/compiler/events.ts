// What a compiler-bench child (bench/compiler/child.ts) prints on stdout: one JSON object per
// line. The orchestrator (bench/compiler.ts) reads them to move its progress bar and to
// collect the result. Times are milliseconds, memory bytes.

/** Memory and CPU of the child process, taken when its measurement ends. */
export interface ProcessNumbers {
  /** Peak resident set size of the whole process so far (process.resourceUsage().maxRSS). */
  readonly maxRss: number;
  /** Resident set size just before the measurement started (node + tsx + compiler loaded). */
  readonly rssBefore: number;
  /** V8 heap in use when the measurement ended. */
  readonly heapUsedAfter: number;
  /** user + system CPU time of the process during the measurement (all threads: GC, JIT). */
  readonly cpuMs: number;
  /** user + system CPU time of the whole process, start-up included, when the measurement ended. */
  readonly processCpuMs: number;
}

/** `rpyc-gen` once (cold, again over unchanged output, or --check). */
export interface RunResult extends ProcessNumbers {
  readonly kind: "run";
  /** Wall time of `run(argv, io)`, in-process. */
  readonly ms: number;
  readonly code: number;
  readonly written: number | null;
  readonly removed: number | null;
  readonly unchanged: number | null;
  /** With --check: how many files it found up to date. */
  readonly upToDate: number | null;
}

/** One edit in watch mode: from the write of the source to the end of the regeneration. */
export interface WatchEdit {
  readonly file: string;
  readonly ms: number;
  readonly code: number;
  readonly written: number | null;
  /** Resident set size after this regeneration. */
  readonly rssAfter: number;
}

export interface WatchResult extends ProcessNumbers {
  readonly kind: "watch";
  /** Starting the watch: the first full generation, then chokidar ready. */
  readonly startMs: number;
  readonly edits: readonly WatchEdit[];
  /** Regenerations nobody asked for (a second file-system event after one write). */
  readonly spuriousRuns: number;
  readonly watchedFiles: number | null;
  /** V8 heap in use after a full GC once the watch started, and after the last edit (null without --expose-gc). */
  readonly heapLiveStart: number | null;
  readonly heapLiveEnd: number | null;
}

/** Named steps of the split measurement, in order: wall time and the process's CPU time (all threads). */
export interface PhaseTimes {
  readonly [phase: string]: { readonly ms: number; readonly cpuMs: number };
}

export interface ModelNumbers {
  readonly services: number;
  /** Exposed methods, inherited ones included. */
  readonly methods: number;
  readonly attributes: number;
  readonly types: number;
  readonly sourceFilesInProgram: number;
  readonly generatedFiles: number;
  readonly generatedBytes: number;
}

export interface PhasesResult extends ProcessNumbers {
  readonly kind: "phases";
  /** A full generation, step by step (own ts-morph Project, as createExtractSession builds it). */
  readonly cold: PhaseTimes;
  /** One edited file, step by step, as ExtractSession.update and the watch's regeneration do it; one entry per edit. */
  readonly incremental: readonly PhaseTimes[];
  readonly model: ModelNumbers;
  /** Whether emitAll's files equal what the cold `rpyc-gen` run wrote (the split measures the same work). */
  readonly matchesCli: boolean | null;
}

export type ChildResult = RunResult | WatchResult | PhasesResult;

export type ChildEvent = { readonly event: "step"; readonly label: string } | { readonly event: "result"; readonly result: ChildResult };
