// Dispatch tables: what rpyc-gen compiles for a service and the server uses instead of
// reflection. A served object whose class has a table answers exactly the compiled
// members (whatever allow_public_attrs or allow_all_attrs say); every argument is checked
// and decoded against the schema before the service code runs, and every result is checked
// against it. A peer that holds the schema (it offered the native codec: rpyc-gen's stubs)
// gets results encoded by it, plain data by value; any other peer (a class-form or untyped
// client, Python) gets them as RPyC sends objects, by reference. README: "How values travel".

import { AttributeError } from "../errors/python-exceptions.js";
import { pyRepr } from "../wire/pyrepr.js";
import { decodeArguments, encodeValue, type MethodSchema, type ServiceSchema } from "./schema.js";

// Method-shorthand types are bivariant in their parameters, so a table for MyService is
// also a DispatchTable<object> (servers hold tables of many classes).
/** Calls one compiled method with already-decoded arguments (generated: no reflection). */
export type MethodInvoker<S> = { invoke(service: S, args: readonly unknown[]): unknown }["invoke"];
/** Reads one compiled attribute or getter (generated). */
export type AttributeReader<S> = { read(service: S): unknown }["read"];

export interface DispatchTable<S extends object = object> {
  readonly serviceClass: abstract new (...args: never[]) => S;
  readonly schema: ServiceSchema;
  readonly methods: Readonly<Record<string, MethodInvoker<S>>>;
  readonly attributes: Readonly<Record<string, AttributeReader<S>>>;
}

/** Every service answers these two, compiled or not (RPyC's Service does). */
const BUILTIN_METHODS: Readonly<Record<string, MethodSchema>> = {
  get_service_name: { params: [], returns: { kind: "string" } },
  get_service_aliases: { params: [], returns: { kind: "array", element: { kind: "string" } } },
};

/**
 * Builds a dispatch table (called by generated code). Fails at once if the schema and the
 * invokers disagree, so a stale generated file cannot silently expose the wrong thing.
 */
export function defineDispatch<S extends object>(
  serviceClass: abstract new (...args: never[]) => S,
  schema: ServiceSchema,
  methods: Readonly<Record<string, MethodInvoker<S>>>,
  attributes: Readonly<Record<string, AttributeReader<S>>>,
): DispatchTable<S> {
  const missing = [
    ...Object.keys(schema.methods).filter((name) => !Object.hasOwn(methods, name)),
    ...Object.keys(schema.attributes).filter((name) => !Object.hasOwn(attributes, name)),
  ];
  const extra = [
    ...Object.keys(methods).filter((name) => !Object.hasOwn(schema.methods, name)),
    ...Object.keys(attributes).filter((name) => !Object.hasOwn(schema.attributes, name)),
  ];
  if (missing.length > 0 || extra.length > 0) {
    throw new TypeError(
      `dispatch table of ${schema.className} does not match its schema (missing: ${missing.join(", ") || "none"}; extra: ${extra.join(", ") || "none"}); regenerate it with rpyc-gen`,
    );
  }
  return Object.freeze({ serviceClass, schema, methods, attributes });
}

/** The table that governs `obj`, if any: its exact class first, then the nearest compiled base. */
export function tableFor(tables: readonly DispatchTable[], obj: object): DispatchTable | undefined {
  if (tables.length === 0) return undefined;
  const ctor = (obj as { constructor?: unknown }).constructor;
  return tables.find((t) => t.serviceClass === ctor) ?? tables.find((t) => obj instanceof t.serviceClass);
}

function refuse(name: string): AttributeError {
  return new AttributeError(`cannot access ${pyRepr(name)}`);
}

