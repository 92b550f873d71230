// Client stubs of Python services (origin "python"): how their netrefs are written (container
// netrefs typed by their items, dataclass instances, TypedDicts, frozensets), which stub
// declares each dataclass or TypedDict interface, and the keyword-argument overload of a method.

import { compareStrings } from "../common.js";
import type { MethodDef, ServiceDef, TypeDef, WireType } from "../model.js";
import { childTypes, memberTypes, mentionedNames, typeDefBodies, type ModelIndex } from "./context.js";
import { propertyKey } from "./names.js";
import { renderTsType, type RuntimeNames, type TsNaming } from "./ts-types.js";

/** The runtime types only Python services' stubs write. */
export const PYTHON_RUNTIME_TYPES = [
  "DynamicNetref",
  "FrozenSet",
  "KeywordCall",
  "RemoteDict",
  "RemoteInstance",
  "RemoteList",
  "RemoteSet",
  "RemoteTypedDict",
] as const;
export type PythonRuntimeType = (typeof PYTHON_RUNTIME_TYPES)[number];

/** How one netref is written: the runtime type it needs (if any) and its text. */
interface NetrefForm {
  readonly runtime?: PythonRuntimeType;
  text(rt: RuntimeNames): string;
}

/**
 * A netref of a class that is not a compiled service. Python's builtin containers arrive as
 * container netrefs typed by their items; a dict whose one argument is a `ref` is a TypedDict;
 * a frozenset arrives by value (see PY_FROZENSET in extract-python/hints.ts); JavaScript Maps
 * and Sets a client sends are served by rpyc-ts as netrefs Python reads like a dict or a set; a
 * class with declared fields (a dataclass) is a RemoteInstance of its interface; any other
 * object a dynamic netref (attributes awaitable, methods callable).
 */
function netrefForm(name: string, args: readonly WireType[], render: (type: WireType) => string, instances: ReadonlySet<string>): NetrefForm {
  const typed = (runtime: PythonRuntimeType, count: number): NetrefForm => ({
    runtime,
    text: (rt) => (args.length === count ? `${rt[runtime]}<${args.map(render).join(", ")}>` : rt[runtime]),
  });
  const local = (type: string, count: number): NetrefForm => ({
    text: () => `${type}<${args.length === count ? args.map(render).join(", ") : Array(count).fill("unknown").join(", ")}>`,
  });
  if (instances.has(name)) return { runtime: "RemoteInstance", text: (rt) => `${rt.RemoteInstance}<${name}>` };
  switch (name) {
    case "builtins.list":
      return typed("RemoteList", 1);
    case "builtins.dict": {
      const fields = args.length === 1 && args[0]!.kind === "ref" ? args[0]!.name : undefined;
      return fields ? { runtime: "RemoteTypedDict", text: (rt) => `${rt.RemoteTypedDict}<${fields}>` } : typed("RemoteDict", 2);
    }
    case "builtins.set":
      return typed("RemoteSet", 1);
    case "builtins.frozenset":
      return typed("FrozenSet", 1);
    case "rpyc_ts.Map":
      return local("ReadonlyMap", 2);
    case "rpyc_ts.Set":
      return local("ReadonlySet", 1);
    default:
      return { runtime: "DynamicNetref", text: (rt) => rt.DynamicNetref };
  }
}

/**
 * The dataclasses (netref names) and TypedDicts (refs among netref arguments) a Python service's
 * values mention, transitively through their fields, sorted by name. Stubs declare them as
 * interfaces; they are not in the schema (nothing of theirs travels by value).
 */
function fieldTypesOf(index: ModelIndex, service: ServiceDef): TypeDef[] {
  if (service.origin !== "python") return [];
  const objects = new Map(index.model.types.filter((def) => def.kind === "object").map((def) => [def.name, def]));
  const found = new Map<string, TypeDef>();
  const first = mentionedNames(memberTypes(service));
  const queue = [...first.netrefs, ...first.described];
  for (let i = 0; i < queue.length; i++) {
    const def = objects.get(queue[i]!);
    if (!def || found.has(def.name) || index.service(def.name)) continue;
    found.set(def.name, def);
    const inner = mentionedNames(typeDefBodies([def]));
    queue.push(...inner.netrefs, ...inner.described);
  }
  return [...found.values()].sort((a, b) => compareStrings(a.name, b.name));
}

const ownersOf = new WeakMap<ModelIndex, Map<string, ServiceDef>>();

