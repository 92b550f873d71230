// Diagnostics both extractors (TypeScript, compiler/extract.ts; Python, compiler/extract-python.ts)
// collect and report the same way, written once: each diagnostic recorded once and listed by
// place; sources that matched nothing (RPYC_NO_INPUT); a name two services answer to
// (RPYC_DUPLICATE_SERVICE_NAME). Plain model data only: no ts-morph, no tree-sitter.

import { compareStrings, toPosix } from "./common.js";
import type { Diagnostic, DiagnosticCode, ServiceDef, SourceLocation } from "./model.js";

/** Reports an error diagnostic. */
export type ReportDiagnostic = (code: DiagnosticCode, location: SourceLocation, message: string, hint: string) => void;

/** Diagnostics recorded once each (the same code, place and message once), listed sorted. */
export class DiagnosticSet {
  private readonly found = new Map<string, Diagnostic>();

  add(diagnostic: Diagnostic): void {
    const { location, code, message } = diagnostic;
    const key = `${location.file}:${location.line}:${location.column}:${code}:${message}`;
    if (!this.found.has(key)) this.found.set(key, diagnostic);
  }

  /** Sorted by place, then code and message: the same input always lists the same way. */
  sorted(): Diagnostic[] {
    return [...this.found.values()].sort(
      (a, b) =>
        compareStrings(a.location.file, b.location.file) ||
        a.location.line - b.location.line ||
        a.location.column - b.location.column ||
        compareStrings(a.code, b.code) ||
        compareStrings(a.message, b.message),
    );
  }
}

/** RPYC_NO_INPUT for each source path or glob that matched no file ("." when none was given). */
export function reportUnmatchedSources(report: ReportDiagnostic, unmatched: readonly string[], language: "TypeScript" | "Python", hint: string): void {
  for (const source of unmatched) {
    report(
      "RPYC_NO_INPUT",
      { file: toPosix(source), line: 1, column: 1 },
      source === "." ? "no source files were given" : `'${toPosix(source)}' matches no ${language} source file`,
      hint,
    );
  }
}

/**
 * RPYC_DUPLICATE_SERVICE_NAME: a name or alias two services answer to, reported on the later
 * service (`services` in className order): once per earlier owner, naming all the names it
 * takes, or with `onePerName` once per name.
 */
export function reportDuplicateServiceNames(
  report: ReportDiagnostic,
  services: readonly ServiceDef[],
  options: { readonly hint: string; readonly onePerName?: boolean },
): void {
  const owners = new Map<string, ServiceDef>();
  for (const service of services) {
    const clashes = new Map<ServiceDef, string[]>();
    for (const alias of service.aliases) {
      const first = owners.get(alias);
      if (!first) owners.set(alias, service);
      else if (first !== service) clashes.set(first, [...(clashes.get(first) ?? []), alias]);
    }
    for (const [first, names] of clashes) {
      for (const group of options.onePerName ? names.map((name) => [name]) : [names]) {
        const at = `${first.location.file}:${first.location.line}:${first.location.column}`;
        const quoted = group.map((n) => `'${n}'`).join(", ");
        const subject = group.length === 1 ? `name ${quoted} is` : `names ${quoted} are`;
        report(
          "RPYC_DUPLICATE_SERVICE_NAME",
          service.location,
          `service ${service.className}'s ${subject} already used by ${first.className} (${at})`,
          options.hint,
        );
      }
    }
  }
}
