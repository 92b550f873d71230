// The load benchmark (`npm run bench:load`): calls/s and latency of one rpyc-ts ThreadedServer
// under 1, 10, 100 and 500 connections making sequential calls, from --client-procs client
// processes started together; fresh processes per level, 127.0.0.1 only. See bench/README.md and
// --help. This file is also those processes, as the bench starts them:
//
//   node --import tsx bench/load.ts --role server      # prints PORT n, then {"event":"server",...} every 250 ms
//   node --import tsx bench/load.ts --role client --port N --connections 100 --duration 3 --now
//
// The server's lines (its connections, the calls it answered) let the bench check that every call a
// client counted was served once. A client says {"event":"ready"} once connected and starts on a "go"
// line (--now: at once). Both leave when stdin reaches EOF (the bench is gone).

import path from "node:path";
import { performance } from "node:perf_hooks";
import { connect, Service, ThreadedServer, type Connection } from "../runtime/index.js";
import * as h from "./harness.js";

type Options = ReturnType<typeof parseOptions>;

function parseOptions() {
  const { values } = h.cli("Load benchmark of an rpyc-ts ThreadedServer (see bench/README.md).\n\nUsage: npm run bench:load [-- options]", {
    quick: { type: "boolean", default: false, help: "a smoke run (0.5 s warm-up + 1 s measured per level)" },
    levels: { type: "string", default: "1,10,100,500", arg: "LIST", help: "concurrent connections per level (default 1,10,100,500)" },
    warmup: { type: "string", arg: "S", help: "warm-up seconds per level (default 2)" },
    duration: { type: "string", arg: "S", help: "measured seconds per level (default 5)" },
    "client-procs": { type: "string", arg: "K", help: "client processes sharing the connections (default 1; at most one per connection)" },
    json: { type: "string", arg: "FILE", help: "also write the results as JSON" },
    plain: { type: "boolean", default: false, help: "no progress bar, one line per level (automatic when stderr is no TTY)" },
    role: { type: "string", arg: "R", help: "server or client: one of the processes the bench starts (see bench/load.ts)" },
    port: { type: "string", arg: "N", help: "--role client: the server's port" },
    connections: { type: "string", arg: "C", help: "--role client: its connections (default 1)" },
    "samples-out": { type: "string", arg: "FILE", help: "--role client: where its latencies go (µs, float64 little-endian)" },
    now: { type: "boolean", default: false, help: '--role client: start at once, not on a "go" line' },
  });
  const quick = values.quick;
  const levels = h.list(values.levels).map((raw) => h.num("--levels", raw, NaN, 1, true));
  if (levels.length === 0) throw new RangeError("--levels lists no level");
  return {
    values,
    quick,
    levels,
    warmup: h.num("--warmup", values.warmup, quick ? 0.5 : 2, 0),
    duration: h.num("--duration", values.duration, quick ? 1 : 5, 0.1),
    clientProcs: h.num("--client-procs", values["client-procs"], 1, 1, true),
    json: values.json,
    plain: values.plain || !process.stderr.isTTY,
  };
}

// ---- one level ------------------------------------------------------------------------------

type LevelResult = Awaited<ReturnType<typeof runLevel>>;
type ClientResult = { measured: number; total: number; errors: number; firstError: string | null; windowSeconds: number };

async function waitFor(condition: () => boolean, timeoutMs: number, what: string, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    const failure = failed();
    if (failure !== undefined) throw new Error(failure);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await h.sleep(20);
  }
}

type Phase = "connecting" | "warm-up" | "measured" | "closing";

