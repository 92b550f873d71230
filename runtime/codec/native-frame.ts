// Native frames written in one pass: the RPyC frame header (length, compressed flag), the
// native payload and the flush byte go into one reused protobufjs writer, so a small frame
// costs one exact-size copy and nothing else. Bytes values of ZERO_COPY_BYTES or more are not
// copied into the writer at all: they become chunks of their own between the writer's parts
// (a 1 MiB echo is written from the caller's buffer, as brine's large frames are).

import type * as pbt from "protobufjs/light.js";
import { COMPRESSION_THRESHOLD, FLUSHER, FRAME_HEADER_SIZE, frameChunks, worthCompressing } from "../channel.js";
import { lib } from "./wire-types.js";

/** Bytes values at least this large are sent as their own chunk instead of being copied into the frame. */
export const ZERO_COPY_BYTES = 64 * 1024;

/** A bytes value left out of the writer: it goes on the wire at writer position `at`. */
interface ExternalBytes {
  readonly at: number;
  readonly bytes: Uint8Array;
}

/** The protobufjs writer of native frames, with the members of protobufjs' Writer that this module uses. */
export interface FrameWriter extends pbt.Writer {
  pos: number;
  buf: Uint8Array;
  states: number[] | null;
  readonly externals: ExternalBytes[];
}

type FrameWriterClass = new () => FrameWriter;
let writerClass: FrameWriterClass | undefined;

/** protobufjs' Node writer, whose bytes() leaves big values out (only outside nested messages: their length prefixes are fixed up by moving what was written). */
function frameWriterClass(): FrameWriterClass {
  if (writerClass) return writerClass;
  const Base = lib().BufferWriter as unknown as new () => FrameWriter;
  class ChunkingWriter extends Base {
    override readonly externals: ExternalBytes[] = [];
    override bytes(value: Uint8Array | string): pbt.Writer {
      if (typeof value !== "string" && value.length >= ZERO_COPY_BYTES && (this.states === null || this.states.length === 0)) {
        this.uint32(value.length);
        this.externals.push({ at: this.pos, bytes: value });
        return this;
      }
      return super.bytes(value);
    }
  }
  writerClass = ChunkingWriter;
  return writerClass;
}

/** The writer frames reuse; undefined while one is being written (a re-entrant encode gets its own). */
let scratch: FrameWriter | undefined;

/** Starts a native frame: the header's 5 bytes are reserved (filled in by finishFrame). */
export function startFrame(): FrameWriter {
  const writer = scratch ?? new (frameWriterClass())();
  scratch = undefined;
  writer.pos = 0;
  writer.states = null;
  writer.externals.length = 0;
  writer.fixed32(0).uint32(0); // length (big-endian, patched below) and the compressed flag 0
  return writer;
}

/** A writer that grew beyond this (a big value copied into it) is not kept for reuse. */
const MAX_SCRATCH_BYTES = 256 * 1024;

/** Gives a writer back for reuse (also when its encode threw). */
export function abandonFrame(writer: FrameWriter): void {
  writer.externals.length = 0;
  if (writer.buf.length <= MAX_SCRATCH_BYTES) scratch = writer;
}

/**
 * The chunks to write for the frame in `writer`, which is then reused: nothing returned
 * points into it. Big bytes values are the caller's own buffers (not to be modified until
 * written). With `compress`, a payload above COMPRESSION_THRESHOLD goes the way frameChunks
 * sends brine (compressed when that pays), except that a big bytes value that does not
 * compress (random, already compressed) skips it without a copy.
 */
export function finishFrame(writer: FrameWriter, compress: boolean): Uint8Array[] {
  try {
    const externals = writer.externals;
    const buf = writer.buf;
    const end = writer.pos;
    let length = end - FRAME_HEADER_SIZE;
    let largest: Uint8Array | undefined;
    for (const external of externals) {
      length += external.bytes.length;
      if (largest === undefined || external.bytes.length > largest.length) largest = external.bytes;
    }
    if (compress && length > COMPRESSION_THRESHOLD && (largest === undefined || worthCompressing(largest))) {
      return frameChunks(payloadCopy(writer), true);
    }
    buf[0] = length >>> 24;
    buf[1] = (length >>> 16) & 0xff;
    buf[2] = (length >>> 8) & 0xff;
    buf[3] = length & 0xff;
    if (externals.length === 0) {
      const frame = Buffer.allocUnsafe(end + 1);
      frame.set(buf.subarray(0, end), 0);
      frame[end] = FLUSHER;
      return [frame];
    }
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const external of externals) {
      if (external.at > from) chunks.push(Buffer.from(buf.subarray(from, external.at)));
      chunks.push(external.bytes);
      from = external.at;
    }
    const tail = Buffer.allocUnsafe(end - from + 1);
    tail.set(buf.subarray(from, end), 0);
    tail[end - from] = FLUSHER;
    chunks.push(tail);
    return chunks;
  } finally {
    abandonFrame(writer);
  }
}

/** The whole payload (without the header) as one new buffer, big bytes values included. */
function payloadCopy(writer: FrameWriter): Uint8Array {
  const parts: Uint8Array[] = [];
  let from = FRAME_HEADER_SIZE;
  for (const external of writer.externals) {
    parts.push(writer.buf.subarray(from, external.at), external.bytes);
    from = external.at;
  }
  parts.push(writer.buf.subarray(from, writer.pos));
  return Buffer.concat(parts);
}