/** The stub declaring each dataclass or TypedDict interface: the first service (className order) that mentions it; others import it. */
function fieldTypeOwners(index: ModelIndex): Map<string, ServiceDef> {
  let owners = ownersOf.get(index);
  if (!owners) {
    owners = new Map();
    for (const service of index.sortedServices) for (const def of fieldTypesOf(index, service)) if (!owners.has(def.name)) owners.set(def.name, service);
    ownersOf.set(index, owners);
  }
  return owners;
}

export interface PythonFieldTypes {
  /** Every field type the stub writes. */
  readonly all: readonly TypeDef[];
  /** Those the stub declares (and index.ts re-exports from it). */
  readonly owned: readonly TypeDef[];
  /** Those another stub declares, with that stub's service. */
  readonly imported: readonly { readonly def: TypeDef; readonly owner: ServiceDef }[];
}

export function pythonFieldTypes(index: ModelIndex, service: ServiceDef): PythonFieldTypes {
  const all = fieldTypesOf(index, service);
  const owners = fieldTypeOwners(index);
  const owner = (def: TypeDef): ServiceDef => owners.get(def.name) ?? service;
  return {
    all,
    owned: all.filter((def) => owner(def).className === service.className),
    imported: all.filter((def) => owner(def).className !== service.className).map((def) => ({ def, owner: owner(def) })),
  };
}

/** The dataclass names among field types: netrefs of them are RemoteInstances (TypedDicts are dict netrefs' arguments). */
function instanceNames(index: ModelIndex, fieldTypes: readonly TypeDef[]): Set<string> {
  return new Set(fieldTypes.map((def) => def.name).filter((name) => !index.service(name)));
}

/** The runtime types a Python service's stub writes for its netrefs and keyword overloads. */
export function pythonRuntimeTypes(index: ModelIndex, service: ServiceDef, fieldTypes: readonly TypeDef[]): Set<PythonRuntimeType> {
  const used = new Set<PythonRuntimeType>();
  if (service.origin !== "python") return used;
  const instances = instanceNames(index, fieldTypes);
  const visit = (type: WireType): void => {
    if (type.kind === "netref" && !index.service(type.name)) {
      const runtime = netrefForm(type.name, type.args ?? [], () => "", instances).runtime;
      if (runtime) used.add(runtime);
    }
    childTypes(type).forEach(visit);
  };
  const keywordTypes = service.methods.flatMap((m) => [...(m.keywordOnly ?? []), ...(m.keywordRest ? [m.keywordRest] : [])].map((p) => p.type));
  [...memberTypes(service), ...typeDefBodies(fieldTypes), ...keywordTypes].forEach(visit);
  if (service.methods.some(hasKeywords)) used.add("KeywordCall");
  return used;
}

/** Netref names of a Python service's stub: compiled services as `service(other)` says, the rest per netrefForm. */
export function pythonNaming(index: ModelIndex, rt: RuntimeNames, fieldTypes: readonly TypeDef[], service: (other: ServiceDef) => string): TsNaming {
  const instances = instanceNames(index, fieldTypes);
  return {
    ref: (name) => name,
    netref: (name, args, render) => {
      const other = index.service(name);
      return other ? service(other) : netrefForm(name, args, render, instances).text(rt);
    },
  };
}

export function hasKeywords(method: MethodDef): boolean {
  return (method.keywordOnly?.length ?? 0) > 0 || method.keywordRest !== undefined;
}

/**
 * The type of a method's keyword arguments, as `kwargs({ ... })` takes them: keyword-only
 * parameters by name (optional with a default), and with `**extra` an index signature (its
 * values' type widened by the named ones', which TypeScript requires of an index signature,
 * and by undefined when one is optional, for projects without exactOptionalPropertyTypes).
 */
export function keywordsType(method: MethodDef, naming: TsNaming): string | undefined {
  if (!hasKeywords(method)) return undefined;
  const members = (method.keywordOnly ?? []).map((p) => `readonly ${propertyKey(p.name)}${p.optional ? "?" : ""}: ${renderTsType(p.type, naming)}`);
  const rest = method.keywordRest;
  if (rest) {
    const types = [rest.type, ...(method.keywordOnly ?? []).map((p) => p.type)];
    // An optional key's type includes undefined where exactOptionalPropertyTypes is off.
    if ((method.keywordOnly ?? []).some((p) => p.optional)) types.push({ kind: "undefined" });
    const value = types.some((t) => t.kind === "unknown")
      ? "unknown"
      : renderTsType({ kind: "union", members: types.filter((t, i) => types.findIndex((u) => JSON.stringify(u) === JSON.stringify(t)) === i) }, naming);
    members.push(`readonly [key: string]: ${value}`);
  }
  return `{ ${members.join("; ")} }`;
}
