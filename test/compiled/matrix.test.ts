// How every kind of value travels in every pairing of server and client (README: "How values
// travel"), checked at run time; test/compiled/matrix.test-d.ts pins each client's static
// types. The service is fixtures/matrix/matrix-service.ts (its rpyc-gen output beside it) and
// its Python twin fixtures/matrix-python/matrix_service.py (with the stub compiled from it).
//
// Servers: a plain ThreadedServer, one with the dispatch tables, Python RPyC 5.3.
// Clients: the generated stub, connect<Class>(), connect<Interface>(), untyped connect(), and
// a Python RPyC client. The rule: plain data (an object literal, Map, Set, Date) travels by
// value only between the generated stub and a server with its dispatch table; everywhere else
// as RPyC sends objects, by reference (a plain object reads as a read-only dict). Where a
// pairing cannot give the declared type, the call fails naming the cause and the fix.

import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isNetref, toArray, type Connection, type RemoteData, type RemoteDict, type RemoteSet, type ThreadedServer } from "../../runtime/index.js";
import { ChildServiceDispatch } from "../../fixtures/matrix/expected/child-service.dispatch.js";
import { connectMatrix } from "../../fixtures/matrix/expected/index.js";
import { MatrixServiceDispatch } from "../../fixtures/matrix/expected/matrix-service.dispatch.js";
import { connectMatrix as connectPythonMatrix } from "../../fixtures/matrix-python/expected/index.js";
import { MatrixService } from "../../fixtures/matrix/matrix-service.js";
import { runPythonClient, startPython, WITH_PYTHON, type PythonProcess } from "../helpers/python.js";
import { connectTo, serve } from "../helpers/servers.js";
import type { MatrixApi } from "./matrix-api.js";

const PY_SERVICE = fileURLToPath(new URL("../../fixtures/matrix-python/matrix_service.py", import.meta.url));

/** What a cell expects of a result. */
type Expect =
  | { readonly value: unknown }
  /** A netref read as a read-only dict: these fields (and no others). */
  | { readonly data: Readonly<Record<string, unknown>> }
  /** A netref to a dict/Map: reading this key gives this value. */
  | { readonly dict: readonly [string, unknown] }
  /** A netref to a set: it holds this item. */
  | { readonly set: string }
  /** A netref nothing is typed on (a Date, a datetime). */
  | { readonly opaque: true }
  /** A netref to an object with methods: calling `increment()` fails naming allow_public_attrs. */
  | { readonly publicRefused: true }
  /** A netref to a service: `hello()` answers. */
  | { readonly service: string }
  /** The call fails with this error. */
  | { readonly error: RegExp }
  /** Not part of this column: see the test that names it. */
  | { readonly skip: true };

type Root = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface Row {
  readonly method: string;
  readonly args?: (root: Root) => unknown[];
  /** The generated stub and a server with the dispatch table. */
  readonly compiled: Expect;
  /** Any client without the schema (class, interface, untyped), either rpyc-ts server. */
  readonly byReference: Expect;
  /** Python RPyC serving the Python twin, to the stub compiled from it and to untyped clients. */
  readonly python: Expect;
}

const NO_TABLE = /this server has no dispatch table for MatrixService.*serve it with \{ dispatch: MatrixServiceDispatch \}/;
const PERSON = { name: "Ada", age: 36, tags: ["math"] };
const WHEN = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

