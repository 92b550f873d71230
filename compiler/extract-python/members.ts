// One class body -> its own exposed members (methods, @property getters, class attributes),
// its ALIASES and its docstring. Inheritance (merging bases' members) is services.ts's job.

import type { AttributeDef, FieldDef, MethodDef, ParamDef, SourceLocation, WireType } from "../model.js";
import { PY_COROUTINE, type HintResolver } from "./hints.js";
import type { PyFile } from "./modules.js";
import { cleandoc, docstring, dottedName, named, stringValue, type PyNode } from "./parser.js";

/** RPyC's default `exposed_prefix`. */
export const EXPOSED_PREFIX = "exposed_";

const UNKNOWN: WireType = { kind: "unknown" };

export interface OwnMembers {
  readonly doc?: string;
  readonly methods: readonly MethodDef[];
  readonly attributes: readonly AttributeDef[];
  /** Set when the class body assigns ALIASES: the literal names, or "non-literal" (already reported). */
  readonly aliases?: readonly string[] | "non-literal";
}

export interface MemberContext {
  readonly hints: HintResolver;
  location(file: PyFile, node: PyNode): SourceLocation;
  reportNonLiteralAliases(file: PyFile, node: PyNode): void;
}

export function ownMembers(ctx: MemberContext, file: PyFile, classNode: PyNode, className: string): OwnMembers {
  const body = classNode.childForFieldName("body");
  const statements = body ? named(body) : [];
  const methods = new Map<string, MethodDef>();
  const attributes = new Map<string, AttributeDef>();
  let aliases: readonly string[] | "non-literal" | undefined;

  statements.forEach((statement, index) => {
    let definition = statement;
    let decorators: string[] = [];
    if (statement.type === "decorated_definition") {
      definition = statement.childForFieldName("definition") ?? statement;
      decorators = named(statement)
        .filter((n) => n.type === "decorator")
        .map((d) => decoratorName(d));
    }
    if (definition.type === "function_definition") {
      const nameNode = definition.childForFieldName("name");
      const name = nameNode?.text ?? "";
      // A property's setter or deleter: services refuse remote writes anyway (see below).
      if (decorators.some((d) => /\.(setter|deleter)$/.test(d))) return;
      if (!name.startsWith(EXPOSED_PREFIX) || !nameNode) return;
      const remote = name.slice(EXPOSED_PREFIX.length);
      const doc = docstring(definition.childForFieldName("body"));
      const location = ctx.location(file, nameNode);
      const returnHint = definition.childForFieldName("return_type");
      if (decorators.some((d) => d === "property" || d.endsWith(".property") || d === "cached_property" || d.endsWith(".cached_property"))) {
        const type = returnHint ? ctx.hints.type(file, returnHint, "result") : UNKNOWN;
        attributes.set(name, { name: remote, member: name, type, readonly: true, kind: "getter", declaredIn: className, location, ...(doc ? { doc } : {}) });
        return;
      }
      const isStatic = decorators.some((d) => d === "staticmethod" || d.endsWith(".staticmethod"));
      const { params, keywordOnly, keywordRest, notes } = parameters(ctx, file, definition, !isStatic);
      // Python RPyC does not await coroutines: calling an `async def` returns the coroutine object, by reference.
      const isAsync = definition.children.some((c) => c?.type === "async");
      const returns: WireType = isAsync ? { kind: "netref", name: PY_COROUTINE } : returnHint ? ctx.hints.type(file, returnHint, "result") : UNKNOWN;
      if (isAsync) notes.push("Declared `async def`: Python RPyC does not await it, so the call returns the coroutine object (a netref).");
      const fullDoc = [doc, ...notes].filter((d): d is string => d !== undefined && d !== "").join("\n\n");
      methods.set(name, {
        name: remote,
        member: name,
        params,
        ...(keywordOnly.length > 0 ? { keywordOnly } : {}),
        ...(keywordRest ? { keywordRest } : {}),
        returns,
        async: false,
        declaredIn: className,
        location,
        ...(fullDoc ? { doc: fullDoc } : {}),
      });
      return;
    }
    if (definition.type === "class_definition") {
      // An exposed nested class: reading it returns the class object, by reference.
      const nameNode = definition.childForFieldName("name");
      if (!nameNode || !nameNode.text.startsWith(EXPOSED_PREFIX)) return;
      const doc = docstring(definition.childForFieldName("body"));
      attributes.set(nameNode.text, {
        name: nameNode.text.slice(EXPOSED_PREFIX.length),
        member: nameNode.text,
        type: { kind: "netref", name: "builtins.type" },
        readonly: true,
        kind: "property",
        declaredIn: className,
        location: ctx.location(file, nameNode),
        ...(doc ? { doc } : {}),
      });
      return;
    }
    if (statement.type !== "expression_statement") return;
    const assignment = named(statement)[0];
    if (!assignment || assignment.type !== "assignment") return;
    const left = assignment.childForFieldName("left");
    if (left?.type !== "identifier") return;
    const right = assignment.childForFieldName("right");
    const hint = assignment.childForFieldName("type");
    if (left.text === "ALIASES" && right) {
      aliases = literalStrings(right);
      if (aliases === undefined) {
        ctx.reportNonLiteralAliases(file, right);
        aliases = "non-literal";
      }
      return;
    }
    if (!left.text.startsWith(EXPOSED_PREFIX)) return;
    // A string right after an attribute documents it (the convention Sphinx and IDEs read).
    const following = statements[index + 1];
    const docNode = following?.type === "expression_statement" ? named(following)[0] : undefined;
    const docText = docNode ? stringValue(docNode) : undefined;
    const doc = docText !== undefined ? docstringOf(docText) : undefined;
    const type = hint ? ctx.hints.type(file, hint, "result") : UNKNOWN;
    // Services refuse every remote write (RPyC's Service._rpyc_setattr): attributes are read-only remotely.
    attributes.set(left.text, {
      name: left.text.slice(EXPOSED_PREFIX.length),
      member: left.text,
      type,
      readonly: true,
      kind: "property",
      declaredIn: className,
      location: ctx.location(file, left),
      ...(doc ? { doc } : {}),
    });
  });

  const doc = docstring(classNode.childForFieldName("body"));
  return {
    ...(doc ? { doc } : {}),
    methods: [...methods.values()],
    attributes: [...attributes.values()],
    ...(aliases !== undefined ? { aliases } : {}),
  };
}

