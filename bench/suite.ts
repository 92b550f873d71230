// The benchmark suite (`npm run bench`): rpyc-ts against its neighbours (raw TCP floor, rpyc-ts
// native and brine over TCP and over WebSocket, Python RPyC, capnweb, grpc-js), every figure next
// to the raw floor's, in one table. One server and one client process per peer, peers one at a
// time, rounds interleaving them; 127.0.0.1 only. Peers, rows and options: bench/README.md and --help.

import { mkdtempSync, readFileSync } from "node:fs";
import path from "node:path";
import * as h from "./harness.js";
import { WORKLOADS, type SuiteEvent, type Workload } from "./suite/events.js";

// ---- peers ----------------------------------------------------------------------------------

/** A process of a peer: one of bench/suite/node_{server,client}.ts's peers, or the Python one. */
type Side = "raw" | "rpyc" | "rpyc-ws" | "capnweb" | "grpc" | "python";

/** A peer: its server's and its client's process; brine: rpyc-ts processes never use the native codec. */
type PeerSpec = { readonly id: string; readonly label: string; readonly server: Side; readonly client: Side; readonly brine?: true };

const PEERS: readonly PeerSpec[] = [
  { id: "raw", label: "raw TCP floor", server: "raw", client: "raw" },
  { id: "native", label: "rpyc-ts native", server: "rpyc", client: "rpyc" },
  { id: "brine", label: "rpyc-ts brine", server: "rpyc", client: "rpyc", brine: true },
  { id: "py-py", label: "Python RPyC Py↔Py", server: "python", client: "python" },
  { id: "ts-py", label: "rpyc-ts → Py server", server: "python", client: "rpyc" },
  { id: "ws", label: "rpyc-ts (ws)", server: "rpyc-ws", client: "rpyc-ws" },
  { id: "ws-brine", label: "rpyc-ts (ws) brine", server: "rpyc-ws", client: "rpyc-ws", brine: true },
  { id: "capnweb", label: "capnweb (ws)", server: "capnweb", client: "capnweb" },
  { id: "grpc", label: "grpc-js unary", server: "grpc", client: "grpc" },
];
const PEER_IDS = PEERS.map((p) => p.id);
const FLOOR = "raw";

// ---- options --------------------------------------------------------------------------------

type Options = ReturnType<typeof parseOptions>;

function parseOptions() {
  const usage = "Benchmark suite: rpyc-ts, Python RPyC 5.3, capnweb, grpc-js and the raw TCP floor (bench/README.md).\n\nUsage: npm run bench [-- options]";
  const { values } = h.cli(usage, {
    quick: { type: "boolean", default: false, help: "1 round, 1 s warm-up, 0.5 s per row, 200 idle connections: about 1 minute" },
    rounds: { type: "string", arg: "R", help: "rounds, peers interleaved, results pooled (default 2; --quick 1)" },
    warmup: { type: "string", arg: "S", help: "warm-up s of the small call (default 2); other rows min(S, 0.5) s, in flight min(S, 1) s" },
    duration: { type: "string", arg: "S", help: "measured seconds per row (default 1.5; --quick 0.5)" },
    idle: { type: "string", arg: "N", help: "idle connections for the memory rows (default 500; --quick 200; 0: skip)" },
    inflight: { type: "string", arg: "N", help: "calls in flight for the concurrent row (default 32)" },
    only: { type: "string", arg: "LIST", help: `peers, any of ${PEER_IDS.join(",")}\n(the floor "${FLOOR}" always runs: every ratio needs it)` },
    workloads: { type: "string", arg: "LIST", help: `rows to run, any of mem,${WORKLOADS.join(",")} (default all)` },
    python: { type: "string", arg: "PATH", default: "/usr/bin/python3", help: "Python with RPyC 5.3 (default /usr/bin/python3)" },
    "wait-quiet": { type: "string", arg: "S", help: "before each peer, wait up to S s for other processes to use < 1/4 core (default 0: off)" },
    json: { type: "string", arg: "FILE", help: "also write every figure as JSON (for comparison over time)" },
  });
  const quick = values.quick;
  const only: string[] = h.listOf("--only", values.only, PEER_IDS);
  const workloads: string[] = h.listOf("--workloads", values.workloads, ["mem", ...WORKLOADS]);
  return {
    quick,
    rounds: h.num("--rounds", values.rounds, quick ? 1 : 2, 1, true),
    warmup: h.num("--warmup", values.warmup, quick ? 1 : 2, 0),
    duration: h.num("--duration", values.duration, quick ? 0.5 : 1.5, 0.05),
    idle: h.num("--idle", values.idle, quick ? 200 : 500, 0, true),
    inflight: h.num("--inflight", values.inflight, 32, 1, true),
    peers: PEERS.filter((p) => only.length === 0 || p.id === FLOOR || only.includes(p.id)),
    workloads,
    python: values.python,
    json: values.json,
    waitQuiet: h.num("--wait-quiet", values["wait-quiet"], 0, 0),
  };
}

// ---- one run of one peer ----------------------------------------------------------------------

