// The benchmark suite (`npm run bench`): rpyc-ts against its neighbours (raw TCP floor, rpyc-ts
// native and brine, Python RPyC, capnweb, grpc-js), every figure next to the raw floor's, in one
// table. One server and one client process per peer, peers one at a time, rounds interleaving
// them; 127.0.0.1 only. Peers, rows and options: bench/README.md and --help.

import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import {
  BENCH_DIR,
  REPO_DIR,
  cli,
  describeExit,
  exited,
  interruption,
  listOf,
  loadAverage,
  machine,
  median,
  newTable,
  num,
  otherCpu,
  pythonRuntime,
  readSamples,
  runMain,
  startChild,
  startServerCommand,
  stopAllChildren,
  stopChild,
  summarize,
  waitForQuiet,
  writeJson,
  captureStderr,
  type RunningServer,
} from "./harness.js";
import { parseSuiteEvent, WORKLOADS, type SuiteEvent, type Workload } from "./suite/events.js";

// ---- peers ----------------------------------------------------------------------------------

type Side = { readonly kind: "node"; readonly peer: "raw" | "rpyc" | "capnweb" | "grpc"; readonly codec: "auto" | "brine" } | { readonly kind: "python" };

interface PeerSpec {
  readonly id: string;
  readonly label: string;
  readonly server: Side;
  readonly client: Side;
}

const node = (peer: "raw" | "rpyc" | "capnweb" | "grpc", codec: "auto" | "brine" = "auto"): Side => ({ kind: "node", peer, codec });
const python: Side = { kind: "python" };

const PEERS: readonly PeerSpec[] = [
  { id: "raw", label: "raw TCP floor", server: node("raw"), client: node("raw") },
  { id: "native", label: "rpyc-ts native", server: node("rpyc"), client: node("rpyc") },
  { id: "brine", label: "rpyc-ts brine", server: node("rpyc", "brine"), client: node("rpyc", "brine") },
  { id: "py-py", label: "Python RPyC Py↔Py", server: python, client: python },
  { id: "ts-py", label: "rpyc-ts → Py server", server: python, client: node("rpyc") },
  { id: "capnweb", label: "capnweb (ws)", server: node("capnweb"), client: node("capnweb") },
  { id: "grpc", label: "grpc-js unary", server: node("grpc"), client: node("grpc") },
];
const FLOOR = "raw";

// ---- options --------------------------------------------------------------------------------

const HELP = `Benchmark suite: rpyc-ts, Python RPyC 5.3, capnweb, grpc-js and the raw TCP floor (bench/README.md).

Usage: npm run bench [-- options]

  --quick            1 round, 1 s warm-up, 0.5 s per row, 200 idle connections: about 1 minute
  --rounds R         rounds, peers interleaved, results pooled (default 2; --quick 1)
  --warmup S         warm-up seconds of the sequential small call (default 2); other rows warm up
                     for min(S, 0.5) s (32 in flight: min(S, 1) s)
  --duration S       measured seconds per row (default 1.5; --quick 0.5)
  --idle N           idle connections for the memory rows (default 500; --quick 200; 0: skip)
  --inflight N       calls in flight for the concurrent row (default 32)
  --only LIST        peers to run, any of ${PEERS.map((p) => p.id).join(",")}
                     (the floor "${FLOOR}" always runs: every ratio needs it)
  --workloads LIST   rows to run, any of mem,${WORKLOADS.join(",")} (default all)
  --python PATH      Python with RPyC 5.3 (default /usr/bin/python3)
  --wait-quiet S     before each peer, wait up to S s until other processes use less than a
                     quarter of a core (shared machines; default 0: off)
  --json FILE        also write every figure as JSON (for comparison over time)
  -h, --help         this text
`;

type Options = ReturnType<typeof parseOptions>;

