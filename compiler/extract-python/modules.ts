// The given .py files as modules: imports, top-level classes and aliases, and resolution of a
// dotted name across them (`from base import X`, `import base as b; b.X`, `r.Service`).

import path from "node:path";
import { dottedName, named, type PyNode } from "./parser.js";

/** What a local name is bound to by an import. */
type Binding = { readonly kind: "module"; readonly module: string } | { readonly kind: "symbol"; readonly module: string; readonly name: string };

export interface PyClass {
  readonly name: string;
  readonly node: PyNode;
  readonly file: PyFile;
}

export interface PyFile {
  /** Absolute path, posix. */
  readonly path: string;
  /** Path relative to the root, posix ("fixtures/python-seed/my_service.py"). */
  readonly relative: string;
  readonly root: PyNode;
  readonly imports: ReadonlyMap<string, Binding>;
  readonly classes: ReadonlyMap<string, PyClass>;
  /** Top-level `Name = <expression>` assignments (type aliases, ALIASES lists). */
  readonly assignments: ReadonlyMap<string, PyNode>;
}

/** What a name in some file refers to: a class of the given files, or something outside them by its qualified name. */
export type Resolved =
  | { readonly kind: "class"; readonly cls: PyClass }
  /** A top-level `Name = <expression>` of a given file (a type alias). */
  | { readonly kind: "alias"; readonly file: PyFile; readonly value: PyNode }
  | { readonly kind: "external"; readonly qualified: string };

/** Imports are followed at most this deep (re-exports of re-exports), so import cycles end. */
const MAX_REEXPORTS = 16;

export function describeFile(absolute: string, relative: string, root: PyNode): PyFile {
  const imports = new Map<string, Binding>();
  const classes = new Map<string, PyClass>();
  const assignments = new Map<string, PyNode>();
  const file: PyFile = { path: absolute, relative, root, imports, classes, assignments };
  const visit = (statements: readonly PyNode[]): void => {
    for (const statement of statements) {
      switch (statement.type) {
        case "import_statement":
          for (const item of named(statement)) bindImport(imports, item);
          break;
        case "import_from_statement":
          bindFromImport(imports, statement);
          break;
        case "class_definition": {
          const name = statement.childForFieldName("name")?.text;
          if (name) classes.set(name, { name, node: statement, file });
          break;
        }
        case "decorated_definition": {
          const definition = statement.childForFieldName("definition");
          const name = definition?.type === "class_definition" ? definition.childForFieldName("name")?.text : undefined;
          if (definition && name) classes.set(name, { name, node: definition, file });
          break;
        }
        case "expression_statement": {
          const assignment = named(statement)[0];
          const left = assignment?.type === "assignment" ? assignment.childForFieldName("left") : null;
          const right = assignment?.childForFieldName("right");
          if (left?.type === "identifier" && right) assignments.set(left.text, right);
          break;
        }
        case "if_statement": {
          // `if TYPE_CHECKING:` blocks hold imports used only by hints.
          const consequence = statement.childForFieldName("consequence");
          if (consequence && /TYPE_CHECKING$/.test(statement.childForFieldName("condition")?.text ?? "")) visit(named(consequence));
          break;
        }
        default:
          break;
      }
    }
  };
  visit(named(root));
  return file;
}

function bindImport(imports: Map<string, Binding>, item: PyNode): void {
  if (item.type === "aliased_import") {
    const module = item.childForFieldName("name")?.text;
    const alias = item.childForFieldName("alias")?.text;
    if (module && alias) imports.set(alias, { kind: "module", module });
  } else if (item.type === "dotted_name") {
    // `import a.b.c` binds `a`; attribute access walks the rest.
    const first = item.text.split(".")[0]!;
    imports.set(first, { kind: "module", module: first });
  }
}

