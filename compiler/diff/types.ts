// Structural compatibility of WireTypes between an old and a new ServiceModel, by variance: a
// value flowing old -> new (an argument) must be accepted by the new type, a value flowing
// new -> old (a result) by the old one; function parameters flip the flow. Follows what the
// runtime's decodeValue accepts (objects are exact-length tuples, null == undefined == None).
// Netrefs' type arguments and TypedDicts are judged in diff/netrefs.ts; a frozenset, spelled as
// a netref in the model, is compared here as what it is on the wire: a value.

import type { DiffCode } from "./codes.js";
import { flip, isBreaking, locations, subSide, type Flow, type Locations, type Position, type Side, type TypeIssue } from "./flow.js";
import { compareNetrefArgs, PY_FROZENSET, typedDictKeys, type ContainerChecker, type NetrefAtom } from "./netrefs.js";
import { pairByName } from "./pairing.js";
import { changeText, oneLine, typeText } from "./text.js";
import type { ServiceModel, SourceLocation, TypeDef, WireField, WireParam, WireType } from "../model.js";

export { isBreaking, type Flow, type Locations, type Position, type Side, type TypeIssue };

export interface SignatureParam extends WireParam {
  readonly default?: string;
}

export interface Signature {
  readonly params: readonly SignatureParam[];
  readonly returns: WireType;
}

interface Named {
  readonly name: string;
  readonly location: SourceLocation;
}

/** A union member after resolving refs and aliases: what one value can be. */
type Atom =
  | { readonly kind: "string" | "number" | "bigint" | "null" | "bytes" | "date" | "unknown" }
  | { readonly kind: "literal"; readonly value: string | number | boolean; readonly enumOf?: Named & { readonly member: string } }
  | { readonly kind: "array"; readonly element: WireType }
  | { readonly kind: "tuple"; readonly elements: readonly WireType[]; readonly minLength: number }
  | { readonly kind: "map"; readonly key: WireType; readonly value: WireType; readonly container: "record" | "map" }
  | { readonly kind: "object"; readonly fields: readonly WireField[]; readonly named?: Named }
  | { readonly kind: "function"; readonly params: readonly WireParam[]; readonly returns: WireType }
  | NetrefAtom
  /** A frozenset: by value (brine), its items compared by the flow like an array's. */
  | { readonly kind: "frozenset"; readonly element?: WireType };

/** Recursive types are compared coinductively; this only stops pathological nesting. */
const MAX_DEPTH = 48;

const isRemote = (atom: Atom): boolean => atom.kind === "netref" || atom.kind === "function";

export class TypeComparer {
  private readonly types: Readonly<Record<Side, ReadonlyMap<string, TypeDef>>>;
  private readonly inProgress = new Set<string>();
  private depth = 0;
  private readonly containers: ContainerChecker = {
    check: (sub, sup, flow, path, where) => this.check(sub, sup, flow, path, where),
    once: (key, compare) => this.once(key, compare),
  };

  /** `renamedClasses`: old class name -> new, for services matched by name across a class rename (netref types follow them). */
  constructor(
    oldModel: ServiceModel,
    newModel: ServiceModel,
    private readonly renamedClasses: ReadonlyMap<string, string> = new Map(),
  ) {
    this.types = { old: new Map(oldModel.types.map((t) => [t.name, t])), new: new Map(newModel.types.map((t) => [t.name, t])) };
  }

  /** What breaks (and what is noted as safe) when a value of `oldType` at `path` becomes `newType`. */
  compare(oldType: WireType, newType: WireType, position: Position, path: string, where: Locations = {}): TypeIssue[] {
    if (position === "both") return dedupe([...this.compare(oldType, newType, "in", path, where), ...this.compare(oldType, newType, "out", path, where)]);
    return position === "in" ? this.check(oldType, newType, "in", path, where) : this.check(newType, oldType, "out", path, where);
  }

  /** Neither side can tell the two apart (used to spot renamed members). */
  equivalent(oldType: WireType, newType: WireType): boolean {
    return !this.compare(oldType, newType, "both", "").some(isBreaking);
  }