function parseOptions() {
  const { values } = cli(HELP, {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    warmup: { type: "string" },
    duration: { type: "string" },
    idle: { type: "string" },
    inflight: { type: "string" },
    only: { type: "string" },
    workloads: { type: "string" },
    python: { type: "string", default: "/usr/bin/python3" },
    json: { type: "string" },
    "wait-quiet": { type: "string" },
  });
  const quick = values.quick;
  const only = listOf(
    "--only",
    values.only,
    PEERS.map((p) => p.id),
  );
  const workloads: string[] = listOf("--workloads", values.workloads, ["mem", ...WORKLOADS]);
  return {
    quick,
    rounds: num("--rounds", values.rounds, quick ? 1 : 2, 1, true),
    warmup: num("--warmup", values.warmup, quick ? 1 : 2, 0),
    duration: num("--duration", values.duration, quick ? 0.5 : 1.5, 0.05),
    idle: num("--idle", values.idle, quick ? 200 : 500, 0, true),
    inflight: num("--inflight", values.inflight, 32, 1, true),
    peers: PEERS.filter((p) => only.length === 0 || p.id === FLOOR || only.includes(p.id)),
    workloads,
    python: values.python,
    json: values.json,
    waitQuiet: num("--wait-quiet", values["wait-quiet"], 0, 0),
  };
}

// ---- processes ------------------------------------------------------------------------------

function command(side: Side, role: "server" | "client", options: Options): [string, string[]] {
  if (side.kind === "python") {
    return [options.python, ["-u", path.join(BENCH_DIR, "suite", role === "server" ? "python_server.py" : "python_client.py"), "--watch-stdin"]];
  }
  const flags = role === "server" ? ["--expose-gc"] : [];
  return [
    process.execPath,
    [...flags, "--import", "tsx", path.join(BENCH_DIR, "suite", `node_${role}.ts`), "--peer", side.peer, "--codec", side.codec, "--watch-stdin"],
  ];
}

interface Memory {
  readonly rss: number;
  readonly heap: number | null;
}

interface Server extends RunningServer {
  memory(): Promise<Memory>;
}

async function startServer(side: Side, options: Options): Promise<Server> {
  const [cmd, args] = command(side, "server", options);
  const waiting: ((m: Memory) => void)[] = [];
  const server = await startServerCommand(cmd, args, (line) => {
    if (line.startsWith("MEM ")) waiting.shift()?.(JSON.parse(line.slice(4)) as Memory);
  });
  const memory = (): Promise<Memory> =>
    new Promise<Memory>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("server did not report its memory within 30 s")), 30_000);
      waiting.push((m) => (clearTimeout(timer), resolve(m)));
      server.proc.stdin.write("mem\n");
    });
  return { ...server, memory };
}

// ---- one run of one peer ----------------------------------------------------------------------

interface WorkloadRun {
  readonly calls: number;
  readonly wall: number;
  readonly bytes: number;
  readonly samples: Float64Array | null;
  readonly wire: (SuiteEvent & { event: "result" })["wire"];
  /** CPU of other processes (not client, server or this one) during the phase, in cores. */
  readonly otherCpu: number | null;
}

interface PeerRun {
  /** rpyc-ts clients: the codec both ends agreed on. */
  readonly codec: string | null;
  readonly workloads: Partial<Record<Workload, WorkloadRun>>;
  readonly skipped: Partial<Record<Workload, string>>;
  readonly idle: { readonly count: number; readonly before: Memory; readonly after: Memory } | null;
}

