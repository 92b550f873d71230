// Python type hints -> WireTypes as Python RPyC 5.3 moves the values: brine types by value,
// everything else (list, dict, set, objects) as netrefs, with their type arguments (`args`)
// for the IDE; what cannot be described is reported.

import type { WireParam, WireType } from "../model.js";
import type { PyClass, PyFile, PyProgram } from "./modules.js";
import { dottedName, named, parsePython, stringValue, type PyNode, type PyParser } from "./parser.js";

/**
 * Which way a value travels. Results come from Python as Python sends them; arguments go
 * from the client, which may also send by value what Python accepts in place of its type
 * (a tuple where a list is read, a served Map or Set where a dict or set is read).
 */
export type Direction = "result" | "argument";

/** A Python int: a number while it is a safe integer, a bigint beyond 2^53 (the runtime's brine decoder). */
export const INT: WireType = { kind: "union", members: [{ kind: "number" }, { kind: "bigint" }] };
const UNKNOWN: WireType = { kind: "unknown" };
const NULL: WireType = { kind: "null" };

/** Netref names: Python's name_pack of builtin containers, rpyc-ts's of the JavaScript objects a client serves. */
export const PY_LIST = "builtins.list";
export const PY_DICT = "builtins.dict";
export const PY_SET = "builtins.set";
/**
 * A frozenset travels BY VALUE (brine), as the runtime's FrozenSet. The WireType has no set
 * kind, so it is written as this pseudo-netref: the runtime's netref check (an object) lets the
 * FrozenSet through both ways, and the stub types it `FrozenSet<T>` from its one argument.
 */
export const PY_FROZENSET = "builtins.frozenset";
export const PY_COROUTINE = "builtins.coroutine";
export const JS_MAP = "rpyc_ts.Map";
export const JS_SET = "rpyc_ts.Set";

/** What a class of the given files is, for hints naming it. */
export type ClassKind = "service" | "dataclass" | "typeddict" | "class";

export interface HintContext {
  readonly program: PyProgram;
  readonly parser: PyParser;
  classKind(cls: PyClass): ClassKind;
  /**
   * A hint names this dataclass or TypedDict: its fields become an object TypeDef of the model
   * (a dataclass netref's declared attributes, a TypedDict's keys).
   */
  noteFields(cls: PyClass, file: PyFile, node: PyNode): void;
  report(file: PyFile, node: PyNode, message: string, hint: string): void;
}

/** Module prefixes under which typing constructs and builtins are spelled. */
const PREFIXES = ["typing.", "typing_extensions.", "builtins.", "collections.abc.", "collections."];

const HINT_UNSUPPORTED =
  "use a supported hint (int, float, str, bytes, bool, None, Optional, Union, list, tuple, dict, set, Callable, Any, a dataclass, a TypedDict or a class of the given files)";

/** Forward references and aliases nest at most this deep (a self-referencing alias ends). */
const MAX_HINT_DEPTH = 32;

export class HintResolver {
  constructor(private readonly ctx: HintContext) {}

  /** The WireType of a hint node (a `type` node, an expression, or a string forward reference). */
  type(file: PyFile, node: PyNode, direction: Direction, depth = 0): WireType {
    if (depth > MAX_HINT_DEPTH) return this.unsupported(file, node, `hint '${node.text}' nests too deeply`);
    const next = (n: PyNode, d: Direction = direction): WireType => this.type(file, n, d, depth + 1);
    switch (node.type) {
      case "type":
      case "parenthesized_expression": {
        const inner = named(node)[0];
        return inner ? next(inner) : this.unsupported(file, node, "empty hint");
      }
      case "none":
        return NULL;
      case "string":
      case "concatenated_string":
        return this.forwardReference(file, node, direction, depth);
      case "binary_operator": {
        const left = node.childForFieldName("left");
        const right = node.childForFieldName("right");
        if (node.childForFieldName("operator")?.text !== "|" || !left || !right) return this.unsupported(file, node, `hint '${node.text}' is not a type`);
        return union([next(left), next(right)]);
      }
      case "identifier":
      case "attribute":
        return this.named(file, node, [], direction, depth);
      case "generic_type":
      case "subscript": {
        const { head, args } = genericParts(node);
        if (!head) return this.unsupported(file, node, `hint '${node.text}' is not a type`);
        return this.named(file, head, args, direction, depth, node);
      }
      default:
        return this.unsupported(file, node, `hint '${node.text}' is not a type rpyc-gen understands`);
    }
  }

