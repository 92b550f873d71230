// The client side of the leak soak (bench/soak.ts, described in bench/README.md); runs with
// --expose-gc. Every --interval calls it pauses the load, collects garbage on both sides until
// both object tables are back at their starting size (bounded), then prints a checkpoint (JSON
// line). Ends with a result line.
//
//   node --expose-gc --import tsx bench/soak_client.ts --port N --calls 100000

import { performance } from "node:perf_hooks";
import { connect, type Connection } from "../runtime/index.js";
import { cli, emitJson, exitWithParent, num } from "./harness.js";
import type { SoakService } from "./soak_server.js";
import { collectGarbage, fromTuple, settledMemory, sideReport, type SideReport } from "./soak_tables.js";

const { values: opts } = cli("soak_client.ts --port N [--calls N --connections C --inflight K --interval N --watch-stdin]", {
  port: { type: "string" },
  calls: { type: "string" },
  connections: { type: "string" },
  inflight: { type: "string" },
  interval: { type: "string" },
  "watch-stdin": { type: "boolean", default: false },
});

const port = num("--port", opts.port, NaN, 1, true);
const totalCalls = num("--calls", opts.calls, 1_000_000, 1, true);
const connections = num("--connections", opts.connections, 2, 1, true);
const inflight = num("--inflight", opts.inflight, 8, 1, true);
const interval = num("--interval", opts.interval, Math.max(1, Math.ceil(totalCalls / 20)), 1, true);
/** Untimed calls before the baseline; the long-lived object every 16th call; item.n read every 64th; a checkpoint's collection bound. */
const [warmupCalls, sharedEvery, checkEvery, maxSettleMs] = [5000, 16, 64, 10_000];
exitWithParent(async () => {}, opts["watch-stdin"]);

const emit = emitJson;

const conns: Connection<SoakService>[] = [];
for (let i = 0; i < connections; i++) conns.push(await connect<SoakService>("127.0.0.1", port));
await Promise.all(conns.map((conn) => conn.getRoot()));

let completed = 0;
let errors = 0;
let firstError: string | undefined;
let callbacksRun = 0;
let attributeChecks = 0;

function fail(message: string): void {
  errors++;
  firstError ??= message;
}

/** One soak call: a fresh callback out, a fresh netref (or the shared one) back, both dropped. */
async function soakCall(conn: Connection<SoakService>, n: number): Promise<void> {
  const callback = (got: number): number => {
    callbacksRun++;
    if (got !== n && got !== 0) fail(`callback of call ${n} got ${got}`);
    return got * 2 + 1;
  };
  if (sharedEvery > 0 && n % sharedEvery === 0) {
    const shared = await conn.root.shared(callback);
    if (n % (sharedEvery * 8) === 0 && (await shared.n) !== -1) fail(`shared object answered a wrong n`);
    return;
  }
  const [got, item] = await conn.root.make(n, callback);
  if (got !== n * 2 + 1) fail(`make(${n}) answered ${got}`);
  if (checkEvery > 0 && n % checkEvery === 1) {
    attributeChecks++;
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
      completed++;
    }
  };
  await Promise.all(conns.flatMap((conn) => Array.from({ length: inflight }, () => worker(conn))));
}

const localReport = (): SideReport => sideReport(conns);

const serverReport = async (how: "sizes" | "collect" | "memory"): Promise<SideReport> => fromTuple(await conns[0]!.root.report(how));

interface Settled {
  readonly client: SideReport;
  readonly server: SideReport;
  readonly rounds: number;
  readonly ms: number;
  readonly done: boolean;
}

const sameTables = (a: SideReport, b: SideReport): boolean => a.localObjects === b.localObjects && a.netrefs === b.netrefs;

/**
 * Collects garbage on both sides until both tables are at `baseline` (or, without one, until
 * two rounds in a row agree), at most `maxSettleMs`. The server's DELs for our callbacks
 * precede its reply to `collect`; ours for its objects go out when our finalizers run,
 * before our next request.
 */
async function settle(baseline: { client: SideReport; server: SideReport } | undefined): Promise<Settled> {
  const t0 = performance.now();
  let previous: { client: SideReport; server: SideReport } | undefined;
  for (let round = 1; ; round++) {
    await collectGarbage();
    const server = await serverReport("collect");
    await collectGarbage();
    const client = localReport();
    const target = baseline ?? previous;
    const done = target !== undefined && sameTables(client, target.client) && sameTables(server, target.server);
    const ms = performance.now() - t0;
    if (done || ms > maxSettleMs) {
      // Memory on settled heaps, both sides (the tables are what they are now).
      const serverMemory = await serverReport("memory");
      const clientMemory = await settledMemory();
      return {
        client: { ...client, ...clientMemory },
        server: { ...server, heapUsed: serverMemory.heapUsed, rss: serverMemory.rss },
        rounds: round,
        ms: performance.now() - t0,
        done,
      };
    }
    previous = { client, server };
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, round * 5)));
  }
}

// Warm-up (JIT, lazily built structures), then the baseline.
await runCalls(-warmupCalls, 0);
completed = 0;
callbacksRun = 0;
attributeChecks = 0;
const base = await settle(undefined);
if (!base.done) throw new Error("the tables did not settle after the warm-up");
const baseline = { client: base.client, server: base.server };
emit({ event: "baseline", client: base.client, server: base.server, rounds: base.rounds, ms: base.ms, warmupCalls });

const progress = setInterval(() => emit({ event: "progress", calls: completed }), 250);
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
  const liveClient = localReport();
  const liveServer = await serverReport("sizes");
  const settled = await settle(baseline);
  settleMs += settled.ms;
  allAtBaseline &&= settled.done;
  emit({
    event: "checkpoint",
    calls: done,
    elapsed: (performance.now() - t0) / 1000,
    callSeconds: callMs / 1000,
    liveClient,
    liveServer,
    client: settled.client,
    server: settled.server,
    rounds: settled.rounds,
    settleMs: settled.ms,
    atBaseline: settled.done,
    errors,
  });
}
clearInterval(progress);
const wall = (performance.now() - t0) / 1000;
emit({
  event: "result",
  calls: totalCalls,
  wallSeconds: wall,
  callSeconds: callMs / 1000,
  settleSeconds: settleMs / 1000,
  callbacksRun,
  attributeChecks,
  errors,
  firstError: firstError ?? null,
  allAtBaseline,
});
await Promise.all(conns.map((conn) => conn.close()));
process.exit(0);