/** One level: its own server and client processes; `progress` gets the phase, the calls so far and the seconds since "go". */
async function runLevel(connections: number, options: Options, workDir: string, progress: (phase: Phase, calls: number, seconds: number) => void) {
  let serverState = { connections: 0, served: 0 };
  const server = await h.startServer(h.nodeScript("load.ts", ["--role", "server"]), (line) => {
    const event = h.parseJsonLine(line);
    if (event?.event === "server") serverState = { connections: Number(event.connections), served: Number(event.served) };
  });
  const count = Math.min(options.clientProcs, connections);
  const clients = Array.from({ length: count }, (_, i) => {
    // Connections split as evenly as possible.
    const share = Math.floor(connections / count) + (i < connections % count ? 1 : 0);
    const samplesOut = path.join(workDir, `level${connections}-client${i}.f64`);
    const args = h.flags({ port: server.port, connections: share, warmup: options.warmup, duration: options.duration, "samples-out": samplesOut });
    const client = { samplesOut, ready: false, calls: 0, result: undefined as ClientResult | undefined };
    const child = h.startJsonChild(h.nodeScript("load.ts", ["--role", "client", ...args]), (event) => {
      if (event.event === "ready") client.ready = true;
      else if (event.event === "progress") client.calls = Number(event.calls);
      else if (event.event === "result") client.result = event as unknown as ClientResult;
    });
    return Object.assign(client, child);
  });
  try {
    const failure = (): string | undefined => {
      if (!h.isRunning(server.proc)) return `the server died, ${server.describe()}`;
      const dead = clients.find((c) => !h.isRunning(c.proc) && !c.result);
      return dead ? `a client died, ${dead.describe()}` : undefined;
    };
    const calls = (): number => clients.reduce((n, c) => n + c.calls, 0);
    progress("connecting", 0, 0);
    await waitFor(() => clients.every((c) => c.ready), 60_000, `${connections} connections`, failure);

    // All clients start together; CPU is sampled at the edges of the measured window.
    const go = Date.now();
    for (const c of clients) c.proc.stdin.write("go\n");
    const seconds = (): number => (Date.now() - go) / 1000;
    const ticker = setInterval(() => progress(seconds() < options.warmup ? "warm-up" : "measured", calls(), seconds()), 100);
    const snapshot = (): (number | undefined)[] => [server.proc, ...clients.map((c) => c.proc)].map((p) => h.cpuSeconds(p.pid)).concat(h.machineBusySeconds());
    try {
      await h.sleep(options.warmup * 1000);
      const before = snapshot();
      await h.sleep(options.duration * 1000);
      const after = snapshot();
      clearInterval(ticker);
      progress("closing", calls(), options.warmup + options.duration);
      await waitFor(() => clients.every((c) => c.result !== undefined), 60_000, "the clients' results", failure);
      await Promise.all(clients.map((c) => c.done));

      const results = clients.map((c) => c.result!);
      const total = (key: "measured" | "total" | "errors"): number => results.reduce((n, r) => n + r[key], 0);
      const errors = total("errors");
      if (errors > 0) throw new Error(`${errors} calls failed or were answered wrongly; first: ${results.find((r) => r.firstError)?.firstError}`);
      // Every call a client counted was served exactly once, and every connection is gone.
      const served = total("total");
      const what = `the server to report 0 connections and ${served} calls served (it reports ${serverState.connections} and ${serverState.served})`;
      await waitFor(() => serverState.connections === 0 && serverState.served === served, 10_000, what, failure);

      const latencyUs = h.summarize(...clients.map((c) => h.readSamples(c.samplesOut)));
      const measured = total("measured");
      if (latencyUs.count !== measured) throw new Error(`${latencyUs.count} samples for ${measured} measured calls`);
      const seconds = options.duration;
      const delta = after.map((b, i) => (b === undefined || before[i] === undefined ? undefined : b - before[i]));
      const [serverCpu, machine, clientCpus] = [delta[0], delta.at(-1), delta.slice(1, -1)];
      const clientCpu = clientCpus.some((v) => v === undefined) ? undefined : (clientCpus as number[]).reduce((a, b) => a + b, 0);
      const others = serverCpu === undefined || clientCpu === undefined || machine === undefined ? undefined : Math.max(0, machine - serverCpu - clientCpu);
      const cores = (cpu: number | undefined): number | null => (cpu === undefined ? null : cpu / seconds);
      return {
        connections,
        clientProcs: clients.length,
        calls: measured,
        seconds,
        callsPerSecond: measured / seconds,
        latencyUs,
        // CPU in cores (1.00 = one core busy) during the measured window: the server, all clients together, and the rest of
        // the machine (this bench, the kernel's other work, other programs).
        serverCores: cores(serverCpu),
        clientCores: cores(clientCpu),
        otherCores: cores(others),
      };
    } finally {
      clearInterval(ticker);
    }
  } finally {
    await Promise.all(clients.map((c) => h.stopChild(c.proc)));
    await h.stopChild(server.proc);
  }
}

