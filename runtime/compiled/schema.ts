// Wire schemas: what rpyc-gen knows about a service's members, as plain data the runtime
// interprets. The server's dispatch table checks and decodes arguments with it before any
// service code runs; the client's stub encodes arguments and decodes results with it.
// Structured values (objects, records, maps, dates) have no brine type of their own: they
// travel BY VALUE as brine tuples in declared field order (maps as tuples of pairs, dates as
// float seconds since the epoch), so Python peers see plain tuples. Only `function`,
// `netref` and `unknown` values may travel as netrefs. Between two rpyc-ts peers that agreed
// on the native codec, the same types travel as protobuf instead (codec/native.ts), with the
// same checks and the same SchemaErrors.

import { isNetref } from "../netref/brand.js";
import { Float } from "../wire/values.js";

/** A type as it crosses the wire. Plain JSON: emitted by rpyc-gen into generated code. */
export type WireType =
  | { readonly kind: "string" }
  | { readonly kind: "number" }
  | { readonly kind: "boolean" }
  | { readonly kind: "bigint" }
  | { readonly kind: "null" }
  | { readonly kind: "undefined" }
  | { readonly kind: "literal"; readonly value: string | number | boolean }
  | { readonly kind: "bytes" }
  | { readonly kind: "date" }
  | { readonly kind: "array"; readonly element: WireType }
  | { readonly kind: "tuple"; readonly elements: readonly WireType[]; readonly minLength: number }
  | { readonly kind: "map"; readonly key: WireType; readonly value: WireType; readonly container: "record" | "map" }
  | { readonly kind: "object"; readonly fields: readonly WireField[] }
  | { readonly kind: "union"; readonly members: readonly WireType[] }
  | { readonly kind: "ref"; readonly name: string }
  | { readonly kind: "function"; readonly params: readonly WireParam[]; readonly returns: WireType }
  | {
      readonly kind: "netref";
      /** The remote object's class: a compiled service's className, or a Python class ("builtins.list"). */
      readonly name: string;
      /**
       * Type arguments of the remote class, for the IDE only (rpyc-gen's Python stubs): a list's
       * items, a dict's key and value, a TypedDict's keys (one `ref`), each as the object's
       * holder sends it. Never checked: the runtime cannot see inside a netref without a round trip.
       */
      readonly args?: readonly WireType[];
    }
  | { readonly kind: "unknown" };

export interface WireField {
  readonly name: string;
  readonly type: WireType;
  readonly optional: boolean;
}

export interface WireParam {
  readonly name: string;
  readonly type: WireType;
  readonly optional: boolean;
  readonly rest: boolean;
}

/** A named type a WireType may refer to with `{ kind: "ref" }`. */
export type WireDecl =
  | { readonly kind: "object"; readonly name: string; readonly fields: readonly WireField[] }
  | { readonly kind: "enum"; readonly name: string; readonly members: readonly { readonly name: string; readonly value: string | number }[] }
  | { readonly kind: "alias"; readonly name: string; readonly type: WireType };

export interface MethodSchema {
  readonly params: readonly WireParam[];
  readonly returns: WireType;
}

export interface AttributeSchema {
  readonly type: WireType;
  readonly readonly: boolean;
}

/** Everything the runtime needs to know about one compiled service. */
export interface ServiceSchema {
  /** The class name; a TypeScript server sends its instances as "rpyc_ts.<className>". */
  readonly className: string;
  /**
   * "python": compiled from a Python service, whose values arrive as Python RPyC sends them
   * (the stub's types say so). Absent: a TypeScript service, served by rpyc-ts.
   */
  readonly origin?: "python";
  /** Formal name and aliases, upper-cased. */
  readonly name: string;
  readonly aliases: readonly string[];
  /** Exposed methods by remote name (prefix stripped). */
  readonly methods: Readonly<Record<string, MethodSchema>>;
  /** Exposed attributes and getters by remote name. */
  readonly attributes: Readonly<Record<string, AttributeSchema>>;
  /** Named types referenced from the members. */
  readonly types: Readonly<Record<string, WireDecl>>;
}

/** A value did not match its declared type; names the parameter (or field path). */
export class SchemaError extends TypeError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    /** What to do about it, when the cause is known (a pairing that cannot carry the declared type). */
    readonly hint?: string,
  ) {
    super(`${path}: expected ${expected}, got ${actual}${hint === undefined ? "" : `. ${hint}`}`);
    this.name = "TypeError"; // reaches Python as a builtin TypeError
  }
}

/** Whether `value` is a SchemaError (by its shape, so that two copies of rpyc-ts agree). */
export function isSchemaError(value: unknown): value is SchemaError {
  return value instanceof TypeError && typeof (value as Partial<SchemaError>).path === "string" && typeof (value as Partial<SchemaError>).expected === "string";
}

