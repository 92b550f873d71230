// The sending side of the transport: frameChunks (large payloads framed without a copy,
// compression only where it pays), SocketStream's write coalescing (one socket write per
// tick), and megabyte bytes/str values between rpyc-ts peers and with Python RPyC 5.3.

import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { inflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import {
  COMPRESSION_PROBE_THRESHOLD,
  COMPRESSION_THRESHOLD,
  FLUSHER,
  FRAME_HEADER_SIZE,
  FrameDecoder,
  ZERO_COPY_THRESHOLD,
  encodeFrame,
  frameChunks,
} from "../../runtime/wire/channel.js";
import { BYTES_VIEW_THRESHOLD, dump, dumpFrame } from "../../runtime/wire/brine.js";
import type { PyValueIn } from "../../runtime/wire/values.js";
import { Service, SocketStream } from "../../runtime/index.js";
import { requirePythonRpyc, runPythonClient, startPython, WITH_PYTHON, type PythonProcess } from "../helpers/python.js";
import { connectTo, eventually, serve } from "../helpers/servers.js";

const TEXT = "lorem ipsum dolor sit amet, consectetur adipiscing elit, été 世界. ";

function compressible(size: number): Buffer {
  return Buffer.from(TEXT.repeat(Math.ceil(size / TEXT.length)), "utf8").subarray(0, size);
}

function concat(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

/** Flag byte and body of a single frame given as chunks. */
function parse(chunks: readonly Uint8Array[]): { flag: number; body: Buffer } {
  const frame = concat(chunks);
  const length = frame.readUInt32BE(0);
  expect(frame.length).toBe(FRAME_HEADER_SIZE + length + 1);
  expect(frame[frame.length - 1]).toBe(FLUSHER);
  return { flag: frame[4]!, body: frame.subarray(FRAME_HEADER_SIZE, FRAME_HEADER_SIZE + length) };
}

describe("dumpFrame", () => {
  it("sends the bytes frameChunks(dump(value)) sends, and big bytes values as their own chunk", () => {
    const big = randomBytes(1 << 20);
    const values: PyValueIn[] = [
      [1, 2, "x"],
      "s".repeat(COMPRESSION_THRESHOLD + 1),
      compressible(200_000).toString("latin1"),
      big,
      [1, 7, [big, "tail", randomBytes(BYTES_VIEW_THRESHOLD), 3]],
      compressible(300_000),
      [randomBytes(BYTES_VIEW_THRESHOLD - 1), randomBytes(70_000).toString("hex")],
    ];
    for (const value of values) {
      for (const compress of [true, false]) {
        const chunks = dumpFrame(value, compress);
        expect(Buffer.compare(concat(chunks), concat(frameChunks(dump(value), compress)))).toBe(0);
      }
    }
    const chunks = dumpFrame([1, 7, [big, "tail"]], true);
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(big);
  });
});

describe("frameChunks", () => {
  it("frames a small payload as one buffer, byte for byte what encodeFrame builds", () => {
    for (const size of [0, 1, 100, COMPRESSION_THRESHOLD]) {
      const payload = randomBytes(size);
      const chunks = frameChunks(payload, true);
      expect(chunks).toHaveLength(1);
      expect(Buffer.from(chunks[0]!)).toEqual(encodeFrame(payload, true));
    }
  });

  it("does not copy a large payload: [header, the payload itself, flusher]", () => {
    const payload = randomBytes(ZERO_COPY_THRESHOLD);
    const chunks = frameChunks(payload, false);
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(payload);
    expect(Buffer.from(chunks[0]!)).toEqual(Buffer.from([0, 0, ZERO_COPY_THRESHOLD >> 8, 0, 0]));
    expect(Array.from(chunks[2]!)).toEqual([FLUSHER]);
    expect(concat(chunks)).toEqual(encodeFrame(payload, false));
  });

  it("sends incompressible data above the threshold raw (flag 0), small or probed", () => {
    for (const size of [COMPRESSION_THRESHOLD + 1, 20_000, COMPRESSION_PROBE_THRESHOLD + 1, 4 << 20]) {
      const payload = randomBytes(size);
      const { flag, body } = parse(frameChunks(payload, true));
      expect(flag, `size ${size}`).toBe(0);
      expect(body.equals(payload)).toBe(true);
    }
  });

  it("compresses compressible data above the threshold with zlib level 1 (78 01)", () => {
    for (const size of [COMPRESSION_THRESHOLD + 1, 50_000, COMPRESSION_PROBE_THRESHOLD + 1, 4 << 20]) {
      const payload = compressible(size);
      const { flag, body } = parse(frameChunks(payload, true));
      expect(flag, `size ${size}`).toBe(1);
      expect(body.length).toBeLessThan(size / 4);
      expect([body[0], body[1]]).toEqual([0x78, 0x01]);
      expect(inflateSync(body).equals(payload)).toBe(true);
    }
  });

  it("compresses nothing when compression is off", () => {
    const payload = compressible(1 << 20);
    const chunks = frameChunks(payload, false);
    expect(parse(chunks).flag).toBe(0);
    expect(chunks[1]).toBe(payload);
  });

  it("a payload of random data with a compressible middle is compressed (the probe looks at the middle)", () => {
    const payload = Buffer.concat([randomBytes(200_000), compressible(200_000), randomBytes(200_000)]);
    const { flag, body } = parse(frameChunks(payload, true));
    expect(flag).toBe(1);
    expect(inflateSync(body).equals(payload)).toBe(true);
  });

  it("FrameDecoder reads whole frames in place and buffers only the partial tail", () => {
    const a = encodeFrame(Buffer.from("first"), false);
    const b = encodeFrame(compressible(4000), true);
    const c = encodeFrame(randomBytes(100), false);
    const chunk = Buffer.concat([a, b, c.subarray(0, 40)]);
    const decoder = new FrameDecoder();
    const out = decoder.push(chunk);
    expect(out.map((p) => p.length)).toEqual([5, 4000]);
    expect(out[0]!.buffer).toBe(chunk.buffer); // a view, not a copy
    expect(out[1]!.equals(compressible(4000))).toBe(true);
    expect(decoder.pending).toBe(40);
    const rest = decoder.push(c.subarray(40));
    expect(rest).toHaveLength(1);
    expect(rest[0]!.equals(c.subarray(FRAME_HEADER_SIZE, c.length - 1))).toBe(true);
    expect(decoder.pending).toBe(0);
    // The size limit applies on the in-place path too, from the header alone.
    const small = new FrameDecoder(10);
    expect(() => small.push(Buffer.concat([encodeFrame(Buffer.from("ok"), false), Buffer.from([0, 0, 0, 11, 0])]))).toThrow(/too large|exceeds|limit/i);
  });

  it("FrameDecoder reads back every form, fed in uneven chunks", () => {
    const payloads = [Buffer.alloc(0), randomBytes(10), compressible(5000), randomBytes(5000), compressible(300_000), randomBytes(300_000)];
    const stream = concat(payloads.flatMap((p) => frameChunks(p, true)));
    const decoder = new FrameDecoder();
    const out: Buffer[] = [];
    for (let at = 0, step = 1; at < stream.length; at += step, step = (step * 7 + 3) % 65_521) {
      out.push(...decoder.push(stream.subarray(at, at + step)));
    }
    expect(out.length).toBe(payloads.length);
    out.forEach((p, i) => expect(p.equals(payloads[i]!), `payload ${i}`).toBe(true));
    expect(decoder.pending).toBe(0);
  });
});

// ---- SocketStream: coalescing --------------------------------------------------------

interface Pair {
  readonly stream: SocketStream;
  readonly socket: Socket;
  /** Everything the far side has received so far. */
  received(): Buffer;
  /** How many times the socket handed data to the kernel (_write or _writev calls). */
  readonly writes: { single: number; vectored: number; chunks: number };
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function socketPair(): Promise<Pair> {
  const got: Buffer[] = [];
  const server = createServer((peer) => {
    sockets.push(peer);
    peer.on("data", (chunk: Buffer) => got.push(chunk));
    peer.on("end", () => peer.end());
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const socket = netConnect({ host: "127.0.0.1", port: (server.address() as { port: number }).port });
  sockets.push(socket);
  await once(socket, "connect");
  const writes = { single: 0, vectored: 0, chunks: 0 };
  // Count what reaches the socket's own write methods (the syscalls' callers).
  const target = socket as unknown as {
    _write(chunk: Buffer, encoding: string, cb: () => void): void;
    _writev(chunks: { chunk: Buffer }[], cb: () => void): void;
  };
  const write = target._write.bind(socket);
  const writev = target._writev.bind(socket);
  target._write = (chunk, encoding, cb) => {
    writes.single++;
    writes.chunks++;
    write(chunk, encoding, cb);
  };
  target._writev = (chunks, cb) => {
    writes.vectored++;
    writes.chunks += chunks.length;
    writev(chunks, cb);
  };
  const stream = new SocketStream(socket);
  return { stream, socket, received: () => Buffer.concat(got), writes };
}

describe("SocketStream write coalescing", () => {
  it("hands everything written in one tick to the socket in one write, in order", async () => {
    const pair = await socketPair();
    pair.stream.start({ data: () => {}, close: () => {} });
    const parts = Array.from({ length: 200 }, (_, i) => Buffer.from(`message ${i};`));
    for (const part of parts) pair.stream.write(part);
    expect(pair.writes.single + pair.writes.vectored).toBe(0); // nothing before the tick ends
    const expected = Buffer.concat(parts);
    await eventually(() => pair.received().length >= expected.length, 5000, "all bytes");
    expect(pair.received().equals(expected)).toBe(true);
    expect(pair.writes).toEqual({ single: 0, vectored: 1, chunks: 200 });
  });

  it("a lone write goes out within the same tick's end, as one plain write", async () => {
    const pair = await socketPair();
    pair.stream.start({ data: () => {}, close: () => {} });
    pair.stream.write(Buffer.from("ping"));
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(pair.writes).toEqual({ single: 1, vectored: 0, chunks: 1 });
    // Writes of a later tick make a write of their own.
    pair.stream.write(Buffer.from("a"));
    pair.stream.write(Buffer.from("b"));
    await eventually(() => pair.received().length === 6, 5000, "all bytes");
    expect(pair.received().toString()).toBe("pingab");
    expect(pair.writes).toEqual({ single: 1, vectored: 1, chunks: 3 });
  });

  it("writableLength counts bytes not yet handed to the socket, and drain reports the emptied buffer", async () => {
    const pair = await socketPair();
    let drains = 0;
    pair.stream.start({ data: () => {}, close: () => {}, drain: () => drains++ });
    expect(pair.stream.writableLength).toBe(0);
    pair.stream.write(Buffer.alloc(1000));
    pair.stream.write(Buffer.alloc(500));
    expect(pair.stream.writableLength).toBe(1500);
    await eventually(() => drains === 1 && pair.stream.writableLength === 0, 5000, "drain");
    expect(pair.received().length).toBe(1500);
  });

  it("close() sends what was written in the same tick before the FIN", async () => {
    const pair = await socketPair();
    pair.stream.start({ data: () => {}, close: () => {} });
    pair.stream.write(Buffer.from("last words"));
    await pair.stream.close();
    expect(pair.received().toString()).toBe("last words");
  });

  it("destroy() drops unsent writes, and writes after close are ignored", async () => {
    const pair = await socketPair();
    pair.stream.start({ data: () => {}, close: () => {} });
    pair.stream.write(Buffer.from("never sent"));
    pair.stream.destroy();
    pair.stream.write(Buffer.from("ignored"));
    expect(pair.stream.writableLength).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50)); // deliberate: time for bytes that must not arrive
    expect(pair.writes.chunks).toBe(0);
    expect(pair.received().length).toBe(0);
  });
});

// ---- megabyte values, rpyc-ts <-> rpyc-ts and with Python ----------------------------

type Kind = "bytes-random" | "bytes-text" | "str-random" | "str-text";
const KINDS: readonly Kind[] = ["bytes-random", "bytes-text", "str-random", "str-text"];

/** About `size` bytes (UTF-8 for str), random (incompressible) or text (compressible). */
function makeValue(kind: Kind, size: number): Uint8Array | string {
  switch (kind) {
    case "bytes-random":
      return new Uint8Array(randomBytes(size));
    case "bytes-text":
      return new Uint8Array(compressible(size));
    case "str-text":
      return TEXT.repeat(Math.ceil(size / Buffer.byteLength(TEXT)));
    case "str-random": {
      // Random code points below the surrogates (mostly 3 UTF-8 bytes each).
      const units = new Uint16Array(Math.floor(size / 3));
      const rnd = randomBytes(units.length * 2);
      for (let i = 0; i < units.length; i++) units[i] = 0x20 + (rnd.readUInt16LE(i * 2) % (0xd800 - 0x20));
      let out = "";
      for (let i = 0; i < units.length; i += 8192) out += String.fromCharCode(...units.subarray(i, i + 8192));
      return out;
    }
  }
}

/** "type:length:sha256", as transport_peer.py's digest(). */
function digest(value: unknown): string {
  if (typeof value === "string") {
    const data = Buffer.from(value, "utf8");
    return `str:${data.length}:${createHash("sha256").update(data).digest("hex")}`;
  }
  if (value instanceof Uint8Array) return `bytes:${value.length}:${createHash("sha256").update(value).digest("hex")}`;
  return `not bytes or str: ${typeof value}`;
}

class BigService extends Service {
  last: Uint8Array | string = "";
  exposed_echo(value: unknown): unknown {
    return value;
  }
  exposed_digest(value: unknown): string {
    return digest(value);
  }
  exposed_make(kind: Kind, size: number): Uint8Array | string {
    this.last = makeValue(kind, size);
    return this.last;
  }
  exposed_last_digest(): string {
    return digest(this.last);
  }
}

interface BigRemote {
  echo(value: Uint8Array | string): Promise<Uint8Array | string>;
  digest(value: Uint8Array | string): Promise<string>;
  make(kind: Kind, size: number): Promise<Uint8Array | string>;
  last_digest(): Promise<string>;
}

const SIZES = [1 << 20, 8 << 20];

describe("megabyte values between rpyc-ts peers", () => {
  for (const compress of [true, false]) {
    it(`bytes and str of 1 and 8 MB, random and compressible, both ways (compress ${compress})`, async () => {
      const server = await serve(BigService, { protocolConfig: { compress } });
      const conn = await connectTo<BigRemote>(server.port, { service: BigService, config: { compress, sync_request_timeout: 60 } });
      const root = conn.root;
      for (const kind of KINDS) {
        for (const size of SIZES) {
          const value = makeValue(kind, size);
          const before = conn.stats().bytesOut;
          const echoed = await root.echo(value);
          const sent = conn.stats().bytesOut - before;
          expect(digest(echoed), `${kind} ${size}`).toBe(digest(value));
          expect(await root.digest(value)).toBe(digest(value));
          const made = await root.make(kind, size);
          expect(digest(made)).toBe(await root.last_digest());
          // Random bytes travel raw (no zlib, no growth); text is compressed when allowed.
          // (Random code points are in between: their UTF-8 deflates to about 80%.)
          const raw = typeof value === "string" ? Buffer.byteLength(value) : value.length;
          if (kind === "bytes-random" || !compress) expect(sent).toBeGreaterThan(raw);
          else if (kind === "str-random") expect(sent).toBeGreaterThan(raw / 2);
          else expect(sent).toBeLessThan(raw / 4);
        }
      }
    }, 60_000);
  }

  it("many large and small calls in flight at once keep their order and content", async () => {
    const server = await serve(BigService);
    const conn = await connectTo<BigRemote>(server.port, { config: { sync_request_timeout: 60 } });
    const values = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? makeValue(i % 2 ? "bytes-random" : "str-text", 300_000 + i) : `small ${i}`));
    const echoed = await Promise.all(values.map((v) => conn.root.echo(v)));
    echoed.forEach((e, i) => expect(digest(e), `value ${i}`).toBe(digest(values[i])));
  }, 60_000);
});

describe.runIf(WITH_PYTHON)("megabyte values with Python RPyC 5.3", () => {
  let python: PythonProcess;

  it("rpyc-ts client -> Python server: echo, digest and values made by Python", async () => {
    requirePythonRpyc();
    python = await startPython("transport_peer.py", ["server"]);
    try {
      const conn = await connectTo<BigRemote>(python.port, { config: { sync_request_timeout: 60 } });
      const root = conn.root;
      for (const kind of KINDS) {
        for (const size of SIZES) {
          const value = makeValue(kind, size);
          const before = conn.stats().bytesOut;
          expect(digest(await root.echo(value)), `${kind} ${size}`).toBe(digest(value));
          const sent = conn.stats().bytesOut - before;
          // Python accepts our raw frames of random data and our compressed ones of text.
          const raw = typeof value === "string" ? Buffer.byteLength(value) : value.length;
          if (kind === "bytes-random") expect(sent).toBeGreaterThan(raw);
          else if (kind.endsWith("text")) expect(sent).toBeLessThan(raw / 4);
          expect(await root.digest(value)).toBe(digest(value));
          const made = await root.make(kind, size);
          expect(typeof made === "string" ? "str" : "bytes").toBe(kind.split("-")[0]);
          expect(digest(made)).toBe(await root.last_digest());
        }
      }
      await conn.close();
    } finally {
      await python.stop();
    }
  }, 120_000);

  it("Python client -> rpyc-ts server: echo, digest and values made by rpyc-ts", async () => {
    const server = await serve(BigService);
    const out = await runPythonClient("transport_peer.py", ["client", String(server.port)], 120_000);
    const checks = out["checks"] as { kind: string; size: number; echo_ok: boolean; ts_digest_ok: boolean; made_ok: boolean; made_type: string }[];
    expect(checks).toHaveLength(KINDS.length * SIZES.length);
    for (const check of checks) {
      expect(check, `${check.kind} ${check.size}`).toMatchObject({ echo_ok: true, ts_digest_ok: true, made_ok: true, made_type: check.kind.split("-")[0] });
    }
  }, 120_000);
});
