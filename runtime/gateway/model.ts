// The gateway's whitelist: the model rpyc-gen extracted (`rpyc-gen --emit-model` writes it as
// model.json, from a .py or .ts source or from --introspect), read and checked here without
// the compiler (the runtime never imports it). Only what the gateway needs is kept: each
// service's schema (methods with their parameters, keyword-only ones included, attributes)
// and the named types. Anything malformed is refused with the path to the offending part.

import type { MethodSchema, ServiceSchema, WireDecl, WireField, WireParam, WireType } from "../compiled/schema.js";

/** A model.json as the gateway reads it: a subset of rpyc-gen's ServiceModel (version 1). */
export interface GatewayModel {
  readonly version: 1;
  readonly services: readonly GatewayService[];
  /** Named types the services reference, by name. */
  readonly types: Readonly<Record<string, WireDecl>>;
}

/** One service of the model: its schema, plus what the schema has no place for. */
export interface GatewayService {
  readonly schema: ServiceSchema;
  /** Per method: how many of its schema's parameters are positional; the rest are Python keyword-only parameters. */
  readonly positional: Readonly<Record<string, number>>;
}

/** A model.json the gateway cannot use: `path` says where (`services[0].methods[2].returns`). */
export class ModelError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`model ${path}: ${message}`);
    this.name = "ModelError";
  }
}

type Json = Record<string, unknown>;

const SCALAR_KINDS = new Set(["string", "number", "boolean", "bigint", "null", "undefined", "bytes", "date", "unknown"]);
/** Deepest WireType nesting read: a model is generated, never this deep; a hostile file could be. */
const MAX_TYPE_DEPTH = 64;

function object(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ModelError(path, "expected an object");
  return value as Json;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ModelError(path, "expected an array");
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string" || value.length === 0) throw new ModelError(path, "expected a non-empty string");
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new ModelError(path, "expected true or false");
  return value;
}

function wireType(value: unknown, path: string, depth = 0): WireType {
  if (depth > MAX_TYPE_DEPTH) throw new ModelError(path, `a type nested deeper than ${MAX_TYPE_DEPTH} levels`);
  const t = object(value, path);
  const kind = string(t["kind"], `${path}.kind`);
  const sub = (v: unknown, p: string): WireType => wireType(v, p, depth + 1);
  if (SCALAR_KINDS.has(kind)) return { kind } as WireType;
  switch (kind) {
    case "literal": {
      const literal = t["value"];
      if (typeof literal !== "string" && typeof literal !== "number" && typeof literal !== "boolean")
        throw new ModelError(`${path}.value`, "expected a string, number or boolean");
      return { kind, value: literal };
    }
    case "array":
      return { kind, element: sub(t["element"], `${path}.element`) };
    case "tuple": {
      const elements = array(t["elements"], `${path}.elements`).map((e, i) => sub(e, `${path}.elements[${i}]`));
      const minLength = t["minLength"];
      if (typeof minLength !== "number" || !Number.isInteger(minLength) || minLength < 0 || minLength > elements.length)
        throw new ModelError(`${path}.minLength`, "expected an integer from 0 to the number of elements");
      return { kind, elements, minLength };
    }
    case "map": {
      const container = t["container"];
      if (container !== "map" && container !== "record") throw new ModelError(`${path}.container`, 'expected "map" or "record"');
      return { kind, key: sub(t["key"], `${path}.key`), value: sub(t["value"], `${path}.value`), container };
    }
    case "object":
      return { kind, fields: fields(t["fields"], `${path}.fields`, depth + 1) };
    case "union":
      return { kind, members: array(t["members"], `${path}.members`).map((m, i) => sub(m, `${path}.members[${i}]`)) };
    case "ref":
      return { kind, name: string(t["name"], `${path}.name`) };
    case "function":
      return { kind, params: params(t["params"], `${path}.params`, depth + 1), returns: sub(t["returns"], `${path}.returns`) };
    case "netref": {
      const name = string(t["name"], `${path}.name`);
      if (t["args"] === undefined) return { kind, name };
      return { kind, name, args: array(t["args"], `${path}.args`).map((a, i) => sub(a, `${path}.args[${i}]`)) };
    }
    default:
      throw new ModelError(`${path}.kind`, `unknown kind ${JSON.stringify(kind)}`);
  }
}

function fields(value: unknown, path: string, depth: number): WireField[] {
  return array(value, path).map((f, i) => {
    const field = object(f, `${path}[${i}]`);
    return {
      name: string(field["name"], `${path}[${i}].name`),
      type: wireType(field["type"], `${path}[${i}].type`, depth),
      optional: boolean(field["optional"], `${path}[${i}].optional`),
    };
  });
}

