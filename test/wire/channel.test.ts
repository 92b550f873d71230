// Channel framing conformance: encodeFrame layout and compression policy, FrameDecoder on
// frames captured from real Python RPyC 5.3 sessions (whole, byte by byte, random chunks),
// the size limit, corrupt zlib data and zlib bombs; plus a live exchange with rpyc's Channel.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { deflateRawSync, deflateSync, gzipSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { load } from "../../runtime/wire/brine.js";
import { COMPRESSION_THRESHOLD, DEFAULT_MAX_FRAME_SIZE, FrameDecoder, encodeFrame } from "../../runtime/wire/channel.js";
import { FrameTooLargeError, ProtocolError } from "../../runtime/errors/rpyc-errors.js";
import { PYTHON, requirePythonRpyc, WITH_PYTHON } from "../helpers/python.js";
import { prng } from "../helpers/prng.js";

const VECTORS_DIR = new URL("../vectors/", import.meta.url);
const SESSION_FILES = ["session-a-seed.json", "session-b-callback.json", "session-c-large.json", "session-d-exception.json", "session-e-misc.json"];

interface SessionFrame {
  dir: string;
  hex: string;
  length_field: number;
  compressed: number;
  terminator_ok: boolean;
  payload_len: number;
  payload_hex?: string;
  payload_hex_prefix?: string;
}

const sessions = SESSION_FILES.map((file) => ({
  file,
  frames: (JSON.parse(readFileSync(new URL(file, VECTORS_DIR), "utf8")) as { frames: SessionFrame[] }).frames,
}));

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const unhex = (s: string): Buffer => Buffer.from(s, "hex");

/** What a frame must decode to: the exact payload, or (compressed, long) its length and prefix. */
interface ExpectedPayload {
  exact?: string;
  length: number;
  prefix?: string;
}

function expectedPayload(frame: SessionFrame): ExpectedPayload {
  if (frame.payload_hex !== undefined) return { exact: frame.payload_hex, length: frame.payload_len };
  if (frame.compressed)
    return frame.payload_hex_prefix === undefined ? { length: frame.payload_len } : { length: frame.payload_len, prefix: frame.payload_hex_prefix };
  // Uncompressed: the payload is the frame body (between the 5-byte header and the flusher).
  return { exact: frame.hex.slice(10, -2), length: frame.payload_len };
}

