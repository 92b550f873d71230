// The breaking-change rules of `rpyc-gen diff`, one table row per rule (small in-memory models,
// a few from TypeScript sources through extractFromProject, a few from Python sources written to
// a temp directory through extractPythonModel) with variance in nested positions;
// the report's shape (determinism, locations, rename hints, every rule covered); agreement with the runtime's decoder.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Project, ts } from "ts-morph";
import { afterAll, describe, expect, it } from "vitest";
import { DIFF_RULES, diffModels, type DiffCode, type DiffReport, type DiffSeverity } from "../../compiler/diff.js";
import { extractFromProject } from "../../compiler/extract.js";
import { extractPythonModel } from "../../compiler/extract-python.js";
import type { AttributeDef, MethodDef, ParamDef, ServiceDef, ServiceModel, TypeDef, WireField, WireType } from "../../compiler/model.js";
import { decodeValue, encodeValue, SchemaError } from "../../runtime/compiled/schema.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

// ---- small model builders ----------------------------------------------------------------

const S: WireType = { kind: "string" };
const N: WireType = { kind: "number" };
const BIG: WireType = { kind: "bigint" };
const BOOL: WireType = { kind: "boolean" };
const NULL: WireType = { kind: "null" };
const UNDEF: WireType = { kind: "undefined" };
const DATE: WireType = { kind: "date" };
const UNKNOWN: WireType = { kind: "unknown" };
const lit = (value: string | number | boolean): WireType => ({ kind: "literal", value });
const union = (...members: WireType[]): WireType => ({ kind: "union", members });
const ref = (name: string): WireType => ({ kind: "ref", name });
const netref = (name: string, args?: WireType[]): WireType => ({ kind: "netref", name, ...(args ? { args } : {}) });
const list = (item: WireType): WireType => netref("builtins.list", [item]);
const dict = (key: WireType, value: WireType): WireType => netref("builtins.dict", [key, value]);
const frozenset = (item: WireType): WireType => netref("builtins.frozenset", [item]);
/** A TypedDict as rpyc-gen's Python extractor writes it: a dict netref whose one argument names its keys. */
const typedDict = (name: string): WireType => netref("builtins.dict", [ref(name)]);
const INT = union(N, BIG);
const arr = (element: WireType): WireType => ({ kind: "array", element });
const tuple = (minLength: number, ...elements: WireType[]): WireType => ({ kind: "tuple", elements, minLength });
const record = (value: WireType): WireType => ({ kind: "map", key: S, value, container: "record" });
const map = (value: WireType): WireType => ({ kind: "map", key: S, value, container: "map" });
const fn = (params: ParamDef[], returns: WireType): WireType => ({ kind: "function", params, returns });

const at = (line: number) => ({ file: "svc.ts", line, column: 3 });
const p = (name: string, type: WireType, more: { optional?: boolean; rest?: boolean; default?: string } = {}): ParamDef => ({
  name,
  type,
  optional: more.optional ?? more.default !== undefined,
  rest: more.rest ?? false,
  ...(more.default === undefined ? {} : { default: more.default }),
});
const method = (name: string, params: ParamDef[], returns: WireType = NULL, keywords: { only?: ParamDef[]; rest?: ParamDef } = {}): MethodDef => ({
  name,
  member: `exposed_${name}`,
  params,
  ...(keywords.only ? { keywordOnly: keywords.only } : {}),
  ...(keywords.rest ? { keywordRest: keywords.rest } : {}),
  returns,
  async: false,
  declaredIn: "Svc",
  location: at(10),
});
const attr = (name: string, type: WireType, readonly = false): AttributeDef => ({
  name,
  member: `exposed_${name}`,
  type,
  readonly,
  kind: "property",
  declaredIn: "Svc",
  location: at(20),
});
const field = (name: string, type: WireType, optional = false): WireField & { readonly: boolean } => ({ name, type, optional, readonly: false });
const objectType = (name: string, fields: ReturnType<typeof field>[]): TypeDef => ({
  kind: "object",
  name,
  fields,
  location: { file: "types.ts", line: 5, column: 1 },
});
const enumType = (name: string, members: [string, string | number][]): TypeDef => ({
  kind: "enum",
  name,
  members: members.map(([member, value]) => ({ name: member, value })),
  location: { file: "types.ts", line: 30, column: 1 },
});
const aliasType = (name: string, type: WireType): TypeDef => ({ kind: "alias", name, type, location: { file: "types.ts", line: 40, column: 1 } });

