// Promise pipelining: a call made through a netref returns a Promise on which members can be
// used before it resolves (`root.get_db().query(x)`). With the native codec, such a use goes
// out at once as a request whose target is "the result of request N" (the peer holds that
// result for it), so the whole chain costs one round trip; otherwise (brine, a Python peer,
// a result known to be plain data, a use made after request N left) it waits for the result
// and then makes an ordinary call. Errors of request N reach every dependent call.

import { pathRef } from "./path-ref.js";
import { HANDLE_CALLATTR, HANDLE_GETATTR } from "../wire/consts.js";
import { begin, type CallOptions, type NetrefOwner } from "./state.js";
import { callPath, getPath, splitCallArgs } from "./calls.js";
import { Answer, DYNAMIC_RESULT, PIPELINED_ON_VALUE, resultKind } from "./answer.js";
import { decodeResult, encodeArguments } from "../compiled/schema.js";

/** A pipelinable call result: its promise, its answer and what members made on it need. */
interface Pipe {
  readonly promise: Promise<unknown>;
  readonly answer: Answer;
  readonly owner: NetrefOwner;
  readonly options: CallOptions | undefined;
  /** Pipelined uses made so far, by name (created on the first one). */
  members: Map<string, unknown> | undefined;
}

function isPipelinedOnValue(err: unknown): boolean {
  return err instanceof Error && (err.name === PIPELINED_ON_VALUE || (err as { typeName?: unknown }).typeName === PIPELINED_ON_VALUE);
}

/** On a pipelinable promise (the proxy's target): its Pipe. */
const PIPE = Symbol("rpyc.pipeline.pipe");

type PipelinablePromise = Promise<unknown> & { [PIPE]?: Pipe };

/**
 * Names that serialisers and test frameworks probe on any object (JSON.stringify, matchers,
 * React/DOM checks): on a pending result they are absent, never pipelined requests.
 */
const LOCAL_NAMES: ReadonlySet<string> = new Set([
  "toJSON",
  "asymmetricMatch",
  "$$typeof",
  "nodeType",
  "@@__IMMUTABLE_ITERABLE__@@",
  "@@__IMMUTABLE_RECORD__@@",
]);

/** One handler for every pipelinable promise (the Pipe hangs on the target): no closures per call. */
const PIPE_HANDLER: ProxyHandler<PipelinablePromise> = {
  get(target, prop) {
    if (LOCAL_NAMES.has(prop as string)) return undefined;
    if (typeof prop === "symbol" || prop in target) {
      const value: unknown = Reflect.get(target, prop, target);
      // then/catch/finally need the real promise as `this`.
      return prop === "then" || prop === "catch" || prop === "finally" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    }
    const pipe = target[PIPE]!;
    const members = (pipe.members ??= new Map());
    let member = members.get(prop);
    if (member === undefined) members.set(prop, (member = pipelinedRef(pipe, [prop])));
    return member;
  },
};

/** `run(answer)`, then the answer's dependents stop waiting: the request has left by then, or never will. */
async function settleAnswer(run: (answer: Answer) => Promise<unknown>, answer: Answer): Promise<unknown> {
  // A try/finally, not a handler on the promise: an unhandled failed call stays unhandled.
  try {
    return await run(answer);
  } finally {
    answer.left(null);
  }
}

/**
 * Runs `run` (which makes the request, passing `answer` to the owner) and returns its promise,
 * made pipelinable: string members that a Promise does not have are pipelined uses.
 */
export function pipelinable(owner: NetrefOwner, options: CallOptions | undefined, run: (answer: Answer) => Promise<unknown>): Promise<unknown> {
  const answer = new Answer();
  const promise: PipelinablePromise = settleAnswer(run, answer);
  promise[PIPE] = { promise, answer, owner, options, members: undefined };
  return new Proxy(promise, PIPE_HANDLER);
}

/** The Pipe of a pipelinable promise (its proxy answers the symbol from the target). */
function pipeOf(proxy: Promise<unknown>): Pipe {
  return (proxy as PipelinablePromise)[PIPE]!;
}

/** `p.a.b`: callable (a pipelined call) and awaitable (a pipelined read), like an AttrRef. */
function pipelinedRef(base: Pipe, path: readonly string[]): unknown {
  return pathRef("pipelined", {
    label: () => `<pipelined ${path.join(".")} of a pending call>`,
    read: () => walk(base, path, undefined),
    call: (args) => walk(base, path, args),
    child: (name) => pipelinedRef(base, [...path, name]),
  });
}

function ignore(): void {}

/** Reads path[0..n-2] and calls (args) or reads the last name, each step pipelined on the previous one. */
function walk(base: Pipe, path: readonly string[], args: readonly unknown[] | undefined): Promise<unknown> {
  let current = base;
  for (let i = 0; i < path.length; i++) {
    const last = i === path.length - 1;
    current = step(current, path[i]!, last ? args : undefined);
  }
  return current.promise;
}

/** One pipelined use of `base`'s result: registers now, sends when `base`'s request left. */
function step(base: Pipe, name: string, args: readonly unknown[] | undefined): Pipe {
  const ticket = base.answer.depend();
  // The dependent reports the base's error: the base promise alone need not be handled.
  base.promise.catch(ignore);
  const proxy = pipelinable(base.owner, base.options, async (answer) => {
    const seq = await ticket;
    if (seq !== null) {
      try {
        return await sendPipelined(base, seq, name, args, answer);
      } catch (err) {
        // The held result was plain data: read it locally like the two-round-trip path.
        if (!isPipelinedOnValue(err)) throw err;
      }
    }
    const target = await base.promise;
    return args ? callPath(target, [name], args, base.options, answer) : getPath(target, [name], begin(base.options));
  });
  return { promise: proxy, answer: pipeOf(proxy).answer, owner: base.owner, options: base.options, members: undefined };
}

async function sendPipelined(base: Pipe, seq: number, name: string, args: readonly unknown[] | undefined, answer: Answer): Promise<unknown> {
  const owner = base.owner;
  const request = begin(base.options);
  const schema = base.answer.expects?.schema;
  if (!owner.requestPipelined) throw new TypeError("pipelining is not supported by this connection");
  if (args) {
    const [positional, named] = splitCallArgs(args);
    const method = schema && Object.hasOwn(schema.methods, name) ? schema.methods[name] : undefined;
    let encoded: readonly unknown[] = positional;
    try {
      if (method) encoded = encodeArguments(method, positional, schema!.types, name);
    } catch (err) {
      owner.dropPipelined?.(seq);
      throw err;
    }
    answer.expects = method ? resultKind(owner, method.returns) : DYNAMIC_RESULT;
    const result = await owner.requestPipelined(seq, HANDLE_CALLATTR, [null, name, encoded, named], request, answer);
    return method ? decodeResult(method.returns, result, schema!, `${name}() result`) : result;
  }
  const attribute = schema && Object.hasOwn(schema.attributes, name) ? schema.attributes[name] : undefined;
  answer.expects = attribute ? resultKind(owner, attribute.type) : DYNAMIC_RESULT;
  const value = await owner.requestPipelined(seq, HANDLE_GETATTR, [null, name], request, answer);
  return attribute ? decodeResult(attribute.type, value, schema!, `attribute '${name}'`) : value;
}
