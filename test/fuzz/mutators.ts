// Mutation operators and generators of the fuzz tests, all driven by a seeded Rng:
//
// * byte level, on brine payloads: bit flips, byte changes, inserts, deletes, duplicated
//   and spliced ranges, truncation, brine tag swaps, rewritten length/count fields;
// * frame level, on whole frames: the same on the body, plus changed length fields
//   (smaller, larger, huge), flag and terminator bytes, truncated, duplicated and spliced
//   frames, compressed frames, zip bombs, garbage with or without a header;
// * structure level, on decoded messages: random handler codes, labels and arguments,
//   wrong arity, wrong types, forged id_packs, deep nesting, replies for random seqs.
//
// Everything here is deterministic given the Rng; nothing here talks to a socket.

import { deflateSync } from "node:zlib";
import * as C from "../../runtime/wire/consts.js";
import type { PyValue, PyValueIn } from "../../runtime/index.js";
import { dump, encodeFrame } from "../../runtime/wire/index.js";
import { Complex, Ellipsis, Float, FrozenSet, NotImplemented, Slice } from "../../runtime/wire/values.js";
import { CLIENT_FRAMES, SERVER_FRAMES, SMALL_BRINE_SEEDS, SMALL_FRAMES, type CorpusFrame } from "./corpus.js";
import type { Rng } from "./seed.js";

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

// ---- brine structure walking ---------------------------------------------------------------