// ---- main -------------------------------------------------------------------------------------

function printTable(results: readonly LevelResult[], failures: readonly string[], header: readonly string[]): void {
  const head = ["connections", "client procs", "calls measured", "calls/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "server CPU", "clients CPU", "other CPU"];
  const table = h.newTable(head);
  for (const r of results) {
    const { median, p99, p999, max } = r.latencyUs;
    const [cpu, latency] = [[r.serverCores, r.clientCores, r.otherCores].map((v) => h.fix(v, 2)), [median, p99, p999, max].map(h.fmtUs)];
    table.push([h.fmtInt(r.connections), String(r.clientProcs), ...[r.calls, r.callsPerSecond].map(h.fmtInt), ...latency, ...cpu]);
  }
  const out = [
    "",
    "rpyc-ts load benchmark: N connections, each making sequential `await conn.root.next(n)` calls (one in flight per connection)",
    ...header,
    "",
    table.toString(),
    ...failures.map((f) => `FAILED: ${f}`),
    "",
    "Reading it: calls/s = calls completed in the measured window (all connections) ÷ its length; p50/p99 = latency of one",
    "  call as its connection sees it (send to answer, queueing in both processes included). With N connections in flight,",
    "  latency ≈ N ÷ calls/s. server / clients / other CPU = CPU time over the measured window in cores (1.00 = one core",
    "  busy all the time): the server is one event loop, so it cannot use more than about 1.00 (plus GC threads); when it",
    '  is near that, the server is the bottleneck. "other" is the rest of the machine (this bench, kernel work, other',
    "  programs); well above 0.1 means the run was disturbed.",
    "",
  ];
  process.stdout.write(out.join("\n"));
}

async function main(options: Options): Promise<number> {
  const header = [
    `${h.machine()} (rpyc-ts via tsx); 127.0.0.1`,
    `setup: per level, fresh processes: 1 server process (ThreadedServer, one event loop) and ${h.plural(options.clientProcs, "client process", "es")}`,
    `  (fewer when there are fewer connections) sharing the connections evenly; all processes share the machine's cores.`,
    `  ${options.warmup} s warm-up, then ${options.duration} s measured, all clients started together; every answer checked (n + 1),`,
    `  and the server's count of calls served must equal the clients' count of calls made.${options.quick ? " (--quick: a smoke run)" : ""}`,
  ];
  const workDir = h.tempDir("rpyc-ts-load-");
  const loadAtStart = h.loadAverage();
  const results: LevelResult[] = [];
  const failures: string[] = [];
  process.stderr.write(`rpyc-ts load bench: levels ${options.levels.join(", ")} connections, ${options.warmup} s warm-up + ${options.duration} s each\n`);
  for (const [index, connections] of options.levels.entries()) {
    if (h.interruption.interrupted) return 130;
    const name = `[${index + 1}/${options.levels.length}] ${h.plural(connections, "connection")}`;
    const span = options.warmup + options.duration;
    const bar = h.progress(options.plain, `${name.padEnd(24)} {bar} {percentage}% | {phase} | {calls} calls`, span, { phase: "starting  ", calls: 0 });
    if (options.plain) bar.log(`${name} ...`);
    const progress = (phase: Phase, calls: number, seconds: number): void =>
      bar.update(Math.min(span, seconds), { phase: phase.padEnd(10), calls: calls.toLocaleString("en-US") });
    try {
      const result = await runLevel(connections, options, workDir, progress);
      results.push(result);
      bar.stop();
      const { median, p99 } = result.latencyUs;
      bar.log(`${name.padEnd(24)} ${h.fmtInt(result.callsPerSecond)} calls/s, p50 ${h.fmtUs(median)} µs, p99 ${h.fmtUs(p99)} µs`);
    } catch (err) {
      bar.stop();
      if (h.interruption.interrupted) return 130;
      const message = err instanceof Error ? err.message : String(err);
      failures.push(`${connections} connections: ${message}`);
      bar.log(`${name} FAILED: ${message}`);
    }
  }
  header.push(`load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${h.loadAverage()}`);
  printTable(results, failures, header);
  h.writeJson(options.json, { header, options: { ...options, values: undefined }, results, failures });
  return failures.length > 0 ? 1 : 0;
}

// ---- the server and client processes --------------------------------------------------------

let served = 0;

class LoadBenchService extends Service {
  /** The benchmarked call: one request, one reply; the answer depends on the argument. */
  exposed_next(n: number): number {
    served++;
    return n + 1;
  }
}

async function serve(): Promise<void> {
  const server = new ThreadedServer(LoadBenchService, { hostname: "127.0.0.1", port: 0, backlog: 1024 });
  await server.start();
  h.announce(server);
  setInterval(() => h.emitJson({ event: "server", connections: server.connections.size, served }), 250).unref();
}

async function drive({ values }: Options): Promise<void> {
  const port = h.num("--port", values.port, NaN, 1, true);
  const connections = h.num("--connections", values.connections, 1, 1, true);
  const warmupMs = h.num("--warmup", values.warmup, 2, 0) * 1000;
  const durationMs = h.num("--duration", values.duration, 5, 0.01) * 1000;
  const batch = 50; // connections opened at once

  const conns: Connection<LoadBenchService>[] = [];
  for (let i = 0; i < connections; i += batch) {
    const opening = Array.from({ length: Math.min(batch, connections - i) }, () => connect<LoadBenchService>("127.0.0.1", port));
    conns.push(...(await Promise.all(opening)));
  }
  await Promise.all(conns.map((conn) => conn.getRoot()));
  h.emitJson({ event: "ready", connections: conns.length });

  let total = 0;
  let errors = 0;
  let firstError: string | undefined;
  const samples: number[] = [];

  async function callLoop(conn: Connection<LoadBenchService>, windowStart: number, windowEnd: number): Promise<void> {
    const root = conn.root;
    for (let n = 0; ; n++) {
      const start = performance.now();
      if (start >= windowEnd) return;
      const answer: unknown = await root.next(n).catch((err: unknown) => err);
      const end = performance.now();
      total++;
      if (answer !== n + 1) {
        errors++;
        firstError ??= answer instanceof Error ? answer.message : `next(${n}) answered ${String(answer)}`;
      } else if (end >= windowStart && end < windowEnd) {
        samples.push((end - start) * 1000);
      }
    }
  }

  async function run(): Promise<void> {
    const go = performance.now();
    const [windowStart, windowEnd] = [go + warmupMs, go + warmupMs + durationMs];
    const ticker = setInterval(() => h.emitJson({ event: "progress", calls: total, elapsed: (performance.now() - go) / 1000 }), 200);
    await Promise.all(conns.map((conn) => callLoop(conn, windowStart, windowEnd)));
    clearInterval(ticker);
    if (values["samples-out"]) h.writeSamples(values["samples-out"], Float64Array.from(samples));
    await Promise.all(conns.map((conn) => conn.close()));
    h.emitJson({ event: "result", measured: samples.length, total, errors, firstError: firstError ?? null, windowSeconds: durationMs / 1000 });
    process.exit(0);
  }

  const start = (): void =>
    void run().catch((err: unknown) => {
      process.stderr.write(`load client failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
  if (values.now) start();
  // "go" on stdin starts the calls; stdin's EOF (--watch-stdin) means the bench is gone.
  h.exitWithParent(
    async () => {},
    (line) => {
      if (line.trim() === "go" && !values.now) start();
    },
  );
}

const options = parseOptions();
if (options.values.role === "server") await serve();
else if (options.values.role === "client") await drive(options);
else h.runMain(() => main(options));
