// ServiceDef -> the data the .proto template renders: one request and one response message
// per method, one message per attribute, per object type and per anonymous structure, enums
// with their proto3 zero value, unions as oneofs, maps as map<K, V> or entry messages.
// Field numbers follow declaration order; names are snake_case and unique per scope.

import type { FieldDef, ServiceDef, TypeDef, WireType } from "../model.js";
import type { ModelIndex } from "./context.js";
import { constantCase, NameScope, pascalCase, protoIdentifier, snakeCase } from "./names.js";
import { renderParams, renderReturn } from "./ts-types.js";

export interface ProtoField {
  /** "", "optional " or "repeated " (with the trailing space, so the template needs no logic). */
  readonly label: string;
  readonly type: string;
  readonly name: string;
  readonly number: number;
  readonly doc: readonly string[];
}

export interface ProtoMember {
  /** A plain field, or a oneof (then `fields` are its alternatives). */
  readonly field?: ProtoField;
  readonly oneof?: { readonly name: string; readonly doc: readonly string[]; readonly fields: readonly ProtoField[] };
}

export interface ProtoMessage {
  readonly isEnum: false;
  readonly name: string;
  readonly doc: readonly string[];
  readonly members: readonly ProtoMember[];
}

export interface ProtoEnum {
  readonly isEnum: true;
  readonly name: string;
  readonly doc: readonly string[];
  readonly allowAlias: boolean;
  readonly values: readonly { readonly name: string; readonly number: number; readonly comment?: string }[];
}

export interface ProtoRpc {
  readonly name: string;
  readonly request: string;
  readonly response: string;
  readonly doc: readonly string[];
}

/** Everything the proto template renders for one service. */
export interface ProtoFileView {
  readonly package: string;
  readonly serviceName: string;
  readonly serviceDoc: readonly string[];
  readonly rpcs: readonly ProtoRpc[];
  /** In file order: method messages, attribute messages, named types, helpers, RpycNetref. */
  readonly blocks: readonly (ProtoMessage | ProtoEnum)[];
}

/** The message every netref, function or `unknown` value is described by. */
export const NETREF_MESSAGE = "RpycNetref";

type Shape =
  | { readonly kind: "single"; readonly type: string; readonly nullable: boolean }
  | { readonly kind: "repeated"; readonly type: string }
  | { readonly kind: "map"; readonly key: string; readonly value: string }
  | { readonly kind: "oneof"; readonly members: readonly { readonly suffix: string; readonly type: string }[] }
  | { readonly kind: "none" };

interface FieldSpec {
  readonly name: string;
  readonly type: WireType;
  readonly optional: boolean;
  readonly doc?: string | undefined;
}

const SCALARS: Partial<Record<WireType["kind"], string>> = {
  string: "string",
  number: "double",
  boolean: "bool",
  bigint: "sint64",
  bytes: "bytes",
  date: "double", // seconds since the epoch, as the wire carries it
};

/** Lines of a doc comment (each rendered after `// `). */
export function docLines(doc: string | undefined): string[] {
  if (doc === undefined || doc.trim() === "") return [];
  return doc
    .replace(/\r\n?/g, "\n")
    .trim()
    .split("\n")
    .map((line) => line.trimEnd());
}

class ProtoBuilder {
  private readonly scope = new NameScope();
  private readonly enumValues = new NameScope();
  private readonly typeBlocks: (ProtoMessage | ProtoEnum)[] = [];
  private readonly helpers: ProtoMessage[] = [];
  private readonly aliasShapes = new Map<string, Shape>();
  private readonly aliasesInProgress = new Set<string>();
  private netrefUsed = false;

  constructor(
    private readonly index: ModelIndex,
    private readonly service: ServiceDef,
  ) {}

