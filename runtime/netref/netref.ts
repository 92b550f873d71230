// Netrefs: JavaScript Proxies standing for objects that live on the peer.
// `ref.attr` is an AttrRef: awaiting it reads the attribute (HANDLE_GETATTR), calling it
// calls the method in one round trip (HANDLE_CALLATTR). `ref(...)` is HANDLE_CALL.
// A netref is never thenable, so awaiting or returning one from an async function never
// sends a remote `then` lookup. Lifetime: every receipt of the id_pack bumps `refcount`;
// when the proxy is garbage collected (FinalizationRegistry) or `release()`d, the owner
// sends one HANDLE_DEL(refcount) and the peer's table drops its entry.
// `withOptions(ref, { timeout, signal })` is the same netref with a per-call deadline and
// cancellation for every call made through it.

import { inspect } from "node:util";
import { pathRef } from "./path-ref.js";
import { HANDLE_CALL, HANDLE_CALLATTR, HANDLE_GETATTR } from "../wire/consts.js";
import { NetrefReleasedError } from "../errors/rpyc-errors.js";
import type { IdPack } from "./id-pack.js";
import { DYNAMIC_RESULT, pipelinable, resultKind, type Answer } from "./pipeline.js";
import { pyRepr } from "../wire/pyrepr.js";
import { decodeValue, encodeArguments, type ServiceSchema } from "../compiled/schema.js";

/** What a netref needs from its connection; implemented by Connection. */
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
  callNative?(state: NetrefState, schema: ServiceSchema, name: string, args: readonly unknown[], options: RequestOptions | undefined): Promise<unknown> | undefined;
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

const STATE = Symbol("rpyc.netref.state");
/** On a netref: its CallOptions (withOptions views) or undefined. */
const OPTIONS = Symbol("rpyc.netref.options");
/** On a netref: the proxy registered with the connection (a view's base). */
const BASE = Symbol("rpyc.netref.base");
/** On an AttrRef: what it refers to. */
const ATTR = Symbol("rpyc.netref.attr");

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

/** `promise`, or the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** Keyword arguments for a remote call: `ref.f(1, kwargs({ c: 3 }))` is Python's `f(1, c=3)`. */
export class Kwargs<T extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>> {
  constructor(readonly values: T) {}
}

/** Keyword arguments for the call they end; their names and types are kept, so typed stubs check them. */
export function kwargs<const T extends Readonly<Record<string, unknown>>>(values: T): Kwargs<T> {
  return new Kwargs(values);
}

/** Splits a trailing Kwargs off call arguments: [positional tuple, (name, value) pairs]. */
export function splitCallArgs(args: readonly unknown[]): [unknown[], [string, unknown][]] {
  const last = args[args.length - 1];
  if (last instanceof Kwargs) return [args.slice(0, -1), Object.entries(last.values)];
  return [args as unknown[], []];
}

/** No keyword arguments (shared: never modified). */
const NO_KWARGS: readonly [string, unknown][] = Object.freeze([]) as readonly [string, unknown][];

/** Whether a call passes keyword arguments (a trailing Kwargs). */
function hasKwargs(args: readonly unknown[]): boolean {
  return args.length > 0 && args[args.length - 1] instanceof Kwargs;
}

/** The state behind a netref proxy, or undefined for anything else. */
export function netrefState(value: unknown): NetrefState | undefined {
  if (typeof value !== "function") return undefined;
  return (value as unknown as { [STATE]?: NetrefState })[STATE];
}

export function isNetref(value: unknown): boolean {
  return netrefState(value) !== undefined;
}

function describe(state: NetrefState): string {
  const id = state.idPack ? pyRepr(state.idPack) : "(root, not fetched yet)";
  return `<netref ${id} on ${state.owner.connid}${state.released ? ", released" : ""}>`;
}

function live(state: NetrefState): void {
  if (state.released) throw new NetrefReleasedError(`${describe(state)} was released`);
}

async function ready(state: NetrefState, request?: RequestOptions): Promise<void> {
  live(state);
  request?.signal?.throwIfAborted();
  if (state.idPack === null) await abortable(state.owner.resolveRoot(state), request?.signal);
}

