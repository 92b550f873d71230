// Hand-built ServiceModels for the emit tests. Each describes real service classes in src/
// (so generated dispatch tables are type-checked and served against them). Paths in the
// models are relative to this directory, the fixture root.

import { fileURLToPath } from "node:url";
import type { AttributeDef, MethodDef, ParamDef, ServiceDef, ServiceModel, TypeDef, WireType } from "../../../compiler/model.js";

/** The project root the models' paths are relative to. */
export const FIXTURE_ROOT = fileURLToPath(new URL(".", import.meta.url));

const loc = (file: string, line = 1, column = 1) => ({ file, line, column });

export const T = {
  string: { kind: "string" },
  number: { kind: "number" },
  boolean: { kind: "boolean" },
  bigint: { kind: "bigint" },
  null: { kind: "null" },
  undefined: { kind: "undefined" },
  bytes: { kind: "bytes" },
  date: { kind: "date" },
  unknown: { kind: "unknown" },
} as const satisfies Record<string, WireType>;

export const ref = (name: string): WireType => ({ kind: "ref", name });
export const array = (element: WireType): WireType => ({ kind: "array", element });
export const union = (...members: WireType[]): WireType => ({ kind: "union", members });
export const literal = (value: string | number | boolean): WireType => ({ kind: "literal", value });

export function param(name: string, type: WireType, extra: Partial<ParamDef> = {}): ParamDef {
  return { name, type, optional: false, rest: false, ...extra };
}

function method(owner: string, file: string, name: string, params: ParamDef[], returns: WireType, extra: Partial<MethodDef> = {}): MethodDef {
  return { name, member: `exposed_${name}`, params, returns, async: false, declaredIn: owner, location: loc(file, 10), ...extra };
}

function attribute(owner: string, file: string, name: string, type: WireType, extra: Partial<AttributeDef> = {}): AttributeDef {
  return { name, member: `exposed_${name}`, type, readonly: false, kind: "property", declaredIn: owner, location: loc(file, 5), ...extra };
}

function service(className: string, file: string, methods: MethodDef[], attributes: AttributeDef[], extra: Partial<ServiceDef> = {}): ServiceDef {
  const name = className.toUpperCase().replace(/SERVICE$/, "");
  return {
    className,
    name,
    aliases: [name],
    explicitAliases: false,
    module: file,
    exportName: className,
    bases: [],
    location: loc(file, 3),
    methods: [...methods].sort((a, b) => (a.name < b.name ? -1 : 1)),
    attributes: [...attributes].sort((a, b) => (a.name < b.name ? -1 : 1)),
    ...extra,
  };
}

// ---- the seed's MyService ----

export const MY_FILE = "src/my-service.ts";

export const MY_SERVICE = service(
  "MyService",
  MY_FILE,
  [method("MyService", MY_FILE, "get_answer", [], T.number)],
  [attribute("MyService", MY_FILE, "the_real_answer_though", T.number)],
);

export const SEED_MODEL: ServiceModel = { version: 1, services: [MY_SERVICE], types: [] };


// ---- a service with ALIASES, async methods, getters, readonly members ----

const FLOOP_FILE = "src/floop-service.ts";
export const FLOOP_SERVICE = service(
  "FloopService",
  FLOOP_FILE,
  [
    method("FloopService", FLOOP_FILE, "echo", [param("text", T.string, { doc: "What to send back." })], T.string, { doc: "Echoes its argument." }),
    method("FloopService", FLOOP_FILE, "slow", [param("ms", T.number)], T.string, { async: true }),
    method("FloopService", FLOOP_FILE, "nothing", [], T.undefined),
  ],
  [
    attribute("FloopService", FLOOP_FILE, "version", T.string, { readonly: true, doc: "The protocol version (a */ in a doc stays harmless)." }),
    attribute("FloopService", FLOOP_FILE, "uptime", T.number, { readonly: true, kind: "getter" }),
  ],
  { name: "FLOOP", aliases: ["FLOOP", "BLOOP"], explicitAliases: true, doc: "A service with aliases." },
);

