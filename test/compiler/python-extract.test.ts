// Extraction of Python RPyC services (compiler/extract-python.ts) on in-memory sources,
// asserting on the plain model: discovery (every spelling of rpyc.Service, across files),
// members, parameters, ALIASES, docstrings, every supported hint's WireType, and the
// diagnostics; then rpyc-gen's command line with .py sources.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT, run, type CliIO } from "../../compiler/cli/index.js";
import { extractPythonFromTexts, extractPythonModel } from "../../compiler/extract-python.js";
import { formatDiagnostic, type ServiceDef, type WireType } from "../../compiler/model.js";
import { AUDITED_SCHEMA, BASE_SERVICE_SCHEMA, INVENTORY_SERVICE_SCHEMA } from "../../fixtures/python-inheritance/expected/index.js";
import { MY_SERVICE_SCHEMA } from "../../fixtures/python-seed/expected/index.js";
import { SHOP_SERVICE_SCHEMA } from "../../fixtures/python-typed/expected/index.js";
import { emitAll } from "../../compiler/emit.js";
import { FrozenSet } from "../../runtime/wire/values.js";
import { decodeValue, encodeArguments } from "../../runtime/compiled/schema.js";

const INT: WireType = { kind: "union", members: [{ kind: "number" }, { kind: "bigint" }] };
const STR: WireType = { kind: "string" };
const NULL: WireType = { kind: "null" };
const UNKNOWN: WireType = { kind: "unknown" };
const netref = (name: string, ...args: WireType[]): WireType => (args.length > 0 ? { kind: "netref", name, args } : { kind: "netref", name });
const union = (...members: WireType[]): WireType => ({ kind: "union", members });

/** The services of in-memory sources; fails on any diagnostic. */
async function services(texts: Record<string, string>): Promise<ServiceDef[]> {
  const { model, diagnostics } = await extractPythonFromTexts(texts);
  expect(diagnostics.map(formatDiagnostic)).toEqual([]);
  return [...model.services];
}

async function service(text: string): Promise<ServiceDef> {
  const found = await services({ "svc.py": text });
  expect(found.map((s) => s.className)).toEqual(["S"]);
  return found[0]!;
}

/** Diagnostics of in-memory sources, formatted. */
async function diagnostics(texts: Record<string, string>): Promise<string[]> {
  return (await extractPythonFromTexts(texts)).diagnostics.map(formatDiagnostic);
}

/** The WireTypes of one hint as a parameter and as a result (`prelude` holds imports and classes). */
async function hint(text: string, prelude = ""): Promise<{ argument: WireType; result: WireType }> {
  const svc = await service(`${prelude}\nimport rpyc\nclass S(rpyc.Service):\n    def exposed_f(self, x: ${text}) -> ${text}:\n        pass\n`);
  const f = svc.methods[0]!;
  return { argument: f.params[0]!.type, result: f.returns };
}

describe("Python services: discovery", () => {
  it.each([
    ["import rpyc\nclass S(rpyc.Service): pass"],
    ["from rpyc import Service\nclass S(Service): pass"],
    ["from rpyc import Service as Base\nclass S(Base): pass"],
    ["import rpyc as r\nclass S(r.Service): pass"],
    ["import rpyc.core.service\nclass S(rpyc.core.service.Service): pass"],
    ["from rpyc.core.service import Service\nclass S(Service): pass"],
    ["from rpyc.core import service\nclass S(service.Service): pass"],
    ["import rpyc\nclass S(rpyc.VoidService): pass"],
    ["import rpyc\nclass S(object, rpyc.Service, metaclass=type): pass"],
  ])("finds a service deriving from rpyc's Service: %s", async (text) => {
    const svc = await service(text);
    expect(svc).toMatchObject({
      origin: "python",
      className: "S",
      name: "S",
      aliases: ["S"],
      explicitAliases: false,
      module: "svc.py",
      exportName: "S",
      bases: [],
    });
    expect(svc.location).toEqual({ file: "svc.py", line: text.split("\n").length, column: 7 });
  });

  it("ignores classes that do not derive from rpyc's Service, whatever their base is called", async () => {
    expect(await services({ "a.py": "from mylib import Service\nclass A(Service): pass\nclass B: pass\nclass C(dict): pass\n" })).toEqual([]);
  });

  it("follows bases across files: from-imports, module attributes, relative imports, aliases", async () => {
    const found = await services({
      "base.py": "import rpyc\nclass BaseService(rpyc.Service):\n    def exposed_ping(self) -> str: ...\n",
      "a.py": "from base import BaseService\nclass AService(BaseService): pass\n",
      "b.py": "import base\nclass BService(base.BaseService): pass\n",
      "c.py": "import base as b\nclass CService(b.BaseService): pass\n",
      "pkg/__init__.py": "",
      "pkg/impl.py": "import rpyc\nclass Impl(rpyc.Service): pass\n",
      "pkg/d.py": "from .impl import Impl\nclass DService(Impl): pass\n",
      "e.py": "from pkg import impl\nclass EService(impl.Impl): pass\n",
    });
    expect(found.map((s) => [s.className, s.name, s.module, s.bases])).toEqual([
      ["AService", "A", "a.py", ["BaseService"]],
      ["BService", "B", "b.py", ["BaseService"]],
      ["BaseService", "BASE", "base.py", []],
      ["CService", "C", "c.py", ["BaseService"]],
      ["DService", "D", "pkg/d.py", ["Impl"]],
      ["EService", "E", "e.py", ["Impl"]],
      ["Impl", "IMPL", "pkg/impl.py", []],
    ]);
    expect(found[0]!.methods.map((m) => [m.name, m.declaredIn])).toEqual([["ping", "BaseService"]]);
  });

  it("merges members along the MRO: overrides win, declaredIn names the declaring class, a diamond is linearised", async () => {
    const found = await services({
      "svc.py": [
        "import rpyc",
        "class Base(rpyc.Service):",
        "    def exposed_a(self) -> int: ...",
        "    def exposed_b(self) -> int: ...",
        "class Left(Base):",
        "    def exposed_b(self) -> str: ...",
        "class Right(Base):",
        "    def exposed_b(self) -> bytes: ...",
        "    exposed_c: bool = True",
        "class S(Left, Right):",
        "    def exposed_a(self) -> None: ...",
      ].join("\n"),
    });
    const s = found.find((x) => x.className === "S")!;
    expect(s.bases).toEqual(["Left", "Right", "Base"]);
    expect(s.methods.map((m) => [m.name, m.declaredIn, m.returns])).toEqual([
      ["a", "S", NULL],
      ["b", "Left", STR],
    ]);
    expect(s.attributes.map((a) => [a.name, a.declaredIn])).toEqual([["c", "Right"]]);
  });
});

