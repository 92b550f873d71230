// WireType -> TypeScript type text, and WireType -> schema literal text: the two renderings
// the TypeScript templates ask for through helpers.

import type { WireParam, WireType } from "../model.js";
import { propertyKey } from "./names.js";

/** How names inside a type are written where the text lands. */
export interface TsNaming {
  /** A named type (`{ kind: "ref" }`): the name it has in the generated file. */
  ref(name: string): string;
  /**
   * A remote object of a class (`{ kind: "netref" }`): the type to write for it. `args` are its
   * type arguments (Python containers' items), `render` writes one as the surrounding text does.
   */
  netref(name: string, args: readonly WireType[], render: (type: WireType) => string): string;
}

/** The runtime names a client stub uses, as written in the stub (aliased when a user type takes the name). */
export interface RuntimeNames {
  readonly connect: string;
  readonly connectByService: string;
  readonly connectWebSocket: string;
  readonly Connection: string;
  readonly ConnectOptions: string;
  readonly ConnectByServiceOptions: string;
  readonly WebSocketConnectOptions: string;
  readonly NetrefBase: string;
  readonly CompiledRemote: string;
  readonly RemoteAttribute: string;
  readonly RemoteFunction: string;
  readonly RemoteResult: string;
  readonly ServiceSchema: string;
  readonly ServiceShape: string;
  /** Only in stubs of Python services (see python-views.ts). */
  readonly DynamicNetref: string;
  readonly FrozenSet: string;
  readonly KeywordCall: string;
  readonly RemoteDict: string;
  readonly RemoteInstance: string;
  readonly RemoteList: string;
  readonly RemoteSet: string;
  readonly RemoteTypedDict: string;
}

/** Writes named types by their own name and netrefs of unknown classes as `unknown`. */
export const PLAIN_NAMING: TsNaming = { ref: (name) => name, netref: () => "unknown" };

// Precedence of the text produced: what needs parentheses where.
const Prec = { Function: 0, Union: 1, Primary: 2 } as const;
type Prec = (typeof Prec)[keyof typeof Prec];

interface Rendered {
  readonly text: string;
  readonly prec: Prec;
}

function wrap(rendered: Rendered, min: Prec): string {
  return rendered.prec < min ? `(${rendered.text})` : rendered.text;
}

function literalText(value: string | number | boolean): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** A parameter list: `p: Point, dy?: number, ...rest: number[]`. */
export function renderParams(params: readonly WireParam[], naming: TsNaming): string {
  return params.map((p) => `${p.rest ? "..." : ""}${p.name}${p.optional && !p.rest ? "?" : ""}: ${renderTsType(p.type, naming)}`).join(", ");
}

/** A result type: `undefined` is written `void`; `async` wraps it in Promise. */
export function renderReturn(type: WireType, naming: TsNaming, async = false): string {
  const inner = type.kind === "undefined" ? "void" : renderTsType(type, naming);
  return async ? `Promise<${inner}>` : inner;
}

function render(type: WireType, naming: TsNaming): Rendered {
  const primary = (text: string): Rendered => ({ text, prec: Prec.Primary });
  switch (type.kind) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "null":
    case "undefined":
    case "unknown":
      return primary(type.kind);
    case "literal":
      return primary(literalText(type.value));
    case "bytes":
      return primary("Uint8Array");
    case "date":
      return primary("Date");
    case "array":
      return primary(`${wrap(render(type.element, naming), Prec.Primary)}[]`);
    case "tuple":
      return primary(`[${type.elements.map((e, i) => `${renderTsType(e, naming)}${i >= type.minLength ? "?" : ""}`).join(", ")}]`);
    case "map":
      return primary(`${type.container === "map" ? "Map" : "Record"}<${renderTsType(type.key, naming)}, ${renderTsType(type.value, naming)}>`);
    case "object":
      return primary(
        type.fields.length === 0
          ? "{}"
          : `{ ${type.fields.map((f) => `${propertyKey(f.name)}${f.optional ? "?" : ""}: ${renderTsType(f.type, naming)}`).join("; ")} }`,
      );
    case "union":
      if (type.members.length === 0) return primary("never");
      if (type.members.length === 1) return render(type.members[0]!, naming);
      return { text: type.members.map((m) => wrap(render(m, naming), Prec.Union)).join(" | "), prec: Prec.Union };
    case "ref":
      return primary(naming.ref(type.name));
    case "netref":
      return primary(naming.netref(type.name, type.args ?? [], (t) => renderTsType(t, naming)));
    case "function":
      // A function that crossed the wire is a netref: calling it returns a promise.
      return { text: `(${renderParams(type.params, naming)}) => ${renderReturn(type.returns, naming, true)}`, prec: Prec.Function };
  }
}

