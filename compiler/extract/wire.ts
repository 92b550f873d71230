// Plain helpers on WireTypes used while extracting: canonical unions, optional values,
// and rewriting refs (internal keys -> final TypeDef names). No TypeScript here.

import type { WireType } from "../model.js";
import { compareStrings } from "../common.js";

const UNKNOWN: WireType = { kind: "unknown" };
const UNDEFINED: WireType = { kind: "undefined" };

/** Rewrites every ref name inside a WireType. */
export function mapRefs(type: WireType, rename: (name: string) => string): WireType {
  switch (type.kind) {
    case "ref":
      return { kind: "ref", name: rename(type.name) };
    case "array":
      return { kind: "array", element: mapRefs(type.element, rename) };
    case "tuple":
      return { kind: "tuple", elements: type.elements.map((e) => mapRefs(e, rename)), minLength: type.minLength };
    case "map":
      return { kind: "map", key: mapRefs(type.key, rename), value: mapRefs(type.value, rename), container: type.container };
    case "object":
      return { kind: "object", fields: type.fields.map((f) => ({ ...f, type: mapRefs(f.type, rename) })) };
    case "union":
      return { kind: "union", members: type.members.map((m) => mapRefs(m, rename)) };
    case "function":
      return { kind: "function", params: type.params.map((p) => ({ ...p, type: mapRefs(p.type, rename) })), returns: mapRefs(type.returns, rename) };
    default:
      return type;
  }
}

/** Canonical order of union members: values first, then null and undefined. */
const KIND_RANK: Readonly<Record<WireType["kind"], number>> = {
  string: 0,
  number: 1,
  bigint: 2,
  boolean: 3,
  literal: 4,
  bytes: 5,
  date: 6,
  array: 7,
  tuple: 8,
  map: 9,
  object: 10,
  ref: 11,
  function: 12,
  netref: 13,
  unknown: 14,
  null: 15,
  undefined: 16,
  union: 17, // never inside a union: unions are flattened
};

/** A flattened, deduplicated union in canonical order (TypeScript's own order depends on type ids). */
export function unionOf(members: readonly WireType[]): WireType {
  const flat: WireType[] = [];
  const seen = new Set<string>();
  const add = (member: WireType): void => {
    if (member.kind === "union") return member.members.forEach(add);
    const key = JSON.stringify(member);
    if (seen.has(key)) return;
    seen.add(key);
    flat.push(member);
  };
  members.forEach(add);
  if (flat.some((m) => m.kind === "unknown")) return UNKNOWN;
  if (flat.length === 1) return flat[0]!;
  flat.sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind] || literalRank(a) - literalRank(b) || compareStrings(JSON.stringify(a), JSON.stringify(b)));
  return { kind: "union", members: flat };
}

function literalRank(type: WireType): number {
  if (type.kind !== "literal") return 0;
  return typeof type.value === "string" ? 0 : typeof type.value === "number" ? 1 : 2;
}

/** The type without the `undefined` an optional member adds. */
export function withoutUndefined(type: WireType): WireType {
  if (type.kind !== "union") return type;
  const members = type.members.filter((m) => m.kind !== "undefined");
  if (members.length === 0) return UNDEFINED;
  return members.length === 1 ? members[0]! : { kind: "union", members };
}