  /**
   * A callable's parameters and result. `implementedBy` is the side whose code runs (a method:
   * "new"; a callback the old client passes: "old"); the other side calls it. `topLevel` adds
   * the safe notes (widened parameter, narrowed result) that exposed methods report.
   */
  compareSignature(oldSig: Signature, newSig: Signature, implementedBy: Side, path: string, topLevel = false, where: Locations = {}): TypeIssue[] {
    const issues: TypeIssue[] = [];
    const add = (code: DiffCode, at: string, message: string): void => void issues.push({ code, path: at, message, ...where });
    const argumentFlow: Flow = implementedBy === "new" ? "in" : "out";
    // Exposed methods are checked by the server's dispatch table (and Python checks arity); a
    // callback the old client implements is a JavaScript function, which ignores extra arguments.
    const pairing = pairByName(
      oldSig.params.map((p) => p.name),
      newSig.params.map((p) => p.name),
    );
    const lastPairedOld = Math.max(-1, ...pairing.pairs.map((p) => p.oldIndex));
    const lastPairedNew = Math.max(-1, ...pairing.pairs.map((p) => p.newIndex));
    const paramPath = (name: string): string => `${path}(${name})`;

    for (const i of pairing.removed) {
      const param = oldSig.params[i]!;
      const shifts = i < lastPairedOld;
      if (shifts) add("RPYC_DIFF_PARAM_REMOVED", paramPath(param.name), `parameter '${param.name}' removed; the arguments after it shift`);
      else if (implementedBy === "new")
        add(
          "RPYC_DIFF_PARAM_REMOVED",
          paramPath(param.name),
          `parameter '${param.name}' removed; old callers still pass it and the extra argument is rejected`,
        );
      else if (!param.optional && !param.rest)
        add("RPYC_DIFF_PARAM_REMOVED", paramPath(param.name), `argument '${param.name}' is no longer passed, but the old callback requires it`);
    }
    for (const i of pairing.added) {
      const param = newSig.params[i]!;
      if (i < lastPairedNew) {
        const before = newSig.params.slice(i + 1).find((p) => oldSig.params.some((o) => o.name === p.name));
        add(
          "RPYC_DIFF_PARAM_INSERTED",
          paramPath(param.name),
          `parameter '${param.name}' inserted${before ? ` before '${before.name}'` : ""}; positional arguments shift`,
        );
      } else if (implementedBy === "old") {
        add("RPYC_DIFF_PARAM_ADDED", paramPath(param.name), `the callback is passed a new argument '${param.name}'; an old callback ignores it`);
      } else if (!param.optional && !param.rest) {
        add("RPYC_DIFF_PARAM_ADDED_REQUIRED", paramPath(param.name), `parameter '${param.name}' added without a default; old callers do not pass it`);
      } else {
        add("RPYC_DIFF_PARAM_ADDED", paramPath(param.name), `${param.rest ? "rest" : "optional"} parameter '${param.name}' added at the end`);
      }
    }
    if (pairing.reordered) {
      const order = (sig: Signature): string => `(${sig.params.map((p) => p.name).join(", ")})`;
      add("RPYC_DIFF_PARAM_REORDERED", path, `parameters reordered: ${order(oldSig)} -> ${order(newSig)}; positional arguments land in the wrong place`);
    }
    for (const pair of pairing.pairs) {
      const oldParam = oldSig.params[pair.oldIndex]!;
      const newParam = newSig.params[pair.newIndex]!;
      const at = paramPath(oldParam.name);
      if (pair.renamed)
        add(
          "RPYC_DIFF_PARAM_RENAMED",
          at,
          `parameter '${oldParam.name}' renamed to '${newParam.name}' in place; stubs pass it by position (keyword callers must use the new name)`,
        );
      const [caller, callee] = implementedBy === "new" ? [oldParam, newParam] : [newParam, oldParam];
      const callerMayOmit = caller.optional || caller.rest;
      const calleeRequires = !callee.optional && !callee.rest;
      if (callerMayOmit && calleeRequires) {
        if (implementedBy === "new") add("RPYC_DIFF_PARAM_REQUIRED", at, `optional parameter '${oldParam.name}' became required; old callers may leave it out`);
        else add("RPYC_DIFF_PARAM_MAY_BE_OMITTED", at, `argument '${oldParam.name}' may now be left out, but the old callback requires it`);
      } else if (implementedBy === "new" && !caller.optional && !caller.rest && !calleeRequires) {
        add("RPYC_DIFF_PARAM_OPTIONAL", at, `parameter '${oldParam.name}' became optional`);
      }
      if (implementedBy === "new" && caller.rest && !callee.rest) {
        add("RPYC_DIFF_PARAM_NO_LONGER_VARIADIC", at, `rest parameter '...${oldParam.name}' became a single parameter; callers passing several arguments fail`);
      }
      if (implementedBy === "new" && oldParam.default !== undefined && newParam.default !== undefined && oldParam.default !== newParam.default) {
        add(
          "RPYC_DIFF_PARAM_DEFAULT_CHANGED",
          at,
          `default of '${oldParam.name}' changed from ${oneLine(oldParam.default)} to ${oneLine(newParam.default)}; callers that leave it out get the new default`,
        );
      }
      const typeIssues = this.compare(argumentType(oldParam), argumentType(newParam), argumentFlow, at, where);
      issues.push(...typeIssues);
      // The safe note only when nothing more specific was said about this parameter.
      if (topLevel && typeIssues.length === 0 && this.compare(argumentType(oldParam), argumentType(newParam), flip(argumentFlow), at).some(isBreaking)) {
        add("RPYC_DIFF_PARAM_TYPE_WIDENED", at, `parameter '${oldParam.name}' accepts more: ${changeText(argumentType(oldParam), argumentType(newParam))}`);
      }
    }
    const resultPath = `${path}()`;
    const resultFlow = flip(argumentFlow);
    const resultIssues = this.compare(oldSig.returns, newSig.returns, resultFlow, resultPath, where);
    issues.push(...resultIssues);
    if (topLevel && resultIssues.length === 0 && this.compare(oldSig.returns, newSig.returns, flip(resultFlow), resultPath).some(isBreaking)) {
      add("RPYC_DIFF_RESULT_TYPE_NARROWED", resultPath, `result is narrower: ${changeText(oldSig.returns, newSig.returns)}`);
    }
    return issues;
  }

