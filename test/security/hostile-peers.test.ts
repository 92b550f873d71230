// One hostile peer must not stall or kill a server (issue 16). Each attack that once cost
// the whole process (heap exhausted) or every client (seconds of stall, hundreds of MB) is
// sent here at a size that shows the mechanism, beside a healthy client on its own
// connection that must keep being served. The full-size runs, with Python RPyC 5.3 as
// control, are `npm run bench:hostile`. TLS renegotiation: tls-renegotiation.test.ts.

import { deflateSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { load } from "../../runtime/wire/brine.js";
import * as C from "../../runtime/wire/consts.js";
import {
  Connection,
  LimitExceededError,
  release,
  Service,
  type ProtocolConfig,
  type Stream,
  type StreamHandlers,
  type PyValue,
  type PyValueIn,
  type ThreadedServer,
} from "../../runtime/index.js";
import { dump, FrameDecoder } from "../../runtime/wire/index.js";
import { RawPeer, rawFrame, type Message } from "../helpers/raw-peer.js";
import { connectTo, eventually, serve } from "../helpers/servers.js";

type IdPack = readonly [string, number | bigint, number | bigint];

class Made {
  constructor(readonly exposed_i: number) {}
}

class Target extends Service {
  /** Netrefs a peer handed over, kept alive on purpose. */
  readonly kept: unknown[] = [];
  exposed_get_answer(): number {
    return 42;
  }
  exposed_echo(value: unknown): unknown {
    return value;
  }
  exposed_keep(...refs: unknown[]): number {
    this.kept.push(...refs);
    return this.kept.length;
  }
  /** A new object each call, sent by reference. */
  exposed_make(i: number): Made {
    return new Made(i);
  }
  /** Calls the peer back and waits for its answer. */
  async exposed_call_back(fn: (x: number) => Promise<number>): Promise<number> {
    return await fn(1);
  }
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A server, and a healthy client whose calls must keep succeeding through every attack. */
async function serverWithHealthyClient(protocolConfig: Partial<ProtocolConfig> = {}): Promise<{
  server: ThreadedServer;
  service: Target;
  healthy: Connection<Target>;
  expectHealthy: () => Promise<void>;
}> {
  const service = new Target();
  const server = await serve(service, { protocolConfig });
  opened.push(server);
  const healthy = await connectTo<Target>(server.port);
  opened.push(healthy);
  const expectHealthy = async (): Promise<void> => {
    expect(healthy.closed).toBe(false);
    expect(await healthy.root.get_answer()).toBe(42);
  };
  await expectHealthy();
  return { server, service, healthy, expectHealthy };
}

/** The server side of the connection that is not the healthy client's. */
function attackerSide<T>(server: ThreadedServer, healthy: Connection<T>): Connection {
  const healthyPort = healthy.config.endpoints?.[0];
  const found = [...server.connections].find((conn) => conn.config.endpoints?.[1] !== healthyPort);
  if (!found) throw new Error("no server-side connection for the attacker");
  return found;
}

/** A raw connection with its own seq counter. */
class Attacker {
  private seq = 0;
  private constructor(readonly peer: RawPeer) {}
  static async open(port: number): Promise<Attacker> {
    const attacker = new Attacker(await RawPeer.connect(port));
    opened.push({ close: () => attacker.peer.close() });
    return attacker;
  }
  nextSeq(): number {
    return this.seq++;
  }
  async call(handler: number, boxedArgs: PyValueIn): Promise<Message> {
    const seq = this.nextSeq();
    this.peer.request(seq, handler, boxedArgs);
    return this.peer.nextMatching((m) => m[0] !== C.MSG_REQUEST && Number(m[1]) === seq, 10_000, `the answer to seq ${seq}`);
  }
  async root(): Promise<IdPack> {
    const [, , boxed] = await this.call(C.HANDLE_GETROOT, [C.LABEL_VALUE, []]);
    return (boxed as readonly [number, IdPack])[1];
  }
  /** The boxed args of CALLATTR(root, name, args): `args` already boxed items. */
  static callattrArgs(root: IdPack, name: string, boxedItems: PyValueIn[]): PyValueIn {
    return [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, root],
        [C.LABEL_VALUE, name],
        [C.LABEL_TUPLE, boxedItems],
        [C.LABEL_VALUE, []],
      ],
    ];
  }
  /** Waits for the server's HANDLE_CLOSE request and the socket's end: the server dropped us. */
  async expectDropped(): Promise<void> {
    await this.peer.nextMatching((m) => m[0] === C.MSG_REQUEST && (m[2] as PyValue[])[0] === C.HANDLE_CLOSE, 10_000, "the server's CLOSE");
    await this.peer.waitClosed(10_000);
  }
}

