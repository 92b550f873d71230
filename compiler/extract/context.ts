// What one extraction run shares: the type checker, the project root that model paths are
// relative to, the diagnostics found so far and the files that contributed to the model.
// Part of extract, the only room of the compiler that touches ts-morph and TypeScript.

import path from "node:path";
import { ts } from "ts-morph";
import { compareStrings } from "../common.js";
import { DiagnosticSet } from "../diagnostics.js";
import type { Diagnostic, DiagnosticCode, SourceLocation } from "../model.js";
import type { LazyJsDoc } from "./jsdoc.js";

/** Hint for a type that cannot cross the wire. */
export const HINT_UNSUPPORTED = "use a plain data type, or unknown to pass it as a netref";

export class ExtractContext {
  private readonly found = new DiagnosticSet();
  private readonly contributing = new Set<string>();
  private readonly rootPath: string;
  /** relativePath() by file name: asked for every location and named type. */
  private readonly relativePaths = new Map<string, string>();

  /** `jsDoc`: when some files were parsed without their JSDoc (ProgramBuilder), what completes them before a doc is read. */
  constructor(
    readonly program: ts.Program,
    readonly checker: ts.TypeChecker,
    root: string,
    private readonly jsDoc?: LazyJsDoc,
  ) {
    this.rootPath = path.resolve(root);
  }

  /** A file's path relative to the project root, with posix separators. */
  relativePath(fileName: string): string {
    let result = this.relativePaths.get(fileName);
    if (result === undefined) {
      const relative = path.relative(this.rootPath, path.resolve(fileName)).split(path.sep).join("/");
      result = relative === "" ? "." : relative;
      this.relativePaths.set(fileName, result);
    }
    return result;
  }

  /** Where a node starts (its name, for named declarations), 1-based. */
  location(node: ts.Node): SourceLocation {
    const target = (isNamedDeclaration(node) && ts.getNameOfDeclaration(node)) || node;
    const sourceFile = target.getSourceFile();
    const { line, character } = sourceFile.getLineAndCharacterOfPosition(target.getStart(sourceFile));
    return { file: this.relativePath(sourceFile.fileName), line: line + 1, column: character + 1 };
  }

  /** Records a diagnostic once (the same code, place and message are reported once). */
  report(code: DiagnosticCode, where: ts.Node | SourceLocation, message: string, hint: string, severity: Diagnostic["severity"] = "error"): void {
    const location = "kind" in where ? this.location(where) : where;
    this.found.add({ severity, code, message, hint, location });
  }

  /** Diagnostics sorted by place, then code and message. */
  diagnostics(): Diagnostic[] {
    return this.found.sorted();
  }

  isDefaultLibrary(sourceFile: ts.SourceFile): boolean {
    return this.program.isSourceFileDefaultLibrary(sourceFile) || /\/typescript\/lib\/lib\.[^/]*\.d\.ts$/.test(sourceFile.fileName);
  }

  /** True when every declaration of the symbol lives in TypeScript's standard library. */
  isLibrarySymbol(symbol: ts.Symbol): boolean {
    const declarations = symbol.declarations ?? [];
    return declarations.length > 0 && declarations.every((d) => this.isDefaultLibrary(d.getSourceFile()));
  }

  /** Notes that a file contributed to the model (for watch mode); the standard library is left out. */
  noteFile(sourceFile: ts.SourceFile): void {
    if (!this.isDefaultLibrary(sourceFile)) this.contributing.add(sourceFile.fileName);
  }

  /** Notes the files declaring a symbol (following import aliases). */
  noteSymbol(symbol: ts.Symbol | undefined): void {
    if (!symbol) return;
    const target = symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
    for (const declaration of target.declarations ?? []) this.noteFile(declaration.getSourceFile());
  }

  /**
   * Notes the files of the types a declaration's annotations name: an alias of a primitive
   * (`type Name = string`) vanishes from the checker's types, not from the nodes.
   */
  noteTypeReferences(declaration: ts.Node): void {
    const visit = (node: ts.Node): void => {
      if (ts.isTypeReferenceNode(node)) this.noteSymbol(this.checker.getSymbolAtLocation(node.typeName));
      else if (ts.isTypeQueryNode(node)) this.noteSymbol(this.checker.getSymbolAtLocation(node.exprName));
      else if (ts.isExpressionWithTypeArguments(node)) this.noteSymbol(this.checker.getSymbolAtLocation(node.expression));
      ts.forEachChild(node, visit);
    };
    const typed = declaration as { type?: ts.Node; parameters?: readonly ts.ParameterDeclaration[] };
    if (typed.type) visit(typed.type);
    for (const parameter of typed.parameters ?? []) if (parameter.type) visit(parameter.type);
  }

  /** Absolute paths of the contributing files, sorted. */
  files(): string[] {
    return [...this.contributing].map((f) => path.resolve(f)).sort(compareStrings);
  }

  /** The JSDoc description of a symbol, without `*`, trimmed; undefined when there is none. */
  doc(symbol: ts.Symbol | undefined): string | undefined {
    if (!symbol) return undefined;
    this.jsDoc?.prepare(this.program, this.checker, symbol);
    const text = normaliseDoc(ts.displayPartsToString(symbol.getDocumentationComment(this.checker)));
    return text === "" ? undefined : text;
  }

  /** The `@param` text of a parameter symbol (a leading "- " removed). */
  paramDoc(symbol: ts.Symbol): string | undefined {
    const text = this.doc(symbol);
    if (text === undefined) return undefined;
    const stripped = text.replace(/^-\s*/, "").trim();
    return stripped === "" ? undefined : stripped;
  }
}

/** Declarations whose location is their name (diagnostics point at `MyService`, not at `export`). */
function isNamedDeclaration(node: ts.Node): node is ts.Declaration {
  return (
    ts.isClassLike(node) ||
    ts.isClassElement(node) ||
    ts.isTypeElement(node) ||
    ts.isInterfaceDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) ||
    ts.isEnumDeclaration(node) ||
    ts.isEnumMember(node) ||
    ts.isParameter(node)
  );
}

function normaliseDoc(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .join("\n")
    .trim();
}

/** `{ doc }` when there is a doc, else nothing (the model omits absent docs). */
export function docField(doc: string | undefined): { doc?: string } {
  return doc === undefined ? {} : { doc };
}