const ROWS: readonly Row[] = [
  { method: "number", compiled: { value: 1.5 }, byReference: { value: 1.5 }, python: { value: 1.5 } },
  { method: "bigint", compiled: { value: 2n ** 70n }, byReference: { value: 2n ** 70n }, python: { value: 2n ** 70n } },
  // A small bigint is an int on the wire: only the schema makes it a bigint again.
  { method: "few", compiled: { value: 5n }, byReference: { value: 5 }, python: { value: 5 } },
  { method: "text", compiled: { value: "text" }, byReference: { value: "text" }, python: { value: "text" } },
  {
    method: "bytes",
    compiled: { value: Uint8Array.of(1, 2, 3) },
    byReference: { value: Uint8Array.of(1, 2, 3) },
    python: { value: Uint8Array.of(1, 2, 3) },
  },
  { method: "flag", compiled: { value: true }, byReference: { value: true }, python: { value: true } },
  { method: "nothing", compiled: { value: null }, byReference: { value: null }, python: { value: null } },
  { method: "person", compiled: { value: PERSON }, byReference: { data: PERSON }, python: { data: PERSON } },
  // JavaScript arrays travel as tuples; a Python list by reference (the stub from Python types it RemoteList).
  { method: "numbers", compiled: { value: [1, 2, 3] }, byReference: { value: [1, 2, 3] }, python: { dict: ["0", 1] } },
  { method: "pair", compiled: { value: ["one", 1] }, byReference: { value: ["one", 1] }, python: { value: ["one", 1] } },
  {
    method: "scores",
    compiled: { value: new Map([["ada", 10]]) },
    byReference: { dict: ["ada", 10] },
    python: { dict: ["ada", 10] },
  },
  { method: "record", compiled: { value: { ada: 10 } }, byReference: { data: { ada: 10 } }, python: { dict: ["ada", 10] } },
  { method: "when", compiled: { value: WHEN }, byReference: { opaque: true }, python: { opaque: true } },
  // rpyc-gen has no wire type for a Set yet: the stub types it unknown and it travels by reference.
  { method: "letters", compiled: { set: "a" }, byReference: { set: "a" }, python: { set: "a" } },
  { method: "color", compiled: { value: "green" }, byReference: { value: "green" }, python: { value: "green" } },
  { method: "either", compiled: { value: "either" }, byReference: { value: "either" }, python: { value: "either" } },
  {
    method: "apply",
    args: () => [(x: number) => x + 1, 41],
    compiled: { value: 42 },
    byReference: { value: 42 },
    python: { value: 42 },
  },
  {
    method: "greet",
    args: () => [{ ...PERSON, nickname: "Countess" }],
    compiled: { value: "hello Ada (Countess)" },
    // From a client without the schema, plain data goes by reference: a compile error in the
    // class and interface forms (matrix.test-d.ts); its run-time fate is the test below.
    byReference: { skip: true },
    python: { value: "hello Ada (Countess)" },
  },
  { method: "counter", compiled: { publicRefused: true }, byReference: { publicRefused: true }, python: { publicRefused: true } },
  {
    method: "child",
    compiled: { service: "hello from the child" },
    byReference: { service: "hello from the child" },
    python: { service: "hello from the child" },
  },
];

/** Asserts that `call()` delivers what `expected` says. */
async function check(what: string, call: () => Promise<unknown>, expected: Expect): Promise<void> {
  if ("skip" in expected) return;
  if ("error" in expected) {
    await expect(call(), what).rejects.toThrow(expected.error);
    return;
  }
  const value = await call();
  if ("value" in expected) {
    expect(isNetref(value), `${what}: by value`).toBe(false);
    expect(value, what).toEqual(expected.value);
    return;
  }
  expect(isNetref(value), `${what}: by reference`).toBe(true);
  if ("data" in expected) {
    const data = value as RemoteData<Record<string, unknown>>;
    for (const [key, field] of Object.entries(expected.data)) {
      const item = await data.__getitem__(key);
      // A list field of a dict arrives by reference from Python, by value (a tuple) from rpyc-ts.
      if (isNetref(item)) expect(await (item as RemoteDict<number, unknown>).__len__(), `${what}[${key}]`).toBe((field as unknown[]).length);
      else expect(item, `${what}[${key}]`).toEqual(field);
    }
    expect(await data.__len__(), `${what}: len`).toBe(Object.keys(expected.data).length);
  } else if ("dict" in expected) {
    const [key, item] = expected.dict;
    const dict = value as RemoteDict<unknown, unknown>;
    expect(await dict.__getitem__(/^\d+$/.test(key) ? Number(key) : key), what).toBe(item);
  } else if ("set" in expected) {
    expect(await (value as RemoteSet<string>).__contains__(expected.set), what).toBe(true);
  } else if ("publicRefused" in expected) {
    await expect((value as Root)["increment"]!(), what).rejects.toThrow(/cannot access 'increment'/);
  } else if ("service" in expected) {
    expect(await (value as Root)["hello"]!(), what).toBe(expected.service);
  }
}