/** A logger that keeps the server's warnings. */
function recordingLogger(warnings: string[]): NonNullable<ProtocolConfig["logger"]> {
  const ignore = (): void => {};
  return { debug: ignore, info: ignore, warn: (message: string) => void warnings.push(message), error: (message: string) => void warnings.push(message) };
}

/** A frame whose payload is a tuple (TAG_TUP_L4) of `count` copies of the brine item `itemHex`. */
function itemDenseFrame(count: number, itemHex: string): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0x15;
  head.writeUInt32BE(count, 1);
  return rawFrame(Buffer.concat([head, Buffer.from(itemHex.repeat(count), "hex")]));
}

describe("item-dense frames (decoding is bounded by maxBrineItems)", () => {
  it.each([
    ["1,000,000 empty bytes (1 MB)", "01"],
    ["1,000,000 empty frozensets (2 MB)", "1a02"],
    ["1,000,000 empty tuples (1 MB)", "02"],
  ])("a tuple of %s is refused from its header: the sender is dropped, the other client is served", async (_what, itemHex) => {
    const warnings: string[] = [];
    const { server, healthy, expectHealthy } = await serverWithHealthyClient({ logger: recordingLogger(warnings) });
    const attacker = await Attacker.open(server.port);
    attacker.peer.write(itemDenseFrame(1_000_000, itemHex));
    await attacker.expectDropped();
    // Refused at the tuple's header (offset 5): not one item was decoded.
    expect(warnings.join("\n")).toMatch(/more than 100000 values \(maxBrineItems; 1000000 more announced\) at offset 5/);
    await expectHealthy();
    await eventually(() => server.connections.size === 1, 10_000, "the attacker's connection to be gone");
    expect([...server.connections][0]!.stats().bytesOut).toBeGreaterThan(0);
    expect(healthy.closed).toBe(false);
  });

  it("the budget is the server's maxBrineItems: a message at it is served, one value more drops the sender", async () => {
    // The message (1, seq, (8, (2, (root ref, name, (2, ((1, tuple),)), empty)))) around a tuple of n values.
    const { server, expectHealthy } = await serverWithHealthyClient({ maxBrineItems: 1000 });
    const attacker = await Attacker.open(server.port);
    const root = await attacker.root();
    const message = (n: number): PyValueIn => [
      C.MSG_REQUEST,
      0,
      [C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "echo", [[C.LABEL_VALUE, new Array<number>(n).fill(7)]])],
    ];
    const overhead = countValues(dump(message(0))); // values around the payload tuple
    const fits = 1000 - overhead;
    const [msg, , boxed] = await attacker.call(C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "echo", [[C.LABEL_VALUE, new Array<number>(fits).fill(7)]]));
    expect(msg).toBe(C.MSG_REPLY);
    expect((boxed as [number, number[]])[1]).toHaveLength(fits);
    attacker.peer.request(attacker.nextSeq(), C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "echo", [[C.LABEL_VALUE, new Array<number>(fits + 1).fill(7)]]));
    await attacker.expectDropped();
    await expectHealthy();
  });
});

/** Values a brine payload decodes into, counted the way the decoder charges them. */
function countValues(payload: Uint8Array): number {
  let values = 0;
  const walk = (value: PyValue): void => {
    values++;
    if (Array.isArray(value)) for (const item of value) walk(item);
  };
  walk(load(payload));
  return values;
}