  /** Every value of `sub` (on the flow's sending side) must be accepted by `sup`. */
  private check(sub: WireType, sup: WireType, flow: Flow, path: string, where: Locations): TypeIssue[] {
    const compare = (): TypeIssue[] => {
      const supAtoms = this.atoms(sup, subSide(flip(flow)), new Set());
      const refused: Atom[] = [];
      const issues = this.atoms(sub, subSide(flow), new Set()).flatMap((atom) => this.accept(atom, supAtoms, flow, path, where) ?? (refused.push(atom), []));
      return refused.length === 0 ? issues : [...issues, ...this.rejected(refused, supAtoms, flow, path, where, sub, sup)];
    };
    return sub.kind === "ref" && sup.kind === "ref" ? this.once(`${flow}:${sub.name}:${sup.name}`, compare) : this.once(undefined, compare);
  }

  /** Runs `compare` unless the comparison named `key` is under way: coinduction, recursive types are assumed compatible while being compared. */
  private once(key: string | undefined, compare: () => TypeIssue[]): TypeIssue[] {
    if (key && this.inProgress.has(key)) return [];
    if (this.depth > MAX_DEPTH) return [];
    if (key) this.inProgress.add(key);
    this.depth++;
    try {
      return compare();
    } finally {
      this.depth--;
      if (key) this.inProgress.delete(key);
    }
  }

  /** The issues of `atom` against the closest candidate; undefined when no candidate can hold it at all. */
  private accept(atom: Atom, supAtoms: readonly Atom[], flow: Flow, path: string, where: Locations): TypeIssue[] | undefined {
    if (supAtoms.some((s) => s.kind === "unknown")) return [];
    let closest: TypeIssue[] | undefined;
    for (const candidate of supAtoms) {
      const issues = this.relate(atom, candidate, flow, path, where);
      if (!issues) continue;
      if (!issues.some(isBreaking)) return issues;
      // Details inside a candidate help only when it is the same type changed, not another member of a union (Hit vs Miss).
      if (!corresponds(atom, candidate)) continue;
      if (!closest || countBreaking(issues) < countBreaking(closest)) closest = issues;
    }
    return closest;
  }

