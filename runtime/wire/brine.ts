// Brine: RPyC 5.3's value codec (rpyc/core/brine.py), bit-exact with Python's dump() output.
// The decoder is stricter than Python's: truncation, trailing bytes, unknown tags and
// nesting beyond `maxDepth` are ProtocolErrors instead of crashes or silent garbage.

import { FRAME_HEADER_SIZE, framePayload, type ExternalBytes } from "./channel.js";
import { ProtocolError } from "../errors/rpyc-errors.js";
import { Complex, Ellipsis, Float, FrozenSet, NotImplemented, Slice, type PyValue, type PyValueIn } from "./values.js";
import { allocUnsafe, allocUnsafeSlow, latin1Decode, utf8Length, utf8Write, type Bytes } from "../platform/node.js";

export const TAG_NONE = 0x00;
export const TAG_EMPTY_STR = 0x01; // empty bytes
export const TAG_EMPTY_TUPLE = 0x02;
export const TAG_TRUE = 0x03;
export const TAG_FALSE = 0x04;
export const TAG_NOT_IMPLEMENTED = 0x05;
export const TAG_ELLIPSIS = 0x06;
export const TAG_UNICODE = 0x08;
export const TAG_STR1 = 0x0a;
export const TAG_STR2 = 0x0b;
export const TAG_STR3 = 0x0c;
export const TAG_STR4 = 0x0d;
export const TAG_STR_L1 = 0x0e;
export const TAG_STR_L4 = 0x0f;
export const TAG_TUP1 = 0x10;
export const TAG_TUP2 = 0x11;
export const TAG_TUP3 = 0x12;
export const TAG_TUP4 = 0x13;
export const TAG_TUP_L1 = 0x14;
export const TAG_TUP_L4 = 0x15;
export const TAG_INT_L1 = 0x16;
export const TAG_INT_L4 = 0x17;
export const TAG_FLOAT = 0x18;
export const TAG_SLICE = 0x19;
export const TAG_FSET = 0x1a;
export const TAG_COMPLEX = 0x1b;
/** Immediate ints: tag = IMM_INTS_BASE + n for n in [IMM_INT_MIN, IMM_INT_MAX]. */
export const IMM_INTS_BASE = 0x50;
export const IMM_INT_MIN = -0x30;
export const IMM_INT_MAX = 0x9f;

/** Limits applied while decoding untrusted bytes. */
export interface BrineLimits {
  /** Deepest tuple/frozenset/slice nesting accepted (guards the decoder's stack). */
  maxDepth: number;
  /**
   * Most decimal digits of an int accepted (sign not counted; default MAX_INT_DIGITS).
   * Parsing decimal text into a BigInt is quadratic: 8 million digits blocked the event
   * loop for seconds. Python 3.11+ refuses the same texts (int_max_str_digits, 4300).
   */
  maxIntDigits?: number;
  /**
   * Most values one input may decode into (default MAX_BRINE_ITEMS): every value counts
   * one, a tuple and each of its items alike. Without it a frame of one-byte items (a tuple
   * of 10 million empty bytes) made tens of millions of objects from 10 MB of input.
   */
  maxItems?: number;
}

/** Python's default `sys.int_info.default_max_str_digits`. */
export const MAX_INT_DIGITS = 4300;

/**
 * Default of `maxItems`. The busiest message of the interop suite and the captured Python
 * sessions decodes into under 400 values; a tuple of 100,000 numbers still passes. Measured
 * per kind, a decoded value costs at most about 170 B of heap (a one-item frozenset; 57 B per
 * byte received) and 0.2-0.6 µs (frozensets, short bytes, complex, 16-20 digit ints), so a
 * frame at the limit takes at most about 17 MB and tens of milliseconds to decode.
 */
export const MAX_BRINE_ITEMS = 100_000;

export const DEFAULT_BRINE_LIMITS: BrineLimits = { maxDepth: 256, maxIntDigits: MAX_INT_DIGITS, maxItems: MAX_BRINE_ITEMS };

/** The one empty bytes value every decode returns: frozen, so sharing it is safe (and cheap). */
const EMPTY_BYTES: Uint8Array = Object.freeze(new Uint8Array(0));
/** Likewise the empty frozenset (a FrozenSet cannot change; freezing also stops expandos). */
const EMPTY_FROZENSET = Object.freeze(new FrozenSet()) as FrozenSet;

