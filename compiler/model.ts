// The ServiceModel: the one contract between the inputs (TypeScript sources through ts-morph,
// compiler/extract.ts; Python sources through tree-sitter, compiler/extract-python.ts; a live
// server's answers, compiler/introspect.ts) and emission (templates). Plain, JSON-serialisable
// data: no ts-morph nodes, no functions, no Maps. `rpyc-gen --emit-model` writes it as model.json.
//
// Types reuse the runtime's WireType, so what the compiler describes is exactly what the
// runtime checks and encodes (compiler may import runtime types, never the reverse).

import type { WireDecl, WireField, WireParam, WireType } from "rpyc-ts/internal";

export type { WireDecl, WireField, WireParam, WireType };

/** Bumped when the JSON shape changes incompatibly. */
export const MODEL_VERSION = 1;

/** A position in a source file: path relative to the project root (posix separators), 1-based line and column. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** JSDoc carried over to generated code: the description text, without `*` and delimiters. */
export interface Documented {
  readonly doc?: string;
}

export interface ServiceModel {
  readonly version: typeof MODEL_VERSION;
  /** Every class that extends `Service` (directly or indirectly), sorted by className. */
  readonly services: readonly ServiceDef[];
  /** Every named type the services reference (transitively), sorted by name. */
  readonly types: readonly TypeDef[];
}

/**
 * Where a service was read from. Absent: TypeScript sources (the only services rpyc-ts serves,
 * so the only ones that get a dispatch table). "python": Python RPyC sources (rpyc-gen
 * service.py). "live": a running server's answers (rpyc-gen --introspect HOST:PORT).
 */
export type ServiceOrigin = "python" | "live";

export interface ServiceDef extends Documented {
  /** Absent for TypeScript sources; see ServiceOrigin. */
  readonly origin?: ServiceOrigin;
  readonly className: string;
  /** Formal name: the first alias, upper-cased ("MY" for MyService). */
  readonly name: string;
  /** All names, upper-cased: ALIASES when given, else [derived name]. */
  readonly aliases: readonly string[];
  /** True when the names come from a literal `static ALIASES`. */
  readonly explicitAliases: boolean;
  /** Module that declares the class: path relative to the project root, posix, as written on disk (".ts"). */
  readonly module: string;
  /** Name under which the module exports the class (dispatch tables import it). */
  readonly exportName: string;
  /** Base classes from the direct base up to (excluding) Service, e.g. ["BaseService"]. */
  readonly bases: readonly string[];
  readonly location: SourceLocation;
  /** Exposed methods (own and inherited), sorted by name. */
  readonly methods: readonly MethodDef[];
  /** Exposed properties and getters (own and inherited), sorted by name. */
  readonly attributes: readonly AttributeDef[];
}

export interface ParamDef extends WireParam, Documented {
  /** Source text of the default value (`dy = 0` -> "0"); implies optional. */
  readonly default?: string;
}

export interface MethodDef extends Documented {
  /** Remote name, prefix stripped: "get_answer". */
  readonly name: string;
  /** Member name in the class: "exposed_get_answer". */
  readonly member: string;
  readonly params: readonly ParamDef[];
  /**
   * Python keyword-only parameters (after `*` or `*args`), by declaration order; a caller passes
   * them as a last `kwargs({ ... })` argument. Optional ones have a default. Absent for TypeScript.
   */
  readonly keywordOnly?: readonly ParamDef[];
  /** Python `**name`: further keyword arguments are accepted, their values of `type`. */
  readonly keywordRest?: ParamDef;
  /** Result type with Promise unwrapped. */
  readonly returns: WireType;
  /** Declared `async` or returning a Promise. */
  readonly async: boolean;
  /** The class that declares it (a base class for inherited members). */
  readonly declaredIn: string;
  readonly location: SourceLocation;
}

export interface AttributeDef extends Documented {
  readonly name: string;
  readonly member: string;
  readonly type: WireType;
  /** `readonly` properties and getters without a setter. */
  readonly readonly: boolean;
  readonly kind: "property" | "getter";
  readonly declaredIn: string;
  readonly location: SourceLocation;
}

export interface FieldDef extends WireField, Documented {
  readonly readonly: boolean;
}

/** A named type: an interface or object type alias, an enum, or an alias of another type. */
export type TypeDef =
  | (Documented & { readonly kind: "object"; readonly name: string; readonly fields: readonly FieldDef[]; readonly location: SourceLocation })
  | (Documented & {
      readonly kind: "enum";
      readonly name: string;
      readonly members: readonly { readonly name: string; readonly value: string | number }[];
      readonly location: SourceLocation;
    })
  | (Documented & { readonly kind: "alias"; readonly name: string; readonly type: WireType; readonly location: SourceLocation });

/** What extraction reports instead of silently dropping something. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  /** Stable code, e.g. "RPYC_NON_LITERAL_ALIASES" (listed in DIAGNOSTIC_CODES). */
  readonly code: DiagnosticCode;
  /** What is wrong, in one sentence. */
  readonly message: string;
  /** One line saying how to fix it. */
  readonly hint: string;
  readonly location: SourceLocation;
}

export const DIAGNOSTIC_CODES = [
  /** `static ALIASES` is not an array literal of string literals. */
  "RPYC_NON_LITERAL_ALIASES",
  /** An exposed member's type (or a type it references) cannot be described on the wire. */
  "RPYC_UNSUPPORTED_TYPE",
  /** Two services share a name or alias. */
  "RPYC_DUPLICATE_SERVICE_NAME",
  /** A service class is not exported, so a dispatch table cannot import it. */
  "RPYC_SERVICE_NOT_EXPORTED",
  /** A generic type parameter is left open in an exposed member (only concrete arguments can be described). */
  "RPYC_OPEN_GENERIC",
  /** A source path or glob matched no file. */
  "RPYC_NO_INPUT",
  /** A TypeScript service declares a `static exposed_` member: rpyc-ts serves instances, so a peer cannot reach it. */
  "RPYC_STATIC_MEMBER",
  /** A warning: a value typed `object` or `{}` (or a Set of non-scalar items) travels untyped, `unknown` in the stub. */
  "RPYC_UNTYPED_VALUE",
  /** A warning: a private or protected `exposed_` member, left out of the stub and the dispatch table. */
  "RPYC_PRIVATE_MEMBER",
  /** A Python source does not parse (rpyc-gen reads Python service sources with tree-sitter). */
  "RPYC_PYTHON_SYNTAX_ERROR",
] as const;

export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

/** Formats a diagnostic as `file:line:col: error CODE: message\n  hint: ...`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.location.file}:${d.location.line}:${d.location.column}: ${d.severity} ${d.code}: ${d.message}\n  hint: ${d.hint}`;
}