function command(spec: PeerSpec, role: "server" | "client", options: Options, args: readonly string[] = []): h.Command {
  const side = spec[role];
  if (side === "python") return [options.python, ["-u", path.join(h.BENCH_DIR, "suite", `python_${role}.py`), ...args, "--watch-stdin"]];
  const peer = h.flags({ peer: side, codec: spec.brine ? "brine" : "auto" });
  return h.nodeScript(`suite/node_${role}.ts`, [...peer, ...args], role === "server" ? ["--expose-gc"] : []);
}

type Memory = { readonly rss: number; readonly heap: number | null };
/** A row's run; otherCpu: what other processes (not client, server or this one) used during the phase, in cores. */
type WorkloadRun = {
  calls: number;
  wall: number;
  bytes: number;
  samples: Float64Array | null;
  wire: (SuiteEvent & { event: "result" })["wire"];
  otherCpu: number | null;
};
/** One run of a peer; codec: what both rpyc-ts ends agreed on. */
type PeerRun = {
  codec: string | null;
  readonly workloads: Partial<Record<Workload, WorkloadRun>>;
  readonly skipped: Partial<Record<Workload, string>>;
  idle: { readonly count: number; readonly before: Memory; readonly after: Memory } | null;
};

async function runPeer(spec: PeerSpec, options: Options, workDir: string): Promise<PeerRun> {
  // The server answers a "mem" line on its stdin with a MEM line: its memory after a full GC.
  const waiting: ((m: Memory) => void)[] = [];
  const server = await h.startServer(command(spec, "server", options), (line) => {
    if (line.startsWith("MEM ")) waiting.shift()?.(JSON.parse(line.slice(4)) as Memory);
  });
  const memory = (): Promise<Memory> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("server did not report its memory within 30 s")), 30_000);
      waiting.push((m) => (clearTimeout(timer), resolve(m)));
      server.proc.stdin.write("mem\n");
    });
  const run: PeerRun = { codec: null, workloads: {}, skipped: {}, idle: null };
  let before: Memory | undefined;
  let others: () => number | null = () => null;
  let failure: Error | undefined;
  const fail = (err: unknown): void => {
    failure ??= err instanceof Error ? err : new Error(String(err));
    void h.stopChild(client.proc);
  };
  const samplesDir = mkdtempSync(path.join(workDir, `${spec.id}-`));
  const { warmup, duration, inflight, idle } = options;
  const args = h.flags({ port: server.port, warmup, duration, inflight, idle, "samples-dir": samplesDir, only: options.workloads.join(",") || undefined });
  const client = h.startJsonChild<SuiteEvent>(command(spec, "client", options, args), (event) => {
    switch (event.event) {
      case "info":
        run.codec = event.codec;
        break;
      case "mem":
        memory().then((m) => {
          if (event.stage === "before") before = m;
          else if (before !== undefined) run.idle = { count: event.count, before, after: m };
          client.proc.stdin.write("ok\n");
        }, fail);
        break;
      case "begin":
        others = h.otherCpu([client.proc.pid, server.proc.pid]);
        break;
      case "result": {
        const samples = event.samples_out === undefined ? null : h.readSamples(event.samples_out);
        run.workloads[event.workload] = { calls: event.calls, wall: event.wall_seconds, bytes: event.bytes, samples, wire: event.wire, otherCpu: others() };
        break;
      }
      case "skip":
        run.skipped[event.workload] = event.reason;
        break;
    }
  });
  try {
    const timer = setTimeout(() => fail(new Error("client still running after 300 s")), 300_000);
    const code = await client.done;
    clearTimeout(timer);
    if (failure) throw failure;
    if (code !== 0) throw new Error(`client ${client.describe()}`);
    return run;
  } finally {
    await h.stopChild(client.proc);
    await h.stopChild(server.proc);
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
    const s = h.summarize(...samples);
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
    idle_rss_kb_per_conn: h.median(idle.map((i) => (i.after.rss - i.before.rss) / i.count / 1024)),
    idle_heap_kb_per_conn: h.median(heaps),
    // The most CPU other processes used during any measured phase, in cores (disturbance).
    other_cpu_cores_max: others.length === 0 ? null : Math.max(...others),
  };
}

/** A row of the table; target: the issue's, for rpyc-ts native; pair: a second figure shown after the first ("sent / received"). */
type Row = {
  readonly key: FigureKey;
  readonly label: string;
  readonly unit: string;
  readonly target: string;
  readonly ratio: boolean;
  readonly pair?: FigureKey;
};

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
  return value.toFixed(Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
}

type Results = ReadonlyMap<string, { readonly figures: Figures; readonly error: string | null; readonly skipped: Partial<Record<Workload, string>> }>;

/** A figure ÷ the raw floor's; null where either is missing. */
function ratio(results: Results, figures: Figures, key: FigureKey): number | null {
  const [value, base] = [figures[key], results.get(FLOOR)?.figures[key] ?? null];
  return value !== null && base !== null && base !== 0 ? value / base : null;
}