describe("Python services: members", () => {
  it("exposed methods, static and class methods, @property getters and class attributes; nothing else", async () => {
    const svc = await service(
      [
        "import rpyc",
        "class S(rpyc.Service):",
        "    exposed_plain = 43",
        "    exposed_typed: int = 43",
        "    exposed_declared: str",
        "    hidden = 1",
        "    def on_connect(self, conn): pass",
        "    def exposed_method(self, a: int) -> str: ...",
        "    @staticmethod",
        "    def exposed_static(a: int) -> int: ...",
        "    @classmethod",
        "    def exposed_klass(cls, a: int) -> int: ...",
        "    @property",
        "    def exposed_prop(self) -> bool: ...",
        "    @exposed_prop.setter",
        "    def exposed_prop(self, value: bool) -> None: ...",
        "    def get_question(self) -> str: ...",
        "    async def exposed_later(self) -> int: ...",
        "    class exposed_Nested:",
        '        """A class the client may instantiate."""',
      ].join("\n"),
    );
    expect(svc.methods.map((m) => [m.name, m.member, m.params.map((p) => p.name), m.returns, m.async])).toEqual([
      ["klass", "exposed_klass", ["a"], INT, false],
      // Python RPyC does not await coroutines: the call returns the coroutine object.
      ["later", "exposed_later", [], netref("builtins.coroutine"), false],
      ["method", "exposed_method", ["a"], STR, false],
      ["static", "exposed_static", ["a"], INT, false],
    ]);
    expect(svc.methods.find((m) => m.name === "later")!.doc).toMatch(/does not await it/);
    // No hint, no guess: the literal 43 is not taken as a type.
    expect(svc.attributes.map((a) => [a.name, a.type, a.kind, a.readonly])).toEqual([
      ["Nested", netref("builtins.type"), "property", true],
      ["declared", STR, "property", true],
      ["plain", UNKNOWN, "property", true],
      ["prop", { kind: "boolean" }, "getter", true],
      ["typed", INT, "property", true],
    ]);
  });

  it("parameters: self dropped, defaults optional with their source text, *args a rest parameter, keyword-only and **kwargs apart (and documented)", async () => {
    const svc = await service(
      [
        "import rpyc",
        "class S(rpyc.Service):",
        "    def exposed_f(self, a, b: int, /, c=0, d: str = 'x', *args: float, k: int, m=None, **kw):",
        '        """Does f."""',
        "    def exposed_g(this, *, only: bool = False): ...",
      ].join("\n"),
    );
    const [f, g] = svc.methods;
    expect(f!.params).toEqual([
      { name: "a", type: UNKNOWN, optional: false, rest: false },
      { name: "b", type: INT, optional: false, rest: false },
      { name: "c", type: UNKNOWN, optional: true, rest: false, default: "0" },
      { name: "d", type: STR, optional: true, rest: false, default: "'x'" },
      { name: "args", type: { kind: "array", element: { kind: "number" } }, optional: false, rest: true },
    ]);
    expect(f!.returns).toEqual(UNKNOWN);
    expect(f!.keywordOnly).toEqual([
      { name: "k", type: INT, optional: false, rest: false },
      { name: "m", type: UNKNOWN, optional: true, rest: false, default: "None" },
    ]);
    expect(f!.keywordRest).toEqual({ name: "kw", type: UNKNOWN, optional: true, rest: true });
    expect(f!.doc).toBe(
      "Does f.\n\nKeyword-only: `k` (int), required, `m` = None; pass them as the last argument: kwargs({ ... }).\n\nTakes **kw: further keyword arguments go in the same kwargs({ ... }).",
    );
    expect(g!.params).toEqual([]);
    expect(g!.keywordOnly).toEqual([{ name: "only", type: { kind: "boolean" }, optional: true, rest: false, default: "False" }]);
    expect(g!.keywordRest).toBeUndefined();
    expect(g!.doc).toMatch(/^Keyword-only: `only` \(bool\) = False;/);
    // Keyword arguments typed like arguments (the client sends them); a method without any has neither field.
    const h = (
      await service("import rpyc\nclass S(rpyc.Service):\n    def exposed_h(self, *, xs: list[int], **more: str): ...\n    def exposed_i(self, a): ...\n")
    ).methods;
    expect(h[0]!.keywordOnly![0]!.type).toEqual(union({ kind: "array", element: INT }, netref("builtins.list", INT)));
    expect(h[0]!.keywordRest!.type).toEqual(STR);
    expect(Object.keys(h[1]!)).not.toContain("keywordOnly");
    expect(Object.keys(h[1]!)).not.toContain("keywordRest");
  });

  it("docstrings of classes, methods and attributes are cleaned like inspect.cleandoc", async () => {
    const doc = '"""  First line.\n\n        Indented body\n          more indented\n\t\n    """';
    const svc = await service(
      `import rpyc\nclass S(rpyc.Service):\n    ${doc}\n    exposed_x: int = 1\n    """The x."""\n    def exposed_f(self):\n        ${doc}\n    def exposed_g(self):\n        r'''raw \\n text'''\n`,
    );
    const cleandoc = execFileSync("/usr/bin/python3", ["-c", `import inspect; print(inspect.cleandoc(${doc}), end="")`], { encoding: "utf8" });
    expect(svc.doc).toBe(cleandoc);
    expect(svc.methods[0]!.doc).toBe(cleandoc);
    expect(svc.methods[1]!.doc).toBe("raw \\n text");
    expect(svc.attributes[0]!.doc).toBe("The x.");
  });

  it("ALIASES: a literal list or tuple names the service (upper-cased, first formal), inherited by subclasses; else the class name minus SERVICE", async () => {
    const { model, diagnostics: found } = await extractPythonFromTexts({
      "svc.py": [
        "import rpyc",
        "class FloopService(rpyc.Service):",
        "    ALIASES = ['floop', \"bloop\"]",
        "class Sub(FloopService):",
        "    ALIASES = ('sub',)",
        "class Heir(FloopService): pass",
        "class MyService(rpyc.Service): pass",
        "class Plain(rpyc.Service): pass",
      ].join("\n"),
    });
    expect(model.services.map((s) => [s.className, s.name, s.aliases, s.explicitAliases])).toEqual([
      ["FloopService", "FLOOP", ["FLOOP", "BLOOP"], true],
      ["Heir", "FLOOP", ["FLOOP", "BLOOP"], true],
      ["MyService", "MY", ["MY"], false],
      ["Plain", "PLAIN", ["PLAIN"], false],
      ["Sub", "SUB", ["SUB"], true],
    ]);
    // As in Python, Heir inherits FloopService's ALIASES: both answer to FLOOP and BLOOP.
    expect(found.map((d) => [d.code, d.location.line, d.message])).toEqual([
      ["RPYC_DUPLICATE_SERVICE_NAME", 6, "service Heir's name 'BLOOP' is already used by FloopService (svc.py:2:7)"],
      ["RPYC_DUPLICATE_SERVICE_NAME", 6, "service Heir's name 'FLOOP' is already used by FloopService (svc.py:2:7)"],
    ]);
  });
});

