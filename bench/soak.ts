// The leak soak (`npm run bench:soak`; bench/README.md says what it does and checks): this file is
// the bench and, started by it with --expose-gc, its server process (`--role server`) and its client
// process (`--role client`). Checkpoints with both object tables back at their start and settled
// heaps; fails on a failed call, a table that does not return, or heap growth over --max-growth MB.
//
//   node --expose-gc --import tsx bench/soak.ts --role server                      # prints PORT n
//   node --expose-gc --import tsx bench/soak.ts --role client --port N --calls 100000  # JSON lines

import { performance } from "node:perf_hooks";
import { connect, Service, ThreadedServer, type Connection } from "../runtime/index.js";
import * as h from "./harness.js";

const usage = "Leak soak of rpyc-ts: netrefs created and dropped in both directions (see bench/README.md).\n\nUsage: npm run bench:soak [-- options]";
const { values } = h.cli(usage, {
  calls: { type: "string", arg: "N", help: "soak calls (default 1000000)" },
  interval: { type: "string", arg: "N", help: "calls between checkpoints (default calls / 20)" },
  connections: { type: "string", arg: "C", help: "client connections (default 2)" },
  inflight: { type: "string", arg: "K", help: "calls in flight on each connection (default 8)" },
  "max-growth": { type: "string", arg: "MB", help: "fail if heapUsed (after GC) grows by over MB over the second half, either side (default 1)" },
  json: { type: "string", arg: "FILE", help: "also write every checkpoint as JSON" },
  plain: { type: "boolean", default: false, help: "no progress bar (automatic when stderr is no TTY)" },
  role: { type: "string", arg: "R", help: "server or client: run one of the soak's processes (the bench starts them)" },
  port: { type: "string", arg: "N", help: "the server's port (--role client)" },
});
const calls = h.num("--calls", values.calls, 1_000_000, 1, true);
const options = {
  calls,
  interval: h.num("--interval", values.interval, Math.max(1, Math.ceil(calls / 20)), 1, true),
  connections: h.num("--connections", values.connections, 2, 1, true),
  inflight: h.num("--inflight", values.inflight, 8, 1, true),
  maxGrowth: h.num("--max-growth", values["max-growth"], 1, 0),
  json: values.json,
  plain: values.plain || !process.stderr.isTTY,
};

// ---- what both sides read: their object tables and memory -----------------------------------------

/**
 * One side's tables, summed over its connections, and its memory. localObjects: entries in its object table (its objects the
 * peer holds netrefs to); netrefs: its live netrefs to the peer's objects, roots included.
 */
type SideReport = { localObjects: number; netrefs: number; heapUsed: number; rss: number };

/** This side's report now: the tables of `conns` summed, and the process's memory (no collection). */
function sideReport(conns: Iterable<Pick<Connection, "stats">>): SideReport {
  const stats = [...conns].map((conn) => conn.stats());
  const { heapUsed, rss } = process.memoryUsage();
  return { localObjects: stats.reduce((n, s) => n + s.localObjects, 0), netrefs: stats.reduce((n, s) => n + s.remoteNetrefs, 0), heapUsed, rss };
}

/**
 * A full collection, then a turn of the event loop so FinalizationRegistry callbacks run
 * (they send HANDLE_DEL for collected netrefs), then another collection for what those
 * released.
 */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("the soak needs node --expose-gc");
  for (let i = 0; i < 2; i++) {
    gc();
    await h.sleep(1);
  }
}

/**
 * heapUsed and RSS once the heap is settled: one forced collection can leave megabytes of
 * dead young objects counted (V8 finishes them in the next one), so collect until two
 * readings agree within 64 KiB (at most 6 times).
 */
async function settledMemory(): Promise<{ heapUsed: number; rss: number }> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    await collectGarbage();
    const heapUsed = process.memoryUsage().heapUsed;
    if (Math.abs(heapUsed - last) < 65536) break;
    last = heapUsed;
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

// ---- the server process ----------------------------------------------------------------------------

/** A fresh object per call, sent by reference (it has exposed members). */
class Item {
  constructor(
    readonly exposed_n: number,
    readonly exposed_got: number,
  ) {}
}

const kept = new Item(-1, -1);
let server: ThreadedServer | undefined;

class SoakService extends Service {
  /** Calls the client's callback with n, returns (what it answered, a fresh Item) by reference. */
  async exposed_make(n: number, cb: (n: number) => Promise<number>): Promise<[number, Item]> {
    const got = await cb(n);
    return [got, new Item(n, got)];
  }

