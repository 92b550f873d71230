// RPyC framing (rpyc/core/channel.py): 4-byte big-endian length, 1-byte compressed flag,
// the (maybe zlib-compressed) payload, then a "\n" flush byte that is not counted.
// FrameDecoder turns a byte stream into payloads, refusing oversized frames from the
// header alone, before any payload byte is buffered.

import { FrameTooLargeError, ProtocolError } from "../errors/rpyc-errors.js";
import { allocUnsafe, concatBytes, copyBytes, deflate, inflate, INFLATE_TOO_LARGE, inflateSync, type Bytes } from "../platform/node.js";

export const FRAME_HEADER_SIZE = 5;
export const FLUSHER = 0x0a;
/** Payloads strictly larger than this are compressed (RPyC's COMPRESSION_THRESHOLD). */
export const COMPRESSION_THRESHOLD = 3000;
/** zlib level RPyC uses. */
export const COMPRESSION_LEVEL = 1;
/** Default for `maxFrameSize`: 64 MiB, far above any sane RPyC message, far below 4 GiB. */
export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;

/** Writes a frame header (big-endian body length, compressed flag) at the start of `buf`. */
function writeHeader(buf: Uint8Array, length: number, flag: number): void {
  buf[0] = length >>> 24;
  buf[1] = length >>> 16;
  buf[2] = length >>> 8;
  buf[3] = length;
  buf[4] = flag;
}

/** The body length a frame header at `at` announces. */
function readLength(buf: Uint8Array, at: number): number {
  return buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}

/** One buffer: header, body, flush byte. */
function wholeFrame(body: Uint8Array, flag: number): Bytes {
  const frame = allocUnsafe(FRAME_HEADER_SIZE + body.length + 1);
  writeHeader(frame, body.length, flag);
  frame.set(body, FRAME_HEADER_SIZE);
  frame[frame.length - 1] = FLUSHER;
  return frame;
}

/**
 * Builds one complete frame (header, body, flush byte) for a brine payload, with RPyC's
 * exact compression rule (every payload above COMPRESSION_THRESHOLD, when `compress`; never
 * in the browser build, which has no synchronous zlib).
 */
export function encodeFrame(payload: Uint8Array, compress = true): Bytes {
  if (compress && deflate !== undefined && payload.length > COMPRESSION_THRESHOLD) return wholeFrame(deflate(payload, COMPRESSION_LEVEL), 1);
  return wholeFrame(payload, 0);
}

/** Payloads at least this large are framed without copying: header, payload, flusher chunks. */
export const ZERO_COPY_THRESHOLD = 16 * 1024;
/** Payloads above this are sampled before deflating the whole (see frameChunks). */
export const COMPRESSION_PROBE_THRESHOLD = 64 * 1024;
/** Bytes the probe deflates. */
const PROBE_SAMPLE = 4096;
/** The probe must shrink to at most this fraction of its size for the payload to be compressed. */
const PROBE_MAX_RATIO = 0.9;

const FLUSHER_CHUNK = allocUnsafe(1).fill(FLUSHER);

function frameHeader(length: number, flag: number): Uint8Array {
  const header = allocUnsafe(FRAME_HEADER_SIZE);
  writeHeader(header, length, flag);
  return header;
}

/**
 * True if a level-1 deflate of a sample from the middle of `payload` shrinks it to at most
 * PROBE_MAX_RATIO: random or already-compressed data (images, archives) does not, and
 * deflating megabytes of it would cost milliseconds for nothing. (The middle: a brine
 * message starts with its small header, and a large value fills the rest.)
 */
export function worthCompressing(payload: Uint8Array): boolean {
  if (deflate === undefined) return false;
  const at = (payload.length - PROBE_SAMPLE) >> 1;
  const sample = payload.subarray(at, at + PROBE_SAMPLE);
  return deflate(sample, COMPRESSION_LEVEL).length <= sample.length * PROBE_MAX_RATIO;
}

/**
 * Frames a payload for sending, as the chunks to write in order; the fast path the
 * connection uses. Differences from encodeFrame (same bytes for a peer to read, the flag
 * tells it whether to inflate, and Python inflates only when it is set):
 * - with `compress`, a payload above COMPRESSION_THRESHOLD is sent compressed only when
 *   that makes it smaller; above COMPRESSION_PROBE_THRESHOLD, a 4 KiB sample is deflated
 *   first and incompressible data (random, already compressed) is sent raw without
 *   deflating it all;
 * - a body of ZERO_COPY_THRESHOLD bytes or more is not copied: the result is
 *   [header, body, flusher] and `payload` itself may be one of the chunks, so the caller
 *   must not modify it until it is written. Smaller frames are one buffer.
 * The browser build never compresses (no synchronous zlib there): the flag says so.
 */
