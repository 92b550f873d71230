// Netrefs: JavaScript Proxies standing for objects that live on the peer.
// `ref.attr` is an AttrRef: awaiting it reads the attribute (HANDLE_GETATTR), calling it
// calls the method in one round trip (HANDLE_CALLATTR). `ref(...)` is HANDLE_CALL.
// A netref is never thenable, so awaiting or returning one from an async function never
// sends a remote `then` lookup. Lifetime: every receipt of the id_pack bumps `refcount`;
// when the proxy is garbage collected (FinalizationRegistry) or `release()`d, the owner
// sends one HANDLE_DEL(refcount) and the peer's table drops its entry.
// `withOptions(ref, { timeout, signal })` is the same netref with a per-call deadline and
// cancellation for every call made through it.

import { INSPECT_CUSTOM, pathRef } from "./path-ref.js";
import { HANDLE_CALL } from "../wire/consts.js";
import { DYNAMIC_RESULT } from "./answer.js";
import { pipelinable } from "./pipeline.js";
import { STATE } from "./brand.js";
import { begin, netrefState, releaseState, type CallOptions, type NetrefState, type RequestOptions } from "./state.js";
import { callPath, describe, getPath, hasKwargs, NO_KWARGS, ready, splitCallArgs } from "./calls.js";

// For importers of this module outside the runtime's netref/ and connection/ (compiled/wire-types.ts, bench/netref-cost.ts).
export { netrefState, type NetrefOwner, type NetrefState } from "./state.js";
export { isNetref } from "./brand.js";

/** On a netref: its CallOptions (withOptions views) or undefined. */
const OPTIONS = Symbol("rpyc.netref.options");
/** On a netref: the proxy registered with the connection (a view's base). */
const BASE = Symbol("rpyc.netref.base");
/** On an AttrRef: what it refers to. */
const ATTR = Symbol("rpyc.netref.attr");

// ---- attribute references ------------------------------------------------------------

/** `ref.name`: awaitable (reads the attribute) and callable (calls the method). */
export interface AttrRef extends PromiseLike<unknown> {
  (...args: unknown[]): Promise<unknown>;
  catch<T = never>(onrejected?: ((reason: unknown) => T | PromiseLike<T>) | null): Promise<unknown>;
  finally(onfinally?: (() => void) | null): Promise<unknown>;
  readonly [name: string]: unknown;
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
        case INSPECT_CUSTOM:
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
function buildNetref(state: NetrefState, iterate: (netref: unknown) => AsyncIterator<unknown>, options: CallOptions | undefined, base: unknown): unknown {
  const target = newTarget();
  Object.defineProperty(target, INSPECT_CUSTOM, INSPECT_PROPERTY);
  const record: NetrefRecord = { state, iterate, options, base, proxy: undefined, attrs: undefined };
  target[RECORD] = record;
  return (record.proxy = new Proxy(target, NETREF_HANDLER));
}

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
  const attr =
    typeof ref === "function"
      ? (ref as unknown as { [ATTR]?: { netref: unknown; path: readonly string[]; options: CallOptions | undefined } })[ATTR]
      : undefined;
  if (attr) return makeAttrRef(attr.netref, attr.path, { ...attr.options, ...options }) as unknown as T;
  throw new TypeError("withOptions() expects a netref or an attribute of one (conn.root, ref.method)");
}
