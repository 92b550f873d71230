// The leak soak (`npm run bench:soak`): --calls calls creating and dropping netrefs in both
// directions (bench/soak_client.ts -> bench/soak_server.ts, both --expose-gc), checkpoints with
// both object tables back at their start and settled heaps; fails on a failed call, a table
// that does not return, or heap growth over --max-growth MB. See bench/README.md and --help.

import * as h from "./harness.js";
import type { SideReport } from "./soak_tables.js";

function parseOptions() {
  const { values } = h.cli(
    "Leak soak of rpyc-ts: netrefs created and dropped in both directions (see bench/README.md).\n\nUsage: npm run bench:soak [-- options]",
    {
      calls: { type: "string", arg: "N", help: "soak calls (default 1000000)" },
      interval: { type: "string", arg: "N", help: "calls between checkpoints (default calls / 20)" },
      connections: { type: "string", arg: "C", help: "client connections (default 2)" },
      inflight: { type: "string", arg: "K", help: "calls in flight on each connection (default 8)" },
      "max-growth": {
        type: "string",
        arg: "MB",
        help: "fail if heapUsed (after GC) grows by more than MB megabytes over the\nsecond half (least-squares slope × its calls), on either side (default 1)",
      },
      json: { type: "string", arg: "FILE", help: "also write every checkpoint as JSON" },
      plain: { type: "boolean", default: false, help: "no progress bar (automatic when stderr is no TTY)" },
    },
  );
  const calls = h.num("--calls", values.calls, 1_000_000, 1, true);
  return {
    calls,
    interval: h.num("--interval", values.interval, Math.max(1, Math.ceil(calls / 20)), 1, true),
    connections: h.num("--connections", values.connections, 2, 1, true),
    inflight: h.num("--inflight", values.inflight, 8, 1, true),
    maxGrowth: h.num("--max-growth", values["max-growth"], 1, 0),
    json: values.json,
    plain: values.plain || !process.stderr.isTTY,
  };
}

interface Checkpoint {
  readonly calls: number;
  readonly elapsed: number;
  readonly callSeconds: number;
  readonly liveClient: SideReport;
  readonly liveServer: SideReport;
  readonly client: SideReport;
  readonly server: SideReport;
  readonly rounds: number;
  readonly settleMs: number;
  readonly atBaseline: boolean;
  readonly errors: number;
}

interface Baseline {
  readonly client: SideReport;
  readonly server: SideReport;
  readonly warmupCalls: number;
}

interface Result {
  readonly calls: number;
  readonly wallSeconds: number;
  readonly callSeconds: number;
  readonly settleSeconds: number;
  readonly callbacksRun: number;
  readonly attributeChecks: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly allAtBaseline: boolean;
}

/** Least-squares slope of y over x. */
function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

const { fmtInt, fmtMB } = h;
const tables = (t: SideReport): string => `${fmtInt(t.localObjects)} / ${fmtInt(t.netrefs)}`;
const signed = (v: number, digits: number): string => (Number.isFinite(v) ? `${v >= 0 ? "+" : ""}${v.toFixed(digits)}` : "–");

/** Calls per second of call time (checkpoint collections excluded) since the previous checkpoint. */
function intervalRate(c: Checkpoint, previous: Checkpoint | undefined): number {
  const calls = c.calls - (previous?.calls ?? 0);
  const seconds = c.callSeconds - (previous?.callSeconds ?? 0);
  return seconds > 0 ? calls / seconds : Number.NaN;
}

function checkpointLine(c: Checkpoint, previous: Checkpoint | undefined): string {
  return (
    `${fmtInt(c.calls).padStart(9)} calls ${c.elapsed.toFixed(0).padStart(4)} s ${fmtInt(intervalRate(c, previous)).padStart(6)} calls/s | ` +
    `tables (objects / netrefs) client ${tables(c.client)} (under load ${tables(c.liveClient)}), server ${tables(c.server)} (under load ${tables(c.liveServer)})` +
    `${c.atBaseline ? "" : " NOT AT BASELINE"} | heap MB client ${fmtMB(c.client.heapUsed)} server ${fmtMB(c.server.heapUsed)} | ` +
    `RSS MB client ${fmtMB(c.client.rss)} server ${fmtMB(c.server.rss)}`
  );
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
  const options = parseOptions();
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
  const server = await h.startServer(h.nodeScript("soak_server.ts", [], ["--expose-gc"]));
  const { calls, interval, connections, inflight } = options;
  const bar = h.progress(options.plain, "soak {bar} {percentage}% | {value}/{total} calls | {phase}", options.calls, { phase: "warm-up" });
  let baseline: Baseline | undefined;
  const checkpoints: Checkpoint[] = [];
  let result: Result | undefined;
  const started = Date.now();
  const client = h.startJsonChild(
    h.nodeScript("soak_client.ts", h.flags({ port: server.port, calls, interval, connections, inflight }), ["--expose-gc"]),
    (event) => {
      switch (event.event) {
        case "baseline": {
          const b = (baseline = event as unknown as Baseline);
          const memory = `heap MB client ${fmtMB(b.client.heapUsed)} server ${fmtMB(b.server.heapUsed)} | RSS MB client ${fmtMB(b.client.rss)} server ${fmtMB(b.server.rss)}`;
          bar.log(
            `start (after ${fmtInt(b.warmupCalls)} warm-up calls) | tables (objects / netrefs) client ${tables(b.client)}, server ${tables(b.server)} | ${memory}`,
          );
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
  const clientTrend = trend(checkpoints, "client", options.calls);
  const serverTrend = trend(checkpoints, "server", options.calls);
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

h.runMain(main);