  /** The same long-lived object every time: its refcount races with the client's DELs. */
  async exposed_shared(cb: (n: number) => Promise<number>): Promise<Item> {
    await cb(0);
    return kept;
  }

  /**
   * This process's tables (over all connections) and memory, as a tuple (by value; an object would go by reference):
   * "sizes" without collecting (what the garbage collector left by itself); "collect" after collecting garbage here
   * (netrefs to client callbacks: their DELs go out before this reply); "memory" the same, on a settled heap.
   */
  async exposed_report(how: "sizes" | "collect" | "memory"): Promise<[localObjects: number, netrefs: number, heapUsed: number, rss: number]> {
    if (how !== "sizes") await collectGarbage();
    const { localObjects, netrefs, heapUsed, rss } = { ...sideReport(server!.connections), ...(how === "memory" ? await settledMemory() : {}) };
    return [localObjects, netrefs, heapUsed, rss];
  }
}

async function serve(): Promise<void> {
  server = new ThreadedServer(SoakService, { hostname: "127.0.0.1", port: 0 });
  await server.start();
  h.announce(server);
}

// ---- the client process ----------------------------------------------------------------------------

/** After a collection (settle, below): both sides' reports; live*: table sizes when the checkpoint began, before any forced collection. */
type Checkpoint = Settled & { calls: number; elapsed: number; callSeconds: number; liveClient: SideReport; liveServer: SideReport; errors: number };
type Settled = { client: SideReport; server: SideReport; rounds: number; settleMs: number; atBaseline: boolean };
type Baseline = Settled & { warmupCalls: number };
type Result = Awaited<ReturnType<typeof drive>>;

/**
 * The client: every --interval calls it pauses the load, collects garbage on both sides until both object
 * tables are back at their starting size (bounded), then prints a checkpoint (JSON line). Ends with a result line.
 */