const service = (members: { methods?: MethodDef[]; attributes?: AttributeDef[]; className?: string; aliases?: string[] } = {}): ServiceDef => {
  const className = members.className ?? "Svc";
  const aliases = members.aliases ?? [className.replace(/Service$/, "").toUpperCase()];
  return {
    className,
    name: aliases[0]!,
    aliases,
    explicitAliases: members.aliases !== undefined,
    module: "svc.ts",
    exportName: className,
    bases: [],
    location: at(1),
    methods: [...(members.methods ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1)),
    attributes: [...(members.attributes ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
};
const model = (services: ServiceDef[], types: TypeDef[] = []): ServiceModel => ({ version: 1, services, types });
const oneService = (members: Parameters<typeof service>[0], types: TypeDef[] = []): ServiceModel => model([service(members)], types);

/** A service whose only member uses `type` in `position`. */
function using(type: WireType, position: "param" | "result" | "readonly" | "writable", types: TypeDef[] = []): ServiceModel {
  if (position === "param") return oneService({ methods: [method("f", [p("x", type)])] }, types);
  if (position === "result") return oneService({ methods: [method("f", [], type)] }, types);
  return oneService({ attributes: [attr("a", type, position === "readonly")] }, types);
}

type Expected = readonly (readonly [DiffSeverity, DiffCode, string])[];

interface Row {
  readonly name: string;
  readonly old: ServiceModel;
  readonly new: ServiceModel;
  /** Every entry of the report, as [severity, code, path], in report order. */
  readonly expect: Expected;
}

const B = "breaking" as const;
const OK = "safe" as const;

function entriesOf(report: DiffReport): Expected {
  return report.entries.map((e) => [e.severity, e.code, e.path] as const);
}

// ---- the rules table ---------------------------------------------------------------------

const SERVICE_ROWS: Row[] = [
  {
    name: "a removed service",
    old: model([service(), service({ className: "OtherService" })]),
    new: model([service()]),
    expect: [[B, "RPYC_DIFF_SERVICE_REMOVED", ""]],
  },
  {
    name: "a new service",
    old: model([service()]),
    new: model([service(), service({ className: "OtherService" })]),
    expect: [[OK, "RPYC_DIFF_SERVICE_ADDED", ""]],
  },
  {
    name: "a renamed class with the same service name (netrefs to it follow the rename)",
    old: model([service({ className: "CounterService", aliases: ["COUNTER"], methods: [method("clone", [], netref("CounterService"))] })]),
    new: model([service({ className: "TallyService", aliases: ["COUNTER"], methods: [method("clone", [], netref("TallyService"))] })]),
    expect: [[B, "RPYC_DIFF_SERVICE_CLASS_RENAMED", ""]],
  },
  {
    name: "a changed formal name, the old one kept as an alias",
    old: model([service({ aliases: ["FLOOP", "BLOOP"] })]),
    new: model([service({ aliases: ["BLOOP", "FLOOP"] })]),
    expect: [[B, "RPYC_DIFF_SERVICE_NAME_CHANGED", ""]],
  },
  {
    name: "a changed formal name, the old one dropped",
    old: model([service({ aliases: ["FLOOP"] })]),
    new: model([service({ aliases: ["BLOOP"] })]),
    expect: [[B, "RPYC_DIFF_SERVICE_NAME_CHANGED", ""]],
  },
  {
    name: "a removed alias",
    old: model([service({ aliases: ["FLOOP", "BLOOP"] })]),
    new: model([service({ aliases: ["FLOOP"] })]),
    expect: [[B, "RPYC_DIFF_ALIAS_REMOVED", ""]],
  },
  {
    name: "a new alias",
    old: model([service({ aliases: ["FLOOP"] })]),
    new: model([service({ aliases: ["FLOOP", "BLOOP"] })]),
    expect: [[OK, "RPYC_DIFF_ALIAS_ADDED", ""]],
  },
  {
    name: "a service found by its alias after a class rename and a new formal name",
    old: model([service({ className: "OldService", aliases: ["A", "B"] })]),
    new: model([service({ className: "NewService", aliases: ["B"] })]),
    expect: [
      [B, "RPYC_DIFF_SERVICE_CLASS_RENAMED", ""],
      [B, "RPYC_DIFF_SERVICE_NAME_CHANGED", ""],
    ],
  },
];

const MEMBER_ROWS: Row[] = [
  {
    name: "a removed method",
    old: oneService({ methods: [method("f", []), method("g", [])] }),
    new: oneService({ methods: [method("f", [])] }),
    expect: [[B, "RPYC_DIFF_MEMBER_REMOVED", "g"]],
  },
  { name: "a removed attribute", old: oneService({ attributes: [attr("a", N)] }), new: oneService({}), expect: [[B, "RPYC_DIFF_MEMBER_REMOVED", "a"]] },
  { name: "a new method", old: oneService({}), new: oneService({ methods: [method("f", [])] }), expect: [[OK, "RPYC_DIFF_MEMBER_ADDED", "f"]] },
  {
    name: "a renamed method (removed + added)",
    old: oneService({ methods: [method("get_x", [p("id", S)], N)] }),
    new: oneService({ methods: [method("fetch_x", [p("id", S)], N)] }),
    expect: [
      [B, "RPYC_DIFF_MEMBER_REMOVED", "get_x"],
      [OK, "RPYC_DIFF_MEMBER_ADDED", "fetch_x"],
    ],
  },
  {
    name: "a method that became an attribute",
    old: oneService({ methods: [method("f", [], N)] }),
    new: oneService({ attributes: [attr("f", N)] }),
    expect: [[B, "RPYC_DIFF_MEMBER_KIND_CHANGED", "f"]],
  },
  {
    name: "an attribute that became a method",
    old: oneService({ attributes: [attr("f", N)] }),
    new: oneService({ methods: [method("f", [], N)] }),
    expect: [[B, "RPYC_DIFF_MEMBER_KIND_CHANGED", "f"]],
  },
  {
    name: "a writable attribute that became readonly",
    old: using(N, "writable"),
    new: using(N, "readonly"),
    expect: [[B, "RPYC_DIFF_ATTRIBUTE_READONLY", "a"]],
  },
  {
    name: "a readonly attribute that became writable",
    old: using(N, "readonly"),
    new: using(N, "writable"),
    expect: [[OK, "RPYC_DIFF_ATTRIBUTE_WRITABLE", "a"]],
  },
];

const withParams = (...params: ParamDef[]): ServiceModel => oneService({ methods: [method("f", params)] });

const PARAM_ROWS: Row[] = [
  {
    name: "a required parameter added at the end",
    old: withParams(p("a", N)),
    new: withParams(p("a", N), p("b", N)),
    expect: [[B, "RPYC_DIFF_PARAM_ADDED_REQUIRED", "f(b)"]],
  },
  {
    name: "an optional parameter added at the end",
    old: withParams(p("a", N)),
    new: withParams(p("a", N), p("b", N, { default: "0" })),
    expect: [[OK, "RPYC_DIFF_PARAM_ADDED", "f(b)"]],
  },
  {
    name: "a rest parameter added at the end",
    old: withParams(p("a", N)),
    new: withParams(p("a", N), p("more", arr(N), { rest: true })),
    expect: [[OK, "RPYC_DIFF_PARAM_ADDED", "f(more)"]],
  },
  {
    name: "an optional parameter inserted before another",
    old: withParams(p("a", N), p("c", N)),
    new: withParams(p("a", N), p("b", N, { optional: true }), p("c", N)),
    expect: [[B, "RPYC_DIFF_PARAM_INSERTED", "f(b)"]],
  },
  {
    name: "the last parameter removed",
    old: withParams(p("a", N), p("b", N, { optional: true })),
    new: withParams(p("a", N)),
    expect: [[B, "RPYC_DIFF_PARAM_REMOVED", "f(b)"]],
  },
  {
    name: "a middle parameter removed (later ones shift)",
    old: withParams(p("a", N), p("b", S), p("c", N)),
    new: withParams(p("a", N), p("c", N)),
    expect: [[B, "RPYC_DIFF_PARAM_REMOVED", "f(b)"]],
  },
  {
    name: "parameters reordered",
    old: withParams(p("a", S), p("b", S)),
    new: withParams(p("b", S), p("a", S)),
    expect: [[B, "RPYC_DIFF_PARAM_REORDERED", "f"]],
  },
  { name: "a parameter renamed in place", old: withParams(p("a", S)), new: withParams(p("name", S)), expect: [[OK, "RPYC_DIFF_PARAM_RENAMED", "f(a)"]] },
  {
    name: "an optional parameter that became required",
    old: withParams(p("a", N, { optional: true })),
    new: withParams(p("a", N)),
    expect: [[B, "RPYC_DIFF_PARAM_REQUIRED", "f(a)"]],
  },
  {
    name: "a required parameter that became optional",
    old: withParams(p("a", N)),
    new: withParams(p("a", N, { optional: true })),
    expect: [[OK, "RPYC_DIFF_PARAM_OPTIONAL", "f(a)"]],
  },
  {
    name: "a rest parameter that became a single one",
    old: withParams(p("xs", arr(N), { rest: true })),
    new: withParams(p("xs", N)),
    expect: [
      [B, "RPYC_DIFF_PARAM_REQUIRED", "f(xs)"],
      [B, "RPYC_DIFF_PARAM_NO_LONGER_VARIADIC", "f(xs)"],
    ],
  },
  {
    name: "a rest parameter that became a single optional one",
    old: withParams(p("xs", arr(N), { rest: true })),
    new: withParams(p("xs", N, { optional: true })),
    expect: [[B, "RPYC_DIFF_PARAM_NO_LONGER_VARIADIC", "f(xs)"]],
  },
  {
    name: "a changed default",
    old: withParams(p("a", N, { default: "1" })),
    new: withParams(p("a", N, { default: "2" })),
    expect: [[OK, "RPYC_DIFF_PARAM_DEFAULT_CHANGED", "f(a)"]],
  },
];

const point = (x: WireType): TypeDef => objectType("Point", [field("x", x), field("y", N)]);

const TYPE_ROWS: Row[] = [
  // parameters must not narrow
  { name: "param widened to a union", old: using(N, "param"), new: using(union(N, S), "param"), expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]] },
  { name: "param narrowed from a union", old: using(union(N, S), "param"), new: using(N, "param"), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]] },
  { name: "param number -> bigint (floats no longer fit)", old: using(N, "param"), new: using(BIG, "param"), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]] },
  {
    name: "param bigint -> number (large ints no longer fit)",
    old: using(BIG, "param"),
    new: using(N, "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]],
  },
  {
    name: "param number -> number | bigint",
    old: using(N, "param"),
    new: using(union(N, BIG), "param"),
    expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]],
  },
  {
    name: "param literals narrowed",
    old: using(union(lit("a"), lit("b")), "param"),
    new: using(lit("a"), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]],
  },
  { name: "param literal -> string", old: using(lit("a"), "param"), new: using(S, "param"), expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]] },
  { name: "param boolean -> true", old: using(BOOL, "param"), new: using(lit(true), "param"), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]] },
  { name: "param true | false == boolean", old: using(union(lit(true), lit(false)), "param"), new: using(BOOL, "param"), expect: [] },
  { name: "null and undefined are both None", old: using(union(S, NULL), "writable"), new: using(union(S, UNDEF), "writable"), expect: [] },
  { name: "param date -> number", old: using(DATE, "param"), new: using(N, "param"), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]] },
  { name: "param string -> unknown", old: using(S, "param"), new: using(UNKNOWN, "param"), expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]] },
  { name: "param unknown -> string", old: using(UNKNOWN, "param"), new: using(S, "param"), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]] },
  {
    name: "param tuple gains a required element",
    old: using(tuple(2, N, N, N), "param"),
    new: using(tuple(3, N, N, N), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]],
  },
  {
    name: "param tuple element becomes optional",
    old: using(tuple(3, N, N, N), "param"),
    new: using(tuple(2, N, N, N), "param"),
    expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]],
  },
  {
    name: "param tuple element narrowed",
    old: using(tuple(2, N, union(N, S)), "param"),
    new: using(tuple(2, N, N), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)[1]"]],
  },
  { name: "param tuple -> array", old: using(tuple(2, N, N), "param"), new: using(arr(N), "param"), expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]] },
  { name: "param array -> tuple", old: using(arr(N), "param"), new: using(tuple(2, N, N), "param"), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]] },
  {
    name: "param array element narrowed",
    old: using(arr(union(N, S)), "param"),
    new: using(arr(N), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)[]"]],
  },
  {
    name: "param map value narrowed",
    old: using(record(union(N, S)), "param"),
    new: using(record(N), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)[value]"]],
  },
  { name: "Record <-> Map is the same pairs on the wire", old: using(record(N), "writable"), new: using(map(N), "writable"), expect: [] },
  // results must not widen
  { name: "result widened", old: using(N, "result"), new: using(union(N, NULL), "result"), expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]] },
  { name: "result narrowed", old: using(union(N, NULL), "result"), new: using(N, "result"), expect: [[OK, "RPYC_DIFF_RESULT_TYPE_NARROWED", "f()"]] },
  { name: "result string -> unknown", old: using(S, "result"), new: using(UNKNOWN, "result"), expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]] },
  { name: "readonly attribute widened", old: using(N, "readonly"), new: using(union(N, S), "readonly"), expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "a"]] },
  {
    name: "readonly attribute narrowed",
    old: using(union(N, S), "readonly"),
    new: using(N, "readonly"),
    expect: [[OK, "RPYC_DIFF_RESULT_TYPE_NARROWED", "a"]],
  },
  // both directions must not change
  {
    name: "writable attribute narrowed (writes break)",
    old: using(union(N, S), "writable"),
    new: using(N, "writable"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "a"]],
  },
  {
    name: "writable attribute widened (reads break)",
    old: using(N, "writable"),
    new: using(union(N, S), "writable"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "a"]],
  },
  // value <-> netref
  { name: "param value -> netref", old: using(S, "param"), new: using(netref("Handle"), "param"), expect: [[B, "RPYC_DIFF_BECAME_NETREF", "f(x)"]] },
  { name: "result value -> netref", old: using(S, "result"), new: using(netref("Handle"), "result"), expect: [[B, "RPYC_DIFF_BECAME_NETREF", "f()"]] },
  { name: "result netref -> value", old: using(netref("Handle"), "result"), new: using(S, "result"), expect: [[B, "RPYC_DIFF_BECAME_VALUE", "f()"]] },
  { name: "param function -> value", old: using(fn([], N), "param"), new: using(N, "param"), expect: [[B, "RPYC_DIFF_BECAME_VALUE", "f(x)"]] },
  {
    name: "result netref of another class",
    old: using(netref("A"), "result"),
    new: using(netref("B"), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]],
  },
  // enums
  {
    name: "enum member removed, in a param",
    old: using(ref("Color"), "param", [
      enumType("Color", [
        ["Red", "r"],
        ["Blue", "b"],
      ]),
    ]),
    new: using(ref("Color"), "param", [enumType("Color", [["Red", "r"]])]),
    expect: [[B, "RPYC_DIFF_ENUM_MEMBER_REMOVED", "f(x)"]],
  },
  {
    name: "enum member added, in a param",
    old: using(ref("Color"), "param", [enumType("Color", [["Red", "r"]])]),
    new: using(ref("Color"), "param", [
      enumType("Color", [
        ["Red", "r"],
        ["Blue", "b"],
      ]),
    ]),
    expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]],
  },
  {
    name: "enum member added, in a result",
    old: using(ref("Color"), "result", [enumType("Color", [["Red", "r"]])]),
    new: using(ref("Color"), "result", [
      enumType("Color", [
        ["Red", "r"],
        ["Blue", "b"],
      ]),
    ]),
    expect: [[B, "RPYC_DIFF_ENUM_MEMBER_ADDED", "f()"]],
  },
  {
    name: "enum member removed, in a result",
    old: using(ref("Color"), "result", [
      enumType("Color", [
        ["Red", "r"],
        ["Blue", "b"],
      ]),
    ]),
    new: using(ref("Color"), "result", [enumType("Color", [["Red", "r"]])]),
    expect: [[OK, "RPYC_DIFF_RESULT_TYPE_NARROWED", "f()"]],
  },
  {
    name: "enum member renamed, value kept",
    old: using(ref("Color"), "writable", [enumType("Color", [["Red", "r"]])]),
    new: using(ref("Color"), "writable", [enumType("Color", [["Crimson", "r"]])]),
    expect: [],
  },
  // object fields: tuples of every field, in order
  {
    name: "required field added to a param type",
    old: using(ref("P"), "param", [objectType("P", [field("a", N)])]),
    new: using(ref("P"), "param", [objectType("P", [field("a", N), field("b", N)])]),
    expect: [[B, "RPYC_DIFF_FIELD_ADDED", "f(x).b"]],
  },
  {
    name: "optional field added to a result type (the tuple length changes)",
    old: using(ref("P"), "result", [objectType("P", [field("a", N)])]),
    new: using(ref("P"), "result", [objectType("P", [field("a", N), field("b", N, true)])]),
    expect: [[B, "RPYC_DIFF_FIELD_ADDED", "f().b"]],
  },
  {
    name: "field removed from a result type",
    old: using(ref("P"), "result", [objectType("P", [field("a", N), field("b", N)])]),
    new: using(ref("P"), "result", [objectType("P", [field("a", N)])]),
    expect: [[B, "RPYC_DIFF_FIELD_REMOVED", "f().b"]],
  },
  {
    name: "fields reordered",
    old: using(ref("P"), "param", [objectType("P", [field("a", N), field("b", N)])]),
    new: using(ref("P"), "param", [objectType("P", [field("b", N), field("a", N)])]),
    expect: [[B, "RPYC_DIFF_FIELD_REORDERED", "f(x)"]],
  },
  {
    name: "field renamed in place",
    old: using(ref("P"), "writable", [objectType("P", [field("a", N)])]),
    new: using(ref("P"), "writable", [objectType("P", [field("alpha", N)])]),
    expect: [[OK, "RPYC_DIFF_FIELD_RENAMED", "a.a"]],
  },
  {
    name: "optional field became required, in a param",
    old: using(ref("P"), "param", [objectType("P", [field("a", N, true)])]),
    new: using(ref("P"), "param", [objectType("P", [field("a", N)])]),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x).a"]],
  },
  {
    name: "required field became optional, in a result",
    old: using(ref("P"), "result", [objectType("P", [field("a", N)])]),
    new: using(ref("P"), "result", [objectType("P", [field("a", N, true)])]),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f().a"]],
  },
  {
    name: "a named type renamed, same structure",
    old: using(ref("User"), "writable", [objectType("User", [field("id", S)])]),
    new: using(ref("Account"), "writable", [objectType("Account", [field("id", S)])]),
    expect: [],
  },
  {
    name: "an alias resolved on both sides",
    old: using(ref("Id"), "param", [aliasType("Id", S)]),
    new: using(ref("Id"), "param", [aliasType("Id", union(S, N))]),
    expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]],
  },
];