type Types = ServiceSchema["types"];

/** How a value that did not match is named in a SchemaError. */
export function describeValue(value: unknown): string {
  if (isNetref(value)) return "a netref (a remote object where a value was declared)";
  if (value === null) return "None";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `a tuple of ${value.length}`;
  if (value instanceof Uint8Array) return "bytes";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  if (typeof value === "function") return "a function";
  return `${typeof value} ${JSON.stringify(typeof value === "bigint" ? String(value) : value)?.slice(0, 40)}`;
}

/** A readable name of a WireType, for error messages. */
export function describeType(type: WireType): string {
  switch (type.kind) {
    case "literal":
      return JSON.stringify(type.value);
    case "array":
      return `${describeType(type.element)}[]`;
    case "tuple":
      return `[${type.elements.map(describeType).join(", ")}]`;
    case "map":
      return `${type.container === "map" ? "Map" : "Record"}<${describeType(type.key)}, ${describeType(type.value)}>`;
    case "object":
      return `{ ${type.fields.map((f) => `${f.name}${f.optional ? "?" : ""}: ${describeType(f.type)}`).join("; ")} }`;
    case "union":
      return type.members.map(describeType).join(" | ");
    case "ref":
    case "netref":
      return type.name;
    case "function":
      return "a function";
    case "bytes":
      return "Uint8Array";
    case "date":
      return "Date";
    default:
      return type.kind;
  }
}

function resolve(type: WireType, types: Types): WireType | WireDecl {
  if (type.kind !== "ref") return type;
  const decl = types[type.name];
  if (!decl) throw new TypeError(`schema refers to unknown type ${type.name}`);
  return decl.kind === "alias" ? resolve(decl.type, types) : decl;
}

const MAX_DEPTH = 64;

function fail(path: string, type: WireType | WireDecl, value: unknown): never {
  const expected = "name" in type && type.kind !== "netref" ? type.name : describeType(type as WireType);
  throw new SchemaError(path, expected, describeValue(value));
}

/**
 * Decodes a value received from the wire into its declared type (tuples back into objects,
 * pairs into records and maps, seconds into dates), checking it on the way. Throws a
 * SchemaError naming `path` when it does not match. `none` is what Python's None becomes
 * where `undefined` was declared: undefined for a service's arguments, null for results a
 * client receives (as `RemoteValue` types them, and as untyped calls return them).
 */
export function decodeValue(type: WireType, value: unknown, types: Types, path: string, depth = 0, none: null | undefined = undefined): unknown {
  if (depth > MAX_DEPTH) throw new SchemaError(path, "a shallower value", "nesting deeper than 64 levels");
  const t = resolve(type, types);
  switch (t.kind) {
    case "string":
      if (typeof value === "string") return value;
      return fail(path, t, value);
    case "number":
      if (typeof value === "number") return value;
      if (typeof value === "bigint" && Number.isSafeInteger(Number(value))) return Number(value);
      return fail(path, t, value);
    case "bigint":
      if (typeof value === "bigint") return value;
      if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
      return fail(path, t, value);
    case "boolean":
      if (typeof value === "boolean") return value;
      return fail(path, t, value);
    case "null":
      if (value === null || value === undefined) return null;
      return fail(path, t, value);
    case "undefined":
      if (value === null || value === undefined) return none;
      return fail(path, t, value);
    case "literal":
      if (value === t.value) return value;
      return fail(path, t, value);
    case "bytes":
      if (value instanceof Uint8Array) return value;
      return fail(path, t, value);
    case "date":
      if (typeof value === "number" && Number.isFinite(value)) return new Date(value * 1000);
      return fail(path, t, value);
    case "array":
      if (!Array.isArray(value)) return fail(path, t, value);
      return value.map((item: unknown, i) => decodeValue(t.element, item, types, `${path}[${i}]`, depth + 1, none));
    case "tuple":
      if (!Array.isArray(value) || value.length < t.minLength || value.length > t.elements.length) return fail(path, t, value);
      return value.map((item: unknown, i) => decodeValue(t.elements[i]!, item, types, `${path}[${i}]`, depth + 1, none));
    case "map": {
      if (!Array.isArray(value)) return fail(path, t, value);
      const entries = value.map((pair: unknown, i): [unknown, unknown] => {
        if (!Array.isArray(pair) || pair.length !== 2) return fail(`${path}[${i}]`, { kind: "tuple", elements: [t.key, t.value], minLength: 2 }, pair);
        return [
          decodeValue(t.key, pair[0], types, `${path}[${i}].key`, depth + 1, none),
          decodeValue(t.value, pair[1], types, `${path}[${i}].value`, depth + 1, none),
        ];
      });
      if (t.container === "map") return new Map(entries);
      const record: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [key, item] of entries) record[String(key)] = item;
      return record;
    }
    case "object": {
      if (!Array.isArray(value) || value.length !== t.fields.length) return fail(path, t, value);
      const out: Record<string, unknown> = {};
      t.fields.forEach((field, i) => {
        const item: unknown = value[i];
        if (field.optional && (item === null || item === undefined)) return;
        out[field.name] = decodeValue(field.type, item, types, `${path}.${field.name}`, depth + 1, none);
      });
      return out;
    }
    case "enum":
      if (t.members.some((m) => m.value === value)) return value;
      return fail(path, t, value);
    case "union": {
      for (const member of t.members) {
        try {
          return decodeValue(member, value, types, path, depth + 1, none);
        } catch (err) {
          if (!(err instanceof SchemaError)) throw err;
        }
      }
      return fail(path, t, value);
    }
    case "function":
      if (typeof value === "function") return value; // a netref to the caller's function
      return fail(path, t, value);
    case "netref":
      if (typeof value === "object" || typeof value === "function") return value;
      return fail(path, t, value);
    case "unknown":
      return value;
  }
}