function expectPayloads(actual: Buffer[], expected: ExpectedPayload[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((payload, i) => {
    const want = expected[i]!;
    expect(payload.length, `payload ${i} length`).toBe(want.length);
    if (want.exact !== undefined) expect(hex(payload), `payload ${i}`).toBe(want.exact);
    if (want.prefix !== undefined) expect(hex(payload.subarray(0, want.prefix.length / 2)), `payload ${i} prefix`).toBe(want.prefix);
  });
}

function randomBytes(n: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Feeds `stream` to a fresh decoder in the given chunk sizes (cycled) and collects payloads. */
function decodeInChunks(stream: Buffer, nextSize: () => number, maxFrameSize?: number): Buffer[] {
  const decoder = new FrameDecoder(maxFrameSize);
  const out: Buffer[] = [];
  for (let pos = 0; pos < stream.length; ) {
    const size = Math.max(1, nextSize());
    out.push(...decoder.push(stream.subarray(pos, pos + size)));
    pos += size;
  }
  expect(decoder.pending).toBe(0);
  return out;
}

function header(length: number, flag: number): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(length, 0);
  h[4] = flag;
  return h;
}

/** A frame built by hand (any flag and terminator), for decoder tests. */
function rawFrame(body: Uint8Array, flag: number, terminator = 0x0a): Buffer {
  return Buffer.concat([header(body.length, flag), body, Buffer.from([terminator])]);
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

// ---- encodeFrame --------------------------------------------------------------------------

describe("encodeFrame", () => {
  it("lays out header (u32 BE length, flag), body and a trailing 0x0a not counted in the length", () => {
    const frame = encodeFrame(unhex("1251501153115102"));
    expect(hex(frame)).toBe("000000080012515011531151020a");
    expect(frame.readUInt32BE(0)).toBe(frame.length - 6);
  });

  it("an empty payload is a 6-byte frame", () => {
    expect(hex(encodeFrame(new Uint8Array(0)))).toBe("00000000000a");
  });

  it("reproduces every uncompressed frame of the captured Python sessions byte for byte", () => {
    let count = 0;
    for (const { frames } of sessions) {
      for (const frame of frames.filter((f) => !f.compressed)) {
        expect(hex(encodeFrame(unhex(frame.hex.slice(10, -2))))).toBe(frame.hex);
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
  });

  it(`sends payloads of exactly ${COMPRESSION_THRESHOLD} bytes raw`, () => {
    expect(COMPRESSION_THRESHOLD).toBe(3000);
    const payload = Buffer.alloc(3000, 0x61);
    const frame = encodeFrame(payload);
    expect(frame.length).toBe(3006);
    expect(frame.readUInt32BE(0)).toBe(3000);
    expect(frame[4]).toBe(0);
    expect(hex(frame.subarray(5, -1))).toBe(hex(payload));
    expect(frame[frame.length - 1]).toBe(0x0a);
  });

  it("compresses payloads of 3001 bytes with zlib level 1 (78 01), length = compressed size", () => {
    const payload = Buffer.alloc(3001, 0x61);
    const frame = encodeFrame(payload);
    expect(frame[4]).toBe(1);
    const body = frame.subarray(5, -1);
    expect(frame.readUInt32BE(0)).toBe(body.length);
    expect(body.length).toBeLessThan(3001);
    expect(hex(body.subarray(0, 2))).toBe("7801");
    expect(frame[frame.length - 1]).toBe(0x0a);
    expect(hex(inflateSync(body))).toBe(hex(payload));
  });

  it("compresses a payload above the threshold even when compression makes it larger", () => {
    const payload = randomBytes(3001, 1);
    const frame = encodeFrame(payload);
    expect(frame[4]).toBe(1);
    const body = frame.subarray(5, -1);
    expect(body.length).toBeGreaterThan(3001);
    expect(frame.readUInt32BE(0)).toBe(body.length);
    expect(hex(inflateSync(body))).toBe(hex(payload));
  });

  it("sends everything raw when compression is off", () => {
    const payload = Buffer.alloc(100_000, 0x62);
    const frame = encodeFrame(payload, false);
    expect(frame[4]).toBe(0);
    expect(frame.readUInt32BE(0)).toBe(100_000);
    expect(frame.length).toBe(100_006);
    expect(frame.subarray(5, -1).equals(payload)).toBe(true);
  });

  it("round-trips through FrameDecoder for sizes around the threshold", () => {
    const sizes = [0, 1, 2999, 3000, 3001, 3002, 64_000, 200_000];
    const payloads = sizes.map((n, i) => (i % 2 ? randomBytes(n, n) : Buffer.alloc(n, n & 0xff)));
    const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
    const flags: number[] = [];
    for (let pos = 0; pos < stream.length; pos += stream.readUInt32BE(pos) + 6) flags.push(stream[pos + 4]!);
    expect(flags).toStrictEqual(sizes.map((n) => (n > 3000 ? 1 : 0)));
    const decoded = new FrameDecoder().push(stream);
    expect(decoded.map(hex)).toStrictEqual(payloads.map(hex));
  });
});

// ---- FrameDecoder on captured Python traffic ----------------------------------------------

describe("FrameDecoder on frames captured from Python RPyC 5.3", () => {
  it("the captures include compressed frames (session c)", () => {
    const compressed = sessions.flatMap((s) => s.frames).filter((f) => f.compressed);
    expect(compressed.length).toBeGreaterThanOrEqual(3);
  });

  for (const { file, frames } of sessions) {
    describe(file, () => {
      const stream = Buffer.concat(frames.map((f) => unhex(f.hex)));
      const expected = frames.map(expectedPayload);

      it("frame headers in the capture are consistent (sanity of the vectors)", () => {
        for (const f of frames) {
          const bytes = unhex(f.hex);
          expect(bytes.readUInt32BE(0)).toBe(f.length_field);
          expect(bytes.length).toBe(f.length_field + 6);
          expect(bytes[4]).toBe(f.compressed);
        }
      });

      it("decodes the whole stream in one push", () => {
        const decoder = new FrameDecoder();
        expectPayloads(decoder.push(stream), expected);
        expect(decoder.pending).toBe(0);
      });

      it("decodes each frame pushed on its own", () => {
        const decoder = new FrameDecoder();
        frames.forEach((f, i) => expectPayloads(decoder.push(unhex(f.hex)), [expected[i]!]));
      });

      it("decodes the stream fed one byte at a time", () => {
        expectPayloads(
          decodeInChunks(stream, () => 1),
          expected,
        );
      });

      for (const seed of [1, 2, 3, 4, 5]) {
        it(`decodes the stream in random chunks (seed ${seed})`, () => {
          const rand = prng(seed * 7919);
          // Mostly small chunks (headers split everywhere), sometimes large ones.
          const next = (): number => (rand() < 0.8 ? 1 + Math.floor(rand() * 16) : 1 + Math.floor(rand() * 3000));
          expectPayloads(decodeInChunks(stream, next), expected);
        });
      }

      it("every payload is a brine message tuple", () => {
        for (const payload of new FrameDecoder().push(stream)) {
          const message = load(payload);
          expect(Array.isArray(message)).toBe(true);
          expect((message as readonly unknown[]).length).toBe(3);
        }
      });
    });
  }

  it("the large echo reply decompresses to (2, seq, (1, bytes(range(256)) * 400))", () => {
    const frames = sessions.find((s) => s.file === "session-c-large.json")!.frames;
    const reply = frames.find((f) => f.compressed && f.dir === "s2c")!;
    const [payload] = new FrameDecoder().push(unhex(reply.hex));
    const big = Buffer.alloc(102_400);
    for (let i = 0; i < big.length; i++) big[i] = i % 256;
    const message = load(payload!) as readonly unknown[];
    expect(message[0]).toBe(2);
    const result = message[2] as readonly unknown[];
    expect(result[0]).toBe(1);
    expect(Buffer.from(result[1] as Uint8Array).equals(big)).toBe(true);
  });

  it("decodes all five sessions concatenated, in random chunks", () => {
    const all = sessions.flatMap((s) => s.frames);
    const stream = Buffer.concat(all.map((f) => unhex(f.hex)));
    const rand = prng(42);
    expectPayloads(
      decodeInChunks(stream, () => 1 + Math.floor(rand() * 700)),
      all.map(expectedPayload),
    );
  });
});

// ---- FrameDecoder behaviour ---------------------------------------------------------------

describe("FrameDecoder", () => {
  it("yields nothing until a frame is complete, then exactly that payload", () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(Buffer.from("hello"));
    expect(decoder.push(frame.subarray(0, 3))).toStrictEqual([]);
    expect(decoder.push(frame.subarray(3, 5))).toStrictEqual([]);
    expect(decoder.push(frame.subarray(5, frame.length - 1))).toStrictEqual([]);
    const out = decoder.push(frame.subarray(frame.length - 1));
    expect(out.map((b) => b.toString())).toStrictEqual(["hello"]);
  });

  it("pending counts every received byte of an unfinished frame, header included", () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(Buffer.from("hello"));
    decoder.push(frame.subarray(0, 3));
    expect(decoder.pending).toBe(3);
    decoder.push(frame.subarray(3, 5));
    expect(decoder.pending).toBe(5); // a complete header but no body: still mid-frame
    decoder.push(frame.subarray(5, 8));
    expect(decoder.pending).toBe(8);
    decoder.push(Buffer.concat([frame.subarray(8), frame.subarray(0, 2)]));
    expect(decoder.pending).toBe(2);
    decoder.push(frame.subarray(2));
    expect(decoder.pending).toBe(0);
  });

  it("returns several frames from one chunk, in order", () => {
    const payloads = ["a", "", "bc", "x".repeat(5000), "d"].map((s) => Buffer.from(s));
    const out = new FrameDecoder().push(Buffer.concat(payloads.map((p) => encodeFrame(p))));
    expect(out.map((b) => b.toString())).toStrictEqual(payloads.map((b) => b.toString()));
  });

  it("tolerates empty chunks", () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(Buffer.from("xyz"));
    expect(decoder.push(Buffer.alloc(0))).toStrictEqual([]);
    expect(decoder.push(frame.subarray(0, 7))).toStrictEqual([]);
    expect(decoder.push(Buffer.alloc(0))).toStrictEqual([]);
    expect(decoder.push(frame.subarray(7)).map((b) => b.toString())).toStrictEqual(["xyz"]);
  });

  it("treats every non-zero flag (1..255) as zlib-compressed, as Python does", () => {
    const payload = Buffer.from("compressed with an unusual flag byte");
    const body = deflateSync(payload);
    for (let flag = 1; flag <= 255; flag++) {
      const out = new FrameDecoder().push(rawFrame(body, flag));
      expect(out.length, `flag ${flag}`).toBe(1);
      expect(out[0]!.toString(), `flag ${flag}`).toBe(payload.toString());
    }
  });

  it("accepts a compressed frame below the threshold (receivers accept both forms)", () => {
    const out = new FrameDecoder().push(rawFrame(deflateSync(Buffer.from("tiny"), { level: 9 }), 1));
    expect(out.map((b) => b.toString())).toStrictEqual(["tiny"]);
  });

  it("does not validate the terminator byte, and stays in sync after a wrong one", () => {
    for (const terminator of [0x00, 0x0d, 0xff]) {
      const stream = Buffer.concat([
        rawFrame(Buffer.from("one"), 0, terminator),
        rawFrame(Buffer.from("two"), 0, terminator),
        encodeFrame(Buffer.from("three")),
      ]);
      expect(new FrameDecoder().push(stream).map((b) => b.toString())).toStrictEqual(["one", "two", "three"]);
    }
  });

  it("waits for the terminator byte before yielding the payload", () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(Buffer.from("abc"));
    expect(decoder.push(frame.subarray(0, frame.length - 1))).toStrictEqual([]);
    expect(decoder.push(frame.subarray(frame.length - 1))).toHaveLength(1);
  });

  describe("maxFrameSize", () => {
    it("defaults to 64 MiB", () => {
      expect(DEFAULT_MAX_FRAME_SIZE).toBe(64 * 1024 * 1024);
      const err = catchError(() => new FrameDecoder().push(header(DEFAULT_MAX_FRAME_SIZE + 1, 0)));
      expect(err).toBeInstanceOf(FrameTooLargeError);
      expect(new FrameDecoder().push(header(DEFAULT_MAX_FRAME_SIZE, 0))).toStrictEqual([]);
    });

    it("a length field above the limit throws FrameTooLargeError from the 5 header bytes alone", () => {
      for (const flag of [0, 1]) {
        const err = catchError(() => new FrameDecoder(1024).push(header(1025, flag)));
        expect(err).toBeInstanceOf(FrameTooLargeError);
        expect((err as FrameTooLargeError).size).toBe(1025);
        expect((err as FrameTooLargeError).limit).toBe(1024);
        expect((err as FrameTooLargeError).code).toBe("FRAME_TOO_LARGE");
        expect((err as Error).message).toMatch(/1025.*1024/);
      }
    });

    it("the 4 GiB - 1 length is refused from the header by the default decoder", () => {
      expect(catchError(() => new FrameDecoder().push(header(0xffffffff, 0)))).toBeInstanceOf(FrameTooLargeError);
    });

    it("a header split across pushes is checked as soon as it is complete", () => {
      const decoder = new FrameDecoder(100);
      const h = header(101, 0);
      expect(decoder.push(h.subarray(0, 4))).toStrictEqual([]);
      expect(catchError(() => decoder.push(h.subarray(4)))).toBeInstanceOf(FrameTooLargeError);
    });

    it("a frame of exactly maxFrameSize bytes is accepted", () => {
      const payload = randomBytes(100, 9);
      expect(new FrameDecoder(100).push(rawFrame(payload, 0)).map(hex)).toStrictEqual([hex(payload)]);
    });

    it("a later oversized frame is refused after earlier good ones were returned", () => {
      const decoder = new FrameDecoder(10);
      expect(decoder.push(rawFrame(Buffer.from("ok"), 0)).map((b) => b.toString())).toStrictEqual(["ok"]);
      expect(catchError(() => decoder.push(header(11, 0)))).toBeInstanceOf(FrameTooLargeError);
    });

    it("a zlib bomb (small frame inflating beyond maxFrameSize) throws FrameTooLargeError", () => {
      const bomb = deflateSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 });
      expect(bomb.length).toBeLessThan(16 * 1024);
      const err = catchError(() => new FrameDecoder(1024 * 1024).push(rawFrame(bomb, 1)));
      expect(err).toBeInstanceOf(FrameTooLargeError);
      expect((err as FrameTooLargeError).limit).toBe(1024 * 1024);
    });

    it("the inflated size limit is exact: maxFrameSize passes, one byte more does not", () => {
      const limit = 50_000;
      const fits = new FrameDecoder(limit).push(rawFrame(deflateSync(Buffer.alloc(limit, 7)), 1));
      expect(fits.length).toBe(1);
      expect(fits[0]!.length).toBe(limit);
      const err = catchError(() => new FrameDecoder(limit).push(rawFrame(deflateSync(Buffer.alloc(limit + 1, 7)), 1)));
      expect(err).toBeInstanceOf(FrameTooLargeError);
    });
  });

  describe("corrupt compressed data", () => {
    const good = deflateSync(Buffer.from("a payload that compresses".repeat(20)));
    const cases: Array<[string, Buffer]> = [
      ["plain text", Buffer.from("hello, not zlib")],
      ["empty body", Buffer.alloc(0)],
      ["truncated zlib stream", good.subarray(0, good.length - 6)],
      ["bad Adler-32 checksum", Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1]! ^ 0xff])])],
      ["raw deflate without the zlib header", deflateRawSync(Buffer.from("raw"))],
      ["gzip instead of zlib", gzipSync(Buffer.from("gzip"))],
      ["random bytes", randomBytes(200, 77)],
    ];
    for (const [label, body] of cases) {
      it(`${label}: throws ProtocolError`, () => {
        const err = catchError(() => new FrameDecoder().push(rawFrame(body, 1)));
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as Error).message).toMatch(/zlib/);
      });
    }
  });
});

