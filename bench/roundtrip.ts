// The round-trip benchmark: sequential `conn.root.get_answer()` latency and calls/s, for
// five client -> server pairs in one run, each measured the same way, side by side:
//
//   floor   raw Node TCP ping-pong (length-prefixed, rpyc-ts's message sizes)
//   ts-ts   rpyc-ts client  -> rpyc-ts server
//   py-py   Python RPyC     -> Python RPyC server
//   ts-py   rpyc-ts client  -> Python RPyC server
//   py-ts   Python RPyC     -> rpyc-ts server
//
// Every client and every server is a process of its own, started here and stopped here
// (also on Ctrl-C and on errors; each also leaves by itself if this process dies). Pairs
// run one after the other, never at once, on 127.0.0.1 only. See bench/README.md.
//
//   npm run bench:roundtrip                # warm-up 3 s + 5 s measured per pair
//   npm run bench:roundtrip -- --quick     # a smoke run, ~15 s in total
//   npm run bench:roundtrip -- --help

import { execFileSync, type ChildProcess } from "node:child_process";
import { exited, exitOnSignals, startChild as startChildIn, stopAllChildren, stopChild } from "./children.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, endianness, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import Table from "cli-table3";
import { parseEvent, type ClientEvent, type WireCounts } from "./events.js";
import { concatSamples, summarize, type LatencySummary } from "./stats.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_DIR = path.resolve(BENCH_DIR, "..");

// ---- options ----------------------------------------------------------------------------

const PAIR_IDS = ["floor", "ts-ts", "py-py", "ts-py", "py-ts"] as const;
type PairId = (typeof PAIR_IDS)[number];
type ServerKind = "floor" | "ts" | "python";
type ClientKind = "floor" | "ts" | "python";

interface PairSpec {
  readonly id: PairId;
  readonly label: string;
  readonly client: ClientKind;
  readonly server: ServerKind;
}

const PAIRS: readonly PairSpec[] = [
  { id: "floor", label: "raw TCP floor (Node → Node)", client: "floor", server: "floor" },
  { id: "ts-ts", label: "rpyc-ts → rpyc-ts", client: "ts", server: "ts" },
  { id: "py-py", label: "Python → Python", client: "python", server: "python" },
  { id: "ts-py", label: "rpyc-ts → Python", client: "ts", server: "python" },
  { id: "py-ts", label: "Python → rpyc-ts", client: "python", server: "ts" },
];

const HELP = `Round-trip benchmark of rpyc-ts against Python RPyC 5.3 (see bench/README.md).

Usage: npm run bench:roundtrip [-- options]

  --quick            a smoke run of ~15 s (1 s warm-up + 0.5 s measured per pair)
  --duration S       measured seconds per pair (default 5)              env BENCH_DURATION
  --calls N          measure exactly N calls per pair instead            env BENCH_CALLS
  --warmup S         warm-up seconds per pair (default 3)                env BENCH_WARMUP
  --rounds R         run all pairs R times, interleaved; samples pooled  env BENCH_ROUNDS
  --pairs LIST       subset of ${PAIR_IDS.join(",")}      env BENCH_PAIRS
  --python PATH      Python with RPyC 5.3 (default /usr/bin/python3)     env BENCH_PYTHON
  --req-bytes N      floor request size on the wire (default 60)
  --rep-bytes N      floor reply size on the wire (default 12)
  --wait-quiet S     before each pair, wait up to S seconds for other processes to use less
                     than a quarter of a core (shared machines; default 0: off)  env BENCH_WAIT_QUIET
  --json FILE        also write the results as JSON
  --plain            no progress bar, one line per pair (automatic when stderr is no TTY)
  -h, --help         this text
`;

