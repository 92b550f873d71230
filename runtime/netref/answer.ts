// The answer of one pipelinable request, as its dependents see it (promise pipelining,
// see pipeline.ts): whether the peer should hold the result, and the held seq once it left.

import type { ServiceSchema, WireType } from "../compiled/schema.js";

/**
 * What a request's result is expected to be, for pipelining: a reference (with the compiled
 * schema of its class when the caller has one), or null when it is plain data (never held:
 * members of plain data are read locally once it arrived).
 */
export type ResultKind = { readonly schema: ServiceSchema | undefined } | null;

/** A result of unknown type: held for dependents (the peer tells when it is plain data after all). */
export const DYNAMIC_RESULT: ResultKind = Object.freeze({ schema: undefined });

/** The error type a peer answers a pipelined request with when the held result is plain data. */
export const PIPELINED_ON_VALUE = "PipelinedOnValue";

/** The ResultKind of a declared result type (`owner`: a NetrefOwner). */
export function resultKind(owner: { schemaOfClass?(className: string): ServiceSchema | undefined }, type: WireType | undefined): ResultKind {
  if (type === undefined || type.kind === "unknown") return DYNAMIC_RESULT;
  if (type.kind === "netref") return { schema: owner.schemaOfClass?.(type.name) };
  return null;
}

/**
 * The answer of one request, as its dependents see it. Contract: a dependent registers with
 * depend() synchronously (when a member is called, or when a member read is awaited) and,
 * if depend() gave it a seq (the request left held), it sends exactly one pipelined request
 * on that seq or calls the owner's dropPipelined(seq): the peer frees the held result when
 * all announced dependents did one or the other.
 */
export class Answer {
  /** Set by whoever sends the request, before it leaves. */
  expects: ResultKind = null;
  /** Dependents registered before the request left: the peer holds the result for this many. */
  dependents = 0;
  /** undefined until the request left; then its seq when held, null when not. */
  private seq: number | null | undefined = undefined;
  private waiters: ((seq: number | null) => void)[] = [];

  /** Whether the request should ask the peer to hold its result. */
  get wanted(): boolean {
    return this.dependents > 0 && this.expects !== null;
  }

  /** Called once as the request leaves (held: its seq) or fails to (null); later calls do nothing. */
  left(seq: number | null): void {
    if (this.seq !== undefined) return;
    this.seq = seq;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake(seq);
  }

  /** Registers a dependent: resolves with the held seq, or null (wait for the result instead). */
  depend(): Promise<number | null> {
    if (this.seq !== undefined) return Promise.resolve(null); // too late: the request left
    this.dependents++;
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