  build(): ProtoFileView {
    const types = this.index.closure(this.service);
    const serviceName = protoIdentifier(this.service.className, "Service");
    this.scope.reserve(serviceName, NETREF_MESSAGE, ...types.filter((t) => t.kind !== "alias").map((t) => protoTypeName(t.name)));

    const rpcNames = new NameScope();
    const rpcs: ProtoRpc[] = [];
    const memberMessages: ProtoMessage[] = [];
    for (const method of this.service.methods) {
      const base = protoIdentifier(pascalCase(method.name), "Method");
      const request = this.scope.claim(`${base}Request`);
      const response = this.scope.claim(`${base}Response`);
      const signature = `${method.name}(${renderParams(method.params, PROTO_COMMENT_NAMING)}): ${renderReturn(method.returns, PROTO_COMMENT_NAMING)}`;
      rpcs.push({ name: rpcNames.claim(base), request, response, doc: [signature, ...docLines(method.doc)] });
      memberMessages.push(message(request, [], this.fields(method.params, request)));
      memberMessages.push(message(response, [], this.fields([{ name: "result", type: method.returns, optional: false }], response)));
    }
    for (const attribute of this.service.attributes) {
      const name = this.scope.claim(`${protoIdentifier(pascalCase(attribute.name), "Attribute")}Attribute`);
      const doc = [`attribute ${attribute.name}${attribute.readonly ? " (read-only)" : ""}`, ...docLines(attribute.doc)];
      memberMessages.push(message(name, doc, this.fields([{ name: "value", type: attribute.type, optional: false }], name)));
    }
    for (const def of types) this.declare(def);

    const blocks: (ProtoMessage | ProtoEnum)[] = [
      ...memberMessages,
      ...this.typeBlocks.sort((a, b) => compareNames(a.name, b.name)),
      ...this.helpers.sort((a, b) => compareNames(a.name, b.name)),
    ];
    if (this.netrefUsed) blocks.push(netrefMessage());
    return {
      package: `rpyc.${protoPackagePart(this.service.name)}`,
      serviceName,
      serviceDoc: [`${this.service.className}: service ${this.service.aliases.join(", ")}`, ...docLines(this.service.doc)],
      rpcs,
      blocks,
    };
  }

  /** A named type of the model: objects become messages, enums enums; aliases are inlined where used. */
  private declare(def: TypeDef): void {
    switch (def.kind) {
      case "object":
        this.typeBlocks.push(message(protoTypeName(def.name), docLines(def.doc), this.fields(def.fields.map(fieldSpec), protoTypeName(def.name))));
        return;
      case "enum":
        this.typeBlocks.push(this.enumBlock(def));
        return;
      case "alias":
        return;
    }
  }

  private enumBlock(def: Extract<TypeDef, { kind: "enum" }>): ProtoEnum {
    const prefix = constantCase(def.name) || protoIdentifier(def.name.toUpperCase(), "ENUM");
    const valueName = (member: string): string =>
      this.enumValues.claim(`${prefix}_${constantCase(member) || protoIdentifier(member.toUpperCase(), "VALUE")}`, "_");
    const numeric = def.members.every((m) => typeof m.value === "number" && Number.isInteger(m.value) && Math.abs(m.value) < 2 ** 31);
    const values: { name: string; number: number; comment?: string }[] = [];
    if (numeric) {
      // Numeric enums keep their numbers; proto3 wants the zero value first.
      const members = [...def.members.filter((m) => m.value === 0), ...def.members.filter((m) => m.value !== 0)];
      if (members[0]?.value !== 0) values.push({ name: this.enumValues.claim(`${prefix}_UNSPECIFIED`, "_"), number: 0 });
      for (const m of members) values.push({ name: valueName(m.name), number: m.value as number });
    } else {
      // String (or mixed) enums: numbered in declaration order after the zero value; the value is noted.
      values.push({ name: this.enumValues.claim(`${prefix}_UNSPECIFIED`, "_"), number: 0 });
      def.members.forEach((m, i) => values.push({ name: valueName(m.name), number: i + 1, comment: JSON.stringify(m.value) }));
    }
    const allowAlias = new Set(values.map((v) => v.number)).size !== values.length;
    return { isEnum: true, name: protoTypeName(def.name), doc: docLines(def.doc), allowAlias, values };
  }

  /** The fields of one message, numbered in declaration order. */
  private fields(specs: readonly FieldSpec[], messageName: string): ProtoMember[] {
    const numbering = { names: new NameScope(), next: 1 };
    return specs.flatMap((spec) => {
      const shape = this.shapeOf(spec.type, `${messageName}${protoIdentifier(pascalCase(spec.name), "Field")}`);
      return toMembers(spec.name, shape, spec.optional, docLines(spec.doc), numbering);
    });
  }