/**
 * Encodes a local value of a declared type for the wire (objects into tuples in field order,
 * records and maps into pairs, dates into seconds), checking it on the way.
 */
export function encodeValue(type: WireType, value: unknown, types: Types, path: string, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new SchemaError(path, "a shallower value", "nesting deeper than 64 levels");
  const t = resolve(type, types);
  switch (t.kind) {
    case "number":
      if (typeof value !== "number") return fail(path, t, value);
      // Keep a float a float for Python (3.0 must not become int 3) only when it is not integral.
      return value;
    case "date":
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) return fail(path, t, value);
      return new Float(value.getTime() / 1000);
    case "array":
      if (!Array.isArray(value)) return fail(path, t, value);
      return value.map((item: unknown, i) => encodeValue(t.element, item, types, `${path}[${i}]`, depth + 1));
    case "tuple":
      if (!Array.isArray(value) || value.length < t.minLength || value.length > t.elements.length) return fail(path, t, value);
      return value.map((item: unknown, i) => encodeValue(t.elements[i]!, item, types, `${path}[${i}]`, depth + 1));
    case "map": {
      let entries: [unknown, unknown][];
      if (t.container === "map") {
        if (!(value instanceof Map)) return fail(path, t, value);
        entries = [...value.entries()];
      } else {
        if (typeof value !== "object" || value === null || Array.isArray(value) || isNetref(value)) return fail(path, t, value);
        entries = Object.entries(value);
      }
      return entries.map(([key, item], i) => [
        encodeValue(t.key, key, types, `${path}[${i}].key`, depth + 1),
        encodeValue(t.value, item, types, `${path}[${i}].value`, depth + 1),
      ]);
    }
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value) || isNetref(value)) return fail(path, t, value);
      const record = value as Record<string, unknown>;
      return t.fields.map((field) => {
        const item = record[field.name];
        if (field.optional && item === undefined) return null;
        return encodeValue(field.type, item, types, `${path}.${field.name}`, depth + 1);
      });
    }
    case "union": {
      for (const member of t.members) {
        try {
          return encodeValue(member, value, types, path, depth + 1);
        } catch (err) {
          if (!(err instanceof SchemaError)) throw err;
        }
      }
      return fail(path, t, value);
    }
    case "function":
      if (typeof value === "function") return value;
      return fail(path, t, value);
    case "netref":
    case "unknown":
      return value;
    default:
      // Scalars and enums encode as themselves: the decoder's checks are the encoder's.
      return decodeValue(type, value, types, path, depth);
  }
}

/** True when values of this type travel unchanged (no tuple conversion needed either way). */
export function isPassThrough(type: WireType, types: Types, seen: Set<string> = new Set()): boolean {
  switch (type.kind) {
    case "ref": {
      if (seen.has(type.name)) return false;
      seen.add(type.name);
      const decl = types[type.name];
      if (!decl) return false;
      if (decl.kind === "enum") return true;
      if (decl.kind === "alias") return isPassThrough(decl.type, types, seen);
      return false;
    }
    case "date":
    case "map":
    case "object":
      return false;
    case "array":
      return isPassThrough(type.element, types, seen);
    case "tuple":
      return type.elements.every((e) => isPassThrough(e, types, seen));
    case "union":
      return type.members.every((m) => isPassThrough(m, types, seen));
    default:
      return true;
  }
}

/** Throws Python's TypeError when a call passes too few or too many arguments. */
export function checkArity(method: MethodSchema, argc: number, methodName: string): void {
  const params = method.params;
  const rest = params.length > 0 && params[params.length - 1]!.rest;
  const fixed = rest ? params.slice(0, -1) : params;
  const required = fixed.filter((p) => !p.optional).length;
  if (argc < required || (!rest && argc > fixed.length)) {
    const range = rest ? `at least ${required}` : required === fixed.length ? `${required}` : `${required} to ${fixed.length}`;
    throw new TypeError(`${methodName}() takes ${range} argument${range === "1" ? "" : "s"}, got ${argc}`);
  }
}