async function drive() {
  const port = h.num("--port", values.port, NaN, 1, true);
  const { calls: totalCalls, interval, connections, inflight } = options;
  h.exitWithParent(async () => {});
  // Untimed calls before the baseline; the long-lived object every 16th call; item.n read every 64th; a checkpoint's collection bound.
  const [warmupCalls, sharedEvery, checkEvery, maxSettleMs] = [5000, 16, 64, 10_000];
  const conns: Connection<SoakService>[] = [];
  for (let i = 0; i < connections; i++) conns.push(await connect<SoakService>("127.0.0.1", port));
  await Promise.all(conns.map((conn) => conn.getRoot()));

  const count = { completed: 0, errors: 0, callbacksRun: 0, attributeChecks: 0 };
  let firstError: string | undefined;
  const fail = (message: string): void => {
    count.errors++;
    firstError ??= message;
  };

  /** One soak call: a fresh callback out, a fresh netref (or the shared one) back, both dropped. */
  async function soakCall(conn: Connection<SoakService>, n: number): Promise<void> {
    const callback = (got: number): number => {
      count.callbacksRun++;
      if (got !== n && got !== 0) fail(`callback of call ${n} got ${got}`);
      return got * 2 + 1;
    };
    if (n % sharedEvery === 0) {
      const shared = await conn.root.shared(callback);
      if (n % (sharedEvery * 8) === 0 && (await shared.n) !== -1) fail(`shared object answered a wrong n`);
      return;
    }
    const [got, item] = await conn.root.make(n, callback);
    if (got !== n * 2 + 1) fail(`make(${n}) answered ${got}`);
    if (n % checkEvery === 1) {
      count.attributeChecks++;
      if ((await item.n) !== n) fail(`the Item of call ${n} has a wrong n`);
    }
  }

  /** Runs calls numbered [from, to) over every connection, `inflight` at a time on each. */
  async function runCalls(from: number, to: number): Promise<void> {
    let next = from;
    const worker = async (conn: Connection<SoakService>): Promise<void> => {
      while (next < to) {
        const n = next++;
        try {
          await soakCall(conn, n);
        } catch (err) {
          fail(`call ${n}: ${err instanceof Error ? err.message : String(err)}`);
        }
        count.completed++;
      }
    };
    await Promise.all(conns.flatMap((conn) => Array.from({ length: inflight }, () => worker(conn))));
  }

  const serverReport = async (how: "sizes" | "collect" | "memory"): Promise<SideReport> => {
    const [localObjects, netrefs, heapUsed, rss] = await conns[0]!.root.report(how);
    return { localObjects, netrefs, heapUsed, rss };
  };

  const sameTables = (a: SideReport, b: SideReport): boolean => a.localObjects === b.localObjects && a.netrefs === b.netrefs;

  /**
   * Collects garbage on both sides until both tables are at `baseline` (or, without one, until
   * two rounds in a row agree), at most `maxSettleMs`. The server's DELs for our callbacks
   * precede its reply to `collect`; ours for its objects go out when our finalizers run,
   * before our next request.
   */
  async function settle(baseline: Settled | undefined): Promise<Settled> {
    const t0 = performance.now();
    let previous: { client: SideReport; server: SideReport } | undefined;
    for (let round = 1; ; round++) {
      await collectGarbage();
      const server = await serverReport("collect");
      await collectGarbage();
      const client = sideReport(conns);
      const target = baseline ?? previous;
      const atBaseline = target !== undefined && sameTables(client, target.client) && sameTables(server, target.server);
      if (atBaseline || performance.now() - t0 > maxSettleMs) {
        // Memory on settled heaps, both sides (the tables are what they are now).
        const { heapUsed, rss } = await serverReport("memory");
        const settled = { ...server, heapUsed, rss };
        return { client: { ...client, ...(await settledMemory()) }, server: settled, rounds: round, settleMs: performance.now() - t0, atBaseline };
      }
      previous = { client, server };
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, round * 5)));
    }
  }

  // Warm-up (JIT, lazily built structures), then the baseline.
  await runCalls(-warmupCalls, 0);
  Object.assign(count, { completed: 0, callbacksRun: 0, attributeChecks: 0 }); // (warm-up errors stay counted)
  const baseline = await settle(undefined);
  if (!baseline.atBaseline) throw new Error("the tables did not settle after the warm-up");
  h.emitJson({ event: "baseline", ...baseline, warmupCalls });

  const progress = setInterval(() => h.emitJson({ event: "progress", calls: count.completed }), 250);
  const t0 = performance.now();
  let callMs = 0;
  let settleMs = 0;
  let allAtBaseline = true;
  for (let done = 0; done < totalCalls; ) {
    const end = Math.min(totalCalls, done + interval);
    const c0 = performance.now();
    await runCalls(done, end);
    callMs += performance.now() - c0;
    done = end;
    // Sizes under load, before any forced collection: what the garbage collector left so far.
    const [liveClient, liveServer] = [sideReport(conns), await serverReport("sizes")];
    const settled = await settle(baseline);
    settleMs += settled.settleMs;
    allAtBaseline &&= settled.atBaseline;
    const [elapsed, callSeconds] = [(performance.now() - t0) / 1000, callMs / 1000];
    const { errors } = count;
    h.emitJson<Checkpoint & { event: string }>({ event: "checkpoint", calls: done, elapsed, callSeconds, liveClient, liveServer, ...settled, errors });
  }
  clearInterval(progress);
  await Promise.all(conns.map((conn) => conn.close()));
  const wallSeconds = (performance.now() - t0) / 1000;
  const [callSeconds, settleSeconds] = [callMs / 1000, settleMs / 1000];
  const { callbacksRun, attributeChecks, errors } = count;
  return { calls: totalCalls, wallSeconds, callSeconds, settleSeconds, callbacksRun, attributeChecks, errors, firstError: firstError ?? null, allAtBaseline };
}

// ---- the bench ------------------------------------------------------------------------------------

/** Least-squares slope of y over x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const [mx, my] = [0, 1].map((k) => points.reduce((s, p) => s + p[k]!, 0) / points.length) as [number, number];
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return points.length < 2 || den === 0 ? Number.NaN : num / den;
}

const { fmtInt, fmtMB } = h;
const tables = (t: SideReport): string => `${fmtInt(t.localObjects)} / ${fmtInt(t.netrefs)}`;
const memory = (c: SideReport, s: SideReport): string =>
  `heap MB client ${fmtMB(c.heapUsed)} server ${fmtMB(s.heapUsed)} | RSS MB client ${fmtMB(c.rss)} server ${fmtMB(s.rss)}`;
const signed = (v: number, digits: number): string => (Number.isFinite(v) ? `${v >= 0 ? "+" : ""}${v.toFixed(digits)}` : "–");

/** Calls per second of call time (checkpoint collections excluded) since the previous checkpoint. */
function intervalRate(c: Checkpoint, previous: Checkpoint | undefined): number {
  const calls = c.calls - (previous?.calls ?? 0);
  const seconds = c.callSeconds - (previous?.callSeconds ?? 0);
  return seconds > 0 ? calls / seconds : Number.NaN;
}