/** Explicit release: sends HANDLE_DEL now instead of waiting for the garbage collector. */
export function releaseState(state: NetrefState): void {
  if (state.released) return;
  state.released = true;
  state.owner.netrefReleased(state);
}

// ---- attribute references ------------------------------------------------------------

/** `ref.name`: awaitable (reads the attribute) and callable (calls the method). */
export interface AttrRef extends PromiseLike<unknown> {
  (...args: unknown[]): Promise<unknown>;
  catch<T = never>(onrejected?: ((reason: unknown) => T | PromiseLike<T>) | null): Promise<unknown>;
  finally(onfinally?: (() => void) | null): Promise<unknown>;
  readonly [name: string]: unknown;
}

export async function getPath(target: unknown, path: readonly string[], request: RequestOptions | undefined): Promise<unknown> {
  let current = target;
  for (const name of path) {
    const state = netrefState(current);
    if (state) {
      await ready(state, request);
      const value = await state.owner.request(HANDLE_GETATTR, [current, name], request);
      const schema = state.owner.schemaFor(state);
      const attribute = schema && Object.hasOwn(schema.attributes, name) ? schema.attributes[name] : undefined;
      current = attribute ? decodeValue(attribute.type, value, schema!.types, `attribute '${name}'`, 0, null) : value;
    } else {
      // A by-value intermediate (a tuple or a string): ordinary local property access.
      current = (current as Record<string, unknown>)[name];
    }
  }
  return current;
}

/**
 * Calls `target.path(...args)`. With `answer` (the call's result is pipelinable), the final
 * request carries it; the call waits one more microtask before sending, so that uses of the
 * result registered by `await result.member` (whose `then` runs a microtask later) count.
 */
export async function callPath(target: unknown, path: readonly string[], args: readonly unknown[], options: CallOptions | undefined, answer?: Answer): Promise<unknown> {
  const request = begin(options);
  const receiver = path.length > 1 ? await getPath(target, path.slice(0, -1), request) : target;
  const name = path[path.length - 1]!;
  const state = netrefState(receiver);
  if (!state) {
    const method = (receiver as Record<string, unknown>)[name];
    if (typeof method !== "function") throw new TypeError(`${pyRepr(name)} is not callable`);
    return method.apply(receiver, args);
  }
  // Usable and fetched, no signal: nothing to wait for (ready() would cost a promise).
  if (state.released || state.idPack === null || request?.signal !== undefined) await ready(state, request);
  else if (answer) await undefined;
  // Then one more microtask, so that uses registered by `await result.member` (its `then`
  // runs a microtask after the member was read) count as dependents before the request leaves.
  if (answer) await undefined;
  let positional = args as unknown[];
  let named = NO_KWARGS as [string, unknown][];
  if (hasKwargs(args)) [positional, named] = splitCallArgs(args);
  const schema = state.owner.schemaFor(state);
  const method = schema && Object.hasOwn(schema.methods, name) ? schema.methods[name] : undefined;
  if (answer) answer.expects = method ? resultKind(state.owner, method.returns) : DYNAMIC_RESULT;
  if (!method) return state.owner.request(HANDLE_CALLATTR, [receiver, name, positional, named], request, answer);
  if (named.length === 0) {
    const native = state.owner.callNative?.(state, schema!, name, positional, request);
    if (native) return native;
  }
  // A compiled service: encode by its schema, decode the result back into its declared type.
  const encoded = encodeArguments(method, positional, schema!.types, name);
  const result = await state.owner.request(HANDLE_CALLATTR, [receiver, name, encoded, named], request, answer);
  return decodeValue(method.returns, result, schema!.types, `${name}() result`, 0, null);
}

function makeAttrRef(netref: unknown, path: readonly string[], options: CallOptions | undefined): AttrRef {
  return pathRef("attribute", {
    label: () => `<attribute ${path.join(".")} of ${describe(netrefState(netref)!)}>`,
    read: () => getPath(netref, path, begin(options)),
    call: (args) => pipelinable(netrefState(netref)!.owner, options, (answer) => callPath(netref, path, args, options, answer)),
    child: (name) => makeAttrRef(netref, [...path, name], options),
    hidden: { key: ATTR, value: { netref, path, options } },
    assignHint: "; use await setattr(ref, name, value)",
  }) as AttrRef;
}