/** One named type used as a parameter of put and the result of get: each use site is judged by its own variance. */
const pointService = (x: WireType): ServiceModel =>
  oneService({ methods: [method("put", [p("at", ref("Point"))]), method("get", [], ref("Point"))] }, [point(x)]);
const searchTypes = (members: WireType[]): TypeDef[] => [
  aliasType("Found", union(...members)),
  objectType("Hit", [field("kind", lit("hit")), field("id", N)]),
  objectType("Miss", [field("kind", lit("miss")), field("query", S)]),
];

const NESTED_ROWS: Row[] = [
  {
    name: "a named type widened: safe where it is a param, breaking where it is a result",
    old: pointService(N),
    new: pointService(union(N, S)),
    expect: [
      [B, "RPYC_DIFF_TYPE_WIDENED", "get().x"],
      [OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "put(at)"],
    ],
  },
  {
    name: "a named type narrowed: breaking where it is a param, safe where it is a result",
    old: pointService(union(N, S)),
    new: pointService(N),
    expect: [
      [B, "RPYC_DIFF_TYPE_NARROWED", "put(at).x"],
      [OK, "RPYC_DIFF_RESULT_TYPE_NARROWED", "get()"],
    ],
  },
  {
    name: "a union member added to a result",
    old: using(ref("Found"), "result", searchTypes([ref("Hit")])),
    new: using(ref("Found"), "result", searchTypes([ref("Hit"), ref("Miss")])),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]],
  },
  {
    name: "a union member removed from a param",
    old: using(ref("Found"), "param", searchTypes([ref("Hit"), ref("Miss")])),
    new: using(ref("Found"), "param", searchTypes([ref("Hit")])),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)"]],
  },
  {
    name: "a field inside a union member narrowed, in a param (the closest member is reported)",
    old: using(ref("Found"), "param", [
      aliasType("Found", union(ref("Hit"), ref("Miss"))),
      objectType("Hit", [field("kind", lit("hit")), field("id", union(N, S))]),
      objectType("Miss", [field("kind", lit("miss")), field("query", S)]),
    ]),
    new: using(ref("Found"), "param", [
      aliasType("Found", union(ref("Hit"), ref("Miss"))),
      objectType("Hit", [field("kind", lit("hit")), field("id", N)]),
      objectType("Miss", [field("kind", lit("miss")), field("query", S)]),
    ]),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x).id"]],
  },
  {
    name: "a recursive type, unchanged",
    old: using(ref("Tree"), "writable", [objectType("Tree", [field("value", N), field("children", arr(ref("Tree")))])]),
    new: using(ref("Tree"), "writable", [objectType("Tree", [field("value", N), field("children", arr(ref("Tree")))])]),
    expect: [],
  },
  {
    name: "a recursive type, widened in a result (reported once)",
    old: using(ref("Tree"), "result", [objectType("Tree", [field("value", N), field("children", arr(ref("Tree")))])]),
    new: using(ref("Tree"), "result", [objectType("Tree", [field("value", union(N, S)), field("children", arr(ref("Tree")))])]),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f().value"]],
  },
  // callbacks: a callback's parameters flow the other way
  {
    name: "a callback the client passes gets wider arguments (breaking: the server may send them)",
    old: withParams(p("visit", fn([p("item", S)], UNDEF))),
    new: withParams(p("visit", fn([p("item", union(S, N))], UNDEF))),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f(visit)(item)"]],
  },
  {
    name: "a callback the client passes gets narrower arguments (safe)",
    old: withParams(p("visit", fn([p("item", union(S, N))], UNDEF))),
    new: withParams(p("visit", fn([p("item", S)], UNDEF))),
    expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(visit)"]],
  },
  {
    name: "a callback's result is expected narrower (breaking: it flows to the server)",
    old: withParams(p("fn", fn([p("x", N)], union(N, S)))),
    new: withParams(p("fn", fn([p("x", N)], N))),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(fn)()"]],
  },
  {
    name: "a callback is passed one more argument (an old callback ignores it)",
    old: withParams(p("visit", fn([p("item", S)], UNDEF))),
    new: withParams(p("visit", fn([p("item", S), p("index", N)], UNDEF))),
    expect: [[OK, "RPYC_DIFF_PARAM_ADDED", "f(visit)(index)"]],
  },
  {
    name: "a callback is no longer passed an argument it requires",
    old: withParams(p("visit", fn([p("item", S), p("index", N)], UNDEF))),
    new: withParams(p("visit", fn([p("item", S)], UNDEF))),
    expect: [[B, "RPYC_DIFF_PARAM_REMOVED", "f(visit)(index)"]],
  },
  {
    name: "a callback may be called without an argument the old one requires",
    old: withParams(p("visit", fn([p("item", S)], UNDEF))),
    new: withParams(p("visit", fn([p("item", S, { optional: true })], UNDEF))),
    expect: [[B, "RPYC_DIFF_PARAM_MAY_BE_OMITTED", "f(visit)(item)"]],
  },
  {
    name: "a returned function takes narrower arguments (breaking: the client calls it)",
    old: using(fn([p("x", union(N, S))], N), "result"),
    new: using(fn([p("x", N)], N), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f()(x)"]],
  },
  {
    name: "a returned function needs a new argument",
    old: using(fn([p("x", N)], N), "result"),
    new: using(fn([p("x", N), p("y", N)], N), "result"),
    expect: [[B, "RPYC_DIFF_PARAM_ADDED_REQUIRED", "f()(y)"]],
  },
  {
    name: "a named type reached through a callback's argument: widening it breaks",
    old: oneService({ methods: [method("watch", [p("on", fn([p("at", ref("Point"))], UNDEF))])] }, [point(N)]),
    new: oneService({ methods: [method("watch", [p("on", fn([p("at", ref("Point"))], UNDEF))])] }, [point(union(N, S))]),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "watch(on)(at).x"]],
  },
];