async function runPeer(spec: PeerSpec, options: Options, workDir: string): Promise<PeerRun> {
  const server = await startServer(spec.server, options);
  let client: ChildProcessWithoutNullStreams | undefined;
  try {
    const samplesDir = mkdtempSync(path.join(workDir, `${spec.id}-`));
    const [cmd, args] = command(spec.client, "client", options);
    const only = options.workloads.join(",");
    client = startChild(
      cmd,
      [
        ...args,
        "--port",
        String(server.port),
        "--warmup",
        String(options.warmup),
        "--duration",
        String(options.duration),
        "--inflight",
        String(options.inflight),
        "--idle",
        String(options.idle),
        "--samples-dir",
        samplesDir,
        ...(only === "" ? [] : ["--only", only]),
      ],
      REPO_DIR,
    );
    const proc = client;
    const stderr = captureStderr(proc);
    const workloads: Partial<Record<Workload, WorkloadRun>> = {};
    const skipped: Partial<Record<Workload, string>> = {};
    let before: Memory | undefined;
    let idle: PeerRun["idle"] = null;
    let codec: string | null = null;
    let others: () => number | null = () => null;
    let failure: Error | undefined;
    const lines = createInterface({ input: proc.stdout });
    lines.on("line", (line) => {
      const event = parseSuiteEvent(line);
      if (!event) return;
      switch (event.event) {
        case "info":
          codec = event.codec;
          break;
        case "mem":
          void server.memory().then(
            (m) => {
              if (event.stage === "before") before = m;
              else if (before !== undefined) idle = { count: event.count, before, after: m };
              proc.stdin.write("ok\n");
            },
            (err: unknown) => {
              failure = err instanceof Error ? err : new Error(String(err));
              void stopChild(proc);
            },
          );
          break;
        case "begin":
          others = otherCpu([proc.pid, server.proc.pid]);
          break;
        case "result": {
          workloads[event.workload] = {
            calls: event.calls,
            wall: event.wall_seconds,
            bytes: event.bytes,
            samples: event.samples_out === undefined ? null : readSamples(event.samples_out),
            wire: event.wire,
            otherCpu: others(),
          };
          break;
        }
        case "skip":
          skipped[event.workload] = event.reason;
          break;
      }
    });
    const timer = setTimeout(() => {
      failure = new Error("client still running after 300 s");
      void stopChild(proc);
    }, 300_000);
    const code = await exited(proc);
    clearTimeout(timer);
    if (failure) throw failure;
    if (code !== 0) throw new Error(`client ${describeExit(proc, stderr())}`);
    return { codec, workloads, skipped, idle };
  } finally {
    if (client) await stopChild(client);
    await stopChild(server.proc);
  }
}

// ---- figures ----------------------------------------------------------------------------------

/** One peer's figures, pooled over its rounds; null where not measured. */
type Figures = ReturnType<typeof figures>;
type FigureKey = keyof Figures;

function figures(runs: readonly PeerRun[]) {
  const pooled = (w: Workload): WorkloadRun[] => runs.flatMap((r) => (r.workloads[w] ? [r.workloads[w]] : []));
  const rate = (w: Workload, perCall: (r: WorkloadRun) => number): number | null => {
    const parts = pooled(w);
    const wall = parts.reduce((s, r) => s + r.wall, 0);
    return parts.length === 0 || wall === 0 ? null : parts.reduce((s, r) => s + perCall(r), 0) / wall;
  };
  const latency = (w: Workload): [number | null, number | null] => {
    const samples = pooled(w).flatMap((r) => (r.samples ? [r.samples] : []));
    if (samples.length === 0) return [null, null];
    const s = summarize(...samples);
    return [s.median, s.p99];
  };
  const [seqMedian, seqP99] = latency("seq");
  const [cbMedian, cbP99] = latency("callback");
  const idle = runs.flatMap((r) => (r.idle && r.idle.count > 0 ? [r.idle] : []));
  const heaps = idle.flatMap((i) => (i.before.heap !== null && i.after.heap !== null ? [(i.after.heap - i.before.heap) / i.count / 1024] : []));
  const wired = pooled("seq").flatMap((r) => (r.wire ? [{ calls: r.calls, ...r.wire }] : []));
  const perCall = (k: "bytes_out" | "bytes_in" | "frames_out" | "frames_in"): number | null =>
    wired.length === 0 ? null : wired.reduce((s, w) => s + w[k], 0) / wired.reduce((s, w) => s + w.calls, 0);
  const others = runs.flatMap((r) => Object.values(r.workloads).flatMap((w) => (w.otherCpu === null ? [] : [w.otherCpu])));
  return {
    seq_median_us: seqMedian,
    seq_p99_us: seqP99,
    seq_calls_per_s: rate("seq", (r) => r.calls),
    inflight_calls_per_s: rate("inflight", (r) => r.calls),
    callback_median_us: cbMedian,
    callback_p99_us: cbP99,
    // Per call, over the measured sequential calls: bytes (frame headers included) and frames the client sent and received.
    seq_bytes_out_per_call: perCall("bytes_out"),
    seq_bytes_in_per_call: perCall("bytes_in"),
    seq_frames_out_per_call: perCall("frames_out"),
    seq_frames_in_per_call: perCall("frames_in"),
    echo1k_mb_per_s: rate("echo1k", (r) => (r.calls * r.bytes) / 1e6),
    echo1m_mb_per_s: rate("echo1m", (r) => (r.calls * r.bytes) / 1e6),
    idle_rss_kb_per_conn: median(idle.map((i) => (i.after.rss - i.before.rss) / i.count / 1024)),
    idle_heap_kb_per_conn: median(heaps),
    // The most CPU other processes used during any measured phase, in cores (disturbance).
    other_cpu_cores_max: others.length === 0 ? null : Math.max(...others),
  };
}

