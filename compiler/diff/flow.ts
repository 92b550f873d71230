// The vocabulary every rule module of `rpyc-gen diff` shares: which way a value flows between
// an old client and a new server, and the issue a rule reports. Types only, plus two helpers.

import { DIFF_RULES, type DiffCode } from "./codes.js";
import type { SourceLocation } from "../model.js";

/** "in": values travel from the old side to the new one (old clients' arguments); "out": from the new side to old clients (results). */
export type Flow = "in" | "out";
/** Where a type is used: "both" (a writable attribute) must not change at all. */
export type Position = Flow | "both";

/** Which model a type or a piece of code belongs to. */
export type Side = "old" | "new";

export interface Locations {
  readonly old?: SourceLocation;
  readonly new?: SourceLocation;
}

export interface TypeIssue extends Locations {
  readonly code: DiffCode;
  /** Full path of the value, e.g. "put_user(user).address.zip", "get_user()", "each(visit)(item)". */
  readonly path: string;
  readonly message: string;
}

export const isBreaking = (issue: { readonly code: DiffCode }): boolean => DIFF_RULES[issue.code].severity === "breaking";

export const flip = (flow: Flow): Flow => (flow === "in" ? "out" : "in");

/** The side that sends the value: old clients' arguments, the new server's results. */
export const subSide = (flow: Flow): Side => (flow === "in" ? "old" : "new");

export function locations(old: SourceLocation | undefined, next: SourceLocation | undefined): Locations {
  return { ...(old ? { old } : {}), ...(next ? { new: next } : {}) };
}