/** The arguments of a call, checked against the method's parameters and decoded. */
export function decodeArguments(method: MethodSchema, args: readonly unknown[], types: Types, methodName: string, compiledPeer = true): unknown[] {
  try {
    return decodeArgumentList(method, args, types, methodName);
  } catch (err) {
    if (compiledPeer) throw err;
    throw hinted(
      err,
      "Plain data travels by value only from a client compiled with rpyc-gen (its generated connect function); this client sent an object by reference",
    );
  }
}

function decodeArgumentList(method: MethodSchema, args: readonly unknown[], types: Types, methodName: string): unknown[] {
  const params = method.params;
  const rest = params.length > 0 && params[params.length - 1]!.rest ? params[params.length - 1]! : undefined;
  const fixed = rest ? params.slice(0, -1) : params;
  checkArity(method, args.length, methodName);
  const out: unknown[] = [];
  fixed.forEach((param, i) => {
    if (i >= args.length) return;
    const value = args[i];
    out.push(
      param.optional && (value === null || value === undefined) ? undefined : decodeValue(param.type, value, types, `${methodName}() argument '${param.name}'`),
    );
  });
  if (rest) {
    const element = rest.type.kind === "array" ? rest.type.element : { kind: "unknown" as const };
    for (let i = fixed.length; i < args.length; i++)
      out.push(decodeValue(element, args[i], types, `${methodName}() argument '${rest.name}[${i - fixed.length}]'`));
  }
  return out;
}

const needsTableCache = new WeakMap<ServiceSchema, boolean>();

/**
 * Whether a schema carries plain data (objects, maps, records, dates) in a parameter, result
 * or attribute: between compiled peers it travels by value, in an encoding only the class's
 * dispatch table reads. A schema of scalars, arrays and netrefs travels as RPyC's own values
 * (an introspected stub's, the seed's), so it needs no table on the other side.
 */
export function schemaNeedsTable(schema: ServiceSchema): boolean {
  let needs = needsTableCache.get(schema);
  if (needs === undefined) {
    const seen = new Set<string>();
    const carries = (type: WireType): boolean => {
      switch (type.kind) {
        case "object":
        case "map":
        case "date":
          return true;
        case "array":
          return carries(type.element);
        case "tuple":
          return type.elements.some(carries);
        case "union":
          return type.members.some(carries);
        case "ref": {
          if (seen.has(type.name)) return false;
          seen.add(type.name);
          const decl = schema.types[type.name];
          return decl?.kind === "object" || (decl?.kind === "alias" && carries(decl.type));
        }
        default:
          return false;
      }
    };
    const methods = Object.values(schema.methods);
    needs =
      methods.some((method) => carries(method.returns) || method.params.some((param) => carries(param.type))) ||
      Object.values(schema.attributes).some((attribute) => carries(attribute.type));
    needsTableCache.set(schema, needs);
  }
  return needs;
}

/** A SchemaError because a netref came where plain data was declared, with `hint` added; any other error unchanged. */
function hinted(err: unknown, hint: string): unknown {
  if (!(err instanceof SchemaError) || err.hint !== undefined || !err.actual.startsWith("a netref")) return err;
  return new SchemaError(err.path, err.expected, err.actual, hint);
}

/**
 * A compiled method's result or attribute as a client with the schema receives it (None is
 * null). A netref where plain data was declared means the server sent the object by
 * reference: it does not serve the class through its dispatch table; the error says so.
 */
export function decodeResult(type: WireType, value: unknown, schema: ServiceSchema, path: string): unknown {
  try {
    return decodeValue(type, value, schema.types, path, 0, null);
  } catch (err) {
    throw hinted(
      err,
      `The server sent an object by reference where plain data was declared: plain data travels by value only between the generated client and a server with its dispatch table. An rpyc-ts server: serve ${schema.className} with { dispatch: ${schema.className}Dispatch }. Python RPyC always sends objects by reference: compile the client from the service's Python source`,
    );
  }
}

/** The arguments of a call, checked and encoded for the wire (the client's side of decodeArguments). */
export function encodeArguments(method: MethodSchema, args: readonly unknown[], types: Types, methodName: string): unknown[] {
  const params = method.params;
  return args.map((value, i) => {
    const param = params[Math.min(i, params.length - 1)];
    if (!param) return value;
    if (param.optional && value === undefined) return null;
    const type = param.rest ? (param.type.kind === "array" ? param.type.element : ({ kind: "unknown" } as const)) : param.type;
    return encodeValue(type, value, types, `${methodName}() argument '${param.name}'`);
  });
}