function printTable(options: Options, results: Results, header: readonly string[]): void {
  const peers = options.peers;
  const table = h.newTable(["", ...peers.map((p) => p.label.replace(" ", "\n")), "target\n(native)"], [0, peers.length + 1]);
  for (const row of ROWS) {
    const cells = peers.map((p) => {
      const result = results.get(p.id);
      if (!result) return "–";
      const value = result.figures[row.key];
      if (value === null) return result.error !== null ? "failed" : row.key.startsWith("callback") && result.skipped.callback ? "n/a" : "–";
      const r = row.ratio ? ratio(results, result.figures, row.key) : null;
      const second = row.pair === undefined ? null : result.figures[row.pair];
      return `${fmt(value, row.unit)}${second === null ? "" : ` / ${fmt(second, row.unit)}`}${r === null ? "" : `\n${r.toFixed(2)}×`}`;
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

const packageVersion = (name: string): string =>
  h.attempt(() => (JSON.parse(readFileSync(path.join(h.REPO_DIR, "node_modules", name, "package.json"), "utf8")) as { version: string }).version, "?");

async function main(): Promise<number> {
  const options = parseOptions();
  const needsPython = options.peers.some((p) => p.server === "python" || p.client === "python");
  const py = needsPython ? h.pythonRuntime(options.python) : null;
  if (needsPython && py === null) throw new Error(`the Python peers need Python RPyC 5.3 at ${options.python} (--python PATH, or --only without py-py,ts-py)`);
  const loadAtStart = h.loadAverage();
  const workDir = h.tempDir("rpyc-ts-suite-");
  const started = performance.now();
  const runs = new Map<string, PeerRun[]>(options.peers.map((p) => [p.id, []]));
  const errors = new Map<string, string>();
  const rounds = h.plural(options.rounds, "round");
  const setup = `${options.warmup} s warm-up, ${options.duration} s per row`;
  process.stderr.write(
    `rpyc-ts bench suite: ${options.peers.length} peers × ${rounds}, ${setup}, ${options.idle} idle connections; load average ${loadAtStart}\n`,
  );
  const total = options.peers.length * options.rounds;
  let index = 0;
  for (let round = 1; round <= options.rounds; round++) {
    for (const spec of options.peers) {
      if (h.interruption.interrupted) return 130;
      index++;
      if (errors.has(spec.id)) continue;
      const name = `[${index}/${total}] ${spec.label}`;
      await h.waitForQuiet(options.waitQuiet, name);
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
        if (h.interruption.interrupted) return 130;
        const message = err instanceof Error ? err.message : String(err);
        errors.set(spec.id, message);
        process.stderr.write(` FAILED: ${message}\n`);
      }
    }
  }
  const results: Results = new Map(
    options.peers.map((p) => {
      const peerRuns = runs.get(p.id) ?? [];
      const skipped = Object.assign({}, ...peerRuns.map((r) => r.skipped)) as Partial<Record<Workload, string>>;
      return [p.id, { figures: figures(peerRuns), error: errors.get(p.id) ?? null, skipped }] as const;
    }),
  );
  const agreed = (p: PeerSpec): string[] => [...new Set((runs.get(p.id) ?? []).flatMap((r) => (r.codec === null ? [] : [r.codec])))];
  const codecs = options.peers.flatMap((p) => (agreed(p).length === 0 ? [] : [`${p.label}: ${agreed(p).join("/")}`]));
  const took = `took ${((performance.now() - started) / 1000).toFixed(0)} s`;
  const header = [
    "rpyc-ts benchmark suite, 127.0.0.1, each peer's client and server in processes of their own, peers one at a time",
    `${h.machine()} (tsx); ${py ?? "Python not used"}; capnweb ${packageVersion("capnweb")}, ws ${packageVersion("ws")}, @grpc/grpc-js ${packageVersion("@grpc/grpc-js")}`,
    `${rounds} (peers interleaved, pooled); ${setup}, ${options.inflight} in flight, ${options.idle} idle connections${options.quick ? " (--quick: rpyc-ts is not fully JIT-warm)" : ""}; ${took}`,
    ...(codecs.length > 0 ? [`codec agreed (typed calls; callbacks always brine): ${codecs.join("; ")}`] : []),
    `load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${h.loadAverage()}`,
  ];
  printTable(options, results, header);
  const peers = options.peers.map((p) => {
    const { figures: f, error, skipped } = results.get(p.id)!;
    const ratios = Object.fromEntries(ROWS.filter((row) => row.key !== "other_cpu_cores_max").map((row) => [row.key, ratio(results, f, row.key)]));
    const peerRuns = runs.get(p.id) ?? [];
    const codec = peerRuns.find((run) => run.codec !== null)?.codec ?? null;
    return [p.id, { label: p.label, figures: f, ratios_to_floor: ratios, error, skipped, codec, per_round: peerRuns.map((run) => figures([run])) }];
  });
  h.writeJson(options.json, { header, options: { ...options, peers: options.peers.map((p) => p.id) }, peers: Object.fromEntries(peers) });
  return errors.size > 0 ? 1 : 0;
}

h.runMain(main);
