// One browser session of the gateway: the objects the page may hold (guards) and what crosses
// from the page to the upstream server and back. Every object the page reaches is a guard
// this module made from the model: a service's guard answers the model's members through a
// dispatch table built from its schema (so arguments are checked, and anything else refused,
// by the same code that serves compiled services); a Python container's guard answers reads
// (`__len__`, `__getitem__`, `__contains__`, iteration); a dataclass's guard its fields; a
// function's guard calls with checked arguments. No upstream netref is ever handed to the
// page: a served netref would forward whatever the page asks (runtime/serve/handlers.ts).
// Guards keep their upstream reference in a private field, which no attribute name reaches.

import type { Connection } from "../connection/connection.js";
import { defineDispatch, type DispatchTable } from "../compiled/dispatch.js";
import {
  decodeValue,
  describeType,
  describeValue,
  encodeValue,
  SchemaError,
  type MethodSchema,
  type ServiceSchema,
  type WireDecl,
  type WireType,
} from "../compiled/schema.js";
import { LimitExceededError } from "../errors/rpyc-errors.js";
import { PythonException, StopIteration } from "../errors/python-exceptions.js";
import { isNetref } from "../netref/brand.js";
import { kwargs } from "../netref/calls.js";
import type { GatewayModel, GatewayService } from "./model.js";

/** The limits of one session (GatewayOptions). */
export interface SessionLimits {
  /** Calls forwarded upstream and not answered yet; one more is refused with LimitExceededError. */
  readonly maxPendingCalls: number;
}

type Types = Readonly<Record<string, WireDecl>>;
const UNKNOWN: WireType = { kind: "unknown" };
const ANY_INDEX: WireType = { kind: "union", members: [{ kind: "number" }, { kind: "bigint" }] };
/** Deepest value the gateway walks; brine refuses deeper ones before they get here. */
const MAX_DEPTH = 64;

/** What the page gets instead of an upstream error: the same Python type and message, the upstream's traceback, none of the gateway's. */
function forPage(err: unknown): unknown {
  if (err instanceof PythonException && err.remoteTraceback !== undefined) {
    const copy = new PythonException(...err.args);
    copy.name = err.name;
    copy.module = err.module;
    copy.message = err.message;
    copy.attrs = { ...err.attrs };
    copy.remoteTraceback = err.remoteTraceback;
    copy.stack = err.remoteTraceback || `${err.name}: ${err.message}`;
    Object.setPrototypeOf(copy, Object.getPrototypeOf(err));
    return copy;
  }
  if (err instanceof Error) err.stack = `${err.name}: ${err.message}`;
  return err;
}

function refusal(path: string, expected: string, value: unknown, why: string): SchemaError {
  return new SchemaError(path, expected, describeValue(value), why);
}

/** The parts of a Python container's netref type: its class and what its items are. */
interface ContainerType {
  readonly container: "list" | "dict" | "set";
  readonly key: WireType;
  readonly item: WireType;
  /** A TypedDict: its declared keys and their value types. */
  readonly fields?: ReadonlyMap<string, WireType>;
}

const CONTAINERS: Readonly<Record<string, ContainerType["container"]>> = {
  "builtins.list": "list",
  "builtins.tuple": "list",
  "builtins.dict": "dict",
  "builtins.set": "set",
  "builtins.frozenset": "set",
  Set: "set",
};

/** Every guard's base: its session, the upstream object it stands for, and the model's name for that object's class. */
export abstract class Guard {
  readonly #session: GatewaySession;
  readonly #upstream: unknown;
  readonly #declared: string;
  constructor(session: GatewaySession, upstream: unknown, declared: string) {
    this.#session = session;
    this.#upstream = upstream;
    this.#declared = declared;
  }
  static session(guard: Guard): GatewaySession {
    return guard.#session;
  }
  /** The upstream object; the root's is a promise until the upstream connection is open (netrefs are never thenable, so awaiting one gives it). */
  static upstream(guard: Guard): unknown {
    return guard.#upstream;
  }
  /** The class the model declares for it: a service's className, a field class's name, "builtins.list", ... */
  static declared(guard: Guard): string {
    return guard.#declared;
  }
}

