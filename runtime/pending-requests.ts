// Our requests awaiting replies, by seq, with their deadlines. A deadline costs no timer of
// its own: one timer per connection is armed for the earliest deadline (requests mostly share
// sync_request_timeout, so later ones never re-arm it), and when it fires the expired requests
// are handed to the connection and the timer is armed for the rest.

import type { NativeMethod } from "./codec/native.js";
import type { RequestEvent } from "./observe.js";

/** setTimeout's largest delay: a timeout beyond it (about 24.8 days) is no limit. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

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

/** The pending requests of one connection; `expired` is called for each whose deadline passed (it must remove it). */
export class PendingRequests {
  private readonly bySeq = new Map<number, Pending>();
  /** Internal requests among them (not the user's: not in stats or limits). */
  internal = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now()); Infinity: not armed. */
  private sweepAt = Infinity;

  constructor(private readonly expired: (seq: number, pending: Pending) => void) {}

  /** The user's requests awaiting replies. */
  get userCount(): number {
    return this.bySeq.size - this.internal;
  }

  get size(): number {
    return this.bySeq.size;
  }

  add(seq: number, pending: Pending): void {
    this.bySeq.set(seq, pending);
    if (pending.internal) this.internal++;
    if (pending.deadline < this.sweepAt) this.arm(pending.deadline);
  }

  get(seq: number): Pending | undefined {
    return this.bySeq.get(seq);
  }

  /** Removes request `seq` (answered or failed). */
  delete(seq: number, pending: Pending): void {
    this.bySeq.delete(seq);
    if (pending.internal) this.internal--;
  }

  /** Removes every request and stops the timer; returns them. */
  takeAll(): Pending[] {
    const all = [...this.bySeq.values()];
    this.bySeq.clear();
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
    for (const entry of this.bySeq) {
      if (entry[1].deadline <= now) expired.push(entry);
      else if (entry[1].deadline < next) next = entry[1].deadline;
    }
    for (const [seq, pending] of expired) if (this.bySeq.get(seq) === pending) this.expired(seq, pending);
    if (next !== Infinity && next < this.sweepAt) this.arm(next);
  };
}