  /** Issues of `atom` against one candidate of the same kind; undefined when the kinds cannot match at all. */
  private relate(atom: Atom, candidate: Atom, flow: Flow, path: string, where: Locations): TypeIssue[] | undefined {
    switch (atom.kind) {
      case "literal":
        if (candidate.kind === "literal") return candidate.value === atom.value ? [] : undefined;
        return candidate.kind === typeof atom.value ? [] : undefined;
      case "array":
        return candidate.kind === "array" ? this.check(atom.element, candidate.element, flow, `${path}[]`, where) : undefined;
      case "tuple":
        if (candidate.kind === "array") return atom.elements.flatMap((e, i) => this.check(e, candidate.element, flow, `${path}[${i}]`, where));
        return candidate.kind === "tuple" ? this.tuple(atom, candidate, flow, path, where) : undefined;
      case "map":
        // Records and Maps are the same pairs on the wire; each side decodes into its own container.
        if (candidate.kind !== "map") return undefined;
        return [...this.check(atom.key, candidate.key, flow, `${path}[key]`, where), ...this.check(atom.value, candidate.value, flow, `${path}[value]`, where)];
      case "object":
        return candidate.kind === "object" ? this.object(atom, candidate, flow, path, where) : undefined;
      case "function": {
        if (candidate.kind !== "function") return undefined;
        const [oldFn, newFn] = flow === "in" ? [atom, candidate] : [candidate, atom];
        return this.compareSignature(oldFn, newFn, subSide(flow), path, false, where);
      }
      case "netref":
        return candidate.kind === "netref" && candidate.name === atom.name ? compareNetrefArgs(atom, candidate, flow, path, where, this.containers) : undefined;
      case "frozenset":
        if (candidate.kind !== "frozenset") return undefined;
        return atom.element && candidate.element ? this.check(atom.element, candidate.element, flow, `${path}[]`, where) : [];
      default:
        return candidate.kind === atom.kind ? [] : undefined;
    }
  }

  private tuple(atom: Extract<Atom, { kind: "tuple" }>, candidate: Extract<Atom, { kind: "tuple" }>, flow: Flow, path: string, where: Locations): TypeIssue[] {
    const issues: TypeIssue[] = [];
    if (atom.minLength < candidate.minLength || atom.elements.length > candidate.elements.length) {
      const range = (t: { minLength: number; elements: readonly unknown[] }): string =>
        t.minLength === t.elements.length ? `${t.minLength}` : `${t.minLength} to ${t.elements.length}`;
      const [oldT, newT] = flow === "in" ? [atom, candidate] : [candidate, atom];
      issues.push(this.issue(flow, path, where, `tuple length ${range(oldT)} -> ${range(newT)}`));
    }
    const common = Math.min(atom.elements.length, candidate.elements.length);
    for (let i = 0; i < common; i++) issues.push(...this.check(atom.elements[i]!, candidate.elements[i]!, flow, `${path}[${i}]`, where));
    return issues;
  }