/** TypeScript type text for a WireType. */
export function renderTsType(type: WireType, naming: TsNaming = PLAIN_NAMING): string {
  return render(type, naming).text;
}

/**
 * How a value of a WireType looks once it has crossed the wire (the runtime's RemoteValue):
 * data as declared, None where `undefined` was declared as `null`, a netref of a compiled
 * service as its Remote interface (`naming.netref`), a function as a RemoteFunction.
 */
export function renderRemoteType(type: WireType, naming: TsNaming, remoteFunction: string): string {
  return renderRemote(type, naming, remoteFunction).text;
}

function renderRemote(type: WireType, naming: TsNaming, fn: string): Rendered {
  const primary = (text: string): Rendered => ({ text, prec: Prec.Primary });
  const inner = (t: WireType): string => renderRemote(t, naming, fn).text;
  switch (type.kind) {
    case "undefined":
      return primary("null");
    case "array":
      return primary(`${wrap(renderRemote(type.element, naming, fn), Prec.Primary)}[]`);
    case "tuple":
      return primary(`[${type.elements.map((e, i) => `${inner(e)}${i >= type.minLength ? "?" : ""}`).join(", ")}]`);
    case "map":
      return primary(`${type.container === "map" ? "Map" : "Record"}<${inner(type.key)}, ${inner(type.value)}>`);
    case "object":
      return primary(
        type.fields.length === 0 ? "{}" : `{ ${type.fields.map((f) => `${propertyKey(f.name)}${f.optional ? "?" : ""}: ${inner(f.type)}`).join("; ")} }`,
      );
    case "union": {
      const members = [...new Set(type.members.map((m) => wrap(renderRemote(m, naming, fn), Prec.Union)))];
      if (members.length === 0) return primary("never");
      if (members.length === 1) return primary(members[0]!);
      return { text: members.join(" | "), prec: Prec.Union };
    }
    case "function":
      return primary(`${fn}<[${renderParams(type.params, naming)}], ${renderTsType(type.returns, naming)}>`);
    case "netref":
      // Items of a container netref reach the caller as results do (a function as a RemoteFunction).
      return primary(naming.netref(type.name, type.args ?? [], inner));
    default:
      return render(type, naming);
  }
}

/** True when `undefined` is already among the values of a type (so `| undefined` is not added twice). */
export function admitsUndefined(type: WireType): boolean {
  return type.kind === "undefined" || type.kind === "unknown" || (type.kind === "union" && type.members.some(admitsUndefined));
}

/** Type text of an optional parameter's value as a dispatch table receives it. */
export function renderOptional(type: WireType, naming: TsNaming): string {
  const text = render(type, naming);
  return admitsUndefined(type) ? text.text : `${wrap(text, Prec.Union)} | undefined`;
}

// ---- schema literals ----

/** A canonical copy of a WireType: only the keys the runtime defines, in its declaration order. */
export function cleanWireType(type: WireType): WireType {
  switch (type.kind) {
    case "literal":
      return { kind: "literal", value: type.value };
    case "array":
      return { kind: "array", element: cleanWireType(type.element) };
    case "tuple":
      return { kind: "tuple", elements: type.elements.map(cleanWireType), minLength: type.minLength };
    case "map":
      return { kind: "map", key: cleanWireType(type.key), value: cleanWireType(type.value), container: type.container };
    case "object":
      return { kind: "object", fields: type.fields.map((f) => ({ name: f.name, type: cleanWireType(f.type), optional: f.optional })) };
    case "union":
      return { kind: "union", members: type.members.map(cleanWireType) };
    case "ref":
      return { kind: "ref", name: type.name };
    case "netref":
      // Without `args`: the runtime never checks inside a netref, and a TypedDict's `ref` there
      // names a type the schema does not hold (nothing of it travels by value).
      return { kind: "netref", name: type.name };
    case "function":
      return { kind: "function", params: type.params.map(cleanParam), returns: cleanWireType(type.returns) };
    default:
      return { kind: type.kind };
  }
}

/** A canonical WireParam (docs and default values stripped: the schema is wire data only). */
export function cleanParam(param: WireParam): WireParam {
  return { name: param.name, type: cleanWireType(param.type), optional: param.optional, rest: param.rest };
}

/** Plain data as a one-line TypeScript literal: `{ kind: "ref", name: "Point" }`. */
export function renderLiteral(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(renderLiteral).join(", ")}]`;
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
    case "boolean":
      return String(value);
    case "object": {
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      return entries.length === 0 ? "{}" : `{ ${entries.map(([k, v]) => `${propertyKey(k)}: ${renderLiteral(v)}`).join(", ")} }`;
    }
    default:
      throw new TypeError(`rpyc-gen: cannot write a ${typeof value} into a schema literal`);
  }
}
