// Fuzzes a live ThreadedServer over real sockets: many raw connections, in parallel, send
// over 100,000 mutated frames (captured Python frames with bytes flipped, lengths changed,
// tags swapped, truncated, duplicated; forged requests and replies) while a well-behaved
// rpyc-ts client on its own connection keeps calling and checks every answer. Each input
// must get an answer, an error reply or a closed connection; the server must never crash
// or hang, and must end up serving only the healthy connection.
// Replay a failure with the printed seed: RPYC_FUZZ_SEED=0x... npx vitest run test/fuzz/live

import net, { type Socket } from "node:net";
import { expect, it } from "vitest";
import * as C from "../../runtime/wire/consts.js";
import { Service, ThreadedServer, type Connection, type PyValue, type PyValueIn } from "../../runtime/index.js";
import { dump, FrameDecoder, load } from "../../runtime/wire/index.js";
import { connectTo, eventually } from "../helpers/servers.js";
import { trackSocket } from "../helpers/raw-peer.js";
import { SMALL_FRAMES } from "./corpus.js";
import {
  mutateFrame,
  mutateMessage,
  pickCorpusFrame,
  pickFrameOp,
  randomReply,
  randomRequest,
  retarget,
  safeDump,
  validFrame,
  type FrameOp,
  type IdPackValue,
  type RefContext,
} from "./mutators.js";
import { deriveSeed, fuzzScale, fuzzSeed, Rng, seedHex } from "./seed.js";

const seed = fuzzSeed();
const FRAMES = Math.ceil(100_000 * fuzzScale());
/** Raw connections open at once. */
const PARALLEL = 32;
/** Most fuzz frames one batch writes (most batches are of 1-4) before it syncs with a PING. */
const MAX_BATCH = 48;
/** A small frame limit keeps zip bombs and oversized frames cheap to make and to refuse. */
const MAX_FRAME_SIZE = 1 << 20;
/** How long a sync PING may take before the connection counts as stalled (and is dropped). */
const SYNC_TIMEOUT_MS = 2000;
/** Every healthy call must be answered within this. */
const HEALTHY_TIMEOUT_MS = 5000;

class FuzzService extends Service {
  exposed_get_answer(): number {
    return 42;
  }
  exposed_the_real_answer_though = 43;
  exposed_echo(value: unknown): unknown {
    return value;
  }
  exposed_add(a: number, b: number): number {
    return a + b;
  }
}

/** Operators after which the stream is out of sync: nothing after them is read as sent. */
const BREAKS_FRAMING: ReadonlySet<FrameOp> = new Set<FrameOp>([
  "length-smaller",
  "length-larger",
  "length-huge",
  "length-zero",
  "truncate-frame",
  "splice-frames",
  "garbage-raw",
]);

/** A ThreadedServer that adds up the frames its closed connections read (Connection.stats().framesIn). */
class CountingServer extends ThreadedServer {
  framesInClosed = 0;
  protected override connectionClosed(conn: Connection): void {
    this.framesInClosed += conn.stats().framesIn;
  }
  /** Frames read so far by every connection but `except`, closed or open. */
  framesIn(except: Connection | undefined): number {
    let n = this.framesInClosed;
    for (const conn of this.connections) if (conn !== except) n += conn.stats().framesIn;
    return n;
  }
}

interface Counts {
  frames: number;
  /** Fuzz frames the server provably read: each followed by a PING it answered. */
  acked: number;
  /** Fuzz frames after which the server sent HANDLE_CLOSE and closed (the frame it refused). */
  fatal: number;
  framesByOp: Record<string, number>;
  connections: number;
  closedByServer: number;
  closeRequests: number;
  endedByUs: number;
  stalled: number;
  replies: number;
  errorReplies: number;
  serverRequests: number;
  syncs: number;
  healthyCalls: number;
}

/**
 * One raw fuzz connection: writes bytes, reads the server's frames (counting replies, error
 * replies and HANDLE_CLOSE requests) and resolves sync PINGs by seq.
 */
class FuzzConnection {
  private readonly decoder = new FrameDecoder(64 << 20);
  private readonly waiting = new Map<number, (reply: PyValue) => void>();
  private readonly closed: Promise<void>;
  isClosed = false;
  /** Seqs of the ack PINGs written and not answered yet. */
  readonly acks = new Set<number>();
  /** The server sent HANDLE_CLOSE: it is dropping the connection because of what we sent. */
  closeRequested = false;
  /** Set when the server's bytes were not valid frames/brine: a bug on the server side. */
  badOutput: unknown;

