// A stub against a running server (rpyc-gen --check --introspect): which members the server
// added, which it no longer has, which changed kind, and whether its names changed. A live
// model has no types, so only names and kinds are compared.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { compareStrings, messageOf } from "../common.js";
import { MODEL_VERSION, type ServiceDef, type ServiceModel } from "../model.js";
import { IntrospectError } from "./errors.js";
import { BUILTIN_MEMBERS, type LiveMemberKind } from "./live-model.js";

export interface MemberSummary {
  /** Remote name ("add"). */
  readonly name: string;
  readonly kind: LiveMemberKind;
}

/** Something both sides have, but differently. */
export type LiveChange =
  /** A method became an attribute or the other way round. */
  | { readonly what: "kind"; readonly name: string; readonly stub: LiveMemberKind; readonly live: LiveMemberKind }
  /** The formal name (first alias) differs: registry lookups by the stub's name miss the server. */
  | { readonly what: "name"; readonly stub: string; readonly live: string }
  /** The set of aliases differs (order aside: the formal name is compared on its own). */
  | { readonly what: "aliases"; readonly stub: readonly string[]; readonly live: readonly string[] };

export interface LiveComparison {
  /** The stub's service compared (its className). */
  readonly stubService: string;
  /** The server's formal name. */
  readonly liveService: string;
  /** The live model's module: "HOST:PORT". */
  readonly where: string;
  /** On the server, not in the stub; sorted by name. */
  readonly added: readonly MemberSummary[];
  /** In the stub, not on the server; sorted by name. */
  readonly removed: readonly MemberSummary[];
  /** Names first, then aliases, then member kinds sorted by name. */
  readonly changed: readonly LiveChange[];
  /** Nothing added, removed or changed. */
  readonly matches: boolean;
  /** How many members the server has. */
  readonly liveMembers: number;
}

/** Remote name -> kind, without the builtins every service has. */
function membersOf(service: ServiceDef): Map<string, LiveMemberKind> {
  const members = new Map<string, LiveMemberKind>();
  for (const m of service.methods) if (!BUILTIN_MEMBERS.has(m.name)) members.set(m.name, "method");
  for (const a of service.attributes) if (!BUILTIN_MEMBERS.has(a.name)) members.set(a.name, "attribute");
  return members;
}

/** The stub's service the server is compared with: the only one, else the one with the server's name or an alias of it. */
function stubServiceFor(stub: ServiceModel, live: ServiceDef): ServiceDef {
  const [only, ...others] = stub.services;
  if (!only) throw new IntrospectError("BAD_STUB_MODEL", "the stub's model.json describes no service");
  if (others.length === 0) return only;
  const found =
    stub.services.find((s) => s.name === live.name) ??
    stub.services.find((s) => s.aliases.some((a) => live.aliases.includes(a))) ??
    stub.services.find((s) => s.className === live.className);
  if (found) return found;
  throw new IntrospectError(
    "NO_MATCHING_SERVICE",
    `the stub has ${stub.services.length} services (${stub.services.map((s) => s.name).join(", ")}) and none answers to ${live.aliases.join(", ")}, the server's names`,
  );
}

/** Compares a stub's model (model.json) with a live server's model (introspectServer): names and kinds, never types. */
export function compareWithLive(stub: ServiceModel, live: ServiceModel): LiveComparison {
  const liveService = live.services[0];
  if (!liveService) throw new IntrospectError("BAD_STUB_MODEL", "the live model describes no service");
  const stubService = stubServiceFor(stub, liveService);
  const stubMembers = membersOf(stubService);
  const liveMembers = membersOf(liveService);
  const added: MemberSummary[] = [];
  const removed: MemberSummary[] = [];
  const kinds: LiveChange[] = [];
  for (const [name, kind] of liveMembers) {
    const before = stubMembers.get(name);
    if (before === undefined) added.push({ name, kind });
    else if (before !== kind) kinds.push({ what: "kind", name, stub: before, live: kind });
  }
  for (const [name, kind] of stubMembers) if (!liveMembers.has(name)) removed.push({ name, kind });
  const changed: LiveChange[] = [];
  if (stubService.name !== liveService.name) changed.push({ what: "name", stub: stubService.name, live: liveService.name });
  const stubAliases = [...new Set(stubService.aliases)].sort();
  const liveAliases = [...new Set(liveService.aliases)].sort();
  if (stubAliases.join("\n") !== liveAliases.join("\n")) changed.push({ what: "aliases", stub: stubService.aliases, live: liveService.aliases });
  const byName = (a: { name: string }, b: { name: string }): number => compareStrings(a.name, b.name);
  changed.push(...(kinds as (LiveChange & { name: string })[]).sort(byName));
  return {
    stubService: stubService.className,
    liveService: liveService.name,
    where: liveService.module,
    added: added.sort(byName),
    removed: removed.sort(byName),
    changed,
    matches: added.length === 0 && removed.length === 0 && changed.length === 0,
    liveMembers: liveMembers.size,
  };
}