describe("references (maxNetrefs, maxLocalObjects)", () => {
  /** n distinct REMOTE_REF boxes, as a peer's own objects would be sent. */
  const refs = (n: number, from = 1): PyValueIn[] => Array.from({ length: n }, (_, i) => [C.LABEL_REMOTE_REF, ["builtins.object", 77, from + i]]);

  it("a message that would pass maxNetrefs makes no netref, gets a LimitExceededError reply and its references back; one over the limit by itself drops the sender", async () => {
    const { server, service, healthy, expectHealthy } = await serverWithHealthyClient({ maxNetrefs: 100 });
    const attacker = await Attacker.open(server.port);
    const root = await attacker.root();
    const side = attackerSide(server, healthy);

    const first = await attacker.call(C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "keep", refs(60)));
    expect(first).toEqual([C.MSG_REPLY, expect.anything(), [C.LABEL_VALUE, 60]]);
    expect(side.stats().remoteNetrefs).toBe(60);

    const refused = await attacker.call(C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "keep", refs(60, 1000)));
    expect(refused[0]).toBe(C.MSG_EXCEPTION);
    expect(JSON.stringify(refused[2])).toMatch(/maxNetrefs \(100\)/);
    expect(service.kept).toHaveLength(60);
    expect(side.stats().remoteNetrefs).toBe(60);
    // Every reference of the refused message was given back: one HANDLE_DEL each, count 1.
    await eventually(() => attacker.peer.received.filter(isDel).length >= 60, 10_000, "60 DELs");
    const deleted = attacker.peer.received.filter(isDel).map((m) => delTarget(m));
    expect(deleted.map(([pack, count]) => [Number(pack[2]), count]).sort((a, b) => a[0]! - b[0]!)).toEqual(Array.from({ length: 60 }, (_, i) => [1000 + i, 1]));

    // 101 references in one message: more than the limit allows at all, the sender is broken.
    attacker.peer.request(attacker.nextSeq(), C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "keep", refs(101, 5000)));
    await attacker.expectDropped();
    await expectHealthy();
    await eventually(() => server.connections.size === 1, 10_000, "the attacker's connection to be gone");
  });

  it("maxLocalObjects: the peer holding as many of our objects as allowed gets a LimitExceededError, and room again once it releases one", async () => {
    const service = new Target();
    const server = await serve(service, { protocolConfig: { maxLocalObjects: 10 } });
    opened.push(server);
    const client = await connectTo<Target>(server.port);
    opened.push(client);
    const made: unknown[] = [];
    for (let i = 0; i < 9; i++) made.push(await client.root.make(i)); // the root is the 10th object
    const refused = await client.root.make(9).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/maxLocalObjects/);
    const [side] = server.connections;
    expect(side!.stats().localObjects).toBe(10);
    // Our own calls refuse the same way, before anything is sent, and a message refused
    // halfway through boxing leaves no entry behind (the peer would never release it).
    const local = await connectTo<Target>(server.port, { config: { maxLocalObjects: 1 } });
    opened.push(local);
    await local.getRoot();
    const sent = local.stats().requestsSent;
    await expect(local.root.echo([{ a: 1 }, { b: 2 }])).rejects.toBeInstanceOf(LimitExceededError);
    expect(local.stats().localObjects).toBe(0);
    expect(local.stats().requestsSent).toBe(sent);
    expect(await local.root.echo([1, 2])).toEqual([1, 2]);

    // Releasing one (HANDLE_DEL) makes room.
    release(made[0]);
    await eventually(() => side!.stats().localObjects === 9, 10_000, "the released object to leave the table");
    expect(await (await client.root.make(9)).i).toBe(9);
  });
});

function isDel(m: Message): boolean {
  return m[0] === C.MSG_REQUEST && (m[2] as PyValue[])[0] === C.HANDLE_DEL;
}

/** (id_pack, count) of a HANDLE_DEL request: (15, (2, ((3, id_pack), (1, count)))). */
function delTarget(m: Message): [IdPack, number] {
  const boxed = (m[2] as PyValue[])[1] as [number, [[number, IdPack], [number, number]]];
  return [boxed[1][0][1], boxed[1][1][1]];
}