/** A model service's object on the upstream server (the root, or one a call returned). */
export class ServiceGuard extends Guard {}

/** A Python object the model declares as a class of fields (a dataclass): its fields, read-only. */
class InstanceGuard extends Guard {}

/** A Python list, dict or set on the upstream server: reads only. */
class ContainerGuard extends Guard {
  readonly #type: ContainerType;
  constructor(session: GatewaySession, upstream: unknown, declared: string, type: ContainerType) {
    super(session, upstream, declared);
    this.#type = type;
  }
  static type(guard: ContainerGuard): ContainerType {
    return guard.#type;
  }
}

/** Iteration over a ContainerGuard: `__next__` only, each item guarded. */
class IteratorGuard {
  readonly #next: () => Promise<unknown>;
  constructor(next: () => Promise<unknown>) {
    this.#next = next;
  }
  __next__(): Promise<unknown> {
    return this.#next();
  }
}

const CONTAINER_SCHEMA = (className: string): ServiceSchema => ({
  className,
  name: className.toUpperCase(),
  aliases: [className.toUpperCase()],
  methods: {
    __len__: { params: [], returns: UNKNOWN },
    __getitem__: { params: [{ name: "key", type: UNKNOWN, optional: false, rest: false }], returns: UNKNOWN },
    __contains__: { params: [{ name: "value", type: UNKNOWN, optional: false, rest: false }], returns: UNKNOWN },
    __iter__: { params: [], returns: UNKNOWN },
  },
  attributes: {},
  types: {},
});

const CONTAINER_TABLE: DispatchTable = defineDispatch(
  ContainerGuard,
  CONTAINER_SCHEMA("container"),
  {
    __len__: (guard, _args) => Guard.session(guard as ContainerGuard).containerLength(guard as ContainerGuard),
    __getitem__: (guard, args) => Guard.session(guard as ContainerGuard).containerItem(guard as ContainerGuard, args[0]),
    __contains__: (guard, args) => Guard.session(guard as ContainerGuard).containerHas(guard as ContainerGuard, args[0]),
    __iter__: (guard, _args) => Guard.session(guard as ContainerGuard).containerIterator(guard as ContainerGuard),
  },
  {},
);

type GuardClass<G extends Guard> = new (session: GatewaySession, upstream: unknown) => G;

/**
 * A subclass of `base` for one class of the model, named after it: a dispatch table governs
 * exactly its instances, and a page sees the model's class name (a stub finds its schema by it).
 */
function namedGuardClass<G extends Guard>(base: new (session: GatewaySession, upstream: unknown, declared: string) => G, name: string): GuardClass<G> {
  const guardClass = class extends (base as new (session: GatewaySession, upstream: unknown, declared: string) => Guard) {
    constructor(session: GatewaySession, upstream: unknown) {
      super(session, upstream, name);
    }
  };
  Object.defineProperty(guardClass, "name", { value: name });
  return guardClass as unknown as GuardClass<G>;
}

/**
 * The dispatch tables of one model: one guard class per service and per field class, each
 * answering exactly the model's members (a table governs its class whatever the server's
 * attribute config says), plus the container table.
 */
export class GatewayTables {
  readonly tables: DispatchTable[] = [CONTAINER_TABLE];
  readonly #serviceClasses = new Map<string, GuardClass<ServiceGuard>>();
  readonly #instanceClasses = new Map<string, GuardClass<InstanceGuard>>();
  readonly #services = new Map<string, GatewayService>();