function params(value: unknown, path: string, depth = 0): WireParam[] {
  return array(value, path).map((p, i) => {
    const param = object(p, `${path}[${i}]`);
    return {
      name: string(param["name"], `${path}[${i}].name`),
      type: wireType(param["type"], `${path}[${i}].type`, depth),
      optional: boolean(param["optional"], `${path}[${i}].optional`),
      rest: boolean(param["rest"], `${path}[${i}].rest`),
    };
  });
}

function decl(value: unknown, path: string): WireDecl {
  const d = object(value, path);
  const name = string(d["name"], `${path}.name`);
  switch (d["kind"]) {
    case "object":
      return { kind: "object", name, fields: fields(d["fields"], `${path}.fields`, 0) };
    case "enum":
      return {
        kind: "enum",
        name,
        members: array(d["members"], `${path}.members`).map((m, i) => {
          const member = object(m, `${path}.members[${i}]`);
          const memberValue = member["value"];
          if (typeof memberValue !== "string" && typeof memberValue !== "number")
            throw new ModelError(`${path}.members[${i}].value`, "expected a string or number");
          return { name: string(member["name"], `${path}.members[${i}].name`), value: memberValue };
        }),
      };
    case "alias":
      return { kind: "alias", name, type: wireType(d["type"], `${path}.type`) };
    default:
      throw new ModelError(`${path}.kind`, 'expected "object", "enum" or "alias"');
  }
}

/** Names a peer never calls through the gateway, whatever a model says (the runtime's own machinery). */
const RESERVED = new Set(["__proto__", "constructor", "prototype", "on_connect", "on_disconnect", "get_service_name", "get_service_aliases"]);

function memberName(value: unknown, path: string): string {
  const name = string(value, path);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || RESERVED.has(name) || name.startsWith("_rpyc_"))
    throw new ModelError(path, `${JSON.stringify(name)} cannot be a member served through the gateway`);
  return name;
}

function service(value: unknown, path: string, types: Readonly<Record<string, WireDecl>>): GatewayService {
  const s = object(value, path);
  const methods: Record<string, MethodSchema> = {};
  const positional: Record<string, number> = {};
  array(s["methods"], `${path}.methods`).forEach((m, i) => {
    const at = `${path}.methods[${i}]`;
    const method = object(m, at);
    const name = memberName(method["name"], `${at}.name`);
    const own = params(method["params"], `${at}.params`);
    // Keyword-only parameters join the schema as named ones, so the dispatch table maps and checks them by name.
    const keywordOnly = method["keywordOnly"] === undefined ? [] : params(method["keywordOnly"], `${at}.keywordOnly`);
    if (keywordOnly.length > 0 && own.some((p) => p.rest))
      throw new ModelError(`${at}.keywordOnly`, "keyword-only parameters after *args are not supported by the gateway");
    methods[name] = { params: [...own, ...keywordOnly.map((p) => ({ ...p, rest: false }))], returns: wireType(method["returns"], `${at}.returns`) };
    positional[name] = own.length;
  });
  const attributes: Record<string, { type: WireType; readonly: boolean }> = {};
  array(s["attributes"], `${path}.attributes`).forEach((a, i) => {
    const at = `${path}.attributes[${i}]`;
    const attribute = object(a, at);
    attributes[memberName(attribute["name"], `${at}.name`)] = { type: wireType(attribute["type"], `${at}.type`), readonly: true };
  });
  const origin = s["origin"];
  if (origin !== undefined && origin !== "python" && origin !== "live") throw new ModelError(`${path}.origin`, 'expected "python", "live" or nothing');
  return {
    schema: {
      className: string(s["className"], `${path}.className`),
      name: string(s["name"], `${path}.name`),
      aliases: array(s["aliases"], `${path}.aliases`).map((a, i) => string(a, `${path}.aliases[${i}]`)),
      // A Python or live server sends its values as Python RPyC does; only TypeScript sources are rpyc-ts services.
      ...(origin === undefined ? {} : { origin: "python" as const }),
      methods,
      attributes,
      types,
    },
    positional,
  };
}

/** Reads a parsed model.json; throws ModelError naming the first part it cannot use. */
export function readGatewayModel(json: unknown): GatewayModel {
  const model = object(json, "(top level)");
  if (model["version"] !== 1) throw new ModelError("version", `expected 1 (the model rpyc-gen --emit-model writes), got ${JSON.stringify(model["version"])}`);
  const types: Record<string, WireDecl> = Object.create(null) as Record<string, WireDecl>;
  array(model["types"], "types").forEach((t, i) => {
    const d = decl(t, `types[${i}]`);
    types[d.name] = d;
  });
  const services = array(model["services"], "services").map((s, i) => service(s, `services[${i}]`, types));
  if (services.length === 0) throw new ModelError("services", "the model has no service: a gateway would forward nothing");
  const classes = new Set<string>();
  for (const [i, s] of services.entries()) {
    if (classes.has(s.schema.className)) throw new ModelError(`services[${i}].className`, `${s.schema.className} appears twice`);
    classes.add(s.schema.className);
  }
  return { version: 1, services, types };
}
