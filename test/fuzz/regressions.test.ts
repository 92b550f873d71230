// Inputs the fuzz tests found to break a decoder, kept byte for byte so the bug stays fixed.

import { describe, expect, it, vi } from "vitest";
import * as C from "../../runtime/wire/consts.js";
import { DEFAULT_BRINE_LIMITS, ProtocolError, Service } from "../../runtime/index.js";
import { FrameDecoder, load } from "../../runtime/wire/index.js";
import { RawPeer, rawFrame } from "../helpers/raw-peer.js";
import { connectTo, serve } from "../helpers/servers.js";

/** `0x17 <u32 length> <digits>`: brine's long-int encoding of a decimal text. */
function intText(digits: number, sign = ""): Buffer {
  const head = Buffer.from([0x17, 0, 0, 0, 0]);
  head.writeUInt32BE(digits + sign.length, 1);
  return Buffer.concat([head, Buffer.from(sign), Buffer.alloc(digits, 0x37)]);
}

describe("brine: int texts are bounded like Python's int_max_str_digits", () => {
  // Found by decoders.test.ts ("int of 8,000,000 digits"): BigInt() of a decimal text is
  // quadratic, so one 8 MB frame blocked the event loop for about 7 s (20 s for the round trip).
  it("refuses 8,000,000 digits quickly, with a ProtocolError", () => {
    // "Quickly" without a clock: the text is refused before any BigInt() conversion of it (the
    // quadratic step); BigInt is watched for that call.
    const sevens = BigInt("7".repeat(4300));
    const bigint = vi.spyOn(globalThis, "BigInt");
    try {
      expect(() => load(intText(8_000_000))).toThrow(ProtocolError);
      expect(() => load(intText(8_000_000))).toThrow(/8000000 digits exceeds the limit of 4300/);
      expect(bigint.mock.calls.filter(([arg]) => typeof arg === "string" && arg.length > 4300)).toEqual([]);
      // The watch works: a text within the limit is converted by BigInt().
      expect(load(intText(4300))).toBe(sevens);
      expect(bigint.mock.calls.some(([arg]) => typeof arg === "string" && arg.length === 4300)).toBe(true);
    } finally {
      bigint.mockRestore();
    }
  });

  it("accepts 4300 digits (with or without a sign) and refuses 4301, as Python 3.11+ does", () => {
    expect(load(intText(4300))).toBe(BigInt("7".repeat(4300)));
    expect(load(intText(4300, "-"))).toBe(-BigInt("7".repeat(4300)));
    expect(() => load(intText(4301))).toThrow(ProtocolError);
    expect(() => load(intText(4301, "-"))).toThrow(ProtocolError);
  });

  it("honours a custom maxIntDigits", () => {
    expect(() => load(intText(20), { ...DEFAULT_BRINE_LIMITS, maxIntDigits: 19 })).toThrow(ProtocolError);
    expect(load(intText(19), { ...DEFAULT_BRINE_LIMITS, maxIntDigits: 19 })).toBe(BigInt("7".repeat(19)));
  });
});

describe("FrameDecoder: a frame that arrives in many small chunks", () => {
  // Found by decoders.test.ts (frame stream #269 of seed 0x5eed2025, a 100 KB frame fed byte
  // by byte, took 12.7 s): take() shifted its chunk array once per chunk, quadratic in the
  // number of chunks of one frame.
  it("decodes a 512 KiB frame fed one byte at a time in linear time", () => {
    const body = Buffer.alloc(512 * 1024, 0x61);
    const frame = Buffer.concat([Buffer.from([0, 8, 0, 0, 0]), body, Buffer.from([0x0a])]);
    const decoder = new FrameDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < frame.length; i++) out.push(...decoder.push(frame.subarray(i, i + 1)));
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(body)).toBe(true);
    expect(decoder.pending).toBe(0);
    // Linear time is asserted by the test's timeout, not by a clock: ~0.3 s quiet; the
    // quadratic decoder took 12.7 s for 100 KB, so minutes for these 512 KiB.
  }, 30_000);

  it("keeps a partial frame and the bytes after it correct across compaction", () => {
    const decoder = new FrameDecoder();
    const a = Buffer.concat([Buffer.from([0, 0, 8, 0, 0]), Buffer.alloc(2048, 0x62), Buffer.from([0x0a])]);
    const b = Buffer.concat([Buffer.from([0, 0, 0, 3, 0]), Buffer.from("xyz"), Buffer.from([0x0a])]);
    const stream = Buffer.concat([a, b, a.subarray(0, 100)]);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(out.map((p) => p.length)).toEqual([2048, 3]);
    expect(out[1]!.toString()).toBe("xyz");
    expect(decoder.pending).toBe(100);
    expect(decoder.push(a.subarray(100))).toHaveLength(1);
    expect(decoder.pending).toBe(0);
  });
});