  private object(
    atom: Extract<Atom, { kind: "object" }>,
    candidate: Extract<Atom, { kind: "object" }>,
    flow: Flow,
    path: string,
    outer: Locations,
  ): TypeIssue[] {
    const [oldObj, newObj] = flow === "in" ? [atom, candidate] : [candidate, atom];
    const label = oldObj.named?.name ?? newObj.named?.name;
    const of = label ? ` of ${label}` : "";
    const where: Locations = oldObj.named || newObj.named ? locations(oldObj.named?.location, newObj.named?.location) : outer;
    const issues: TypeIssue[] = [];
    const add = (code: DiffCode, at: string, message: string): void => void issues.push({ code, path: at, message, ...where });
    const pairing = pairByName(
      oldObj.fields.map((f) => f.name),
      newObj.fields.map((f) => f.name),
    );
    const tuples = "objects travel as tuples of every field, so old and new no longer agree on the length";
    for (const i of pairing.removed)
      add("RPYC_DIFF_FIELD_REMOVED", `${path}.${oldObj.fields[i]!.name}`, `field '${oldObj.fields[i]!.name}'${of} removed; ${tuples}`);
    for (const i of pairing.added) {
      const field = newObj.fields[i]!;
      add("RPYC_DIFF_FIELD_ADDED", `${path}.${field.name}`, `${field.optional ? "optional" : "required"} field '${field.name}'${of} added; ${tuples}`);
    }
    if (pairing.reordered) {
      const order = (o: typeof oldObj): string => `(${o.fields.map((f) => f.name).join(", ")})`;
      add("RPYC_DIFF_FIELD_REORDERED", path, `fields${of} reordered: ${order(oldObj)} -> ${order(newObj)}; fields travel by position`);
    }
    for (const pair of pairing.pairs) {
      const oldField = oldObj.fields[pair.oldIndex]!;
      const newField = newObj.fields[pair.newIndex]!;
      const at = `${path}.${oldField.name}`;
      if (pair.renamed) add("RPYC_DIFF_FIELD_RENAMED", at, `field '${oldField.name}'${of} renamed to '${newField.name}' in place; fields travel by position`);
      const [subField, supField] = flow === "in" ? [oldField, newField] : [newField, oldField];
      issues.push(...this.check(subField.type, supField.type, flow, at, where));
      // An optional field travels as None when absent.
      if (
        subField.optional &&
        !supField.optional &&
        !this.atoms(supField.type, subSide(flip(flow)), new Set()).some((a) => a.kind === "null" || a.kind === "unknown")
      ) {
        add(
          flow === "in" ? "RPYC_DIFF_TYPE_NARROWED" : "RPYC_DIFF_TYPE_WIDENED",
          at,
          flow === "in"
            ? `field '${oldField.name}'${of} became required; old clients may leave it out`
            : `field '${oldField.name}'${of} became optional; old clients expect it to be present`,
        );
      }
    }
    return issues;
  }

  /** Values of `sub` no candidate of `sup` holds: a specific rule when one applies, else one issue naming them all (`int` is number and bigint). */
  private rejected(refused: readonly Atom[], supAtoms: readonly Atom[], flow: Flow, path: string, where: Locations, sub: WireType, sup: WireType): TypeIssue[] {
    const [oldType, newType] = flow === "in" ? [sub, sup] : [sup, sub];
    const change = changeText(oldType, newType);
    const specific = refused.map((atom) => this.specific(atom, supAtoms, flow, path, where, change));
    const plain = [...new Set(refused.filter((_, i) => !specific[i]).map(atomText))];
    const issues = specific.filter((issue): issue is TypeIssue => issue !== undefined);
    if (plain.length === 0) return issues;
    const values = plain.join(" or ");
    return [
      ...issues,
      this.issue(
        flow,
        path,
        where,
        flow === "in" ? `no longer accepts ${values}: ${change}` : `may now be ${values}, which old clients do not expect: ${change}`,
      ),
    ];
  }

  /** A netref that became a value (or back), an enum member gone or new; undefined for any other refused value. */
  private specific(atom: Atom, supAtoms: readonly Atom[], flow: Flow, path: string, where: Locations, change: string): TypeIssue | undefined {
    const subIsOld = flow === "in";
    const becameRemote = isRemote(atom)
      ? supAtoms.length > 0 && !supAtoms.some(isRemote)
      : atom.kind !== "unknown" && supAtoms.length > 0 && supAtoms.every(isRemote);
    if (becameRemote) {
      // The sub side is remote and the sup side by value, or the reverse; which one is old decides the direction.
      const nowRemote = isRemote(atom) !== subIsOld;
      return nowRemote
        ? { code: "RPYC_DIFF_BECAME_NETREF", path, message: `a by-value type became a remote object (netref): ${change}`, ...where }
        : {
            code: "RPYC_DIFF_BECAME_VALUE",
            path,
            message: `a remote object (netref) became a by-value type; old clients treat it as a netref: ${change}`,
            ...where,
          };
    }
    if (atom.kind === "literal" && atom.enumOf) {
      // Located at the enum's declarations (the other side's, when it is an enum too), not at the enclosing type.
      const other = supAtoms.find((a): a is Extract<Atom, { kind: "literal" }> => a.kind === "literal" && a.enumOf !== undefined)?.enumOf?.location;
      const at = subIsOld ? locations(atom.enumOf.location, other) : locations(other, atom.enumOf.location);
      const member = `${atom.enumOf.name}.${atom.enumOf.member} (${JSON.stringify(atom.value)})`;
      return subIsOld
        ? { code: "RPYC_DIFF_ENUM_MEMBER_REMOVED", path, message: `enum member ${member} is gone; old clients may still send it`, ...at }
        : { code: "RPYC_DIFF_ENUM_MEMBER_ADDED", path, message: `enum member ${member} is new; old clients do not expect it`, ...at };
    }
    return undefined;
  }

