// `rpyc-gen diff`: what breaks clients built from an OLD ServiceModel when they talk to a NEW
// server. Pure and deterministic; the rules are listed in diff/codes.ts, types compared by
// variance in diff/types.ts. Docs, locations, `async` and declaring classes are not compared:
// none of them reaches the wire, and reporting them would bury the changes that do.

import { compareStrings } from "./common.js";
import { DIFF_RULES, type DiffCode, type DiffSeverity } from "./diff/codes.js";
import { compareKeywords, sameKeywords } from "./diff/keywords.js";
import { changeText } from "./diff/text.js";
import { TypeComparer, dedupe, isBreaking, type Locations, type TypeIssue } from "./diff/types.js";
import type { AttributeDef, MethodDef, ServiceDef, ServiceModel, SourceLocation } from "./model.js";

export { DIFF_RULES, type DiffCode, type DiffSeverity };

export interface DiffEntry {
  readonly severity: DiffSeverity;
  readonly code: DiffCode;
  /** Class name of the service (the old one when the class was renamed). */
  readonly service: string;
  /** "" for the service itself, else the member and below: "get_user", "get_user(id)", "get_user().address.zip", "each(visit)(item)". */
  readonly path: string;
  /** One line. */
  readonly message: string;
  /** Where the changed thing is declared in the old model (the innermost named type when the change is inside one). */
  readonly old?: SourceLocation;
  readonly new?: SourceLocation;
}

export interface DiffReport {
  /** Breaking entries first, then safe ones; each group by service class name, then in member order. */
  readonly entries: readonly DiffEntry[];
  readonly breaking: number;
  readonly safe: number;
}

type Member = { readonly kind: "method"; readonly def: MethodDef } | { readonly kind: "attribute"; readonly def: AttributeDef };

/** Compares two models: every change that reaches clients of `old`'s stubs, each marked breaking or safe. */
export function diffModels(old: ServiceModel, next: ServiceModel): DiffReport {
  const { pairs, removed, added } = matchServices(old.services, next.services);
  const renamedClasses = new Map(pairs.filter(([o, n]) => o.className !== n.className).map(([o, n]) => [o.className, n.className]));
  const comparer = new TypeComparer(old, next, renamedClasses);
  const entries: DiffEntry[] = [];
  for (const service of removed) {
    entries.push(
      entry(service.className, {
        code: "RPYC_DIFF_SERVICE_REMOVED",
        path: "",
        message: `service ${service.name} (${service.className}) removed`,
        old: service.location,
      }),
    );
  }
  for (const [o, n] of pairs) entries.push(...dedupe(diffService(o, n, comparer)));
  for (const service of added) {
    entries.push(
      entry(service.className, {
        code: "RPYC_DIFF_SERVICE_ADDED",
        path: "",
        message: `service ${service.name} (${service.className}) added`,
        new: service.location,
      }),
    );
  }
  const rank = (e: DiffEntry): number => (e.severity === "breaking" ? 0 : 1);
  const sorted = entries.sort((a, b) => rank(a) - rank(b) || compareStrings(a.service, b.service));
  const breaking = sorted.filter((e) => e.severity === "breaking").length;
  return { entries: sorted, breaking, safe: sorted.length - breaking };
}

/** Pairs services by class name, then by formal name, then by any shared alias (clients reach a service by its names). */
function matchServices(oldServices: readonly ServiceDef[], newServices: readonly ServiceDef[]) {
  const pairs: [ServiceDef, ServiceDef][] = [];
  const left = new Set(newServices);
  let unmatched = [...oldServices];
  const byRule = (same: (o: ServiceDef, n: ServiceDef) => boolean): void => {
    unmatched = unmatched.filter((o) => {
      const n = [...left].find((candidate) => same(o, candidate));
      if (!n) return true;
      pairs.push([o, n]);
      left.delete(n);
      return false;
    });
  };
  byRule((o, n) => o.className === n.className);
  byRule((o, n) => o.name === n.name);
  byRule((o, n) => o.aliases.some((a) => n.aliases.includes(a)));
  pairs.sort(([a], [b]) => compareStrings(a.className, b.className));
  return { pairs, removed: unmatched, added: [...left] };
}