  private forwardReference(file: PyFile, node: PyNode, direction: Direction, depth: number): WireType {
    const text = stringValue(node);
    if (text === undefined) return this.unsupported(file, node, `hint ${node.text} is not a plain string`);
    const parsed = parsePython(this.ctx.parser, text.trim());
    const statement = named(parsed.root)[0];
    const expression = statement?.type === "expression_statement" ? named(statement)[0] : undefined;
    if (parsed.error || !expression || named(parsed.root).length !== 1)
      return this.unsupported(file, node, `forward reference ${node.text} is not a type expression`);
    // Diagnostics inside the string point at the string itself.
    return new HintResolver({ ...this.ctx, report: (f, _n, message, hint) => this.ctx.report(f, node, message, hint) }).type(
      file,
      expression,
      direction,
      depth + 1,
    );
  }

  /** A name, possibly with type arguments: builtins, typing constructs, classes of the given files, aliases. */
  private named(file: PyFile, head: PyNode, args: readonly PyNode[], direction: Direction, depth: number, whole: PyNode = head): WireType {
    const dotted = dottedName(head);
    if (dotted === undefined) return this.unsupported(file, whole, `hint '${whole.text}' is not a type`);
    const resolved = this.ctx.program.resolve(file, dotted);
    if (resolved.kind === "class") {
      if (args.length > 0)
        return this.unsupported(
          file,
          whole,
          `generic class ${dotted}[...] cannot be described`,
          "drop the type arguments: instances arrive as netrefs either way",
        );
      return this.classType(resolved.cls, direction, file, whole);
    }
    if (resolved.kind === "alias") return this.alias(file, whole, dotted, resolved.file, resolved.value, args, direction, depth);
    const name = canonical(resolved.qualified);
    const next = (n: PyNode, d: Direction = direction): WireType => this.type(file, n, d, depth + 1);
    const arg = (i: number): WireType => (args[i] ? next(args[i]) : UNKNOWN);
    // A container's type arguments as its holder sends the items: Python for a list, dict or set
    // netref (nested containers are netrefs again), the client for a Map or Set it serves.
    const items = (count: number, d: Direction = "result"): WireType[] | undefined => (args.length === count ? args.map((a) => next(a, d)) : undefined);
    switch (name) {
      case "int":
        return INT;
      case "float":
        return { kind: "number" };
      case "str":
        return { kind: "string" };
      case "bytes":
        return { kind: "bytes" };
      case "bool":
        return { kind: "boolean" };
      case "None":
      case "NoneType":
        return NULL;
      case "Any":
      case "object":
        return UNKNOWN;
      case "Optional":
        if (args.length !== 1) return this.unsupported(file, whole, `Optional takes one type argument, got ${args.length}`);
        return union([arg(0), NULL]);
      case "Union":
        return union(args.map((a) => next(a)));
      case "Literal":
        return union(args.map((a) => this.literal(file, a)));
      case "list":
      case "List":
      case "MutableSequence":
        return direction === "result" ? netref(PY_LIST, items(1)) : union([{ kind: "array", element: arg(0) }, netref(PY_LIST, items(1))]);
      case "Sequence":
        // A tuple arrives by value, a list by reference: either may stand for a Sequence.
        return union([{ kind: "array", element: arg(0) }, netref(PY_LIST, items(1))]);
      case "tuple":
      case "Tuple":
        return this.tuple(file, whole, args, direction, depth);
      case "dict":
      case "Dict":
      case "Mapping":
      case "MutableMapping":
      case "OrderedDict":
      case "defaultdict":
        return direction === "result" ? netref(PY_DICT, items(2)) : union([netref(PY_DICT, items(2)), netref(JS_MAP, items(2, "argument"))]);
      case "set":
      case "Set":
      case "MutableSet":
      case "AbstractSet":
        return direction === "result" ? netref(PY_SET, items(1)) : union([netref(PY_SET, items(1)), netref(JS_SET, items(1, "argument"))]);
      case "frozenset":
      case "FrozenSet":
        // By value both ways (see PY_FROZENSET); its items are hashable values, the same either way.
        return netref(PY_FROZENSET, items(1, direction));
      case "Callable":
        return this.callable(file, whole, args, direction, depth);
      case "Annotated":
      case "ClassVar":
      case "Final":
      case "Required":
      case "NotRequired":
      case "ReadOnly":
        // Qualifiers: the value's type is the argument (a bare Final is not a hint of its type;
        // a TypedDict's Required/NotRequired decide whether its key is optional: members.ts).
        return args[0] ? next(args[0]) : UNKNOWN;
      case "Iterator":
      case "Generator":
      case "AsyncIterator":
      case "AsyncGenerator":
        // A generator or iterator object: by reference, iterated with `for await`.
        return netref(`collections.abc.${name}`);
      case "Iterable":
      case "Collection":
        // A result may be any iterable object (a netref); an argument may also be a tuple.
        return direction === "result" ? netref(`collections.abc.${name}`) : union([{ kind: "array", element: arg(0) }, netref(`collections.abc.${name}`)]);
      default: {
        const spelled = resolved.qualified === whole.text ? `'${whole.text}'` : `'${whole.text}' (${resolved.qualified})`;
        if (resolved.qualified.includes(".")) {
          return this.unsupported(
            file,
            whole,
            `hint ${spelled} names a type outside the given sources`,
            "add the file that defines it to rpyc-gen's sources, or hint Any (its instances arrive as netrefs)",
          );
        }
        return this.unsupported(file, whole, `hint ${spelled} cannot be described`);
      }
    }
  }

