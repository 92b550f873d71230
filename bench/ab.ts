// A/B comparison of rpyc-ts runtimes (e.g. a commit against the working tree), for
// performance work on a shared, noisy machine: rounds interleave the trees, and besides wall
// time per call it reports the client's and the server's CPU time per call (from /proc),
// which other processes disturb much less than latency.
//
//   git archive HEAD | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   npx tsx bench/ab.ts --trees /tmp/base,. --workloads seq,inflight,callback,echo1m --rounds 3
//
// Each tree runs its own bench/suite/node_server.ts and node_client.ts (peer rpyc, --codec
// auto or brine): one server and one client process per tree, round and workload.

import path from "node:path";
import * as h from "./harness.js";
import { WORKLOADS, type SuiteEvent, type Workload } from "./suite/events.js";

const { values } = h.cli("A/B of rpyc-ts trees: interleaved rounds, wall and CPU time per call (bench/ab.ts).", {
  trees: { type: "string", default: ".", arg: "LIST", help: 'comma-separated repository directories (default ".")' },
  workloads: { type: "string", default: "seq,inflight,callback,echo1m", arg: "LIST", help: `any of ${WORKLOADS.join(",")} (default: all but echo1k)` },
  codec: { type: "string", default: "auto", arg: "C", help: "auto (native between rpyc-ts peers) or brine (default auto)" },
  rounds: { type: "string", arg: "R", help: "rounds (default 3)" },
  duration: { type: "string", default: "1.5", arg: "S", help: "measured seconds per workload (default 1.5)" },
  warmup: { type: "string", default: "2", arg: "S", help: "warm-up seconds (default 2)" },
});
const trees = h.list(values.trees).map((t) => path.resolve(t));
const workloads: Workload[] = h.listOf("--workloads", values.workloads, WORKLOADS);
const rounds = h.num("--rounds", values.rounds, 3, 1, true);
const codec = values.codec === "brine" ? "brine" : "auto";

/** Per call: wall and CPU microseconds; otherCores: used by everything else during the phase. */
type Figures = { wallUs: number; clientCpuUs: number; serverCpuUs: number; otherCores: number };

async function measure(tree: string, workload: Workload): Promise<Figures> {
  const peer = h.flags({ peer: "rpyc", codec });
  const server = await h.startServer(h.nodeScript("suite/node_server.ts", peer, [], tree), undefined, tree);
  const args = [...peer, ...h.flags({ port: server.port, idle: 0, only: workload, duration: values.duration, warmup: values.warmup })];
  let result: Figures | undefined;
  let others = h.otherCpu([]);
  let cpu: (number | undefined)[] = [];
  const read = (): (number | undefined)[] => [client.proc, server.proc].map((p) => h.cpuSeconds(p.pid));
  const onEvent = (event: SuiteEvent): void => {
    if (event.event === "begin") [others, cpu] = [h.otherCpu([client.proc.pid, server.proc.pid]), read()];
    if (event.event !== "result") return;
    const [c, s] = read().map((v, i) => (((v ?? NaN) - (cpu[i] ?? NaN)) * 1e6) / event.calls);
    result = { wallUs: (event.wall_seconds * 1e6) / event.calls, clientCpuUs: c!, serverCpuUs: s!, otherCores: others() ?? NaN };
  };
  const client = h.startJsonChild(h.nodeScript("suite/node_client.ts", args, [], tree), onEvent, tree);
  try {
    await client.done;
    if (!result) throw new Error(`client in ${tree} ended before its result, ${client.describe()}`);
    return result;
  } finally {
    await h.stopChild(client.proc);
    await h.stopChild(server.proc);
  }
}

h.runMain(async () => {
  const results = new Map<string, Figures[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const workload of workloads) {
      for (const tree of round % 2 === 1 ? trees : [...trees].reverse()) {
        const f = await measure(tree, workload);
        const key = `${workload}\t${tree}`;
        results.set(key, [...(results.get(key) ?? []), f]);
        const cpu = `client ${f.clientCpuUs.toFixed(1)} µs  server ${f.serverCpuUs.toFixed(1)} µs CPU/call  other ${f.otherCores.toFixed(2)} cores`;
        process.stderr.write(`round ${round} ${workload.padEnd(8)} ${tree.padEnd(24)} wall ${f.wallUs.toFixed(1)} µs  ${cpu}\n`);
      }
    }
  }
  process.stdout.write(`codec ${codec}, ${rounds} rounds, medians per call (µs)\n`);
  process.stdout.write(["workload", "tree", "wall", "calls/s", "client CPU", "server CPU", "other cores (max)"].join("\t") + "\n");
  for (const [key, list] of results) {
    const med = (f: (x: Figures) => number): number => h.median(list.map(f)) ?? NaN;
    const wall = med((f) => f.wallUs);
    const cpu = [med((f) => f.clientCpuUs).toFixed(1), med((f) => f.serverCpuUs).toFixed(1)];
    process.stdout.write([key, wall.toFixed(1), Math.round(1e6 / wall), ...cpu, Math.max(...list.map((f) => f.otherCores)).toFixed(2)].join("\t") + "\n");
  }
  return 0;
});
