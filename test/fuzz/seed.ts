// Seeds and the PRNG of the fuzz tests. Every fuzz input is a pure function of the run's
// seed and the input's coordinates (test, worker, connection, index), so a failure is
// replayed by re-running with the printed seed, or from the printed input bytes.
//
//   RPYC_FUZZ_SEED=0x1234 npx vitest run test/fuzz      # another seed (decimal or 0x hex)

/** The default seed: fixed, so `npm test` is reproducible. */
export const DEFAULT_FUZZ_SEED = 0x5eed2025;

/** Parses a seed given as decimal or 0x-hex; throws on anything else. */
export function parseSeed(text: string): number {
  const trimmed = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(trimmed) ? Number.parseInt(trimmed.slice(2), 16) : /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new Error(`RPYC_FUZZ_SEED must be a decimal or 0x-hex integer, got ${JSON.stringify(text)}`);
  return value >>> 0;
}

/** The run's seed: RPYC_FUZZ_SEED if set, else DEFAULT_FUZZ_SEED. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.RPYC_FUZZ_SEED;
  return text === undefined || text === "" ? DEFAULT_FUZZ_SEED : parseSeed(text);
}

/** `0x`-hex of a seed, as printed in failure reports. */
export function seedHex(seed: number): string {
  return `0x${(seed >>> 0).toString(16)}`;
}

/** Mixes a seed with coordinates into a new 32-bit seed (murmur3 finalizer per part). */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = seed >>> 0;
  for (const part of parts) {
    h ^= Math.imul((part >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A small, fast, deterministic PRNG (mulberry32) with the helpers the mutators need. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** A full unsigned 32-bit integer. */
  u32(): number {
    return this.int(0x100000000) >>> 0;
  }

  byte(): number {
    return this.int(256);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks an index by weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** A small size, skewed towards small values: mostly < 16, sometimes up to `max`. */
  size(max: number): number {
    const r = this.next();
    if (r < 0.6) return this.int(Math.min(16, max + 1));
    if (r < 0.9) return this.int(Math.min(256, max + 1));
    return this.int(max + 1);
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/**
 * Multiplier of every fuzz count (RPYC_FUZZ_SCALE, default 1): a long run is
 * `RPYC_FUZZ_SCALE=20 npx vitest run test/fuzz`. Values below 1 are refused, so the
 * default run's minimums (1,000,000 decoder inputs, 100,000 live frames) always hold.
 */
export function fuzzScale(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.RPYC_FUZZ_SCALE;
  if (text === undefined || text === "") return 1;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 1) throw new Error(`RPYC_FUZZ_SCALE must be a number >= 1, got ${JSON.stringify(text)}`);
  return value;
}
