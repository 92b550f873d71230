// What the runtime needs of its host, in a browser: platform/node.ts's exports on web APIs
// only (Uint8Array, TextEncoder, DecompressionStream, MessageChannel). The browser build
// (scripts/build-packages.ts) puts this file in place of platform/node.ts. What differs:
// - no outbound compression: there is no synchronous zlib here, so every frame is sent with
//   the compressed flag 0, which RPyC peers accept (they inflate only flagged frames);
// - inbound compressed frames (RPyC compresses payloads above 3000 bytes) are inflated by
//   DecompressionStream("deflate"), which is zlib's format, asynchronously: inflateSync is
//   undefined, so the connection takes its asynchronous path for every compressed frame;
// - no native codec (protobufjs is not loaded): codec defaults to "brine"; the schema
//   fingerprint still hashes (sha256Hex, the same digest as node:crypto's).

const encoder = new TextEncoder();

/** See platform/node.ts: here a plain Uint8Array. */
export type Bytes = Uint8Array;

export function allocUnsafe(size: number): Bytes {
  return new Uint8Array(size);
}

export function allocUnsafeSlow(size: number): Bytes {
  return new Uint8Array(size);
}

export function bytesView(buffer: ArrayBuffer): Bytes {
  return new Uint8Array(buffer);
}

export function utf8Encode(text: string): Bytes {
  return encoder.encode(text);
}

export function copyBytes(bytes: Uint8Array): Bytes {
  return new Uint8Array(bytes);
}

export function concatBytes(parts: readonly Uint8Array[], total?: number): Bytes {
  const out = new Uint8Array(total ?? parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    if (at + part.length > out.length) {
      out.set(part.subarray(0, out.length - at), at);
      break;
    }
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** UTF-8 length without encoding: 1 to 3 bytes per UTF-16 unit, 4 per surrogate pair, 3 for a lone surrogate (U+FFFD). */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

export function utf8Write(target: Uint8Array, text: string, at: number): number {
  return encoder.encodeInto(text, target.subarray(at)).written;
}

/** Characters per String.fromCharCode call: its arguments go on the stack. */
const CHAR_CHUNK = 8192;

export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  // Not TextDecoder("latin1"): that is windows-1252, which differs on 0x80-0x9f.
  let text = "";
  for (let at = start; at < end; at += CHAR_CHUNK) text += String.fromCharCode(...bytes.subarray(at, Math.min(end, at + CHAR_CHUNK)));
  return text;
}

/** No synchronous zlib in browsers: frames go out uncompressed (see the module comment). */
export const deflate: ((data: Uint8Array, level: number) => Uint8Array) | undefined = undefined;

export const INFLATE_TOO_LARGE = "ERR_BUFFER_TOO_LARGE";

/** Only asynchronous inflation here (DecompressionStream). */
export const inflateSync: ((data: Uint8Array, limit: number) => Bytes) | undefined = undefined;

/** zlib decompression by DecompressionStream("deflate"), stopped (INFLATE_TOO_LARGE) as soon as the output passes `limit`. */
export async function inflate(data: Uint8Array, limit: number): Promise<Bytes> {
  const stream = new DecompressionStream("deflate");
  const writer = stream.writable.getWriter();
  // Errors of the writing side surface again through the reader, which reports them.
  writer.write(data).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      reader.cancel().catch(() => {});
      throw Object.assign(new RangeError(`inflated data exceeds ${limit} bytes`), { code: INFLATE_TOO_LARGE });
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : concatBytes(parts, total);
}

// SHA-256 (FIPS 180-4), for the native codec's schema fingerprint: synchronous, as the
// fingerprint is (crypto.subtle only digests asynchronously), and run once per schema.
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256Hex(text: string): string {
  const message = encoder.encode(text);
  // The message, 0x80, zeros, and its length in bits (64-bit big-endian) fill whole 64-byte blocks.
  const padded = new Uint8Array((((message.length + 8) >> 6) + 1) << 6);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(message.length / 0x20000000));
  view.setUint32(padded.length - 4, (message.length << 3) >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      w[i] = w[i - 16]! + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + w[i - 7]! + (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10));
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    const round = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = h[i]! + round[i]!; // Uint32Array: mod 2^32
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, "0")).join("");
}

/** The web's MessageChannel, as used below (the compiler's types are Node's, whose MessagePort has no onmessage). */
interface WebMessageChannel {
  readonly port1: { onmessage: (() => void) | null; close(): void };
  readonly port2: { postMessage(message: unknown): void };
}

/** No native codec in the browser build (it does not load protobufjs): brine, quietly. */
export const DEFAULT_CODEC: "auto" | "brine" = "brine";

/** Runs `fn` once the current task's synchronous work is done (a microtask). */
export function endOfTick(fn: () => void): void {
  queueMicrotask(fn);
}

/**
 * A macrotask through a MessageChannel: unlike setTimeout(0), neither clamped to 4 ms when
 * nested nor throttled to once a second (or minute) in a background tab.
 */
export function nextTurn(fn: () => void): void {
  const { port1, port2 } = new (globalThis as unknown as { MessageChannel: new () => WebMessageChannel }).MessageChannel();
  port1.onmessage = () => {
    port1.close();
    fn();
  };
  port2.postMessage(null);
}

/** Browsers have no process to keep alive. */
export function unrefTimer(_timer: ReturnType<typeof setTimeout>): void {}

export function warnLine(line: string): void {
  console.warn(line);
}
