// The serving side of every RPyC 5.3 request (protocol.py's `_handle_*`), on JavaScript
// objects. Each handler gets the already-unboxed argument tuple and returns the value to
// box into the reply (or a promise of it); a throw becomes an exception reply. Objects we
// hold that are themselves netrefs (proxy chaining) get the request forwarded to their
// own connection, as RPyC does.

import {
  accessAttribute,
  attributeName,
  boundMethods,
  checkAttribute,
  findOwner,
  getAttribute,
  FORBIDDEN_NAMES,
  isLanguageRoot,
  isReservedName,
} from "./access.js";
import type { ProtocolConfig } from "../connection/config.js";
import * as C from "../wire/consts.js";
import { AttributeError, KeyError, StopIteration, ValueError } from "../errors/python-exceptions.js";
import { applyKeywords } from "./function-params.js";
import { dispatchCall, dispatchedMethods, dispatchGetattr, dispatchMethodNames, dispatchNames, tableFor } from "../compiled/dispatch.js";
import { isIdPack, objectHash, type IdPack } from "../netref/id-pack.js";
import { netrefState } from "../netref/state.js";
import type { LocalObjectTable } from "../netref/object-table.js";
import { emulatedDunder, emulatedDunderNames } from "./pyproto.js";
import { pyRepr } from "../wire/pyrepr.js";
import { NotImplemented, Slice, type PyValue } from "../wire/values.js";

/** What handlers need from their connection. */
export interface HandlerHost {
  readonly config: ProtocolConfig;
  readonly localRoot: object;
  readonly objects: LocalObjectTable;
  /** The id_pack under which `obj` was sent to the peer. */
  idPackOf(obj: object): IdPack;
  /** The peer holds compiled schemas (it offered the native codec): dispatch tables encode results for it. */
  readonly peerHasSchemas: boolean;
  /** The classes whose schemas it holds. */
  readonly peerSchemaClasses: ReadonlySet<string>;
}

/**
 * A peer with the compiled schema of this object's class sends its plain data by value, in
 * the schema's encoding, which only the class's dispatch table reads: without the table the
 * service would get tuples where it declared objects. Refused before anything runs.
 */
function refuseWithoutTable(host: HandlerHost, obj: object): void {
  if (host.peerSchemaClasses.size === 0) return;
  const className = (obj as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof className !== "string" || !host.peerSchemaClasses.has(className)) return;
  throw new TypeError(
    `this server has no dispatch table for ${className}, and the client (rpyc-gen's stub) sends its plain data by value, which only the table reads: serve it with { dispatch: ${className}Dispatch }`,
  );
}

type Handler = (host: HandlerHost, args: readonly unknown[]) => unknown;

interface HandlerSpec {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly run: Handler;
}

function asObject(value: unknown, what: string): object {
  if ((typeof value === "object" && value !== null) || typeof value === "function") return value;
  throw new TypeError(`${what} must be a remote object reference, got ${pyRepr(value)}`);
}

function typeName(obj: object): string {
  if (typeof obj === "function") return boundMethods.has(obj) ? "method" : "function";
  return Object.getPrototypeOf(obj)?.constructor?.name ?? "object";
}

/** Functions already told apart (their source text is read once, not per call). */
const classFlags = new WeakMap<Function, boolean>();

function isClass(fn: Function): boolean {
  let flag = classFlags.get(fn);
  if (flag === undefined) classFlags.set(fn, (flag = /^class[\s{]/.test(Function.prototype.toString.call(fn))));
  return flag;
}

/** The (name, value) keyword pairs of CALL/CALLATTR. */
function keywordPairs(kwargs: unknown): [string, unknown][] {
  if (kwargs === undefined || kwargs === null) return [];
  if (!Array.isArray(kwargs)) throw new TypeError("kwargs must be a tuple of (name, value) pairs");
  return kwargs.map((pair: unknown) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") {
      throw new TypeError("kwargs must be a tuple of (name, value) pairs");
    }
    return [pair[0], pair[1]] as [string, unknown];
  });
}

function positionalArgs(args: unknown): unknown[] {
  if (!Array.isArray(args)) throw new TypeError("call arguments must be a tuple");
  return args;
}