function checkpointLine(c: Checkpoint, previous: Checkpoint | undefined): string {
  const progress = `${fmtInt(c.calls).padStart(9)} calls ${c.elapsed.toFixed(0).padStart(4)} s ${fmtInt(intervalRate(c, previous)).padStart(6)} calls/s`;
  const live = `client ${tables(c.client)} (under load ${tables(c.liveClient)}), server ${tables(c.server)} (under load ${tables(c.liveServer)})`;
  return `${progress} | tables (objects / netrefs) ${live}${c.atBaseline ? "" : " NOT AT BASELINE"} | ${memory(c.client, c.server)}`;
}

type Trend = ReturnType<typeof trend>;

/** Bytes per call (heap, RSS) over the second half of the checkpoints, the heap growth that makes over it, mean heaps of both halves. */
function trend(points: readonly Checkpoint[], side: "client" | "server", totalCalls: number) {
  const half = points.filter((c) => c.calls >= totalCalls / 2);
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length / 1048576;
  const firstHalf = points.filter((c) => c.calls < totalCalls / 2);
  const heapPerCall = slope(half.map((c) => [c.calls, c[side].heapUsed]));
  const span = half.length > 1 ? half.at(-1)!.calls - half[0]!.calls : 0;
  return {
    heapPerCall,
    heapGrowthMB: (heapPerCall * span) / 1048576,
    rssPerCall: slope(half.map((c) => [c.calls, c[side].rss])),
    heapFirstHalfMB: firstHalf.length > 0 ? mean(firstHalf.map((c) => c[side].heapUsed)) : Number.NaN,
    heapSecondHalfMB: half.length > 0 ? mean(half.map((c) => c[side].heapUsed)) : Number.NaN,
  };
}