// ---- netrefs with type arguments, TypedDicts, frozensets, keyword parameters ----------------

const NETREF_ROWS: Row[] = [
  // A container netref's items travel both ways through it: invariant, whichever way the reference went.
  {
    name: "list result items int -> str (read and written)",
    old: using(list(INT), "result"),
    new: using(list(S), "result"),
    expect: [
      [B, "RPYC_DIFF_TYPE_WIDENED", "f()[]"],
      [B, "RPYC_DIFF_TYPE_NARROWED", "f()[]"],
    ],
  },
  {
    name: "list result items narrowed (old clients may still append the dropped kind)",
    old: using(list(union(N, S)), "result"),
    new: using(list(N), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f()[]"]],
  },
  {
    name: "list parameter items widened (the server may store the new kind into the client's list)",
    old: using(list(N), "param"),
    new: using(list(union(N, S)), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f(x)[]"]],
  },
  {
    name: "set result items widened",
    old: using(netref("builtins.set", [S]), "result"),
    new: using(netref("builtins.set", [union(S, N)]), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()[]"]],
  },
  {
    name: "dict result value changed",
    old: using(dict(S, N), "result"),
    new: using(dict(S, BOOL), "result"),
    expect: [
      [B, "RPYC_DIFF_TYPE_WIDENED", "f()[value]"],
      [B, "RPYC_DIFF_TYPE_NARROWED", "f()[value]"],
    ],
  },
  {
    name: "dict parameter key narrowed",
    old: using(dict(union(S, N), N), "param"),
    new: using(dict(S, N), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)[key]"]],
  },
  {
    name: "nested lists: the inner items change",
    old: using(list(list(INT)), "result"),
    new: using(list(list(S)), "result"),
    expect: [
      [B, "RPYC_DIFF_TYPE_WIDENED", "f()[][]"],
      [B, "RPYC_DIFF_TYPE_NARROWED", "f()[][]"],
    ],
  },
  { name: "a list with the same items in a writable attribute", old: using(list(INT), "writable"), new: using(list(union(BIG, N)), "writable"), expect: [] },
  {
    name: "type arguments only in the new model (a model from before they were recorded)",
    old: using(netref("builtins.list"), "result"),
    new: using(list(S), "result"),
    expect: [],
  },
  { name: "type arguments only in the old model", old: using(list(S), "param"), new: using(netref("builtins.list"), "param"), expect: [] },
  {
    name: "a generic class gains a type argument",
    old: using(netref("Box", [N]), "result"),
    new: using(netref("Box", [N, S]), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]],
  },
  {
    name: "a list netref became a set netref",
    old: using(list(S), "result"),
    new: using(netref("builtins.set", [S]), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]],
  },
];

const FROZENSET_ROWS: Row[] = [
  // By value: items follow the flow like an array's (covariant in results, contravariant in parameters).
  {
    name: "frozenset result narrowed (safe: unlike a list, nobody writes into it)",
    old: using(frozenset(union(N, S)), "result"),
    new: using(frozenset(N), "result"),
    expect: [[OK, "RPYC_DIFF_RESULT_TYPE_NARROWED", "f()"]],
  },
  {
    name: "frozenset result widened",
    old: using(frozenset(N), "result"),
    new: using(frozenset(union(N, S)), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()[]"]],
  },
  {
    name: "frozenset parameter narrowed",
    old: using(frozenset(union(N, S)), "param"),
    new: using(frozenset(N), "param"),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(x)[]"]],
  },
  {
    name: "frozenset parameter widened",
    old: using(frozenset(N), "param"),
    new: using(frozenset(union(N, S)), "param"),
    expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(x)"]],
  },
  {
    name: "frozenset -> set (a value became a netref)",
    old: using(frozenset(S), "result"),
    new: using(netref("builtins.set", [S]), "result"),
    expect: [[B, "RPYC_DIFF_BECAME_NETREF", "f()"]],
  },
  {
    name: "list -> frozenset (a netref became a value)",
    old: using(list(S), "result"),
    new: using(frozenset(S), "result"),
    expect: [[B, "RPYC_DIFF_BECAME_VALUE", "f()"]],
  },
  {
    name: "tuple -> frozenset (both by value: a plain type change, not a netref one)",
    old: using(arr(S), "result"),
    new: using(frozenset(S), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]],
  },
];

const stock = (...fields: ReturnType<typeof field>[]): TypeDef[] => [objectType("Stock", fields)];
const NAME = field("name", S);
const COUNT = field("count", INT);

const TYPEDDICT_ROWS: Row[] = [
  // Keys by name, following the flow of the dict: results must keep what old clients read, arguments must not demand what they do not send.
  {
    name: "result TypedDict gains a key",
    old: using(typedDict("Stock"), "result", stock(NAME)),
    new: using(typedDict("Stock"), "result", stock(NAME, COUNT)),
    expect: [[OK, "RPYC_DIFF_KEY_ADDED", 'f()["count"]']],
  },
  {
    name: "result TypedDict loses a key",
    old: using(typedDict("Stock"), "result", stock(NAME, COUNT)),
    new: using(typedDict("Stock"), "result", stock(NAME)),
    expect: [[B, "RPYC_DIFF_KEY_REMOVED", 'f()["count"]']],
  },
  {
    name: "result TypedDict: a required key became optional",
    old: using(typedDict("Stock"), "result", stock(NAME, COUNT)),
    new: using(typedDict("Stock"), "result", stock(NAME, field("count", INT, true))),
    expect: [[B, "RPYC_DIFF_KEY_MAY_BE_MISSING", 'f()["count"]']],
  },
  {
    name: "result TypedDict: an optional key became required",
    old: using(typedDict("Stock"), "result", stock(NAME, field("count", INT, true))),
    new: using(typedDict("Stock"), "result", stock(NAME, COUNT)),
    expect: [[OK, "RPYC_DIFF_RESULT_TYPE_NARROWED", "f()"]],
  },
  {
    name: "result TypedDict: a key's type widened",
    old: using(typedDict("Stock"), "result", stock(NAME, field("count", N))),
    new: using(typedDict("Stock"), "result", stock(NAME, COUNT)),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", 'f()["count"]']],
  },
  {
    name: "result TypedDict: keys reordered (keys are names, not positions)",
    old: using(typedDict("Stock"), "result", stock(NAME, COUNT)),
    new: using(typedDict("Stock"), "result", stock(COUNT, NAME)),
    expect: [],
  },
  {
    name: "parameter TypedDict gains a required key",
    old: using(typedDict("Stock"), "param", stock(NAME)),
    new: using(typedDict("Stock"), "param", stock(NAME, COUNT)),
    expect: [[B, "RPYC_DIFF_KEY_ADDED_REQUIRED", 'f(x)["count"]']],
  },
  {
    name: "parameter TypedDict gains an optional key",
    old: using(typedDict("Stock"), "param", stock(NAME)),
    new: using(typedDict("Stock"), "param", stock(NAME, field("count", INT, true))),
    expect: [[OK, "RPYC_DIFF_KEY_ADDED", 'f(x)["count"]']],
  },
  {
    name: "parameter TypedDict loses a key (Python accepts the extra key)",
    old: using(typedDict("Stock"), "param", stock(NAME, COUNT)),
    new: using(typedDict("Stock"), "param", stock(NAME)),
    expect: [[OK, "RPYC_DIFF_KEY_NO_LONGER_READ", 'f(x)["count"]']],
  },
  {
    name: "parameter TypedDict: an optional key became required",
    old: using(typedDict("Stock"), "param", stock(NAME, field("count", INT, true))),
    new: using(typedDict("Stock"), "param", stock(NAME, COUNT)),
    expect: [[B, "RPYC_DIFF_KEY_REQUIRED", 'f(x)["count"]']],
  },
  {
    name: "parameter TypedDict: a required key became optional",
    old: using(typedDict("Stock"), "param", stock(NAME, COUNT)),
    new: using(typedDict("Stock"), "param", stock(NAME, field("count", INT, true))),
    expect: [[OK, "RPYC_DIFF_KEY_OPTIONAL", 'f(x)["count"]']],
  },
  {
    name: "parameter TypedDict: a key's type narrowed",
    old: using(typedDict("Stock"), "param", stock(NAME, COUNT)),
    new: using(typedDict("Stock"), "param", stock(NAME, field("count", N))),
    expect: [[B, "RPYC_DIFF_TYPE_NARROWED", 'f(x)["count"]']],
  },
  {
    name: "a TypedDict result became a plain dict",
    old: using(typedDict("Stock"), "result", stock(NAME)),
    new: using(dict(S, S), "result"),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f()"]],
  },
  {
    name: "a recursive TypedDict, a key's type widened (reported once)",
    old: using(typedDict("Node"), "result", [objectType("Node", [field("value", N), field("children", list(typedDict("Node")))])]),
    new: using(typedDict("Node"), "result", [objectType("Node", [field("value", union(N, S)), field("children", list(typedDict("Node")))])]),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", 'f()["value"]']],
  },
];

const kw = (only: ParamDef[], rest?: ParamDef): ServiceModel => oneService({ methods: [method("f", [p("a", N)], NULL, { only, ...(rest ? { rest } : {}) })] });
const kwargs = (name: string, type: WireType = UNKNOWN): ParamDef => p(name, type, { optional: true, rest: true });

const KEYWORD_ROWS: Row[] = [
  // Keyword-only parameters pair by name; their values flow in like any argument.
  { name: "a keyword removed", old: kw([p("k", N, { default: "0" })]), new: kw([]), expect: [[B, "RPYC_DIFF_KEYWORD_REMOVED", "f(k=)"]] },
  {
    name: "a keyword removed that the new **kwargs takes",
    old: kw([p("k", N)]),
    new: kw([], kwargs("extra")),
    expect: [
      [OK, "RPYC_DIFF_KEYWORD_TO_KWARGS", "f(k=)"],
      [OK, "RPYC_DIFF_KWARGS_ADDED", "f(**extra)"],
    ],
  },
  {
    name: "a keyword removed into a narrower **kwargs",
    old: kw([p("k", N)], kwargs("extra", S)),
    new: kw([], kwargs("extra", S)),
    expect: [
      [B, "RPYC_DIFF_TYPE_NARROWED", "f(k=)"],
      [OK, "RPYC_DIFF_KEYWORD_TO_KWARGS", "f(k=)"],
    ],
  },
  { name: "a required keyword added", old: kw([]), new: kw([p("k", N)]), expect: [[B, "RPYC_DIFF_KEYWORD_ADDED_REQUIRED", "f(k=)"]] },
  { name: "an optional keyword added", old: kw([]), new: kw([p("k", N, { default: "0" })]), expect: [[OK, "RPYC_DIFF_KEYWORD_ADDED", "f(k=)"]] },
  {
    name: "an optional keyword added that old callers may pass through **kwargs with any value",
    old: kw([], kwargs("extra")),
    new: kw([p("k", N, { default: "0" })], kwargs("extra")),
    expect: [
      [B, "RPYC_DIFF_TYPE_NARROWED", "f(k=)"],
      [OK, "RPYC_DIFF_KEYWORD_ADDED", "f(k=)"],
    ],
  },
  {
    name: "an optional keyword made required",
    old: kw([p("k", N, { default: "0" })]),
    new: kw([p("k", N)]),
    expect: [[B, "RPYC_DIFF_KEYWORD_REQUIRED", "f(k=)"]],
  },
  {
    name: "a required keyword made optional",
    old: kw([p("k", N)]),
    new: kw([p("k", N, { default: "0" })]),
    expect: [[OK, "RPYC_DIFF_KEYWORD_OPTIONAL", "f(k=)"]],
  },
  { name: "a keyword's type narrowed", old: kw([p("k", union(N, S))]), new: kw([p("k", N)]), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(k=)"]] },
  { name: "a keyword's type widened", old: kw([p("k", N)]), new: kw([p("k", union(N, S))]), expect: [[OK, "RPYC_DIFF_PARAM_TYPE_WIDENED", "f(k=)"]] },
  {
    name: "a keyword's default changed",
    old: kw([p("k", N, { default: "1" })]),
    new: kw([p("k", N, { default: "2" })]),
    expect: [[OK, "RPYC_DIFF_PARAM_DEFAULT_CHANGED", "f(k=)"]],
  },
  { name: "keywords reordered (by name, never by position)", old: kw([p("j", S), p("k", N)]), new: kw([p("k", N), p("j", S)]), expect: [] },
  { name: "**kwargs removed", old: kw([], kwargs("extra")), new: kw([]), expect: [[B, "RPYC_DIFF_KWARGS_REMOVED", "f(**extra)"]] },
  { name: "**kwargs renamed (callers never name it)", old: kw([], kwargs("extra")), new: kw([], kwargs("more")), expect: [] },
  { name: "**kwargs narrowed", old: kw([], kwargs("extra")), new: kw([], kwargs("extra", S)), expect: [[B, "RPYC_DIFF_TYPE_NARROWED", "f(**extra)"]] },
  {
    name: "a positional parameter made keyword-only (positional callers break)",
    old: oneService({ methods: [method("f", [p("a", N), p("b", N)])] }),
    new: oneService({ methods: [method("f", [p("a", N)], NULL, { only: [p("b", N)] })] }),
    expect: [
      [B, "RPYC_DIFF_PARAM_REMOVED", "f(b)"],
      [B, "RPYC_DIFF_KEYWORD_ADDED_REQUIRED", "f(b=)"],
    ],
  },
];

// ---- rows from TypeScript sources ------------------------------------------------------

const RPYC_TS = `
export declare class Service {
  static ALIASES?: readonly string[];
  exposed_get_service_aliases(): string[];
  exposed_get_service_name(): string;
}
`;

/** Extracts the model of one in-memory file /src/service.ts (rpyc-ts stands in from node_modules). */
function fromSource(source: string): ServiceModel {
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2022.d.ts"],
      types: [],
    },
  });
  project.getFileSystem().writeFileSync("/node_modules/rpyc-ts/package.json", `{ "name": "rpyc-ts", "version": "0.1.0", "types": "index.d.ts" }`);
  project.createSourceFile("/node_modules/rpyc-ts/index.d.ts", RPYC_TS);
  const file = project.createSourceFile("/src/service.ts", `import { Service } from "rpyc-ts";\n${source}`);
  const result = extractFromProject(project, [file], "/");
  expect(result.diagnostics).toEqual([]);
  return result.model;
}