function diffService(o: ServiceDef, n: ServiceDef, comparer: TypeComparer): DiffEntry[] {
  const entries: DiffEntry[] = [];
  const add = (issue: TypeIssue): void => void entries.push(entry(o.className, issue));
  const at = { old: o.location, new: n.location };
  if (o.className !== n.className) {
    add({
      code: "RPYC_DIFF_SERVICE_CLASS_RENAMED",
      path: "",
      message: `class ${o.className} renamed to ${n.className}; the old stub looks its schema up by class name, so its calls on such netrefs go untyped`,
      ...at,
    });
  }
  const nameChanged = o.name !== n.name;
  if (nameChanged) {
    const still = n.aliases.includes(o.name) ? `; ${o.name} stays an alias` : `; ${o.name} is no longer registered`;
    add({
      code: "RPYC_DIFF_SERVICE_NAME_CHANGED",
      path: "",
      message: `formal name ${o.name} -> ${n.name}: get_service_name() answers ${n.name}${still}`,
      ...at,
    });
  }
  for (const alias of o.aliases) {
    if (n.aliases.includes(alias) || (nameChanged && alias === o.name)) continue;
    add({ code: "RPYC_DIFF_ALIAS_REMOVED", path: "", message: `alias ${alias} removed; clients discovering the service by it find nothing`, ...at });
  }
  for (const alias of n.aliases) {
    if (o.aliases.includes(alias) || (nameChanged && alias === n.name)) continue;
    add({ code: "RPYC_DIFF_ALIAS_ADDED", path: "", message: `alias ${alias} added`, ...at });
  }

  const oldMembers = members(o);
  const newMembers = members(n);
  const removed = [...oldMembers.values()].filter((m) => !newMembers.has(m.def.name));
  const added = [...newMembers.values()].filter((m) => !oldMembers.has(m.def.name));
  const sameShape = (a: Member, b: Member): boolean =>
    a.kind === b.kind && (a.kind === "method" ? sameMethod(a.def, b.def as MethodDef, comparer) : sameAttribute(a.def, b.def as AttributeDef, comparer));
  const names = [...new Set([...oldMembers.keys(), ...newMembers.keys()])].sort(compareStrings);
  for (const name of names) {
    const om = oldMembers.get(name);
    const nm = newMembers.get(name);
    if (om && !nm) {
      const twins = added.filter((a) => sameShape(om, a)).map((a) => `'${a.def.name}'`);
      const hint = twins.length
        ? `; renamed? added ${twins.join(", ")} ${twins.length === 1 ? "has" : "have"} the same signature, but old clients still call '${name}'`
        : "";
      add({ code: "RPYC_DIFF_MEMBER_REMOVED", path: name, message: `${om.kind} '${name}' removed${hint}`, old: om.def.location });
    } else if (nm && !om) {
      const twins = removed.filter((r) => sameShape(r, nm)).map((r) => `'${r.def.name}'`);
      const hint = twins.length ? ` (same signature as removed ${twins.join(", ")})` : "";
      add({ code: "RPYC_DIFF_MEMBER_ADDED", path: name, message: `${nm.kind} '${name}' added${hint}`, new: nm.def.location });
    } else if (om && nm) {
      const where = { old: om.def.location, new: nm.def.location };
      if (om.kind !== nm.kind)
        add({
          code: "RPYC_DIFF_MEMBER_KIND_CHANGED",
          path: name,
          message: `${om.kind} '${name}' became ${nm.kind === "method" ? "a method" : "an attribute"}`,
          ...where,
        });
      else if (om.kind === "method") {
        comparer.compareSignature(om.def, nm.def as MethodDef, "new", name, true, where).forEach(add);
        compareKeywords(om.def, nm.def as MethodDef, comparer, name, where).forEach(add);
      } else diffAttribute(om.def, nm.def as AttributeDef, comparer, where).forEach(add);
    }
  }
  return entries;
}

function diffAttribute(o: AttributeDef, n: AttributeDef, comparer: TypeComparer, where: Locations): TypeIssue[] {
  const issues: TypeIssue[] = [];
  if (!o.readonly && n.readonly)
    issues.push({ code: "RPYC_DIFF_ATTRIBUTE_READONLY", path: o.name, message: `attribute '${o.name}' became readonly; old clients may write it`, ...where });
  if (o.readonly && !n.readonly)
    issues.push({ code: "RPYC_DIFF_ATTRIBUTE_WRITABLE", path: o.name, message: `attribute '${o.name}' became writable`, ...where });
  // Old clients read it; they also write it only where both sides allow writes (the readonly change is its own entry).
  const position = !o.readonly && !n.readonly ? "both" : "out";
  const typeIssues = comparer.compare(o.type, n.type, position, o.name, where);
  issues.push(...typeIssues);
  if (position === "out" && typeIssues.length === 0 && comparer.compare(o.type, n.type, "in", o.name).some(isBreaking)) {
    issues.push({
      code: "RPYC_DIFF_RESULT_TYPE_NARROWED",
      path: o.name,
      message: `attribute '${o.name}' is narrower: ${changeText(o.type, n.type)}`,
      ...where,
    });
  }
  return issues;
}

function members(service: ServiceDef): Map<string, Member> {
  const map = new Map<string, Member>();
  for (const def of service.methods) map.set(def.name, { kind: "method", def });
  for (const def of service.attributes) map.set(def.name, { kind: "attribute", def });
  return map;
}

function sameMethod(a: MethodDef, b: MethodDef, comparer: TypeComparer): boolean {
  return (
    a.params.length === b.params.length &&
    a.params.every((p, i) => {
      const q = b.params[i]!;
      return p.optional === q.optional && p.rest === q.rest && comparer.equivalent(p.type, q.type);
    }) &&
    comparer.equivalent(a.returns, b.returns) &&
    sameKeywords(a, b, comparer)
  );
}

function sameAttribute(a: AttributeDef, b: AttributeDef, comparer: TypeComparer): boolean {
  return a.readonly === b.readonly && comparer.equivalent(a.type, b.type);
}

function entry(service: string, issue: TypeIssue): DiffEntry {
  return {
    severity: DIFF_RULES[issue.code].severity,
    code: issue.code,
    service,
    path: issue.path,
    message: issue.message,
    ...(issue.old ? { old: issue.old } : {}),
    ...(issue.new ? { new: issue.new } : {}),
  };
}