/** Tags brine knows (everything else is an unknown tag). */
export const KNOWN_TAGS: readonly number[] = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
];
/** Bytes worth trying anywhere: every tag, immediate-int bounds, unknown tags, length extremes. */
export const INTERESTING_BYTES: readonly number[] = [
  ...KNOWN_TAGS,
  0x07,
  0x09,
  0x1c,
  0x1f,
  0x20,
  0x4f,
  0x50,
  0x51,
  0xef,
  0xf0,
  0xff,
  0x7f,
  0x80,
  0x0a,
  0x2d,
  0x30,
  0x39,
];
/** Tag families: a swap within a family keeps the shape plausible; across families it does not. */
const TAG_FAMILIES: readonly (readonly number[])[] = [
  [0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f],
  [0x02, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15],
  [0x16, 0x17, 0x50, 0x51, 0x20, 0xef],
  [0x00, 0x03, 0x04, 0x05, 0x06],
  [0x08, 0x18, 0x19, 0x1a, 0x1b],
];
/** Interesting u32 length/count values. */
const INTERESTING_U32: readonly number[] = [0, 1, 2, 3, 4, 5, 255, 256, 257, 4300, 4301, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Where a value's tag sits in a payload, and where its count/length field is (if any). */
export interface TagSite {
  readonly offset: number;
  readonly tag: number;
  /** Offset and width (1 or 4) of the length/count byte(s) after the tag. */
  readonly lengthAt?: number;
  readonly lengthWidth?: 1 | 4;
}

/**
 * Lists the tag sites of a (valid or partly valid) brine payload, without building values.
 * Stops at the first thing it cannot follow.
 */
export function tagSites(buf: Uint8Array, limit = 10_000): TagSite[] {
  const sites: TagSite[] = [];
  let pos = 0;
  const walk = (depth: number): boolean => {
    if (pos >= buf.length || sites.length >= limit || depth > 300) return false;
    const offset = pos;
    const tag = buf[pos++]!;
    const bytes = (n: number): boolean => {
      pos += n;
      return pos <= buf.length;
    };
    const u8 = (): number => (pos < buf.length ? buf[pos++]! : -1);
    const u32 = (): number => {
      if (pos + 4 > buf.length) return -1;
      const n = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
      pos += 4;
      return n;
    };
    const items = (n: number): boolean => {
      for (let i = 0; i < n; i++) if (!walk(depth + 1)) return false;
      return true;
    };
    if (tag >= 0x20 && tag <= 0xef) {
      sites.push({ offset, tag });
      return true;
    }
    switch (tag) {
      case 0x00:
      case 0x01:
      case 0x02:
      case 0x03:
      case 0x04:
      case 0x05:
      case 0x06:
        sites.push({ offset, tag });
        return true;
      case 0x0a:
      case 0x0b:
      case 0x0c:
      case 0x0d:
        sites.push({ offset, tag });
        return bytes(tag - 0x09);
      case 0x0e:
      case 0x16: {
        sites.push({ offset, tag, lengthAt: pos, lengthWidth: 1 });
        const n = u8();
        return n >= 0 && bytes(n);
      }
      case 0x0f:
      case 0x17: {
        sites.push({ offset, tag, lengthAt: pos, lengthWidth: 4 });
        const n = u32();
        return n >= 0 && bytes(n);
      }
      case 0x08:
      case 0x19:
      case 0x1a:
        sites.push({ offset, tag });
        return walk(depth + 1);
      case 0x10:
      case 0x11:
      case 0x12:
      case 0x13:
        sites.push({ offset, tag });
        return items(tag - 0x0f);
      case 0x14: {
        sites.push({ offset, tag, lengthAt: pos, lengthWidth: 1 });
        const n = u8();
        return n >= 0 && items(n);
      }
      case 0x15: {
        sites.push({ offset, tag, lengthAt: pos, lengthWidth: 4 });
        const n = u32();
        return n >= 0 && items(n);
      }
      case 0x18:
        sites.push({ offset, tag });
        return bytes(8);
      case 0x1b:
        sites.push({ offset, tag });
        return bytes(16);
      default:
        sites.push({ offset, tag });
        return false;
    }
  };
  walk(0);
  return sites;
}

// ---- byte-level mutations of a brine payload ---------------------------------------------------

/** The byte-level operators, by name (names appear in failure reports and statistics). */
export const BYTE_OPS = [
  "flip-bit",
  "set-byte",
  "set-interesting",
  "insert",
  "delete",
  "duplicate-range",
  "truncate",
  "append",
  "swap-tag-family",
  "swap-tag-any",
  "rewrite-length",
  "splice",
] as const;
export type ByteOp = (typeof BYTE_OPS)[number];

function pos(rng: Rng, buf: Uint8Array): number {
  return buf.length === 0 ? 0 : rng.int(buf.length);
}

/** Applies one byte-level operator to a copy of `input`. */
export function applyByteOp(rng: Rng, input: Uint8Array, op: ByteOp, donors: readonly Uint8Array[] = SMALL_BRINE_SEEDS): Buffer {
  const buf = Buffer.from(input);
  switch (op) {
    case "flip-bit": {
      if (buf.length === 0) return Buffer.from([rng.byte()]);
      buf[pos(rng, buf)]! ^= 1 << rng.int(8);
      return buf;
    }
    case "set-byte": {
      if (buf.length === 0) return Buffer.from([rng.byte()]);
      buf[pos(rng, buf)] = rng.byte();
      return buf;
    }
    case "set-interesting": {
      if (buf.length === 0) return Buffer.from([rng.pick(INTERESTING_BYTES)]);
      buf[pos(rng, buf)] = rng.pick(INTERESTING_BYTES);
      return buf;
    }
    case "insert": {
      const at = rng.int(buf.length + 1);
      const extra = rng.chance(0.5) ? Buffer.from([rng.pick(INTERESTING_BYTES)]) : rng.bytes(1 + rng.int(8));
      return Buffer.concat([buf.subarray(0, at), extra, buf.subarray(at)]);
    }
    case "delete": {
      if (buf.length === 0) return buf;
      const at = pos(rng, buf);
      const n = 1 + rng.int(Math.min(8, buf.length - at));
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + n)]);
    }
    case "duplicate-range": {
      if (buf.length === 0) return buf;
      const at = pos(rng, buf);
      const n = 1 + rng.int(Math.min(32, buf.length - at));
      const to = rng.int(buf.length + 1);
      return Buffer.concat([buf.subarray(0, to), buf.subarray(at, at + n), buf.subarray(to)]);
    }
    case "truncate":
      return buf.subarray(0, rng.int(buf.length + 1));
    case "append":
      return Buffer.concat([buf, rng.chance(0.5) ? Buffer.from([rng.pick(INTERESTING_BYTES)]) : rng.bytes(1 + rng.int(8))]);
    case "swap-tag-family":
    case "swap-tag-any": {
      const sites = tagSites(buf);
      if (sites.length === 0) return applyByteOp(rng, buf, "set-interesting");
      const site = rng.pick(sites);
      if (op === "swap-tag-any") buf[site.offset] = rng.chance(0.7) ? rng.pick(KNOWN_TAGS) : rng.byte();
      else {
        const family = TAG_FAMILIES.find((f) => f.includes(site.tag)) ?? rng.pick(TAG_FAMILIES);
        buf[site.offset] = rng.pick(family);
      }
      return buf;
    }
    case "rewrite-length": {
      const sites = tagSites(buf).filter((s) => s.lengthAt !== undefined && s.lengthAt + s.lengthWidth! <= buf.length);
      if (sites.length === 0) return applyByteOp(rng, buf, "set-interesting");
      const site = rng.pick(sites);
      const at = site.lengthAt!;
      if (site.lengthWidth === 1) {
        const old = buf[at]!;
        buf[at] = rng.pick([0, 1, 4, 5, 255, (old + 1) & 0xff, (old - 1) & 0xff, rng.byte()]);
      } else {
        const old = buf.readUInt32BE(at);
        buf.writeUInt32BE(rng.pick([...INTERESTING_U32, (old + 1) >>> 0, (old - 1) >>> 0, rng.u32()]), at);
      }
      return buf;
    }
    case "splice": {
      const donor = rng.pick(donors);
      const cut = rng.int(buf.length + 1);
      const from = rng.int(donor.length + 1);
      return Buffer.concat([buf.subarray(0, cut), donor.subarray(from)]);
    }
  }
}

/** 1..maxOps random byte-level operators in a row; returns the result and the operator names. */
export function mutateBytes(rng: Rng, input: Uint8Array, maxOps = 4, donors?: readonly Uint8Array[]): { bytes: Buffer; ops: ByteOp[] } {
  let bytes: Buffer = Buffer.from(input);
  const ops: ByteOp[] = [];
  const n = 1 + rng.int(maxOps);
  for (let i = 0; i < n; i++) {
    const op = rng.pick(BYTE_OPS);
    ops.push(op);
    bytes = applyByteOp(rng, bytes, op, donors);
  }
  return { bytes, ops };
}