// ---- the netref proxy ----------------------------------------------------------------
//
// A peer may send hundreds of thousands of references in one message, so a netref is kept
// small: a fresh target function carrying one NetrefRecord, and a Proxy over it whose
// handler is shared by every netref (its traps find their netref's data on the target).
// No closure is made per netref; attribute references are cached lazily.

/** On a netref's proxy target: its NetrefRecord. */
const RECORD = Symbol("rpyc.netref.record");

/** What the shared handler's traps need of one netref; only its target refers to it. */
interface NetrefRecord {
  readonly state: NetrefState;
  readonly iterate: (netref: unknown) => AsyncIterator<unknown>;
  readonly options: CallOptions | undefined;
  /** A withOptions() view's base (held strongly: the base is not collected while the view lives). */
  readonly base: unknown;
  /** The proxy (set right after it is made). */
  proxy: unknown;
  /**
   * Attribute references by name, made on first access. AttrRefs point back at the proxy,
   * so they are cached here (reachable only from the proxy, through its target) and never
   * in `state`, which the FinalizationRegistry holds strongly.
   */
  attrs: Map<string, AttrRef> | undefined;
}

type NetrefTarget = (() => void) & { [RECORD]: NetrefRecord };

/**
 * util.inspect() of a netref: it inspects a Proxy's target (calling this with the proxy as
 * `this`; with `showProxy`, the target itself). Shared by every netref's target.
 */
function inspectNetref(this: unknown): string {
  const state = netrefState(this) ?? (typeof this === "function" ? (this as Partial<NetrefTarget>)[RECORD]?.state : undefined);
  return state ? describe(state) : "<netref>";
}

/** The property every target carries (read-only and non-configurable, as a per-netref one was). */
const INSPECT_PROPERTY: PropertyDescriptor = Object.freeze({ value: inspectNetref });

/** A fresh, callable proxy target (an anonymous function expression: no per-netref name). */
function newTarget(): NetrefTarget {
  return function (): void {} as NetrefTarget;
}

const NETREF_HANDLER: ProxyHandler<NetrefTarget> = {
  apply(target, _this, args: unknown[]) {
    const { state, options, proxy } = target[RECORD];
    return pipelinable(state.owner, options, async (answer) => {
      const request = begin(options);
      if (state.released || state.idPack === null || request?.signal !== undefined) await ready(state, request);
      else await undefined;
      await undefined; // see callPath: let `await result.member` register first
      let positional = args;
      let named = NO_KWARGS as [string, unknown][];
      if (hasKwargs(args)) [positional, named] = splitCallArgs(args);
      answer.expects = DYNAMIC_RESULT;
      return state.owner.request(HANDLE_CALL, [proxy, positional, named], request, answer);
    });
  },
  get(target, prop) {
    const record = target[RECORD];
    if (typeof prop === "symbol") {
      switch (prop) {
        case STATE:
          return record.state;
        case OPTIONS:
          return record.options;
        case BASE:
          return record.base ?? record.proxy;
        case Symbol.asyncIterator:
          return iteratorOf(record);
        case Symbol.dispose:
        case Symbol.asyncDispose:
          return disposerOf(record.state);
        case Symbol.toPrimitive:
          return describerOf(record.state);
        case inspect.custom:
          // The target's own read-only, non-configurable property: a proxy must report it as is.
          return inspectNetref;
        case Symbol.toStringTag:
          return "Netref";
        default:
          return undefined;
      }
    }
    // Never thenable: `await ref` and `return ref` from async code must stay local.
    if (prop === "then" || prop === "toJSON") return undefined;
    if (prop === "toString") return describerOf(record.state);
    let attrs = record.attrs;
    if (attrs === undefined) record.attrs = attrs = new Map<string, AttrRef>();
    let ref = attrs.get(prop);
    if (!ref) attrs.set(prop, (ref = makeAttrRef(record.proxy, [prop], record.options)));
    return ref;
  },
  has(_target, prop) {
    return prop === STATE;
  },
  set(target) {
    throw new TypeError(`cannot assign to ${describe(target[RECORD].state)}; use await setattr(ref, name, value)`);
  },
  deleteProperty(target) {
    throw new TypeError(`cannot delete from ${describe(target[RECORD].state)}; use await delattr(ref, name)`);
  },
  defineProperty() {
    return false;
  },
  ownKeys() {
    return [];
  },
  getOwnPropertyDescriptor() {
    return undefined;
  },
};