function docstringOf(text: string): string | undefined {
  const cleaned = cleandoc(text);
  return cleaned === "" ? undefined : cleaned;
}

/** `@staticmethod` -> "staticmethod", `@functools.cache` -> "functools.cache", `@x.setter` -> "x.setter", `@deco(1)` -> "deco". */
function decoratorName(decorator: PyNode): string {
  const expression = named(decorator)[0];
  if (!expression) return "";
  const target = expression.type === "call" ? expression.childForFieldName("function") : expression;
  return (target && dottedName(target)) ?? "";
}

/** `["a", "b"]` or `("a", "b")` (or a single string) as its strings; undefined when not literal. */
function literalStrings(node: PyNode): string[] | undefined {
  if (node.type === "string") {
    const value = stringValue(node);
    return value === undefined ? undefined : [value];
  }
  if (node.type !== "list" && node.type !== "tuple") return undefined;
  const values = named(node).map(stringValue);
  return values.every((v): v is string => v !== undefined) ? values : undefined;
}

interface Parameters {
  readonly params: ParamDef[];
  readonly keywordOnly: ParamDef[];
  readonly keywordRest: ParamDef | undefined;
  readonly notes: string[];
}

/**
 * Positional parameters (self/cls dropped, defaults optional, *args a rest parameter), then
 * keyword-only ones and **kwargs (passed with a last kwargs({ ... })), also noted in the doc.
 */
function parameters(ctx: MemberContext, file: PyFile, fn: PyNode, bound: boolean): Parameters {
  const list = fn.childForFieldName("parameters");
  const items = list ? named(list) : [];
  const params: ParamDef[] = [];
  const keywordOnly: ParamDef[] = [];
  const keywordText: string[] = [];
  let keywordRest: ParamDef | undefined;
  let afterStar = false;
  let first = bound;
  for (const item of items) {
    if (item.type === "positional_separator") continue;
    if (item.type === "keyword_separator") {
      afterStar = true;
      continue;
    }
    const { name, hint, defaultValue, splat } = parameterParts(item);
    if (first) {
      // self or cls: whatever it is called, the first parameter of a bound method.
      first = false;
      if (!splat) continue;
    }
    if (splat === "**") {
      keywordRest = { name, type: hint ? ctx.hints.type(file, hint, "argument") : UNKNOWN, optional: true, rest: true };
      continue;
    }
    if (splat === "*") {
      const element = hint ? ctx.hints.type(file, hint, "argument") : { kind: "unknown" as const };
      params.push({ name, type: { kind: "array", element }, optional: false, rest: true });
      afterStar = true;
      continue;
    }
    const type = hint ? ctx.hints.type(file, hint, "argument") : UNKNOWN;
    const param: ParamDef = { name, type, optional: defaultValue !== undefined, rest: false, ...(defaultValue ? { default: defaultValue.text } : {}) };
    if (afterStar) {
      keywordOnly.push(param);
      keywordText.push(`\`${name}\`${hint ? ` (${hint.text})` : ""}${defaultValue ? ` = ${defaultValue.text}` : ", required"}`);
      continue;
    }
    params.push(param);
  }
  const notes: string[] = [];
  if (keywordText.length > 0) notes.push(`Keyword-only: ${keywordText.join(", ")}; pass them as the last argument: kwargs({ ... }).`);
  if (keywordRest) notes.push(`Takes **${keywordRest.name}: further keyword arguments go in the same kwargs({ ... }).`);
  return { params, keywordOnly, keywordRest, notes };
}

