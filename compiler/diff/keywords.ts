// Python keyword-only parameters and **kwargs (MethodDef.keywordOnly, keywordRest): a caller
// passes them by name in a last kwargs({ ... }), so they pair by name, never by position.
// Their values flow in, like every argument: a keyword must not narrow, and a name an old
// caller may pass must still be taken (by a keyword of that name or by **kwargs).

import type { TypeComparer } from "./types.js";
import { isBreaking, type Locations, type TypeIssue } from "./flow.js";
import { changeText, oneLine } from "./text.js";
import type { DiffCode } from "./codes.js";
import type { MethodDef, ParamDef } from "../model.js";

/** What breaks for old callers of `path` between the keyword parameters of `o` and `n` (TypeScript methods have none). */
export function compareKeywords(o: MethodDef, n: MethodDef, comparer: TypeComparer, path: string, where: Locations): TypeIssue[] {
  const issues: TypeIssue[] = [];
  const add = (code: DiffCode, at: string, message: string): void => void issues.push({ code, path: at, message, ...where });
  /** A value old callers pass as `oldType` now lands in `newType`: narrowed breaks, widened is noted (when `what` names it). */
  const flowsInto = (oldType: ParamDef, newType: ParamDef, at: string, what?: string): void => {
    const typeIssues = comparer.compare(oldType.type, newType.type, "in", at, where);
    issues.push(...typeIssues);
    if (what && typeIssues.length === 0 && comparer.compare(oldType.type, newType.type, "out", at).some(isBreaking)) {
      add("RPYC_DIFF_PARAM_TYPE_WIDENED", at, `${what} accepts more: ${changeText(oldType.type, newType.type)}`);
    }
  };
  const oldKeywords = new Map((o.keywordOnly ?? []).map((p) => [p.name, p]));
  const newKeywords = new Map((n.keywordOnly ?? []).map((p) => [p.name, p]));
  const oldRest = o.keywordRest;
  const newRest = n.keywordRest;

  for (const [name, oldParam] of oldKeywords) {
    const at = keywordPath(path, name);
    const newParam = newKeywords.get(name);
    if (!newParam) {
      if (newRest) {
        add("RPYC_DIFF_KEYWORD_TO_KWARGS", at, `keyword '${name}' removed; **${newRest.name} takes it from old callers`);
        flowsInto(oldParam, newRest, at);
      } else {
        add("RPYC_DIFF_KEYWORD_REMOVED", at, `keyword '${name}' removed; old callers passing it get a TypeError (unexpected keyword argument)`);
      }
      continue;
    }
    if (oldParam.optional && !newParam.optional) add("RPYC_DIFF_KEYWORD_REQUIRED", at, `keyword '${name}' became required; old callers may leave it out`);
    if (!oldParam.optional && newParam.optional) add("RPYC_DIFF_KEYWORD_OPTIONAL", at, `keyword '${name}' became optional`);
    if (oldParam.default !== undefined && newParam.default !== undefined && oldParam.default !== newParam.default) {
      add(
        "RPYC_DIFF_PARAM_DEFAULT_CHANGED",
        at,
        `default of keyword '${name}' changed from ${oneLine(oldParam.default)} to ${oneLine(newParam.default)}; callers that leave it out get the new default`,
      );
    }
    flowsInto(oldParam, newParam, at, `keyword '${name}'`);
  }
  for (const [name, newParam] of newKeywords) {
    if (oldKeywords.has(name)) continue;
    const at = keywordPath(path, name);
    if (newParam.optional) add("RPYC_DIFF_KEYWORD_ADDED", at, `optional keyword '${name}' added`);
    else add("RPYC_DIFF_KEYWORD_ADDED_REQUIRED", at, `keyword '${name}' added without a default; old callers do not pass it`);
    // Old callers may already pass this name into the old **kwargs: those values now land here.
    if (oldRest) {
      const through = ` (old callers may pass '${name}' through **${oldRest.name})`;
      issues.push(...comparer.compare(oldRest.type, newParam.type, "in", at, where).map((issue) => ({ ...issue, message: `${issue.message}${through}` })));
    }
  }
  if (oldRest && !newRest)
    add("RPYC_DIFF_KWARGS_REMOVED", `${path}(**${oldRest.name})`, `**${oldRest.name} removed; old callers may pass keywords the method no longer takes`);
  if (!oldRest && newRest) add("RPYC_DIFF_KWARGS_ADDED", `${path}(**${newRest.name})`, `**${newRest.name} added`);
  if (oldRest && newRest) flowsInto(oldRest, newRest, `${path}(**${oldRest.name})`, `**${oldRest.name}`);
  return issues;
}

/** Whether two methods take the same keywords (for the rename hint of a removed member). */
export function sameKeywords(a: MethodDef, b: MethodDef, comparer: TypeComparer): boolean {
  const left = a.keywordOnly ?? [];
  const right = new Map((b.keywordOnly ?? []).map((p) => [p.name, p]));
  const sameParam = (p: ParamDef | undefined, q: ParamDef | undefined): boolean =>
    !p || !q ? p === q : p.optional === q.optional && comparer.equivalent(p.type, q.type);
  return left.length === right.size && left.every((p) => sameParam(p, right.get(p.name))) && sameParam(a.keywordRest, b.keywordRest);
}

/** `greet(greeting=)`: a keyword as Python callers write it. */
function keywordPath(path: string, name: string): string {
  return `${path}(${name}=)`;
}
