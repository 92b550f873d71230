// Node client side of the round-trip bench, measuring exactly as bench/python_roundtrip.py
// does (same phases, same stopping rules, same output):
//
//   --mode rpyc   rpyc-ts: `await conn.root.get_answer()` against any RPyC server serving
//                 the seed MyService (rpyc-ts's bench/ts_server.ts or Python's
//                 bench/python_server.py);
//   --mode floor  the raw TCP floor: one length-prefixed request of --req-bytes, one reply of
//                 --rep-bytes (both counted on the wire, header included), against
//                 bench/floor_server.ts; the same socket options (TCP_NODELAY) and the same
//                 await-per-call pattern, and nothing else.
//
// Phases: warm-up (--warmup seconds and at least --min-warmup-calls calls), measured
// (--duration seconds, or exactly --calls calls), then --probe-calls untimed calls that
// count the messages and bytes one call puts on the wire. Each measured call is timed
// alone with performance.now() (CLOCK_MONOTONIC). Prints one JSON event per line on
// stdout; the latencies (microseconds, float64 little-endian) go to --samples-out.
//
//   node --import tsx bench/node_client.ts --mode rpyc --port 18861 --duration 3

import { writeFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { endianness } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { connectStream, FrameDecoder, SocketStream, type Stream, type StreamHandlers } from "../runtime/index.js";
import type { MyService } from "../examples/seed-service.js";
import type { ClientEvent, WireCounts } from "./events.js";
import { FloorConnection } from "./floor.js";

const EXPECTED = 42;

const { values: opts } = parseArgs({
  options: {
    mode: { type: "string", default: "rpyc" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    warmup: { type: "string", default: "1" },
    "min-warmup-calls": { type: "string", default: "200" },
    duration: { type: "string", default: "5" },
    calls: { type: "string", default: "0" },
    "max-calls": { type: "string", default: "2000000" },
    "probe-calls": { type: "string", default: "200" },
    "samples-out": { type: "string" },
    "progress-interval": { type: "string", default: "0.1" },
    "req-bytes": { type: "string", default: "60" },
    "rep-bytes": { type: "string", default: "12" },
    "watch-stdin": { type: "boolean", default: false },
  },
  strict: true,
});

function num(name: keyof typeof opts): number {
  const raw = opts[name];
  const value = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(value) || value < 0) throw new RangeError(`--${name} needs a non-negative number, got ${String(raw)}`);
  return value;
}

function emit(event: ClientEvent): void {
  process.stdout.write(JSON.stringify(event) + "\n");
}

function openSocket(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** A Stream that counts what passes; counting of incoming frames is switched on for the probe only. */
class CountingStream implements Stream {
  msgsOut = 0;
  bytesOut = 0;
  msgsIn = 0;
  countIn = false;
  private readonly inFrames = new FrameDecoder();

  constructor(private readonly inner: Stream) {}

  get closed(): boolean {
    return this.inner.closed;
  }
  get endpoints(): readonly [string, string] | null {
    return this.inner.endpoints;
  }
  write(data: Uint8Array): void {
    this.msgsOut++;
    this.bytesOut += data.length;
    this.inner.write(data);
  }
  start(handlers: StreamHandlers): void {
    this.inner.start({
      data: (chunk) => {
        if (this.countIn) this.msgsIn += this.inFrames.push(chunk).length;
        handlers.data(chunk);
      },
      close: (error) => handlers.close(error),
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  destroy(): void {
    this.inner.destroy();
  }
}

interface Client {
  readonly name: string;
  /** One request/reply; resolves with the reply (42 for rpyc, the reply size for floor). */
  call(): Promise<number>;
  readonly expected: number;
  /** Runs `calls` untimed calls and counts their wire traffic per call. */
  probe(calls: number): Promise<WireCounts | null>;
  close(): Promise<void>;
}

async function rpycClient(host: string, port: number): Promise<Client> {
  const socket = await openSocket(host, port);
  const stream = new CountingStream(new SocketStream(socket));
  const conn = await connectStream<MyService>(stream);
  const call = (): Promise<number> => conn.root.get_answer();
  return {
    name: "rpyc-ts",
    expected: EXPECTED,
    call,
    async probe(calls) {
      if (calls === 0) return null;
      const snapshot = (): [number, number, number, number] => [stream.msgsOut, stream.bytesOut, stream.msgsIn, socket.bytesRead];
      const since = (from: readonly number[]): number[] => snapshot().map((value, i) => value - from[i]!);
      stream.countIn = true;
      await conn.ping(); // settle anything still in flight
      const beforePing = snapshot();
      await conn.ping();
      const ping = since(beforePing); // what one ping costs, to take off below
      const before = snapshot();
      for (let i = 0; i < calls; i++) if ((await call()) !== EXPECTED) throw new Error("get_answer() did not return 42");
      await conn.ping(); // async messages (DELs), if any, are answered before the ping is
      stream.countIn = false;
      const [msgsOut, bytesOut, msgsIn, bytesIn] = since(before).map((value, i) => (value - ping[i]!) / calls) as [number, number, number, number];
      return { msgs_out: msgsOut, bytes_out: bytesOut, msgs_in: msgsIn, bytes_in: bytesIn };
    },
    close: () => conn.close(),
  };
}

async function floorClient(host: string, port: number, reqBytes: number, repBytes: number): Promise<Client> {
  const floor = new FloorConnection(await openSocket(host, port), reqBytes, repBytes);
  return {
    name: "node-floor",
    expected: repBytes,
    call: () => floor.request(),
    async probe(calls) {
      if (calls === 0) return null;
      const [out, read] = [floor.socket.bytesWritten, floor.socket.bytesRead];
      for (let i = 0; i < calls; i++) await floor.request();
      return { msgs_out: 1, bytes_out: (floor.socket.bytesWritten - out) / calls, msgs_in: 1, bytes_in: (floor.socket.bytesRead - read) / calls };
    },
    close: () => floor.close(),
  };
}

async function main(): Promise<void> {
  if (opts["watch-stdin"]) {
    // The bench keeps our stdin open; EOF means it is gone, so we go too.
    process.stdin.on("end", () => process.exit(3));
    process.stdin.resume();
  }
  if (opts.port === undefined) throw new RangeError("--port is required");
  const host = opts.host;
  const port = num("port");
  const warmupMs = num("warmup") * 1000;
  const minWarmupCalls = num("min-warmup-calls");
  const durationMs = num("duration") * 1000;
  const fixedCalls = Math.floor(num("calls"));
  const limit = fixedCalls > 0 ? fixedCalls : Math.floor(num("max-calls"));
  const intervalMs = num("progress-interval") * 1000;

  const client =
    opts.mode === "floor"
      ? await floorClient(host, port, num("req-bytes"), num("rep-bytes"))
      : opts.mode === "rpyc"
        ? await rpycClient(host, port)
        : (() => {
            throw new RangeError(`--mode must be rpyc or floor, got ${opts.mode}`);
          })();
  const { expected } = client;

  // ---- warm-up
  emit({ event: "phase", phase: "warmup" });
  const start = performance.now();
  let last = start;
  let warmupCalls = 0;
  for (;;) {
    if ((await client.call()) !== expected) throw new Error(`unexpected reply (want ${expected})`);
    warmupCalls++;
    const now = performance.now();
    if (now - start >= warmupMs && warmupCalls >= minWarmupCalls) break;
    if (now - last >= intervalMs) {
      last = now;
      emit({ event: "progress", phase: "warmup", calls: warmupCalls, elapsed: (now - start) / 1000 });
    }
  }

  // ---- measured
  const samples = new Float64Array(limit);
  const timed = fixedCalls === 0;
  emit({ event: "phase", phase: "measure" });
  const t0 = performance.now();
  const end = t0 + durationMs;
  last = t0;
  let calls = 0;
  while (calls < limit) {
    const s = performance.now();
    const value = await client.call();
    const e = performance.now();
    samples[calls++] = (e - s) * 1000;
    if (value !== expected) throw new Error(`unexpected reply ${value} (want ${expected})`);
    if (timed && e >= end) break;
    if (e - last >= intervalMs) {
      last = e;
      emit({ event: "progress", phase: "measure", calls, elapsed: (e - t0) / 1000 });
    }
  }
  const t1 = performance.now();
  emit({ event: "phase", phase: "measured" });

  // ---- probe (untimed)
  const wire = await client.probe(Math.floor(num("probe-calls")));
  await client.close();

  const samplesOut = opts["samples-out"];
  if (samplesOut !== undefined) {
    const used = samples.subarray(0, calls);
    if (endianness() !== "LE") {
      const view = new DataView(new ArrayBuffer(used.length * 8));
      used.forEach((value, i) => view.setFloat64(i * 8, value, true));
      writeFileSync(samplesOut, new Uint8Array(view.buffer));
    } else {
      writeFileSync(samplesOut, new Uint8Array(used.buffer, used.byteOffset, used.byteLength));
    }
  }
  emit({
    event: "result",
    client: client.name,
    calls,
    warmup_calls: warmupCalls,
    wall_seconds: (t1 - t0) / 1000,
    wire,
    runtime: `Node ${process.version}`,
    ...(samplesOut === undefined ? {} : { samples_out: samplesOut }),
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`node_client: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
