// brine.dump's fast path: one scratch writer reused across dumps, ASCII strings and int
// digits written without native calls. Its output must stay byte for byte Python's, and a
// result must never share memory with a later dump.

import { describe, expect, it } from "vitest";
import { dump, load } from "../runtime/brine.js";
import { pythonBrineDump } from "./helpers/python.js";

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
  it("strings of every boundary length are byte for byte Python's brine.dump", () => {
    const values = strings();
    const expected = pythonBrineDump(values.map((s) => JSON.stringify(s)));
    values.forEach((s, i) => expect(dump(s).toString("hex"), `length ${s.length}`).toBe(expected[i]));
  });

  it("ints of every text length are byte for byte Python's", () => {
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
