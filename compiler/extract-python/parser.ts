// The Python parser of rpyc-gen: web-tree-sitter with the tree-sitter-python wasm grammar,
// loaded once per process. The only module of the compiler that imports web-tree-sitter.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";

export type { Node as PyNode, Parser as PyParser } from "web-tree-sitter";

let loading: Promise<Parser> | undefined;

/**
 * The tree-sitter-python grammar (wasm). The rpyc-gen package carries its own copy in
 * dist/grammars/ (the tree-sitter-python package would install native prebuilds and run an
 * install script for a file of 450 KB); inside the repository it comes from that package.
 */
function grammarFile(): string {
  const bundled = fileURLToPath(new URL("../grammars/tree-sitter-python.wasm", import.meta.url));
  if (existsSync(bundled)) return bundled;
  return createRequire(import.meta.url).resolve("tree-sitter-python/tree-sitter-python.wasm");
}

/** A parser for Python 3 (the grammar is found beside the compiler or through node resolution, not the cwd). */
export function pythonParser(): Promise<Parser> {
  loading ??= (async () => {
    await Parser.init();
    const wasm = grammarFile();
    const parser = new Parser();
    parser.setLanguage(await Language.load(wasm));
    return parser;
  })();
  return loading;
}

/** A parsed file: its syntax tree's root, or the place of the first syntax error. */
export interface ParsedFile {
  readonly root: Node;
  /** The first ERROR or MISSING node, when the file does not parse cleanly. */
  readonly error?: Node;
}

/** The trees parsed inside the innermost withParsedTrees() call. */
let openTrees: Tree[] | undefined;

/**
 * Runs `extract` and then frees every tree parsed during it: trees live in wasm memory, which
 * the garbage collector does not reclaim (watch mode would grow with every re-extraction).
 * Nothing parsed inside may be used after it returns; extraction hands on plain data only.
 */
export function withParsedTrees<T>(extract: () => T): T {
  const outer = openTrees;
  const trees: Tree[] = [];
  openTrees = trees;
  try {
    return extract();
  } finally {
    openTrees = outer;
    for (const tree of trees) tree.delete();
  }
}

/** Parses with a parser from pythonParser() (synchronous once the grammar is loaded); inside withParsedTrees() the tree is freed at its end. */
export function parsePython(parser: Parser, text: string): ParsedFile {
  const tree = parser.parse(text);
  if (!tree) throw new Error("tree-sitter returned no tree");
  openTrees?.push(tree);
  const root = tree.rootNode;
  const error = root.hasError ? firstError(root) : undefined;
  return error ? { root, error } : { root };
}

function firstError(node: Node): Node | undefined {
  if (node.type === "ERROR" || node.isMissing) return node;
  for (const child of node.children) {
    if (child?.hasError || child?.isMissing) {
      const found = firstError(child);
      if (found) return found;
    }
  }
  return node.hasError ? node : undefined;
}

/** Named children without the nulls web-tree-sitter's typings allow. */
export function named(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null && c.type !== "comment");
}

/** The node's 1-based line and column. */
export function position(node: Node): { line: number; column: number } {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

/** A dotted name as written (`rpyc.core.service.Service`), or undefined for other expressions. */
export function dottedName(node: Node): string | undefined {
  if (node.type === "identifier") return node.text;
  if (node.type === "attribute") {
    const object = node.childForFieldName("object");
    const attribute = node.childForFieldName("attribute");
    const left = object ? dottedName(object) : undefined;
    return left && attribute ? `${left}.${attribute.text}` : undefined;
  }
  if (node.type === "type" && node.namedChildren.length === 1) return dottedName(named(node)[0]!);
  return undefined;
}

/**
 * The value of a string literal (plain, raw, or implicitly concatenated), or undefined when it
 * is not a constant string (f-strings with fields, bytes).
 */
export function stringValue(node: Node): string | undefined {
  if (node.type === "concatenated_string") {
    const parts = named(node).map(stringValue);
    return parts.every((p) => p !== undefined) ? parts.join("") : undefined;
  }
  if (node.type !== "string") return undefined;
  const start = node.children.find((c) => c?.type === "string_start")?.text ?? "";
  const prefix = start.replace(/["']/g, "").toLowerCase();
  if (prefix.includes("b") || prefix.includes("f")) return undefined;
  let text = "";
  for (const child of node.children) {
    if (!child) continue;
    if (child.type === "string_content") text += prefix.includes("r") ? child.text : unescapePython(child.text);
    else if (child.type === "escape_sequence") text += prefix.includes("r") ? child.text : unescapePython(child.text);
    else if (child.type === "interpolation") return undefined;
  }
  return text;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "\n": "",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
};

/** Python's escapes in a non-raw literal (\n, \t, \\, \', \", \xNN, \uNNNN, a line continuation). */
function unescapePython(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\s\S])/g, (whole, code: string) => {
    if (/^[xuU]/.test(code) && code.length > 1) return String.fromCodePoint(parseInt(code.slice(1), 16));
    return ESCAPES[code] ?? whole;
  });
}

/**
 * inspect.cleandoc: tabs expanded, the first line's leading blanks and the common indentation
 * of the other lines removed, leading and trailing blank lines dropped.
 */
export function cleandoc(doc: string): string {
  const lines = doc.replace(/\t/g, "        ").split(/\r?\n/);
  let margin = Infinity;
  for (const line of lines.slice(1)) {
    const content = line.trimStart();
    if (content) margin = Math.min(margin, line.length - content.length);
  }
  const cleaned = [lines[0]!.trimStart(), ...lines.slice(1).map((line) => (margin === Infinity ? line : line.slice(margin)))];
  while (cleaned.length > 0 && cleaned[0]!.trim() === "") cleaned.shift();
  while (cleaned.length > 0 && cleaned[cleaned.length - 1]!.trim() === "") cleaned.pop();
  return cleaned.join("\n");
}

/** The docstring of a class or function body (its first statement, when a string), cleaned. */
export function docstring(body: Node | null): string | undefined {
  const first = body ? named(body)[0] : undefined;
  if (!first || first.type !== "expression_statement") return undefined;
  const expression = named(first)[0];
  const value = expression ? stringValue(expression) : undefined;
  if (value === undefined) return undefined;
  const cleaned = cleandoc(value);
  return cleaned === "" ? undefined : cleaned;
}
