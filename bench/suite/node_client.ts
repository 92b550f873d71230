// The Node client of the benchmark suite: runs every row's workload (bench/README.md, "Rows")
// against one server (bench/suite/node_server.ts or python_server.py) over one connection and
// prints events (bench/suite/events.ts). The idle-memory row opens --idle more connections and
// lets the suite read the server's memory before and after (it answers "ok" on stdin).
//
//   node --import tsx bench/suite/node_client.ts --peer rpyc --port N

import { randomBytes } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { cli, emitJson, exitWithParent, list, num, writeSamples } from "../harness.js";
import type { PeerConnection, SuiteEvent, Workload } from "./events.js";
import { nodePeer } from "./peers.js";

const { values } = cli("node_client.ts --peer P --port N [--codec C --warmup S --duration S --inflight N --idle N --only LIST --samples-dir D --watch-stdin]", {
  peer: { type: "string", default: "rpyc" },
  codec: { type: "string", default: "auto" },
  port: { type: "string" },
  warmup: { type: "string" },
  duration: { type: "string" },
  inflight: { type: "string" },
  idle: { type: "string" },
  only: { type: "string" },
  "samples-dir": { type: "string" },
});

const { peer, codec } = nodePeer(values);
const open = (): Promise<PeerConnection> => peer.open(port, codec);
const port = num("--port", values.port, NaN, 1, true);
const warmupMs = num("--warmup", values.warmup, 2, 0) * 1000;
const durationMs = num("--duration", values.duration, 1.5, 0) * 1000;
const inflight = num("--inflight", values.inflight, 32, 1, true);
const idle = num("--idle", values.idle, 500, 0, true);
const only = new Set(list(values.only));
const wanted = (w: Workload | "mem"): boolean => only.size === 0 || only.has(w);
const emit = emitJson<SuiteEvent>;

// stdin: "ok" lines from the suite (exitWithParent: its EOF means the suite is gone, so we go too).
const acks: (() => void)[] = [];
let early = 0; // "ok" lines that came before their question (by hand: printf 'ok\nok\n' | node ...)
exitWithParent(
  async () => {},
  (line) => {
    if (line.trim() === "ok") (acks.shift() ?? (() => early++))();
  },
);
const ask = (event: SuiteEvent): Promise<void> => {
  emit(event);
  return early > 0 ? Promise.resolve(void early--) : new Promise((resolve) => acks.push(resolve));
};

/** Untimed calls for `warmup` ms (and at least `min`), then timed ones for --duration; checks every answer. */
async function sequential(conn: PeerConnection, workload: Workload, call: () => Promise<boolean>, warmup: number, min: number, bytes = 0): Promise<void> {
  const keepSamples = bytes === 0; // latency rows; the echo rows report MB/s
  let start = performance.now();
  for (let n = 0; n < min || performance.now() - start < warmup; n++) if (!(await call())) throw new Error(`${workload}: wrong answer`);
  emit({ event: "begin", workload });
  const wireBefore = conn.wire();
  const samples: number[] = [];
  start = performance.now();
  let now = start;
  while (now < start + durationMs || samples.length < 3) {
    const t = performance.now();
    const ok = await call();
    now = performance.now();
    if (!ok) throw new Error(`${workload}: wrong answer`);
    samples.push((now - t) * 1000);
  }
  const calls = samples.length;
  const [a, b] = [wireBefore, conn.wire()];
  const wire = a &&
    b && { bytes_out: b.bytesOut - a.bytesOut, bytes_in: b.bytesIn - a.bytesIn, frames_out: b.framesOut - a.framesOut, frames_in: b.framesIn - a.framesIn };
  const dir = values["samples-dir"];
  const samplesOut = keepSamples && dir !== undefined ? path.join(dir, `${workload}.f64`) : undefined;
  if (samplesOut !== undefined) writeSamples(samplesOut, Float64Array.from(samples));
  emit({ event: "result", workload, calls, wall_seconds: (now - start) / 1000, bytes, ...(samplesOut && { samples_out: samplesOut }), ...(wire && { wire }) });
}

async function concurrent(conn: PeerConnection): Promise<void> {
  const loop = async (until: number, count: { n: number }): Promise<void> => {
    while (performance.now() < until) {
      if ((await conn.ping()) !== 1) throw new Error("inflight: wrong answer");
      count.n++;
    }
  };
  const warm = { n: 0 };
  await Promise.all(Array.from({ length: inflight }, () => loop(performance.now() + Math.min(warmupMs, 1000), warm)));
  emit({ event: "begin", workload: "inflight" });
  const count = { n: 0 };
  const start = performance.now();
  await Promise.all(Array.from({ length: inflight }, () => loop(start + durationMs, count)));
  emit({ event: "result", workload: "inflight", calls: count.n, wall_seconds: (performance.now() - start) / 1000, bytes: 0 });
}

async function idleMemory(): Promise<void> {
  await ask({ event: "mem", stage: "before", count: 0 });
  const conns: PeerConnection[] = [];
  try {
    for (let i = 0; i < idle; i++) {
      const conn = await open();
      conns.push(conn);
      if ((await conn.ping()) !== 1) throw new Error("idle: wrong answer");
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await ask({ event: "mem", stage: "after", count: conns.length });
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
}

async function main(): Promise<void> {
  const conn = await open();
  if ((await conn.ping()) !== 1) throw new Error("ping: wrong answer");
  emit({ event: "info", codec: conn.codec });
  if (wanted("mem") && idle > 0) await idleMemory();
  const short = Math.min(warmupMs, 500);
  if (wanted("seq")) await sequential(conn, "seq", async () => (await conn.ping()) === 1, warmupMs, 200);
  if (wanted("inflight")) await concurrent(conn);
  if (wanted("callback") && !conn.callBack) emit({ event: "skip", workload: "callback", reason: `${values.peer} has no callbacks` });
  else if (wanted("callback")) await sequential(conn, "callback", async () => (await conn.callBack!()) === 2, short, 100);
  for (const [workload, size] of [["echo1k", 1024] as const, ["echo1m", 1 << 20] as const]) {
    if (!wanted(workload)) continue;
    const data = new Uint8Array(randomBytes(size)); // incompressible: RPyC and rpyc-ts compress frames above 3000 bytes
    const check = async (): Promise<boolean> => {
      const back = await conn.echo(data);
      return back.length === size && back[0] === data[0] && back[size - 1] === data[size - 1] && back[size >> 1] === data[size >> 1];
    };
    await sequential(conn, workload, check, short, size > 65536 ? 3 : 50, size);
  }
  await conn.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`suite client (${values.peer}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
