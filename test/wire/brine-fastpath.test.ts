// brine.dump's fast path: one scratch writer reused across dumps, ASCII strings and int
// digits written without native calls. Its output must stay byte for byte Python's, and a
// result must never share memory with a later dump.

import { describe, expect, it } from "vitest";
import { dump, load } from "../../runtime/wire/brine.js";
import { pythonBrineDump, WITH_PYTHON } from "../helpers/python.js";

/** Strings around every length boundary of the str encoding and of the ASCII fast path. */
const LENGTHS = [0, 1, 3, 4, 5, 85, 86, 255, 256, 257, 1000, 70_000];
function strings(): string[] {
  const out: string[] = [];
  for (const n of LENGTHS) {
    out.push("a".repeat(n));
    if (n > 0) {
      out.push("a".repeat(n - 1) + "é"); // non-ASCII at the very end: the fast path gives up late
      out.push("€" + "b".repeat(n - 1));
      out.push("𝄞".repeat(Math.ceil(n / 2))); // surrogate pairs: 4 UTF-8 bytes each
    }
  }
  return out;
}

describe("dump fast path", () => {
  it.runIf(WITH_PYTHON)("strings of every boundary length are byte for byte Python's brine.dump", () => {
    const values = strings();
    const expected = pythonBrineDump(values.map((s) => JSON.stringify(s)));
    values.forEach((s, i) => expect(dump(s).toString("hex"), `length ${s.length}`).toBe(expected[i]));
  });

  it.runIf(WITH_PYTHON)("ints of every text length are byte for byte Python's", () => {
    const values: (number | bigint)[] = [0, -48, 159, 160, -49, 12345, -(2 ** 53) + 1, 2 ** 53 - 1, 10n ** 300n, -(10n ** 299n)];
    const expected = pythonBrineDump(values.map((v) => v.toString()));
    values.forEach((v, i) => expect(dump(v).toString("hex"), String(v)).toBe(expected[i]));
  });

  it("a lone surrogate is refused even after an ASCII prefix that the fast path wrote", () => {
    expect(() => dump("abc\ud800")).toThrow(/lone surrogates/);
    expect(() => dump(["ok", "x".repeat(300) + "\udc00"])).toThrow(/lone surrogates/);
    // The failed dumps left nothing behind in the scratch writer.
    expect(dump(["ok"]).toString("hex")).toBe("10080b6f6b");
  });

  it("each result owns its bytes: later dumps do not overwrite earlier results", () => {
    const small = dump(["first", 1]);
    const smallCopy = Buffer.from(small);
    const big = dump(new Uint8Array(200_000).fill(7));
    const bigCopy = Buffer.from(big);
    for (let i = 0; i < 50; i++) dump([`value ${i}`, new Uint8Array(i * 5000).fill(i)]);
    expect(small.equals(smallCopy)).toBe(true);
    expect(big.equals(bigCopy)).toBe(true);
    expect(small.buffer === big.buffer && small.byteOffset === big.byteOffset).toBe(false);
  });

  it("round-trips a mixed message of every size class", () => {
    for (const size of [0, 10, 5000, 70_000, 200_000]) {
      const value = [1, size, ["name", "ünï", 3.5, 2n ** 70n, new Uint8Array(size).fill(3), "x".repeat(size % 300)]];
      expect(load(dump(value as never))).toEqual(value.map((v) => v));
    }
  });
});

describe("load fast paths", () => {
  const intL1 = (text: string): Buffer => Buffer.concat([Buffer.from([0x16, text.length]), Buffer.from(text, "latin1")]);

  it("ints of up to 15 characters parse from the bytes exactly as from their text", () => {
    for (const text of ["160", "-49", "0", "-0", "007", "-007", "999999999999999", "-99999999999999", "9007199254740991", "-9007199254740991"]) {
      const expected = BigInt(text);
      const got = load(intL1(text));
      expect(typeof got === "bigint" ? got : BigInt(got as number), text).toBe(expected);
      expect(Object.is(got, -0), text).toBe(false);
    }
  });

  it("malformed or over-limit int texts give the same errors as before", () => {
    for (const text of ["", "-", "+5", " 5", "1_0", "12a", "--1", "١٢"]) {
      expect(() => load(intL1(text)), JSON.stringify(text)).toThrow(/malformed int literal/);
    }
    expect(() => load(intL1("123456"), { maxDepth: 8, maxIntDigits: 5 })).toThrow(/exceeds the limit of 5/);
    expect(() => load(Buffer.from([0x16, 5, 0x31, 0x32]))).toThrow(/truncated/);
  });

  it("short ASCII and non-ASCII strs decode alike; invalid UTF-8 is still refused", () => {
    for (const s of ["", "a", "ping", "call_back", "x".repeat(32), "x".repeat(33), "é", "a\u007f", "\ufeffbom"]) expect(load(dump(s))).toBe(s);
    expect(() => load(Buffer.from([0x08, 0x0b, 0x61, 0xff]))).toThrow(/not valid UTF-8/);
  });

  it("a large bytes value filling its frame is a view; a small one is a copy that pins nothing", () => {
    const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const frame = dump([2, 7, [0, big]] as never);
    const [, , [, value]] = load(frame) as [number, number, [number, Uint8Array]];
    expect(value).toEqual(big);
    expect(value.constructor).toBe(Uint8Array);
    expect(value.buffer).toBe(frame.buffer);
    const small = load(dump(new Uint8Array(100).fill(1))) as Uint8Array;
    expect(small.buffer.byteLength).toBe(100);
    // A large value that is a small part of a larger buffer is still copied.
    const host = Buffer.alloc(1 << 20);
    const inner = dump(new Uint8Array(70_000).fill(9));
    inner.copy(host, 0);
    const copied = load(host.subarray(0, inner.length)) as Uint8Array;
    expect(copied.buffer).not.toBe(host.buffer);
    expect(copied.length).toBe(70_000);
  });
});