describe("Python services: hints -> WireTypes (as Python RPyC sends values)", () => {
  it.each<[string, WireType, WireType?]>([
    ["int", INT],
    ["float", { kind: "number" }],
    ["str", STR],
    ["bytes", { kind: "bytes" }],
    ["bool", { kind: "boolean" }],
    ["None", NULL],
    ["Any", UNKNOWN],
    ["typing.Any", UNKNOWN],
    ["object", UNKNOWN],
    ["Optional[int]", union({ kind: "number" }, { kind: "bigint" }, NULL)],
    ["typing.Optional[str]", union(STR, NULL)],
    ["str | None", union(STR, NULL)],
    ["Union[int, str]", union({ kind: "number" }, { kind: "bigint" }, STR)],
    ["Union[str, Any]", UNKNOWN],
    ["tuple[int, str]", { kind: "tuple", elements: [INT, STR], minLength: 2 }],
    ["Tuple[str]", { kind: "tuple", elements: [STR], minLength: 1 }],
    ["tuple[int, ...]", { kind: "array", element: INT }],
    ["tuple[()]", { kind: "tuple", elements: [], minLength: 0 }],
    ["tuple", { kind: "array", element: UNKNOWN }],
    ["list[int]", netref("builtins.list", INT), union({ kind: "array", element: INT }, netref("builtins.list", INT))],
    ["List[str]", netref("builtins.list", STR), union({ kind: "array", element: STR }, netref("builtins.list", STR))],
    ["list", netref("builtins.list"), union({ kind: "array", element: UNKNOWN }, netref("builtins.list"))],
    // Items of a list netref as Python sends them (the inner list a netref), of an array as the client sends them.
    [
      "list[list[int]]",
      netref("builtins.list", netref("builtins.list", INT)),
      union(
        { kind: "array", element: union({ kind: "array", element: INT }, netref("builtins.list", INT)) },
        netref("builtins.list", netref("builtins.list", INT)),
      ),
    ],
    ["Sequence[str]", union({ kind: "array", element: STR }, netref("builtins.list", STR))],
    ["dict[str, int]", netref("builtins.dict", STR, INT), union(netref("builtins.dict", STR, INT), netref("rpyc_ts.Map", STR, INT))],
    ["Dict[str, int]", netref("builtins.dict", STR, INT), union(netref("builtins.dict", STR, INT), netref("rpyc_ts.Map", STR, INT))],
    ["typing.Mapping[str, int]", netref("builtins.dict", STR, INT), union(netref("builtins.dict", STR, INT), netref("rpyc_ts.Map", STR, INT))],
    // A Map the client sends holds what the client puts in it (an array where Python reads a list).
    [
      "dict[str, list[int]]",
      netref("builtins.dict", STR, netref("builtins.list", INT)),
      union(
        netref("builtins.dict", STR, netref("builtins.list", INT)),
        netref("rpyc_ts.Map", STR, union({ kind: "array", element: INT }, netref("builtins.list", INT))),
      ),
    ],
    ["dict", netref("builtins.dict"), union(netref("builtins.dict"), netref("rpyc_ts.Map"))],
    ["set[int]", netref("builtins.set", INT), union(netref("builtins.set", INT), netref("rpyc_ts.Set", INT))],
    // By value both ways, as the runtime's FrozenSet (a pseudo-netref: see PY_FROZENSET).
    ["frozenset[int]", netref("builtins.frozenset", INT)],
    ["typing.FrozenSet[tuple[str, int]]", netref("builtins.frozenset", { kind: "tuple", elements: [STR, INT], minLength: 2 })],
    ["frozenset", netref("builtins.frozenset")],
    ["Literal['a', 1, True, None]", union({ kind: "literal", value: "a" }, { kind: "literal", value: 1 }, { kind: "literal", value: true }, NULL)],
    ["'int'", INT],
    ['"Optional[list[int]]"', union(netref("builtins.list", INT), NULL), union({ kind: "array", element: INT }, netref("builtins.list", INT), NULL)],
    ["Annotated[int, 'meta']", INT],
    ["ClassVar[str]", STR],
    ["NotRequired[int]", INT],
    ["typing.Required[list[str]]", netref("builtins.list", STR), union({ kind: "array", element: STR }, netref("builtins.list", STR))],
    ["Iterator[int]", netref("collections.abc.Iterator")],
    ["typing.Generator[int, None, None]", netref("collections.abc.Generator")],
    ["Iterable[str]", netref("collections.abc.Iterable"), union({ kind: "array", element: STR }, netref("collections.abc.Iterable"))],
  ])("%s", async (text, result, argument = result) => {
    const prelude = "from typing import *\nimport typing";
    expect(await hint(text, prelude)).toEqual({ argument, result });
  });

  it("Callable[[A, B], R]: Python calls it with A, B (typed as results) and gets R back; Callable[..., R] takes anything", async () => {
    const { argument, result } = await hint("Callable[[int, list[str]], None]", "from typing import Callable");
    expect(argument).toEqual({
      kind: "function",
      params: [
        { name: "arg0", type: INT, optional: false, rest: false },
        { name: "arg1", type: netref("builtins.list", STR), optional: false, rest: false },
      ],
      returns: { kind: "undefined" },
    });
    // Returned to the client, the function is called with arguments the client sends.
    expect(result).toEqual({
      ...argument,
      params: [
        argument.kind === "function" ? argument.params[0] : undefined,
        { name: "arg1", type: union({ kind: "array", element: STR }, netref("builtins.list", STR)), optional: false, rest: false },
      ],
    });
    expect((await hint("typing.Callable[..., int]", "import typing")).result).toEqual({
      kind: "function",
      params: [{ name: "args", type: { kind: "array", element: UNKNOWN }, optional: false, rest: true }],
      returns: INT,
    });
  });

  it("dataclasses, TypedDicts, services and other classes of the given files", async () => {
    const prelude = [
      "import dataclasses, typing, rpyc",
      "from dataclasses import dataclass",
      "from typing import TypedDict",
      "@dataclass",
      "class A:",
      "    x: int",
      "@dataclasses.dataclass(frozen=True)",
      "class B:",
      "    y: str",
      "class Movie(TypedDict):",
      "    title: str",
      "class Sequel(Movie): pass",
      "class Other(rpyc.Service): pass",
      "class Plain: pass",
    ].join("\n");
    const source = `${prelude}\nclass S(rpyc.Service):\n    def exposed_f(self, a: A, b: 'B', m: Movie, q: Sequel, o: Other, p: Plain) -> tuple[A, Movie, Other]: ...\n`;
    const svc = (await services({ "svc.py": source })).find((s) => s.className === "S")!;
    // Dataclasses' and TypedDicts' fields are object TypeDefs: the attributes of a dataclass
    // netref, the keys of a TypedDict's dict netref (not a by-value encoding). A TypedDict
    // subclass has its bases' keys first.
    const { model } = await extractPythonFromTexts({ "svc.py": source });
    const title = { name: "title", type: STR, optional: false, readonly: false };
    expect(model.types).toEqual([
      { kind: "object", name: "A", fields: [{ name: "x", type: INT, optional: false, readonly: false }], location: { file: "svc.py", line: 5, column: 7 } },
      { kind: "object", name: "B", fields: [{ name: "y", type: STR, optional: false, readonly: false }], location: { file: "svc.py", line: 8, column: 7 } },
      { kind: "object", name: "Movie", fields: [title], location: { file: "svc.py", line: 10, column: 7 } },
      { kind: "object", name: "Sequel", fields: [title], location: { file: "svc.py", line: 12, column: 7 } },
    ]);
    const f = svc.methods[0]!;
    const typedDict = (name: string): WireType => netref("builtins.dict", { kind: "ref", name });
    expect(f.params.map((p) => p.type)).toEqual([
      netref("A"),
      netref("B"),
      union(typedDict("Movie"), netref("rpyc_ts.Map")),
      union(typedDict("Sequel"), netref("rpyc_ts.Map")),
      netref("Other"),
      netref("Plain"),
    ]);
    expect(f.returns).toEqual({ kind: "tuple", elements: [netref("A"), typedDict("Movie"), netref("Other")], minLength: 3 });
  });

  it("TypedDict keys: total=False makes them optional unless Required[...], NotRequired[...] makes one optional, each class its own totality", async () => {
    const { model, diagnostics: found } = await extractPythonFromTexts({
      "svc.py": [
        "import rpyc, typing",
        "from typing import TypedDict, NotRequired, Required",
        "class Base(TypedDict, total=False):",
        "    a: int",
        "    b: Required[str]",
        "    c: 'Required[str]'",
        "class Full(Base):",
        "    d: list[int]",
        "    e: NotRequired[int]",
        "    f: typing.NotRequired['list[str]']",
        '    """The f key."""',
        "class S(rpyc.Service):",
        "    def exposed_f(self) -> Full: ...",
      ].join("\n"),
    });
    expect(found).toEqual([]);
    const fields = (name: string): [string, WireType, boolean][] => {
      const def = model.types.find((t) => t.name === name);
      return def?.kind === "object" ? def.fields.map((f) => [f.name, f.type, f.optional]) : [];
    };
    expect(fields("Full")).toEqual([
      ["a", INT, true],
      ["b", STR, false],
      ["c", STR, false],
      ["d", netref("builtins.list", INT), false],
      ["e", INT, true],
      ["f", netref("builtins.list", STR), true],
    ]);
    expect(model.types.map((t) => t.name)).toEqual(["Full"]);
    const full = model.types[0]!;
    expect(full.kind === "object" ? full.fields[5]!.doc : undefined).toBe("The f key.");
  });

  it("type aliases and classes imported from another given file", async () => {
    const found = await services({
      "types_.py": "from dataclasses import dataclass\nUserId = int\nNames = list[str]\n@dataclass\nclass User:\n    id: UserId\n",
      "svc.py":
        "import rpyc\nfrom types_ import User, UserId, Names\nimport types_\nclass S(rpyc.Service):\n    def exposed_f(self, u: UserId) -> tuple[User, types_.User, Names]: ...\n",
    });
    const f = found[0]!.methods[0]!;
    expect(f.params[0]!.type).toEqual(INT);
    expect(f.returns).toEqual({ kind: "tuple", elements: [netref("User"), netref("User"), netref("builtins.list", STR)], minLength: 3 });
  });
});