const SOURCE_ROWS: Row[] = [
  {
    name: "TS: a parameter added without a default",
    old: fromSource(`export class CalcService extends Service { exposed_add(a: number, b: number): number { return a + b; } }`),
    new: fromSource(`export class CalcService extends Service { exposed_add(a: number, b: number, c: number): number { return a + b + c; } }`),
    expect: [[B, "RPYC_DIFF_PARAM_ADDED_REQUIRED", "add(c)"]],
  },
  {
    name: "TS: a parameter added with a default",
    old: fromSource(`export class CalcService extends Service { exposed_add(a: number, b: number): number { return a + b; } }`),
    new: fromSource(`export class CalcService extends Service { exposed_add(a: number, b: number, c = 0): number { return a + b + c; } }`),
    expect: [[OK, "RPYC_DIFF_PARAM_ADDED", "add(c)"]],
  },
  {
    name: "TS: an interface result gains a field; a by-value type becomes a class (a netref)",
    old: fromSource(
      `export interface Box { w: number } export class BoxService extends Service { exposed_box(): Box { return { w: 1 }; } exposed_other(): Box { return { w: 1 }; } }`,
    ),
    new: fromSource(
      `export interface Box { w: number; h?: number } export class Handle { read(): number { return 1; } } export class BoxService extends Service { exposed_box(): Box { return { w: 1 }; } exposed_other(): Handle { return new Handle(); } }`,
    ),
    expect: [
      [B, "RPYC_DIFF_FIELD_ADDED", "box().h"],
      [B, "RPYC_DIFF_BECAME_NETREF", "other()"],
    ],
  },
  {
    name: "TS: an exposed method renamed, a getter losing its setter",
    old: fromSource(
      `export class KvService extends Service { private v = 0; exposed_get(k: string): number { return 0; } get exposed_level(): number { return this.v; } set exposed_level(x: number) { this.v = x; } }`,
    ),
    new: fromSource(`export class KvService extends Service { exposed_fetch(k: string): number { return 0; } get exposed_level(): number { return 0; } }`),
    expect: [
      [B, "RPYC_DIFF_MEMBER_REMOVED", "get"],
      [B, "RPYC_DIFF_ATTRIBUTE_READONLY", "level"],
      [OK, "RPYC_DIFF_MEMBER_ADDED", "fetch"],
    ],
  },
];