  constructor(
    readonly socket: Socket,
    private readonly counts: Counts,
  ) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.once("close", () => {
      this.isClosed = true;
      for (const wake of this.waiting.values()) wake(null);
      this.waiting.clear();
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const payload of this.decoder.push(chunk)) this.received(load(payload));
      } catch (err) {
        this.badOutput ??= err;
      }
    });
  }

  static open(port: number, counts: Counts): Promise<FuzzConnection> {
    return new Promise((resolve, reject) => {
      const socket = trackSocket(net.connect({ host: "127.0.0.1", port }));
      socket.once("connect", () => {
        socket.off("error", reject);
        counts.connections++;
        resolve(new FuzzConnection(socket, counts));
      });
      socket.once("error", reject);
    });
  }

  private received(message: PyValue): void {
    if (!Array.isArray(message) || message.length !== 3) throw new Error(`the server sent a non-message ${String(message)}`);
    const [msg, seq, args] = message as readonly PyValue[];
    if (msg === C.MSG_REQUEST) {
      this.counts.serverRequests++;
      if (Array.isArray(args) && args[0] === C.HANDLE_CLOSE) {
        this.counts.closeRequests++;
        this.closeRequested = true;
      }
      return;
    }
    if (msg !== C.MSG_REPLY && msg !== C.MSG_EXCEPTION) throw new Error(`the server sent message type ${String(msg)}`);
    if (typeof seq === "number" && this.acks.has(seq) && msg === C.MSG_REPLY && isAck(args)) {
      // The PING written after a fuzz frame: the server has read that frame. (A forged
      // request may reuse the seq; its answer is not an ack.)
      this.acks.delete(seq);
      this.counts.acked++;
    } else if (msg === C.MSG_EXCEPTION) this.counts.errorReplies++;
    else this.counts.replies++;
    const wake = typeof seq === "number" ? this.waiting.get(seq) : undefined;
    if (wake) {
      this.waiting.delete(seq as number);
      wake(message);
    }
  }

  write(bytes: Uint8Array): void {
    if (!this.isClosed) this.socket.write(bytes);
  }

  /**
   * Sends a request and waits for the answer to it: the message, null if the socket
   * closed, undefined on timeout.
   */
  request(seq: number, handler: number, args: PyValueIn, timeoutMs = SYNC_TIMEOUT_MS): Promise<PyValue | null | undefined> {
    if (this.isClosed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(seq, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.write(validFrameFor(dump([C.MSG_REQUEST, seq, [handler, args]])));
    });
  }

  /** Half-closes our side and waits (bounded) for the server to close the connection. */
  async end(timeoutMs = 5000): Promise<boolean> {
    if (!this.isClosed) this.socket.end();
    return this.waitClosed(timeoutMs);
  }

  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.closed.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): Promise<boolean> {
    this.socket.destroy();
    return this.waitClosed(2000);
  }
}

function validFrameFor(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length + 1);
  frame.writeUInt32BE(payload.length, 0);
  frame[4] = 0;
  frame.set(payload, 5);
  frame[frame.length - 1] = 0x0a;
  return frame;
}

/** When to stop: once the server has provably read FRAMES fuzz frames (or a worker failed). */
interface Budget {
  more(): boolean;
}

/** Seqs of our own requests: far above the seqs the mutators use, so never confused. */
const SYNC_SEQ_BASE = 1_000_000_000;
/** Seqs of the PINGs written after each fuzz frame. */
const ACK_SEQ_BASE = 3_000_000_000_000;
const ACK = "ack";

/** True for the answer to an ack PING: `(1, "ack")`. */
function isAck(boxed: PyValue | undefined): boolean {
  return Array.isArray(boxed) && boxed.length === 2 && boxed[0] === C.LABEL_VALUE && boxed[1] === ACK;
}

/** The PING `(1, seq, (HANDLE_PING, (1, ("ack",))))` written after each fuzz frame. */
function ackFrame(seq: number): Buffer {
  return validFrameFor(dump([C.MSG_REQUEST, seq, [C.HANDLE_PING, [C.LABEL_VALUE, [ACK]]]]));
}

/**
 * One fuzz frame: a frame-level mutation of a captured frame, or a structure-level one
 * (a forged request or reply, a captured message mutated) in a valid frame.
 */
function fuzzFrame(rng: Rng, ctx: RefContext): { op: string; bytes: Buffer } {
  const r = rng.next();
  // Frame-level mutations end most connections (as in Python); structure-level ones mostly
  // get answers. This mix reads about two frames per connection.
  if (r < 0.4) {
    const op = pickFrameOp(rng);
    return { op, bytes: mutateFrame(rng, pickCorpusFrame(rng).payload, op, MAX_FRAME_SIZE) };
  }
  const seq = rng.chance(0.9) ? rng.int(1000) : rng.pick<PyValueIn>([-1, 2n ** 64n, "1", null, 0.5]);
  let op: string;
  let message: PyValueIn;
  if (r < 0.75) {
    op = "forged-request";
    message = randomRequest(rng, ctx, seq);
  } else if (r < 0.9) {
    op = "mutated-message";
    message = mutateMessage(rng, retarget(rng, rng.pick(SMALL_FRAMES).message, ctx), ctx);
  } else if (r < 0.95) {
    op = "forged-reply";
    message = randomReply(rng, ctx, seq);
  } else {
    op = "captured-retargeted";
    message = retarget(rng, rng.pick(SMALL_FRAMES).message, ctx);
  }
  return { op, bytes: validFrame(rng, safeDump(message)) };
}