/** Random bytes: uniform, or drawn from the interesting bytes (tags, bounds) to get past the first tag. */
export function randomBytes(rng: Rng, maxLength = 64): Buffer {
  const n = rng.size(maxLength);
  if (rng.chance(0.5)) return rng.bytes(n);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.byte();
  return out;
}

// ---- structure-aware brine byte generators (for the decoder) ------------------------------------

/** Malformed or borderline int texts (Python's int() accepts some of these; we must not crash on any). */
const INT_TEXTS: readonly string[] = [
  "",
  "-",
  "+",
  "--1",
  "+1",
  " 1",
  "1 ",
  "1_000",
  "0x10",
  "1e3",
  "1.0",
  "007",
  "-0",
  "0",
  "٣",
  "１",
  "9".repeat(20),
  "-" + "9".repeat(30),
  "NaN",
  "Infinity",
];
/** Byte strings that are not valid UTF-8 (and a few that are). */
const UTF8_CASES: readonly number[][] = [
  [0x80],
  [0xc0, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff],
  [0xef, 0xbb, 0xbf],
  [0xf0, 0x9f, 0x98, 0x80],
  [0x00],
];

/** Bytes of one generated input, appended in place: Buffer.concat per node made generation the bottleneck. */
type Out = number[];

function pushU32(out: Out, n: number): void {
  out.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function pushBytes(out: Out, body: Uint8Array): void {
  for (let i = 0; i < body.length; i++) out.push(body[i]!);
}

function lengthPrefixed(rng: Rng, out: Out, tagShort: number, tagLong: number, body: Uint8Array, lie: boolean): void {
  let n = body.length;
  if (lie) n = rng.pick([0, 1, n - 1, n + 1, n + 2, 255, 256, 0xffffffff, rng.u32()].filter((x) => x >= 0));
  if (n < 256 && rng.chance(0.8)) out.push(tagShort, n & 0xff);
  else {
    out.push(tagLong);
    pushU32(out, n >>> 0);
  }
  pushBytes(out, body);
}

function pushDouble(out: Out, value: number, keep: number): void {
  const f = Buffer.alloc(8);
  f.writeDoubleBE(value);
  for (let i = 0; i < keep; i++) out.push(f[i]!);
}

/**
 * A brine-shaped byte string: tuples whose counts may lie, strings whose lengths may lie,
 * malformed ints and UTF-8, slices and frozensets of the wrong shape, deep nesting.
 */
export function brineShaped(rng: Rng, depth = 0, lieRate = 0.15): Buffer {
  const out: Out = [];
  shapedInto(rng, out, depth, lieRate);
  return Buffer.from(out);
}

/** Soft size cap of one brineShaped input (deep-nesting runs may overshoot it once). */
const SHAPED_BUDGET = 2048;

function shapedInto(rng: Rng, out: Out, depth: number, lieRate: number): void {
  const lie = rng.chance(lieRate);
  // Past SHAPED_BUDGET bytes only leaves: unbounded trees made a few inputs of 100+ KB
  // that cost more than thousands of small ones and explored nothing new.
  const kind = out.length > SHAPED_BUDGET ? 0 : depth > 6 ? rng.int(7) : rng.int(12);
  switch (kind) {
    case 0:
      out.push(rng.chance(0.8) ? rng.range(0x20, 0xef) : rng.pick([0x00, 0x03, 0x04, 0x05, 0x06, 0x01, 0x02]));
      return;
    case 1: {
      const text = rng.chance(0.5) ? rng.pick(INT_TEXTS) : String(rng.u32() * (rng.chance(0.5) ? -1 : 1));
      lengthPrefixed(rng, out, 0x16, 0x17, Buffer.from(text, "utf8"), lie);
      return;
    }
    case 2: {
      const body = rng.chance(0.5) ? rng.bytes(rng.size(300)) : Buffer.alloc(rng.size(300), 0x78);
      if (!lie && body.length >= 1 && body.length <= 4 && rng.chance(0.5)) {
        out.push(0x09 + body.length);
        pushBytes(out, body);
      } else lengthPrefixed(rng, out, 0x0e, 0x0f, body, lie);
      return;
    }
    case 3: {
      const utf8 = rng.chance(0.5) ? Buffer.from(rng.pick(UTF8_CASES)) : Buffer.from(rng.pick(["", "a", "héllo", "日本", "\u{1F600}", "__proto__"]), "utf8");
      out.push(0x08);
      if (rng.chance(0.9)) lengthPrefixed(rng, out, 0x0e, 0x0f, utf8, lie);
      else shapedInto(rng, out, depth + 1, lieRate);
      return;
    }
    case 4:
      out.push(0x18);
      pushDouble(out, rng.pick([0, -0, NaN, Infinity, 1.5, 1e308, 5e-324]), lie ? rng.int(8) : 8);
      return;
    case 5:
      out.push(0x1b);
      pushDouble(out, rng.next(), 8);
      pushDouble(out, -rng.next(), lie ? rng.int(8) : 8);
      return;
    case 6:
    case 7:
    case 8: {
      // A tuple: the count may not match the items that follow.
      const n = rng.size(depth > 3 ? 4 : 20);
      let count = n;
      if (lie) count = rng.pick([n - 1, n + 1, 0, 255, 256, 0xffffffff, rng.u32()].filter((x) => x >= 0));
      if (count === 0 && rng.chance(0.7)) out.push(0x02);
      else if (count >= 1 && count <= 4 && rng.chance(0.7)) out.push(0x0f + count);
      else if (count < 256 && rng.chance(0.7)) out.push(0x14, count);
      else {
        out.push(0x15);
        pushU32(out, count >>> 0);
      }
      for (let i = 0; i < n; i++) shapedInto(rng, out, depth + 1, lieRate);
      return;
    }
    case 9: {
      // slice: 3 items, or the wrong number, or not a tuple at all.
      const n = lie ? rng.pick([0, 1, 2, 4]) : 3;
      out.push(0x19);
      if (lie && rng.chance(0.3)) {
        shapedInto(rng, out, depth + 1, lieRate);
        return;
      }
      out.push(n === 0 ? 0x02 : n <= 4 ? 0x0f + n : 0x14);
      for (let i = 0; i < n; i++) shapedInto(rng, out, depth + 1, lieRate);
      return;
    }
    case 10:
      // frozenset of a tuple (or of something else).
      out.push(0x1a);
      if (!lie) out.push(0x11);
      shapedInto(rng, out, depth + 1, lieRate);
      if (!lie) shapedInto(rng, out, depth + 1, lieRate);
      return;
    default: {
      // Deep nesting: around the decoder's depth limit, or far beyond it.
      const levels = rng.pick([10, 100, 250, 255, 256, 257, 300, 1000, 5000]);
      const tag = rng.pick([0x10, 0x10, 0x1a, 0x08]);
      for (let i = 0; i < levels; i++) out.push(tag === 0x1a && i % 2 === 0 ? 0x10 : tag);
      out.push(0x50);
    }
  }
}

// ---- random brine values ----------------------------------------------------------------------

/** Strings a fuzzer should try as names and values: exposed names, dunders, JS internals, odd text. */
export const NAMES: readonly string[] = [
  "get_answer",
  "exposed_get_answer",
  "the_real_answer_though",
  "get_question",
  "echo",
  "wrap",
  "fail",
  "call_me",
  "get_helper",
  "get_table",
  "make_thing",
  "count",
  "items",
  "add",
  "value",
  "get_service_name",
  "get_service_aliases",
  "__len__",
  "__getitem__",
  "__setitem__",
  "__delitem__",
  "__iter__",
  "__next__",
  "__eq__",
  "__lt__",
  "__cmp__",
  "__hash__",
  "__repr__",
  "__str__",
  "__enter__",
  "__exit__",
  "__call__",
  "__class__",
  "__dict__",
  "__doc__",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "__defineGetter__",
  "__lookupGetter__",
  "call",
  "apply",
  "bind",
  "then",
  "_rpyc_getattr",
  "_rpyc_setattr",
  "on_connect",
  "on_disconnect",
  "exposed_",
  "",
  "x".repeat(300),
  "\u0000",
  "名前",
  "\u{1F600}",
  "a.b",
  "exposed___proto__",
  "__getattribute__",
];

/** A random brine value (what the peer may legitimately send by value). */
export function randomValue(rng: Rng, depth = 0): PyValueIn {
  const k = depth > 3 ? rng.int(12) : rng.int(16);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.range(-60, 200);
    case 3:
      return rng.pick([-49, 160, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53 - 1), rng.u32()]);
    case 4:
      return rng.pick([2n ** 63n, -(2n ** 64n) - 1n, 10n ** 100n, BigInt(rng.u32()) * 10n ** 30n]);
    case 5:
      return rng.pick([0.5, -0, NaN, Infinity, -Infinity, 1e300, 5e-324, new Float(3)]);
    case 6:
    case 7:
      return rng.pick(NAMES);
    case 8:
      return "s".repeat(rng.size(5000));
    case 9:
      return rng.bytes(rng.size(300));
    case 10:
      return rng.pick([NotImplemented, Ellipsis, new Complex(rng.next(), -1)]);
    case 11:
      return new Slice(rng.pick([null, 1, -1]), rng.pick([null, 5, 2n ** 70n]), rng.pick([null, 2, 0]));
    case 12:
      return new FrozenSet<PyValueIn>(Array.from({ length: rng.size(4) }, () => randomValue(rng, depth + 1)));
    default:
      return Array.from({ length: rng.size(depth > 1 ? 4 : 12) }, () => randomValue(rng, depth + 1));
  }
}

