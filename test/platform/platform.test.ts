// The platform seam (runtime/platform): the browser build's module gives what the Node one
// gives, on web APIs only. Both run here (Node has TextEncoder, DecompressionStream and
// MessageChannel): the same exports, the same text codecs, the same SHA-256 digests as
// node:crypto, and inflation by DecompressionStream of real zlib data, Python's included
// (a compressed frame recorded from an RPyC 5.3 session), with the size limit and errors the
// connection maps to FrameTooLargeError and ProtocolError.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import * as wireTypes from "../../runtime/compiled/wire-types.js";
import * as browser from "../../runtime/platform/browser.js";
import * as browserWireTypes from "../../runtime/platform/browser-wire-types.js";
import * as node from "../../runtime/platform/node.js";
import { load } from "../../runtime/wire/brine.js";
import { schemaFingerprint } from "../../runtime/compiled/native.js";
import { MY_SERVICE_SCHEMA } from "../../examples/generated/my-service.client.js";

// Compile-time: the Node module fits every declaration of the browser one (their Bytes differ:
// a Buffer is a Uint8Array).
const nodeFitsBrowser: typeof browser = node;

const TEXTS = ["", "ascii", "é", "Grüße, 世界", "emoji 😀 and 𝄞", "lone \ud800 high", "lone \udc00 low", "x".repeat(10_000) + "€"];

describe("platform/browser.ts against platform/node.ts", () => {
  it("has exactly the Node module's exports", () => {
    expect(Object.keys(browser).sort()).toEqual(Object.keys(nodeFitsBrowser).sort());
  });

  it("encodes and measures UTF-8 as Buffer does", () => {
    for (const text of TEXTS) {
      expect(browser.utf8Length(text), JSON.stringify(text.slice(0, 20))).toBe(node.utf8Length(text));
      expect([...browser.utf8Encode(text)]).toEqual([...node.utf8Encode(text)]);
      const a = new Uint8Array(node.utf8Length(text) + 3);
      const b = new Uint8Array(a.length);
      expect(browser.utf8Write(a, text, 3)).toBe(node.utf8Write(b, text, 3));
      expect(a).toEqual(b);
    }
  });

  it("decodes Latin-1 (not windows-1252) as Buffer does, also beyond one String.fromCharCode call", () => {
    const bytes = new Uint8Array(20_000).map((_, i) => (i * 7) % 256);
    expect(browser.latin1Decode(bytes, 0, bytes.length)).toBe(node.latin1Decode(bytes, 0, bytes.length));
    expect(browser.latin1Decode(bytes, 128, 160)).toBe(node.latin1Decode(bytes, 128, 160));
    expect(browser.latin1Decode(bytes, 5, 5)).toBe("");
  });

  it("joins, copies and views bytes", () => {
    const parts = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3, 4, 5])];
    expect([...browser.concatBytes(parts)]).toEqual([1, 2, 3, 4, 5]);
    expect([...browser.concatBytes(parts, 3)]).toEqual([...node.concatBytes(parts, 3)]);
    const original = new Uint8Array([9, 8, 7]);
    const copy = browser.copyBytes(original);
    original[0] = 0;
    expect([...copy]).toEqual([9, 8, 7]);
    const buffer = new ArrayBuffer(4);
    expect(browser.bytesView(buffer).buffer).toBe(buffer);
    expect(browser.allocUnsafe(7)).toHaveLength(7);
  });

  it("hashes with SHA-256 as node:crypto does, across block boundaries and in UTF-8", () => {
    const inputs = ["", "abc", ...[55, 56, 57, 63, 64, 65, 119, 120, 1000].map((n) => "a".repeat(n)), "Grüße 😀", JSON.stringify(MY_SERVICE_SCHEMA)];
    for (const text of inputs) expect(browser.sha256Hex(text), `${text.length} chars`).toBe(createHash("sha256").update(text).digest("hex"));
    // The native codec's fingerprint, as each build computes it.
    expect(schemaFingerprint(MY_SERVICE_SCHEMA)).toHaveLength(16);
  });

  it("runs nextTurn's callbacks after the current task, each once", async () => {
    const order: string[] = [];
    const done = new Promise<void>((resolve) => browser.nextTurn(() => (order.push("turn"), resolve())));
    order.push("now");
    await done;
    expect(order).toEqual(["now", "turn"]);
  });

  it("cannot deflate nor inflate synchronously: frames go out uncompressed, compressed ones inflate asynchronously", () => {
    expect(browser.deflate).toBeUndefined();
    expect(browser.inflateSync).toBeUndefined();
    expect(node.deflate).toBeDefined();
    expect(node.DEFAULT_CODEC).toBe("auto");
    expect(browser.DEFAULT_CODEC).toBe("brine");
  });
});

interface SessionFrame {
  readonly dir: string;
  readonly hex: string;
  readonly compressed: number;
  readonly payload_len: number;
}

describe("inflate with DecompressionStream (the browser build's inbound compressed frames)", () => {
  it("inflates the compressed reply Python RPyC 5.3 sent in a recorded session", async () => {
    const session = JSON.parse(readFileSync(new URL("../vectors/session-c-large.json", import.meta.url), "utf8")) as { frames: SessionFrame[] };
    const frame = session.frames.find((f) => Number(f.compressed) === 1 && f.dir === "s2c")!;
    const bytes = Buffer.from(frame.hex, "hex");
    const body = bytes.subarray(5, bytes.length - 1);
    const payload = await browser.inflate(body, 64 * 1024 * 1024);
    expect(payload).toHaveLength(Number(frame.payload_len));
    expect([...payload]).toEqual([...(await node.inflate(body, 64 * 1024 * 1024))]);
    const [, , [, value]] = load(payload) as [number, number, [number, Uint8Array]];
    expect(value.every((b, i) => b === i % 256)).toBe(true);
  });

  it("inflates what zlib deflates, at any level and size", async () => {
    for (const [size, level] of [
      [0, 1],
      [3001, 1],
      [200_000, 9],
      [1_500_000, 1],
    ] as const) {
      const data = new Uint8Array(size).map((_, i) => (i * 31) % 97);
      expect(Buffer.from(await browser.inflate(deflateSync(data, { level }), size)).equals(Buffer.from(data))).toBe(true);
    }
  });

  it("stops past the limit with the code the connection maps to FrameTooLargeError", async () => {
    const bomb = deflateSync(new Uint8Array(10 * 1024 * 1024));
    await expect(browser.inflate(bomb, 1024 * 1024)).rejects.toMatchObject({ code: browser.INFLATE_TOO_LARGE });
    await expect(node.inflate(bomb, 1024 * 1024)).rejects.toMatchObject({ code: node.INFLATE_TOO_LARGE });
  });

  it("rejects data that is not zlib (raw deflate, garbage, truncated) with another error", async () => {
    const good = deflateSync(new Uint8Array(5000).fill(7));
    for (const bad of [new Uint8Array([1, 2, 3, 4, 5]), good.subarray(2), good.subarray(0, good.length - 10)]) {
      const err = await browser.inflate(bad, 1024 * 1024).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as { code?: unknown }).code).not.toBe(browser.INFLATE_TOO_LARGE);
    }
  });
});

describe("the browser build's stand-in for the native codec's protobuf types", () => {
  it("has wire-types.ts's run-time exports, and says the codec is unavailable", async () => {
    expect(Object.keys(browserWireTypes).sort()).toEqual(Object.keys(wireTypes).sort());
    expect(await browserWireTypes.loadNativeCodec()).toBe(false);
    expect(() => new browserWireTypes.Builder()).toThrow(/no native codec/);
  });
});