  constructor(readonly model: GatewayModel) {
    for (const service of model.services) {
      const { className } = service.schema;
      this.#services.set(className, service);
      const guardClass = namedGuardClass(ServiceGuard, className);
      const methods = Object.fromEntries(
        Object.keys(service.schema.methods).map((name) => [
          name,
          (guard: ServiceGuard, args: readonly unknown[]) => Guard.session(guard).callMethod(guard, service, name, args),
        ]),
      );
      const attributes = Object.fromEntries(
        Object.keys(service.schema.attributes).map((name) => [name, (guard: ServiceGuard) => Guard.session(guard).readAttribute(guard, service.schema, name)]),
      );
      this.tables.push(defineDispatch(guardClass, service.schema, methods, attributes));
      this.#serviceClasses.set(className, guardClass);
    }
    for (const decl of Object.values(model.types)) {
      if (decl.kind !== "object") continue;
      const typeName = decl.name;
      const guardClass = namedGuardClass(InstanceGuard, typeName);
      const schema: ServiceSchema = {
        className: typeName,
        name: typeName.toUpperCase(),
        aliases: [typeName.toUpperCase()],
        methods: {},
        // The page reads the fields; their values are guarded by the session, so the table passes them as they are.
        attributes: Object.fromEntries(decl.fields.map((field) => [field.name, { type: UNKNOWN, readonly: true }])),
        types: {},
      };
      const attributes = Object.fromEntries(
        decl.fields.map((field) => [field.name, (guard: InstanceGuard) => Guard.session(guard).readField(guard, field.name, field.type)]),
      );
      this.tables.push(defineDispatch(guardClass, schema, {}, attributes));
      this.#instanceClasses.set(typeName, guardClass);
    }
  }

  service(className: string): GatewayService | undefined {
    return this.#services.get(className);
  }

  /** The guard class of a model service: the gateway's root extends it. */
  serviceClass(className: string): GuardClass<ServiceGuard> | undefined {
    return this.#serviceClasses.get(className);
  }

  serviceGuard(className: string, session: GatewaySession, upstream: unknown): ServiceGuard | undefined {
    const guardClass = this.#serviceClasses.get(className);
    return guardClass && new guardClass(session, upstream);
  }

  instanceGuard(typeName: string, session: GatewaySession, upstream: unknown): InstanceGuard | undefined {
    const guardClass = this.#instanceClasses.get(typeName);
    return guardClass && new guardClass(session, upstream);
  }
}

/**
 * One page's session: its upstream connection, the calls it has in flight, and the
 * conversions both ways. Values from the page are checked against the model before anything
 * is sent upstream; values from upstream are guarded before the page sees them.
 */
export class GatewaySession {
  #pending = 0;
  readonly #types: Types;

  constructor(
    readonly tables: GatewayTables,
    readonly upstream: Promise<Connection<unknown>>,
    readonly limits: SessionLimits,
  ) {
    this.#types = tables.model.types;
  }

