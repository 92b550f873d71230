// Netrefs with type arguments (rpyc-gen's Python models: `list[T]` is a builtins.list netref
// with args [T]). A netref is one object both sides reach, so the items of a container travel
// both ways through it, whichever way the reference went: a client reads a list it was given
// and may append to it, a server reads a dict it was passed and may store into it. Its type
// arguments are therefore INVARIANT: a change that breaks reading or writing breaks. (Reading
// alone would be covariant; no netref class tells the model it is read-only, so invariance is
// the sound choice for every netref.) A TypedDict is the exception: a record one side fills
// and the other reads (Python code builds it and hands it over), so its keys follow the flow
// of the dict, by name. A frozenset is not a netref at all (by value, diff/types.ts).

import type { DiffCode } from "./codes.js";
import { flip, locations, type Flow, type Locations, type TypeIssue } from "./flow.js";
import { changeText } from "./text.js";
import type { SourceLocation, TypeDef, WireField, WireType } from "../model.js";

/** Python's dict: the one netref class whose single `ref` argument names a TypedDict's keys. */
export const PY_DICT = "builtins.dict";
/** By value both ways (the runtime's FrozenSet), though the model spells it as a netref. */
export const PY_FROZENSET = "builtins.frozenset";

/** A TypedDict's keys: the object TypeDef its dict netref's one argument refers to. */
export interface TypedDictKeys {
  readonly name: string;
  readonly fields: readonly WireField[];
  readonly location: SourceLocation;
}

/** A netref as the comparer sees it: its class, its type arguments when the model has them, a TypedDict's keys. */
export interface NetrefAtom {
  readonly kind: "netref";
  readonly name: string;
  readonly args?: readonly WireType[];
  readonly keys?: TypedDictKeys;
}

/** What these rules need from the TypeComparer. */
export interface ContainerChecker {
  /** Every value of `sub` (sent along `flow`) must be accepted by `sup`. */
  check(sub: WireType, sup: WireType, flow: Flow, path: string, where: Locations): TypeIssue[];
  /** Runs `compare` unless the comparison named `key` is already under way (a recursive TypedDict): coinduction. */
  once(key: string, compare: () => TypeIssue[]): TypeIssue[];
}

/** The TypedDict a dict netref stands for, when its one argument refers to an object type of `decls`. */
export function typedDictKeys(type: Extract<WireType, { kind: "netref" }>, decls: ReadonlyMap<string, TypeDef>): TypedDictKeys | undefined {
  const only = type.name === PY_DICT && type.args?.length === 1 ? type.args[0] : undefined;
  const decl = only?.kind === "ref" ? decls.get(only.name) : undefined;
  return decl?.kind === "object" ? { name: decl.name, fields: decl.fields, location: decl.location } : undefined;
}

const WRITTEN = "a netref's items are read and written through it (invariant)";

/** Two netrefs of one class (`sub` sent along `flow`): their type arguments, pairwise and invariant, or a TypedDict's keys. */
export function compareNetrefArgs(sub: NetrefAtom, sup: NetrefAtom, flow: Flow, path: string, where: Locations, c: ContainerChecker): TypeIssue[] {
  // One side without arguments: a model written before netrefs carried them, or a hint without
  // them (a bare `list`). Neither the wire nor the runtime sees them, so nothing can break.
  if (!sub.args || !sup.args) return [];
  const subKeys = sub.keys;
  const supKeys = sup.keys;
  if (subKeys && supKeys) return c.once(`keys:${flow}:${subKeys.name}:${supKeys.name}`, () => compareKeys(subKeys, supKeys, flow, path, c));
  const [oldRef, newRef] = flow === "in" ? [sub, sup] : [sup, sub];
  if (subKeys || supKeys || sub.args.length !== sup.args.length) {
    const change = changeText(asType(oldRef), asType(newRef));
    const what = subKeys || supKeys ? `a TypedDict and a plain dict differ in what keys they promise: ${change}` : `type arguments changed: ${change}`;
    return [{ code: flow === "in" ? "RPYC_DIFF_TYPE_NARROWED" : "RPYC_DIFF_TYPE_WIDENED", path, message: what, ...where }];
  }
  const supArgs = sup.args;
  return sub.args.flatMap((arg, i) => {
    const at = `${path}${argLabel(sub.name, i, supArgs.length)}`;
    const other = supArgs[i]!;
    const read = c.check(arg, other, flow, at, where);
    const written = c.check(other, arg, flip(flow), at, where);
    // Noted on both directions, so the same change seen twice (nested containers) reads the same and is reported once.
    return [...read, ...written].map((issue) => (issue.message.includes(WRITTEN) ? issue : { ...issue, message: `${issue.message}; ${WRITTEN}` }));
  });
}