/** Python's `obj(*args, **kwargs)` on a served object. */
export function callObject(obj: unknown, args: readonly unknown[], keywords: readonly [string, unknown][]): unknown {
  const state = netrefState(obj);
  if (state) return state.owner.request(C.HANDLE_CALL, [obj, args, keywords]);
  if (typeof obj === "function") {
    const compiled = dispatchedMethods.get(obj);
    if (compiled) return dispatchCall(compiled.table, compiled.service, compiled.name, args, keywords, "", compiled.compiledPeer);
    const bound = boundMethods.get(obj);
    const fn = bound?.fn ?? obj;
    const positional = applyKeywords(fn, args, keywords);
    if (isClass(fn)) return Reflect.construct(fn, positional);
    return Reflect.apply(fn, bound?.self, positional);
  }
  const target = asObject(obj, "call target");
  const call = findOwner(target, "__call__") ? Reflect.get(target, "__call__") : undefined;
  if (typeof call === "function") return Reflect.apply(call, target, applyKeywords(call, args, keywords));
  throw new TypeError(`'${typeName(target)}' object is not callable`);
}

/** CALLATTR without binding a throwaway method: resolve with the access rules, then call. */
function callAttribute(host: HandlerHost, obj: object, rawName: unknown, args: readonly unknown[], keywords: [string, unknown][]): unknown {
  const state = netrefState(obj);
  if (state) return state.owner.request(C.HANDLE_CALLATTR, [obj, attributeName(rawName), args, keywords]);
  const name = attributeName(rawName);
  const table = tableFor(host.config.dispatch, obj);
  if (table) return dispatchCall(table, obj, name, args, keywords, host.config.exposed_prefix, host.peerHasSchemas);
  refuseWithoutTable(host, obj);
  if (findOwner(obj, "_rpyc_getattr") === undefined && !isReservedName(name)) {
    const resolved = checkAttribute(obj, name, "allow_getattr", host.config);
    if (findOwner(obj, resolved) !== undefined) {
      const method: unknown = Reflect.get(obj, resolved, obj);
      if (typeof method === "function" && boundMethods.get(method) === undefined) {
        return Reflect.apply(method, obj, applyKeywords(method, args, keywords));
      }
      return callObject(method, args, keywords);
    }
    return callObject(getAttribute(obj, resolved), args, keywords);
  }
  return callObject(accessAttribute(obj, name, "allow_getattr", host.config), args, keywords);
}

/** A user-defined dunder method (`__repr__`, `__hash__`, ...) on a served object, if any. */
function ownMethod(obj: object, name: string): Function | undefined {
  if (findOwner(obj, name) === undefined) return undefined;
  const value: unknown = Reflect.get(obj, name, obj);
  return typeof value === "function" ? value : undefined;
}

function defaultRepr(host: HandlerHost, obj: object): string {
  const [namePack, , instanceId] = host.idPackOf(obj);
  if (typeof obj === "function" && !isClass(obj)) return `<${typeName(obj)} ${obj.name || "<anonymous>"}>`;
  if (instanceId === 0) return `<class '${namePack}'>`;
  return `<${namePack} object at 0x${instanceId.toString(16)}>`;
}

/** Every name on the object's own chain (not JavaScript's roots), plus emulated dunders. */
function attributeNames(obj: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = obj; o !== null && !isLanguageRoot(o); o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) if (!FORBIDDEN_NAMES.has(key)) names.add(key);
  }
  for (const name of emulatedDunderNames(obj)) names.add(name);
  return [...names].sort();
}

/** INSPECT's answer: the methods a Python netref class should get, (name, doc) pairs. */
function methodList(obj: object): [string, null][] {
  const names = new Set<string>();
  for (let o: object | null = obj; o !== null && !isLanguageRoot(o); o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (FORBIDDEN_NAMES.has(key)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, key);
      if (descriptor && "value" in descriptor && typeof descriptor.value === "function") names.add(key);
    }
  }
  for (const name of emulatedDunderNames(obj)) names.add(name);
  return [...names].map((name) => [name, null]);
}