// ---- structure-aware messages -------------------------------------------------------------------

export type IdPackValue = readonly [string | Uint8Array, number | bigint, number | bigint];

/** Real id_packs of objects the server sent this connection (empty for a stateless connection). */
export interface RefContext {
  readonly real: readonly IdPackValue[];
}

/** An id_pack: real, a forgery of a real one, or one of the wrong shape. */
export function randomIdPack(rng: Rng, ctx: RefContext): PyValueIn {
  const real = ctx.real.length > 0 && rng.chance(0.6) ? rng.pick(ctx.real) : undefined;
  if (real && rng.chance(0.7)) return real as PyValueIn;
  const base: IdPackValue = real ?? ["rpyc_ts.FuzzService", rng.range(1, 50), rng.range(1, 5000)];
  switch (rng.int(9)) {
    case 0:
      return [base[0], base[1], rng.range(1, 1_000_000)] as PyValueIn;
    case 1:
      return [base[0], base[1], 0] as PyValueIn; // "a class"
    case 2:
      return [
        rng.pick(["builtins.list", "builtins.function", "builtins.method", "rpyc_ts.Object", "rpyc_ts.Function", "__main__.MyService"]),
        base[1],
        base[2],
      ] as PyValueIn;
    case 3:
      return [new TextEncoder().encode(String(base[0])), base[1], base[2]] as PyValueIn; // name as bytes
    case 4:
      return [base[0], BigInt(base[1]) + 2n ** 64n, -BigInt(base[2])] as PyValueIn;
    case 5:
      return [base[0], base[1]] as PyValueIn; // too short
    case 6:
      return [base[0], base[1], base[2], 0] as PyValueIn; // too long
    case 7:
      return [null, "1", 2.5] as PyValueIn; // wrong types
    default:
      return randomValue(rng, 2);
  }
}

