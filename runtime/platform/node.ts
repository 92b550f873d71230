// What the runtime needs of its host, in Node: byte buffers, text codecs, zlib, a hash, a turn
// of the event loop. Every module of the client path reaches the host through this file only;
// the browser build swaps it for platform/browser.ts (same exports; scripts/build-packages.ts),
// so nothing else there imports a Node built-in or touches Buffer. Here the fast paths stay
// Node's: Buffer's pooled allocation and native text codecs, zlib in sync and in the thread
// pool.

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { deflateSync, inflate as zlibInflate, inflateSync as zlibInflateSync } from "node:zlib";

/**
 * What the runtime's byte-producing functions (dump, encodeFrame) return: a Buffer in Node,
 * so existing callers keep its methods; a plain Uint8Array in the browser build. The runtime
 * itself only uses Uint8Array members on them.
 */
export type Bytes = Buffer;

/** `size` uninitialised bytes (small sizes from Node's shared pool). */
export function allocUnsafe(size: number): Bytes {
  return Buffer.allocUnsafe(size);
}

/** `size` uninitialised bytes in memory of their own (for long-lived scratch buffers). */
export function allocUnsafeSlow(size: number): Bytes {
  return Buffer.allocUnsafeSlow(size);
}

/** `buffer`'s bytes, not copied. */
export function bytesView(buffer: ArrayBuffer): Bytes {
  return Buffer.from(buffer);
}

/** `text` as UTF-8 bytes. */
export function utf8Encode(text: string): Bytes {
  return Buffer.from(text, "utf8");
}

/** A copy of `bytes` (small ones from Node's pool). */
export function copyBytes(bytes: Uint8Array): Bytes {
  return Buffer.from(bytes);
}

/** The parts joined into new memory; `total`, when known, is the sum of their lengths. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Bytes {
  return Buffer.concat(parts, total);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes of `text` in UTF-8 (lone surrogates count as U+FFFD's 3). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Writes `text` as UTF-8 at `at` (room for utf8Length(text) bytes is there); returns the bytes written. */
export function utf8Write(target: Uint8Array, text: string, at: number): number {
  return asBuffer(target).write(text, at, "utf8");
}

/** `bytes[start, end)` as Latin-1 text (one char per byte). */
export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  return asBuffer(bytes).toString("latin1", start, end);
}

/** zlib (RFC 1950) compression at `level`, synchronous; undefined where the platform has none. */
export const deflate: ((data: Uint8Array, level: number) => Uint8Array) | undefined = (data, level) => deflateSync(data, { level });

/**
 * Errors of the inflate functions: TOO_LARGE when the output would exceed the limit (what
 * zlib says with ERR_BUFFER_TOO_LARGE), anything else for data that is not valid zlib.
 */
export const INFLATE_TOO_LARGE = "ERR_BUFFER_TOO_LARGE";

/**
 * zlib decompression, synchronous, of at most `limit` output bytes (an error with code
 * INFLATE_TOO_LARGE beyond); undefined where the platform can only inflate asynchronously.
 */
export const inflateSync: ((data: Uint8Array, limit: number) => Bytes) | undefined = (data, limit) => zlibInflateSync(data, { maxOutputLength: limit });

/** 1 MiB chunks: zlib's default 16 KiB makes 4,000 trips between the thread pool and the event loop for 63 MiB (3x slower). */
const INFLATE_CHUNK = 1024 * 1024;

/** zlib decompression off the event loop (zlib's thread pool), with inflateSync's limit and errors. */
export function inflate(data: Uint8Array, limit: number): Promise<Bytes> {
  return new Promise((resolve, reject) => {
    zlibInflate(data, { maxOutputLength: limit, chunkSize: INFLATE_CHUNK }, (err, payload) => (err ? reject(err) : resolve(payload)));
  });
}

/** SHA-256 of the UTF-8 bytes of `text`, as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** ProtocolConfig.codec's default: "auto" (the native codec between rpyc-ts peers with schemas). */
export const DEFAULT_CODEC: "auto" | "brine" = "auto";

/** Runs `fn` on a later turn of the event loop, after pending I/O (other sockets' reads, timers). */
export function nextTurn(fn: () => void): void {
  setImmediate(fn);
}

/** Runs `fn` once the current operation and its microtasks are done, before any I/O (process.nextTick). */
export function endOfTick(fn: () => void): void {
  process.nextTick(fn);
}

/** Lets the process exit while `timer` is armed (a heartbeat, a close deadline). */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  timer.unref();
}

/** A warning for the developer when no logger was configured: one line on stderr. */
export function warnLine(line: string): void {
  process.stderr.write(`${line}\n`);
}