export function frameChunks(payload: Uint8Array, compress = true): Uint8Array[] {
  let body = payload;
  let flag = 0;
  if (
    compress &&
    deflate !== undefined &&
    payload.length > COMPRESSION_THRESHOLD &&
    (payload.length <= COMPRESSION_PROBE_THRESHOLD || worthCompressing(payload))
  ) {
    const packed = deflate(payload, COMPRESSION_LEVEL);
    if (packed.length < payload.length) {
      body = packed;
      flag = 1;
    }
  }
  if (body.length >= ZERO_COPY_THRESHOLD) return [frameHeader(body.length, flag), body, FLUSHER_CHUNK];
  return [wholeFrame(body, flag)];
}

/** A bytes value of a payload that was not copied into the payload's buffer: it belongs at position `at` of it. */
export interface ExternalBytes {
  readonly at: number;
  readonly bytes: Uint8Array;
}

/**
 * Frames a payload written in place: `buf[FRAME_HEADER_SIZE, end)` holds it after room for
 * the header, with the big bytes values `externals` left out (each belongs at its `at`). The
 * result is the chunks to write, the header filled in; the rule is frameChunks' (with
 * `compress`, compressed when that pays; a big external that does not compress skips zlib
 * without the copy that joining the payload would cost). Externals are written from the
 * caller's buffers. `handOver`: `buf` is the caller's no more, and chunks may be views into
 * it; otherwise nothing returned points into `buf`, which the caller reuses.
 */
export function framePayload(buf: Uint8Array, end: number, externals: readonly ExternalBytes[], compress: boolean, handOver: boolean): Uint8Array[] {
  let length = end - FRAME_HEADER_SIZE;
  let largest: Uint8Array | undefined;
  for (const external of externals) {
    length += external.bytes.length;
    if (largest === undefined || external.bytes.length > largest.length) largest = external.bytes;
  }
  if (compress && deflate !== undefined && length > COMPRESSION_THRESHOLD) {
    const sample = largest ?? buf.subarray(FRAME_HEADER_SIZE, end);
    if (sample.length <= COMPRESSION_PROBE_THRESHOLD || worthCompressing(sample)) return frameChunks(joinPayload(buf, end, externals), true);
  }
  buf[0] = length >>> 24;
  buf[1] = (length >>> 16) & 0xff;
  buf[2] = (length >>> 8) & 0xff;
  buf[3] = length & 0xff;
  buf[4] = 0;
  if (externals.length === 0) {
    if (handOver) return [buf.subarray(0, end), FLUSHER_CHUNK];
    const frame = allocUnsafe(end + 1);
    // A loop beats the native copy for the few dozen bytes of a typical message.
    if (end <= 256) for (let i = 0; i < end; i++) frame[i] = buf[i]!;
    else frame.set(buf.subarray(0, end), 0);
    frame[end] = FLUSHER;
    return [frame];
  }
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const external of externals) {
    if (external.at > from) chunks.push(handOver ? buf.subarray(from, external.at) : copyBytes(buf.subarray(from, external.at)));
    chunks.push(external.bytes);
    from = external.at;
  }
  const tail = allocUnsafe(end - from + 1);
  tail.set(buf.subarray(from, end), 0);
  tail[end - from] = FLUSHER;
  chunks.push(tail);
  return chunks;
}