  /** `Name = <type>` in a given file; `NewType("Name", T)` is T; a TypeVar is a generic, which cannot be described. */
  private alias(
    file: PyFile,
    whole: PyNode,
    dotted: string,
    aliasFile: PyFile,
    value: PyNode,
    args: readonly PyNode[],
    direction: Direction,
    depth: number,
  ): WireType {
    if (value.type === "call") {
      const fn = value.childForFieldName("function");
      const resolved = fn ? this.ctx.program.resolveNode(aliasFile, fn) : undefined;
      const called = resolved?.kind === "external" ? canonical(resolved.qualified) : undefined;
      const callArgs = named(value.childForFieldName("arguments") ?? value).filter((n) => n.type !== "keyword_argument");
      if (called === "NewType" && callArgs[1]) return this.type(aliasFile, callArgs[1], direction, depth + 1);
      if (called === "TypeVar")
        return this.unsupported(file, whole, `type variable ${dotted} cannot be described (generic members are not supported)`, "use a concrete type, or Any");
    }
    if (args.length > 0) return this.unsupported(file, whole, `generic alias ${dotted}[...] cannot be described`, "use the aliased type itself");
    return this.type(aliasFile, value, direction, depth + 1);
  }

  private tuple(file: PyFile, whole: PyNode, args: readonly PyNode[], direction: Direction, depth: number): WireType {
    const next = (n: PyNode): WireType => this.type(file, n, direction, depth + 1);
    if (args.length === 0) return { kind: "array", element: UNKNOWN };
    // tuple[()] is the empty tuple.
    if (args.length === 1 && unwrap(args[0]!).type === "tuple" && named(unwrap(args[0]!)).length === 0) return { kind: "tuple", elements: [], minLength: 0 };
    if (args.length === 2 && unwrap(args[1]!).type === "ellipsis") return { kind: "array", element: next(args[0]!) };
    if (args.some((a) => unwrap(a).type === "ellipsis")) return this.unsupported(file, whole, `'...' may only follow the single element type of tuple[T, ...]`);
    const elements = args.map(next);
    return { kind: "tuple", elements, minLength: elements.length };
  }