describe("protocol: an exception reply that would nest deeper than brine allows", () => {
  class Answer extends Service {
    exposed_get_answer(): number {
      return 42;
    }
  }

  // Found by live.test.ts (seed 0x5eed2025): a request whose handler code is a tuple nested
  // 254 deep is valid brine (depth 256 with the message around it), but the KeyError(code)
  // reply puts the code one level deeper, dump() throws in replyException, and the TypeError
  // escapes the socket's "data" handler: an uncaught exception, which ends a Node server.
  // Bytes: (1, 0, (((...(0,)...),), (1, ()))) with 254 one-tuples around the code 0.
  const REQUEST = Buffer.concat([Buffer.from([0x12, 0x51, 0x50, 0x11]), Buffer.alloc(254, 0x10), Buffer.from([0x50, 0x11, 0x51, 0x02])]);

  it("answers with an exception (or closes), never throws out of the server", async () => {
    expect(load(REQUEST)).toBeDefined(); // the request itself is within brine's limits
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => {
      uncaught.push(err);
    };
    process.on("uncaughtException", onUncaught);
    try {
      const server = await serve(Answer);
      const healthy = await connectTo<Answer>(server.port);
      const peer = await RawPeer.connect(server.port);
      peer.write(rawFrame(REQUEST));
      const answer = await peer.next(2000, "the answer to the deep request").catch((err: unknown) => err);
      expect(uncaught).toEqual([]);
      if (!(answer instanceof Error)) expect((answer as readonly unknown[])[0]).toBe(C.MSG_EXCEPTION);
      else expect(peer.closed, String(answer)).toBe(true);
      expect(await healthy.root.get_answer()).toBe(42);
      await peer.close();
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});

describe("protocol: a message type that cannot be turned into text", () => {
  class Answer extends Service {
    exposed_get_answer(): number {
      return 42;
    }
  }

  // Found by live.test.ts (seed 0x5eed2025): a message whose type is a tuple holding
  // NotImplemented (a JS symbol) makes `unknown message type ${String(type)}` throw a
  // TypeError (Array.prototype.toString cannot convert a symbol) inside the socket's "data"
  // handler: an uncaught exception instead of a HANDLE_CLOSE and a closed connection.
  // Bytes: ((NotImplemented,), 0, None).
  const MESSAGE = Buffer.from([0x12, 0x10, 0x05, 0x50, 0x00]);

  it("closes the connection with HANDLE_CLOSE, never throws out of the server", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => {
      uncaught.push(err);
    };
    process.on("uncaughtException", onUncaught);
    try {
      const server = await serve(Answer);
      const healthy = await connectTo<Answer>(server.port);
      const peer = await RawPeer.connect(server.port);
      peer.write(rawFrame(MESSAGE));
      await peer.waitClosed(2000).catch(() => undefined);
      expect(uncaught).toEqual([]);
      expect(peer.closed).toBe(true);
      expect(peer.received.map((m) => (m[2] as readonly unknown[])[0])).toEqual([C.HANDLE_CLOSE]);
      expect(await healthy.root.get_answer()).toBe(42);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