  /** Calls forwarded and not answered yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Runs one upstream request under the session's pending-call limit; the page sees upstream errors without the gateway's traceback. */
  async #forward<T>(send: () => Promise<T>): Promise<T> {
    if (this.#pending >= this.limits.maxPendingCalls) {
      throw new LimitExceededError(
        "maxPendingCalls",
        this.limits.maxPendingCalls,
        `this page already has ${this.limits.maxPendingCalls} calls waiting for the server (the gateway's maxPendingCalls); wait for some to finish`,
      );
    }
    this.#pending++;
    try {
      return await send();
    } catch (err) {
      throw forPage(err);
    } finally {
      this.#pending--;
    }
  }

  // ---- page -> upstream --------------------------------------------------------------

  async callMethod(guard: ServiceGuard, service: GatewayService, name: string, args: readonly unknown[]): Promise<unknown> {
    const method = service.schema.methods[name]!;
    const positionalCount = service.positional[name]!;
    const outgoing = args.map((value, i) => this.toUpstream(paramType(method, i), value, `${name}() argument '${method.params[i]?.name ?? i}'`, 0));
    const positional = outgoing.slice(0, positionalCount);
    // The dispatch table mapped keyword-only arguments onto their places; they leave as keywords again.
    const named: Record<string, unknown> = {};
    for (let i = positionalCount; i < outgoing.length; i++) if (outgoing[i] !== undefined) named[method.params[i]!.name] = outgoing[i];
    while (positional.length > 0 && positional[positional.length - 1] === undefined && method.params[positional.length - 1]?.optional) positional.pop();
    const target = (await Guard.upstream(guard)) as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const result = await this.#forward(() => (Object.keys(named).length > 0 ? target[name]!(...positional, kwargs(named)) : target[name]!(...positional)));
    return this.fromUpstream(method.returns, result, `${name}() result`, 0);
  }

  async readAttribute(guard: ServiceGuard, schema: ServiceSchema, name: string): Promise<unknown> {
    const target = (await Guard.upstream(guard)) as Record<string, PromiseLike<unknown>>;
    const value = await this.#forward(async () => await target[name]!);
    return this.fromUpstream(schema.attributes[name]!.type, value, `attribute '${name}'`, 0);
  }

  async readField(guard: InstanceGuard, field: string, type: WireType): Promise<unknown> {
    const target = Guard.upstream(guard) as Record<string, PromiseLike<unknown>>;
    const value = await this.#forward(async () => await target[field]!);
    return this.fromUpstream(type, value, `${Guard.declared(guard)}.${field}`, 0);
  }

  async containerLength(guard: ContainerGuard): Promise<number> {
    const target = Guard.upstream(guard) as { __len__(): Promise<unknown> };
    const length = await this.#forward(() => target.__len__());
    return this.fromUpstream({ kind: "number" }, length, "len()", 0) as number;
  }

  async containerItem(guard: ContainerGuard, key: unknown): Promise<unknown> {
    const type = ContainerGuard.type(guard);
    if (type.container === "set") throw new TypeError("'set' object is not subscriptable");
    const keyType = type.container === "list" ? ANY_INDEX : type.key;
    const outgoing = this.toUpstream(keyType, key, "__getitem__() key", 0);
    if (type.fields && !type.fields.has(outgoing as string))
      throw refusal("__getitem__() key", [...type.fields.keys()].join(" | "), key, "the model declares no such key");
    const target = Guard.upstream(guard) as { __getitem__(k: unknown): Promise<unknown> };
    const item = await this.#forward(() => target.__getitem__(outgoing));
    return this.fromUpstream(type.fields?.get(outgoing as string) ?? type.item, item, "__getitem__() result", 0);
  }

  async containerHas(guard: ContainerGuard, value: unknown): Promise<boolean> {
    const type = ContainerGuard.type(guard);
    const outgoing = this.toUpstream(type.container === "list" ? type.item : type.key, value, "__contains__() argument", 0);
    const target = Guard.upstream(guard) as { __contains__(v: unknown): Promise<unknown> };
    return (await this.#forward(() => target.__contains__(outgoing))) === true;
  }

  containerIterator(guard: ContainerGuard): IteratorGuard {
    const type = ContainerGuard.type(guard);
    const items = (Guard.upstream(guard) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const itemType = type.container === "dict" ? type.key : type.item;
    return new IteratorGuard(async () => {
      const step = await this.#forward(() => items.next());
      if (step.done) throw new StopIteration();
      return this.fromUpstream(itemType, step.value, "an item", 0);
    });
  }

  /**
   * A value from the page, for upstream, of the declared type: data is checked (the dispatch
   * table decoded it already) and passes as the page sent it; a function becomes a callback
   * that guards what the server passes it; a netref must be a guard this session handed out,
   * of the declared class, and goes as the upstream object it stands for.
   */
  toUpstream(type: WireType, value: unknown, path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new SchemaError(path, "a shallower value", "nesting deeper than 64 levels");
    const t = resolve(type, this.#types);
    switch (t.kind) {
      case "array":
      case "tuple":
        if (!Array.isArray(value)) return value; // checked by the table: null of an optional parameter
        return value.map((item: unknown, i) => this.toUpstream(t.kind === "array" ? t.element : (t.elements[i] ?? UNKNOWN), item, `${path}[${i}]`, depth + 1));
      case "union": {
        if (value === null || value === undefined) return value;
        const members = t.members.filter((m) => acceptsShape(resolve(m, this.#types), value));
        let last: unknown;
        for (const member of members) {
          try {
            return this.toUpstream(member, value, path, depth + 1);
          } catch (err) {
            if (!(err instanceof SchemaError)) throw err;
            last = err;
          }
        }
        throw last ?? refusal(path, describeType(t), value, "the model allows no such value here");
      }
      case "function": {
        if (typeof value !== "function") throw refusal(path, describeType(t), value, "a function was declared");
        return this.#callback(t, value as (...a: unknown[]) => unknown, path);
      }
      case "netref": {
        if (!(value instanceof Guard) || Guard.session(value) !== this || !guardMatches(value, t.name))
          throw refusal(
            path,
            `${t.name} (an object this gateway handed out)`,
            value,
            "the gateway forwards only objects it gave this page, of the declared class",
          );
        return Guard.upstream(value);
      }
      case "unknown":
        assertData(value, path, 0);
        return value;
      case "map": {
        if (value instanceof Map)
          return new Map(
            [...value].map(([k, v]) => [this.toUpstream(t.key, k, `${path}.key`, depth + 1), this.toUpstream(t.value, v, `${path}[key]`, depth + 1)]),
          );
        if (typeof value !== "object" || value === null) return value;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.toUpstream(t.value, v, `${path}.${k}`, depth + 1)]));
      }
      case "object": {
        if (typeof value !== "object" || value === null) return value;
        const record = value as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const field of t.fields)
          if (field.name in record) out[field.name] = this.toUpstream(field.type, record[field.name], `${path}.${field.name}`, depth + 1);
        return out;
      }
      default:
        // Scalars, bytes, dates, literals, enums: decoded and checked by the dispatch table already.
        assertData(value, path, 0);
        return value;
    }
  }

  /** A page's function as the upstream server may call it: its arguments guarded on the way to the page, its result checked on the way back. */
  #callback(type: Extract<WireType, { kind: "function" }>, pageFunction: (...a: unknown[]) => unknown, path: string): (...args: unknown[]) => Promise<unknown> {
    return async (...args: unknown[]) => {
      const guarded = args.map((value, i) => this.fromUpstream(type.params[i]?.type ?? UNKNOWN, value, `${path}: callback argument ${i}`, 0));
      const result = await pageFunction(...guarded);
      return this.toUpstream(type.returns, decodeValue(type.returns, result, this.#types, `${path}: callback result`, 0, null), `${path}: callback result`, 0);
    };
  }

  // ---- upstream -> page --------------------------------------------------------------

  /**
   * A value from upstream, for the page, of the declared type: data is checked and passes;
   * an object becomes the guard of its declared class; anything the model cannot describe
   * (a netref typed `unknown`, a class the model lacks) is refused, never forwarded.
   */
  fromUpstream(type: WireType, value: unknown, path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new SchemaError(path, "a shallower value", "nesting deeper than 64 levels");
    const t = resolve(type, this.#types);
    const remote = isNetref(value);
    switch (t.kind) {
      case "netref": {
        if (!remote) throw refusal(path, t.name, value, "the server sent something else than the model declares");
        const guard = this.#guardFor(t, value, path);
        return guard;
      }
      case "function": {
        if (!remote || typeof value !== "function") throw refusal(path, describeType(t), value, "the server sent something else than the model declares");
        const upstreamFunction = value as (...a: unknown[]) => Promise<unknown>;
        const method: MethodSchema = { params: t.params, returns: t.returns };
        return async (...args: unknown[]) => {
          const outgoing = args.map((arg, i) =>
            this.toUpstream(
              paramType(method, i),
              decodeValue(paramType(method, i), arg, this.#types, `function argument ${i}`, 0),
              `function argument ${i}`,
              0,
            ),
          );
          const result = await this.#forward(() => upstreamFunction(...outgoing));
          return this.fromUpstream(t.returns, result, "function result", 0);
        };
      }
      case "union": {
        let last: unknown;
        for (const member of t.members) {
          const resolved = resolve(member, this.#types);
          if (remote !== (resolved.kind === "netref" || resolved.kind === "function")) continue;
          try {
            return this.fromUpstream(member, value, path, depth + 1);
          } catch (err) {
            if (!(err instanceof SchemaError)) throw err;
            last = err;
          }
        }
        throw last ?? refusal(path, describeType(t), value, "the server sent something else than the model declares");
      }
      case "array":
      case "tuple":
        if (!Array.isArray(value)) throw refusal(path, describeType(t), value, "the server sent something else than the model declares");
        return value.map((item: unknown, i) =>
          this.fromUpstream(t.kind === "array" ? t.element : (t.elements[i] ?? UNKNOWN), item, `${path}[${i}]`, depth + 1),
        );
      case "map":
        if (value instanceof Map)
          return new Map(
            [...value].map(([k, v]) => [this.fromUpstream(t.key, k, `${path}.key`, depth + 1), this.fromUpstream(t.value, v, `${path}[key]`, depth + 1)]),
          );
        if (remote || typeof value !== "object" || value === null)
          throw refusal(path, describeType(t), value, "the server sent something else than the model declares");
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.fromUpstream(t.value, v, `${path}.${k}`, depth + 1)]));
      case "object": {
        if (remote || typeof value !== "object" || value === null)
          throw refusal(path, describeType(t), value, "the server sent something else than the model declares");
        const record = value as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const field of t.fields)
          if (field.name in record) out[field.name] = this.fromUpstream(field.type, record[field.name], `${path}.${field.name}`, depth + 1);
        return out;
      }
      case "unknown":
        if (remote || typeof value === "function")
          throw refusal(path, "data", value, "the model types this value unknown, and the gateway forwards no object it cannot type");
        assertData(value, path, 0);
        return value;
      default:
        if (remote) throw refusal(path, describeType(type), value, "the server sent an object where the model declares data");
        // Checks the value against its type (a number where a string was declared is refused).
        encodeValue(type, value, this.#types, path);
        return value;
    }
  }

  #guardFor(type: Extract<WireType, { kind: "netref" }>, value: unknown, path: string): Guard {
    if (this.tables.service(type.name)) return this.tables.serviceGuard(type.name, this, value)!;
    const container = CONTAINERS[type.name];
    if (container) return new ContainerGuard(this, value, type.name, containerType(container, type, this.#types));
    const instance = this.tables.instanceGuard(type.name, this, value);
    if (instance) return instance;
    throw refusal(path, type.name, value, `the model does not describe ${type.name}, and the gateway forwards no object it cannot type`);
  }
}

function paramType(method: MethodSchema, index: number): WireType {
  const param = method.params[Math.min(index, method.params.length - 1)];
  if (!param) return UNKNOWN;
  if (param.rest) return param.type.kind === "array" ? param.type.element : UNKNOWN;
  return param.type;
}

function resolve(type: WireType, types: Types): WireType | { kind: "enum"; members: readonly { value: string | number }[] } {
  let t: WireType = type;
  for (let hops = 0; t.kind === "ref"; hops++) {
    const decl = types[t.name];
    if (!decl || hops > 32) return UNKNOWN;
    if (decl.kind === "alias") t = decl.type;
    else if (decl.kind === "object") return { kind: "object", fields: decl.fields };
    else return { kind: "enum", members: decl.members };
  }
  return t;
}

/** Whether a page value could be of this (resolved) member of a union: objects only for netrefs, functions only for functions. */
function acceptsShape(type: ReturnType<typeof resolve>, value: unknown): boolean {
  if (type.kind === "netref") return value instanceof Guard;
  if (type.kind === "function") return typeof value === "function";
  return !(value instanceof Guard) && typeof value !== "function";
}

function guardMatches(guard: Guard, name: string): boolean {
  if (guard instanceof ContainerGuard) return CONTAINERS[name] === ContainerGuard.type(guard).container;
  return Guard.declared(guard) === name;
}

function containerType(container: ContainerType["container"], type: Extract<WireType, { kind: "netref" }>, types: Types): ContainerType {
  const args = type.args ?? [];
  if (container === "dict") {
    const only = args.length === 1 ? resolve(args[0]!, types) : undefined;
    if (only?.kind === "object") {
      return { container, key: { kind: "string" }, item: UNKNOWN, fields: new Map(only.fields.map((f) => [f.name, f.type])) };
    }
    return { container, key: args[0] ?? UNKNOWN, item: args[1] ?? UNKNOWN };
  }
  return { container, key: args[0] ?? UNKNOWN, item: args[0] ?? UNKNOWN };
}

/** Plain data only: no netref, no function, no guard, at any depth. */
function assertData(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new SchemaError(path, "a shallower value", "nesting deeper than 64 levels");
  if (value === null || typeof value !== "object") {
    if (typeof value === "function") throw refusal(path, "data", value, "the model declares data here, not a function");
    return;
  }
  if (isNetref(value) || value instanceof Guard) throw refusal(path, "data", value, "the model declares data here, not an object");
  if (Array.isArray(value)) value.forEach((item: unknown, i) => assertData(item, `${path}[${i}]`, depth + 1));
}
