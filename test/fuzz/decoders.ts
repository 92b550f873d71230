// The decoders under fuzz, and the harness that throws inputs at them. A decoder of
// untrusted bytes must, for every input, either return a value or throw one of its
// documented errors (ProtocolError, FrameTooLargeError) - never another exception, never
// take unreasonably long. A second implementation (the native codec of the performance
// issue) is fuzzed by adding one line to BRINE_DECODERS / FRAME_DECODERS.

import { deflateSync, inflateSync } from "node:zlib";
import { DEFAULT_BRINE_LIMITS, FrameTooLargeError, ProtocolError, type PyValue } from "../../runtime/index.js";
import { dump, FrameDecoder, load } from "../../runtime/wire/index.js";
import { Complex, Ellipsis, FrozenSet, NotImplemented, Slice } from "../../runtime/wire/values.js";
import { BRINE_SEEDS, SMALL_BRINE_SEEDS, SMALL_FRAMES } from "./corpus.js";
import { brineShaped, frameOf, hex, INTERESTING_BYTES, mutateBytes, randomBytes, randomValue, safeDump } from "./mutators.js";
import { deriveSeed, Rng, seedHex } from "./seed.js";

// ---- the decoders -----------------------------------------------------------------------------

export interface BrineDecoder {
  readonly name: string;
  /** Decodes one value; throws ProtocolError on bad input. */
  load(data: Uint8Array, maxDepth: number): PyValue;
}

export interface FrameDecoderLike {
  push(chunk: Buffer): Buffer[];
  readonly pending: number;
}

export interface FrameDecoderImpl {
  readonly name: string;
  create(maxFrameSize: number): FrameDecoderLike;
}

/** Every brine decoder to fuzz. The native codec goes here: `{ name: "native", load: (d, m) => native.load(d, { maxDepth: m }) }`. */
export const BRINE_DECODERS: readonly BrineDecoder[] = [
  { name: "brine (TypeScript)", load: (data, maxDepth) => load(data, { ...DEFAULT_BRINE_LIMITS, maxDepth }) },
];

/** Every frame decoder to fuzz. */
export const FRAME_DECODERS: readonly FrameDecoderImpl[] = [{ name: "FrameDecoder (TypeScript)", create: (max) => new FrameDecoder(max) }];

// ---- value comparison -------------------------------------------------------------------------

const numText = (n: number): string => (Object.is(n, -0) ? "-0" : String(n));

/**
 * An order-independent, exact key of a brine value: number vs bigint, -0, NaN and the exact
 * classes all count; frozenset members are sorted so their order does not. Leaf strings
 * are quoted once, so nesting never re-escapes anything.
 */
export function canon(value: unknown, depth = 0): string {
  if (depth > 10_000) return "<too deep>";
  switch (typeof value) {
    case "number":
      return `n${numText(value)}`;
    case "bigint":
      return `b${value.toString()}`;
    case "string":
      return `s${JSON.stringify(value)}`;
    case "boolean":
      return value ? "True" : "False";
    case "undefined":
      return "None";
    case "symbol":
      return value === NotImplemented ? "NotImplemented" : value === Ellipsis ? "Ellipsis" : `symbol(${String(value)})`;
  }
  if (value === null) return "None";
  if (Array.isArray(value)) return `t(${value.map((v) => canon(v, depth + 1)).join(",")})`;
  if (value instanceof Uint8Array) return `y${hex(value)}`;
  if (value instanceof Complex) return `c(${numText(value.real)},${numText(value.imag)})`;
  if (value instanceof Slice) return `sl(${canon(value.start, depth + 1)},${canon(value.stop, depth + 1)},${canon(value.step, depth + 1)})`;
  if (value instanceof FrozenSet)
    return `fs(${[...(value as FrozenSet<unknown>)]
      .map((v) => canon(v, depth + 1))
      .sort()
      .join(",")})`;
  if (typeof value === "object" && value !== null && "value" in value) return `n${numText((value as { value: number }).value)}`; // Float
  return `?${Object.prototype.toString.call(value)}`;
}

// ---- failures -----------------------------------------------------------------------------------

/** A fuzz failure: what broke, the seed, and the exact input as hex, ready to replay. */
export class FuzzFailure extends Error {
  override name = "FuzzFailure";
  constructor(
    readonly what: string,
    readonly seed: number,
    readonly inputHex: string,
    readonly detail: string,
  ) {
    super(
      `${what}\n  seed: ${seedHex(seed)} (replay: RPYC_FUZZ_SEED=${seedHex(seed)})\n  input (hex, ${inputHex.length / 2} bytes): ${inputHex.length > 4096 ? inputHex.slice(0, 4096) + "..." : inputHex}\n  ${detail}`,
    );
  }
}