/** Accepts the remote name or its exposed_ form, as RPyC resolves both. */
function remoteName(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

function methodSchema(table: DispatchTable, name: string): MethodSchema | undefined {
  return Object.hasOwn(table.schema.methods, name) ? table.schema.methods[name] : Object.hasOwn(BUILTIN_METHODS, name) ? BUILTIN_METHODS[name] : undefined;
}

/** Maps Python keyword arguments onto the schema's parameter names. */
function withKeywords(method: MethodSchema, name: string, args: readonly unknown[], keywords: readonly (readonly [string, unknown])[]): unknown[] {
  if (keywords.length === 0) return args as unknown[];
  const out = [...args];
  for (const [key, value] of keywords) {
    const index = method.params.findIndex((p) => p.name === key && !p.rest);
    if (index < 0) throw new TypeError(`${name}() got an unexpected keyword argument '${key}'`);
    if (index < args.length) throw new TypeError(`${name}() got multiple values for argument '${key}'`);
    while (out.length < index) out.push(undefined);
    out[index] = value;
  }
  return out;
}

/** HANDLE_CALLATTR (and CALL of a method fetched with GETATTR) under a dispatch table. */
export async function dispatchCall(
  table: DispatchTable,
  service: object,
  rawName: string,
  args: readonly unknown[],
  keywords: readonly (readonly [string, unknown])[],
  prefix: string,
  compiledPeer: boolean,
): Promise<unknown> {
  const name = remoteName(rawName, prefix);
  const method = methodSchema(table, name);
  if (!method) throw refuse(rawName);
  const decoded = decodeArguments(method, withKeywords(method, name, args, keywords), table.schema.types, name, compiledPeer);
  const invoke = Object.hasOwn(table.methods, name) ? table.methods[name] : undefined;
  const result = invoke ? await invoke(service, decoded) : name === "get_service_name" ? table.schema.name : [...table.schema.aliases];
  return forPeer(encodeValue(method.returns, result, table.schema.types, `${name}() result`), result, compiledPeer);
}

/** The encoded value for a peer with the schema; the value itself (checked) for any other. */
function forPeer(encoded: unknown, value: unknown, compiledPeer: boolean): unknown {
  return compiledPeer ? encoded : value === undefined ? null : value;
}

/** Compiled methods handed out by GETATTR: calling them goes through the same checks. */
export const dispatchedMethods = new WeakMap<Function, { table: DispatchTable; service: object; name: string; compiledPeer: boolean }>();

/** HANDLE_GETATTR under a dispatch table: an attribute's value (encoded for a peer with the schema), or a checked method. */
export async function dispatchGetattr(table: DispatchTable, service: object, rawName: string, prefix: string, compiledPeer: boolean): Promise<unknown> {
  const name = remoteName(rawName, prefix);
  if (Object.hasOwn(table.schema.attributes, name)) {
    const value = await table.attributes[name]!(service);
    return forPeer(encodeValue(table.schema.attributes[name]!.type, value, table.schema.types, `attribute '${name}'`), value, compiledPeer);
  }
  if (methodSchema(table, name)) {
    const method = function (...args: unknown[]): Promise<unknown> {
      return dispatchCall(table, service, name, args, [], prefix, compiledPeer);
    };
    Object.defineProperty(method, "name", { value: name });
    dispatchedMethods.set(method, { table, service, name, compiledPeer });
    return method;
  }
  throw refuse(rawName);
}

/** The names DIR reports for a compiled service: only what it answers. */
export function dispatchNames(table: DispatchTable, prefix: string): string[] {
  return prefixed([...Object.keys(table.schema.methods), ...Object.keys(table.schema.attributes), ...Object.keys(BUILTIN_METHODS)], prefix);
}

/** The names INSPECT reports for a compiled service: its methods only, as Python lists callables (attributes are not methods of a netref class). */
export function dispatchMethodNames(table: DispatchTable, prefix: string): string[] {
  return prefixed([...Object.keys(table.schema.methods), ...Object.keys(BUILTIN_METHODS)], prefix);
}

function prefixed(names: readonly string[], prefix: string): string[] {
  return [...new Set(names)].map((name) => prefix + name).sort();
}

/**
 * A native-codec call of a compiled method (runtime/compiled/native.ts): the arguments arrive
 * already decoded and checked against the schema; returns the method's own result (a value
 * or a promise) for the codec to encode, and throws as the method does.
 */
export function invokeNativeCall(table: DispatchTable, service: object, name: string, args: readonly unknown[]): unknown {
  const invoke = Object.hasOwn(table.methods, name) ? table.methods[name] : undefined;
  if (!invoke) throw refuse(name);
  return invoke(service, args);
}
