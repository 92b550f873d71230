// Live interop, rpyc-ts client -> Python RPyC 5.3 server. The Python fixtures
// (test/interop/python/) serve on 127.0.0.1; each test connects with the TypeScript client
// and asserts on what it gets back and on what the Python side reports.

import { beforeAll, describe, expect, it } from "vitest";
import {
  AsyncResultTimeout,
  AttributeError,
  Complex,
  Ellipsis,
  Float,
  FrozenSet,
  KeyError,
  NetrefReleasedError,
  NotImplemented,
  PythonException,
  Service,
  Slice,
  ValueError,
  compare,
  dir,
  getitem,
  hash,
  isRemoteException,
  isTimeoutError,
  kwargs,
  len,
  release,
  repr,
  str,
  type Connection,
} from "../../runtime/index.js";
import type { MyService } from "../../examples/seed-service.js";
import { sessionOf } from "../../runtime/connection/connection.js";
import { requirePythonRpyc, startPython, type PythonProcess } from "../helpers/python.js";
import { connectTo, sleep } from "../helpers/servers.js";
import { ALL_TYPES, type Report, type Untyped } from "./shared.js";

/** The client side's own service: what the Python server reaches through conn.root. */
class ClientService extends Service {
  static override ALIASES = ["ts-client"];
  exposed_client_method(x: number): unknown[] {
    return ["client got", x * 2];
  }
  // The server passes its own function; calling it is a nested request.
  async exposed_apply(fn: (x: unknown) => Promise<unknown>, x: unknown): Promise<unknown> {
    return await fn(x);
  }
  hidden_method(): string {
    return "not reachable";
  }
}

/** A Report tuple from interop_server.exception_report_tuple, as an object. */
function report(value: unknown): Report {
  return Object.fromEntries(value as [string, unknown][]) as unknown as Report;
}

async function rejection(promise: Promise<unknown>): Promise<PythonException> {
  try {
    await promise;
  } catch (err) {
    return err as PythonException;
  }
  throw new Error("expected a rejection");
}

