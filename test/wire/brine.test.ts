// Brine conformance: the golden vectors from Python RPyC 5.3, live comparison with the real
// rpyc brine (both directions), the JS value mapping, and decoder strictness on bad input.

import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DEFAULT_BRINE_LIMITS, dump, dumpable, load, type BrineLimits } from "../../runtime/wire/brine.js";
import { ProtocolError } from "../../runtime/errors/rpyc-errors.js";
import { Complex, Ellipsis, Float, FrozenSet, NotImplemented, Slice, float, type PyValue, type PyValueIn } from "../../runtime/wire/values.js";
import { pythonBrineDump, pythonBrineLoadRepr, WITH_PYTHON } from "../helpers/python.js";
import { prng } from "../helpers/prng.js";

const VECTORS_DIR = new URL("../vectors/", import.meta.url);

interface BrineVector {
  name: string;
  python: string;
  type: string;
  hex: string;
  roundtrip_ok: boolean;
}
interface NotDumpable {
  name: string;
  python_type: string;
  dumpable: boolean;
}
interface BrineVectorFile {
  vectors: BrineVector[];
  not_dumpable: NotDumpable[];
}
interface SessionFrame {
  hex: string;
  compressed: number;
  payload_len: number;
  payload_hex?: string;
  payload_hex_prefix?: string;
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), "utf8")) as T;
}

const brineFile = readJson<BrineVectorFile>("brine.json");
const SESSION_FILES = ["session-a-seed.json", "session-b-callback.json", "session-c-large.json", "session-d-exception.json", "session-e-misc.json"];

// ---- helpers ------------------------------------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const unhex = (s: string): Buffer => Buffer.from(s, "hex");
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));
const bytesOf = (...values: number[]): Uint8Array => new Uint8Array(values);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function numText(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

/**
 * A canonical, order-independent view of a JS brine value for deep comparison: keeps the
 * distinctions that matter (number vs bigint, -0 vs 0, NaN, Float vs number, exact classes)
 * and sorts frozenset members so their (non-canonical) order does not matter.
 */
function canon(value: unknown): unknown {
  switch (typeof value) {
    case "undefined":
      return ["undefined"];
    case "boolean":
      return ["bool", value];
    case "number":
      return ["number", numText(value)];
    case "bigint":
      return ["bigint", value.toString()];
    case "string":
      return ["str", value];
    case "symbol":
      if (value === NotImplemented) return ["NotImplemented"];
      if (value === Ellipsis) return ["Ellipsis"];
      return ["symbol", String(value)];
  }
  if (value === null) return ["None"];
  if (Array.isArray(value)) return ["tuple", ...value.map(canon)];
  if (value instanceof Uint8Array) return ["bytes", hex(value)];
  if (value instanceof Float) return ["Float", numText(value.value)];
  if (value instanceof Complex) return ["complex", numText(value.real), numText(value.imag)];
  if (value instanceof Slice) return ["slice", canon(value.start), canon(value.stop), canon(value.step)];
  if (value instanceof FrozenSet) {
    const items = [...(value as FrozenSet<unknown>)].map(canon);
    items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    return ["frozenset", ...items];
  }
  return ["other", Object.prototype.toString.call(value)];
}

/** True if the value holds a frozenset of 2+ members (its byte order is not canonical). */
function hasUnorderedSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasUnorderedSet);
  if (value instanceof Slice) return [value.start, value.stop, value.step].some(hasUnorderedSet);
  if (value instanceof FrozenSet) return value.size > 1 || [...(value as FrozenSet<unknown>)].some(hasUnorderedSet);
  return false;
}

function expectSameValue(actual: unknown, expected: unknown): void {
  expect(canon(actual)).toStrictEqual(canon(expected));
}

/** load() must throw a ProtocolError (never another type); returns it for message checks. */
function expectProtocolError(input: Uint8Array, message?: RegExp, limits?: BrineLimits): ProtocolError {
  let caught: unknown;
  try {
    load(input, limits);
  } catch (err) {
    caught = err;
  }
  expect(caught, `load(${hex(input).slice(0, 80)}) should throw ProtocolError`).toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  expect(err.message).toMatch(/^brine: /);
  if (message) expect(err.message).toMatch(message);
  return err;
}

function expectDumpTypeError(value: unknown, message: RegExp = /cannot dump/): void {
  expect(() => dump(value as PyValueIn)).toThrow(TypeError);
  expect(() => dump(value as PyValueIn)).toThrow(message);
}

/** Python's repr() of bytes (for expected values of long byte strings). */
function pyBytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  let out = "b" + quote;
  for (const byte of b) {
    if (byte === quote.charCodeAt(0) || byte === 0x5c) out += "\\" + String.fromCharCode(byte);
    else if (byte === 0x09) out += "\\t";
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte < 0x20 || byte >= 0x7f) out += "\\x" + byte.toString(16).padStart(2, "0");
    else out += String.fromCharCode(byte);
  }
  return out + quote;
}