// ---- rows from Python sources ------------------------------------------------------------

const pyScratch = mkdtempSync(path.join(os.tmpdir(), "rpyc-diff-py-"));
afterAll(() => rmSync(pyScratch, { recursive: true, force: true }));
let pyFiles = 0;

/** Extracts the model of `source` (a service S, after the imports every case needs) written to a temp file, as `rpyc-gen diff v1/svc.py ...` would. */
async function fromPython(source: string): Promise<ServiceModel> {
  const root = path.join(pyScratch, `case-${++pyFiles}`);
  mkdirSync(root);
  writeFileSync(path.join(root, "svc.py"), `from typing import Any, NotRequired, TypedDict\nfrom rpyc import Service\n\n${source}`);
  const result = await extractPythonModel({ sources: ["svc.py"], root });
  expect(result.diagnostics).toEqual([]);
  return result.model;
}

/** `class S(Service)` with `members` (Python lines, unindented), after `before` (other classes). */
const pyService = (members: string, before = ""): string =>
  `${before}\nclass S(Service):\n${members
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n")}\n`;
const STOCK_V1 = "class Stock(TypedDict):\n    name: str\n    count: int\n";
const STOCK_V2 = "class Stock(TypedDict):\n    name: str\n    aisle: NotRequired[int]\n";