// ---- brine ----------------------------------------------------------------------------------------

/** How one input came about (for statistics). */
export type BrineInputKind = "random" | "mutated-seed" | "mutated-dump" | "shaped" | "shaped-strict";

/** Builds input number `index` of a run: a pure function of (seed, index). */
export function brineInput(seed: number, index: number): { kind: BrineInputKind; bytes: Buffer } {
  const rng = new Rng(deriveSeed(seed, 0xb1, index));
  const r = rng.next();
  if (r < 0.2) return { kind: "random", bytes: randomBytes(rng, 64) };
  if (r < 0.55) return { kind: "mutated-seed", bytes: mutateBytes(rng, rng.pick(SMALL_BRINE_SEEDS)).bytes };
  if (r < 0.7) return { kind: "mutated-dump", bytes: mutateBytes(rng, safeDump(randomValue(rng)), 3).bytes };
  if (r < 0.9) return { kind: "shaped", bytes: brineShaped(rng) };
  return { kind: "shaped-strict", bytes: brineShaped(rng, 0, 0) };
}

export interface BrineFuzzStats {
  inputs: number;
  accepted: number;
  refused: number;
  byKind: Record<string, number>;
  /** Slowest single load (ms) and its input. */
  slowestMs: number;
  slowestHex: string;
  elapsedMs: number;
}

/** Time budget of one load: generous, linear in the input size (a "hang" is far beyond it). */
export function loadBudgetMs(size: number): number {
  return 200 + size / 10_000; // 200 ms + 0.1 ms per KB
}

/**
 * Whether `run` really exceeds `budgetMs`: a first overrun may be a GC pause or the other
 * test worker taking the core, so it counts only if the fastest of three re-runs overruns too.
 */
export function confirmedOverrun(run: () => unknown, budgetMs: number): { over: boolean; ms: number } {
  let fastest = Infinity;
  for (let attempt = 0; attempt < 3 && fastest > budgetMs; attempt++) {
    const t0 = performance.now();
    try {
      run();
    } catch {
      // the outcome was checked already; only the time matters here
    }
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return { over: fastest > budgetMs, ms: fastest };
}

/**
 * Loads one input and checks the contract: a value (which re-dumps and re-loads to itself)
 * or a ProtocolError. Throws FuzzFailure otherwise. Returns whether the input was accepted.
 */
export function checkBrineInput(decoder: BrineDecoder, bytes: Uint8Array, seed: number, maxDepth = DEFAULT_BRINE_LIMITS.maxDepth): boolean {
  let value: PyValue;
  try {
    value = decoder.load(bytes, maxDepth);
  } catch (err) {
    if (err instanceof ProtocolError) return false;
    throw new FuzzFailure(
      `${decoder.name}: load threw ${(err as Error)?.name ?? typeof err} instead of a ProtocolError`,
      seed,
      hex(bytes),
      String((err as Error)?.stack ?? err),
    );
  }
  // Whatever was accepted is a brine value: it dumps, and loads back to the same value.
  // dump is deterministic and tells int from float, -0 from 0, bytes from str, so equal
  // dumps mean equal values (and comparing bytes is far cheaper than canon()).
  let first: Buffer;
  let again: PyValue;
  try {
    first = dump(value);
    again = decoder.load(first, maxDepth);
  } catch (err) {
    throw new FuzzFailure(`${decoder.name}: an accepted value does not survive dump + load`, seed, hex(bytes), String((err as Error)?.stack ?? err));
  }
  if (!dump(again).equals(first)) {
    throw new FuzzFailure(
      `${decoder.name}: load(dump(load(x))) differs from load(x)`,
      seed,
      hex(bytes),
      `${canon(value).slice(0, 500)} vs ${canon(again).slice(0, 500)}`,
    );
  }
  return true;
}

/**
 * Runs `fn` with Error.stackTraceLimit = 0: most inputs end in a ProtocolError, and capturing
 * its stack was half the cost of a million-input loop. Failures are re-checked with stacks.
 */
export function withoutStacks<T>(fn: () => T): T {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = saved;
  }
}