/** A boxed value, mostly well-formed: (label, value) with real or forged references. */
export function randomBoxed(rng: Rng, ctx: RefContext, depth = 0): PyValueIn {
  const k = rng.weighted([40, 12, 20, 8, 3, 2, 2]);
  switch (k) {
    case 0:
      return [C.LABEL_VALUE, randomValue(rng, depth + 1)];
    case 1:
      return [C.LABEL_TUPLE, depth > 4 ? [] : Array.from({ length: rng.size(5) }, () => randomBoxed(rng, ctx, depth + 1))];
    case 2:
      return [C.LABEL_LOCAL_REF, randomIdPack(rng, ctx)];
    case 3:
      return [C.LABEL_REMOTE_REF, rng.chance(0.8) ? ["builtins.function", rng.range(1, 9), rng.range(1, 1_000_000)] : randomIdPack(rng, ctx)];
    case 4:
      return [rng.pick([0, 5, 9, -1, 2n ** 70n, "1", null, 1.0]), randomValue(rng, depth + 1)]; // unknown label
    case 5:
      return randomValue(rng, depth + 1); // not a (label, value) pair
    default:
      return [C.LABEL_VALUE, randomValue(rng, depth + 1), null]; // a triple
  }
}

/** Handler arities per RPyC 5.3 (min, max) - the generator mostly respects them, sometimes not. */
const ARITY: Readonly<Record<number, readonly [number, number]>> = {
  [C.HANDLE_PING]: [1, 1],
  [C.HANDLE_GETROOT]: [0, 0],
  [C.HANDLE_GETATTR]: [2, 2],
  [C.HANDLE_DELATTR]: [2, 2],
  [C.HANDLE_SETATTR]: [3, 3],
  [C.HANDLE_CALL]: [2, 3],
  [C.HANDLE_CALLATTR]: [3, 4],
  [C.HANDLE_REPR]: [1, 1],
  [C.HANDLE_STR]: [1, 1],
  [C.HANDLE_CMP]: [2, 3],
  [C.HANDLE_HASH]: [1, 1],
  [C.HANDLE_DIR]: [1, 1],
  [C.HANDLE_PICKLE]: [2, 2],
  [C.HANDLE_DEL]: [1, 2],
  [C.HANDLE_INSPECT]: [1, 1],
  [C.HANDLE_BUFFITER]: [2, 2],
  [C.HANDLE_OLDSLICING]: [6, 6],
  [C.HANDLE_CTXEXIT]: [2, 2],
  [C.HANDLE_INSTANCECHECK]: [2, 2],
};

const ref = (rng: Rng, ctx: RefContext): PyValueIn => [C.LABEL_LOCAL_REF, randomIdPack(rng, ctx)];
const val = (v: PyValueIn): PyValueIn => [C.LABEL_VALUE, v];
const name = (rng: Rng): PyValueIn =>
  val(rng.chance(0.9) ? rng.pick(NAMES) : rng.chance(0.5) ? new TextEncoder().encode(rng.pick(NAMES)) : randomValue(rng, 2));