/** A TypedDict old clients receive (`flow` "out") must keep every key they read; one they send must not demand keys they do not send. */
function compareKeys(sub: TypedDictKeys, sup: TypedDictKeys, flow: Flow, path: string, c: ContainerChecker): TypeIssue[] {
  const [oldT, newT] = flow === "in" ? [sub, sup] : [sup, sub];
  const where = locations(oldT.location, newT.location);
  const of = oldT.name === newT.name ? oldT.name : `${oldT.name} (now ${newT.name})`;
  const issues: TypeIssue[] = [];
  const add = (code: DiffCode, key: string, message: string): void => void issues.push({ code, path: keyPath(path, key), message, ...where });
  const oldKeys = new Set(oldT.fields.map((f) => f.name));
  const newKeys = new Map(newT.fields.map((f) => [f.name, f]));
  for (const o of oldT.fields) {
    const n = newKeys.get(o.name);
    const key = `key '${o.name}' of ${of}`;
    if (!n) {
      if (flow === "out") add("RPYC_DIFF_KEY_REMOVED", o.name, `${key} removed; old clients read it`);
      else add("RPYC_DIFF_KEY_NO_LONGER_READ", o.name, `${key} removed; old clients still send it, which Python accepts (a TypedDict is a plain dict)`);
      continue;
    }
    const [subKey, supKey] = flow === "in" ? [o, n] : [n, o];
    issues.push(...c.check(subKey.type, supKey.type, flow, keyPath(path, o.name), where));
    // Absent is absent (not None): a dict simply lacks the key.
    if (flow === "in" && o.optional && !n.optional) add("RPYC_DIFF_KEY_REQUIRED", o.name, `${key} became required; old clients may leave it out`);
    if (flow === "in" && !o.optional && n.optional) add("RPYC_DIFF_KEY_OPTIONAL", o.name, `${key} became optional`);
    if (flow === "out" && !o.optional && n.optional)
      add("RPYC_DIFF_KEY_MAY_BE_MISSING", o.name, `${key} became optional (NotRequired); old clients expect it to be present`);
  }
  for (const n of newT.fields) {
    if (oldKeys.has(n.name)) continue;
    const key = `${n.optional ? "optional" : "required"} key '${n.name}' of ${of}`;
    if (flow === "in" && !n.optional) add("RPYC_DIFF_KEY_ADDED_REQUIRED", n.name, `${key} added; old clients do not send it`);
    else add("RPYC_DIFF_KEY_ADDED", n.name, `${key} added`);
  }
  return issues;
}

/** Where an argument sits in a path: a dict's `[key]` and `[value]` (as for maps), a collection's items `[]`, else `<i>`. */
function argLabel(name: string, index: number, count: number): string {
  if (count === 2 && (name === PY_DICT || name === "rpyc_ts.Map")) return index === 0 ? "[key]" : "[value]";
  return count === 1 ? "[]" : `<${index}>`;
}

function keyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

function asType(atom: NetrefAtom): WireType {
  return { kind: "netref", name: atom.name, ...(atom.args ? { args: atom.args } : {}) };
}