// ---- callbacks, returned functions, netrefs ----

const CHILD_FILE = "src/child-service.ts";
export const CHILD_SERVICE = service("ChildService", CHILD_FILE, [], [attribute("ChildService", CHILD_FILE, "name", T.string)], { exportName: "Child" });


const CALLBACK_FILE = "src/callback-service.ts";
const numberToNumber: WireType = { kind: "function", params: [param("x", T.number)], returns: T.number };
export const CALLBACK_SERVICE = service(
  "CallbackService",
  CALLBACK_FILE,
  [
    method("CallbackService", CALLBACK_FILE, "apply", [param("fn", numberToNumber, { doc: "Called with x." }), param("x", T.number)], T.number, { async: true, doc: "Calls back." }),
    method("CallbackService", CALLBACK_FILE, "make_adder", [param("n", T.number)], numberToNumber),
    method(
      "CallbackService",
      CALLBACK_FILE,
      "each",
      [param("items", array(T.string)), param("visit", { kind: "function", params: [param("item", T.string), param("index", T.number)], returns: T.undefined })],
      T.number,
      { async: true },
    ),
    method("CallbackService", CALLBACK_FILE, "child", [], { kind: "netref", name: "ChildService" }),
    method("CallbackService", CALLBACK_FILE, "adopt", [param("child", { kind: "netref", name: "ChildService" })], T.string),
    method("CallbackService", CALLBACK_FILE, "hold", [param("w", { kind: "netref", name: "Widget" })], T.boolean),
    method("CallbackService", CALLBACK_FILE, "inspect", [param("value", T.unknown)], T.string),
  ],
  [],
);


// ---- structured values: interfaces, enums, unions, maps, records, dates, bigint, bytes, tuples ----

const GEO_FILE = "src/geo-service.ts";
const GEO_TYPES_FILE = "src/geo-types.ts";
const POINT = ref("Point");

export const GEO_TYPES: TypeDef[] = [
  {
    kind: "object",
    name: "Circle",
    fields: [
      { name: "kind", type: literal("circle"), optional: false, readonly: false },
      { name: "center", type: POINT, optional: false, readonly: false },
      { name: "radius", type: T.number, optional: false, readonly: false },
    ],
    location: loc(GEO_TYPES_FILE, 12),
  },
  { kind: "enum", name: "Color", members: [{ name: "Red", value: "red" }, { name: "Green", value: "green" }], location: loc(GEO_TYPES_FILE, 9), doc: "Paint." },
  { kind: "alias", name: "Id", type: union(T.string, T.number), location: loc(GEO_TYPES_FILE, 16) },
  { kind: "enum", name: "Level", members: [{ name: "Low", value: 1 }, { name: "High", value: 2 }], location: loc(GEO_TYPES_FILE, 10) },
  {
    kind: "object",
    name: "Point",
    doc: "A point in the plane.",
    fields: [
      { name: "x", type: T.number, optional: false, readonly: true, doc: "Horizontal coordinate." },
      { name: "y", type: T.number, optional: false, readonly: false },
      { name: "label", type: T.string, optional: true, readonly: false },
    ],
    location: loc(GEO_TYPES_FILE, 2),
  },
  { kind: "alias", name: "Shape", type: union(ref("Circle"), ref("Square")), location: loc(GEO_TYPES_FILE, 15), doc: "Something with an area." },
  {
    kind: "object",
    name: "Square",
    fields: [
      { name: "kind", type: literal("square"), optional: false, readonly: false },
      { name: "corner", type: POINT, optional: false, readonly: false },
      { name: "side", type: T.number, optional: false, readonly: false },
      { name: "color", type: ref("Color"), optional: false, readonly: false },
    ],
    location: loc(GEO_TYPES_FILE, 13),
  },
];


