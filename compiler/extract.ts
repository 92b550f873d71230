// Extraction: TypeScript service classes -> the plain ServiceModel. This room (with
// compiler/extract/*) is the only code of the compiler that imports ts-morph; everything it
// hands on is plain JSON (compiler/model.ts). Service discovery and members live in
// extract/services.ts, type resolution in extract/types.ts; extract/program.ts builds the
// program that rpyc-gen reads (a lean compiler host, JSDoc on demand: extract/jsdoc.ts).

import path from "node:path";
import { Project, type SourceFile, ts } from "ts-morph";
import { compareStrings, toPosix } from "./common.js";
import { reportDuplicateServiceNames, reportUnmatchedSources } from "./diagnostics.js";
import { type Diagnostic, MODEL_VERSION, type ServiceDef, type ServiceModel } from "./model.js";
import { ExtractContext } from "./extract/context.js";
import type { LazyJsDoc } from "./extract/jsdoc.js";
import { ProgramBuilder } from "./extract/program.js";
import { type ServiceClass, describeService, findServiceClass } from "./extract/services.js";
import { TypeResolver } from "./extract/types.js";

export interface ExtractOptions {
  /** Files or globs (ts-morph/tinyglobby syntax), relative to `root` or absolute. */
  readonly sources: readonly string[];
  /** tsconfig.json to take compiler options from (imports resolve with them). */
  readonly project?: string;
  /** Directory the model's paths are relative to (default: process.cwd()). */
  readonly root?: string;
  /** Called after each service is described (progress bars on large inputs). */
  readonly onService?: (done: number, total: number) => void;
}

export interface ExtractResult {
  readonly model: ServiceModel;
  readonly diagnostics: readonly Diagnostic[];
  /** Absolute paths of every source file the model was built from (entry files and the files they import that contributed types or base classes) — for watch mode. */
  readonly files: readonly string[];
}

/** Compiler options used when no tsconfig is given: strict, ESM with node resolution (`./x.js` finds `./x.ts`). */
export const DEFAULT_COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  skipLibCheck: true,
};

const SOURCE_FILE = /\.(c|m)?tsx?$/;
const DECLARATION_FILE = /\.d\.(c|m)?ts$/;

/** Reads the sources (files, directories or globs) into a new Project and extracts the model. */
export function extractModel(options: ExtractOptions): ExtractResult {
  return createExtractSession(options).result;
}

/** A program builder kept between extractions: watch mode re-reads only the files that changed. */
export interface ExtractSession {
  readonly result: ExtractResult;
  /** Re-reads `changed` (absolute paths; deleted files are dropped), picks up new matches of the sources, extracts again. */
  update(changed: readonly string[]): ExtractResult;
}

export function createExtractSession(options: ExtractOptions): ExtractSession {
  const root = path.resolve(options.root ?? process.cwd());
  // The ts-morph Project gives the compiler options (from the tsconfig, with its errors), the
  // standard library files and the file system; it parses nothing: ProgramBuilder does.
  const morph = options.project
    ? new Project({ tsConfigFilePath: path.resolve(root, options.project), skipAddingFilesFromTsConfig: true })
    : new Project({ compilerOptions: DEFAULT_COMPILER_OPTIONS });
  const builder = new ProgramBuilder(morph);
  const fileSystem = morph.getFileSystem();
  const absolute = (source: string): string => toPosix(path.isAbsolute(source) ? source : path.join(root, source));
  const negated = options.sources.filter((s) => s.startsWith("!")).map((s) => `!${absolute(s.slice(1))}`);

  const read = (): ExtractResult => {
    const unmatched: string[] = [];
    const entries = new Set<string>();
    for (const source of options.sources) {
      if (source.startsWith("!")) continue;
      let pattern = absolute(source);
      const extra: string[] = [];
      if (fileSystem.directoryExistsSync(pattern)) {
        const directory = pattern.replace(/\/$/, "");
        pattern = `${directory}/**/*.{ts,tsx,mts,cts}`;
        extra.push(`!${directory}/**/node_modules/**`);
      }
      const matched = fileSystem.globSync([pattern, ...negated, ...extra]).filter((f) => SOURCE_FILE.test(f) && !DECLARATION_FILE.test(f));
      if (matched.length === 0) unmatched.push(source);
      for (const file of matched) entries.add(file);
    }
    if (!options.sources.some((s) => !s.startsWith("!"))) unmatched.push(".");
    const roots = [...entries];
    for (;;) {
      const program = builder.build(roots);
      const guard = builder.guard(program, program.getTypeChecker());
      const sourceFiles = roots.map((file) => program.getSourceFile(file)).filter((f): f is ts.SourceFile => f !== undefined);
      let result: ExtractResult;
      let usedStub = false;
      try {
        result = extract(program, sourceFiles, root, unmatched, options.onService, builder.jsDoc);
      } finally {
        usedStub = guard?.used() ?? false;
      }
      if (!usedStub) return result;
      // The model looked up a name of a stubbed browser library: extract again, from the real files.
      builder.useRealLibraries();
    }
  };

  const session = {
    result: read(),
    update(changed: readonly string[]): ExtractResult {
      for (const file of changed) builder.forget(toPosix(file));
      session.result = read();
      return session.result;
    },
  };
  return session;
}