/** Boxed arguments shaped for `handler` (first argument an object reference, names from NAMES...). */
function argsFor(rng: Rng, ctx: RefContext, handler: number, n: number): PyValueIn[] {
  const args: PyValueIn[] = [];
  for (let i = 0; i < n; i++) {
    let arg: PyValueIn;
    if (rng.chance(0.15)) arg = randomBoxed(rng, ctx, 1);
    else if (i === 0 && handler !== C.HANDLE_PING && handler !== C.HANDLE_INSPECT) arg = ref(rng, ctx);
    else if (handler === C.HANDLE_INSPECT || (handler === C.HANDLE_INSTANCECHECK && i === 1)) arg = val(randomIdPack(rng, ctx));
    else if ((handler === C.HANDLE_GETATTR || handler === C.HANDLE_SETATTR || handler === C.HANDLE_DELATTR || handler === C.HANDLE_CALLATTR) && i === 1)
      arg = name(rng);
    else if ((handler === C.HANDLE_CALL && i === 1) || (handler === C.HANDLE_CALLATTR && i === 2)) {
      arg = rng.chance(0.7) ? [C.LABEL_TUPLE, Array.from({ length: rng.size(4) }, () => randomBoxed(rng, ctx, 2))] : val(randomValue(rng, 1));
    } else if ((handler === C.HANDLE_CALL && i === 2) || (handler === C.HANDLE_CALLATTR && i === 3)) {
      arg = val(rng.chance(0.7) ? [] : rng.chance(0.5) ? [[rng.pick(NAMES), randomValue(rng, 2)]] : randomValue(rng, 1));
    } else if (handler === C.HANDLE_CMP && i === 2) arg = val(rng.pick(["__eq__", "__lt__", "__cmp__", "__proto__", "__ge__", "constructor"]));
    else if ((handler === C.HANDLE_DEL || handler === C.HANDLE_BUFFITER) && i === 1)
      arg = val(rng.pick([0, 1, 2, 10, -1, 1000, 2n ** 64n, 0.5, NaN, "x", null]));
    else if (handler === C.HANDLE_OLDSLICING && (i === 1 || i === 2)) arg = name(rng);
    else if (handler === C.HANDLE_CTXEXIT && i === 1) arg = rng.chance(0.5) ? val(null) : [C.LABEL_REMOTE_REF, ["builtins.ValueError", 7, 0]];
    else arg = rng.chance(0.3) ? ref(rng, ctx) : val(randomValue(rng, 1));
    args.push(arg);
  }
  return args;
}

/** Boxes a list of boxed arguments as the request's argument tuple. */
function boxArgs(rng: Rng, args: PyValueIn[]): PyValueIn {
  const byValue = args.every((a) => Array.isArray(a) && a[0] === C.LABEL_VALUE && (a as unknown[]).length === 2);
  if (byValue && rng.chance(0.7)) return val(args.map((a) => (a as PyValueIn[])[1]!));
  return [C.LABEL_TUPLE, args];
}

/** A handler code: mostly a real one (never CLOSE here), sometimes unknown or of the wrong type. */
function handlerCode(rng: Rng): PyValueIn {
  if (rng.chance(0.92)) {
    const codes = Object.keys(ARITY).map(Number);
    return rng.pick(codes);
  }
  return rng.pick<PyValueIn>([0, 21, 99, -1, 255, 2n ** 70n, 1.5, "1", null, [], [3]]);
}

/** A random request `(1, seq, (handler, boxed_args))`: right arity most of the time. */
export function randomRequest(rng: Rng, ctx: RefContext, seq: PyValueIn): PyValueIn {
  const code = handlerCode(rng);
  const arity = typeof code === "number" ? ARITY[code] : undefined;
  let n = arity ? rng.range(arity[0], arity[1]) : rng.int(4);
  if (rng.chance(0.1)) n = Math.max(0, n + rng.pick([-2, -1, 1, 2])); // wrong arity
  const args = argsFor(rng, ctx, typeof code === "number" ? code : 0, n);
  const body: PyValueIn = rng.chance(0.97) ? [code, boxArgs(rng, args)] : rng.pick<PyValueIn>([[code], [code, boxArgs(rng, args), null], code, null]);
  return [C.MSG_REQUEST, seq, body];
}

/** A reply or exception for a random seq (the server must ignore it; refs in it create netrefs). */
export function randomReply(rng: Rng, ctx: RefContext, seq: PyValueIn): PyValueIn {
  if (rng.chance(0.5)) return [C.MSG_REPLY, seq, randomBoxed(rng, ctx)];
  const vinegar: PyValueIn = rng.pick<PyValueIn>([
    C.EXC_STOP_ITERATION,
    [["builtins", "ValueError"], ["fuzz"], [["_remote_version", "5.3.0"]], "tb"],
    [["builtins", rng.pick(NAMES)], [randomValue(rng, 2)], [[rng.pick(NAMES), randomValue(rng, 2)]], randomValue(rng, 2)],
    [["__main__", "Custom"], [], [], ""],
    "legacy string",
    randomValue(rng, 1),
  ]);
  return [C.MSG_EXCEPTION, seq, vinegar];
}

/** Replaces every Python id_pack of a captured message by a real one of ours (or leaves it). */
export function retarget(rng: Rng, value: PyValue, ctx: RefContext): PyValueIn {
  if (!Array.isArray(value)) return value;
  const items = value as readonly PyValue[];
  if (
    items.length === 3 &&
    typeof items[0] === "string" &&
    (typeof items[1] === "number" || typeof items[1] === "bigint") &&
    (typeof items[2] === "number" || typeof items[2] === "bigint")
  ) {
    return ctx.real.length > 0 && rng.chance(0.8) ? (rng.pick(ctx.real) as PyValueIn) : (items as PyValueIn);
  }
  return items.map((item) => retarget(rng, item, ctx));
}