describe("compressed frames (inflated off the event loop, in order)", () => {
  it("eight pipelined echo requests each inflating to 1 MiB are all answered, in order, while another client is served", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient();
    const attacker = await Attacker.open(server.port);
    const root = await attacker.root();
    const frames: Buffer[] = [];
    const seqs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const seq = attacker.nextSeq();
      seqs.push(seq);
      const payload = dump([
        C.MSG_REQUEST,
        seq,
        [C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "echo", [[C.LABEL_VALUE, new Uint8Array(1024 * 1024).fill(i)]])],
      ]);
      const body = deflateSync(payload);
      expect(body.length).toBeLessThan(8 * 1024); // a small frame on the wire
      frames.push(rawFrame(body, 1));
    }
    attacker.peer.write(Buffer.concat(frames)); // one write: the server reads them together
    await expectHealthy();
    for (const [i, seq] of seqs.entries()) {
      const [msg, got, boxed] = await attacker.peer.nextMatching((m) => m[0] !== C.MSG_REQUEST, 30_000, `echo ${i}`);
      expect([msg, Number(got)]).toEqual([C.MSG_REPLY, seq]);
      const bytes = (boxed as [number, Uint8Array])[1];
      expect(bytes.length).toBe(1024 * 1024);
      expect(bytes[0]).toBe(i);
      expect(bytes[bytes.length - 1]).toBe(i);
    }
    await expectHealthy();
  });

  it("a zlib bomb inflating past maxFrameSize drops its sender only", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient({ maxFrameSize: 1024 * 1024 });
    const attacker = await Attacker.open(server.port);
    const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(16 * 1024);
    attacker.peer.write(Buffer.concat([rawFrame(bomb, 1), rawFrame(bomb, 1)]));
    await attacker.expectDropped();
    await expectHealthy();
  });
});

describe("a flood of requests behind handlers waiting for the flooder (maxQueuedBytes counts real memory)", () => {
  it("queued requests stop at maxQueuedBytes counting their overhead, reading stops, and everything resumes when the callbacks fail", async () => {
    const maxQueuedBytes = 64 * 1024;
    const { server, healthy, expectHealthy } = await serverWithHealthyClient({ maxConcurrentRequests: 10, maxQueuedBytes, sync_request_timeout: 5 });
    const attacker = await Attacker.open(server.port);
    const root = await attacker.root();
    const side = attackerSide(server, healthy);
    // Ten handlers call back into the attacker, which never answers: every slot is taken.
    const fn: PyValueIn = [C.LABEL_REMOTE_REF, ["builtins.function", 5, 6]];
    for (let i = 0; i < 10; i++) attacker.peer.request(attacker.nextSeq(), C.HANDLE_CALLATTR, Attacker.callattrArgs(root, "call_back", [fn]));
    await eventually(() => side.stats().servingRequests === 10, 10_000, "ten handlers waiting");
    // Then 20,000 pings of 10-byte payloads (each ~20 bytes on the wire: 400 KB in all).
    const pings: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) pings.push(rawFrame(dump([C.MSG_REQUEST, attacker.nextSeq(), [C.HANDLE_PING, [C.LABEL_VALUE, ["0123456789"]]]])));
    attacker.peer.write(Buffer.concat(pings));
    await eventually(() => side.stats().readingPaused && side.stats().queuedBytes >= maxQueuedBytes, 10_000, "the queue to fill and reading to stop");
    const { queuedRequests, queuedBytes } = side.stats();
    // Each waiting ping counts its payload and ~128 bytes of overhead: far fewer than
    // maxQueuedBytes / payload size are held, and the queue stops within one request of the limit.
    expect(queuedBytes).toBeLessThan(maxQueuedBytes + 256);
    expect(queuedRequests).toBeLessThan(maxQueuedBytes / 128);
    expect(queuedRequests).toBeGreaterThan(maxQueuedBytes / 256);
    await expectHealthy();
    // The callbacks time out (sync_request_timeout), slots free up, the pings are all answered.
    await eventually(() => attacker.peer.received.filter((m) => m[0] === C.MSG_REPLY).length >= 20_001, 60_000, "every ping answered");
    expect(side.stats().queuedBytes).toBe(0);
    expect(side.stats().readingPaused).toBe(false);
    await expectHealthy();
  }, 90_000);
});