const pyTupleRepr = (items: readonly string[]): string => (items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`);

// ---- 1. golden vectors --------------------------------------------------------------------

/** `js` is what we dump; `loaded` is what load() must return when it differs (Float -> number). */
interface VectorValue {
  js: PyValueIn;
  loaded?: PyValue;
}

const V = (js: PyValueIn, loaded?: PyValue): VectorValue => (loaded === undefined ? { js } : { js, loaded });

const VECTOR_VALUES: Record<string, VectorValue> = {
  none: V(null),
  true: V(true),
  false: V(false),
  ellipsis: V(Ellipsis),
  not_implemented: V(NotImplemented),
  int_0: V(0),
  int_1: V(1),
  int_minus_1: V(-1),
  int_42: V(42),
  int_159_max_immediate: V(159),
  int_160_first_text: V(160),
  int_minus_48_min_immediate: V(-48),
  int_minus_49_first_text: V(-49),
  int_255: V(255),
  int_256: V(256),
  int_1000: V(1000),
  int_minus_1000: V(-1000),
  int_2pow31: V(2147483648),
  int_2pow31_minus_1: V(2147483647),
  int_minus_2pow31: V(-2147483648),
  int_2pow32: V(4294967296),
  int_2pow53_plus_1: V(9007199254740993n),
  int_2pow63: V(2n ** 63n),
  int_minus_2pow63: V(-(2n ** 63n)),
  int_2pow64_plus_1: V(2n ** 64n + 1n),
  int_10pow100: V(10n ** 100n),
  int_minus_10pow100: V(-(10n ** 100n)),
  int_10pow254_255_digits: V(10n ** 254n),
  int_10pow255_256_digits: V(10n ** 255n),
  int_minus_10pow300: V(-(10n ** 300n)),
  float_0: V(float(0), 0),
  float_neg_0: V(-0),
  float_1_5: V(1.5),
  float_0_1: V(0.1),
  float_neg_2_25: V(-2.25),
  float_1e300: V(1e300),
  "float_5e-324": V(5e-324),
  float_inf: V(Infinity),
  float_neg_inf: V(-Infinity),
  float_nan: V(NaN),
  float_integral_3: V(float(3), 3),
  complex_1_2j: V(new Complex(1, 2)),
  complex_0j: V(new Complex(0, 0)),
  complex_neg: V(new Complex(-1.5, -0.5)),
  bytes_empty: V(new Uint8Array(0)),
  bytes_1: V(ascii("a")),
  bytes_2: V(ascii("ab")),
  bytes_3: V(ascii("abc")),
  bytes_4: V(ascii("abcd")),
  bytes_5: V(ascii("abcde")),
  bytes_with_nul: V(bytesOf(0x00, 0xff, 0x01)),
  bytes_255: V(ascii("x".repeat(255))),
  bytes_256: V(ascii("y".repeat(256))),
  bytes_1000: V(new Uint8Array([...range(250), ...range(250), ...range(250), ...range(250)])),
  str_empty: V(""),
  str_a: V("a"),
  str_hello: V("hello"),
  str_non_ascii: V("h\u00e9llo"),
  str_euro_3_bytes: V("\u20ac"),
  str_emoji_4_bytes: V("\u{1F600}"),
  str_cjk: V("\u65e5\u672c\u8a9e"),
  str_255_bytes: V("z".repeat(255)),
  str_300: V("s".repeat(300)),
  str_RPYC: V("RPYC"),
  tuple_empty: V([]),
  tuple_1: V([1]),
  tuple_2: V([1, 2]),
  tuple_3: V([1, 2, 3]),
  tuple_4: V([1, 2, 3, 4]),
  tuple_5: V([1, 2, 3, 4, 5]),
  tuple_255: V(range(255)),
  tuple_256: V(new Array<number>(256).fill(0)),
  tuple_nested: V([[], [[]], [1, [2, [3]]]]),
  tuple_mixed: V(["he", 7, ascii("llo"), null, true, 18.2]),
  frozenset_empty: V(new FrozenSet()),
  frozenset_1: V(new FrozenSet([5])),
  slice_1_2_3: V(new Slice(1, 2, 3)),
  slice_none_5_none: V(new Slice(null, 5, null)),
  slice_neg: V(new Slice(-1, null, -1)),
  message_getroot_request: V([1, 0, [3, [1, []]]]),
  message_reply_42: V([2, 1, [1, 42]]),
  message_ping_request: V([1, 5, [1, [1, ["hello"]]]]),
  registry_query: V(["RPYC", "QUERY", ["MY"]]),
  brine_docstring_example: V([
    "he",
    7,
    "llo",
    8,
    [],
    900,
    null,
    true,
    Ellipsis,
    18.2,
    new Complex(13, 18.2),
    new Slice(1, 2, 3),
    new FrozenSet([5, 6, 7]),
    NotImplemented,
  ]),
  frozenset_5_6_7: V(new FrozenSet([5, 6, 7])),
};

describe("brine golden vectors (brine.json from Python RPyC 5.3)", () => {
  it("the JS table covers exactly the vectors in the file", () => {
    expect(brineFile.vectors.length).toBeGreaterThanOrEqual(85);
    expect(Object.keys(VECTOR_VALUES).sort()).toStrictEqual(brineFile.vectors.map((v) => v.name).sort());
  });

  for (const vector of brineFile.vectors) {
    describe(`${vector.name}: ${vector.python.slice(0, 60)}`, () => {
      const entry = VECTOR_VALUES[vector.name];

      it("is dumpable and dumps to the vector bytes", () => {
        expect(entry, `no JS value for vector ${vector.name}`).toBeDefined();
        const { js } = entry!;
        expect(dumpable(js)).toBe(true);
        const ours = dump(js);
        if (hasUnorderedSet(js)) {
          // Set order is not canonical: same length, and it decodes to the same value.
          expect(ours.length).toBe(vector.hex.length / 2);
          expectSameValue(load(ours), load(unhex(vector.hex)));
        } else {
          expect(hex(ours)).toBe(vector.hex);
        }
      });

      it("loads to the expected JS value", () => {
        const { js, loaded } = entry!;
        expectSameValue(load(unhex(vector.hex)), loaded ?? js);
      });
    });
  }

  it("frozenset members are accepted in any order", () => {
    for (const order of ["1a12555657", "1a12575655", "1a12565557"]) {
      expectSameValue(load(unhex(order)), new FrozenSet([5, 6, 7]));
    }
  });
});

// ---- values brine refuses -----------------------------------------------------------------

class UserObject {
  x = 1;
}

/** JS counterparts of the Python types in `not_dumpable` (arrays are tuples in JS). */
const NOT_DUMPABLE_JS: Record<string, Array<[string, unknown]>> = {
  // A Python list is a mutable sequence; JS arrays are tuples, so the mutable-sequence
  // counterparts are the typed arrays other than Uint8Array.
  list: [
    ["Int32Array", new Int32Array([1, 2])],
    ["Float64Array", new Float64Array([1, 2])],
  ],
  dict: [
    ["plain object", { a: 1 }],
    ["null-prototype object", Object.assign(Object.create(null) as object, { a: 1 })],
    ["Map", new Map([["a", 1]])],
  ],
  set: [
    ["Set", new Set([1])],
    ["WeakSet", new WeakSet()],
  ],
  bytearray: [
    ["ArrayBuffer", new ArrayBuffer(1)],
    ["DataView", new DataView(new ArrayBuffer(1))],
    ["Uint8ClampedArray", new Uint8ClampedArray([1])],
  ],
  tuple_with_list: [
    ["array containing an object", [1, { a: 2 }]],
    ["array containing a Set", [1, new Set([2])]],
    ["nested array containing a Map", [1, [2, [3, new Map()]]]],
    ["FrozenSet containing an object", new FrozenSet<unknown>([1, { a: 2 }])],
    ["Slice containing an object", new Slice(1, { a: 2 } as unknown as PyValue, null)],
  ],
  object: [
    ["class instance", new UserObject()],
    ["function", () => 1],
    ["Date", new Date(0)],
    ["RegExp", /x/],
    ["Error", new Error("x")],
    ["Promise", Promise.resolve(1)],
    ["unrelated symbol", Symbol("x")],
  ],
};

describe("values brine cannot carry", () => {
  it("every not_dumpable vector has JS counterparts", () => {
    for (const entry of brineFile.not_dumpable) {
      expect(entry.dumpable).toBe(false);
      expect(NOT_DUMPABLE_JS[entry.name], `no JS counterpart for ${entry.name}`).toBeDefined();
    }
  });

  for (const [name, values] of Object.entries(NOT_DUMPABLE_JS)) {
    for (const [label, value] of values) {
      it(`${name}: ${label} is refused by dumpable() and dump() throws TypeError`, () => {
        expect(dumpable(value)).toBe(false);
        expectDumpTypeError(value);
      });
    }
  }

  it("the TypeError names the offending type", () => {
    expect(() => dump([1, new Map()] as unknown as PyValueIn)).toThrow(/cannot dump Map/);
    expect(() => dump(new UserObject() as unknown as PyValueIn)).toThrow(/cannot dump UserObject/);
  });
});

// ---- JS-side value mapping ----------------------------------------------------------------

describe("JS value mapping", () => {
  it("undefined dumps as None", () => {
    expect(hex(dump(undefined))).toBe("00");
    expect(hex(dump([undefined, null]))).toBe("110000");
    expect(dumpable(undefined)).toBe(true);
  });

  it("integral safe numbers are ints; Float(x) forces a float", () => {
    expect(hex(dump(3))).toBe("53");
    expect(hex(dump(float(3)))).toBe("184008000000000000");
    expect(hex(dump(new Float(0)))).toBe("180000000000000000");
    expect(hex(dump(new Float(-0)))).toBe("188000000000000000");
    expect(hex(dump(float(1.5)))).toBe("183ff8000000000000");
  });

  it("non-integral, -0, NaN, infinities and unsafe integral numbers dump as floats", () => {
    expect(hex(dump(-0))).toBe("188000000000000000");
    expect(hex(dump(0))).toBe("50");
    expect(hex(dump(NaN))).toBe("187ff8000000000000");
    expect(hex(dump(2 ** 53))).toBe("184340000000000000");
    expect(hex(dump(1e16))).toBe(
      "18" +
        Buffer.from(new Float64Array([1e16]).buffer)
          .reverse()
          .toString("hex"),
    );
  });

  it("bigints dump as ints whatever their size, identical to the same number", () => {
    expect(hex(dump(5n))).toBe("55");
    expect(hex(dump(-48n))).toBe("20");
    expect(hex(dump(159n))).toBe("ef");
    expect(hex(dump(160n))).toBe(hex(dump(160)));
    expect(hex(dump(-49n))).toBe(hex(dump(-49)));
    expect(hex(dump(BigInt(Number.MAX_SAFE_INTEGER)))).toBe(hex(dump(Number.MAX_SAFE_INTEGER)));
    expect(hex(dump(2n ** 53n))).toBe("1610" + Buffer.from("9007199254740992").toString("hex"));
  });

  it("a Buffer dumps as bytes", () => {
    expect(hex(dump(Buffer.from("abcde")))).toBe("0e056162636465");
  });

  it("decoded ints are numbers up to 2**53-1 in magnitude and bigints beyond", () => {
    const cases: Array<[string, number | bigint]> = [
      ["999999999999999", 999999999999999],
      ["-999999999999999", -999999999999999],
      ["9007199254740991", 9007199254740991],
      ["-9007199254740991", -9007199254740991],
      ["9007199254740992", 9007199254740992n],
      ["-9007199254740992", -9007199254740992n],
      ["18446744073709551616", 2n ** 64n],
    ];
    for (const [text, expected] of cases) {
      const input = Buffer.concat([Buffer.from([0x16, text.length]), Buffer.from(text)]);
      expectSameValue(load(input), expected);
    }
  });

  it('int text "-0" decodes to int 0, not to -0 (which would travel back as float -0.0)', () => {
    const value = load(unhex("16022d30"));
    expect(Object.is(value, 0)).toBe(true);
    expect(hex(dump(value))).toBe("50");
  });

  it("decoded floats are numbers; a decoded integral float re-dumps as int (documented lossy case)", () => {
    expect(load(unhex("184008000000000000"))).toBe(3);
    expect(Object.is(load(unhex("188000000000000000")), -0)).toBe(true);
  });

  it("a leading U+FEFF in a str survives decoding (Python's utf-8 codec keeps it)", () => {
    expect(load(unhex("080e04efbbbf61"))).toBe("\ufeffa");
    expect(load(dump("\ufeffbom"))).toBe("\ufeffbom");
  });

  it("load accepts a plain Uint8Array view at a non-zero offset", () => {
    const backing = new Uint8Array([0xff, 0xff, 0x11, 0x51, 0x0a, 0x61, 0xff]);
    expectSameValue(load(backing.subarray(2, 6)), [1, ascii("a")]);
  });

  it("decoded bytes do not alias the input buffer", () => {
    const input = unhex("0d61626364");
    const value = load(input) as Uint8Array;
    input.fill(0);
    expect(hex(value)).toBe("61626364");
  });

  it("FrozenSet is immutable and deduplicates like a set", () => {
    const set = new FrozenSet([1, 2, 2, 3]);
    expect(set.size).toBe(3);
    expect(() => set.add(4)).toThrow(TypeError);
    expect(() => (set as Set<number>).delete(1)).toThrow(TypeError);
    expect(() => set.clear()).toThrow(TypeError);
    expect([...set]).toStrictEqual([1, 2, 3]);
    // Duplicates on the wire collapse, as in Python's frozenset().
    expectSameValue(load(unhex("1a1351525253")), new FrozenSet([1, 2, 3]));
  });

  it("payloads of every captured Python session load and re-dump to Python's exact bytes", () => {
    let count = 0;
    for (const file of SESSION_FILES) {
      for (const frame of readJson<{ frames: SessionFrame[] }>(file).frames) {
        const body = unhex(frame.hex.slice(10, -2));
        const payload = frame.compressed ? inflateSync(body) : body;
        expect(payload.length).toBe(frame.payload_len);
        expect(hex(dump(load(payload)))).toBe(hex(payload));
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
  });
});

// ---- 2. live against the real Python brine ------------------------------------------------

interface LiveCase {
  /** Python expression (evaluated by Python only). */
  expr: string;
  /** The equivalent JS value. */
  js: PyValueIn;
  /** Expected repr of Python's brine.load of our bytes (defaults to expr); null: set order varies. */
  repr?: string | null;
}

const TWO_53 = 2n ** 53n;
const LIVE_CASES: LiveCase[] = [
  { expr: "None", js: null },
  { expr: "True", js: true },
  { expr: "False", js: false },
  { expr: "NotImplemented", js: NotImplemented },
  { expr: "Ellipsis", js: Ellipsis },
  { expr: "0", js: 0 },
  { expr: "-48", js: -48 },
  { expr: "-49", js: -49 },
  { expr: "159", js: 159 },
  { expr: "160", js: 160 },
  { expr: "2**53 - 1", js: 2 ** 53 - 1, repr: "9007199254740991" },
  { expr: "2**53", js: TWO_53, repr: "9007199254740992" },
  { expr: "2**53 + 1", js: TWO_53 + 1n, repr: "9007199254740993" },
  { expr: "-(2**53 - 1)", js: -(2 ** 53 - 1), repr: "-9007199254740991" },
  { expr: "-(2**53) - 1", js: -TWO_53 - 1n, repr: "-9007199254740993" },
  { expr: "2**63", js: 2n ** 63n, repr: "9223372036854775808" },
  { expr: "-2**64", js: -(2n ** 64n), repr: "-18446744073709551616" },
  { expr: "10**300", js: 10n ** 300n, repr: "1" + "0".repeat(300) },
  { expr: "-10**255", js: -(10n ** 255n), repr: "-1" + "0".repeat(255) },
  { expr: "0.0", js: float(0) },
  { expr: "-0.0", js: -0 },
  { expr: "1.5", js: 1.5 },
  { expr: "-2.25", js: -2.25 },
  { expr: "float('nan')", js: NaN, repr: "nan" },
  { expr: "float('inf')", js: Infinity, repr: "inf" },
  { expr: "-float('inf')", js: -Infinity, repr: "-inf" },
  { expr: "5e-324", js: 5e-324 },
  { expr: "1e300", js: 1e300, repr: "1e+300" },
  { expr: "2.0**53", js: 2 ** 53, repr: "9007199254740992.0" },
  { expr: "3.0", js: float(3) },
  { expr: "1+2j", js: new Complex(1, 2), repr: "(1+2j)" },
  { expr: "complex(0.0, -0.0)", js: new Complex(0, -0), repr: "-0j" },
  { expr: "complex(float('nan'), float('-inf'))", js: new Complex(NaN, -Infinity), repr: "(nan-infj)" },
  { expr: "b''", js: new Uint8Array(0) },
  { expr: "b'a'", js: ascii("a") },
  { expr: "b'abcd'", js: ascii("abcd") },
  { expr: "b'abcde'", js: ascii("abcde") },
  { expr: "b'x' * 255", js: ascii("x".repeat(255)), repr: pyBytesRepr(ascii("x".repeat(255))) },
  { expr: "b'y' * 256", js: ascii("y".repeat(256)), repr: pyBytesRepr(ascii("y".repeat(256))) },
  { expr: "bytes(range(256))", js: new Uint8Array(range(256)), repr: pyBytesRepr(new Uint8Array(range(256))) },
  { expr: "''", js: "" },
  { expr: "'a'", js: "a" },
  { expr: "'abcd'", js: "abcd" },
  { expr: "'hello'", js: "hello" },
  { expr: "'x' * 255", js: "x".repeat(255), repr: `'${"x".repeat(255)}'` },
  { expr: "'x' * 256", js: "x".repeat(256), repr: `'${"x".repeat(256)}'` },
  { expr: "'\u20ac'", js: "\u20ac" },
  { expr: "'\u20ac' * 85", js: "\u20ac".repeat(85), repr: `'${"\u20ac".repeat(85)}'` },
  { expr: "'\u20ac' * 86", js: "\u20ac".repeat(86), repr: `'${"\u20ac".repeat(86)}'` },
  { expr: "'\u{1F600}'", js: "\u{1F600}" },
  { expr: "'\u65e5\u672c\u8a9e'", js: "\u65e5\u672c\u8a9e" },
  { expr: "'mixed \u00e9 \u20ac \u{1F600} \u65e5\u672c'", js: "mixed \u00e9 \u20ac \u{1F600} \u65e5\u672c" },
  { expr: "'\\ufeffbom'", js: "\ufeffbom" },
  { expr: "'a\\x00b'", js: "a\u0000b" },
  { expr: "()", js: [] },
  { expr: "(1,)", js: [1] },
  { expr: "(1, 2, 3, 4)", js: [1, 2, 3, 4] },
  { expr: "(1, 2, 3, 4, 5)", js: [1, 2, 3, 4, 5] },
  { expr: "tuple(range(255))", js: range(255), repr: pyTupleRepr(range(255).map(String)) },
  { expr: "tuple(range(256))", js: range(256), repr: pyTupleRepr(range(256).map(String)) },
  { expr: "(((((),),),),)", js: [[[[[]]]]] },
  {
    expr: "('he', 7, b'llo', None, True, 18.2, (2**70, -0.0, (1+2j)), slice(None, -1, None), frozenset({5}), Ellipsis)",
    js: ["he", 7, ascii("llo"), null, true, 18.2, [2n ** 70n, -0, new Complex(1, 2)], new Slice(null, -1, null), new FrozenSet([5]), Ellipsis],
    repr: "('he', 7, b'llo', None, True, 18.2, (1180591620717411303424, -0.0, (1+2j)), slice(None, -1, None), frozenset({5}), Ellipsis)",
  },
  { expr: "(2**64, -2**64, 10**20)", js: [2n ** 64n, -(2n ** 64n), 10n ** 20n], repr: "(18446744073709551616, -18446744073709551616, 100000000000000000000)" },
  { expr: "frozenset()", js: new FrozenSet() },
  { expr: "frozenset({5})", js: new FrozenSet([5]) },
  { expr: "frozenset({'only'})", js: new FrozenSet(["only"]) },
  { expr: "frozenset({5, 6, 7})", js: new FrozenSet([7, 5, 6]) },
  { expr: "frozenset([-1, 0, 100])", js: new FrozenSet([100, -1, 0]), repr: "frozenset({0, 100, -1})" },
  { expr: "frozenset({'a', (1, 2), None, b'x', 2.5, 2**80})", js: new FrozenSet<PyValue>(["a", [1, 2], null, ascii("x"), 2.5, 2n ** 80n]), repr: null },
  { expr: "slice(1, 2, 3)", js: new Slice(1, 2, 3) },
  { expr: "slice(None, 5, None)", js: new Slice(null, 5, null) },
  { expr: "slice(-1, None, -1)", js: new Slice(-1, null, -1) },
  { expr: "slice('a', 2.5, (1, b'z'))", js: new Slice("a", 2.5, [1, ascii("z")]) },
];

describe.runIf(WITH_PYTHON)("live against Python RPyC 5.3 brine", () => {
  let pythonHexes: string[] | undefined;
  const pythonHex = (i: number): string => {
    pythonHexes ??= pythonBrineDump(LIVE_CASES.map((c) => c.expr));
    return pythonHexes[i]!;
  };
  let reprs: string[] | undefined;
  const pythonReprOfOurs = (i: number): string => {
    reprs ??= pythonBrineLoadRepr(LIVE_CASES.map((c) => hex(dump(c.js))));
    return reprs[i]!;
  };

  it("the cases start with every tag Python emits at top level", () => {
    const tags = new Set<number>();
    for (let i = 0; i < LIVE_CASES.length; i++) tags.add(unhex(pythonHex(i))[0]!);
    for (const tag of [
      0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x0a, 0x0d, 0x0e, 0x0f, 0x10, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x20, 0xef,
    ]) {
      expect(tags.has(tag), `tag 0x${tag.toString(16)}`).toBe(true);
    }
  });

  LIVE_CASES.forEach((c, i) => {
    describe(c.expr.length > 70 ? c.expr.slice(0, 70) + "..." : c.expr, () => {
      it("our dump matches Python's brine.dump, and we load Python's bytes to the JS value", () => {
        const theirs = pythonHex(i);
        const ours = dump(c.js);
        if (hasUnorderedSet(c.js)) {
          expect(ours.length).toBe(theirs.length / 2);
        } else {
          expect(hex(ours)).toBe(theirs);
        }
        expectSameValue(load(unhex(theirs)), c.js instanceof Float ? c.js.value : c.js);
      });

      if (c.repr !== null) {
        it("Python's brine.load of our bytes has the expected repr", () => {
          expect(pythonReprOfOurs(i)).toBe(c.repr ?? c.expr);
        });
      }
    });
  });
});

// ---- 3. decoder strictness ----------------------------------------------------------------

describe("decoder strictness", () => {
  it("refuses empty input", () => {
    expectProtocolError(new Uint8Array(0), /empty/);
  });

  it("refuses every proper prefix of every golden vector (truncation)", () => {
    let checked = 0;
    for (const vector of brineFile.vectors) {
      const full = unhex(vector.hex);
      for (let n = 0; n < full.length; n++) {
        expectProtocolError(full.subarray(0, n));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });

  it("refuses truncation inside a byte string, an int text and a float", () => {
    expectProtocolError(unhex("0e0561626364"), /truncated/);
    expectProtocolError(unhex("0f0000010061"), /truncated/);
    expectProtocolError(unhex("080e0568656c6c"), /truncated/);
    expectProtocolError(unhex("16033136"), /truncated/);
    expectProtocolError(unhex("18400800"), /truncated/);
    expectProtocolError(unhex("1b3ff000000000000040"), /truncated/);
  });

  it("refuses trailing bytes after every golden vector", () => {
    for (const vector of brineFile.vectors) {
      expectProtocolError(unhex(vector.hex + "00"), /trailing/);
      expectProtocolError(unhex(vector.hex + vector.hex), /trailing/);
    }
  });

  const UNKNOWN_TAGS = [0x07, 0x09, 0x1c, 0x1d, 0x1e, 0x1f, ...range(16).map((i) => 0xf0 + i)];
  it("refuses unknown tags, at top level and nested", () => {
    for (const tag of UNKNOWN_TAGS) {
      const name = `0x${tag.toString(16).padStart(2, "0")}`;
      expectProtocolError(bytesOf(tag), new RegExp(`unknown tag ${name}`));
      expectProtocolError(bytesOf(0x11, 0x51, tag), new RegExp(`unknown tag ${name}`));
      expectProtocolError(bytesOf(0x1a, 0x10, tag), new RegExp(`unknown tag ${name}`));
    }
  });

  it("accepts every tag outside the unknown set as a value start", () => {
    // Sanity for the list above: every other byte is a valid tag (0x20..0xef are small ints).
    for (let tag = 0x20; tag <= 0xef; tag++) expect(load(bytesOf(tag))).toBe(tag - 0x50);
  });

  it("refuses malformed int text", () => {
    for (const text of ["", "-", "+5", " 5", "5 ", "1_000", "0x10", "1e5", "--1", "5-", "1.0", "\u0000", "\uff11", "\u0661"]) {
      const body = Buffer.from(text, "utf8");
      expectProtocolError(Buffer.concat([Buffer.from([0x16, body.length]), body]), /malformed int/);
    }
    const long = Buffer.from("1".repeat(299) + "x");
    const header = Buffer.alloc(5);
    header[0] = 0x17;
    header.writeUInt32BE(long.length, 1);
    expectProtocolError(Buffer.concat([header, long]), /malformed int/);
  });

  it("refuses invalid UTF-8 in a str", () => {
    for (const body of ["ff", "c328", "c0af", "e282", "eda080", "f4908080", "f880808080", "80", "edb080", "efbf"]) {
      const raw = unhex(body);
      const input = Buffer.concat([Buffer.from([0x08]), dump(new Uint8Array(raw))]);
      expectProtocolError(input, /UTF-8/);
    }
  });

  it("refuses a str tag not followed by a bytes value", () => {
    for (const next of ["50", "02", "0801", "00", "1051"]) expectProtocolError(unhex("08" + next), /bytes tag/);
  });

  it("refuses a tuple count larger than the input before allocating it", () => {
    // Each of these names a count of items that cannot fit in the bytes that follow.
    expectProtocolError(unhex("15ffffffff"), /4294967295/);
    expectProtocolError(unhex("157fffffff5050"), /2147483647/);
    expectProtocolError(unhex("14ff50"), /255/);
    expectProtocolError(unhex("1a15ffffffff"), /4294967295/);
    expectProtocolError(unhex("1115ffffffff50"), /4294967295/);
  });

  it("refuses byte-string, str and int lengths larger than the input", () => {
    expectProtocolError(unhex("0fffffffff61"), /truncated/);
    expectProtocolError(unhex("080fffffffff61"), /truncated/);
    expectProtocolError(unhex("17ffffffff31"), /truncated/);
    expectProtocolError(unhex("0eff61"), /truncated/);
  });

  it("refuses malformed slices and frozensets", () => {
    expectProtocolError(unhex("19"), /truncated/);
    expectProtocolError(unhex("1950"), /slice/);
    expectProtocolError(unhex("1900"), /slice/);
    expectProtocolError(unhex("190e03616263"), /slice/);
    expectProtocolError(unhex("19115051"), /slice/);
    expectProtocolError(unhex("19135051525354"), /slice/);
    expectProtocolError(unhex("1a50"), /frozenset/);
    expectProtocolError(unhex("1a00"), /frozenset/);
  });

  it("accepts the non-minimal length forms Python's decoder accepts", () => {
    expectSameValue(load(unhex("0e0161")), ascii("a"));
    expectSameValue(load(unhex("0e00")), new Uint8Array(0));
    expectSameValue(load(unhex("0f0000000161")), ascii("a"));
    expectSameValue(load(unhex("14025152")), [1, 2]);
    expectSameValue(load(unhex("150000000155")), [5]);
    expectSameValue(load(unhex("191403505155")), new Slice(0, 1, 5));
    expectSameValue(load(unhex("1a140151")), new FrozenSet([1]));
    expectSameValue(load(unhex("160130")), 0);
    expectSameValue(load(unhex("1700000003313630")), 160);
  });

  describe("nesting limit (BrineLimits.maxDepth)", () => {
    const nested = (depth: number, open: string, leaf = "50"): Buffer => unhex(open.repeat(depth) + leaf);

    it("default limit is 256: 256 nested tuples load, 257 do not", () => {
      expect(DEFAULT_BRINE_LIMITS.maxDepth).toBe(256);
      let value = load(nested(256, "10"));
      for (let i = 0; i < 256; i++) {
        expect(Array.isArray(value)).toBe(true);
        value = (value as readonly PyValue[])[0]!;
      }
      expect(value).toBe(0);
      expectProtocolError(nested(257, "10"), /maxDepth 256/);
    });

    it("a custom limit is honoured exactly", () => {
      const limits: BrineLimits = { maxDepth: 3 };
      expectSameValue(load(nested(3, "10"), limits), [[[0]]]);
      expectProtocolError(nested(4, "10"), /maxDepth 3/, limits);
      expectSameValue(load(unhex("11511050"), limits), [1, [0]]);
    });

    it("frozensets and slices count as nesting levels", () => {
      const limits: BrineLimits = { maxDepth: 4 };
      expectSameValue(load(unhex("1a101a1050"), limits), new FrozenSet([new FrozenSet([0])]));
      expectProtocolError(nested(5, "1a10"), /maxDepth/, limits);
      expectSameValue(
        load(unhex("1912".repeat(4) + "505050" + "5050".repeat(3)), limits),
        new Slice(new Slice(new Slice(new Slice(0, 0, 0), 0, 0), 0, 0), 0, 0),
      );
      expectProtocolError(unhex("1912".repeat(5) + "505050" + "5050".repeat(4)), /maxDepth/, limits);
    });

    it("a megabyte of nested tuple tags is a ProtocolError, not a stack overflow", () => {
      expectProtocolError(Buffer.alloc(1_000_000, 0x10), /maxDepth/);
      expectProtocolError(unhex("1a10".repeat(500_000) + "50"), /maxDepth/);
      expectProtocolError(unhex("1912".repeat(500_000) + "50"), /maxDepth/);
    });
  });

  describe("item budget (BrineLimits.maxItems, config maxBrineItems)", () => {
    /** A tuple (TAG_TUP_L4) of `count` copies of `item`. */
    const tupleOf = (count: number, item: string): Buffer => {
      const head = Buffer.alloc(5);
      head[0] = 0x15;
      head.writeUInt32BE(count, 1);
      return Buffer.concat([head, Buffer.from(item.repeat(count), "hex")]);
    };

    it("every value counts one, the tuple too: a budget of n loads n values and refuses n + 1", () => {
      const limits: BrineLimits = { maxDepth: 256, maxItems: 10 };
      expectSameValue(
        load(tupleOf(9, "50"), limits),
        range(9).map(() => 0),
      );
      expectProtocolError(tupleOf(10, "50"), /more than 10 values \(maxBrineItems/, limits);
      // Nested: (((), ()), 1) is 5 values.
      expectSameValue(load(unhex("11" + "110202" + "51"), { maxDepth: 256, maxItems: 5 }), [[[], []], 1]);
      expectProtocolError(unhex("11" + "110202" + "51"), /maxBrineItems/, { maxDepth: 256, maxItems: 4 });
      // A frozenset or a slice of n items counts n + 1.
      expectSameValue(load(unhex("1a13" + "50515253"), { maxDepth: 256, maxItems: 5 }), new FrozenSet([0, 1, 2, 3]));
      expectProtocolError(unhex("1a13" + "50515253"), /maxBrineItems/, { maxDepth: 256, maxItems: 4 });
      expectSameValue(load(unhex("1912505050"), { maxDepth: 256, maxItems: 4 }), new Slice(0, 0, 0));
      expectProtocolError(unhex("1912505050"), /maxBrineItems/, { maxDepth: 256, maxItems: 3 });
    });

    it("the default admits a tuple of 99,999 values and refuses 100,000 (with the tuple: 100,001 values)", () => {
      expect(DEFAULT_BRINE_LIMITS.maxItems).toBe(100_000);
      expect((load(tupleOf(99_999, "50")) as PyValue[]).length).toBe(99_999);
      expectProtocolError(tupleOf(100_000, "50"), /more than 100000 values/);
    });

    it("a tuple announcing more items than the budget is refused from its header, before its items are read", () => {
      // 10 MB of empty bytes (the attack that exhausted the heap): refused at offset 5, the
      // end of the tuple's header, so no item was decoded and no array of 10M slots allocated.
      const attack = tupleOf(10_000_000, "01");
      expect(() => load(attack)).toThrow(/more than 100000 values \(maxBrineItems; 10000000 more announced\) at offset 5$/);
      expectProtocolError(tupleOf(1_000_000, "1a02"), /at offset 5$/);
    });

    it("the empty bytes and the empty frozenset are one shared frozen value each", () => {
      const [a, b] = load(unhex("120101" + "01")) as Uint8Array[];
      expect(a).toBeInstanceOf(Uint8Array);
      expect(a!.length).toBe(0);
      expect(a).toBe(b);
      expect(Object.isFrozen(a)).toBe(true);
      const [s, t] = load(unhex("11" + "1a02" + "1a02")) as FrozenSet[];
      expect(s).toBeInstanceOf(FrozenSet);
      expect(s!.size).toBe(0);
      expect(s).toBe(t);
      expect(Object.isFrozen(s)).toBe(true);
      expect(() => s!.add(1 as PyValue)).toThrow(/immutable/);
      // Non-empty values stay the caller's own copies.
      const [x, y] = load(unhex("11" + "0a41" + "0a41")) as Uint8Array[];
      expect(x).not.toBe(y);
      x![0] = 0;
      expect(y![0]).toBe(0x41);
    });
  });

  it("random and mutated inputs only ever produce values or ProtocolErrors", () => {
    const rand = prng(0x5eed);
    const seeds = brineFile.vectors.map((v) => unhex(v.hex)).filter((b) => b.length < 400);
    for (let i = 0; i < 4000; i++) {
      let input: Buffer;
      if (i % 2 === 0) {
        input = Buffer.from(range(1 + Math.floor(rand() * 24)).map(() => Math.floor(rand() * 256)));
      } else {
        input = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!);
        const flips = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
      }
      try {
        const value = load(input);
        // Whatever loads must be a value we can send back.
        expect(dumpable(value)).toBe(true);
      } catch (err) {
        expect(err, `load(${hex(input)})`).toBeInstanceOf(ProtocolError);
      }
    }
  });
});

// ---- 4. strings Python cannot encode ------------------------------------------------------

describe("lone surrogates", () => {
  const lone = ["\ud800", "\udfff", "a\udc00b", "x\ud83d", "\ude00\ud83d"];

  for (const s of lone) {
    it(`dump refuses ${JSON.stringify(s)} with TypeError, also nested`, () => {
      expect(() => dump(s)).toThrow(TypeError);
      expect(() => dump(["ok", s])).toThrow(TypeError);
      expect(() => dump(new FrozenSet([s]))).toThrow(TypeError);
      expect(() => dump(new Slice(s, null, null))).toThrow(TypeError);
    });
  }

  it("a well-formed surrogate pair is fine", () => {
    expect(hex(dump("\ud83d\ude00"))).toBe("080df09f9880");
  });
});