// ignoreBOM: keep a leading U+FEFF as Python's "utf-8" codec does (the default strips it).
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Floats cross as 8 big-endian bytes through this scratch (as Buffer's readDoubleBE does):
 * no DataView per buffer, no allocation per value.
 */
const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeF64(buf: Uint8Array, at: number, n: number): void {
  f64Scratch[0] = n;
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) buf[at + i] = f64Bytes[7 - i]!;
  else buf.set(f64Bytes, at);
}

function readF64(buf: Uint8Array, at: number): number {
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) f64Bytes[7 - i] = buf[at + i]!;
  else for (let i = 0; i < 8; i++) f64Bytes[i] = buf[at + i]!;
  return f64Scratch[0]!;
}

/**
 * Deepest nesting dump() and dumpable() accept: a deeper (or cyclic) value is not
 * dumpable, instead of overflowing the stack. The same bound our decoder applies.
 */
export const MAX_DUMP_DEPTH = DEFAULT_BRINE_LIMITS.maxDepth;

/** True iff `value` can travel by value (RPyC's `brine.dumpable`). */
export function dumpable(value: unknown, depth = 0): value is PyValueIn {
  switch (typeof value) {
    case "number":
    case "bigint":
    case "boolean":
    case "undefined":
      return true;
    case "string":
      return true;
    case "symbol":
      return value === NotImplemented || value === Ellipsis;
    case "object":
      if (value === null) return true;
      if (depth >= MAX_DUMP_DEPTH) return false;
      if (Array.isArray(value)) return value.every((item) => dumpable(item, depth + 1));
      if (value instanceof Uint8Array) return true;
      if (value instanceof Float || value instanceof Complex) return true;
      if (value instanceof Slice) return dumpable(value.start, depth + 1) && dumpable(value.stop, depth + 1) && dumpable(value.step, depth + 1);
      if (value instanceof FrozenSet) {
        for (const item of value) if (!dumpable(item, depth + 1)) return false;
        return true;
      }
      return false;
    default:
      return false;
  }
}

/**
 * A growable output buffer. dump() reuses one (the scratch writer) across calls, so a small
 * value costs one exact-size allocation for its result and nothing else.
 */