/** The whole payload (without the header room) as one new buffer, externals included. */
function joinPayload(buf: Uint8Array, end: number, externals: readonly ExternalBytes[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let from = FRAME_HEADER_SIZE;
  for (const external of externals) {
    parts.push(buf.subarray(from, external.at), external.bytes);
    from = external.at;
  }
  parts.push(buf.subarray(from, end));
  return concatBytes(parts);
}

/**
 * The body of a compressed frame, not inflated yet (FrameDecoder.pushDeferred): the
 * connection inflates small ones at once and large ones off the event loop.
 */
export class DeflatedPayload {
  constructor(readonly body: Uint8Array) {}
}

/**
 * Compressed frames inflating to at most this many bytes are inflated on the spot (a few
 * hundred microseconds); larger ones in zlib's thread pool (inflateLater), so a zlib bomb of
 * 60 KB inflating to 64 MiB does not hold the event loop for the other connections.
 */
export const INFLATE_NOW_LIMIT = 256 * 1024;

function inflateError(err: unknown, maxFrameSize: number): Error {
  if ((err as { code?: string }).code === INFLATE_TOO_LARGE) return new FrameTooLargeError(maxFrameSize + 1, maxFrameSize);
  return new ProtocolError(`compressed frame is not valid zlib data: ${(err as Error).message}`);
}

/**
 * A compressed frame's payload; throws FrameTooLargeError past `maxFrameSize`, ProtocolError
 * on bad zlib data. Not in the browser build (no synchronous zlib): there FrameDecoder.push()
 * refuses compressed frames and the connection inflates them with inflateLater().
 */
export function inflatePayload(body: Uint8Array, maxFrameSize: number): Bytes {
  if (inflateSync === undefined) throw new ProtocolError("a compressed frame: this platform inflates only asynchronously (FrameDecoder.pushDeferred)");
  try {
    return inflateSync(body, maxFrameSize);
  } catch (err) {
    throw inflateError(err, maxFrameSize);
  }
}

/**
 * The payload if it inflates to at most INFLATE_NOW_LIMIT bytes (or `maxFrameSize`, if
 * smaller), else undefined: then inflateLater() it (always, in the browser build). Throws as
 * inflatePayload.
 */
export function inflateNow(body: Uint8Array, maxFrameSize: number): Bytes | undefined {
  if (inflateSync === undefined) return undefined;
  const limit = Math.min(maxFrameSize, INFLATE_NOW_LIMIT);
  try {
    return inflateSync(body, limit);
  } catch (err) {
    if ((err as { code?: string }).code === INFLATE_TOO_LARGE && limit < maxFrameSize) return undefined;
    throw inflateError(err, maxFrameSize);
  }
}

/** inflatePayload off the event loop (zlib's thread pool; DecompressionStream in browsers): other sockets are served meanwhile. */
export function inflateLater(body: Uint8Array, maxFrameSize: number): Promise<Bytes> {
  return inflate(body, maxFrameSize).catch((err: unknown) => {
    throw inflateError(err, maxFrameSize);
  });
}

/**
 * Incremental frame parser. Feed it chunks as they arrive; it returns the complete
 * payloads (decompressed) and keeps the rest. Throws ProtocolError/FrameTooLargeError on
 * bad input; the caller must then drop the connection (the stream is no longer in sync).
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  /** Index of the first unconsumed chunk: shifting a long array per chunk is quadratic. */
  private head = 0;
  private buffered = 0;
  /** Body length of the frame being read, or -1 while waiting for a header. */
  private bodyLength = -1;
  private compressed = false;

  constructor(private readonly maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE) {}

  /** Bytes received but not yet returned as payloads. */
  get pending(): number {
    // Once parsed, the header is no longer buffered but its frame is still unfinished.
    return this.bodyLength < 0 ? this.buffered : this.buffered + FRAME_HEADER_SIZE;
  }

  /**
   * The complete payloads of the stream so far, compressed ones inflated (not in the browser
   * build: use pushDeferred there). Views of `chunk`, or copies: Buffers in Node.
   */
  push(chunk: Bytes): Bytes[] {
    return this.read(chunk, true) as Bytes[];
  }

  /** As push(), but compressed frames come as DeflatedPayload, for the caller to inflate when it sees fit. */
  pushDeferred(chunk: Uint8Array): (Uint8Array | DeflatedPayload)[] {
    return this.read(chunk, false);
  }

  private read(chunk: Uint8Array, inflateAll: boolean): (Uint8Array | DeflatedPayload)[] {
    const out: (Uint8Array | DeflatedPayload)[] = [];
    if (this.buffered === 0 && this.bodyLength < 0) {
      // Fast path, nothing pending (the usual case): read the whole frames of this chunk in
      // place, without buffering them first.
      let at = 0;
      while (chunk.length - at >= FRAME_HEADER_SIZE) {
        const length = readLength(chunk, at);
        if (length > this.maxFrameSize) throw new FrameTooLargeError(length, this.maxFrameSize);
        const end = at + FRAME_HEADER_SIZE + length;
        if (end + 1 > chunk.length) break;
        const body = chunk.subarray(at + FRAME_HEADER_SIZE, end);
        out.push(chunk[at + 4] === 0 ? body : inflateAll ? inflatePayload(body, this.maxFrameSize) : new DeflatedPayload(body));
        at = end + 1; // flush byte: not validated, as in Python
      }
      if (at === chunk.length) return out;
      chunk = chunk.subarray(at);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.buffered < FRAME_HEADER_SIZE) break;
        const header = this.take(FRAME_HEADER_SIZE);
        const length = readLength(header, 0);
        if (length > this.maxFrameSize) throw new FrameTooLargeError(length, this.maxFrameSize);
        this.bodyLength = length;
        this.compressed = header[4] !== 0; // any non-zero flag means zlib, as in Python
      }
      if (this.buffered < this.bodyLength + 1) break;
      const body = this.take(this.bodyLength);
      this.take(1); // flush byte: not validated, as in Python
      out.push(!this.compressed ? body : inflateAll ? inflatePayload(body, this.maxFrameSize) : new DeflatedPayload(body));
      this.bodyLength = -1;
    }
    return out;
  }

  /** Removes exactly n buffered bytes (n <= buffered), copying only when they span chunks. */
  private take(n: number): Uint8Array {
    const first = this.chunks[this.head]!;
    let out: Uint8Array;
    if (first.length >= n) {
      if (first.length === n) this.chunks[this.head++] = EMPTY;
      else this.chunks[this.head] = first.subarray(n);
      out = first.subarray(0, n);
    } else {
      out = allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[this.head]!;
        const want = n - filled;
        if (chunk.length <= want) {
          out.set(chunk, filled);
          filled += chunk.length;
          this.chunks[this.head++] = EMPTY;
        } else {
          out.set(chunk.subarray(0, want), filled);
          this.chunks[this.head] = chunk.subarray(want);
          filled += want;
        }
      }
    }
    this.buffered -= n;
    // Drop consumed chunks in one splice once they are the bulk of the array (amortised O(1)).
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);