describe("Python services: diagnostics with file:line:col", () => {
  it("an unsupported hint is RPYC_UNSUPPORTED_TYPE at the hint (also inside a forward reference), never silent", async () => {
    const found = await diagnostics({
      "svc.py": [
        "import rpyc, datetime",
        "from typing import TypeVar",
        "T = TypeVar('T')",
        "class S(rpyc.Service):",
        "    def exposed_f(self, when: datetime.datetime) -> 'complex': ...",
        "    exposed_g: Optional[int, str] = None",
        "    def exposed_h(self, x: tuple[int, ..., str]) -> T: ...",
        "    def exposed_i(self) -> 'not a type(': ...",
      ].join("\n"),
    });
    expect(found).toEqual([
      "svc.py:5:31: error RPYC_UNSUPPORTED_TYPE: hint 'datetime.datetime' names a type outside the given sources\n  hint: add the file that defines it to rpyc-gen's sources, or hint Any (its instances arrive as netrefs)",
      "svc.py:5:53: error RPYC_UNSUPPORTED_TYPE: hint 'complex' cannot be described\n  hint: use a supported hint (int, float, str, bytes, bool, None, Optional, Union, list, tuple, dict, set, Callable, Any, a dataclass, a TypedDict or a class of the given files)",
      "svc.py:6:16: error RPYC_UNSUPPORTED_TYPE: Optional takes one type argument, got 2\n  hint: use a supported hint (int, float, str, bytes, bool, None, Optional, Union, list, tuple, dict, set, Callable, Any, a dataclass, a TypedDict or a class of the given files)",
      "svc.py:7:28: error RPYC_UNSUPPORTED_TYPE: '...' may only follow the single element type of tuple[T, ...]\n  hint: use a supported hint (int, float, str, bytes, bool, None, Optional, Union, list, tuple, dict, set, Callable, Any, a dataclass, a TypedDict or a class of the given files)",
      "svc.py:7:53: error RPYC_UNSUPPORTED_TYPE: type variable T cannot be described (generic members are not supported)\n  hint: use a concrete type, or Any",
      "svc.py:8:28: error RPYC_UNSUPPORTED_TYPE: forward reference 'not a type(' is not a type expression\n  hint: use a supported hint (int, float, str, bytes, bool, None, Optional, Union, list, tuple, dict, set, Callable, Any, a dataclass, a TypedDict or a class of the given files)",
    ]);
  });

  it("a dataclass and a TypedDict of one name (each becomes a stub interface) are RPYC_UNSUPPORTED_TYPE at the second use", async () => {
    expect(
      await diagnostics({
        "a.py": "from dataclasses import dataclass\n@dataclass\nclass Item:\n    name: str\n",
        "b.py": "from typing import TypedDict\nclass Item(TypedDict):\n    count: int\n",
        "svc.py": "import rpyc, a, b\nclass S(rpyc.Service):\n    def exposed_f(self) -> a.Item: ...\n    def exposed_g(self) -> b.Item: ...\n",
      }),
    ).toEqual([
      "svc.py:4:28: error RPYC_UNSUPPORTED_TYPE: two classes with fields are named Item (a.py and b.py)\n  hint: rename one of them: the generated client declares one interface per name",
    ]);
  });

  it("a non-literal ALIASES is RPYC_NON_LITERAL_ALIASES at its value", async () => {
    expect(await diagnostics({ "svc.py": "import rpyc\nNAMES = ['a']\nclass S(rpyc.Service):\n    ALIASES = NAMES + ['b']\n" })).toEqual([
      "svc.py:4:15: error RPYC_NON_LITERAL_ALIASES: ALIASES must be a literal list or tuple of strings, found 'NAMES + ['b']'\n  hint: write the names out: ALIASES = [\"floop\", \"bloop\"]",
    ]);
  });

  it("two services with one name, a syntax error, and sources that match nothing", async () => {
    expect(
      await diagnostics({ "a.py": "import rpyc\nclass EchoService(rpyc.Service): pass\n", "b.py": "import rpyc\nclass Echo(rpyc.Service): pass\n" }),
    ).toEqual([
      "a.py:2:7: error RPYC_DUPLICATE_SERVICE_NAME: service EchoService's name 'ECHO' is already used by Echo (b.py:2:7)\n  hint: give one of them a different name with ALIASES = [\"...\"]",
    ]);
    expect(await diagnostics({ "bad.py": "import rpyc\nclass S(rpyc.Service):\n    def exposed_f(self:\n" })).toEqual([
      expect.stringMatching(/^bad\.py:3:\d+: error RPYC_PYTHON_SYNTAX_ERROR: invalid Python syntax near /),
    ]);
    const { diagnostics: none } = await extractPythonModel({ sources: ["no/such/*.py"], root: "/nonexistent-root" });
    expect(none.map(formatDiagnostic)).toEqual([
      "no/such/*.py:1:1: error RPYC_NO_INPUT: 'no/such/*.py' matches no Python source file\n  hint: pass the .py files (or directories, or globs) that declare your services, relative to the project root",
    ]);
  });
});