interface Options {
  readonly quick: boolean;
  readonly warmup: number;
  readonly duration: number;
  readonly calls: number;
  readonly rounds: number;
  readonly pairs: readonly PairSpec[];
  readonly python: string;
  readonly reqBytes: number;
  readonly repBytes: number;
  readonly json: string | undefined;
  readonly plain: boolean;
  readonly waitQuiet: number;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      duration: { type: "string" },
      calls: { type: "string" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      pairs: { type: "string" },
      python: { type: "string" },
      "req-bytes": { type: "string", default: "60" },
      "rep-bytes": { type: "string", default: "12" },
      json: { type: "string" },
      "wait-quiet": { type: "string" },
      plain: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const env = process.env;
  const quick = values.quick || env.BENCH_QUICK === "1";
  const number = (what: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new RangeError(`${what} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
    return value;
  };
  const pairIds = (values.pairs ?? env.BENCH_PAIRS ?? PAIR_IDS.join(","))
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  const pairs = pairIds.map((id) => {
    const pair = PAIRS.find((p) => p.id === id);
    if (!pair) throw new RangeError(`unknown pair ${JSON.stringify(id)}; choose from ${PAIR_IDS.join(",")}`);
    return pair;
  });
  if (pairs.length === 0) throw new RangeError("--pairs selects no pair");
  return {
    quick,
    // rpyc-ts's JIT needs ~15-20k calls (about 2 s) to reach its steady state; Python needs none.
    warmup: number("--warmup", values.warmup ?? env.BENCH_WARMUP, quick ? 1 : 3, 0),
    duration: number("--duration", values.duration ?? env.BENCH_DURATION, quick ? 0.5 : 5, 0.01),
    calls: Math.floor(number("--calls", values.calls ?? env.BENCH_CALLS, 0, 0)),
    rounds: Math.floor(number("--rounds", values.rounds ?? env.BENCH_ROUNDS, 1, 1)),
    pairs: PAIRS.filter((p) => pairs.includes(p)),
    python: values.python ?? env.BENCH_PYTHON ?? "/usr/bin/python3",
    reqBytes: number("--req-bytes", values["req-bytes"], 60, 8),
    repBytes: number("--rep-bytes", values["rep-bytes"], 12, 4),
    json: values.json,
    plain: values.plain || !process.stderr.isTTY,
    waitQuiet: number("--wait-quiet", values["wait-quiet"] ?? env.BENCH_WAIT_QUIET, 0, 0),
  };
}

// ---- child processes ----------------------------------------------------------------------

function startChild(command: string, args: readonly string[]): ChildProcess {
  return startChildIn(command, args, REPO_DIR);
}

function nodeScript(script: string, args: readonly string[]): [string, string[]] {
  // tsx's loader in the child itself (no wrapper process): the pid we watch is the one that works.
  return [process.execPath, ["--import", "tsx", path.join(BENCH_DIR, script), ...args]];
}

function describeExit(proc: ChildProcess, stderr: string): string {
  const how = proc.signalCode !== null ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode}`;
  const lines = stderr.trim().split("\n").filter((line) => line.trim() !== "");
  // The error itself: the last line that is not a stack frame (Node) / the last line (Python).
  const gist = [...lines].reverse().find((line) => !/^\s*at /.test(line) && !/^\s*\^+\s*$/.test(line));
  const tail = lines.slice(-12).join("\n");
  return gist === undefined ? how : `${how}: ${gist.trim()}\n${tail}`;
}

interface RunningServer {
  readonly proc: ChildProcess;
  readonly port: number;
  stderr(): string;
}

async function startServer(kind: ServerKind, options: Options): Promise<RunningServer> {
  const [command, args] =
    kind === "python"
      ? [options.python, ["-u", path.join(BENCH_DIR, "python_server.py"), "--watch-stdin"]]
      : nodeScript(kind === "ts" ? "ts_server.ts" : "floor_server.ts", ["--watch-stdin"]);
  const proc = startChild(command, args);
  let stderr = "";
  proc.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: proc.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server printed no PORT line within 20 s: ${stderr}`)), 20_000);
    lines.on("line", (line) => {
      const match = /^PORT (\d+)$/.exec(line.trim());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited(proc).then(() => {
      clearTimeout(timer);
      reject(new Error(`${kind} server ended before printing its port, ${describeExit(proc, stderr)}`));
    });
    proc.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return { proc, port, stderr: () => stderr };
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
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/**
 * The machine's busy CPU time (all cores, tick-sampled), in seconds: `tasks` is user, nice,
 * system and steal (time the hypervisor gave to others), `irq` hard and soft interrupts.
 * Loopback TCP work shows in `irq` here but is also billed to the process it ran for, so
 * "other" below is tasks + irq minus client and server, never tasks alone.
 */
function machineCpu(): { tasks: number; irq: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
    const tick = ticksPerSecond();
    return { tasks: (user + nice + system + steal) / tick, irq: (irq + softirq) / tick };
  } catch {
    return undefined;
  }
}

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU used by processes other than this one over `ms`, in cores; undefined without /proc. */
async function foreignLoad(ms: number): Promise<number | undefined> {
  const [a, selfA] = [machineCpu(), cpuSeconds(process.pid)];
  await sleep(ms);
  const [b, selfB] = [machineCpu(), cpuSeconds(process.pid)];
  if (!a || !b || selfA === undefined || selfB === undefined) return undefined;
  return Math.max(0, b.tasks - a.tasks - (selfB - selfA)) / (ms / 1000);
}

/** Waits (at most `maxSeconds`) until other processes use under a quarter of a core. */
async function waitForQuiet(maxSeconds: number, report: (load: number) => void): Promise<number | undefined> {
  const deadline = Date.now() + maxSeconds * 1000;
  for (;;) {
    const load = await foreignLoad(500);
    if (load === undefined || load < 0.25) return load;
    report(load);
    if (Date.now() >= deadline) return load;
  }
}

// ---- one measured run of one pair ----------------------------------------------------------

interface RunResult {
  readonly samples: Float64Array;
  readonly calls: number;
  readonly wallSeconds: number;
  readonly clientCpu: number | undefined;
  readonly serverCpu: number | undefined;
  /** CPU time of every other process (this one included) during the measured phase. */
  readonly otherCpu: number | undefined;
  readonly wire: WireCounts | null;
  readonly clientRuntime: string;
}

interface Progress {
  update(phase: "warmup" | "measure", calls: number, elapsed: number): void;
}

function readSamples(file: string): Float64Array {
  const bytes = readFileSync(file);
  const count = Math.floor(bytes.length / 8);
  const out = new Float64Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 8);
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

async function runPair(pair: PairSpec, options: Options, workDir: string, tag: string, progress: Progress): Promise<RunResult> {
  const server = await startServer(pair.server, options);
  try {
    const samplesFile = path.join(workDir, `${tag}.f64`);
    const common = [
      "--port", String(server.port),
      "--warmup", String(options.warmup),
      "--duration", String(options.duration),
      "--calls", String(options.calls),
      "--samples-out", samplesFile,
      "--watch-stdin",
    ];
    const [command, args] =
      pair.client === "python"
        ? [options.python, ["-u", path.join(BENCH_DIR, "python_roundtrip.py"), ...common]]
        : nodeScript("node_client.ts", [
            "--mode", pair.client === "floor" ? "floor" : "rpyc",
            "--req-bytes", String(options.reqBytes),
            "--rep-bytes", String(options.repBytes),
            ...common,
          ]);
    const client = startChild(command, args);
    let stderr = "";
    client.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    type CpuSnapshot = readonly [number | undefined, number | undefined, number | undefined, number | undefined];
    const snapshot = (): CpuSnapshot => {
      const machine = machineCpu();
      return [cpuSeconds(client.pid), cpuSeconds(server.proc.pid), machine?.tasks, machine?.irq];
    };
    let cpuStart: CpuSnapshot = [undefined, undefined, undefined, undefined];
    let cpuEnd: CpuSnapshot = [undefined, undefined, undefined, undefined];
    let result: Extract<ClientEvent, { event: "result" }> | undefined;
    const lines = createInterface({ input: client.stdout! });
    lines.on("line", (line) => {
      const event = parseEvent(line);
      if (!event) return;
      switch (event.event) {
        case "phase":
          if (event.phase === "measure") {
            cpuStart = snapshot();
            progress.update("measure", 0, 0);
          } else if (event.phase === "measured") {
            cpuEnd = snapshot();
          }
          break;
        case "progress":
          progress.update(event.phase, event.calls, event.elapsed);
          break;
        case "result":
          result = event;
          break;
      }
    });
    const [code] = await Promise.all([exited(client), new Promise((resolve) => lines.once("close", resolve))]);
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) {
      throw new Error(`server died during the run, ${describeExit(server.proc, server.stderr())}`);
    }
    if (code !== 0 || !result) throw new Error(`client failed, ${describeExit(client, stderr)}`);
    const delta = (i: 0 | 1 | 2 | 3): number | undefined => {
      const [a, b] = [cpuStart[i], cpuEnd[i]];
      return a === undefined || b === undefined ? undefined : b - a;
    };
    const [clientCpu, serverCpu, tasksCpu, irqCpu] = [delta(0), delta(1), delta(2), delta(3)];
    const samples = readSamples(samplesFile);
    rmSync(samplesFile, { force: true });
    if (samples.length !== result.calls) throw new Error(`${samples.length} samples for ${result.calls} calls`);
    return {
      samples,
      calls: result.calls,
      wallSeconds: result.wall_seconds,
      clientCpu,
      serverCpu,
      otherCpu:
        clientCpu === undefined || serverCpu === undefined || tasksCpu === undefined || irqCpu === undefined
          ? undefined
          : Math.max(0, tasksCpu + irqCpu - clientCpu - serverCpu),
      wire: result.wire,
      clientRuntime: result.runtime,
    };
  } finally {
    await stopChild(server.proc);
  }
}

// ---- aggregation and reporting -------------------------------------------------------------

interface PairResult {
  readonly pair: PairSpec;
  readonly runs: RunResult[];
  error?: string;
}

interface PairReport {
  readonly id: PairId;
  readonly label: string;
  readonly calls: number;
  readonly wallSeconds: number;
  readonly callsPerSecond: number;
  readonly latencyUs: LatencySummary;
  readonly clientCpuUsPerCall: number | null;
  readonly serverCpuUsPerCall: number | null;
  /** Busy CPU of everything else on the machine during the measurement, in cores (0.05 = 5% of one core). */
  readonly otherCpuCores: number | null;
  readonly wire: WireCounts | null;
  readonly clientRuntime: string;
  readonly error: string | null;
}

function report(result: PairResult): PairReport {
  const runs = result.runs;
  const calls = runs.reduce((n, r) => n + r.calls, 0);
  const wallSeconds = runs.reduce((n, r) => n + r.wallSeconds, 0);
  const cpu = (pick: (r: RunResult) => number | undefined): number | null => {
    const values = runs.map(pick);
    if (calls === 0 || values.some((v) => v === undefined)) return null;
    return ((values as number[]).reduce((a, b) => a + b, 0) * 1e6) / calls;
  };
  return {
    id: result.pair.id,
    label: result.pair.label,
    calls,
    wallSeconds,
    callsPerSecond: wallSeconds > 0 ? calls / wallSeconds : Number.NaN,
    latencyUs: summarize(concatSamples(runs.map((r) => r.samples))),
    clientCpuUsPerCall: cpu((r) => r.clientCpu),
    serverCpuUsPerCall: cpu((r) => r.serverCpu),
    otherCpuCores: wallSeconds > 0 && runs.every((r) => r.otherCpu !== undefined) ? runs.reduce((n, r) => n + r.otherCpu!, 0) / wallSeconds : null,
    wire: runs.at(-1)?.wire ?? null,
    clientRuntime: runs.at(-1)?.clientRuntime ?? "",
    error: result.error ?? null,
  };
}

const fmtUs = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "–");
const fmtInt = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "–");
const fmtRatio = (v: number): string => (Number.isFinite(v) ? `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}×` : "–");
const fmtPerCall = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v % 1 === 0 ? String(v) : v.toFixed(1));

function printTables(reports: readonly PairReport[], options: Options, machine: readonly string[]): void {
  const floor = reports.find((r) => r.id === "floor" && r.error === null);
  const python = reports.find((r) => r.id === "py-py" && r.error === null);
  const plainStyle = { head: [], border: [] };
  const right = "right" as const;

  const main = new Table({
    head: ["client → server", "calls", "median µs", "p99 µs", "calls/s", "median ×floor", "median ×Py↔Py", "calls/s ×Py↔Py"],
    colAligns: ["left", right, right, right, right, right, right, right],
    style: plainStyle,
  });
  for (const r of reports) {
    if (r.error !== null) {
      main.push([r.label, { colSpan: 7, content: `FAILED: ${r.error.split("\n")[0]}` }]);
      continue;
    }
    const s = r.latencyUs;
    main.push([
      r.label,
      fmtInt(r.calls),
      fmtUs(s.median),
      fmtUs(s.p99),
      fmtInt(r.callsPerSecond),
      floor ? fmtRatio(s.median / floor.latencyUs.median) : "–",
      python ? fmtRatio(s.median / python.latencyUs.median) : "–",
      python ? fmtRatio(r.callsPerSecond / python.callsPerSecond) : "–",
    ]);
  }

  const detail = new Table({
    head: ["client → server", "msgs/call out+in", "bytes/call out+in", "mean µs", "p99.9 µs", "client CPU µs/call", "server CPU µs/call", "CPU ÷ wall", "other CPU"],
    colAligns: ["left", right, right, right, right, right, right, right, right],
    style: plainStyle,
  });
  for (const r of reports) {
    if (r.error !== null) continue;
    const s = r.latencyUs;
    const busy =
      r.clientCpuUsPerCall === null || r.serverCpuUsPerCall === null
        ? null
        : ((r.clientCpuUsPerCall + r.serverCpuUsPerCall) * r.callsPerSecond) / 1e6;
    detail.push([
      r.label,
      r.wire ? `${fmtPerCall(r.wire.msgs_out)}+${fmtPerCall(r.wire.msgs_in)}` : "–",
      r.wire ? `${fmtPerCall(r.wire.bytes_out)}+${fmtPerCall(r.wire.bytes_in)}` : "–",
      fmtUs(s.mean),
      fmtUs(s.p999),
      r.clientCpuUsPerCall === null ? "–" : fmtUs(r.clientCpuUsPerCall),
      r.serverCpuUsPerCall === null ? "–" : fmtUs(r.serverCpuUsPerCall),
      busy === null ? "–" : `${Math.round(busy * 100)}%`,
      r.otherCpuCores === null ? "–" : `${Math.round(r.otherCpuCores * 100)}%`,
    ]);
  }

  const measure = options.calls > 0 ? `${options.calls.toLocaleString("en-US")} calls` : `${options.duration} s of calls`;
  const out: string[] = [
    "",
    "rpyc-ts round-trip benchmark: sequential conn.root.get_answer() (the seed MyService), 127.0.0.1",
    ...machine,
    `each pair: ${options.warmup} s warm-up, then ${measure}, one at a time${options.rounds > 1 ? `; ${options.rounds} rounds, samples pooled` : ""}${options.quick ? " (--quick: a smoke run; rpyc-ts is not fully JIT-warm)" : ""}`,
    "",
    main.toString(),
    "",
    "Where the time goes (wire counts from untimed probe calls; CPU = utime+stime from /proc over the measured phase):",
    detail.toString(),
    "",
    "Reading it: median/p99 are per-call latencies; calls/s = calls ÷ measured wall time (sequential, one call in flight).",
    "  median ×floor  = median ÷ the raw TCP floor's median (how many floors one call costs; 1.00× is the floor itself).",
    "  median ×Py↔Py  = median ÷ Python→Python's median (below 1.00× is faster than Python RPyC).",
    "  calls/s ×Py↔Py = calls/s ÷ Python→Python's calls/s (above 1.00× is more calls per second than Python RPyC).",
    "  client/server CPU = CPU time of the client and server processes (all their threads, kernel work for their",
    "  sockets included) per call. CPU ÷ wall = (client + server CPU) ÷ wall time: about 100% means one of them",
    "  is always running; more means both run at once (what a process does after its send overlaps the peer's",
    "  turn: event-loop bookkeeping, GC, async messages); less means wake-up latency that no one is billed for.",
    "  other CPU = the machine's busy time (/proc/stat) minus client and server, in % of one core: this bench's",
    "  progress bar and tick-sampling noise give a few %; well above that the pair was disturbed by foreign load:",
    "  rerun on a quiet machine (--wait-quiet helps), or use --rounds to spread the disturbance over all pairs.",
    "",
  ];
  process.stdout.write(out.join("\n"));
}

// ---- main ---------------------------------------------------------------------------------------

function pythonRuntime(python: string): string {
  try {
    return execFileSync(python, ["-c", "import platform, rpyc; print('Python', platform.python_version() + ', RPyC', rpyc.__version__)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (err) {
    throw new Error(
      `the Python pairs need Python RPyC 5.3 at ${python} ('apt-get install -y python3-rpyc'; or --python PATH, or --pairs floor,ts-ts): ${(err as Error).message.split("\n")[0]}`,
    );
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const needsPython = options.pairs.some((p) => p.client === "python" || p.server === "python");
  const python = needsPython ? pythonRuntime(options.python) : "Python not used";
  if (needsPython && !/RPyC 5\.3(\.|$)/.test(python)) process.stderr.write(`warning: ${python} is not RPyC 5.3, the version rpyc-ts is wire compatible with\n`);
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const cores = availableParallelism();
  const machine = [
    `machine: ${cpu}, ${cores} core${cores === 1 ? "" : "s"} shared by client and server (each pair's client and server are separate processes)`,
    `runtimes: Node ${process.version} (rpyc-ts via tsx), ${python}; ${endianness()}`,
  ];
  const loadAtStart = loadAverage();
  const workDir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-bench-"));

  let bar: cliProgress.SingleBar | undefined;
  const cleanup = async (): Promise<void> => {
    bar?.stop();
    await stopAllChildren();
    rmSync(workDir, { recursive: true, force: true });
  };
  const signals = exitOnSignals(cleanup);

  try {
    const plan = `${options.pairs.length} pair${options.pairs.length === 1 ? "" : "s"} × ${options.rounds} round${options.rounds === 1 ? "" : "s"}`;
    process.stderr.write(`rpyc-ts round-trip bench: ${plan}, ${options.warmup} s warm-up + ${options.calls > 0 ? `${options.calls} calls` : `${options.duration} s`} each\n`);
    const results = options.pairs.map((pair): PairResult => ({ pair, runs: [] }));
    const total = options.pairs.length * options.rounds;
    let index = 0;
    for (let round = 1; round <= options.rounds; round++) {
      for (const result of results) {
        if (signals.interrupted) return 130;
        if (result.error !== undefined) continue;
        index++;
        const name = `[${index}/${total}] ${result.pair.label}`;
        const units = 1000;
        const weight = options.calls > 0 ? 0.15 : options.warmup / (options.warmup + options.duration);
        let lastCalls = 0;
        if (!options.plain) {
          bar = new cliProgress.SingleBar(
            {
              format: `${name.padEnd(36)} {bar} {percentage}% | {phase} | {calls} calls`,
              hideCursor: true,
              clearOnComplete: true,
              fps: 10,
              barsize: 24,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(units, 0, { phase: "starting", calls: 0 });
        } else {
          process.stderr.write(`${name} ...\n`);
        }
        const progress: Progress = {
          update: (phase, calls, elapsed) => {
            lastCalls = calls;
            let fraction: number;
            if (phase === "warmup") fraction = weight * Math.min(1, options.warmup > 0 ? elapsed / options.warmup : 1);
            else if (options.calls > 0) fraction = weight + (1 - weight) * Math.min(1, calls / options.calls);
            else fraction = weight + (1 - weight) * Math.min(1, elapsed / options.duration);
            bar?.update(Math.round(fraction * units), { phase: phase === "warmup" ? "warm-up " : "measured", calls: calls.toLocaleString("en-US") });
          },
        };
        try {
          if (options.waitQuiet > 0) {
            let waited = false;
            const load = await waitForQuiet(options.waitQuiet, (busy) => {
              if (!waited && options.plain) process.stderr.write(`${name}: waiting for a quiet machine (other processes use ${busy.toFixed(2)} cores)\n`);
              waited = true;
              bar?.update(0, { phase: `waiting: others use ${busy.toFixed(2)} cores`, calls: 0 });
            });
            if (signals.interrupted) return 130;
            if (waited && load !== undefined && load >= 0.25) {
              process.stderr.write(`${name}: still busy after ${options.waitQuiet} s (others use ${load.toFixed(2)} cores); measuring anyway\n`);
            }
            bar?.update(0, { phase: "starting", calls: 0 });
          }
          const run = await runPair(result.pair, options, workDir, `${result.pair.id}-${round}`, progress);
          result.runs.push(run);
          bar?.update(units, { phase: "done    ", calls: run.calls.toLocaleString("en-US") });
          bar?.stop();
          bar = undefined;
          const s = summarize(run.samples);
          process.stderr.write(
            `${name.padEnd(36)} ${fmtInt(run.calls)} calls, median ${fmtUs(s.median)} µs, p99 ${fmtUs(s.p99)} µs, ${fmtInt(run.calls / run.wallSeconds)} calls/s\n`,
          );
        } catch (err) {
          bar?.stop();
          bar = undefined;
          if (signals.interrupted) return 130;
          result.error = err instanceof Error ? err.message : String(err);
          process.stderr.write(`${name} FAILED after ${lastCalls} calls: ${result.error}\n`);
        }
      }
    }
    const reports = results.map(report);
    machine.push(`load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${loadAverage()} (the bench itself adds about 1)`);
    printTables(reports, options, machine);
    if (options.json !== undefined) {
      const json = {
        date: new Date().toISOString(),
        machine,
        options: { ...options, pairs: options.pairs.map((p) => p.id) },
        pairs: reports,
      };
      writeFileSync(options.json, JSON.stringify(json, null, 2) + "\n");
      process.stderr.write(`results written to ${options.json}\n`);
    }
    return reports.some((r) => r.error !== null) ? 1 : 0;
  } finally {
    if (!signals.interrupted) await cleanup();
  }
}

main().then(
  (code) => {
    if (code !== 130) process.exitCode = code;
  },
  async (err: unknown) => {
    process.stderr.write(`\nbench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopAllChildren();
    process.exit(1);
  },
);