async function main(): Promise<number> {
  const header = [
    `rpyc-ts leak soak: ${fmtInt(options.calls)} calls creating and dropping netrefs in both directions`,
    `${h.machine()} (rpyc-ts via tsx, --expose-gc); 127.0.0.1`,
    `setup: 1 server process, 1 client process; ${h.plural(options.connections, "connection")} × ${options.inflight} calls in flight.`,
    `  Each call: conn.root.make(n, freshFunction) -> the server calls the function back (a netref there, an entry in the`,
    `  client's table) and returns (answer, a fresh Item) with the Item by reference (a netref in the client, an entry in the`,
    `  server's table); the client checks the answer and drops the Item (every 64th call reads item.n first). Every 16th call`,
    `  asks for the same long-lived server object instead (its refcount races the client's DELs).`,
    `  Every ${fmtInt(options.interval)} calls: load paused, gc() in both processes until both tables are back at their start, then`,
    `  heapUsed/RSS read on settled heaps (gc() until two readings agree).`,
  ];
  const loadAtStart = h.loadAverage();
  process.stderr.write(`${header.join("\n")}\n`);
  const server = await h.startServer(h.nodeScript("soak.ts", ["--role", "server"], ["--expose-gc"]));
  const { calls, interval, connections, inflight } = options;
  const bar = h.progress(options.plain, "soak {bar} {percentage}% | {value}/{total} calls | {phase}", options.calls, { phase: "warm-up" });
  let baseline: Baseline | undefined;
  const checkpoints: Checkpoint[] = [];
  let result: Result | undefined;
  const started = Date.now();
  const client = h.startJsonChild(
    h.nodeScript("soak.ts", h.flags({ role: "client", port: server.port, calls, interval, connections, inflight }), ["--expose-gc"]),
    (event) => {
      switch (event.event) {
        case "baseline": {
          const b = (baseline = event as unknown as Baseline);
          const start = `start (after ${fmtInt(b.warmupCalls)} warm-up calls)`;
          bar.log(`${start} | tables (objects / netrefs) client ${tables(b.client)}, server ${tables(b.server)} | ${memory(b.client, b.server)}`);
          bar.update(0, { phase: "calls" });
          break;
        }
        case "progress":
          bar.update(Number(event.calls), { phase: "calls" });
          break;
        case "checkpoint": {
          const checkpoint = event as unknown as Checkpoint;
          bar.log(checkpointLine(checkpoint, checkpoints.at(-1)));
          checkpoints.push(checkpoint);
          break;
        }
        case "result":
          result = event as unknown as Result;
          break;
      }
    },
  );
  const code = await client.done;
  bar.stop();
  const serverAlive = h.isRunning(server.proc);
  await h.stopChild(server.proc);
  if (!serverAlive) throw new Error(`the server died, ${server.describe()}`);
  if (code !== 0 || !result || !baseline) throw new Error(`the client failed, ${client.describe()}`);

  // ---- report ----
  const head = ["calls", "time s", "calls/s", "client objects", "client netrefs", "server objects", "server netrefs", "under load c/s objects"];
  const table = h.newTable([...head, "client heap MB", "server heap MB", "client RSS MB", "server RSS MB"]);
  const row = (label: string, time: string, rate: string, c: SideReport, s: SideReport, live: string): void => {
    const memory = [c.heapUsed, s.heapUsed, c.rss, s.rss].map(fmtMB);
    table.push([label, time, rate, ...[c.localObjects, c.netrefs, s.localObjects, s.netrefs].map(fmtInt), live, ...memory]);
  };
  row("start", "0", "–", baseline.client, baseline.server, "–");
  for (const [i, c] of checkpoints.entries()) {
    const live = `${fmtInt(c.liveClient.localObjects)} / ${fmtInt(c.liveServer.localObjects)}`;
    row(fmtInt(c.calls) + (c.atBaseline ? "" : " !"), c.elapsed.toFixed(0), fmtInt(intervalRate(c, checkpoints[i - 1])), c.client, c.server, live);
  }
  const [clientTrend, serverTrend] = (["client", "server"] as const).map((side) => trend(checkpoints, side, options.calls)) as [Trend, Trend];
  const last = checkpoints.at(-1)!;
  const growthOk = (t: Trend): boolean => !(t.heapGrowthMB > options.maxGrowth);
  const trendLine = (name: "client" | "server", t: Trend, start: SideReport): string =>
    `  ${name}: heapUsed ${fmtMB(start.heapUsed)} MB at start, ${fmtMB(last[name].heapUsed)} MB at the end; mean ${t.heapFirstHalfMB.toFixed(2)} MB over the first half, ` +
    `${t.heapSecondHalfMB.toFixed(2)} MB over the second; slope over the second half ${signed(t.heapPerCall, 3)} bytes/call ` +
    `(${signed((t.heapPerCall * 100_000) / 1024, 1)} KB per 100k calls, ${signed(t.heapGrowthMB, 2)} MB over the second half); ` +
    `RSS ${fmtMB(start.rss)} -> ${fmtMB(last[name].rss)} MB, slope ${signed(t.rssPerCall, 2)} bytes/call` +
    `${growthOk(t) ? "" : `  GROWING (limit ${options.maxGrowth} MB)`}`;
  const atBaseline = checkpoints.every((c) => c.atBaseline);
  const verdict =
    result.errors === 0 && atBaseline && growthOk(clientTrend) && growthOk(serverTrend)
      ? "no leak: every table back at its start at every checkpoint, heap flat"
      : `FAILED:${result.errors > 0 ? ` ${result.errors} calls failed (first: ${result.firstError});` : ""}${atBaseline ? "" : " a table did not return to its start (rows marked !);"}${growthOk(clientTrend) && growthOk(serverTrend) ? "" : " the heap grows;"}`;
  const wall = (Date.now() - started) / 1000;
  const out = [
    "",
    ...header,
    `load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${h.loadAverage()}`,
    "",
    table.toString(),
    "  (objects = entries in that side's object table, i.e. its objects the peer holds netrefs to; netrefs = its live netrefs",
    "  to the peer's objects, roots included; under load = table sizes when the checkpoint began, before any forced collection)",
    "",
    `time: ${wall.toFixed(1)} s in all (process start-up included); ${result.callSeconds.toFixed(1)} s of calls (${fmtInt(result.calls / result.callSeconds)} calls/s), ` +
      `${result.settleSeconds.toFixed(1)} s collecting at checkpoints`,
    `calls: ${fmtInt(result.calls)}, callbacks run ${fmtInt(result.callbacksRun)}, attribute reads checked ${fmtInt(result.attributeChecks)}, errors ${result.errors}`,
    "memory trend (after GC; slope = least squares over the checkpoints of the second half):",
    trendLine("client", clientTrend, baseline.client),
    trendLine("server", serverTrend, baseline.server),
    verdict,
    "",
  ];
  process.stdout.write(out.join("\n"));
  h.writeJson(options.json, { header, options, baseline, checkpoints, result, trend: { client: clientTrend, server: serverTrend } });
  return verdict.startsWith("FAILED") ? 1 : 0;
}

if (values.role === "server") await serve();
else if (values.role === "client") {
  const result = await drive();
  h.emitJson({ event: "result", ...result });
  process.exit(0);
} else h.runMain(main);
