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
import { captureStderr, cli, exited, median, num, onJsonLines, otherCpu, cpuSeconds, runMain, startChild, startServerCommand, stopChild } from "./harness.js";
import { WORKLOADS, type SuiteEvent, type Workload } from "./suite/events.js";

const HELP = `A/B of rpyc-ts trees: interleaved rounds, wall and CPU time per call (bench/ab.ts).

  --trees LIST       comma-separated repository directories (default ".")
  --workloads LIST   any of ${WORKLOADS.join(",")} (default seq,inflight,callback,echo1m)
  --codec C          auto (native between rpyc-ts peers) or brine (default auto)
  --rounds R         rounds (default 3)
  --duration S       measured seconds per workload (default 1.5)
  --warmup S         warm-up seconds (default 2)`;

const { values } = cli(HELP, {
  trees: { type: "string", default: "." },
  workloads: { type: "string", default: "seq,inflight,callback,echo1m" },
  codec: { type: "string", default: "auto" },
  rounds: { type: "string" },
  duration: { type: "string", default: "1.5" },
  warmup: { type: "string", default: "2" },
});
const trees = values.trees.split(",").map((t) => path.resolve(t));
const workloads = values.workloads.split(",").filter((w): w is Workload => (WORKLOADS as readonly string[]).includes(w));
const rounds = num("--rounds", values.rounds, 3, 1, true);
const codec = values.codec === "brine" ? "brine" : "auto";

interface Figures {
  /** Wall microseconds per call. */
  wallUs: number;
  clientCpuUs: number;
  serverCpuUs: number;
  /** Cores used by everything else during the phase. */
  otherCores: number;
}

const script = (tree: string, name: string): string[] => ["--import", "tsx", path.join(tree, "bench/suite", name)];

async function measure(tree: string, workload: Workload): Promise<Figures> {
  const server = await startServerCommand(
    process.execPath,
    [...script(tree, "node_server.ts"), "--peer", "rpyc", "--codec", codec, "--watch-stdin"],
    undefined,
    tree,
  );
  try {
    const args = [
      "--peer",
      "rpyc",
      "--codec",
      codec,
      "--port",
      String(server.port),
      "--idle",
      "0",
      "--only",
      workload,
      "--duration",
      values.duration,
      "--warmup",
      values.warmup,
      "--watch-stdin",
    ];
    const client = startChild(process.execPath, [...script(tree, "node_client.ts"), ...args], tree);
    const stderr = captureStderr(client);
    try {
      let result: Figures | undefined;
      let others = otherCpu([]);
      let cpu: (number | undefined)[] = [];
      const read = (): (number | undefined)[] => [cpuSeconds(client.pid), cpuSeconds(server.proc.pid)];
      await onJsonLines(client, (line) => {
        const event = line as SuiteEvent;
        if (event.event === "begin") [others, cpu] = [otherCpu([client.pid, server.proc.pid]), read()];
        if (event.event !== "result") return;
        const [c, s] = read().map((v, i) => (((v ?? NaN) - (cpu[i] ?? NaN)) * 1e6) / event.calls);
        result = { wallUs: (event.wall_seconds * 1e6) / event.calls, clientCpuUs: c!, serverCpuUs: s!, otherCores: others() ?? NaN };
      });
      await exited(client);
      if (!result) throw new Error(`client in ${tree} exited (${client.exitCode}) before its result: ${stderr()}`);
      return result;
    } finally {
      await stopChild(client);
    }
  } finally {
    await stopChild(server.proc);
  }
}

runMain(async () => {
  const results = new Map<string, Figures[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const workload of workloads) {
      for (const tree of round % 2 === 1 ? trees : [...trees].reverse()) {
        const figures = await measure(tree, workload);
        const key = `${workload}\t${tree}`;
        results.set(key, [...(results.get(key) ?? []), figures]);
        process.stderr.write(
          `round ${round} ${workload.padEnd(8)} ${tree.padEnd(24)} wall ${figures.wallUs.toFixed(1)} µs  client ${figures.clientCpuUs.toFixed(1)} µs  server ${figures.serverCpuUs.toFixed(1)} µs CPU/call  other ${figures.otherCores.toFixed(2)} cores\n`,
        );
      }
    }
  }
  process.stdout.write(`codec ${codec}, ${rounds} rounds, medians per call (µs)\n`);
  process.stdout.write(["workload", "tree", "wall", "calls/s", "client CPU", "server CPU", "other cores (max)"].join("\t") + "\n");
  for (const [key, list] of results) {
    const med = (f: (x: Figures) => number): number => median(list.map(f)) ?? NaN;
    const wall = med((f) => f.wallUs);
    const row = [
      key,
      wall.toFixed(1),
      Math.round(1e6 / wall),
      med((f) => f.clientCpuUs).toFixed(1),
      med((f) => f.serverCpuUs).toFixed(1),
      Math.max(...list.map((f) => f.otherCores)).toFixed(2),
    ];
    process.stdout.write(row.join("\t") + "\n");
  }
  return 0;
});