  /**
   * Callable[[A, B], R]. Its parameters travel the other way than the callable itself (a
   * callback the client passes is called by Python with A, B: they arrive like results); R
   * travels the same way (the callback's answer goes to Python like an argument).
   */
  private callable(file: PyFile, whole: PyNode, args: readonly PyNode[], direction: Direction, depth: number): WireType {
    const flip: Direction = direction === "result" ? "argument" : "result";
    const returns = args[1] ? this.type(file, args[1], direction, depth + 1) : UNKNOWN;
    const list = args[0] ? unwrap(args[0]) : undefined;
    let params: WireParam[];
    if (!list || list.type === "ellipsis") params = [{ name: "args", type: { kind: "array", element: UNKNOWN }, optional: false, rest: true }];
    else if (list.type === "list")
      params = named(list).map((p, i) => ({ name: `arg${i}`, type: this.type(file, p, flip, depth + 1), optional: false, rest: false }));
    else return this.unsupported(file, whole, `Callable's first argument must be a list of types or '...'`);
    return { kind: "function", params, returns: callbackReturn(returns) };
  }

  private literal(file: PyFile, node: PyNode): WireType {
    const value = unwrap(node);
    if (value.type === "none") return NULL;
    if (value.type === "true" || value.type === "false") return { kind: "literal", value: value.type === "true" };
    if (value.type === "integer" && /^-?\d+$/.test(value.text) && Number.isSafeInteger(Number(value.text)))
      return { kind: "literal", value: Number(value.text) };
    if (value.type === "unary_operator" && /^-\s*\d+$/.test(value.text)) return { kind: "literal", value: Number(value.text.replace(/\s/g, "")) };
    const text = stringValue(value);
    if (text !== undefined) return { kind: "literal", value: text };
    return this.unsupported(file, node, `Literal value ${node.text} cannot be described`);
  }

  private classType(cls: PyClass, direction: Direction, file: PyFile, node: PyNode): WireType {
    const kind = this.ctx.classKind(cls);
    // A TypedDict is a dict at run time: it travels like one; its one type argument names its keys.
    if (kind === "typeddict") {
      this.ctx.noteFields(cls, file, node);
      const dict = netref(PY_DICT, [{ kind: "ref", name: cls.name }]);
      return direction === "result" ? dict : union([dict, netref(JS_MAP)]);
    }
    if (kind === "dataclass") this.ctx.noteFields(cls, file, node);
    return netref(cls.name);
  }

  private unsupported(file: PyFile, node: PyNode, message: string, hint = HINT_UNSUPPORTED): WireType {
    this.ctx.report(file, node, message, hint);
    return UNKNOWN;
  }
}

/** `X[...]` as written: its head and its type arguments. */
function genericParts(node: PyNode): { head: PyNode | undefined; args: PyNode[] } {
  if (node.type === "generic_type") {
    const [head, parameters] = named(node);
    return { head, args: parameters ? named(parameters) : [] };
  }
  const head = node.childForFieldName("value") ?? undefined;
  return { head, args: node.childrenForFieldName("subscript").filter((n): n is PyNode => n !== null) };
}

function unwrap(node: PyNode): PyNode {
  let current = node;
  while ((current.type === "type" || current.type === "parenthesized_expression") && named(current).length === 1) current = named(current)[0]!;
  return current;
}

/** A qualified external name without the module it conventionally comes from (`typing.Optional` -> `Optional`). */
function canonical(qualified: string): string {
  for (const prefix of PREFIXES) if (qualified.startsWith(prefix)) return qualified.slice(prefix.length);
  return qualified;
}

function netref(name: string, args?: readonly WireType[]): WireType {
  return args ? { kind: "netref", name, args } : { kind: "netref", name };
}

/** Unions flattened, duplicates dropped, `unknown` absorbing the rest; one member stands alone. */
export function union(members: readonly WireType[]): WireType {
  const flat: WireType[] = [];
  const seen = new Set<string>();
  for (const member of members.flatMap((m) => (m.kind === "union" ? m.members : [m]))) {
    if (member.kind === "unknown") return UNKNOWN;
    const key = JSON.stringify(member);
    if (!seen.has(key)) {
      seen.add(key);
      flat.push(member);
    }
  }
  return flat.length === 1 ? flat[0]! : { kind: "union", members: flat };
}

/** A callback declared `-> None` answers nothing the caller reads: written as void. */
function callbackReturn(type: WireType): WireType {
  return type.kind === "null" ? { kind: "undefined" } : type;
}
