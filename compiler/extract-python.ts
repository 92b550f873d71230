// Extraction from Python RPyC service sources: .py/.pyi -> the same ServiceModel as for
// TypeScript, services marked `origin: "python"`; the parts live in extract-python/*.

import { readFileSync } from "node:fs";
import path from "node:path";
import type { ExtractOptions, ExtractResult, ExtractSession } from "./extract.js";
import { compareStrings, toPosix } from "./common.js";
import { DiagnosticSet, reportDuplicateServiceNames, reportUnmatchedSources, type ReportDiagnostic } from "./diagnostics.js";
import { type FieldDef, MODEL_VERSION, type ServiceDef, type SourceLocation, type TypeDef } from "./model.js";
import { HintResolver } from "./extract-python/hints.js";
import { dataclassFields, typedDictFields, type MemberContext } from "./extract-python/members.js";
import { describeFile, PyProgram, type PyClass, type PyFile } from "./extract-python/modules.js";
import { docstring, parsePython, position, pythonParser, withParsedTrees, type PyNode, type PyParser } from "./extract-python/parser.js";
import { ClassIndex, describeService } from "./extract-python/services.js";
import { resolvePythonSources } from "./extract-python/sources.js";

/** Reads Python service sources (files, directories or globs of .py/.pyi) and extracts the model. */
export async function extractPythonModel(options: ExtractOptions): Promise<ExtractResult> {
  return (await createPythonExtractSession(options)).result;
}

/**
 * A Python extraction that can run again (watch mode): the grammar is loaded once, and each
 * update re-reads every matching file (Python sources are small; tree-sitter parses a
 * thousand lines in about a millisecond).
 */
export async function createPythonExtractSession(options: ExtractOptions): Promise<ExtractSession> {
  const parser = await pythonParser();
  const session = {
    result: extractWith(parser, options),
    update(): ExtractResult {
      session.result = extractWith(parser, options);
      return session.result;
    },
  };
  return session;
}

/**
 * Extracts from sources held in memory (unit tests): paths relative to `root` (default "/src"),
 * posix, to their text. Imports between them resolve as between files on disk.
 */
export async function extractPythonFromTexts(texts: Readonly<Record<string, string>>, root = "/src"): Promise<ExtractResult> {
  const parser = await pythonParser();
  const absolute = Object.keys(texts).map((file) => toPosix(path.posix.resolve(toPosix(root), file)));
  const byPath = new Map(Object.entries(texts).map(([, text], i) => [absolute[i]!, text]));
  return withParsedTrees(() =>
    extractFiles(parser, toPosix(root), [...absolute].sort(), Object.keys(texts).length === 0 ? ["."] : [], (file) => byPath.get(file) ?? "", undefined),
  );
}

function extractWith(parser: PyParser, options: ExtractOptions): ExtractResult {
  const root = path.resolve(options.root ?? process.cwd());
  const { files, unmatched } = resolvePythonSources(options.sources, root);
  return withParsedTrees(() => extractFiles(parser, root, files, unmatched, (file) => readFileSync(file, "utf8"), options.onService));
}