function describeChange(change: LiveChange): string {
  switch (change.what) {
    case "kind":
      return `${change.name}: ${change.stub} in the stub, ${change.live} on the server`;
    case "name":
      return `formal name: ${change.stub} in the stub, ${change.live} on the server`;
    case "aliases":
      return `aliases: ${change.stub.join(", ")} in the stub; ${change.live.join(", ")} on the server`;
  }
}

/** The comparison for humans: one line when it matches, else a header and one line per difference. */
export function formatLiveComparison(c: LiveComparison): string {
  if (c.matches) return `${c.where}: service ${c.liveService} matches the stub's ${c.stubService} (${c.liveMembers} members)\n`;
  const lines = [`${c.where}: service ${c.liveService} differs from the stub's ${c.stubService}:`];
  for (const m of c.added) lines.push(`  added:   ${m.name} (${m.kind})`);
  for (const m of c.removed) lines.push(`  removed: ${m.name} (${m.kind})`);
  for (const change of c.changed) lines.push(`  changed: ${describeChange(change)}`);
  return `${lines.join("\n")}\n`;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function isNamedList(value: unknown): boolean {
  return Array.isArray(value) && value.every((m) => typeof m === "object" && m !== null && typeof (m as { name?: unknown }).name === "string");
}

/** What compareWithLive reads of a model: a shallow check, so a stale or foreign model.json fails clearly. */
function checkModel(value: unknown, file: string): ServiceModel {
  const bad = (why: string): IntrospectError => new IntrospectError("BAD_STUB_MODEL", `${file}: ${why}; regenerate the stub with --emit-model`);
  if (typeof value !== "object" || value === null) throw bad("not a ServiceModel");
  const model = value as { version?: unknown; services?: unknown };
  if (model.version !== MODEL_VERSION) throw bad(`model version ${String(model.version)}, this rpyc-gen reads version ${MODEL_VERSION}`);
  if (!Array.isArray(model.services)) throw bad("no services list");
  for (const s of model.services as unknown[]) {
    const service = s as Partial<Record<keyof ServiceDef, unknown>>;
    const ok =
      typeof s === "object" &&
      s !== null &&
      typeof service.className === "string" &&
      typeof service.name === "string" &&
      isStringArray(service.aliases) &&
      isNamedList(service.methods) &&
      isNamedList(service.attributes);
    if (!ok) throw bad("a service lacks className, name, aliases, methods or attributes");
  }
  return value as ServiceModel;
}

/**
 * The model a stub was generated from: `outDir/model.json`, written by `rpyc-gen --emit-model`
 * (and by `rpyc-gen --introspect`). `shownAs` names outDir in messages (default: outDir).
 */
export function loadStubModel(outDir: string, shownAs: string = outDir): ServiceModel {
  const file = path.join(shownAs, "model.json");
  const absolute = path.join(outDir, "model.json");
  if (!existsSync(absolute)) {
    throw new IntrospectError(
      "NO_STUB_MODEL",
      `${file} does not exist: generate the stub with --emit-model (rpyc-gen ... -o ${shownAs} --emit-model), then check it against the server`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(absolute, "utf8"));
  } catch (err) {
    throw new IntrospectError("BAD_STUB_MODEL", `${file}: ${messageOf(err)}; regenerate the stub with --emit-model`, { cause: err });
  }
  return checkModel(parsed, file);
}