/** The root's id_pack from a GETROOT reply, if the reply is one. */
function rootPack(reply: PyValue | null | undefined): IdPackValue | undefined {
  if (!Array.isArray(reply) || reply[0] !== C.MSG_REPLY) return undefined;
  const boxed = reply[2];
  if (!Array.isArray(boxed) || boxed[0] !== C.LABEL_REMOTE_REF) return undefined;
  return boxed[1] as unknown as IdPackValue;
}

/**
 * One fuzz worker: opens connections one after the other and sends batches of frames on
 * each until the budget says stop. Inputs are a pure function of (seed, worker, connection);
 * where the run stops depends on timing. A batch ends with a sync PING; a batch that breaks
 * the framing ends the connection instead.
 */
async function fuzzWorker(worker: number, port: number, budget: Budget, counts: Counts): Promise<void> {
  // Bounded: each connection sends at least one frame, and at most 100 x FRAMES are sent.
  for (let connIndex = 0; budget.more() && counts.frames < FRAMES * 100; connIndex++) {
    const rng = new Rng(deriveSeed(seed, 0x11fe, worker, connIndex));
    const conn = await FuzzConnection.open(port, counts);
    try {
      let syncSeq = SYNC_SEQ_BASE;
      // Real id_packs make forged requests reach real objects, not only the "unknown id" path.
      const real: IdPackValue[] = [];
      if (rng.chance(0.3)) {
        const root = rootPack(await conn.request(syncSeq++, C.HANDLE_GETROOT, [C.LABEL_VALUE, []]));
        if (root) real.push(root);
      }
      const ctx: RefContext = { real };
      let ackSeq = ACK_SEQ_BASE;
      for (let batch = 0; budget.more() && !conn.isClosed && batch < 1000; batch++) {
        // Every fuzz frame is followed by a PING: its answer proves the server read the frame,
        // and the first frame without one is the one it refused.
        const n = 1 + rng.int(rng.chance(0.8) ? 4 : MAX_BATCH);
        const parts: Buffer[] = [];
        let broken = false;
        for (let i = 0; i < n && !broken; i++) {
          const { op, bytes } = fuzzFrame(rng, ctx);
          parts.push(bytes);
          counts.frames++;
          counts.framesByOp[op] = (counts.framesByOp[op] ?? 0) + 1;
          broken = BREAKS_FRAMING.has(op as FrameOp);
          if (!broken) {
            conn.acks.add(ackSeq);
            parts.push(ackFrame(ackSeq++));
          }
        }
        conn.write(Buffer.concat(parts));
        if (broken) {
          // Nothing after a broken frame is read as sent: end the connection. The server must
          // close it (on the error, or on our EOF), never keep it.
          if (!(await conn.end())) {
            counts.stalled++;
            await conn.destroy();
          } else if (conn.closeRequested) {
            counts.closedByServer++;
            counts.fatal++;
          } else counts.endedByUs++;
          break;
        }
        // The answer to the last PING: every frame of the batch was read.
        const reply = await conn.request(syncSeq++, C.HANDLE_PING, [C.LABEL_VALUE, ["sync"]]);
        if (reply === null) {
          counts.closedByServer++;
          if (conn.closeRequested) counts.fatal++;
          break;
        }
        if (reply === undefined) {
          // The server waits for something the batch promised (a callback's answer, more
          // bytes): legitimate, but this connection is done.
          counts.stalled++;
          await conn.destroy();
          break;
        }
        counts.syncs++;
        expect(reply).toEqual([C.MSG_REPLY, syncSeq - 1, [C.LABEL_VALUE, "sync"]]);
      }
      if (conn.badOutput) throw new Error(`the server sent undecodable bytes: ${String(conn.badOutput)}`);
    } finally {
      if (!conn.isClosed) await conn.destroy();
    }
  }
}

it(`a live server survives ${FRAMES.toLocaleString("en")} mutated frames while a healthy client keeps working`, async () => {
  const server = new CountingServer(FuzzService, { hostname: "127.0.0.1", port: 0, protocolConfig: { maxFrameSize: MAX_FRAME_SIZE } });
  await server.start();
  try {
    await fuzzServer(server);
  } finally {
    await server.close();
  }
}, 240_000);