function extractFiles(
  parser: PyParser,
  root: string,
  paths: readonly string[],
  unmatched: readonly string[],
  read: (file: string) => string,
  onService: ExtractOptions["onService"],
): ExtractResult {
  const relative = (file: string): string => toPosix(path.relative(root, file)) || ".";
  // Collected once each and sorted by place, as the TypeScript extractor reports them.
  const found = new DiagnosticSet();
  const report: ReportDiagnostic = (code, location, message, hint) => found.add({ severity: "error", code, message, hint, location });
  reportUnmatchedSources(report, unmatched, "Python", "pass the .py files (or directories, or globs) that declare your services, relative to the project root");
  const files: PyFile[] = [];
  for (const file of paths) {
    const parsed = parsePython(parser, read(file));
    if (parsed.error) {
      report(
        "RPYC_PYTHON_SYNTAX_ERROR",
        { file: relative(file), ...position(parsed.error) },
        `invalid Python syntax near '${parsed.error.text.slice(0, 40).split("\n")[0]}'`,
        "fix the syntax error (python3 -m py_compile FILE shows it)",
      );
      continue;
    }
    files.push(describeFile(file, relative(file), parsed.root));
  }

  const program = new PyProgram(files);
  const classes = new ClassIndex(program);
  const at = (file: PyFile, node: PyNode): SourceLocation => ({ file: file.relative, ...position(node) });
  // Dataclasses and TypedDicts named by hints, by class name: their fields become TypeDefs (see below).
  const described = new Map<string, PyClass>();
  const hints = new HintResolver({
    program,
    parser,
    classKind: (cls) => classes.kind(cls),
    noteFields: (cls, file, node) => {
      const known = described.get(cls.name);
      if (!known) described.set(cls.name, cls);
      else if (known !== cls) {
        report(
          "RPYC_UNSUPPORTED_TYPE",
          at(file, node),
          `two classes with fields are named ${cls.name} (${known.file.relative} and ${cls.file.relative})`,
          "rename one of them: the generated client declares one interface per name",
        );
      }
    },
    report: (file, node, message, hint) => report("RPYC_UNSUPPORTED_TYPE", at(file, node), message, hint),
  });
  const members: MemberContext = {
    hints,
    location: at,
    reportNonLiteralAliases: (file, node) =>
      report(
        "RPYC_NON_LITERAL_ALIASES",
        at(file, node),
        `ALIASES must be a literal list or tuple of strings, found '${node.text.slice(0, 60)}'`,
        'write the names out: ALIASES = ["floop", "bloop"]',
      ),
  };

  const candidates: PyClass[] = files
    .flatMap((f) => [...f.classes.values()])
    .filter((cls) => classes.isService(cls))
    .sort((a, b) => compareStrings(a.name, b.name) || compareStrings(a.file.relative, b.file.relative) || a.node.startIndex - b.node.startIndex);
  const services: ServiceDef[] = [];
  for (const [i, cls] of candidates.entries()) {
    const nameNode = cls.node.childForFieldName("name") ?? cls.node;
    services.push(describeService(members, classes, cls, at(cls.file, nameNode)));
    onService?.(i + 1, candidates.length);
  }
  reportDuplicateServiceNames(report, services, { hint: 'give one of them a different name with ALIASES = ["..."]', onePerName: true });
  return {
    model: { version: MODEL_VERSION, services, types: fieldTypes(members, classes, described, at) },
    diagnostics: found.sorted(),
    files: files.map((f) => path.resolve(f.path)).sort(),
  };
}

/**
 * The fields of every dataclass and TypedDict a hint names (and of those their fields name,
 * transitively) as object TypeDefs, sorted by name. Both travel by reference: members refer to
 * a dataclass with `{ kind: "netref", name }` (the TypeDef: its attributes), to a TypedDict with
 * a dict netref whose one argument is `{ kind: "ref", name }` (the TypeDef: its keys).
 */
function fieldTypes(ctx: MemberContext, classes: ClassIndex, found: Map<string, PyClass>, at: (file: PyFile, node: PyNode) => SourceLocation): TypeDef[] {
  const types = new Map<string, TypeDef>();
  // Each round describes the dataclasses found so far; describing fields may find more (each name once).
  for (let pending = [...found.values()]; pending.length > 0; pending = [...found.values()].filter((cls) => !types.has(cls.name))) {
    for (const cls of pending) {
      const fields = new Map<string, FieldDef>();
      // Bases' fields first, as dataclasses order them; a redefinition keeps its place. Each
      // TypedDict class of the hierarchy decides its own keys' totality.
      const kind = classes.kind(cls);
      for (const owner of [...classes.mro(cls)].reverse()) {
        if (classes.kind(owner) !== kind) continue;
        const own = kind === "typeddict" ? typedDictFields(ctx, owner.file, owner.node) : dataclassFields(ctx, owner.file, owner.node);
        for (const field of own) fields.set(field.name, field);
      }
      const doc = docstring(cls.node.childForFieldName("body"));
      types.set(cls.name, {
        kind: "object",
        name: cls.name,
        fields: [...fields.values()],
        location: at(cls.file, cls.node.childForFieldName("name") ?? cls.node),
        ...(doc ? { doc } : {}),
      });
    }
  }
  return [...types.values()].sort((a, b) => compareStrings(a.name, b.name));
}
