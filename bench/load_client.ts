// A client process of the load bench (bench/load.ts): opens --connections connections to
// the load server, says {"event":"ready"}, and on "go" (a line on stdin) makes each
// connection call `root.next(n)` sequentially (one call in flight per connection) for
// --warmup + --duration seconds. Calls that complete inside the measured window are
// counted and timed (performance.now(), microseconds, float64 little-endian into
// --samples-out). Every answer is checked (n + 1). Then it closes its connections and
// prints its result. Leaves when stdin reaches EOF (the bench is gone).
//
//   node --import tsx bench/load_client.ts --port N --connections 100 --duration 3 --now
//   (--now starts at once instead of waiting for "go")

import { performance } from "node:perf_hooks";
import { connect, type Connection } from "../runtime/index.js";
import { cli, emitJson, exitWithParent, num, writeSamples } from "./harness.js";
import type { LoadBenchService } from "./load_server.js";

const { values: opts } = cli("load_client.ts --port N [--connections C --warmup S --duration S --samples-out FILE --watch-stdin --now]", {
  port: { type: "string" },
  connections: { type: "string" },
  warmup: { type: "string" },
  duration: { type: "string" },
  "samples-out": { type: "string" },
  "watch-stdin": { type: "boolean", default: false },
  now: { type: "boolean", default: false },
});

const port = num("--port", opts.port, NaN, 1, true);
const connections = num("--connections", opts.connections, 1, 1, true);
const warmupMs = num("--warmup", opts.warmup, 2, 0) * 1000;
const durationMs = num("--duration", opts.duration, 5, 0.01) * 1000;
const batch = 50; // connections opened at once

const emit = emitJson;

const conns: Connection<LoadBenchService>[] = [];
for (let i = 0; i < connections; i += batch) {
  const opening = Array.from({ length: Math.min(batch, connections - i) }, () => connect<LoadBenchService>("127.0.0.1", port));
  conns.push(...(await Promise.all(opening)));
}
await Promise.all(conns.map((conn) => conn.getRoot()));
emit({ event: "ready", connections: conns.length });

let total = 0;
let errors = 0;
let firstError: string | undefined;
const samples: number[] = [];

async function drive(conn: Connection<LoadBenchService>, windowStart: number, windowEnd: number): Promise<void> {
  const root = conn.root;
  for (let n = 0; ; n++) {
    const start = performance.now();
    if (start >= windowEnd) return;
    let answer: unknown;
    try {
      answer = await root.next(n);
    } catch (err) {
      answer = err;
    }
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
  const windowStart = go + warmupMs;
  const windowEnd = windowStart + durationMs;
  const ticker = setInterval(() => emit({ event: "progress", calls: total, elapsed: (performance.now() - go) / 1000 }), 200);
  await Promise.all(conns.map((conn) => drive(conn, windowStart, windowEnd)));
  clearInterval(ticker);
  if (opts["samples-out"]) writeSamples(opts["samples-out"], Float64Array.from(samples));
  await Promise.all(conns.map((conn) => conn.close()));
  emit({ event: "result", measured: samples.length, total, errors, firstError: firstError ?? null, windowSeconds: durationMs / 1000 });
  process.exit(0);
}

const start = (): void =>
  void run().catch((err: unknown) => {
    process.stderr.write(`load client failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
if (opts.now) start();
// "go" on stdin starts the calls; stdin's EOF (--watch-stdin) means the bench is gone.
exitWithParent(
  async () => {},
  opts["watch-stdin"],
  (line) => {
    if (line.trim() === "go" && !opts.now) start();
  },
);