// The functions a netref's symbol members return (a fresh one per access, as before).
function iteratorOf(record: NetrefRecord): () => AsyncIterator<unknown> {
  const { iterate, proxy } = record;
  return () => iterate(proxy);
}

function disposerOf(state: NetrefState): () => void {
  return () => releaseState(state);
}

function describerOf(state: NetrefState): () => string {
  return () => describe(state);
}

/** Creates the proxy for `state`; `iterate` implements `for await` over the remote object. */
export function createNetref(state: NetrefState, iterate: (netref: unknown) => AsyncIterator<unknown>): unknown {
  return buildNetref(state, iterate, undefined, undefined);
}

/**
 * A netref proxy. A withOptions() view shares its base's state (so it boxes as the same
 * reference) and holds the base strongly, so the base is not collected (and DEL'd) while
 * the view is in use.
 */
function buildNetref(
  state: NetrefState,
  iterate: (netref: unknown) => AsyncIterator<unknown>,
  options: CallOptions | undefined,
  base: unknown,
): unknown {
  const target = newTarget();
  Object.defineProperty(target, inspect.custom, INSPECT_PROPERTY);
  const record: NetrefRecord = { state, iterate, options, base, proxy: undefined, attrs: undefined };
  target[RECORD] = record;
  return (record.proxy = new Proxy(target, NETREF_HANDLER));
}

/** Throws NetrefReleasedError if the netref was released; resolves a lazy root. */
export const ensureUsable = ready;

/** The request options of a call starting now on `ref` (a withOptions() view), else undefined. */
export function requestOptionsOf(ref: unknown): RequestOptions | undefined {
  const state = netrefState(ref);
  return state ? begin((ref as { [OPTIONS]?: CallOptions })[OPTIONS]) : undefined;
}

function checkCallOptions(options: CallOptions): void {
  const { timeout, signal } = options;
  if (timeout !== undefined && timeout !== null && !(typeof timeout === "number" && timeout > 0 && timeout < 2 ** 31 / 1000)) {
    throw new RangeError("withOptions(): timeout must be a positive number of seconds or null");
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("withOptions(): signal must be an AbortSignal");
}

/**
 * The same netref (or attribute of one) with per-call options: every call or attribute read
 * made through the result gets `options.timeout` seconds (instead of sync_request_timeout)
 * and is cancelled when `options.signal` aborts. The result is a netref like `ref` (same
 * type; it can be passed to the peer), and options of a nested withOptions() merge, the
 * inner ones winning. `for await` over it ignores the options.
 *
 *     const ac = new AbortController();
 *     const root = withOptions(conn.root, { timeout: 0.5, signal: ac.signal });
 *     await root.slow_query("x");               // AsyncResultTimeout after 0.5 s
 *     await withOptions(conn.root.other, { signal })(1, 2);
 */
export function withOptions<T>(ref: T, options: CallOptions): T {
  checkCallOptions(options);
  const state = netrefState(ref);
  if (state) {
    const view = ref as unknown as { [BASE]: unknown; [OPTIONS]?: CallOptions };
    const base = view[BASE] as AsyncIterable<unknown>;
    return buildNetref(state, () => base[Symbol.asyncIterator](), { ...view[OPTIONS], ...options }, base) as T;
  }
  const attr = typeof ref === "function" ? (ref as unknown as { [ATTR]?: { netref: unknown; path: readonly string[]; options: CallOptions | undefined } })[ATTR] : undefined;
  if (attr) return makeAttrRef(attr.netref, attr.path, { ...attr.options, ...options }) as unknown as T;
  throw new TypeError("withOptions() expects a netref or an attribute of one (conn.root, ref.method)");
}