  /** How a WireType is carried; `hint` names any message it needs. */
  private shapeOf(type: WireType, hint: string): Shape {
    const scalar = SCALARS[type.kind];
    if (scalar) return single(scalar);
    switch (type.kind) {
      case "literal":
        return single(literalScalar(type.value));
      case "null":
      case "undefined":
        return { kind: "none" };
      case "unknown":
      case "function":
      case "netref":
        this.netrefUsed = true;
        return single(NETREF_MESSAGE);
      case "ref": {
        const def = this.index.typeDef(type.name);
        return def.kind === "alias" ? this.aliasShape(def) : single(protoTypeName(def.name));
      }
      case "array":
        return { kind: "repeated", type: this.singular(type.element, `${hint}Item`) };
      case "tuple":
        return single(
          this.helper(
            hint,
            type.elements.map((element, i) => ({ name: `item_${i}`, type: element, optional: i >= type.minLength })),
          ),
        );
      case "map": {
        const key = mapKey(type.key, this.index);
        if (key) return { kind: "map", key, value: this.singular(type.value, `${hint}Value`) };
        const entry = this.helper(`${hint}Entry`, [
          { name: "key", type: type.key, optional: false },
          { name: "value", type: type.value, optional: false },
        ]);
        return { kind: "repeated", type: entry };
      }
      case "object":
        return single(this.helper(hint, type.fields.map(fieldSpec)));
      case "union":
        return this.unionShape(type, hint);
      default:
        throw new Error(`rpyc-gen: no proto type for ${type.kind}`);
    }
  }

  /** Aliases are inlined where used; a recursive alias gets a message of its own name. */
  private aliasShape(def: Extract<TypeDef, { kind: "alias" }>): Shape {
    const known = this.aliasShapes.get(def.name);
    if (known) return known;
    const name = protoTypeName(def.name);
    if (this.aliasesInProgress.has(def.name)) {
      const shape = single(this.scope.claim(name));
      this.aliasShapes.set(def.name, shape);
      return shape;
    }
    this.aliasesInProgress.add(def.name);
    const inner = this.shapeOf(def.type, name);
    this.aliasesInProgress.delete(def.name);
    const recursive = this.aliasShapes.get(def.name);
    if (recursive?.kind === "single") {
      const members = toMembers("value", inner, false, [], { names: new NameScope(), next: 1 });
      this.helpers.push(message(recursive.type, docLines(def.doc), members));
      return recursive;
    }
    this.aliasShapes.set(def.name, inner);
    return inner;
  }

  private unionShape(type: Extract<WireType, { kind: "union" }>, hint: string): Shape {
    const members = flattenUnion(type, this.index);
    const nullable = members.some((m) => m.kind === "null" || m.kind === "undefined");
    // Literals of one kind share a scalar alternative; any other distinct member keeps its own,
    // also when two share a suffix (two inline objects of a discriminated union, two arrays).
    const byType = new Map<string, [string, WireType]>();
    for (const member of members) {
      if (member.kind === "null" || member.kind === "undefined") continue;
      const base = member.kind === "literal" ? ({ kind: literalKind(member.value) } as WireType) : member;
      const key = JSON.stringify(base);
      if (!byType.has(key)) byType.set(key, [unionSuffix(base), base]);
    }
    const alternatives = [...byType.values()];
    if (alternatives.length === 0) return { kind: "none" };
    if (alternatives.length === 1) {
      const shape = this.shapeOf(alternatives[0]![1], hint);
      return shape.kind === "single" ? { ...shape, nullable: shape.nullable || nullable } : shape;
    }
    const suffixes = new NameScope();
    return {
      kind: "oneof",
      members: alternatives.map(([suffix, member]) => {
        const unique = suffixes.claim(suffix, "_");
        return { suffix: unique, type: this.singular(member, `${hint}${pascalCase(unique)}`) };
      }),
    };
  }

  /** A type usable where proto wants one message or scalar (repeated elements, map values, oneof members). */
  private singular(type: WireType, hint: string): string {
    const shape = this.shapeOf(type, hint);
    if (shape.kind === "single" && !shape.nullable) return shape.type;
    return this.helper(hint, [{ name: "value", type, optional: false }]);
  }

  /** A message made for an anonymous structure; its name comes from where it is used. */
  private helper(hint: string, specs: readonly FieldSpec[]): string {
    const name = this.scope.claim(hint);
    this.helpers.push(message(name, [], this.fields(specs, name)));
    return name;
  }
}