/** All sub-positions of a value tree: [container, index] pairs. */
function positions(value: PyValueIn, out: [PyValueIn[], number, number][] = [], depth = 1): [PyValueIn[], number, number][] {
  if (!Array.isArray(value) || depth > 40) return out;
  const items = value as PyValueIn[];
  for (let i = 0; i < items.length; i++) {
    out.push([items, i, depth]);
    positions(items[i]!, out, depth + 1);
  }
  return out;
}

function deepClone(value: PyValueIn): PyValueIn {
  return Array.isArray(value) ? (value as PyValueIn[]).map(deepClone) : value;
}

/** A structure-level mutation of a decoded message (a clone; the input is untouched). */
export function mutateMessage(rng: Rng, message: PyValueIn, ctx: RefContext): PyValueIn {
  const msg = deepClone(message);
  const sites = positions(msg);
  if (sites.length === 0) return randomValue(rng);
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const [container, index, depth] = rng.pick(sites);
    const old = container[index]!;
    switch (rng.int(10)) {
      case 0:
        container[index] = randomValue(rng, 2); // wrong type
        break;
      case 1:
        container[index] = randomBoxed(rng, ctx, 2);
        break;
      case 2:
        container[index] = randomIdPack(rng, ctx);
        break;
      case 3:
        container.splice(index, 1); // wrong arity (one item fewer)
        break;
      case 4:
        container.splice(index, 0, deepClone(old)); // wrong arity (one item more)
        break;
      case 5:
        container[index] =
          typeof old === "number" ? rng.pick([old + 1, old - 1, -old, 0, 2 ** 53 - 1, 0.5]) : typeof old === "string" ? rng.pick(NAMES) : randomValue(rng, 3);
        break;
      case 6:
        container[index] = [deepClone(old)]; // one more level
        break;
      case 7: {
        // Deep LABEL_TUPLE nesting around the value (still within brine's depth limit, mostly).
        let nested: PyValueIn = [C.LABEL_VALUE, old];
        const levels = rng.pick([10, 50, 100, 126, 127, 130]);
        for (let l = 0; l < levels; l++) nested = [C.LABEL_TUPLE, [nested]];
        container[index] = nested;
        break;
      }
      case 8: {
        // Plain tuple nesting up to brine's depth limit (256) counted from the message's top:
        // what comes back (an exception's args, a reply) nests deeper than what came in.
        let nested: PyValueIn = rng.chance(0.5) ? 0 : old;
        const levels = Math.max(0, 256 - depth - rng.int(4));
        for (let l = 0; l < levels; l++) nested = [nested];
        container[index] = nested;
        break;
      }
      default:
        container[index] = rng.chance(0.5) ? rng.pick(NAMES) : handlerCode(rng); // swapped handler/label/name
    }
  }
  return msg;
}

// ---- frames ---------------------------------------------------------------------------------

/** A frame around `body` with the given flag and length field (defaults: correct). */
export function frameOf(body: Uint8Array, flag = 0, length = body.length, terminator = 0x0a): Buffer {
  const frame = Buffer.allocUnsafe(5 + body.length + 1);
  frame.writeUInt32BE(length >>> 0, 0);
  frame[4] = flag;
  frame.set(body, 5);
  frame[frame.length - 1] = terminator;
  return frame;
}

/** A valid frame for a payload: raw, or compressed with any non-zero flag (Python accepts any). */
export function validFrame(rng: Rng, payload: Uint8Array): Buffer {
  if (payload.length > 3000 || rng.chance(0.05)) return frameOf(deflateSync(payload, { level: rng.pick([1, 6, 9]) }), rng.chance(0.9) ? 1 : rng.range(2, 255));
  return rng.chance(0.02) ? frameOf(payload, 0, payload.length, rng.byte()) : encodeFrame(payload, false);
}

/** Deflated runs of one byte and deflated big-int PINGs, made once: deflating megabytes per frame dominated the live run. */
const fillers = new Map<string, Buffer>();
const bigIntPings = new Map<number, Buffer>();
function deflatedFiller(size: number, byte: number): Buffer {
  const key = `${size}:${byte}`;
  let out = fillers.get(key);
  if (!out) fillers.set(key, (out = deflateSync(Buffer.alloc(size, byte))));
  return out;
}

/** Frame-level operators, by name. */
export const FRAME_OPS = [
  "body-bytes",
  "length-smaller",
  "length-larger",
  "length-huge",
  "length-zero",
  "flag",
  "terminator",
  "truncate-frame",
  "truncate-payload",
  "duplicate-frame",
  "splice-frames",
  "splice-payloads",
  "garbage-framed",
  "garbage-raw",
  "compressed-garbage",
  "compressed-mutated",
  "zip-bomb",
  "too-deep",
  "big-int-text",
] as const;
export type FrameOp = (typeof FRAME_OPS)[number];