/** Extracts from an existing ts-morph Project (tests use an in-memory file system; the compiler benchmark its own Project). `entries` are the files whose services are reported. */
export function extractFromProject(project: Project, entries: readonly SourceFile[], root: string): ExtractResult {
  const program = project.getProgram().compilerObject;
  const sourceFiles = entries.map((entry) => program.getSourceFile(entry.getFilePath()) ?? entry.compilerNode);
  return extract(program, sourceFiles, root, entries.length === 0 ? ["."] : []);
}

function extract(
  program: ts.Program,
  entries: readonly ts.SourceFile[],
  root: string,
  unmatched: readonly string[],
  onService: (done: number, total: number) => void = () => {},
  jsDoc?: LazyJsDoc,
): ExtractResult {
  const ctx = new ExtractContext(program, program.getTypeChecker(), root, jsDoc);
  const report = ctx.report.bind(ctx);
  reportUnmatchedSources(report, unmatched, "TypeScript", "pass the files (or globs) that declare your services, relative to the project root");
  const sourceFiles = new Map<string, ts.SourceFile>();
  for (const sourceFile of entries) sourceFiles.set(sourceFile.fileName, sourceFile);
  const candidates: ServiceClass[] = [];
  for (const sourceFile of [...sourceFiles.values()].sort((a, b) => compareStrings(a.fileName, b.fileName))) {
    ctx.noteFile(sourceFile);
    for (const statement of sourceFile.statements) {
      if (!ts.isClassDeclaration(statement)) continue;
      // Abstract classes cannot be served; their exposed members reach concrete subclasses.
      if (ts.getCombinedModifierFlags(statement) & ts.ModifierFlags.Abstract) continue;
      const service = findServiceClass(ctx, statement);
      if (service) candidates.push(service);
    }
  }
  candidates.sort(
    (a, b) =>
      compareStrings(a.className, b.className) ||
      compareStrings(ctx.relativePath(a.declaration.getSourceFile().fileName), ctx.relativePath(b.declaration.getSourceFile().fileName)) ||
      a.declaration.getStart() - b.declaration.getStart(),
  );
  const resolver = new TypeResolver(ctx);
  const described: ServiceDef[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const service = describeService(ctx, resolver, candidate);
    if (service) described.push(service);
    onService(i + 1, candidates.length);
  }
  reportDuplicateServiceNames(report, described, { hint: 'give one of them a different name with static ALIASES = ["..."]' });
  const { types, rename } = resolver.finish();
  const services = described.map(
    (s): ServiceDef => ({
      ...s,
      methods: s.methods.map((m) => ({ ...m, params: m.params.map((p) => ({ ...p, type: rename(p.type) })), returns: rename(m.returns) })),
      attributes: s.attributes.map((a) => ({ ...a, type: rename(a.type) })),
    }),
  );
  return { model: { version: MODEL_VERSION, services, types }, diagnostics: ctx.diagnostics(), files: ctx.files() };
}