const PYTHON_ROWS: Row[] = [
  {
    name: "Python: -> list[int] became -> list[str]",
    old: await fromPython(pyService("def exposed_f(self) -> list[int]: ...")),
    new: await fromPython(pyService("def exposed_f(self) -> list[str]: ...")),
    expect: [
      [B, "RPYC_DIFF_TYPE_WIDENED", "f()[]"],
      [B, "RPYC_DIFF_TYPE_NARROWED", "f()[]"],
    ],
  },
  {
    name: "Python: a list[int] parameter became list[int | None] (the server may put None into the client's list)",
    old: await fromPython(pyService("def exposed_f(self, xs: list[int]) -> None: ...")),
    new: await fromPython(pyService("def exposed_f(self, xs: list[int | None]) -> None: ...")),
    expect: [[B, "RPYC_DIFF_TYPE_WIDENED", "f(xs)[]"]],
  },
  {
    name: "Python: a result TypedDict lost a key and gained a NotRequired one",
    old: await fromPython(pyService("def exposed_stock(self) -> Stock: ...", STOCK_V1)),
    new: await fromPython(pyService("def exposed_stock(self) -> Stock: ...", STOCK_V2)),
    expect: [
      [B, "RPYC_DIFF_KEY_REMOVED", 'stock()["count"]'],
      [OK, "RPYC_DIFF_KEY_ADDED", 'stock()["aisle"]'],
    ],
  },
  {
    name: "Python: a parameter TypedDict lost a key and gained a required one",
    old: await fromPython(pyService("def exposed_put(self, s: Stock) -> None: ...", "class Stock(TypedDict):\n    name: str\n    count: int\n")),
    new: await fromPython(pyService("def exposed_put(self, s: Stock) -> None: ...", "class Stock(TypedDict):\n    name: str\n    aisle: int\n")),
    expect: [
      [B, "RPYC_DIFF_KEY_ADDED_REQUIRED", 'put(s)["aisle"]'],
      [OK, "RPYC_DIFF_KEY_NO_LONGER_READ", 'put(s)["count"]'],
    ],
  },
  {
    name: "Python: keyword-only parameters changed, **kwargs added",
    old: await fromPython(pyService("def exposed_greet(self, name: str, *, greeting: str, times: int = 1) -> str: ...")),
    new: await fromPython(pyService("def exposed_greet(self, name: str, *, greeting: str = 'Hi', loud: bool, **extra: Any) -> str: ...")),
    expect: [
      [B, "RPYC_DIFF_KEYWORD_ADDED_REQUIRED", "greet(loud=)"],
      [OK, "RPYC_DIFF_KEYWORD_OPTIONAL", "greet(greeting=)"],
      [OK, "RPYC_DIFF_KEYWORD_TO_KWARGS", "greet(times=)"],
      [OK, "RPYC_DIFF_KWARGS_ADDED", "greet(**extra)"],
    ],
  },
  {
    name: "Python: a keyword narrowed and **kwargs removed",
    old: await fromPython(pyService("def exposed_log(self, *lines: str, level: int | str = 0, **extra: Any) -> str: ...")),
    new: await fromPython(pyService("def exposed_log(self, *lines: str, level: int = 0) -> str: ...")),
    expect: [
      [B, "RPYC_DIFF_TYPE_NARROWED", "log(level=)"],
      [B, "RPYC_DIFF_KWARGS_REMOVED", "log(**extra)"],
    ],
  },
  {
    name: "Python: -> frozenset[str] became -> set[str] (a value became a netref)",
    old: await fromPython(pyService("def exposed_f(self) -> frozenset[str]: ...")),
    new: await fromPython(pyService("def exposed_f(self) -> set[str]: ...")),
    expect: [[B, "RPYC_DIFF_BECAME_NETREF", "f()"]],
  },
  {
    name: "Python: fixtures/python-typed/expected/model.json against itself",
    old: JSON.parse(readFileSync(`${REPO}fixtures/python-typed/expected/model.json`, "utf8")) as ServiceModel,
    new: JSON.parse(readFileSync(`${REPO}fixtures/python-typed/expected/model.json`, "utf8")) as ServiceModel,
    expect: [],
  },
  {
    name: "Python: fixtures/python-typed's source against its stored model",
    old: (await extractPythonModel({ sources: ["fixtures/python-typed/shop_service.py"], root: REPO })).model,
    new: JSON.parse(readFileSync(`${REPO}fixtures/python-typed/expected/model.json`, "utf8")) as ServiceModel,
    expect: [],
  },
];

const TABLE: readonly (readonly [string, readonly Row[]])[] = [
  ["services and aliases", SERVICE_ROWS],
  ["members", MEMBER_ROWS],
  ["parameters", PARAM_ROWS],
  ["types by position", TYPE_ROWS],
  ["nested positions: named types, unions, recursion, callbacks", NESTED_ROWS],
  ["netrefs with type arguments (invariant)", NETREF_ROWS],
  ["frozensets (by value)", FROZENSET_ROWS],
  ["TypedDicts (keys by name)", TYPEDDICT_ROWS],
  ["keyword-only parameters and **kwargs", KEYWORD_ROWS],
  ["from TypeScript sources", SOURCE_ROWS],
  ["from Python sources", PYTHON_ROWS],
];

describe("diffModels rules", () => {
  for (const [group, rows] of TABLE) {
    describe(group, () => {
      it.each(rows.map((row) => [row.name, row] as const))("%s", (_name, row) => {
        expect(entriesOf(diffModels(row.old, row.new))).toEqual(row.expect);
      });
    });
  }

  it("covers every rule of DIFF_RULES with at least one row", () => {
    const covered = new Set(TABLE.flatMap(([, rows]) => rows.flatMap((row) => row.expect.map(([, code]) => code))));
    expect(Object.keys(DIFF_RULES).filter((code) => !covered.has(code as DiffCode))).toEqual([]);
  });

  it("reports each code with the severity its rule declares", () => {
    for (const [, rows] of TABLE)
      for (const row of rows) for (const [severity, code] of row.expect) expect([code, severity]).toEqual([code, DIFF_RULES[code].severity]);
  });
});