/** A Stream in memory: the test feeds the connection's input and reads what it wrote. */
class MemoryStream implements Stream {
  handlers: StreamHandlers | undefined;
  paused = false;
  closed = false;
  readonly endpoints = null;
  private readonly decoder = new FrameDecoder();
  /** Messages the connection wrote, decoded. */
  readonly sent: Message[] = [];
  write(data: Uint8Array): void {
    for (const payload of this.decoder.push(Buffer.from(data))) this.sent.push(load(payload) as unknown as Message);
  }
  start(handlers: StreamHandlers): void {
    this.handlers = handlers;
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.close();
  }
  destroy(): void {
    void this.close();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** Replies the connection sent, as [seq, value]. */
  replies(): [number, unknown][] {
    return this.sent.filter((m) => m[0] === C.MSG_REPLY).map((m) => [Number(m[1]), (m[2] as [number, unknown])[1]]);
  }
}

/** A PING request frame echoing `data`, compressed or not. */
function pingFrame(seq: number, data: string, compressed: boolean): Buffer {
  const payload = dump([C.MSG_REQUEST, seq, [C.HANDLE_PING, [C.LABEL_VALUE, [data]]]]);
  return compressed ? rawFrame(deflateSync(payload), 1) : rawFrame(payload);
}

describe("what one read may cost the event loop (Connection over a stream in memory)", () => {
  it("a large compressed frame inflates off the event loop: reading pauses, the frames behind it wait, then all are served in order", async () => {
    const stream = new MemoryStream();
    const conn = await new Connection(new Target(), stream).open();
    opened.push(conn);
    const big = "z".repeat(2 * 1024 * 1024); // inflates past INFLATE_NOW_LIMIT
    stream.handlers!.data(Buffer.concat([pingFrame(0, "small first", false), pingFrame(1, big, true), pingFrame(2, "small after", false)]));
    // Synchronously: the frame before the big one was served, the rest waits for zlib's thread pool.
    expect(stream.replies().map(([seq]) => seq)).toEqual([0]);
    expect(stream.paused).toBe(true);
    expect(conn.stats().readingPaused).toBe(true);
    await eventually(() => stream.replies().length === 3, 10_000, "all three replies");
    expect(stream.replies().map(([seq]) => seq)).toEqual([0, 1, 2]);
    expect((stream.replies()[1]![1] as string).length).toBe(big.length);
    expect(stream.paused).toBe(false);
  });

  it("small compressed frames inflate on the spot (no detour)", async () => {
    const stream = new MemoryStream();
    const conn = await new Connection(new Target(), stream).open();
    opened.push(conn);
    stream.handlers!.data(Buffer.concat([pingFrame(0, "y".repeat(50_000), true), pingFrame(1, "after", false)]));
    expect(stream.replies().map(([seq]) => seq)).toEqual([0, 1]);
    expect(stream.paused).toBe(false);
  });

  it("after every 64 KiB of payloads the connection lets the event loop turn before reading on", async () => {
    const stream = new MemoryStream();
    const conn = await new Connection(new Target(), stream, { compress: false }).open();
    opened.push(conn);
    const frames = [0, 1, 2, 3].map((seq) => pingFrame(seq, "x".repeat(40 * 1024), false));
    stream.handlers!.data(Buffer.concat(frames));
    // 2 x 40 KiB passes 64 KiB: two served now, the others on the next turns.
    expect(stream.replies().map(([seq]) => seq)).toEqual([0, 1]);
    expect(stream.paused).toBe(true);
    await eventually(() => stream.replies().length === 4, 10_000, "all four replies");
    expect(stream.replies().map(([seq]) => seq)).toEqual([0, 1, 2, 3]);
    await eventually(() => !stream.paused, 10_000, "reading to resume");
    // Across reads too: a frame that completes the budget pauses reading even when it is the read's last.
    stream.handlers!.data(pingFrame(4, "x".repeat(70 * 1024), false));
    expect(stream.replies().map(([seq]) => seq)).toEqual([0, 1, 2, 3, 4]);
    expect(stream.paused).toBe(true);
    await eventually(() => !stream.paused, 10_000, "reading to resume");
  });
});
