// What a netref is made of: its NetrefState (id_pack, refcount, owner), the NetrefOwner
// interface its connection implements, and the options of its calls. No Proxy here:
// connection/ and the call paths (calls.ts) use these without depending on netref.ts.

import type { IdPack } from "./id-pack.js";
import type { Answer } from "./answer.js";
import type { ServiceSchema } from "../compiled/schema.js";
import { STATE } from "./brand.js";

/** What a netref needs from its connection; implemented by the connection's internals (never public). */
export interface NetrefOwner {
  readonly closed: boolean;
  readonly connid: string;
  /**
   * Sends a request and resolves with the unboxed reply (rejects with the remote error).
   * With `answer` (promise pipelining), the request asks the peer to hold its result when
   * `answer.wanted` as it leaves, and calls `answer.left()` with its seq (held) or null.
   */
  request(handler: number, args: readonly unknown[], options?: RequestOptions, answer?: Answer): Promise<unknown>;
  /**
   * Sends a request whose target (args[0], sent as None) is the held result of our request
   * `base` (promise pipelining, native codec only). Takes the dependent's slot on `base`:
   * if the request cannot be sent, the slot is dropped.
   */
  requestPipelined?(base: number, handler: number, args: readonly unknown[], options: RequestOptions | undefined, answer: Answer): Promise<unknown>;
  /** Gives up one announced dependent of the held result of request `base`. */
  dropPipelined?(base: number): void;
  /** The compiled schema of a class (a method's declared netref result), when the connection has one. */
  schemaOfClass?(className: string): ServiceSchema | undefined;
  /** Called once per netref when it is released or collected: sends HANDLE_DEL(refcount). */
  netrefReleased(state: NetrefState): void;
  /** Resolves the root netref's id_pack (lazy GETROOT). */
  resolveRoot(state: NetrefState): Promise<void>;
  /** The compiled schema of the netref's class, when the connection has one (rpyc-gen stubs). */
  schemaFor(state: NetrefState): ServiceSchema | undefined;
  /**
   * Calls a compiled method with the native codec, when both peers agreed on it and this
   * call can use it; resolves with the decoded result. Undefined: use brine.
   */
  callNative?(
    state: NetrefState,
    schema: ServiceSchema,
    name: string,
    args: readonly unknown[],
    options: RequestOptions | undefined,
  ): Promise<unknown> | undefined;
}

/** Book-keeping of one netref; shared by the proxy and the finalization registry. */
export interface NetrefState {
  readonly owner: NetrefOwner;
  /** Null only for a root netref whose GETROOT has not completed yet. */
  idPack: IdPack | null;
  /** How many times the peer sent us this id_pack while this proxy lived. */
  refcount: number;
  released: boolean;
}

/** Options of the calls made through `withOptions(ref, options)`. */
export interface CallOptions {
  /**
   * Seconds each call (with every request it makes: a path `a.b.c()` is several) may take
   * before it rejects with AsyncResultTimeout; null waits forever. Replaces the connection's
   * `sync_request_timeout` for these calls. A lazy root's one-time GETROOT keeps the
   * connection's timeout.
   */
  timeout?: number | null | undefined;
  /**
   * Aborting rejects the calls in flight at once, with `signal.reason` (a DOMException
   * "AbortError" unless given one), and calls made after it without sending anything. RPyC
   * has no cancel message: the peer still runs the call; its reply is dropped (references in
   * it are given back with a DEL).
   */
  signal?: AbortSignal | undefined;
}

/** What a netref passes to its owner with a request. */
export interface RequestOptions {
  /** performance.now() time the request must be answered by; null: never expires; undefined: sync_request_timeout. */
  readonly deadline?: number | null | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Starts a call: its deadline counts from now. */
export function begin(options: CallOptions | undefined): RequestOptions | undefined {
  if (options === undefined) return undefined;
  const { timeout, signal } = options;
  return { deadline: timeout === undefined ? undefined : timeout === null ? null : performance.now() + timeout * 1000, signal };
}

/** The state behind a netref proxy, or undefined for anything else. */
export function netrefState(value: unknown): NetrefState | undefined {
  if (typeof value !== "function") return undefined;
  return (value as unknown as { [STATE]?: NetrefState })[STATE];
}

/** Explicit release: sends HANDLE_DEL now instead of waiting for the garbage collector. */
export function releaseState(state: NetrefState): void {
  if (state.released) return;
  state.released = true;
  state.owner.netrefReleased(state);
}