describe("diffModels reports", () => {
  const fixtureModels = readdirSync(`${REPO}fixtures`, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${REPO}fixtures/${d.name}/expected/model.json`)
    .flatMap((file) => {
      try {
        return [[file.slice(REPO.length), JSON.parse(readFileSync(file, "utf8")) as ServiceModel] as const];
      } catch {
        return [];
      }
    });

  it("finds no change between a fixture model and itself", () => {
    expect(fixtureModels.length).toBeGreaterThan(3);
    for (const [file, m] of fixtureModels) expect([file, diffModels(m, m).entries]).toEqual([file, []]);
  });

  it("is deterministic and plain JSON", () => {
    const [, rich] = fixtureModels.find(([file]) => file.includes("rich-types"))!;
    const [, callbacks] = fixtureModels.find(([file]) => file.includes("callbacks"))!;
    const first = diffModels(rich, callbacks);
    expect(diffModels(rich, callbacks)).toEqual(first);
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
    expect(first.breaking).toBe(first.entries.filter((e) => e.severity === "breaking").length);
    expect(first.safe).toBe(first.entries.length - first.breaking);
  });

  it("reports the same change in two services once for each", () => {
    const two = (params: ParamDef[]) =>
      model([service({ methods: [method("f", params)] }), service({ className: "OtherService", methods: [method("f", params)] })]);
    const report = diffModels(two([p("a", N)]), two([p("a", N), p("b", N)]));
    expect(report.entries.map((e) => [e.service, e.code])).toEqual([
      ["OtherService", "RPYC_DIFF_PARAM_ADDED_REQUIRED"],
      ["Svc", "RPYC_DIFF_PARAM_ADDED_REQUIRED"],
    ]);
  });

  it("lists breaking entries before safe ones", () => {
    const report = diffModels(
      oneService({ methods: [method("f", [p("a", N)]), method("g", [])] }),
      oneService({ methods: [method("f", [p("a", N), p("b", N, { optional: true })]), method("h", [])] }),
    );
    expect(report.entries.map((e) => e.severity)).toEqual(["breaking", "safe", "safe"]);
  });

  it("says when a removed member has the same signature as an added one", () => {
    const report = diffModels(oneService({ methods: [method("get_x", [p("id", S)], N)] }), oneService({ methods: [method("fetch_x", [p("id", S)], N)] }));
    expect(report.entries[0]!.message).toMatch(/renamed\? added 'fetch_x' has the same signature/);
    expect(report.entries[1]!.message).toMatch(/same signature as removed 'get_x'/);
    const different = diffModels(oneService({ methods: [method("get_x", [p("id", S)], N)] }), oneService({ methods: [method("fetch_x", [p("id", N)], N)] }));
    expect(different.entries[0]!.message).not.toMatch(/renamed/);
  });

  it("locates a change inside a named type at that type's declaration, and a removal at the old member", () => {
    const report = diffModels(pointService(N), pointService(union(N, S)));
    const widened = report.entries.find((e) => e.code === "RPYC_DIFF_TYPE_WIDENED")!;
    expect(widened).toMatchObject({ service: "Svc", path: "get().x", old: { file: "types.ts", line: 5 }, new: { file: "types.ts", line: 5 } });
    expect(widened.message).toMatch(/number \| string/);
    const removed = diffModels(oneService({ methods: [method("f", [])] }), oneService({})).entries[0]!;
    expect(removed.old).toEqual(at(10));
    expect(removed.new).toBeUndefined();
  });

  it("names enum members and fields in its messages", () => {
    const colors = (members: [string, string][]) => [enumType("Color", members)];
    const removed = diffModels(
      using(
        ref("Color"),
        "param",
        colors([
          ["Red", "r"],
          ["Blue", "b"],
        ]),
      ),
      using(ref("Color"), "param", colors([["Red", "r"]])),
    ).entries[0]!;
    expect(removed.message).toMatch(/Color\.Blue \("b"\)/);
    expect(removed.old).toMatchObject({ file: "types.ts", line: 30 });
    const field = diffModels(
      using(ref("P"), "param", [objectType("P", [field_("a")])]),
      using(ref("P"), "param", [objectType("P", [field_("a"), field_("b")])]),
    ).entries[0]!;
    expect(field.message).toMatch(/required field 'b' of P added/);
  });

  it("reports a Python int's two wire kinds (number, bigint) as one refused value", () => {
    const report = diffModels(using(INT, "param"), using(S, "param"));
    expect(report.entries.map((e) => [e.code, e.message])).toEqual([
      ["RPYC_DIFF_TYPE_NARROWED", "no longer accepts number or bigint: number | bigint -> string"],
    ]);
  });

  it("says why a container netref's items are invariant, and names TypedDict keys and keywords", () => {
    const [written] = diffModels(using(list(union(N, S)), "result"), using(list(N), "result")).entries;
    expect(written!.message).toBe("no longer accepts string: number | string -> number; a netref's items are read and written through it (invariant)");
    const [key] = diffModels(using(typedDict("Stock"), "result", stock(NAME, COUNT)), using(typedDict("Stock"), "result", stock(NAME))).entries;
    expect(key).toMatchObject({ message: "key 'count' of Stock removed; old clients read it", old: { file: "types.ts", line: 5 } });
    const [keyword] = diffModels(kw([], kwargs("extra")), kw([p("k", N, { default: "0" })], kwargs("extra"))).entries;
    expect(keyword!.message).toBe("no longer accepts unknown: unknown -> number (old callers may pass 'k' through **extra)");
  });

  it("says a removed method has the same signature as an added one only when their keywords agree too", () => {
    const greet = (name: string, keyword: ParamDef) => method(name, [p("who", S)], S, { only: [keyword] });
    const same = diffModels(oneService({ methods: [greet("hello", p("loud", BOOL))] }), oneService({ methods: [greet("greet", p("loud", BOOL))] }));
    expect(same.entries[0]!.message).toMatch(/renamed\? added 'greet' has the same signature/);
    const different = diffModels(oneService({ methods: [greet("hello", p("loud", BOOL))] }), oneService({ methods: [greet("greet", p("quiet", BOOL))] }));
    expect(different.entries[0]!.message).not.toMatch(/renamed/);
  });

  it("keeps every message on one line, even a multi-line default", () => {
    const report = diffModels(
      withParams(p("opts", UNKNOWN, { default: "{\n  retries: 3,\n}" })),
      withParams(p("opts", UNKNOWN, { default: "{\n  retries: 5,\n}" })),
    );
    expect(report.entries.map((e) => e.message)).toEqual([
      "default of 'opts' changed from { retries: 3, } to { retries: 5, }; callers that leave it out get the new default",
    ]);
  });

  it("throws on a model whose refs are not declared", () => {
    expect(() => diffModels(using(ref("Ghost"), "param"), using(ref("Ghost"), "param"))).toThrow(/Ghost/);
  });
});

function field_(name: string): ReturnType<typeof field> {
  return field(name, N);
}

describe("diffModels agrees with the runtime's decoder", () => {
  // An old client encodes an argument with its schema; the new server decodes it with its own.
  // The checker says breaking exactly when some value old clients may send is refused.
  const cases: { name: string; old: WireType; new: WireType; types?: { old: TypeDef[]; new: TypeDef[] }; value: unknown }[] = [
    {
      name: "an optional field added",
      old: ref("P"),
      new: ref("P"),
      types: { old: [objectType("P", [field("a", N)])], new: [objectType("P", [field("a", N), field("b", N, true)])] },
      value: { a: 1 },
    },
    { name: "a widened union", old: N, new: union(N, S), value: 1 },
    { name: "null -> undefined", old: union(S, NULL), new: union(S, UNDEF), value: null },
    { name: "a tuple's minimum length raised", old: tuple(2, N, N, N), new: tuple(3, N, N, N), value: [1, 2] },
    { name: "Record -> Map", old: record(N), new: map(N), value: { a: 1 } },
    {
      name: "an enum member removed",
      old: ref("E"),
      new: ref("E"),
      types: {
        old: [
          enumType("E", [
            ["A", "a"],
            ["B", "b"],
          ]),
        ],
        new: [enumType("E", [["A", "a"]])],
      },
      value: "b",
    },
    {
      name: "a field renamed in place",
      old: ref("P"),
      new: ref("P"),
      types: { old: [objectType("P", [field("a", N)])], new: [objectType("P", [field("alpha", N)])] },
      value: { a: 1 },
    },
  ];
  const table = (defs: TypeDef[] = []) => Object.fromEntries(defs.map((d) => [d.name, d]));

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const oldTypes = c.types?.old ?? [];
    const newTypes = c.types?.new ?? [];
    const breaking = diffModels(using(c.old, "param", oldTypes), using(c.new, "param", newTypes)).breaking > 0;
    const wire = encodeValue(c.old, c.value, table(oldTypes), "x");
    let refused = false;
    try {
      decodeValue(c.new, wire, table(newTypes), "x");
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      refused = true;
    }
    expect({ breaking }).toEqual({ breaking: refused });
  });
});