class Writer {
  buf: Uint8Array;
  pos = 0;
  /** In dumpFrame(): big bytes values are recorded in `externals` instead of copied into buf. */
  collect = false;
  readonly externals: ExternalBytes[] = [];
  constructor(size: number) {
    this.buf = allocUnsafeSlow(size);
  }
  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    // Doubling for many small appends; exact for one large value (a bytes of megabytes).
    const next = allocUnsafeSlow(Math.max(this.buf.length * 2, need));
    next.set(this.buf.subarray(0, this.pos), 0);
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  u32(n: number): void {
    this.ensure(4);
    const buf = this.buf;
    const at = this.pos;
    buf[at] = n >>> 24;
    buf[at + 1] = n >>> 16;
    buf[at + 2] = n >>> 8;
    buf[at + 3] = n;
    this.pos = at + 4;
  }
  f64(n: number): void {
    this.ensure(8);
    writeF64(this.buf, this.pos, n);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Size of the scratch writer's buffer. */
const SCRATCH_SIZE = 16 * 1024;
/**
 * Results up to this size are copied out of the scratch buffer (one exact allocation, from
 * Node's pool when small); larger ones take the buffer itself, saving a copy of megabytes,
 * and the scratch gets a fresh buffer.
 */
const SCRATCH_COPY_LIMIT = 64 * 1024;
/** The writer dump() reuses; undefined while a dump runs (a re-entrant dump gets its own). */
let scratch: Writer | undefined = new Writer(SCRATCH_SIZE);

function writeLength(w: Writer, n: number, tag1: number, tagL1: number, tagL4: number, tagEmpty: number): void {
  if (n === 0) w.byte(tagEmpty);
  else if (n <= 4) w.byte(tag1 + n - 1);
  else if (n < 256) {
    w.byte(tagL1);
    w.byte(n);
  } else {
    w.byte(tagL4);
    w.u32(n);
  }
}

function writeIntText(w: Writer, text: string): void {
  // Decimal ASCII: one byte per character.
  if (text.length < 256) {
    w.ensure(2 + text.length);
    w.buf[w.pos++] = TAG_INT_L1;
    w.buf[w.pos++] = text.length;
  } else {
    w.byte(TAG_INT_L4);
    w.u32(text.length);
    w.ensure(text.length);
  }
  // A loop beats a native text encoder's call for the handful of digits of a usual int.
  const buf = w.buf;
  const at = w.pos;
  for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
  w.pos = at + text.length;
}

function writeInt(w: Writer, n: number | bigint): void {
  if (n >= IMM_INT_MIN && n <= IMM_INT_MAX) w.byte(IMM_INTS_BASE + Number(n));
  else writeIntText(w, n.toString());
}

function writeFloat(w: Writer, n: number): void {
  w.byte(TAG_FLOAT);
  w.f64(n);
}

function writeBytes(w: Writer, b: Uint8Array): void {
  writeLength(w, b.length, TAG_STR1, TAG_STR_L1, TAG_STR_L4, TAG_EMPTY_STR);
  if (w.collect && b.length >= BYTES_VIEW_THRESHOLD) w.externals.push({ at: w.pos, bytes: b });
  else w.bytes(b);
}

/** Strings up to this length are tried as ASCII first: no native call for the usual names. */
const SHORT_STRING = 256;

/** Writes a str of `size` UTF-8 bytes: TAG_UNICODE, then a bytes header. */
function writeStringHeader(w: Writer, size: number): void {
  w.byte(TAG_UNICODE);
  writeLength(w, size, TAG_STR1, TAG_STR_L1, TAG_STR_L4, TAG_EMPTY_STR);
}

function writeString(w: Writer, s: string): void {
  const length = s.length;
  if (length <= SHORT_STRING) {
    // ASCII: one byte per UTF-16 unit, so the header is known before the loop.
    const start = w.pos;
    writeStringHeader(w, length);
    w.ensure(length);
    const buf = w.buf;
    const at = w.pos;
    let i = 0;
    for (; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    if (i === length) {
      w.pos = at + length;
      return;
    }
    w.pos = start; // not ASCII: start over below
  }
  // Python encodes str with strict UTF-8: a lone surrogate cannot be sent.
  if (!s.isWellFormed()) throw new TypeError("cannot dump a string with lone surrogates (not valid UTF-8)");
  const size = utf8Length(s);
  writeStringHeader(w, size);
  w.ensure(size);
  w.pos += utf8Write(w.buf, s, w.pos);
}

function writeTuple(w: Writer, items: readonly unknown[], depth: number): void {
  if (depth >= MAX_DUMP_DEPTH) throw new TypeError(`cannot dump a value nested deeper than ${MAX_DUMP_DEPTH} levels (or cyclic)`);
  writeLength(w, items.length, TAG_TUP1, TAG_TUP_L1, TAG_TUP_L4, TAG_EMPTY_TUPLE);
  for (let i = 0; i < items.length; i++) writeValue(w, items[i], depth + 1);
}

function describe(value: unknown): string {
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "object";
  return typeof value;
}

function writeValue(w: Writer, value: unknown, depth: number): void {
  switch (typeof value) {
    case "number":
      // Integral and exactly representable -> int; otherwise (fractions, -0, NaN, inf, huge) -> float.
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) writeInt(w, value);
      else writeFloat(w, value);
      return;
    case "bigint":
      writeInt(w, value);
      return;
    case "string":
      writeString(w, value);
      return;
    case "boolean":
      w.byte(value ? TAG_TRUE : TAG_FALSE);
      return;
    case "undefined":
      w.byte(TAG_NONE);
      return;
    case "symbol":
      if (value === NotImplemented) return w.byte(TAG_NOT_IMPLEMENTED);
      if (value === Ellipsis) return w.byte(TAG_ELLIPSIS);
      break;
    case "object":
      if (value === null) return w.byte(TAG_NONE);
      if (Array.isArray(value)) return writeTuple(w, value, depth);
      if (value instanceof Uint8Array) return writeBytes(w, value);
      if (value instanceof Float) return writeFloat(w, value.value);
      if (value instanceof Complex) {
        w.byte(TAG_COMPLEX);
        w.f64(value.real);
        w.f64(value.imag);
        return;
      }
      if (value instanceof Slice) {
        w.byte(TAG_SLICE);
        return writeTuple(w, [value.start, value.stop, value.step], depth);
      }
      if (value instanceof FrozenSet) {
        w.byte(TAG_FSET);
        return writeTuple(w, [...value], depth);
      }
      break;
  }
  throw new TypeError(`cannot dump ${describe(value)}`);
}

/**
 * Serializes a value exactly as RPyC 5.3's `brine.dump` would. Throws TypeError if not
 * dumpable. The result is the caller's: no later dump reuses its memory.
 */
export function dump(value: PyValueIn): Bytes {
  const w = scratch ?? new Writer(SCRATCH_SIZE);
  scratch = undefined;
  w.pos = 0;
  try {
    writeValue(w, value, 0);
    if (w.pos > SCRATCH_COPY_LIMIT) {
      const out = w.buf.subarray(0, w.pos) as Bytes;
      w.buf = allocUnsafeSlow(SCRATCH_SIZE);
      return out;
    }
    const n = w.pos;
    const out = allocUnsafe(n);
    const buf = w.buf;
    // A loop beats the native copy for the few dozen bytes of a typical message.
    if (n <= 256) for (let i = 0; i < n; i++) out[i] = buf[i]!;
    else out.set(buf.subarray(0, n), 0);
    return out;
  } finally {
    // A failed dump of a huge value must not keep its buffer alive either.
    if (w.buf.length > SCRATCH_COPY_LIMIT) w.buf = allocUnsafeSlow(SCRATCH_SIZE);
    w.pos = 0;
    scratch = w;
  }
}

/**
 * dump() straight into a frame (the connection's send path): the message is written after
 * room for the frame header in the scratch writer and framed with framePayload, so a small
 * message costs one exact-size copy; bytes values of BYTES_VIEW_THRESHOLD or more are not
 * copied but become chunks of their own (the caller must not modify them until written).
 * The bytes on the wire are the same as frameChunks(dump(value), compress) would send.
 */
export function dumpFrame(value: PyValueIn, compress: boolean): Uint8Array[] {
  const w = scratch ?? new Writer(SCRATCH_SIZE);
  scratch = undefined;
  w.pos = FRAME_HEADER_SIZE;
  w.collect = true;
  try {
    writeValue(w, value, 0);
    const handOver = w.pos > SCRATCH_COPY_LIMIT;
    const chunks = framePayload(w.buf, w.pos, w.externals, compress, handOver);
    if (handOver) w.buf = allocUnsafeSlow(SCRATCH_SIZE);
    return chunks;
  } finally {
    if (w.buf.length > SCRATCH_COPY_LIMIT) w.buf = allocUnsafeSlow(SCRATCH_SIZE);
    w.externals.length = 0;
    w.collect = false;
    w.pos = 0;
    scratch = w;
  }
}

/** str values up to this many bytes are tried as ASCII first (no TextDecoder call). */
const SHORT_ASCII = 32;
/**
 * Bytes values up to this size are copied by a loop (a native copy costs more for a few
 * bytes) into an arena of up to ARENA_SIZE bytes shared by the small values of one decode:
 * a kept small value pins at most that much.
 */
const SHORT_COPY = 64;
const ARENA_SIZE = 16 * 1024;

/** Bytes values at least this large may be views into load()'s input instead of copies. */
export const BYTES_VIEW_THRESHOLD = 64 * 1024;

/**
 * Reads one brine value from untrusted bytes. Values are read straight from the input (no
 * intermediate views: a typed-array view costs about as much as the small value it frames), and
 * every value is charged to an item budget, checked before anything is allocated for it.
 */
class Reader {
  pos = 0;
  depth = 0;
  /** Values this input may still decode into (see BrineLimits.maxItems). */
  private items: number;
  /** Memory of the small bytes values decoded so far (see bytesValue), and how much is used. */
  private arena: ArrayBuffer | undefined;
  private arenaAt = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly limits: BrineLimits,
  ) {
    this.items = limits.maxItems ?? MAX_BRINE_ITEMS;
  }

  fail(message: string): never {
    throw new ProtocolError(`brine: ${message} at offset ${this.pos}`);
  }
  tooManyItems(more: number): never {
    const max = this.limits.maxItems ?? MAX_BRINE_ITEMS;
    return this.fail(`input decodes into more than ${max} values (maxBrineItems; ${more} more announced)`);
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail(`truncated input (need ${n} more bytes)`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const buf = this.buf;
    const at = this.pos;
    this.pos = at + 4;
    return buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
  }
  f64(): number {
    this.need(8);
    const n = readF64(this.buf, this.pos);
    this.pos += 8;
    return n;
  }
  /** The next `n` bytes as Latin-1 text (an int's digits). */
  latin1(n: number): string {
    this.need(n);
    const text = latin1Decode(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return text;
  }
  /** Reads the length header of a bytes value whose tag was already consumed; its body starts at `pos`. */
  bytesLength(tag: number): number {
    let n: number;
    switch (tag) {
      case TAG_EMPTY_STR:
        return 0;
      case TAG_STR1:
      case TAG_STR2:
      case TAG_STR3:
      case TAG_STR4:
        n = tag - TAG_STR1 + 1;
        break;
      case TAG_STR_L1:
        n = this.u8();
        break;
      case TAG_STR_L4:
        n = this.u32();
        break;
      default:
        return this.fail(`expected a bytes tag after str tag, got 0x${tag.toString(16).padStart(2, "0")}`);
    }
    this.need(n);
    return n;
  }
  /**
   * The `n` bytes at `pos` as the caller's own Uint8Array. Usually a copy, so the value does
   * not pin the frame's buffer (values of up to SHORT_COPY bytes share an arena of at most
   * ARENA_SIZE bytes); the empty value is one shared frozen array. A large value
   * that fills at least half of the input's memory (the 1 MiB of an echo) is a view
   * instead: pinning wastes at most as much again, and copying megabytes into fresh memory
   * costs more than a syscall (see load()).
   */
  bytesValue(n: number): Uint8Array {
    const buf = this.buf;
    const at = this.pos;
    this.pos = at + n;
    if (n === 0) return EMPTY_BYTES;
    if (n <= SHORT_COPY) {
      // A view into this decode's arena: each Uint8Array with a buffer of its own costs the
      // garbage collector several times its making (a frame of 100,000 one-byte values spent
      // 37 ms in GC, 9 ms in decoding).
      let arena = this.arena;
      if (arena === undefined || this.arenaAt + n > arena.byteLength) {
        arena = this.arena = new ArrayBuffer(Math.min(ARENA_SIZE, buf.length - at));
        this.arenaAt = 0;
      }
      const out = new Uint8Array(arena, this.arenaAt, n);
      this.arenaAt += n;
      for (let i = 0; i < n; i++) out[i] = buf[at + i]!;
      return out;
    }
    if (n >= BYTES_VIEW_THRESHOLD && n * 2 >= buf.buffer.byteLength) return new Uint8Array(buf.buffer, buf.byteOffset + at, n);
    return new Uint8Array(buf.subarray(at, at + n));
  }
  /** The `n` bytes at `pos` as a str (strict UTF-8, as Python's decode). */
  stringValue(n: number): string {
    const buf = this.buf;
    const at = this.pos;
    if (n <= SHORT_ASCII) {
      // ASCII decodes the same as UTF-8: no TextDecoder call for the usual names.
      let out = "";
      let i = at;
      const end = at + n;
      for (; i < end; i++) {
        const c = buf[i]!;
        if (c >= 0x80) break;
        out += String.fromCharCode(c);
      }
      if (i === end) {
        this.pos = end;
        return out;
      }
    }
    let text: string;
    try {
      text = utf8Decoder.decode(buf.subarray(at, at + n));
    } catch {
      return this.fail("str is not valid UTF-8");
    }
    this.pos = at + n;
    return text;
  }
  /**
   * The body of a TAG_INT_L1 int of `n` characters. Up to 15 characters (always a safe
   * integer) it is parsed from the bytes, without a string, a regex or a native call: the
   * seqs and ids of every message. Anything else, malformed text included, goes through
   * int(), which also gives the errors.
   */
  intL1(n: number): number | bigint {
    const start = this.pos;
    if (n > 0 && n <= 15 && n <= (this.limits.maxIntDigits ?? MAX_INT_DIGITS) && start + n <= this.buf.length) {
      const buf = this.buf;
      const end = start + n;
      const negative = buf[start] === 0x2d; // "-"
      let i = negative ? start + 1 : start;
      let value = 0;
      if (i < end) {
        for (; i < end; i++) {
          const digit = buf[i]! - 0x30;
          if (digit < 0 || digit > 9) break;
          value = value * 10 + digit;
        }
        if (i === end) {
          this.pos = end;
          // "-0" is int 0 in Python; a JS -0 would travel back as float -0.0.
          return negative && value !== 0 ? -value : value;
        }
      }
    }
    return this.int(this.latin1(n));
  }
  int(text: string): number | bigint {
    const digits = text.startsWith("-") ? text.length - 1 : text.length;
    const maxDigits = this.limits.maxIntDigits ?? MAX_INT_DIGITS;
    if (digits > maxDigits) this.fail(`int of ${digits} digits exceeds the limit of ${maxDigits}`);
    if (!/^-?\d+$/.test(text)) this.fail(`malformed int literal ${JSON.stringify(text.slice(0, 40))}`);
    // "-0" is int 0 in Python; a JS -0 would travel back as float -0.0.
    if (text.length <= 15) return Number(text) || 0;
    const big = BigInt(text);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  tuple(count: number): PyValue[] {
    // Every item takes at least one byte and one unit of the item budget: refuse absurd
    // counts before allocating the array.
    if (count > this.buf.length - this.pos) this.fail(`tuple of ${count} items exceeds the input`);
    if (count > this.items) this.tooManyItems(count);
    if (++this.depth > this.limits.maxDepth) this.fail(`nesting deeper than maxDepth ${this.limits.maxDepth}`);
    const items = new Array<PyValue>(count);
    for (let i = 0; i < count; i++) items[i] = this.value();
    this.depth--;
    return items;
  }
  /** The items of a tuple whose tag was just read, or undefined if `tag` is not a tuple tag. */
  tupleBody(tag: number): PyValue[] | undefined {
    switch (tag) {
      case TAG_EMPTY_TUPLE:
        return [];
      case TAG_TUP1:
      case TAG_TUP2:
      case TAG_TUP3:
      case TAG_TUP4:
        return this.tuple(tag - TAG_TUP1 + 1);
      case TAG_TUP_L1:
        return this.tuple(this.u8());
      case TAG_TUP_L4:
        return this.tuple(this.u32());
      default:
        return undefined;
    }
  }
  nestedTuple(what: string): PyValue[] {
    return this.tupleBody(this.u8()) ?? this.fail(`${what} must be followed by a tuple`);
  }
  value(): PyValue {
    if (--this.items < 0) this.tooManyItems(1);
    const tag = this.u8();
    if (tag >= IMM_INTS_BASE + IMM_INT_MIN && tag <= IMM_INTS_BASE + IMM_INT_MAX) return tag - IMM_INTS_BASE;
    switch (tag) {
      case TAG_NONE:
        return null;
      case TAG_TRUE:
        return true;
      case TAG_FALSE:
        return false;
      case TAG_NOT_IMPLEMENTED:
        return NotImplemented;
      case TAG_ELLIPSIS:
        return Ellipsis;
      case TAG_EMPTY_STR:
      case TAG_STR1:
      case TAG_STR2:
      case TAG_STR3:
      case TAG_STR4:
      case TAG_STR_L1:
      case TAG_STR_L4:
        return this.bytesValue(this.bytesLength(tag));
      case TAG_UNICODE:
        return this.stringValue(this.bytesLength(this.u8()));
      case TAG_EMPTY_TUPLE:
      case TAG_TUP1:
      case TAG_TUP2:
      case TAG_TUP3:
      case TAG_TUP4:
      case TAG_TUP_L1:
      case TAG_TUP_L4:
        return this.tupleBody(tag)!;
      case TAG_INT_L1:
        return this.intL1(this.u8());
      case TAG_INT_L4:
        return this.int(this.latin1(this.u32()));
      case TAG_FLOAT:
        return this.f64();
      case TAG_COMPLEX: {
        const real = this.f64();
        return new Complex(real, this.f64());
      }
      case TAG_SLICE: {
        const parts = this.nestedTuple("slice");
        if (parts.length !== 3) this.fail(`slice needs 3 items, got ${parts.length}`);
        return new Slice(parts[0]!, parts[1]!, parts[2]!);
      }
      case TAG_FSET: {
        const items = this.nestedTuple("frozenset");
        return items.length === 0 ? EMPTY_FROZENSET : new FrozenSet(items);
      }
      default:
        return this.fail(`unknown tag 0x${tag.toString(16).padStart(2, "0")}`);
    }
  }
}

/**
 * Deserializes exactly one brine value; the whole buffer must be consumed. A bytes value of
 * BYTES_VIEW_THRESHOLD bytes or more that fills at least half of `data`'s ArrayBuffer is
 * returned as a view into it, not a copy: the caller hands `data` over and must not modify
 * it afterwards (a received frame is never reused, so the connection never does).
 */
export function load(data: Uint8Array, limits: BrineLimits = DEFAULT_BRINE_LIMITS): PyValue {
  if (data.length === 0) throw new ProtocolError("brine: empty input");
  const reader = new Reader(data, limits);
  const value = reader.value();
  if (reader.pos !== data.length) reader.fail(`${data.length - reader.pos} trailing bytes after the value`);
  return value;
}