function count(value: unknown, what: string): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "bigint") return Number(value);
  throw new TypeError(`${what} must be an int, got ${pyRepr(value)}`);
}

const spec = (name: string, minArgs: number, maxArgs: number, run: Handler): HandlerSpec => ({ name, minArgs, maxArgs, run });

/** Handler code -> implementation; CLOSE is handled by the connection itself. */
export const HANDLERS: ReadonlyMap<number, HandlerSpec> = new Map<number, HandlerSpec>([
  [C.HANDLE_PING, spec("ping", 1, 1, (_h, [data]) => data)],
  [C.HANDLE_GETROOT, spec("getroot", 0, 0, (h) => h.localRoot)],
  [
    C.HANDLE_GETATTR,
    spec("getattr", 2, 2, (h, [obj, name]) => {
      const target = asObject(obj, "getattr target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_GETATTR, [target, attributeName(name)]);
      const table = tableFor(h.config.dispatch, target);
      if (table) return dispatchGetattr(table, target, attributeName(name), h.config.exposed_prefix, h.peerHasSchemas);
      refuseWithoutTable(h, target);
      return accessAttribute(target, name, "allow_getattr", h.config);
    }),
  ],
  [
    C.HANDLE_SETATTR,
    spec("setattr", 3, 3, (h, [obj, name, value]) => {
      const target = asObject(obj, "setattr target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_SETATTR, [target, attributeName(name), value]);
      if (tableFor(h.config.dispatch, target)) throw new AttributeError("access denied");
      accessAttribute(target, name, "allow_setattr", h.config, value);
      return null;
    }),
  ],
  [
    C.HANDLE_DELATTR,
    spec("delattr", 2, 2, (h, [obj, name]) => {
      const target = asObject(obj, "delattr target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_DELATTR, [target, attributeName(name)]);
      if (tableFor(h.config.dispatch, target)) throw new AttributeError("access denied");
      accessAttribute(target, name, "allow_delattr", h.config);
      return null;
    }),
  ],
  [C.HANDLE_CALL, spec("call", 2, 3, (_h, [obj, args, kwargs]) => callObject(obj, positionalArgs(args), keywordPairs(kwargs)))],
  [
    C.HANDLE_CALLATTR,
    spec("callattr", 3, 4, (h, [obj, name, args, kwargs]) =>
      callAttribute(h, asObject(obj, "callattr target"), name, positionalArgs(args), keywordPairs(kwargs)),
    ),
  ],
  [
    C.HANDLE_REPR,
    spec("repr", 1, 1, (h, [obj]) => {
      if (typeof obj !== "object" && typeof obj !== "function") return pyRepr(obj);
      if (obj === null) return "None";
      const state = netrefState(obj);
      if (state) return state.owner.request(C.HANDLE_REPR, [obj]);
      const repr = ownMethod(obj, "__repr__");
      return repr ? repr.call(obj) : defaultRepr(h, obj);
    }),
  ],
  [
    C.HANDLE_STR,
    spec("str", 1, 1, (h, [obj]) => {
      if (typeof obj === "string") return obj;
      if ((typeof obj !== "object" && typeof obj !== "function") || obj === null) return pyRepr(obj);
      const state = netrefState(obj);
      if (state) return state.owner.request(C.HANDLE_STR, [obj]);
      const str = ownMethod(obj, "__str__") ?? ownMethod(obj, "toString");
      if (str) return String(str.call(obj));
      const repr = ownMethod(obj, "__repr__");
      return repr ? repr.call(obj) : defaultRepr(h, obj);
    }),
  ],
  [
    C.HANDLE_CMP,
    spec("cmp", 2, 3, (h, [obj, other, op = "__cmp__"]) => {
      const target = asObject(obj, "cmp target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_CMP, [target, other, op]);
      const name = checkAttribute(target, attributeName(op), "allow_getattr", h.config);
      const method = ownMethod(target, name) ?? emulatedDunder(target, name);
      if (method) return method.call(target, other);
      if (["__lt__", "__le__", "__gt__", "__ge__"].includes(name)) return NotImplemented;
      throw new AttributeError(`type object '${typeName(target)}' has no attribute ${pyRepr(name)}`);
    }),
  ],
  [
    C.HANDLE_HASH,
    spec("hash", 1, 1, (_h, [obj]) => {
      const target = asObject(obj, "hash target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_HASH, [target]);
      const hash = ownMethod(target, "__hash__");
      return hash ? hash.call(target) : objectHash(target);
    }),
  ],
  [
    C.HANDLE_DIR,
    spec("dir", 1, 1, (h, [obj]) => {
      const target = asObject(obj, "dir target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_DIR, [target]);
      const table = tableFor(h.config.dispatch, target);
      return table ? dispatchNames(table, h.config.exposed_prefix) : attributeNames(target);
    }),
  ],
  [
    C.HANDLE_PICKLE,
    spec("pickle", 2, 2, (h) => {
      if (!h.config.allow_pickle) throw new ValueError("pickling is disabled");
      throw new TypeError("JavaScript objects cannot be pickled");
    }),
  ],
  [
    C.HANDLE_DEL,
    spec("del", 1, 2, (h, [obj, n = 1]) => {
      h.objects.release(h.idPackOf(asObject(obj, "del target")), count(n, "del count"));
      return null;
    }),
  ],
  [
    C.HANDLE_INSPECT,
    spec("inspect", 1, 1, (h, [idPack]) => {
      if (!isIdPack(idPack)) throw new TypeError(`inspect needs an id_pack, got ${pyRepr(idPack)}`);
      const obj = h.objects.get(idPack);
      const state = netrefState(obj);
      if (state) return state.owner.request(C.HANDLE_INSPECT, [state.idPack]);
      const table = tableFor(h.config.dispatch, obj);
      return table ? dispatchMethodNames(table, h.config.exposed_prefix).map((name) => [name, null]) : methodList(obj);
    }),
  ],
  [
    C.HANDLE_BUFFITER,
    spec("buffiter", 2, 2, async (_h, [obj, n]) => {
      const target = asObject(obj, "buffiter target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_BUFFITER, [target, n]);
      const next = ownMethod(target, "__next__") ?? emulatedDunder(target, "__next__");
      if (!next) throw new TypeError(`'${typeName(target)}' object is not an iterator`);
      const items: unknown[] = [];
      const limit = count(n, "buffiter count");
      try {
        while (items.length < limit) items.push(await next.call(target));
      } catch (err) {
        if (!(err instanceof StopIteration)) throw err;
      }
      return items;
    }),
  ],
  [
    C.HANDLE_OLDSLICING,
    spec("oldslicing", 6, 6, async (h, [obj, attempt, fallback, start, stop, args]) => {
      const target = asObject(obj, "slicing target");
      const extra = positionalArgs(args);
      try {
        return await callAttribute(h, target, attempt, [new Slice(start as PyValue, stop as PyValue, null), ...extra], []);
      } catch {
        return callAttribute(h, target, fallback, [start, stop ?? Number.MAX_SAFE_INTEGER, ...extra], []);
      }
    }),
  ],
  [
    C.HANDLE_CTXEXIT,
    spec("ctxexit", 2, 2, (h, [obj, exc]) => {
      const target = asObject(obj, "ctxexit target");
      const exit = accessAttribute(target, "__exit__", "allow_getattr", h.config);
      return exc ? callObject(exit, [exc, exc, null], []) : callObject(exit, [null, null, null], []);
    }),
  ],
  [
    C.HANDLE_INSTANCECHECK,
    spec("instancecheck", 2, 2, (h, [obj, other]) => {
      const target = asObject(obj, "instancecheck target");
      const state = netrefState(target);
      if (state) return state.owner.request(C.HANDLE_INSTANCECHECK, [target, other]);
      if (typeof target !== "function" || !isIdPack(other) || !h.objects.has(other)) return false;
      return h.objects.get(other) instanceof target;
    }),
  ],
]);

/** Looks a handler up, refusing unknown codes the way Python does (KeyError(code)). */
export function handlerFor(code: unknown): HandlerSpec {
  const handler = typeof code === "number" ? HANDLERS.get(code) : undefined;
  if (!handler) throw new KeyError(code as PyValue);
  return handler;
}