interface Row {
  readonly key: FigureKey;
  readonly label: string;
  readonly unit: string;
  /** The issue's target, for rpyc-ts native. */
  readonly target: string;
  readonly ratio: boolean;
  /** A second figure shown after the first ("sent / received"). */
  readonly pair?: FigureKey;
}

const ROWS: readonly Row[] = [
  { key: "seq_median_us", label: "small call: median", unit: "µs", target: "≤ 1.5× floor", ratio: true },
  { key: "seq_p99_us", label: "small call: p99", unit: "µs", target: "", ratio: true },
  { key: "seq_calls_per_s", label: "small call: calls/s", unit: "", target: "", ratio: true },
  { key: "seq_bytes_out_per_call", pair: "seq_bytes_in_per_call", label: "small call: bytes/call\n  sent / received", unit: "B", target: "", ratio: true },
  { key: "seq_frames_out_per_call", pair: "seq_frames_in_per_call", label: "small call: frames/call\n  sent / received", unit: "", target: "", ratio: false },
  { key: "inflight_calls_per_s", label: "32 in flight: calls/s", unit: "", target: "≥ 100,000/s", ratio: true },
  { key: "callback_median_us", label: "callback: median", unit: "µs", target: "≤ 1.5× floor", ratio: true },
  { key: "callback_p99_us", label: "callback: p99", unit: "µs", target: "", ratio: true },
  { key: "echo1k_mb_per_s", label: "echo 1 KiB", unit: "MB/s", target: "", ratio: true },
  { key: "echo1m_mb_per_s", label: "echo 1 MiB", unit: "MB/s", target: "≥ 0.70× floor", ratio: true },
  // No ratio: the floor's sockets hold almost nothing in RSS (kernel buffers are not RSS), so it is ~0.
  { key: "idle_rss_kb_per_conn", label: "idle conn: server RSS", unit: "KB", target: "≤ 64 KB", ratio: false },
  { key: "idle_heap_kb_per_conn", label: "idle conn: server heap", unit: "KB", target: "", ratio: true },
  { key: "other_cpu_cores_max", label: "other CPU (max)", unit: "cores", target: "", ratio: false },
];

