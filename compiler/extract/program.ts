// The ts.Program that extraction reads, built by TypeScript's createProgram over a lean
// compiler host instead of a ts-morph Project: the same files under the same names, in the
// same order, with the same compiler options and the same standard library files (ts-morph's
// bundled ones) as the ts-morph Project this replaces, so every type resolves exactly as it did.
// It does less work than ts-morph's host:
//   - no ts-morph wrapper per file, and no parent pointers set while parsing (the binder sets
//     them for every node, as it does for tsc);
//   - JSDoc is parsed only in the entry files (the services) and in JavaScript files (allowJs:
//     there it declares types). Other files are parsed without it (in a .ts or .d.ts file JSDoc
//     never changes a type: tsc itself skips it) and get their comments when a doc is asked
//     for (LazyJsDoc, extract/jsdoc.ts). The standard library alone holds thousands of doc
//     comments that no model needs;
//   - the browser libraries (lib.dom.d.ts, 2 MB) are stubbed in a first attempt, which is kept
//     only when the model did not look up a single name they declare (extract/dom.ts).
// Watch mode keeps one builder: unchanged files are not read or parsed again.

import { readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { type Project, ts } from "ts-morph";
import { DomGuard, isStubbedLibrary, stubLibrary } from "./dom.js";
import { LazyJsDoc } from "./jsdoc.js";

/** Where ts-morph serves its bundled standard library (in memory, not on disk). */
const LIB_FOLDER = "/node_modules/typescript/lib";

const WINDOWS_ABSOLUTE = /^[a-z]+:[\\/]/i;
const WINDOWS_ROOT = /^[a-z]+:[\\/]$/i;

export class ProgramBuilder {
  readonly options: ts.CompilerOptions;
  /** Parsed files by file name, kept across builds (watch mode). */
  private readonly parsed = new Map<string, ts.SourceFile>();
  /** File names that are parsed with their JSDoc (the entries). */
  private fullJsDoc = new Set<string>();
  private readonly host: ts.CompilerHost;
  private last: ts.Program | undefined;
  readonly jsDoc = new LazyJsDoc();
  /** Set once a model needed the browser libraries: from then on the real files are read. */
  private realLibraries = false;
  private readonly stubs = new Map<string, ts.SourceFile>();
  private readonly stubbedNames = new Set<string>();

  /** `morph`: the ts-morph Project whose compiler options and standard library files are used (it never parses a file here). */
  constructor(morph: Project) {
    this.options = morph.getCompilerOptions();
    if (!morph.getModuleResolutionHost().fileExists(`${LIB_FOLDER}/lib.es5.d.ts`)) {
      throw new Error(`rpyc-gen expects ts-morph's standard library files under ${LIB_FOLDER}; this ts-morph version serves them elsewhere`);
    }
    this.host = leanHost(morph, (fileName, read) =>
      !this.realLibraries && isStubbedLibrary(fileName) ? this.stub(fileName, read) : (this.parsed.get(fileName) ?? this.parse(fileName, read())),
    );
  }

  /** A program of `rootNames` (absolute, posix) and the files they import; the entries' JSDoc is parsed right away. */
  build(rootNames: readonly string[]): ts.Program {
    this.fullJsDoc = new Set(rootNames);
    const program = ts.createProgram(rootNames, this.options, this.host, this.last);
    this.last = program;
    return program;
  }

  /**
   * Starts watching the globals the stubbed browser libraries declare (call it right after the
   * checker is created, before any question): undefined when the program has no stub.
   */
  guard(program: ts.Program, checker: ts.TypeChecker): DomGuard | undefined {
    if (this.realLibraries) return undefined;
    const stub = program.getSourceFiles().find((f) => this.stubs.get(f.fileName) === f);
    return stub ? new DomGuard(checker, stub, this.stubbedNames) : undefined;
  }

  /** After a guard saw a stubbed name used: the next builds read the real browser libraries. */
  useRealLibraries(): void {
    this.realLibraries = true;
  }

  /** Forgets a file that changed or was deleted: the next build reads it again (if it is still used). */
  forget(fileName: string): void {
    this.parsed.delete(fileName);
  }

  private stub(fileName: string, read: () => string | undefined): ts.SourceFile | undefined {
    let sourceFile = this.stubs.get(fileName);
    if (sourceFile === undefined) {
      const text = read();
      if (text === undefined) return undefined;
      const stub = stubLibrary(text);
      for (const name of stub.names) this.stubbedNames.add(name);
      sourceFile = ts.createSourceFile(fileName, stub.text, {
        languageVersion: this.options.target ?? ts.ScriptTarget.Latest,
        jsDocParsingMode: ts.JSDocParsingMode.ParseNone,
      });
      this.stubs.set(fileName, sourceFile);
    }
    return sourceFile;
  }

  private parse(fileName: string, text: string | undefined): ts.SourceFile | undefined {
    if (text === undefined) return undefined;
    const full = this.fullJsDoc.has(fileName);
    // As ts-morph creates them: the target as language version; module indicator and script kind as TypeScript derives them.
    // ParseForTypeInfo keeps the JSDoc of JavaScript files (allowJs), where it declares types.
    const sourceFile = ts.createSourceFile(fileName, text, {
      languageVersion: this.options.target ?? ts.ScriptTarget.Latest,
      jsDocParsingMode: full ? ts.JSDocParsingMode.ParseAll : ts.JSDocParsingMode.ParseForTypeInfo,
    });
    const kind = (sourceFile as { scriptKind?: ts.ScriptKind }).scriptKind;
    if (full || (kind !== ts.ScriptKind.TS && kind !== ts.ScriptKind.TSX)) this.jsDoc.markComplete(sourceFile);
    this.parsed.set(fileName, sourceFile);
    return sourceFile;
  }
}

/**
 * A compiler host that answers as ts-morph's does for a Project with no source files of its
 * own: the real file system, ts-morph's standard library under LIB_FOLDER, paths standardised
 * as ts-morph standardises them, case-sensitive file names.
 */
function leanHost(morph: Project, sourceFile: (fileName: string, read: () => string | undefined) => ts.SourceFile | undefined): ts.CompilerHost {
  const morphHost = morph.getModuleResolutionHost();
  const fileSystem = morph.getFileSystem();
  const currentDirectory = morphHost.getCurrentDirectory?.() ?? standardizeSlashes(process.cwd());
  const casing = fileSystem.isCaseSensitive() ? undefined : new Map<string, string>();
  const standardize = (fileOrDirPath: string): string => {
    const absolute = isAbsolutePath(fileOrDirPath) ? fileOrDirPath : path.join(currentDirectory, fileOrDirPath);
    const standardized = standardizeSlashes(path.normalize(absolute));
    if (casing === undefined) return standardized;
    const key = standardized.toLowerCase();
    const known = casing.get(key);
    if (known !== undefined) return known;
    casing.set(key, standardized);
    return standardized;
  };
  const isLib = (p: string): boolean => p.startsWith(`${LIB_FOLDER}/`) || p === LIB_FOLDER;
  const stat = (p: string) => {
    try {
      return statSync(p, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  };
  const fileExists = (fileName: string): boolean => {
    const p = standardize(fileName);
    return isLib(p) ? morphHost.fileExists(p) : stat(p)?.isFile() === true;
  };
  const readFile = (fileName: string): string | undefined => {
    const p = standardize(fileName);
    if (isLib(p)) return morphHost.readFile(p);
    try {
      return readFileSync(p, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  };
  const directoryExists = (directoryName: string): boolean => {
    const p = standardize(directoryName);
    return isLib(p) ? (morphHost.directoryExists?.(p) ?? false) : stat(p)?.isDirectory() === true;
  };
  return {
    // ts-morph drops a byte order mark before parsing (positions count from the first character).
    getSourceFile: (fileName) => sourceFile(fileName, () => readFile(fileName)?.replace(/^\uFEFF/, "")),
    getDefaultLibFileName: (o) => `${LIB_FOLDER}/${ts.getDefaultLibFileName(o)}`,
    writeFile: () => {
      throw new Error("rpyc-gen does not emit JavaScript");
    },
    getCurrentDirectory: () => currentDirectory,
    getDirectories: (p) => morphHost.getDirectories?.(p) ?? [],
    fileExists,
    readFile,
    directoryExists,
    realpath: (p) => {
      const standardized = standardize(p);
      if (isLib(standardized) && morphHost.fileExists(standardized)) return standardized;
      try {
        return standardize(realpathSync(standardized));
      } catch {
        return standardized;
      }
    },
    getCanonicalFileName: standardize,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => "\n",
    getEnvironmentVariable: (name) => process.env[name],
  };
}

function isAbsolutePath(p: string): boolean {
  return p.startsWith("/") || WINDOWS_ABSOLUTE.test(p) || p.startsWith("\\\\") || p.startsWith("//");
}

function standardizeSlashes(p: string): string {
  const result = p.replace(/\\/g, "/");
  return result !== "/" && !WINDOWS_ROOT.test(result) && result.endsWith("/") ? result.slice(0, -1) : result;
}
