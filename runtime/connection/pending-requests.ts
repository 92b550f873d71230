// Our requests awaiting replies, by seq, with their deadlines. A deadline costs no timer of
// its own: one timer per connection is armed for the earliest deadline (requests mostly share
// sync_request_timeout, so later ones never re-arm it), and when it fires the expired requests
// are handed to the connection and the timer is armed for the rest.

import type { NativeMethod } from "../compiled/native.js";
import type { RequestEvent } from "./observe.js";

/** setTimeout's largest delay: a timeout beyond it (about 24.8 days) is no limit. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Seconds to three significant digits, for messages: a deadline's remainder reads 0.494, not 0.49435909100000003. */
export function readableSeconds(seconds: number | null): string {
  return seconds === null ? "no limit" : String(Number(seconds.toPrecision(3)));
}

/**
 * One of our requests awaiting its reply. A plain class with every field set in the
 * constructor (one hidden class, no closures): the hot path allocates this, its promise and
 * nothing else.
 */
export class Pending {
  /** Removes the abort listener of a call with an AbortSignal. */
  unlisten: (() => void) | undefined = undefined;
  /** The "request" event, when someone listened as it was sent. */
  trace: RequestEvent | undefined = undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Settles when the reply (or a local failure) comes. */
  readonly promise: Promise<unknown>;
  constructor(
    readonly seq: number,
    readonly handler: number,
    /** performance.now() by which the reply must have come; Infinity: never expires. */
    readonly deadline: number,
    /** The timeout as given, for the expiry message. */
    readonly timeoutSeconds: number | null,
    /** Sent with the native codec: the reply is this method's native result. */
    readonly native: NativeMethod | undefined,
    /** Our own bookkeeping (the codec offer): not counted in stats, limits or events. */
    readonly internal: boolean,
  ) {
    this.promise = new Promise(captureSettlers);
    this.resolve = capturedResolve!;
    this.reject = capturedReject!;
  }
}

// A promise's settlers, captured by one shared executor instead of a closure per request.
let capturedResolve: ((value: unknown) => void) | undefined;
let capturedReject: ((error: unknown) => void) | undefined;
function captureSettlers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** Initial slots of the ring (grown by doubling when collisions pile up). */
const INITIAL_SLOTS = 64;

/**
 * The pending requests of one connection; `expired` is called for each whose deadline
 * passed (it must remove it). Seqs are handed out in order and mostly answered soon, so a
 * request lives in a ring slot (seq modulo the ring's size): no hashing and no map churn per
 * request. A request whose slot is still taken by an older one (a long call) goes to an
 * overflow map instead; the ring doubles once the overflow holds as many as half its slots.
 */
export class PendingRequests {
  private slots: (Pending | undefined)[] = new Array<Pending | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private readonly overflow = new Map<number, Pending>();
  private count = 0;
  /** Internal requests among them (not the user's: not in stats or limits). */
  internal = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (performance.now()); Infinity: not armed. */
  private sweepAt = Infinity;

  constructor(private readonly expired: (seq: number, pending: Pending) => void) {}

  /** The user's requests awaiting replies. */
  get userCount(): number {
    return this.count - this.internal;
  }

  get size(): number {
    return this.count;
  }

  add(seq: number, pending: Pending): void {
    this.place(seq, pending);
    this.count++;
    if (pending.internal) this.internal++;
    if (pending.deadline < this.sweepAt) this.arm(pending.deadline);
  }

  private place(seq: number, pending: Pending): void {
    const slot = seq & this.mask;
    if (this.slots[slot] === undefined) {
      this.slots[slot] = pending;
      return;
    }
    this.overflow.set(seq, pending);
    if (this.overflow.size * 2 >= this.slots.length) this.grow();
  }

  private grow(): void {
    const entries = this.entries();
    this.slots = new Array<Pending | undefined>(this.slots.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    this.overflow.clear();
    for (const [seq, pending] of entries) {
      const slot = seq & this.mask;
      if (this.slots[slot] === undefined) this.slots[slot] = pending;
      else this.overflow.set(seq, pending);
    }
  }

  get(seq: number): Pending | undefined {
    const pending = this.slots[seq & this.mask];
    if (pending !== undefined && pending.seq === seq) return pending;
    return this.overflow.size === 0 ? undefined : this.overflow.get(seq);
  }

  /** Removes request `seq` (answered or failed); `pending` is what get(seq) returned. */
  delete(seq: number, pending: Pending): void {
    const slot = seq & this.mask;
    if (this.slots[slot] === pending) this.slots[slot] = undefined;
    else if (!this.overflow.delete(seq)) return;
    this.count--;
    if (pending.internal) this.internal--;
  }

  /** Every pending request, as (seq, pending) pairs (a snapshot). */
  private entries(): [number, Pending][] {
    const out: [number, Pending][] = [];
    for (const pending of this.slots) if (pending !== undefined) out.push([pending.seq, pending]);
    for (const entry of this.overflow) out.push(entry);
    return out;
  }

  /** Removes every request and stops the timer; returns them. */
  takeAll(): Pending[] {
    const all = this.entries().map(([, pending]) => pending);
    this.slots.fill(undefined);
    this.overflow.clear();
    this.count = 0;
    this.internal = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sweepAt = Infinity;
    return all;
  }

  private arm(deadline: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.sweepAt = deadline;
    this.timer = setTimeout(this.sweep, Math.max(1, Math.ceil(deadline - performance.now())));
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    this.sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    const expired: [number, Pending][] = [];
    for (const entry of this.entries()) {
      if (entry[1].deadline <= now) expired.push(entry);
      else if (entry[1].deadline < next) next = entry[1].deadline;
    }
    for (const [seq, pending] of expired) if (this.get(seq) === pending) this.expired(seq, pending);
    if (next !== Infinity && next < this.sweepAt) this.arm(next);
  };
}