/** Relative frequency of each frame operator. */
const FRAME_OP_WEIGHTS: Readonly<Record<FrameOp, number>> = {
  "body-bytes": 30,
  "length-smaller": 5,
  "length-larger": 5,
  "length-huge": 3,
  "length-zero": 2,
  flag: 4,
  terminator: 3,
  "truncate-frame": 3,
  "truncate-payload": 5,
  "duplicate-frame": 6,
  "splice-frames": 4,
  "splice-payloads": 5,
  "garbage-framed": 5,
  "garbage-raw": 2,
  "compressed-garbage": 2,
  "compressed-mutated": 2,
  "zip-bomb": 1,
  "too-deep": 2,
  "big-int-text": 1,
};
const FRAME_OP_LIST = FRAME_OPS.map((op) => [op, FRAME_OP_WEIGHTS[op]] as const);

/** Picks a frame operator by weight. */
export function pickFrameOp(rng: Rng): FrameOp {
  return FRAME_OP_LIST[rng.weighted(FRAME_OP_LIST.map(([, w]) => w))]![0];
}

/** A corpus frame to start from (mostly small client frames). */
export function pickCorpusFrame(rng: Rng): CorpusFrame {
  const r = rng.next();
  if (r < 0.6) return rng.pick(CLIENT_FRAMES.filter((f) => f.frame.length < 4096));
  if (r < 0.95) return rng.pick(SMALL_FRAMES);
  return rng.pick(rng.chance(0.5) ? CLIENT_FRAMES : SERVER_FRAMES);
}

/**
 * Applies one frame-level operator to a valid payload; returns the bytes to write (which
 * may be several frames, part of one, or no frame at all).
 */
export function mutateFrame(rng: Rng, payload: Uint8Array, op: FrameOp, maxFrameSize: number): Buffer {
  switch (op) {
    case "body-bytes":
      return frameOf(mutateBytes(rng, payload).bytes);
    case "length-smaller":
      return frameOf(payload, 0, Math.max(0, payload.length - 1 - rng.int(Math.max(1, payload.length))));
    case "length-larger":
      return frameOf(payload, 0, payload.length + 1 + rng.size(64));
    case "length-huge":
      return frameOf(payload, rng.int(2), rng.pick([maxFrameSize, maxFrameSize + 1, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 24, rng.u32()]));
    case "length-zero":
      return frameOf(payload, 0, 0);
    case "flag":
      return frameOf(payload, rng.range(1, 255));
    case "terminator":
      return frameOf(payload, 0, payload.length, rng.byte());
    case "truncate-frame": {
      const frame = frameOf(payload);
      return frame.subarray(0, rng.int(frame.length));
    }
    case "truncate-payload":
      return frameOf(payload.subarray(0, rng.int(payload.length)));
    case "duplicate-frame": {
      const frame = frameOf(payload);
      return Buffer.concat(Array.from({ length: 2 + rng.int(3) }, () => frame));
    }
    case "splice-frames": {
      const a = frameOf(payload);
      const b = pickCorpusFrame(rng).frame;
      return Buffer.concat([a.subarray(0, rng.int(a.length + 1)), b.subarray(rng.int(b.length + 1))]);
    }
    case "splice-payloads": {
      const donor = pickCorpusFrame(rng).payload;
      return frameOf(Buffer.concat([payload.subarray(0, rng.int(payload.length + 1)), donor.subarray(rng.int(donor.length + 1))]));
    }
    case "garbage-framed":
      return frameOf(randomBytes(rng, 128), rng.chance(0.9) ? 0 : rng.byte());
    case "garbage-raw":
      return randomBytes(rng, 64);
    case "compressed-garbage":
      return frameOf(randomBytes(rng, 64), 1);
    case "compressed-mutated":
      return frameOf(mutateBytes(rng, deflateSync(payload)).bytes, 1);
    case "zip-bomb": {
      // Small on the wire, larger than maxFrameSize once inflated (or just below it).
      const size = rng.chance(0.7) ? maxFrameSize + rng.pick([1, 2, 1024]) : Math.max(1, maxFrameSize - rng.pick([0, 1, 1024]));
      return frameOf(deflatedFiller(size, 0x50), 1);
    }
    case "too-deep": {
      // A request whose args nest deeper than the brine depth limit.
      const levels = rng.pick([250, 253, 254, 255, 256, 300, 10_000]);
      const head = Buffer.from([0x12, 0x51, 0x50, 0x11, 0x51, 0x11, 0x51]);
      return frameOf(Buffer.concat([head, Buffer.alloc(levels, 0x10), Buffer.from([0x50])]));
    }
    case "big-int-text": {
      // A PING of an int with a very long decimal text: (1, 0, (1, (1, (N,)))), compressed.
      const digits = rng.pick([4300, 4301, 20_000, 1_000_000, 8_000_000]);
      let body = bigIntPings.get(digits);
      if (!body) {
        const head = Buffer.from([0x12, 0x51, 0x50, 0x11, 0x51, 0x11, 0x51, 0x10, 0x17, 0, 0, 0, 0]);
        head.writeUInt32BE(digits, 9);
        bigIntPings.set(digits, (body = deflateSync(Buffer.concat([head, Buffer.alloc(digits, 0x39)]))));
      }
      return frameOf(body, 1);
    }
  }
}

/** Convenience: a brine dump that cannot throw (values that cannot be dumped become None). */
export function safeDump(value: PyValueIn): Buffer {
  try {
    return dump(value);
  } catch {
    return Buffer.from([0x00]);
  }
}