export const GEO_SERVICE = service(
  "GeoService",
  GEO_FILE,
  [
    method(
      "GeoService",
      GEO_FILE,
      "move",
      [param("p", POINT, { doc: "The point to move." }), param("dx", T.number, { doc: "How far right." }), param("dy", T.number, { optional: true, default: "0", doc: "How far up." })],
      POINT,
      { doc: "Moves a point." },
    ),
    method("GeoService", GEO_FILE, "centroid", [param("points", array(POINT))], POINT),
    method("GeoService", GEO_FILE, "when", [param("d", T.date)], T.date),
    method(
      "GeoService",
      GEO_FILE,
      "tally",
      [param("counts", { kind: "map", key: T.string, value: T.number, container: "map" })],
      { kind: "map", key: T.string, value: T.number, container: "record" },
    ),
    method("GeoService", GEO_FILE, "area", [param("shape", ref("Shape"))], T.number),
    method("GeoService", GEO_FILE, "paint", [param("color", ref("Color")), param("level", ref("Level"), { optional: true })], T.string),
    method("GeoService", GEO_FILE, "big", [param("n", T.bigint)], T.bigint),
    method("GeoService", GEO_FILE, "checksum", [param("data", T.bytes)], T.bytes),
    method("GeoService", GEO_FILE, "span", [param("s", { kind: "tuple", elements: [T.number, T.number], minLength: 1 })], T.number),
    method("GeoService", GEO_FILE, "sum", [param("first", T.number), param("rest", array(T.number), { rest: true })], T.number),
    method("GeoService", GEO_FILE, "lookup", [param("id", ref("Id"))], union(T.string, T.null), { async: true }),
    method("GeoService", GEO_FILE, "grid", [], { kind: "map", key: T.number, value: array(POINT), container: "map" }),
    method(
      "GeoService",
      GEO_FILE,
      "label",
      [param("item", { kind: "object", fields: [{ name: "name", type: T.string, optional: false }, { name: "tags", type: array(T.string), optional: false }] })],
      T.string,
    ),
    method("GeoService", GEO_FILE, "mix", [param("colors", array(ref("Color")), { rest: true })], T.number),
  ],
  [
    attribute("GeoService", GEO_FILE, "version", T.string),
    attribute("GeoService", GEO_FILE, "origin", POINT, { readonly: true }),
    attribute("GeoService", GEO_FILE, "palette", array(ref("Color")), { readonly: true, kind: "getter" }),
  ],
  { doc: "Geometry on the wire." },
);

// ---- inheritance: members declared in a base class (another module) ----

const BASE_FILE = "src/base-service.ts";
const DERIVED_FILE = "src/derived-service.ts";

export const BASE_SERVICE = service(
  "BaseService",
  BASE_FILE,
  [method("BaseService", BASE_FILE, "ping", [], T.string), method("BaseService", BASE_FILE, "favourite", [], ref("Color"))],
  [attribute("BaseService", BASE_FILE, "base_value", T.number)],
);

export const DERIVED_SERVICE = service(
  "DerivedService",
  DERIVED_FILE,
  [
    method("BaseService", BASE_FILE, "ping", [], T.string),
    method("BaseService", BASE_FILE, "favourite", [], ref("Color")),
    method("DerivedService", DERIVED_FILE, "extra", [param("n", T.number)], T.number),
  ],
  [attribute("BaseService", BASE_FILE, "base_value", T.number)],
  { exportName: "default", bases: ["BaseService"] },
);



/** Every fixture service in one model (types shared between services included). */
export const FULL_MODEL: ServiceModel = {
  version: 1,
  services: [BASE_SERVICE, CALLBACK_SERVICE, CHILD_SERVICE, DERIVED_SERVICE, FLOOP_SERVICE, GEO_SERVICE, MY_SERVICE],
  types: GEO_TYPES,
};

