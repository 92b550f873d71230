// Native frames written in one pass: the RPyC frame header (length, compressed flag), the
// native payload and the flush byte go into one reused protobufjs writer, so a small frame
// costs one exact-size copy and nothing else. Bytes values of ZERO_COPY_BYTES or more are not
// copied into the writer at all: they become chunks of their own between the writer's parts
// (a 1 MiB echo is written from the caller's buffer, as brine's large frames are).

import type * as pbt from "protobufjs/light.js";
import { framePayload, type ExternalBytes } from "../wire/channel.js";
import { lib } from "./wire-types.js";

/** Bytes values at least this large are sent as their own chunk instead of being copied into the frame. */
export const ZERO_COPY_BYTES = 64 * 1024;

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
 * The chunks to write for the frame in `writer` (see framePayload), which is then reused:
 * nothing returned points into it. Big bytes values are the caller's own buffers (not to be
 * modified until written).
 */
export function finishFrame(writer: FrameWriter, compress: boolean): Uint8Array[] {
  try {
    // A writer too big to keep is handed over with its frame instead of copied out.
    return framePayload(writer.buf, writer.pos, writer.externals, compress, writer.buf.length > MAX_SCRATCH_BYTES);
  } finally {
    abandonFrame(writer);
  }
}