// ---- live against rpyc's own Channel ------------------------------------------------------

/**
 * Runs rpyc.core.channel.Channel over an in-memory stream: sends each payload (Python's framing
 * and CPython zlib) and receives every frame of `recv` (our framing).
 */
function pythonChannel(send: readonly Buffer[], recv: Buffer): { sent: Buffer; received: Buffer[] } {
  requirePythonRpyc();
  const program = `
import sys, json
from rpyc.core.channel import Channel
class Mem:
    MAX_IO_CHUNK = 64000
    def __init__(self, data=b""):
        self.data, self.pos, self.out = data, 0, bytearray()
    def read(self, n):
        if self.pos + n > len(self.data):
            raise EOFError("short read")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk
    def write(self, data):
        self.out += data
req = json.loads(sys.stdin.read())
out = Mem()
tx = Channel(out)
for h in req["send"]:
    tx.send(bytes.fromhex(h))
inp = Mem(bytes.fromhex(req["recv"]))
rx = Channel(inp)
got = []
while inp.pos < len(inp.data):
    got.append(rx.recv().hex())
print(json.dumps({"sent": out.out.hex(), "received": got}))
`;
  const input = JSON.stringify({ send: send.map(hex), recv: hex(recv) });
  const out = execFileSync(PYTHON, ["-c", program], { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const parsed = JSON.parse(out) as { sent: string; received: string[] };
  return { sent: unhex(parsed.sent), received: parsed.received.map(unhex) };
}

describe.runIf(WITH_PYTHON)("live against Python RPyC 5.3 Channel", () => {
  const payloads = [
    Buffer.alloc(0),
    Buffer.from("1251501153115102", "hex"),
    Buffer.alloc(3000, 0x41),
    Buffer.alloc(3001, 0x41),
    randomBytes(3001, 3),
    Buffer.concat(Array.from({ length: 400 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i)))),
    randomBytes(150_000, 4),
  ];

  it("Python reads our frames, we read Python's, with the same compression decisions", () => {
    const ours = payloads.map((p) => encodeFrame(p));
    const { sent, received } = pythonChannel(payloads, Buffer.concat(ours));

    // Python's Channel.recv() gets exactly our payloads back (CPython zlib inflates Node's output).
    expect(received.map(hex)).toStrictEqual(payloads.map(hex));

    // Our FrameDecoder gets exactly the payloads Python framed (and compressed with CPython zlib).
    const rand = prng(11);
    expect(decodeInChunks(sent, () => 1 + Math.floor(rand() * 5000)).map(hex)).toStrictEqual(payloads.map(hex));

    // Same flag per frame; uncompressed frames are byte-identical.
    let pos = 0;
    payloads.forEach((payload, i) => {
      const length = sent.readUInt32BE(pos);
      const theirs = sent.subarray(pos, pos + length + 6);
      pos += length + 6;
      expect(theirs[4], `flag of payload ${i}`).toBe(ours[i]![4]);
      expect(theirs[theirs.length - 1]).toBe(0x0a);
      if (payload.length <= 3000) expect(hex(theirs)).toBe(hex(ours[i]!));
      else expect(hex(theirs.subarray(5, 7))).toBe("7801");
    });
    expect(pos).toBe(sent.length);
  });
});