/** Re-runs a failing check with stack traces on, so the report shows where it broke. */
function withStack(failure: FuzzFailure, recheck: () => unknown): FuzzFailure {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(saved, 20);
  try {
    recheck();
  } catch (err) {
    if (err instanceof FuzzFailure) return err;
  } finally {
    Error.stackTraceLimit = saved;
  }
  return failure;
}

/** Cheap one-byte mutants checked after each generated input (the classic fuzzer mutation). */
export const BRINE_VARIANTS = 3;

/** Variant `v` (1..BRINE_VARIANTS) of a generated input: one byte set to a random or interesting value. */
export function brineVariant(seed: number, index: number, v: number, base: Buffer): Buffer {
  const rng = new Rng(deriveSeed(seed, 0xb2, index, v));
  if (base.length === 0) return Buffer.from([rng.byte()]);
  const out = Buffer.from(base);
  out[rng.int(out.length)] = rng.chance(0.5) ? rng.byte() : rng.pick(INTERESTING_BYTES);
  return out;
}

/**
 * Throws the generated inputs `from`..`from + count - 1`, each with its BRINE_VARIANTS
 * one-byte mutants, at a brine decoder; throws FuzzFailure at the first violation.
 */
export function fuzzBrine(decoder: BrineDecoder, seed: number, count: number, from = 0): BrineFuzzStats {
  const stats: BrineFuzzStats = { inputs: 0, accepted: 0, refused: 0, byKind: {}, slowestMs: 0, slowestHex: "", elapsedMs: 0 };
  const start = performance.now();
  for (let i = from; i < from + count; i++) {
    const { kind, bytes: base } = brineInput(seed, i);
    for (let v = 0; v <= BRINE_VARIANTS; v++) {
      const bytes = v === 0 ? base : brineVariant(seed, i, v, base);
      const label = v === 0 ? kind : `${kind}+byte`;
      const t0 = performance.now();
      let accepted: boolean;
      try {
        accepted = checkBrineInput(decoder, bytes, seed);
      } catch (err) {
        if (err instanceof FuzzFailure) {
          const full = withStack(err, () => checkBrineInput(decoder, bytes, seed));
          throw new FuzzFailure(`${full.what} (input #${i} variant ${v}, ${kind})`, seed, full.inputHex, full.detail);
        }
        throw err;
      }
      const ms = performance.now() - t0;
      if (ms > stats.slowestMs) {
        stats.slowestMs = ms;
        stats.slowestHex = hex(bytes).slice(0, 200);
      }
      if (ms > loadBudgetMs(bytes.length)) {
        const check = confirmedOverrun(() => checkBrineInput(decoder, bytes, seed), loadBudgetMs(bytes.length));
        if (check.over) throw new FuzzFailure(`${decoder.name}: load took ${check.ms.toFixed(0)} ms (input #${i} variant ${v}, ${kind})`, seed, hex(bytes), "");
      }
      stats.inputs++;
      if (accepted) stats.accepted++;
      else stats.refused++;
      stats.byKind[label] = (stats.byKind[label] ?? 0) + 1;
    }
  }
  stats.elapsedMs = performance.now() - start;
  return stats;
}

/** Large inputs the million-input loop does not make: huge texts, counts and nesting. */
export function largeBrineInputs(): { what: string; bytes: Buffer }[] {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  };
  const intText = (digits: number, sign = ""): Buffer =>
    Buffer.concat([Buffer.from([0x17]), u32(digits + sign.length), Buffer.from(sign), Buffer.alloc(digits, 0x37)]);
  return [
    { what: "int of 4300 digits (Python's limit)", bytes: intText(4300) },
    { what: "int of -4300 digits", bytes: intText(4300, "-") },
    { what: "int of 4301 digits", bytes: intText(4301) },
    { what: "int of 100,000 digits", bytes: intText(100_000) },
    { what: "int of 2,000,000 digits", bytes: intText(2_000_000) },
    { what: "int of 8,000,000 digits", bytes: intText(8_000_000) },
    { what: "bytes of 16 MiB", bytes: Buffer.concat([Buffer.from([0x0f]), u32(16 << 20), Buffer.alloc(16 << 20, 0x61)]) },
    { what: "str of 16 MiB", bytes: Buffer.concat([Buffer.from([0x08, 0x0f]), u32(16 << 20), Buffer.alloc(16 << 20, 0x61)]) },
    { what: "tuple of 1,000,000 Nones", bytes: Buffer.concat([Buffer.from([0x15]), u32(1_000_000), Buffer.alloc(1_000_000, 0x00)]) },
    { what: "tuple claiming 2^32-1 items", bytes: Buffer.concat([Buffer.from([0x15]), u32(0xffffffff), Buffer.alloc(64, 0x00)]) },
    { what: "frozenset of 200,000 distinct ints", bytes: dump(new FrozenSet(Array.from({ length: 200_000 }, (_, i) => i))) },
    { what: "nesting of 1,000,000 one-tuples", bytes: Buffer.concat([Buffer.alloc(1_000_000, 0x10), Buffer.from([0x50])]) },
    { what: "nesting of 1,000,000 str tags", bytes: Buffer.concat([Buffer.alloc(1_000_000, 0x08), Buffer.from([0x01])]) },
    {
      what: "nesting of 500,000 frozenset-of-tuple",
      bytes: Buffer.concat([Buffer.alloc(1_000_000, 0x1a).map((_, i) => (i % 2 ? 0x10 : 0x1a)), Buffer.from([0x50])]),
    },
    { what: "every session payload", bytes: dump(BRINE_SEEDS.map((b) => new Uint8Array(b))) },
  ];
}

