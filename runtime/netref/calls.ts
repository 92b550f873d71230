// The request path of netref calls: reading an attribute path (getPath) and calling a
// method (callPath), with keyword arguments, per-call options, compiled schemas (encode,
// decode, the native codec) and the pipelining Answer. No Proxy here: netref.ts (the
// Proxy) and pipeline.ts (pipelinable results) both build on these.

import { HANDLE_CALLATTR, HANDLE_GETATTR } from "../wire/consts.js";
import { NetrefReleasedError } from "../errors/rpyc-errors.js";
import { pyRepr } from "../wire/pyrepr.js";
import { decodeResult, encodeArguments } from "../compiled/schema.js";
import { DYNAMIC_RESULT, resultKind, type Answer } from "./answer.js";
import { begin, netrefState, type CallOptions, type NetrefState, type RequestOptions } from "./state.js";

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
export const NO_KWARGS: readonly [string, unknown][] = Object.freeze([]) as readonly [string, unknown][];

/** Whether a call passes keyword arguments (a trailing Kwargs). */
export function hasKwargs(args: readonly unknown[]): boolean {
  return args.length > 0 && args[args.length - 1] instanceof Kwargs;
}

export function describe(state: NetrefState): string {
  const id = state.idPack ? pyRepr(state.idPack) : "(root, not fetched yet)";
  return `<netref ${id} on ${state.owner.connid}${state.released ? ", released" : ""}>`;
}

function live(state: NetrefState): void {
  if (state.released) throw new NetrefReleasedError(`${describe(state)} was released`);
}

/** Throws NetrefReleasedError if the netref was released; resolves a lazy root. */
export async function ready(state: NetrefState, request?: RequestOptions): Promise<void> {
  live(state);
  request?.signal?.throwIfAborted();
  if (state.idPack === null) await abortable(state.owner.resolveRoot(state), request?.signal);
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
      current = attribute ? decodeResult(attribute.type, value, schema!, `attribute '${name}'`) : value;
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
export async function callPath(
  target: unknown,
  path: readonly string[],
  args: readonly unknown[],
  options: CallOptions | undefined,
  answer?: Answer,
): Promise<unknown> {
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
  return decodeResult(method.returns, result, schema!, `${name}() result`);
}