function parameterParts(item: PyNode): { name: string; hint?: PyNode; defaultValue?: PyNode; splat?: "*" | "**" } {
  const splatOf = (n: PyNode): "*" | "**" | undefined => (n.type === "list_splat_pattern" ? "*" : n.type === "dictionary_splat_pattern" ? "**" : undefined);
  switch (item.type) {
    case "identifier":
      return { name: item.text };
    case "list_splat_pattern":
    case "dictionary_splat_pattern":
      return { name: named(item)[0]?.text ?? "args", splat: splatOf(item)! };
    case "typed_parameter": {
      const target = named(item)[0]!;
      const hint = item.childForFieldName("type") ?? undefined;
      const splat = splatOf(target);
      const name = splat ? (named(target)[0]?.text ?? "args") : target.text;
      return { name, ...(hint ? { hint } : {}), ...(splat ? { splat } : {}) };
    }
    case "default_parameter":
    case "typed_default_parameter": {
      const hint = item.childForFieldName("type") ?? undefined;
      const value = item.childForFieldName("value") ?? undefined;
      return { name: item.childForFieldName("name")?.text ?? "arg", ...(hint ? { hint } : {}), ...(value ? { defaultValue: value } : {}) };
    }
    default:
      return { name: item.text };
  }
}

/**
 * A dataclass's own fields (class-level annotated names, ClassVar excluded), typed as they
 * arrive when read from a netref of an instance.
 */
export function dataclassFields(ctx: MemberContext, file: PyFile, classNode: PyNode): FieldDef[] {
  return annotatedFields(ctx, file, classNode, () => false);
}

/**
 * A TypedDict's own keys, typed as Python sends their values. A key is optional under
 * `total=False` (the class's own keyword) unless marked Required[...], and under
 * NotRequired[...] whatever the totality.
 */
export function typedDictFields(ctx: MemberContext, file: PyFile, classNode: PyNode): FieldDef[] {
  const total = classKeyword(classNode, "total")?.text !== "False";
  return annotatedFields(ctx, file, classNode, (hint) => {
    const marked = requiredness(hint);
    return marked === undefined ? !total : marked === "NotRequired";
  });
}

function annotatedFields(ctx: MemberContext, file: PyFile, classNode: PyNode, optional: (hint: PyNode) => boolean): FieldDef[] {
  const body = classNode.childForFieldName("body");
  const statements = body ? named(body) : [];
  const fields: FieldDef[] = [];
  statements.forEach((statement, index) => {
    const assignment = statement.type === "expression_statement" ? named(statement)[0] : undefined;
    const left = assignment?.type === "assignment" ? assignment.childForFieldName("left") : null;
    const hint = assignment?.childForFieldName("type");
    if (left?.type !== "identifier" || !hint || /^(typing\.)?ClassVar\b/.test(hint.text)) return;
    const following = statements[index + 1];
    const docNode = following?.type === "expression_statement" ? named(following)[0] : undefined;
    const docText = docNode && docNode.type === "string" ? stringValue(docNode) : undefined;
    const doc = docText !== undefined ? docstringOf(docText) : undefined;
    fields.push({ name: left.text, type: ctx.hints.type(file, hint, "result"), optional: optional(hint), readonly: false, ...(doc ? { doc } : {}) });
  });
  return fields;
}

/** The value of a keyword in a class statement (`class C(TypedDict, total=False)` -> `False`). */
function classKeyword(classNode: PyNode, name: string): PyNode | undefined {
  const list = classNode.childForFieldName("superclasses");
  const keyword = (list ? named(list) : []).find((n) => n.type === "keyword_argument" && n.childForFieldName("name")?.text === name);
  return keyword?.childForFieldName("value") ?? undefined;
}

/** Required[...] or NotRequired[...] around a TypedDict key's hint (also inside Annotated or ReadOnly). */
function requiredness(hint: PyNode, depth = 0): "Required" | "NotRequired" | undefined {
  let node = hint;
  while (node.type === "type" && named(node).length === 1) node = named(node)[0]!;
  if (node.type === "string") {
    // A forward reference: "Required[int]".
    const marked = /^\s*(?:[\w.]*\.)?(Required|NotRequired)\s*\[/.exec(stringValue(node) ?? "")?.[1];
    return marked === "Required" || marked === "NotRequired" ? marked : undefined;
  }
  if (depth > 8 || (node.type !== "generic_type" && node.type !== "subscript")) return undefined;
  const head = node.type === "generic_type" ? named(node)[0] : (node.childForFieldName("value") ?? undefined);
  const last = head ? dottedName(head)?.split(".").pop() : undefined;
  if (last === "Required" || last === "NotRequired") return last;
  if (last !== "Annotated" && last !== "ReadOnly") return undefined;
  const inner = node.type === "generic_type" ? named(named(node)[1] ?? node)[0] : node.childrenForFieldName("subscript")[0];
  return inner ? requiredness(inner, depth + 1) : undefined;
}
