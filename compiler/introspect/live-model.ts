// What a live server told us about its service, turned into the ServiceModel every other
// input produces: no types (members take `...args: unknown[]` and give `unknown`), sorted, and
// located at "HOST:PORT" so generated headers name the server instead of a source file.

import { serviceAliases } from "rpyc-ts";
import { compareStrings } from "../common.js";
import { pascalCase } from "../emit/names.js";
import { MODEL_VERSION, type AttributeDef, type MethodDef, type ServiceDef, type ServiceModel, type SourceLocation } from "../model.js";

/** Every Service answers these; a stub's Remote type declares them itself, so they are not members of the model. */
export const BUILTIN_MEMBERS: ReadonlySet<string> = new Set(["get_service_name", "get_service_aliases"]);

export type LiveMemberKind = "method" | "attribute";

/** One exposed member as the server answers it. */
export interface LiveMember {
  /** The name on the server, prefix included: "exposed_add". */
  readonly member: string;
  /** The remote name clients use: "add". */
  readonly name: string;
  readonly kind: LiveMemberKind;
  readonly doc?: string;
}

/** Everything introspection read, before it becomes a model. */
export interface LiveService {
  /** "127.0.0.1:18861" or "[::1]:18861": the model's module and every location's file. */
  readonly where: string;
  /** get_service_name(), upper-cased as RPyC does. */
  readonly name: string;
  /** get_service_aliases(), in the server's order (the first is the formal name). */
  readonly aliases: readonly string[];
  /** The class of the root object ("CalculatorService"), from its id_pack; absent when the server sent none. */
  readonly remoteClass?: string;
  readonly doc?: string;
  readonly members: readonly LiveMember[];
}

/** The class name a live service's stub gets: its formal name, "MY" -> "MyService", "FLOOP_BLOOP" -> "FloopBloopService". */
export function liveClassName(formalName: string): string {
  const base = pascalCase(formalName);
  // A formal name of digits only ("2048") would make no TypeScript identifier.
  return /^[A-Za-z]/.test(base) ? `${base}Service` : `Live${base}Service`;
}

/** Python's str.expandtabs(): tabs to the next multiple of 8 columns. */
function expandTabs(line: string): string {
  let out = "";
  for (const ch of line) out += ch === "\t" ? " ".repeat(8 - (out.length % 8)) : ch;
  return out;
}

/**
 * Python's inspect.cleandoc, step for step: the first line stripped, the common indentation of
 * the other non-blank lines removed, empty lines at both ends dropped. Python docstrings arrive
 * as written in the source; INSPECT's come cleaned already (inspect.getdoc).
 */
export function cleanDoc(text: string): string | undefined {
  const lines = text.split("\n").map(expandTabs);
  const indents = lines
    .slice(1)
    .filter((line) => line.trimStart() !== "")
    .map((line) => line.length - line.trimStart().length);
  if (lines.length > 0) lines[0] = lines[0]!.trimStart();
  if (indents.length > 0) {
    const margin = Math.min(...indents);
    for (let i = 1; i < lines.length; i++) lines[i] = lines[i]!.slice(margin);
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  while (lines.length > 0 && lines[0] === "") lines.shift();
  return lines.length > 0 ? lines.join("\n") : undefined;
}

/** The ServiceModel of a live service: one service, no types, members sorted by remote name. */
export function liveServiceModel(live: LiveService): ServiceModel {
  const className = liveClassName(live.name);
  const location: SourceLocation = { file: live.where, line: 1, column: 1 };
  const members = [...live.members].sort((a, b) => compareStrings(a.name, b.name));
  const methods: MethodDef[] = members
    .filter((m) => m.kind === "method")
    .map((m) => ({
      name: m.name,
      member: m.member,
      // Nothing on the wire says how many arguments a method takes, or of what type.
      params: [{ name: "args", type: { kind: "array", element: { kind: "unknown" } }, optional: false, rest: true }],
      returns: { kind: "unknown" },
      async: false,
      declaredIn: className,
      location,
      ...(m.doc === undefined ? {} : { doc: m.doc }),
    }));
  const attributes: AttributeDef[] = members
    .filter((m) => m.kind === "attribute")
    .map((m) => ({
      name: m.name,
      member: m.member,
      type: { kind: "unknown" },
      // Services refuse remote setattr whatever the config (Service._rpyc_setattr in RPyC and rpyc-ts).
      readonly: true,
      kind: "property",
      declaredIn: className,
      location,
      ...(m.doc === undefined ? {} : { doc: m.doc }),
    }));
  // ALIASES were given unless the names are what the class name alone gives (Python's rule).
  const derived = live.remoteClass === undefined ? undefined : serviceAliases({ name: live.remoteClass });
  const explicitAliases = derived === undefined ? live.aliases.length > 1 : derived.join("\n") !== live.aliases.join("\n");
  const service: ServiceDef = {
    origin: "live",
    className,
    name: live.name,
    aliases: [...live.aliases],
    explicitAliases,
    module: live.where,
    exportName: className,
    bases: [],
    location,
    ...(live.doc === undefined ? {} : { doc: live.doc }),
    methods,
    attributes,
  };
  return { version: MODEL_VERSION, services: [service], types: [] };
}