/** The proto field(s) for one value of a given shape: a field, or a oneof of alternatives. */
function toMembers(fieldName: string, shape: Shape, optional: boolean, doc: readonly string[], numbering: { names: NameScope; next: number }): ProtoMember[] {
  if (shape.kind === "none") return []; // null/undefined only: nothing to carry
  const name = numbering.names.claim(protoIdentifier(snakeCase(fieldName) || fieldName, "field"), "_");
  switch (shape.kind) {
    case "single":
      return [{ field: { label: optional || shape.nullable ? "optional " : "", type: shape.type, name, number: numbering.next++, doc } }];
    case "repeated":
      return [{ field: { label: "repeated ", type: shape.type, name, number: numbering.next++, doc } }];
    case "map":
      return [{ field: { label: "", type: `map<${shape.key}, ${shape.value}>`, name, number: numbering.next++, doc } }];
    case "oneof": {
      const fields = shape.members.map((m) => ({
        label: "",
        type: m.type,
        name: numbering.names.claim(`${name}_${m.suffix}`, "_"),
        number: numbering.next++,
        doc: [],
      }));
      return [{ oneof: { name, doc, fields } }];
    }
  }
}

function message(name: string, doc: readonly string[], members: readonly ProtoMember[]): ProtoMessage {
  return { isEnum: false, name, doc, members };
}

function single(type: string): Shape {
  return { kind: "single", type, nullable: false };
}

function fieldSpec(field: FieldDef | { readonly name: string; readonly type: WireType; readonly optional: boolean; readonly doc?: string }): FieldSpec {
  return { name: field.name, type: field.type, optional: field.optional, doc: field.doc };
}

function literalKind(value: string | number | boolean): "string" | "number" | "boolean" {
  return typeof value === "string" ? "string" : typeof value === "number" ? "number" : "boolean";
}

function literalScalar(value: string | number | boolean): string {
  return SCALARS[literalKind(value)]!;
}

/** Union members with nested unions and aliases of unions spread out. */
function flattenUnion(type: WireType, index: ModelIndex, seen: Set<string> = new Set()): WireType[] {
  if (type.kind === "union") return type.members.flatMap((m) => flattenUnion(m, index, seen));
  if (type.kind === "ref" && !seen.has(type.name)) {
    const def = index.typeDef(type.name);
    if (def.kind === "alias" && def.type.kind === "union") {
      seen.add(type.name);
      return flattenUnion(def.type, index, seen);
    }
  }
  return [type];
}

/** The name a union alternative gets in its oneof: `value_string`, `value_point`, ... */
function unionSuffix(type: WireType): string {
  switch (type.kind) {
    case "ref":
      return snakeCase(type.name) || "ref";
    case "array":
      return "list";
    case "unknown":
    case "function":
    case "netref":
      return "netref";
    default:
      return type.kind;
  }
}

/** The proto map key type for a WireType, if proto allows it as a key (string, integer, bool). */
function mapKey(type: WireType, index: ModelIndex): string | undefined {
  const members = flattenUnion(type, index).map((m) => {
    if (m.kind === "ref") {
      const def = index.typeDef(m.name);
      return def.kind === "alias" ? def.type : m;
    }
    return m;
  });
  const kinds = new Set(members.map((m) => (m.kind === "literal" ? literalKind(m.value) : m.kind)));
  if (kinds.size !== 1) return undefined;
  const [kind] = kinds;
  return kind === "string" ? "string" : kind === "bigint" ? "sint64" : kind === "boolean" ? "bool" : undefined;
}

function netrefMessage(): ProtoMessage {
  const field = (type: string, name: string, number: number): ProtoMember => ({ field: { label: "", type, name, number, doc: [] } });
  return message(
    NETREF_MESSAGE,
    ["A remote object (RPyC netref), named by its id_pack: (name_pack, class_id, instance_id)."],
    [field("string", "name_pack", 1), field("sint64", "class_id", 2), field("sint64", "instance_id", 3)],
  );
}

/** Type text for signatures in proto comments: named types by name, netrefs by class name. */
const PROTO_COMMENT_NAMING = { ref: (name: string) => name, netref: (name: string) => name };

/** A model type name as a proto identifier (TypeScript names may hold `$`, proto names may not). */
function protoTypeName(name: string): string {
  return protoIdentifier(name, "Type");
}

function protoPackagePart(name: string): string {
  const part = name.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return /^[a-z]/.test(part) ? part : `s_${part}`;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The proto file view of one service. */
export function protoView(index: ModelIndex, service: ServiceDef): ProtoFileView {
  return new ProtoBuilder(index, service).build();
}
