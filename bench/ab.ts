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

import { createInterface } from "node:readline";
import path from "node:path";
import { parseArgs } from "node:util";
import { exitOnSignals, startChild, stopAllChildren, stopChild } from "./children.js";
import { cpuSeconds, machineBusySeconds, numberOption } from "./proc.js";
import { parseSuiteEvent, WORKLOADS, type Workload } from "./suite/events.js";

const HELP = `A/B of rpyc-ts trees: interleaved rounds, wall and CPU time per call (bench/ab.ts).

  --trees LIST       comma-separated repository directories (default ".")
  --workloads LIST   any of ${WORKLOADS.join(",")} (default seq,inflight,callback,echo1m)
  --codec C          auto (native between rpyc-ts peers) or brine (default auto)
  --rounds R         rounds (default 3)
  --duration S       measured seconds per workload (default 1.5)
  --warmup S         warm-up seconds (default 2)`;

const { values } = parseArgs({
  options: {
    trees: { type: "string", default: "." },
    workloads: { type: "string", default: "seq,inflight,callback,echo1m" },
    codec: { type: "string", default: "auto" },
    rounds: { type: "string" },
    duration: { type: "string", default: "1.5" },
    warmup: { type: "string", default: "2" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(HELP + "\n");
  process.exit(0);
}
const trees = values.trees.split(",").map((t) => path.resolve(t));
const workloads = values.workloads.split(",").filter((w): w is Workload => (WORKLOADS as readonly string[]).includes(w));
const rounds = numberOption("--rounds", values.rounds, 3, 1);
const codec = values.codec === "brine" ? "brine" : "auto";

interface Figures {
  /** Wall microseconds per call. */
  wallUs: number;
  clientCpuUs: number;
  serverCpuUs: number;
  /** Cores used by everything else during the phase. */
  otherCores: number;
}

function node(tree: string, script: string, args: string[]): ReturnType<typeof startChild> {
  return startChild(process.execPath, ["--import", "tsx", path.join(tree, "bench/suite", script), ...args], tree);
}

async function measure(tree: string, workload: Workload): Promise<Figures> {
  const server = node(tree, "node_server.ts", ["--peer", "rpyc", "--codec", codec, "--watch-stdin"]);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: server.stdout });
      lines.on("line", (line) => {
        const match = /^PORT (\d+)$/.exec(line.trim());
        if (match) resolve(Number(match[1]));
      });
      server.once("exit", (code) => reject(new Error(`server in ${tree} exited (${code})`)));
    });
    const client = node(tree, "node_client.ts", ["--peer", "rpyc", "--codec", codec, "--port", String(port), "--idle", "0", "--only", workload, "--duration", values.duration, "--warmup", values.warmup, "--watch-stdin"]);
    let stderr = "";
    client.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const snapshot = (): number[] => [performance.now(), cpuSeconds(client.pid) ?? NaN, cpuSeconds(server.pid) ?? NaN, machineBusySeconds() ?? NaN, cpuSeconds(process.pid) ?? NaN];
    try {
      return await new Promise<Figures>((resolve, reject) => {
        let begin: number[] = [];
        createInterface({ input: client.stdout }).on("line", (line) => {
          const event = parseSuiteEvent(line);
          if (event?.event === "begin") begin = snapshot();
          if (event?.event !== "result") return;
          const end = snapshot();
          const d = end.map((v, i) => v - begin[i]!);
          const calls = event.calls;
          const other = Math.max(0, d[3]! - d[1]! - d[2]! - d[4]!) / (d[0]! / 1000);
          resolve({ wallUs: (event.wall_seconds * 1e6) / calls, clientCpuUs: (d[1]! * 1e6) / calls, serverCpuUs: (d[2]! * 1e6) / calls, otherCores: other });
        });
        client.once("exit", (code) => reject(new Error(`client in ${tree} exited (${code}) before its result: ${stderr}`)));
      });
    } finally {
      await stopChild(client);
    }
  } finally {
    await stopChild(server);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

exitOnSignals(stopAllChildren);
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
  const wall = median(list.map((f) => f.wallUs));
  const row = [key, wall.toFixed(1), Math.round(1e6 / wall), median(list.map((f) => f.clientCpuUs)).toFixed(1), median(list.map((f) => f.serverCpuUs)).toFixed(1), Math.max(...list.map((f) => f.otherCores)).toFixed(2)];
  process.stdout.write(row.join("\t") + "\n");
}