// ---- frames ---------------------------------------------------------------------------------------

export type FrameResult = { payloads: Buffer[]; error?: "protocol" | "too-large"; rest: number };

/** The reference reading of a byte stream (docs/protocol.md §2), written as plainly as possible. */
export function referenceFrames(stream: Buffer, maxFrameSize: number): FrameResult {
  const payloads: Buffer[] = [];
  let pos = 0;
  while (stream.length - pos >= 5) {
    const length = stream.readUInt32BE(pos);
    const flag = stream[pos + 4]!;
    if (length > maxFrameSize) return { payloads, error: "too-large", rest: stream.length - pos };
    if (stream.length - pos < 5 + length + 1) break;
    const body = stream.subarray(pos + 5, pos + 5 + length);
    if (flag !== 0) {
      try {
        payloads.push(inflateSync(body, { maxOutputLength: maxFrameSize }));
      } catch (err) {
        return { payloads, error: (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ? "too-large" : "protocol", rest: stream.length - pos };
      }
    } else payloads.push(Buffer.from(body));
    pos += 5 + length + 1;
  }
  return { payloads, rest: stream.length - pos };
}

/** A byte stream of frames: valid ones, mutated ones, random headers. Pure function of (seed, index). */
export function frameStreamInput(seed: number, index: number): { stream: Buffer; chunks: number[]; maxFrameSize: number } {
  const rng = new Rng(deriveSeed(seed, 0xf7, index));
  const maxFrameSize = rng.pick([64, 1024, 4096, 1 << 20, 64 << 20]);
  const parts: Buffer[] = [];
  const frames = 1 + rng.size(8);
  for (let f = 0; f < frames; f++) {
    const r = rng.next();
    const payload = rng.chance(0.5) ? rng.pick(SMALL_FRAMES).payload : randomBytes(rng, 200);
    if (r < 0.55) parts.push(frameOf(payload));
    else if (r < 0.62) parts.push(frameOf(deflateForFuzz(payload), rng.range(1, 255)));
    else if (r < 0.7) parts.push(frameOf(payload, 0, payload.length, rng.byte()));
    else if (r < 0.78) {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(rng.pick([0, 1, maxFrameSize, maxFrameSize + 1, 0xffffffff, rng.u32(), rng.int(300)]) >>> 0);
      header[4] = rng.chance(0.8) ? 0 : rng.byte();
      parts.push(Buffer.concat([header, randomBytes(rng, 300)]));
    } else if (r < 0.86) parts.push(frameOf(randomBytes(rng, 64), 1));
    else if (r < 0.9) {
      // Compressed filler around the limit (a zip bomb when above it); large limits get a 64 KiB filler.
      const size = maxFrameSize <= 4096 ? Math.max(1, maxFrameSize + rng.range(-2, 2)) : 65536;
      parts.push(frameOf(filler(size), 1));
    } else parts.push(mutateBytes(rng, frameOf(payload), 3).bytes);
  }
  const stream = Buffer.concat(parts);
  // Random chunking: byte by byte, a few pieces, or all at once.
  const chunks: number[] = [];
  const style = rng.int(4);
  let left = stream.length;
  while (left > 0) {
    const n = style === 0 ? 1 : style === 1 ? 1 + rng.int(7) : style === 2 ? 1 + rng.int(Math.max(1, left)) : left;
    chunks.push(Math.min(n, left));
    left -= n;
  }
  return { stream, chunks, maxFrameSize };
}

function deflateForFuzz(payload: Buffer): Buffer {
  return deflateSync(payload);
}

const fillers = new Map<number, Buffer>();
/** zlib of `size` bytes of "A", compressed once per size. */
function filler(size: number): Buffer {
  let out = fillers.get(size);
  if (!out) fillers.set(size, (out = deflateSync(Buffer.alloc(size, 0x41))));
  return out;
}

export interface FrameFuzzStats {
  inputs: number;
  frames: number;
  refused: number;
  elapsedMs: number;
  slowestMs: number;
}

/**
 * Feeds one stream, chunk by chunk, to a frame decoder and checks it against the reference:
 * the payloads it returns are the reference's (a prefix of them if it fails), it fails iff
 * the reference does, with the same kind of error, and it never throws anything else.
 */
export function checkFrameStream(
  impl: FrameDecoderImpl,
  stream: Buffer,
  chunks: readonly number[],
  maxFrameSize: number,
  seed: number,
): { frames: number; refused: boolean } {
  const expected = referenceFrames(stream, maxFrameSize);
  const decoder = impl.create(maxFrameSize);
  const got: Buffer[] = [];
  let error: FrameResult["error"];
  let offset = 0;
  const fail = (what: string, detail = ""): never => {
    throw new FuzzFailure(`${impl.name}: ${what}`, seed, hex(stream), `chunks: ${JSON.stringify(chunks)}; maxFrameSize ${maxFrameSize}; ${detail}`);
  };
  for (const n of chunks) {
    const chunk = stream.subarray(offset, offset + n);
    offset += n;
    try {
      got.push(...decoder.push(chunk));
    } catch (err) {
      if (err instanceof FrameTooLargeError) error = "too-large";
      else if (err instanceof ProtocolError) error = "protocol";
      else fail(`push threw ${(err as Error)?.name} instead of ProtocolError/FrameTooLargeError`, String((err as Error)?.stack ?? err));
      break;
    }
  }
  if (got.length > expected.payloads.length) fail(`returned ${got.length} payloads, the stream holds ${expected.payloads.length}`);
  got.forEach((payload, i) => {
    if (!payload.equals(expected.payloads[i]!)) fail(`payload #${i} differs from the reference`);
    if (payload.length > maxFrameSize) fail(`payload #${i} of ${payload.length} bytes exceeds maxFrameSize`);
  });
  if (error !== expected.error) fail(`error ${String(error)}, the reference says ${String(expected.error)}`);
  if (!error) {
    if (got.length !== expected.payloads.length) fail(`returned ${got.length} payloads, the reference ${expected.payloads.length}`);
    if (decoder.pending !== expected.rest) fail(`pending ${decoder.pending} bytes, the reference leaves ${expected.rest}`);
  }
  return { frames: got.length, refused: error !== undefined };
}

/** Throws `count` streams at a frame decoder. */
export function fuzzFrames(impl: FrameDecoderImpl, seed: number, count: number, from = 0): FrameFuzzStats {
  const stats: FrameFuzzStats = { inputs: 0, frames: 0, refused: 0, elapsedMs: 0, slowestMs: 0 };
  const start = performance.now();
  for (let i = from; i < from + count; i++) {
    const { stream, chunks, maxFrameSize } = frameStreamInput(seed, i);
    const t0 = performance.now();
    let result: { frames: number; refused: boolean };
    try {
      result = checkFrameStream(impl, stream, chunks, maxFrameSize, seed);
    } catch (err) {
      if (err instanceof FuzzFailure) {
        const full = withStack(err, () => checkFrameStream(impl, stream, chunks, maxFrameSize, seed));
        throw new FuzzFailure(`${full.what} (stream #${i})`, seed, full.inputHex, full.detail);
      }
      throw err;
    }
    const ms = performance.now() - t0;
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    if (ms > loadBudgetMs(stream.length) * 2) {
      const check = confirmedOverrun(() => checkFrameStream(impl, stream, chunks, maxFrameSize, seed), loadBudgetMs(stream.length) * 2);
      if (check.over) throw new FuzzFailure(`${impl.name}: stream #${i} took ${check.ms.toFixed(0)} ms`, seed, hex(stream), "");
    }
    stats.inputs++;
    stats.frames += result.frames;
    if (result.refused) stats.refused++;
  }
  stats.elapsedMs = performance.now() - start;
  return stats;
}
