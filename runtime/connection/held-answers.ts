// Promise pipelining, serving side: results of the peer's requests that it asked us to hold
// (NATIVE_HOLD) because pipelined requests on them (NATIVE_PIPELINE) will follow. An entry
// lives until its result is known and every announced dependent arrived or was dropped
// (NATIVE_DROP); the table is bounded per connection (MAX_HELD_ANSWERS).

/** The most results one connection holds for pipelined requests of its peer at a time. */
export const MAX_HELD_ANSWERS = 4096;

/** How a held request ended. */
export type HeldOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** The result of a request the peer asked us to hold for its pipelined requests. */
export interface HeldAnswer {
  /** Announced dependents (pipelined requests or drops) still to come. */
  remaining: number;
  settled: boolean;
  /** Resolves with the request's outcome (never rejects). */
  readonly outcome: Promise<HeldOutcome>;
  readonly settle: (outcome: HeldOutcome) => void;
}

export class HeldAnswers {
  private readonly entries = new Map<number, HeldAnswer>();

  /**
   * The peer's hold of our reply to its request `seq`: keep the result for `count`
   * dependents. False when refused because MAX_HELD_ANSWERS are held (its pipelined
   * requests are then answered with an error naming the missing hold).
   */
  hold(seq: number, count: number): boolean {
    if (count === 0 || this.entries.has(seq)) return true;
    if (this.entries.size >= MAX_HELD_ANSWERS) return false;
    let settle!: HeldAnswer["settle"];
    const outcome = new Promise<HeldOutcome>((resolve) => (settle = resolve));
    this.entries.set(seq, { remaining: count, settled: false, outcome, settle });
    return true;
  }

  /** Request `seq` finished: its held result (if the peer asked for a hold) goes to its dependents. */
  settle(seq: number | bigint, outcome: HeldOutcome): void {
    const entry = typeof seq === "number" ? this.entries.get(seq) : undefined;
    if (!entry || entry.settled) return;
    entry.settled = true;
    entry.settle(outcome);
    if (entry.remaining <= 0) this.entries.delete(seq as number);
  }

  /** One announced dependent of `base` arrived (or was dropped): the entry goes when none is left. */
  take(base: number): HeldAnswer | undefined {
    const entry = this.entries.get(base);
    if (!entry) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0 && entry.settled) this.entries.delete(base);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