  private issue(flow: Flow, path: string, where: Locations, message: string): TypeIssue {
    return { code: flow === "in" ? "RPYC_DIFF_TYPE_NARROWED" : "RPYC_DIFF_TYPE_WIDENED", path, message, ...where };
  }

  /** The values a type can be, as a flat list: unions flattened, refs and aliases resolved, enums and booleans as their literals. */
  private atoms(type: WireType, side: Side, seenAliases: Set<string>): Atom[] {
    switch (type.kind) {
      case "union":
        return type.members.flatMap((m) => this.atoms(m, side, seenAliases));
      case "boolean":
        return [
          { kind: "literal", value: true },
          { kind: "literal", value: false },
        ];
      case "null":
      case "undefined":
        return [{ kind: "null" }]; // both are None on the wire, and each decodes the other
      case "netref": {
        if (type.name === PY_FROZENSET) return [{ kind: "frozenset", ...(type.args?.length === 1 ? { element: type.args[0]! } : {}) }];
        const keys = typedDictKeys(type, this.types[side]);
        const name = side === "old" ? (this.renamedClasses.get(type.name) ?? type.name) : type.name;
        return [{ kind: "netref", name, ...(type.args ? { args: type.args } : {}), ...(keys ? { keys } : {}) }];
      }
      case "ref": {
        const decl = this.types[side].get(type.name);
        if (!decl) throw new TypeError(`the ${side} model refers to type '${type.name}', which its types do not declare`);
        if (decl.kind === "object") return [{ kind: "object", fields: decl.fields, named: { name: decl.name, location: decl.location } }];
        if (decl.kind === "enum")
          return decl.members.map((m) => ({ kind: "literal", value: m.value, enumOf: { name: decl.name, member: m.name, location: decl.location } }));
        if (seenAliases.has(decl.name)) return [];
        return this.atoms(decl.type, side, new Set([...seenAliases, decl.name]));
      }
      default:
        return [type];
    }
  }
}

/** Two objects are the same type changed when their names agree, or when either is anonymous. */
function corresponds(atom: Atom, candidate: Atom): boolean {
  if (atom.kind !== "object" || candidate.kind !== "object" || !atom.named || !candidate.named) return true;
  return atom.named.name === candidate.named.name;
}

function argumentType(param: WireParam): WireType {
  if (!param.rest) return param.type;
  return param.type.kind === "array" ? param.type.element : { kind: "unknown" };
}

function countBreaking(issues: readonly TypeIssue[]): number {
  return issues.filter(isBreaking).length;
}

export function dedupe<T extends { readonly code: string; readonly path: string; readonly message: string }>(entries: readonly T[]): T[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const key = `${e.code}\u0000${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function atomText(atom: Atom): string {
  if (atom.kind === "object" && atom.named) return atom.named.name;
  if (atom.kind === "literal" && atom.enumOf) return `${atom.enumOf.name}.${atom.enumOf.member}`;
  if (atom.kind === "null") return "None";
  if (atom.kind === "frozenset") return typeText({ kind: "netref", name: PY_FROZENSET, ...(atom.element ? { args: [atom.element] } : {}) });
  return typeText(atom);
}