describe("the Python fixtures' wire schemas", () => {
  const schemas = [MY_SERVICE_SCHEMA, SHOP_SERVICE_SCHEMA, INVENTORY_SERVICE_SCHEMA, BASE_SERVICE_SCHEMA, AUDITED_SCHEMA];
  const kinds = (type: WireType): string[] => {
    switch (type.kind) {
      case "array":
        return [type.kind, ...kinds(type.element)];
      case "tuple":
        return [type.kind, ...type.elements.flatMap(kinds)];
      case "union":
        return [type.kind, ...type.members.flatMap(kinds)];
      case "function":
        return [type.kind, ...type.params.flatMap((p) => kinds(p.type)), ...kinds(type.returns)];
      default:
        return [type.kind];
    }
  };
  const everyType = schemas.flatMap((schema) => [
    ...Object.values(schema.methods).flatMap((m) => [m.returns, ...m.params.map((p) => p.type)]),
    ...Object.values(schema.attributes).map((a) => a.type),
  ]);

  it("hold no by-value conversion Python RPyC does not make (objects, maps, dates, named types)", () => {
    const used = new Set(everyType.flatMap(kinds));
    for (const kind of ["object", "map", "date", "ref", "enum"]) expect(used.has(kind), kind).toBe(false);
    expect(schemas.every((schema) => Object.keys(schema.types).length === 0)).toBe(true);
  });

  it("carry no netref type arguments: they are the IDE's (a TypedDict's ref names no schema type), the runtime never looks inside a netref", () => {
    expect(JSON.stringify([...schemas])).not.toContain('"args"');
    expect(SHOP_SERVICE_SCHEMA.methods["stock"]!.returns).toEqual(netref("builtins.dict"));
  });

  it("let a frozenset (by value, typed as a pseudo-netref) through unchanged both ways", () => {
    const flags = new FrozenSet(["open"]);
    expect(decodeValue(SHOP_SERVICE_SCHEMA.methods["flags"]!.returns, flags, SHOP_SERVICE_SCHEMA.types, "flags() result", 0, null)).toBe(flags);
    const common = SHOP_SERVICE_SCHEMA.methods["common"]!;
    const encoded = encodeArguments(common, [flags, new FrozenSet<string>()], SHOP_SERVICE_SCHEMA.types, "common");
    expect(encoded[0]).toBe(flags);
    expect(encoded[1]).toBeInstanceOf(FrozenSet);
  });

  it("let a netref through unchanged wherever a result may be one", () => {
    const netref = Object.assign(() => {}, { marker: "a netref stand-in" });
    for (const schema of schemas) {
      for (const [name, method] of Object.entries(schema.methods)) {
        if (!kinds(method.returns).some((k) => k === "netref" || k === "unknown" || k === "function")) continue;
        expect(decodeValue(method.returns, netref, schema.types, `${name}() result`, 0, null), `${schema.className}.${name}`).toBe(netref);
      }
    }
  });
});