function bindFromImport(imports: Map<string, Binding>, statement: PyNode): void {
  const moduleNode = statement.childForFieldName("module_name");
  if (!moduleNode) return;
  const module = moduleNode.text;
  for (const item of statement.childrenForFieldName("name")) {
    if (!item) continue;
    if (item.type === "aliased_import") {
      const name = item.childForFieldName("name")?.text;
      const alias = item.childForFieldName("alias")?.text;
      if (name && alias) imports.set(alias, { kind: "symbol", module, name });
    } else {
      imports.set(item.text, { kind: "symbol", module, name: item.text });
    }
  }
}

/** Every file of one extraction, and names resolved across them. */
export class PyProgram {
  constructor(readonly files: readonly PyFile[]) {}

  /** The given file a module name (`base`, `pkg.base`, `.base`) imported from `from` refers to. */
  moduleFile(module: string, from: PyFile): PyFile | undefined {
    const dots = /^\.*/.exec(module)![0].length;
    const rest = module.slice(dots).split(".").filter(Boolean);
    if (dots > 0) {
      let dir = path.posix.dirname(from.path);
      for (let i = 1; i < dots; i++) dir = path.posix.dirname(dir);
      return this.byPath(path.posix.join(dir, ...rest));
    }
    // Absolute imports: next to the importing file first (a script's directory is on sys.path), then anywhere below the root.
    const beside = this.byPath(path.posix.join(path.posix.dirname(from.path), ...rest));
    if (beside) return beside;
    const suffix = `/${rest.join("/")}`;
    const matches = this.files.filter((f) => stripExtension(f.path).endsWith(suffix) || stripExtension(f.path).endsWith(`${suffix}/__init__`));
    return matches.length === 1 ? matches[0] : undefined;
  }

  private byPath(stem: string): PyFile | undefined {
    return this.files.find((f) => {
      const own = stripExtension(f.path);
      return own === stem || own === `${stem}/__init__`;
    });
  }

  /** Resolves a dotted name written in `file` (`BaseService`, `base.BaseService`, `r.Service`, `typing.Optional`). */
  resolve(file: PyFile, dotted: string, depth = 0): Resolved {
    const [first, ...rest] = dotted.split(".");
    const local = file.classes.get(first!);
    if (local && rest.length === 0) return { kind: "class", cls: local };
    const assigned = file.assignments.get(first!);
    if (assigned && rest.length === 0 && !file.imports.has(first!)) return { kind: "alias", file, value: assigned };
    const binding = file.imports.get(first!);
    if (!binding) return { kind: "external", qualified: dotted };
    if (binding.kind === "symbol") return this.resolveIn(binding.module, [binding.name, ...rest], file, depth);
    return this.resolveIn(binding.module, rest, file, depth);
  }

  /** `names` looked up in module `module` (a given file when it is one, else external). */
  private resolveIn(module: string, names: readonly string[], from: PyFile, depth: number): Resolved {
    const qualified = [module.replace(/^\.+/, ""), ...names].filter(Boolean).join(".");
    if (depth >= MAX_REEXPORTS) return { kind: "external", qualified };
    const target = this.moduleFile(module, from);
    if (target && names.length > 0) {
      const found = this.resolve(target, names.join("."), depth + 1);
      if (found.kind !== "external") return found;
    }
    // `from pkg import base` then `base.X`: the submodule may be a given file (also when pkg/__init__.py is one).
    if (names.length > 1) {
      const sub = this.moduleFile(`${module}.${names[0]}`, from);
      if (sub) return this.resolve(sub, names.slice(1).join("."), depth + 1);
    }
    return { kind: "external", qualified };
  }

  /** Resolves an expression node (a name or attribute chain); undefined for anything else. */
  resolveNode(file: PyFile, node: PyNode): Resolved | undefined {
    const dotted = dottedName(node);
    return dotted === undefined ? undefined : this.resolve(file, dotted);
  }
}

function stripExtension(p: string): string {
  return p.replace(/\.pyi?$/, "");
}
