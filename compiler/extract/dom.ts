// The browser's standard library, only when a model needs it. TypeScript's default library
// (no tsconfig: ES2022 "full") and many tsconfigs include lib.dom.d.ts: 2 MB of declarations,
// more than every other file of a small service together, that a Node service rarely names.
// A first attempt replaces each browser library file with a stub that keeps only its
// `/// <reference lib>` lines (so the same other files load). DomGuard then watches the
// checker's table of globals while the model is extracted: a lookup of any name the real file
// declares, or of globalThis, or a walk over all globals (the members of globalThis) means the
// model may depend on the browser library, and the attempt is thrown away: extraction runs
// again on the real files. TypeScript finds a global only in that table, after every scope
// around the name, and the browser library merges into no global it reads while it starts
// (a test checks it), so an attempt that looked up none of those names yields exactly the model
// the real files give.

import { ts } from "ts-morph";

/** The standard library files that are stubbed in a first attempt: the DOM and web worker libraries. */
const STUBBED = /\/lib\.(dom|webworker)(\.iterable|\.asynciterable)?\.d\.ts$/;

export function isStubbedLibrary(fileName: string): boolean {
  return STUBBED.test(fileName);
}

const DECLARATION_KEYWORD = /^(interface|type|var|let|const|function|class|namespace|module|enum)$/;
const VARIABLE_KEYWORD = /^(var|let|const)$/;

/**
 * The names a library file declares at its top level (a superset: a name too many only costs an
 * extraction on the real files now and then). A small scanner instead of TypeScript's parser, which would
 * cost what the stub saves: comments and strings are skipped, braces counted; the word after a
 * declaration keyword at depth 0 is a name, and so is every word after a comma in a top-level
 * variable statement (`declare var a: A, b: B`).
 */
export function topLevelNames(text: string): Set<string> {
  const names = new Set<string>();
  const n = text.length;
  let depth = 0;
  let expectName = false;
  let inVariables = false;
  let afterComma = false;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const end = text.indexOf("\n", i + 2);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === 34 /* " */ || c === 39 /* ' */ || c === 96 /* ` */) {
      i++;
      while (i < n && text.charCodeAt(i) !== c) i += text.charCodeAt(i) === 92 /* \ */ ? 2 : 1;
      i++;
      afterComma = false;
      continue;
    }
    if (isIdentifierPart(c)) {
      let j = i + 1;
      while (j < n && isIdentifierPart(text.charCodeAt(j))) j++;
      const word = text.slice(i, j);
      if (depth === 0) {
        if (expectName && !DECLARATION_KEYWORD.test(word)) {
          names.add(word);
          expectName = false;
        } else if (DECLARATION_KEYWORD.test(word)) {
          expectName = true;
          inVariables = VARIABLE_KEYWORD.test(word);
        }
      }
      if (inVariables && afterComma) names.add(word);
      afterComma = false;
      i = j;
      continue;
    }
    if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) depth--;
    if (c > 32) {
      if (depth === 0) expectName = false;
      afterComma = c === 44; /* , */
      if (c === 59 /* ; */ && depth === 0) inVariables = false;
    }
    i++;
  }
  return names;
}

function isIdentifierPart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
}

/** The stub of a library file (its `/// <reference ... />` lines) and the global names the real file declares. */
export function stubLibrary(text: string): { readonly text: string; readonly names: ReadonlySet<string> } {
  const references = /^(?:\s*\/\/\/[^\n]*\n)*/.exec(text)?.[0] ?? "";
  return { text: references, names: topLevelNames(text) };
}

/** Watches the checker's table of globals while one extraction runs (see the top of this file). */
export class DomGuard {
  private looked = false;
  private readonly globals: Map<string, ts.Symbol> | undefined;

  /** `location`: a file of the program that is not a module (a stub): its scope is the global scope. `names`: the globals to watch. */
  constructor(checker: ts.TypeChecker, location: ts.SourceFile, names: ReadonlySet<string>) {
    // TypeScript's globalThis symbol exports the global symbol table itself.
    const globalThisSymbol = checker.getSymbolsInScope(location, ts.SymbolFlags.Module).find((s) => s.name === "globalThis");
    const globals = globalThisSymbol?.exports as Map<string, ts.Symbol> | undefined;
    this.globals = globals;
    if (!globals) {
      this.looked = true; // cannot watch: take the real files
      return;
    }
    const watched = (key: string): boolean => names.has(key) || key === "globalThis";
    const mark = (): void => {
      this.looked = true;
    };
    const { get, has } = Map.prototype;
    Object.assign(globals, {
      get(key: string) {
        if (watched(key)) mark();
        return get.call(globals, key);
      },
      has(key: string) {
        if (watched(key)) mark();
        return has.call(globals, key);
      },
    });
    for (const walk of ["forEach", "keys", "values", "entries", Symbol.iterator] as const) {
      const original = Map.prototype[walk] as (...args: unknown[]) => unknown;
      Object.defineProperty(globals, walk, {
        configurable: true,
        writable: true,
        value: (...args: unknown[]) => {
          mark();
          return original.apply(globals, args);
        },
      });
    }
  }

  /** Whether the extraction looked up a stubbed global or globalThis (or walked all globals). Stops watching. */
  used(): boolean {
    if (this.globals)
      for (const key of ["get", "has", "forEach", "keys", "values", "entries", Symbol.iterator])
        delete (this.globals as unknown as Record<PropertyKey, unknown>)[key];
    return this.looked;
  }
}