describe("rpyc-gen with Python sources", () => {
  const REPO = fileURLToPath(new URL("../../", import.meta.url));
  const scratch = mkdtempSync(path.join(REPO, ".tmp-pygen-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const io = (): CliIO & { out: string; err: string } => {
    const captured = {
      cwd: REPO,
      out: "",
      err: "",
      interactive: false,
      stdout(text: string) {
        captured.out += text;
      },
      stderr(text: string) {
        captured.err += text;
      },
    };
    return captured;
  };
  const out = path.relative(REPO, path.join(scratch, "out"));

  it("compiles a .py file (no dispatch table: Python serves it), then finds it up to date; a glob of .py works too", async () => {
    const first = io();
    expect((await run(["fixtures/python-seed/my_service.py", "-o", out], first)).code).toBe(EXIT.OK);
    expect(first.out).toMatch(/MyService -> .*\(3 written/);
    expect(readFileSync(path.join(REPO, out, "my-service.client.ts"), "utf8")).toBe(
      readFileSync(path.join(REPO, "fixtures/python-seed/expected/my-service.client.ts"), "utf8"),
    );
    const check = io();
    expect((await run(["fixtures/python-seed/*.py", "-o", out, "--check"], check)).code).toBe(EXIT.OK);
  });

  it("refuses .py and .ts sources in one run, and --project with Python sources, as usage errors", async () => {
    const mixed = io();
    expect((await run(["fixtures/python-seed/my_service.py", "examples/seed-service.ts", "-o", out], mixed)).code).toBe(EXIT.USAGE);
    expect(mixed.err).toContain("cannot be compiled in one run");
    const project = io();
    expect((await run(["fixtures/python-seed/my_service.py", "-o", out, "--project", "tsconfig.json"], project)).code).toBe(EXIT.USAGE);
  });

  it("--watch re-extracts the Python sources when one changes", async () => {
    const source = path.join(scratch, "calc_service.py");
    const body = (extra: string): string =>
      `import rpyc\nclass CalcService(rpyc.Service):\n    def exposed_add(self, a: int, b: int) -> int:\n        return a + b\n${extra}`;
    writeFileSync(source, body(""));
    const watched = path.join(out, "watched");
    const console = io();
    const { code, watcher } = await run([path.relative(REPO, source), "-o", watched, "--watch"], console);
    expect(code).toBe(EXIT.OK);
    try {
      const regenerated = watcher!.nextRun();
      writeFileSync(source, body("    def exposed_sub(self, a: int, b: int) -> int:\n        return a - b\n"));
      expect(await regenerated).toBe(EXIT.OK);
      expect(readFileSync(path.join(REPO, watched, "calc-service.client.ts"), "utf8")).toContain(
        "exposed_sub(a: number | bigint, b: number | bigint): number | bigint;",
      );
    } finally {
      await watcher!.close();
    }
  });

  it("exits 2 with the diagnostics of an unsupported hint and writes nothing; 3 when a .py source matches nothing", async () => {
    const source = path.join(scratch, "bad_service.py");
    writeFileSync(source, "import rpyc\nclass BadService(rpyc.Service):\n    def exposed_f(self) -> complex: ...\n");
    const bad = io();
    expect((await run([path.relative(REPO, source), "-o", path.join(out, "bad")], bad)).code).toBe(EXIT.DIAGNOSTICS);
    expect(bad.err).toMatch(/bad_service\.py:3:28: error RPYC_UNSUPPORTED_TYPE: hint 'complex'/);
    expect(existsSync(path.join(REPO, out, "bad"))).toBe(false);
    const none = io();
    expect((await run(["nowhere/*.py", "-o", out], none)).code).toBe(EXIT.USAGE);
    expect(none.err).toContain("RPYC_NO_INPUT");
  });
});

describe("Python stubs: dataclass and TypedDict interfaces across services", () => {
  it("the first stub (className order) that needs one declares it, the others import it, index.ts re-exports it once", async () => {
    const { model, diagnostics: found } = await extractPythonFromTexts({
      "shared.py":
        "from dataclasses import dataclass\nfrom typing import TypedDict\n@dataclass\nclass Item:\n    name: str\nclass Stock(TypedDict):\n    count: int\n",
      "a.py":
        "import rpyc\nfrom shared import Item, Stock\nclass AService(rpyc.Service):\n    def exposed_item(self) -> Item: ...\n    def exposed_stock(self) -> Stock: ...\n",
      "b.py":
        "import rpyc\nfrom shared import Item, Stock\nclass BService(rpyc.Service):\n    def exposed_items(self) -> list[Item]: ...\n    def exposed_stocks(self) -> dict[str, Stock]: ...\n",
    });
    expect(found).toEqual([]);
    const files = new Map(emitAll(model, { root: "/src", outDir: "/src/out" }).map((f) => [f.path, f.contents]));
    const a = files.get("a-service.client.ts")!;
    const b = files.get("b-service.client.ts")!;
    expect(a).toContain("export interface Item {");
    expect(a).toContain("export interface Stock {");
    expect(a).toContain("exposed_stock(): RemoteTypedDict<Stock>;");
    expect(b).not.toContain("export interface Item");
    expect(b).toContain('import type { Item, Stock } from "./a-service.client.js";');
    expect(b).toContain("exposed_items(): RemoteList<RemoteInstance<Item>>;");
    expect(b).toContain("exposed_stocks(): RemoteDict<string, RemoteTypedDict<Stock>>;");
    const index = files.get("index.ts")!;
    expect(index.match(/type Item,/g)).toHaveLength(1);
    expect(index.match(/type Stock,/g)).toHaveLength(1);
  });
});

describe("Python stubs: keyword arguments' type", () => {
  it("keyword-only names (optional with a default); **extra adds an index signature wide enough for the named ones", async () => {
    const { model } = await extractPythonFromTexts({
      "svc.py": [
        "import rpyc",
        "class S(rpyc.Service):",
        "    def exposed_f(self, a: int, *, n: int, tag: str = '', **more: str) -> None: ...",
        "    def exposed_g(self, *, flag: bool = False, **rest) -> None: ...",
        "    def exposed_h(self, a: int, b: int = 1) -> None: ...",
      ].join("\n"),
    });
    const stub = emitAll(model, { root: "/src", outDir: "/src/out" }).find((f) => f.path === "s.client.ts")!.contents;
    expect(stub).toContain(
      'f(...args: KeywordCall<Parameters<CompiledRemote<S>["f"]>, { readonly n: number | bigint; readonly tag?: string; readonly [key: string]: string | number | bigint | undefined }>): Promise<null>;',
    );
    expect(stub).toContain("g(...args: KeywordCall<[], { readonly flag?: boolean; readonly [key: string]: unknown }>): Promise<null>;");
    // Without keyword parameters, one signature only.
    expect(stub.match(/^ {2}h\(/gm)).toHaveLength(1);
  });
});