function fmt(value: number, unit: string): string {
  if (unit === "B" || (unit === "" && value < 10)) return value.toFixed(value % 1 === 0 ? 0 : value < 10 ? 2 : 1);
  if (unit === "") return Math.round(value).toLocaleString("en-US");
  if (unit === "cores") return value.toFixed(2);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function printTable(
  options: Options,
  results: ReadonlyMap<string, { figures: Figures; error: string | null; skipped: Partial<Record<Workload, string>> }>,
  header: readonly string[],
): void {
  const peers = options.peers;
  const floor = results.get(FLOOR)?.figures;
  const table = newTable(["", ...peers.map((p) => p.label.replace(" ", "\n")), "target\n(native)"], [0, peers.length + 1]);
  for (const row of ROWS) {
    const cells = peers.map((p) => {
      const result = results.get(p.id);
      if (!result) return "–";
      const value = result.figures[row.key];
      if (value === null) return result.error !== null ? "failed" : row.key.startsWith("callback") && result.skipped.callback ? "n/a" : "–";
      const base = floor?.[row.key] ?? null;
      const ratio = row.ratio && base !== null && base !== 0 ? `\n${(value / base).toFixed(2)}×` : "";
      const second = row.pair === undefined ? null : result.figures[row.pair];
      return `${fmt(value, row.unit)}${second === null ? "" : ` / ${fmt(second, row.unit)}`}${ratio}`;
    });
    table.push([row.unit === "" || row.unit === "B" ? row.label : `${row.label} (${row.unit})`, ...cells, row.target]);
  }
  const errors = peers.flatMap((p) => {
    const e = results.get(p.id)?.error;
    return e ? [`  ${p.label} FAILED: ${e.split("\n")[0]}`] : [];
  });
  const lines = [
    "",
    ...header,
    "",
    table.toString(),
    ...(errors.length > 0 ? ["", ...errors] : []),
    "",
    "Each cell: the figure, and under it the figure ÷ the raw TCP floor's (latency, memory: below 1 is less; calls/s, MB/s: above 1 is more).",
    "  small call = ping() -> 1 (raw floor: a 60-byte request, a 12-byte reply). bytes/call, frames/call = what the client sent /",
    "  received per measured call, frame headers included (rpyc-ts: conn.stats(); Python: its Channel; raw: its socket; the ratio",
    "  is of bytes sent). callback = call_back(x => x + 1): the server calls the client's function, which answers, then the server",
    "  replies: two round trips (raw floor: the same four messages). echo MB/s = payload bytes one way per second, sequential",
    "  (pseudo-random bytes: RPyC compresses frames above 3000 bytes, as it does).",
    "  idle connection = (server RSS, JS heap after GC) with --idle extra connections, one ping each, minus before, ÷ connections.",
    "  other CPU = the machine's busy time minus client, server and this process, during the measured phases: well above ~0.1 cores",
    "  means something else ran and the figures are disturbed (rerun on a quiet machine, or use more --rounds).",
    "",
  ];
  process.stdout.write(lines.join("\n"));
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO_DIR, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

async function main(): Promise<number> {
  const options = parseOptions();
  const needsPython = options.peers.some((p) => p.server.kind === "python" || p.client.kind === "python");
  const py = needsPython ? pythonRuntime(options.python) : null;
  if (needsPython && py === null) throw new Error(`the Python peers need Python RPyC 5.3 at ${options.python} (--python PATH, or --only without py-py,ts-py)`);
  const loadAtStart = loadAverage();
  const workDir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-suite-"));
  cleanup = async () => {
    await stopAllChildren();
    rmSync(workDir, { recursive: true, force: true });
  };

  const started = performance.now();
  const runs = new Map<string, PeerRun[]>(options.peers.map((p) => [p.id, []]));
  const errors = new Map<string, string>();
  process.stderr.write(
    `rpyc-ts bench suite: ${options.peers.length} peers × ${options.rounds} round${options.rounds === 1 ? "" : "s"}, ${options.warmup} s warm-up, ${options.duration} s per row, ${options.idle} idle connections; load average ${loadAtStart}\n`,
  );
  const total = options.peers.length * options.rounds;
  let index = 0;
  for (let round = 1; round <= options.rounds; round++) {
    for (const spec of options.peers) {
      if (interruption.interrupted) return 130;
      index++;
      if (errors.has(spec.id)) continue;
      const name = `[${index}/${total}] ${spec.label}`;
      if (options.waitQuiet > 0) {
        const load = await waitForQuiet(options.waitQuiet);
        if (load !== null && load >= 0.25)
          process.stderr.write(`${name}: others still use ${load.toFixed(2)} cores after ${options.waitQuiet} s; measuring anyway\n`);
      }
      process.stderr.write(`${name} ...`);
      const t0 = performance.now();
      try {
        const run = await runPeer(spec, options, workDir);
        runs.get(spec.id)!.push(run);
        const f = figures([run]);
        const seq = f.seq_median_us === null ? "" : ` seq median ${f.seq_median_us.toFixed(1)} µs,`;
        const other = f.other_cpu_cores_max === null ? "" : ` other CPU ≤ ${f.other_cpu_cores_max.toFixed(2)} cores,`;
        const codec = run.codec === null ? "" : ` codec ${run.codec},`;
        process.stderr.write(`${codec}${seq}${other} ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (err) {
        if (interruption.interrupted) return 130;
        const message = err instanceof Error ? err.message : String(err);
        errors.set(spec.id, message);
        process.stderr.write(` FAILED: ${message}\n`);
      }
    }
  }
  const results = new Map(
    options.peers.map((p) => {
      const peerRuns = runs.get(p.id) ?? [];
      const skipped = Object.assign({}, ...peerRuns.map((r) => r.skipped)) as Partial<Record<Workload, string>>;
      return [p.id, { figures: figures(peerRuns), error: errors.get(p.id) ?? null, skipped }] as const;
    }),
  );
  const codecs = options.peers.flatMap((p) => {
    const agreed = [...new Set((runs.get(p.id) ?? []).flatMap((r) => (r.codec === null ? [] : [r.codec])))];
    return agreed.length === 0 ? [] : [`${p.label}: ${agreed.join("/")}`];
  });
  const header = [
    "rpyc-ts benchmark suite, 127.0.0.1, each peer's client and server in processes of their own, peers one at a time",
    `${machine()} (tsx); ${py ?? "Python not used"}; capnweb ${packageVersion("capnweb")}, @grpc/grpc-js ${packageVersion("@grpc/grpc-js")}`,
    `${options.rounds} round${options.rounds === 1 ? "" : "s"} (peers interleaved, pooled); ${options.warmup} s warm-up, ${options.duration} s per row, ${options.inflight} in flight, ${options.idle} idle connections${options.quick ? " (--quick: rpyc-ts is not fully JIT-warm)" : ""}; took ${((performance.now() - started) / 1000).toFixed(0)} s`,
    ...(codecs.length > 0 ? [`codec agreed (typed calls; callbacks always brine): ${codecs.join("; ")}`] : []),
    `load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${loadAverage()}`,
  ];
  printTable(options, results, header);
  if (options.json !== undefined) {
    const json = {
      header,
      options: { ...options, peers: options.peers.map((p) => p.id) },
      peers: Object.fromEntries(
        options.peers.map((p) => {
          const r = results.get(p.id)!;
          const floor = results.get(FLOOR)?.figures;
          const ratios = Object.fromEntries(
            ROWS.filter((row) => row.key !== "other_cpu_cores_max").map((row) => {
              const v = r.figures[row.key];
              const b = floor?.[row.key] ?? null;
              return [row.key, v !== null && b !== null && b !== 0 ? v / b : null];
            }),
          );
          const peerRuns = runs.get(p.id) ?? [];
          return [
            p.id,
            {
              label: p.label,
              figures: r.figures,
              ratios_to_floor: ratios,
              error: r.error,
              skipped: r.skipped,
              codec: peerRuns.find((run) => run.codec !== null)?.codec ?? null,
              per_round: peerRuns.map((run) => figures([run])),
            },
          ];
        }),
      ),
    };
    writeJson(options.json, json);
  }
  return errors.size > 0 ? 1 : 0;
}

let cleanup: () => Promise<void> = stopAllChildren;
runMain(main, () => cleanup());