async function fuzzServer(server: CountingServer): Promise<void> {
  const healthy = await connectTo<FuzzService>(server.port);
  await eventually(() => server.connections.size === 1, 5000, "the healthy connection");
  const healthyOnServer = [...server.connections][0];
  const counts: Counts = {
    frames: 0,
    acked: 0,
    fatal: 0,
    framesByOp: {},
    connections: 0,
    closedByServer: 0,
    closeRequests: 0,
    endedByUs: 0,
    stalled: 0,
    replies: 0,
    errorReplies: 0,
    serverRequests: 0,
    syncs: 0,
    healthyCalls: 0,
  };
  const within = <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`healthy client: ${what} took over ${HEALTHY_TIMEOUT_MS} ms`)), HEALTHY_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  let fuzzing = true;
  const healthyLoop = async (): Promise<void> => {
    const rng = new Rng(deriveSeed(seed, 0x4ea1));
    // Bounded by the fuzz run (which is bounded by FRAMES) and by a hard cap.
    for (let i = 0; fuzzing && i < 10_000_000; i++) {
      const a = rng.range(-1_000_000, 1_000_000);
      const b = rng.range(-1_000_000, 1_000_000);
      expect(await within(healthy.root.add(a, b), "add")).toBe(a + b);
      const text = `token-${i}-${rng.u32()}`;
      expect(await within(healthy.root.echo(text), "echo")).toBe(text);
      if (i % 16 === 0) {
        expect(await within(healthy.root.get_answer(), "get_answer")).toBe(42);
        expect(await within(Promise.resolve(healthy.root.the_real_answer_though), "the_real_answer_though")).toBe(43);
      }
      counts.healthyCalls += i % 16 === 0 ? 4 : 2;
    }
  };

  const start = performance.now();
  let stop = false;
  /** Fuzz frames the server provably read: answered PINGs after them, or the close they caused. */
  const fuzzFramesRead = (): number => counts.acked + counts.fatal;
  const budget: Budget = { more: () => !stop && fuzzFramesRead() < FRAMES };
  // Either side failing stops the other, and both are awaited: no call is left pending.
  const healthyDone = healthyLoop().catch((err: unknown) => {
    stop = true;
    throw err;
  });
  const fuzzDone = Promise.all(
    Array.from({ length: PARALLEL }, (_, w) =>
      fuzzWorker(w, server.port, budget, counts).catch((err: unknown) => {
        stop = true;
        throw err;
      }),
    ),
  ).finally(() => {
    fuzzing = false;
  });
  const [fuzzed, served] = await Promise.allSettled([fuzzDone, healthyDone]);
  if (served.status === "rejected") throw served.reason;
  if (fuzzed.status === "rejected") throw fuzzed.reason;
  const elapsed = (performance.now() - start) / 1000;

  await eventually(() => server.connections.size === 1, 10_000, "the server to drop every fuzz connection");
  const read = fuzzFramesRead();
  console.log(
    `fuzz live seed ${seedHex(seed)}: ${counts.frames} fuzz frames sent, ${read} provably read by the server (${counts.acked} followed by an answered PING, ` +
      `${counts.fatal} refused with HANDLE_CLOSE); the server read ${server.framesIn(healthyOnServer)} frames in all (PINGs included), on ${counts.connections} connections in ${elapsed.toFixed(1)} s; ` +
      `${counts.closedByServer} connections closed by the server (${counts.closeRequests} after a HANDLE_CLOSE), ${counts.endedByUs} ended by us, ` +
      `${counts.stalled} stalled and dropped; ${counts.errorReplies} error replies, ${counts.replies} replies, ${counts.serverRequests} server requests, ` +
      `${counts.syncs} sync PINGs answered; healthy client: ${counts.healthyCalls} calls, all correct; by op ${JSON.stringify(counts.framesByOp)}`,
  );

  expect(read).toBeGreaterThanOrEqual(FRAMES);
  // The mix must reach every outcome: answers, error replies, and closed connections.
  expect(counts.errorReplies).toBeGreaterThan(1000);
  expect(counts.closedByServer).toBeGreaterThan(100);
  expect(counts.syncs).toBeGreaterThan(100);
  expect(counts.healthyCalls).toBeGreaterThan(100);
  // Every fuzz connection is gone from the server (checked above); the healthy one still serves.
  expect([...server.connections]).toEqual([healthyOnServer]);
  expect(healthy.closed).toBe(false);
  expect(await within(healthy.root.add(20, 22), "add")).toBe(42);
  // A new connection is served as well.
  const fresh = await connectTo<FuzzService>(server.port);
  expect(await within(fresh.root.get_answer(), "get_answer")).toBe(42);
}