const opened: Connection<unknown>[] = [];
afterAll(async () => {
  await Promise.all(opened.map((conn) => conn.close()));
});

async function client<T>(made: Promise<Connection<T>>): Promise<Root> {
  const conn = await made;
  opened.push(conn as Connection<unknown>);
  return conn.root as unknown as Root;
}

async function runRow(root: Root, row: Row, expected: Expect, what: string): Promise<void> {
  await check(`${what}: ${row.method}()`, () => root[row.method]!(...(row.args?.(root) ?? [])), expected);
}

describe("rpyc-ts servers", () => {
  let plain: ThreadedServer;
  let compiled: ThreadedServer;
  beforeAll(async () => {
    plain = await serve(MatrixService);
    compiled = await serve(MatrixService, { dispatch: [MatrixServiceDispatch, ChildServiceDispatch] });
  });

  it("the generated stub and a server with the dispatch table: plain data by value", async () => {
    const root = await client(connectMatrix("127.0.0.1", compiled.port));
    for (const row of ROWS) await runRow(root, row, row.compiled, "stub x dispatch");
  });

  it("the generated stub and a server without the table: every call refused at once, naming the fix", async () => {
    const root = await client(connectMatrix("127.0.0.1", plain.port));
    for (const row of ROWS) await runRow(root, row, { error: NO_TABLE }, "stub x plain");
  });

  for (const [form, connectForm] of [
    ["connect<Class>()", (port: number) => connectTo<MatrixService>(port)],
    ["connect<Interface>()", (port: number) => connectTo<MatrixApi>(port)],
    ["untyped connect()", (port: number) => connectTo(port)],
  ] as const) {
    it(`${form}, either server: by reference, as RPyC sends objects`, async () => {
      for (const server of [plain, compiled]) {
        const root = await client(connectForm(server.port) as Promise<Connection<unknown>>);
        for (const row of ROWS) await runRow(root, row, row.byReference, `${form} x ${server === plain ? "plain" : "dispatch"}`);
      }
    });
  }

  it("plain data from a client without the schema: the dispatch table refuses it naming the fix; a server without one gets a reference", async () => {
    const refused = await client(connectTo(compiled.port));
    await expect(refused["greet"]!(PERSON)).rejects.toThrow(
      /expected Person, got a netref.*Plain data travels by value only from a client compiled with rpyc-gen/,
    );
    // Without a table nothing checks arguments (as in RPyC): the service's code meets a
    // reference where it declared a Person. Typed clients cannot send it (a compile error).
    const unchecked = await client(connectTo(plain.port));
    expect(await unchecked["greet"]!(PERSON)).toMatch(/^hello <attribute name of <netref/);
  });

  it.runIf(WITH_PYTHON)(
    "a Python client, either server: values by value, objects by reference (a plain object reads as a dict)",
    async () => {
      const expectedFor = (server: "plain" | "dispatch") => ({
        number: { value: 1.5 },
        bigint: { value: { int: String(2n ** 70n) } },
        few: { value: 5 },
        text: { value: "text" },
        bytes: { value: { bytes: [1, 2, 3] } },
        flag: { value: true },
        nothing: { value: null },
        person: { netref: { name: "Ada", len: 3, keys: ["age", "name", "tags"] } },
        numbers: { value: [1, 2, 3] },
        pair: { value: ["one", 1] },
        scores: { netref: { ada: 10, len: 1 } },
        record: { netref: { ada: 10, len: 1 } },
        when: { netref: "opaque" },
        letters: { netref: { has_a: true, len: 1 } },
        color: { value: "green" },
        either: { value: "either" },
        apply: { value: 42 },
        // A dict goes by reference: the dispatch table refuses it, naming the fix; without a
        // table nothing checks arguments (as in RPyC): the code meets a reference.
        greet:
          server === "dispatch"
            ? {
                error: [
                  "TypeError",
                  expect.stringMatching(/expected Person, got a netref.*Plain data travels by value only from a client compiled with rpyc-gen/),
                ],
              }
            : { value: expect.stringMatching(/^hello <attribute name of <netref \('builtins.dict'/) },
        // The tuple form of a Person is its compiled encoding: the dispatch table reads it.
        greet_tuple: server === "dispatch" ? { value: "hello Ada" } : { value: "hello undefined" },
        counter: { netref: { error: ["AttributeError", expect.stringMatching(/cannot access 'increment' \(.*allow_public_attrs/)] } },
        child: { netref: "hello from the child" },
      });
      expect(await runPythonClient("matrix_client.py", [String(plain.port)])).toEqual(expectedFor("plain"));
      expect(await runPythonClient("matrix_client.py", [String(compiled.port)])).toEqual(expectedFor("dispatch"));
    },
    60_000,
  );
});

describe.runIf(WITH_PYTHON)("Python RPyC serving the Python twin", () => {
  let python: PythonProcess;
  beforeAll(async () => {
    python = await startPython("serve_service_file.py", [PY_SERVICE, "MatrixService"]);
  }, 30_000);
  afterAll(async () => {
    await python?.stop();
  });

  it("the stub compiled from the Python source, and an untyped client: Python's values, its containers by reference", async () => {
    for (const root of [await client(connectPythonMatrix("127.0.0.1", python.port)), await client(connectTo(python.port))]) {
      for (const row of ROWS) await runRow(root, row, row.python, "python");
    }
  });

  it("connect<Class>() and connect<Interface>(): Python's values, as their types say (an array may be a RemoteList)", async () => {
    for (const [form, made] of [
      ["connect<Class>()", connectTo<MatrixService>(python.port)],
      ["connect<Interface>()", connectTo<MatrixApi>(python.port)],
    ] as const) {
      const root = await client(made as Promise<Connection<unknown>>);
      // greet() takes plain data: a compile error in these forms (matrix.test-d.ts).
      for (const row of ROWS) await runRow(root, row, "skip" in row.byReference ? row.byReference : row.python, `${form} x python`);
    }
  });

  it("toArray() gives an array's items from either server: Python's list by reference, rpyc-ts's tuple by value", async () => {
    const pythonConn = await connectTo<MatrixService>(python.port);
    opened.push(pythonConn as Connection<unknown>);
    const fromPython = pythonConn.root;
    expect(isNetref(await fromPython.numbers())).toBe(true);
    expect(await toArray(await fromPython.numbers())).toEqual([1, 2, 3]);
    const server = await serve(MatrixService);
    try {
      const conn = await connectTo<MatrixService>(server.port);
      opened.push(conn as Connection<unknown>);
      expect(await toArray(await conn.root.numbers())).toEqual([1, 2, 3]);
    } finally {
      await server.close();
    }
  });

  it("the stub compiled from the TypeScript source refuses a Python server at the first call, naming the fix", async () => {
    const root = await client(connectMatrix("127.0.0.1", python.port));
    const FOREIGN =
      /MatrixService here is served by a peer that is not rpyc-ts \(its class is matrix_service\.MatrixService.*Compile the client from the service's Python source/;
    for (const row of ROWS) await runRow(root, row, { error: FOREIGN }, "TypeScript stub x python");
  });
});

describe("chained and pipelined uses the caller never awaited", () => {
  it("surface through the promise the caller holds, never as an unhandled rejection", async () => {
    const server = await serve(MatrixService);
    const root = await client(connectTo<MatrixService>(server.port));
    const pending = root["person"]!() as unknown as Record<string, PromiseLike<unknown>>;
    // `.name` of a pending call is a pipelined read; the dict-like netref has no attribute `name`.
    await expect(Promise.resolve(pending["name"])).rejects.toThrow(/cannot access 'name'/);
    const failing = root["nope"]!() as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    await expect(failing["further"]!()).rejects.toThrow(/cannot access 'nope'/);
    // Vitest fails the run on an unhandled rejection: reaching the end is the assertion.
    await server.close();
  });
});

void path;