/** Polls an asynchronous condition (bounded) for effects that travel the network. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let py: PythonProcess;
let conn: Connection;
let root: Untyped;

beforeAll(async () => {
  requirePythonRpyc();
  py = await startPython("interop_server.py");
  conn = await connectTo(py.port);
  root = conn.root;
});

describe("rpyc-ts client -> Python server", () => {
  it("runs the seed tutorial against Python's MyService", async () => {
    const seed = await startPython("seed_server.py");
    // Typed with the TypeScript twin of the Python service, as the README does.
    const c = await connectTo<MyService>(seed.port);
    expect(await c.root.get_answer()).toBe(42);
    expect(await c.root.the_real_answer_though).toBe(43);
    // @ts-expect-error get_question is not exposed, so it is not part of the type either
    const err = await rejection(c.root.get_question());
    expect(err).toBeInstanceOf(AttributeError);
    expect(isRemoteException(err, "AttributeError")).toBe(true);
    expect(err.args).toEqual(["cannot access 'get_question'"]);
    expect(err.message).toBe("cannot access 'get_question'");
    expect(err.remoteTraceback).toContain("_check_attr");
    expect(await c.root.get_service_name()).toBe("MY");
  });

  it("reports ALIASES: the first alias is the service name", async () => {
    const seed = await startPython("seed_server.py", ["--aliases"]);
    const c = await connectTo<MyService>(seed.port);
    expect(await c.root.get_service_name()).toBe("FLOOP");
    expect(await c.root.get_service_aliases()).toEqual(["FLOOP", "BLOOP"]);
    expect(await c.root.get_answer()).toBe(42);
  });

  it("refuses public non-exposed members by default (allow_public_attrs off)", async () => {
    const thing = (await root.get_thing("x")) as Untyped;
    expect(await thing.hello()).toBe("hello from x");
    const method = await rejection(thing.public_method(5));
    expect(method).toBeInstanceOf(AttributeError);
    expect(method.args).toEqual(["cannot access 'public_method'"]);
    const value = await rejection(Promise.resolve(thing.public_value));
    expect(value.args).toEqual(["cannot access 'public_value'"]);
  });

  it("reaches public members with allow_public_attrs, never private ones", async () => {
    const publicServer = await startPython("interop_server.py", ["--public-attrs"]);
    const c = await connectTo(publicServer.port);
    const croot: Untyped = c.root;
    const thing = (await croot.get_thing("x")) as Untyped;
    expect(await thing.hello()).toBe("hello from x");
    expect(await thing.public_method(5)).toBe("x:5");
    expect(await thing.public_value).toBe(7);
    expect(await thing.name).toBe("x");
    const hidden = await rejection(Promise.resolve(thing._private_value));
    expect(isRemoteException(hidden, "AttributeError")).toBe(true);
  });

  it("runs callbacks both ways and nests them without deadlock", async () => {
    const seen: unknown[] = [];
    // The client's function, called by the server while the client's call is pending.
    expect(
      await root.call((x: number) => {
        seen.push(x);
        return x * 2 + 2;
      }, 20),
    ).toBe(42);
    expect(seen).toEqual([20]);
    expect(await root.call(async (a: string, b: string) => `${a}${b}`, "as", "ync")).toBe("async");

    // server -> client -> server -> ... five levels deep on one connection.
    const pong = async (n: number): Promise<unknown[]> => {
      if (n <= 0) return ["ts0"];
      return [`ts${n}`, ...((await root.pingpong(n - 1, pong)) as unknown[])];
    };
    expect(await root.pingpong(5, pong)).toEqual(["py5", "ts4", "py3", "ts2", "py1", "ts0"]);

    // The server's function, passed to the client's exposed service, called by the client.
    const c = await connectTo(py.port, { service: ClientService });
    const croot: Untyped = c.root;
    expect(await croot.give_function_to_client(5)).toEqual(["py-lambda", 15]);
  });

  it("lets the server use the client's root, in on_connect and in exposed methods", async () => {
    const c = await connectTo(py.port, { service: ClientService });
    const croot: Untyped = c.root;
    // Python's on_connect called conn.root.get_service_name() on our service (our first
    // requests may be served while it waits for that answer, hence the polling).
    await until(async () => (await croot.client_service_name()) !== null, "Python's on_connect");
    expect(await croot.client_service_name()).toBe("TS-CLIENT");
    expect(await croot.ask_client(21)).toEqual(["client got", 42]);
    // Our non-exposed member, as the Python server saw the refusal.
    const refused = report(await croot.client_hidden());
    expect(refused).toMatchObject({ type: "AttributeError", builtin: "AttributeError", args: ["cannot access 'hidden_method'"] });
    expect(refused.remote_tb).toContain("checkAttribute");
    // The server calls back from its own thread after our call returned.
    const notified = new Promise((resolve) => void croot.notify_later(resolve, "ping"));
    expect(await notified).toBe("ping");
    // A client without a service of its own still answers on_connect's call.
    await until(async () => (await root.client_service_name()) !== null, "Python's on_connect");
    expect(await root.client_service_name()).toBe("VOID");
  });

  it("round-trips every brine type; Python checks the exact types", async () => {
    expect(await root.check_all_types(ALL_TYPES)).toEqual([]);
    expect(await root.echo(ALL_TYPES)).toEqual(ALL_TYPES);
    expect(await root.all_types()).toEqual(ALL_TYPES);
    // What is not brine travels by reference, and comes back as the very same object.
    const local = { not: "brine" };
    expect(await root.echo(local)).toBe(local);
    const echoed = (await root.echo(ALL_TYPES)) as unknown[][];
    expect(echoed[3]![12]).toBe(2n ** 63n);
    expect(Object.is(echoed[4]![1], -0)).toBe(true);
    expect(
      await root.type_names(
        new Float(3),
        3,
        2n ** 63n,
        -(10n ** 30n),
        -0,
        2 ** 53,
        0.25,
        new Complex(0, 0),
        new FrozenSet([1]),
        new Slice(null, null, null),
        NotImplemented,
        Ellipsis,
        new Uint8Array([1]),
        "s",
        null,
        undefined,
        true,
        [1, [2]],
      ),
    ).toEqual([
      "float",
      "int",
      "int",
      "int",
      "float",
      "float",
      "float",
      "complex",
      "frozenset",
      "slice",
      "NotImplementedType",
      "ellipsis",
      "bytes",
      "str",
      "NoneType",
      "NoneType",
      "bool",
      "tuple",
    ]);
  });

  it("echoes payloads big enough to be compressed, both ways", async () => {
    const data = Uint8Array.from({ length: 204_800 }, (_, i) => i % 256);
    const text = "\u00fc\u20ac".repeat(50_000);
    const [backData, backText] = (await root.echo([data, text])) as [Uint8Array, string];
    expect(backData).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(backData).equals(data)).toBe(true);
    expect(backText).toBe(text);
    expect(await root.describe_big(data, text)).toEqual(["bytes", 204_800, true, "str", 100_000, true]);
    const [made, madeText] = (await root.make_big(800)) as [Uint8Array, string];
    expect(Buffer.from(made).equals(data)).toBe(true);
    expect(madeText).toBe("\u00fc\u20ac".repeat(800 * 64));
  });

  it("delivers Python exceptions with their type, args, module and traceback", async () => {
    const value = await rejection(root.raise_value_error());
    expect(value).toBeInstanceOf(ValueError);
    expect(isRemoteException(value, "ValueError")).toBe(true);
    expect(value.name).toBe("ValueError");
    expect(value.module).toBe("builtins");
    expect(value.args).toEqual(["bad value", 7]);
    expect(value.message).toBe("('bad value', 7)");
    expect(value.remoteTraceback).toContain('raise ValueError("bad value", 7)');
    expect(value.remoteTraceback).toContain("interop_server.py");
    expect(value.stack).toContain("Remote Traceback");

    const key = await rejection(root.raise_key_error());
    expect(key).toBeInstanceOf(KeyError);
    expect(key.args).toEqual(["missing"]);
    expect(key.message).toBe("'missing'");

    const custom = await rejection(root.raise_custom());
    expect(custom).toBeInstanceOf(PythonException);
    expect(custom.name).toBe("InteropError");
    expect(custom.module).toBe("interop_common");
    expect(custom.pythonType).toBe("interop_common.InteropError");
    expect(custom.args).toEqual(["custom failure", 17]);
    expect(custom.attrs["code"]).toBe(17);
    expect(custom.remoteVersion).toBe("5.3.0");
    expect(await root.get_answer()).toBe(42);
  });

  it("delivers TypeScript errors to Python as real Python exceptions", async () => {
    const value = report(
      await root.call_and_report(function tsThrowsValueError() {
        throw new ValueError("bad ts value", 3);
      }),
    );
    expect(value).toMatchObject({ type: "ValueError", module: "builtins", builtin: "ValueError", args: ["bad ts value", 3] });
    // The TypeScript stack is Python's remote traceback.
    expect(value.remote_tb).toContain("tsThrowsValueError");
    expect(value.remote_tb).toContain("python-server.test.ts");

    const plain = report(
      await root.call_and_report(() => {
        throw new Error("plain failure");
      }),
    );
    expect(plain).toMatchObject({ type: "Exception", builtin: "Exception", args: ["plain failure"] });

    const type = report(
      await root.call_and_report(async () => {
        throw new TypeError("wrong type");
      }),
    );
    expect(type).toMatchObject({ type: "TypeError", builtin: "TypeError", args: ["wrong type"] });
  });

  it("times out with AsyncResultTimeout when the Python server is slow, and the connection survives", async () => {
    const c = await connectTo(py.port, { config: { sync_request_timeout: 1 } });
    const croot: Untyped = c.root;
    // The reply cannot come before 1.2 s: the 1 s timeout always fires first.
    const err = await rejection(croot.sleep(1.2));
    expect(err).toBeInstanceOf(AsyncResultTimeout);
    expect(isTimeoutError(err)).toBe(true);
    // Python serves a connection's requests in order: this reply comes after the late one.
    expect(await croot.get_answer()).toBe(42);
    expect(await croot.echo("still usable")).toBe("still usable");
  });

  it("runs the Python service's on_disconnect when the client closes", async () => {
    const c = await connectTo(py.port);
    const croot: Untyped = c.root;
    expect(await croot.get_answer()).toBe(42);
    const before = (await root.disconnect_count()) as number;
    await c.close();
    expect(c.closed).toBe(true);
    await until(async () => (await root.disconnect_count()) === before + 1, "on_disconnect on the Python server");
  });

  it("lets Python use len, iteration, indexing, repr/str/dir/hash/== and kwargs on TypeScript objects", async () => {
    const map = new Map([
      ["a", 1],
      ["b", 2],
    ]);
    const probe = (await root.probe(map, "a")) as unknown[];
    const [length, items, item, contains, reprText, strText, names, hashStable, hashIsInt, eq, ne] = probe;
    expect(length).toBe(2);
    // A Map is served as Python's dict: iterating it yields its keys.
    expect(items).toEqual(["a", "b"]);
    expect(item).toBe(1);
    expect(contains).toBe(true);
    expect(reprText).toMatch(/^<rpyc_ts\.Map object at 0x[0-9a-f]+>$/);
    expect(strText).toBe(reprText);
    expect(names).toEqual(expect.arrayContaining(["get", "set", "size", "__len__", "__iter__", "__getitem__"]));
    expect([hashStable, hashIsInt, eq, ne]).toEqual([true, true, true, false]);

    function* squares(n: number): Generator<number> {
      for (let i = 0; i < n; i++) yield i * i;
    }
    expect(await root.iterate(squares(4))).toEqual([0, 1, 4, 9]);
    expect(await root.iterate(new Set(["x", "y"]))).toEqual(["x", "y"]);
    expect(await root.iterate(new Map([[1, "one"]]).keys())).toEqual([1]);

    // Python calls fn(1, b=2) on a TypeScript function: keywords map onto parameter names.
    expect(await root.call_with_kwargs((a: number, b: number) => `${a}/${b}`)).toBe("1/2");
  });

  it("passes kwargs and Python's protocol operations from TypeScript to Python objects", async () => {
    expect(await root.add(1, kwargs({ b: 2, c: 3 }))).toBe(6);
    expect(await root.add(kwargs({ a: 1 }))).toBe(11);
    expect(await root.describe_args(1, 2, kwargs({ y: "Y", x: "X" }))).toEqual([
      [1, 2],
      [
        ["x", "X"],
        ["y", "Y"],
      ],
    ]);
    const thing = (await root.get_thing("t")) as Untyped;
    expect(await len(thing)).toBe(3);
    const items: unknown[] = [];
    for await (const x of thing) items.push(x);
    expect(items).toEqual(["a", "b", "c"]);
    expect(await getitem(thing, 5)).toBe("item 5");
    expect(await repr(thing)).toBe("Thing('t')");
    expect(await str(thing)).toBe("thing t");
    expect(await dir(thing)).toEqual(expect.arrayContaining(["public_method", "exposed_hello", "name"]));
    expect(await hash(thing)).toBe(await hash(thing));
    expect(await compare(thing, thing, "__eq__")).toBe(true);

    // Python lists and dicts are references: each operation is a round trip.
    const [list, dict] = (await root.get_containers()) as [Untyped, Untyped];
    expect(await len(list)).toBe(3);
    expect(await getitem(list, -1)).toBe(30);
    const listItems: unknown[] = [];
    for await (const x of list) listItems.push(x);
    expect(listItems).toEqual([10, 20, 30]);
    // list.append is public, not exposed: refused without allow_public_attrs.
    expect(await rejection(list.append(40))).toBeInstanceOf(AttributeError);
    expect(await getitem(dict, "k")).toBe("v");
    const keys: unknown[] = [];
    for await (const k of dict) keys.push(k);
    expect(keys).toEqual(["k", "j"]);
    const missing = await rejection(getitem(dict, "zz"));
    expect(missing).toBeInstanceOf(KeyError);
  });

  it("releases objects across the wire: Python's del drops ours, our release() drops Python's", async () => {
    const c = await connectTo(py.port);
    const croot: Untyped = c.root;
    const r = croot;
    // Once Python's on_connect is done (its temporary netref to our get_service_name is
    // released before), the Python side holds only our root.
    await until(async () => (await r.client_service_name()) !== null, "Python's on_connect");
    expect(c.stats().localObjects).toBe(1);

    // A TypeScript object handed to Python, then dropped there (del + gc.collect()).
    const marker = { label: "held by Python" };
    await r.hold(marker);
    expect(c.stats().localObjects).toBe(2);
    expect(sessionOf(c).objects.has(sessionOf(c).idPackOf(marker))).toBe(true);
    await r.drop_held();
    // Python's HANDLE_DEL was sent before drop_held's reply, so it has been served.
    expect(sessionOf(c).objects.has(sessionOf(c).idPackOf(marker))).toBe(false);
    expect(c.stats().localObjects).toBe(1);

    // A Python object held here as a netref, then release(ref).
    const tracked = (await r.make_tracked()) as Untyped;
    const pyCount = (await r.local_object_count()) as number;
    expect(await r.tracked_alive()).toBe(true);
    // Received twice: the same netref, and one HANDLE_DEL (refcount 2) releases it.
    expect(await r.get_tracked()).toBe(tracked);
    release(tracked);
    expect(await r.tracked_alive()).toBe(false);
    expect(await r.local_object_count()).toBe(pyCount - 1);
    await expect(tracked.anything()).rejects.toBeInstanceOf(NetrefReleasedError);
  });

  it("releases a Python object when its netref is garbage collected", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, "vitest runs with --expose-gc").toBeTypeOf("function");
    const c = await connectTo(py.port);
    const croot: Untyped = c.root;
    await (async () => {
      // The only reference to the netref lives in this scope.
      await croot.make_tracked();
    })();
    expect(await croot.tracked_alive()).toBe(true);
    await until(async () => {
      gc!();
      await sleep(10);
      return (await croot.tracked_alive()) === false;
    }, "the collected netref's HANDLE_DEL");
  });
});
