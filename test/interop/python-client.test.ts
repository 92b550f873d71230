// Live interop, Python RPyC 5.3 clients -> rpyc-ts server. Each test serves a TypeScript
// service on 127.0.0.1, runs a Python client fixture (test/interop/python/) against it and
// asserts on what the client reported ("RESULT {json}") and on what the server observed.

import { beforeAll, describe, expect, it } from "vitest";
import { MyService } from "../../examples/seed-service.js";
import { Float, PythonException, Service, ValueError, release, type Connection, type ThreadedServer } from "../../runtime/index.js";
import { requirePythonRpyc, runPythonClient } from "../helpers/python.js";
import { eventually, serve, sleep } from "../helpers/servers.js";
import { ALL_TYPES, type Report, type Untyped } from "./shared.js";

class Thing {
  public_value = 7;
  _private_value = 8;
  _secret = "s";
  constructor(readonly label: string) {}
  exposed_hello(): string {
    return `hello from ${this.label}`;
  }
  public_method(x: number): string {
    return `${this.label}:${x}`;
  }
  __repr__(): string {
    return `Thing(${this.label})`;
  }
  toString(): string {
    return `thing ${this.label}`;
  }
}

class Countdown {
  constructor(readonly from: number) {}
  *[Symbol.iterator](): Generator<number> {
    for (let i = this.from; i > 0; i--) yield i;
  }
}

class TsCustomError extends Error {
  override name = "TsCustomError";
}

/** What the server saw, across connections (tests in a file run one after another). */
const echoes: unknown[] = [];
const disconnected: string[] = [];
let interopServer: ThreadedServer;

class InteropService extends Service {
  conn!: Connection;
  clientName: unknown;
  held: unknown;
  slowSettled = false;
  private readonly things = new Map<string, Thing>();

  // The server calls the client's root before the connection is handed over: the
  // client's first request is served meanwhile, so this cannot deadlock.
  override async on_connect(conn: Connection): Promise<void> {
    this.conn = conn;
    this.clientName = await (conn.root as Untyped).get_service_name();
  }

  override on_disconnect(conn: Connection): void {
    disconnected.push(conn.connid);
  }

  exposed_get_answer(): number {
    return 42;
  }
  exposed_connection_id(): string {
    return this.conn.connid;
  }
  exposed_echo(value: unknown): unknown {
    echoes.push(value);
    return value;
  }
  exposed_all_types(): unknown {
    return ALL_TYPES;
  }
  exposed_typed_values(): unknown[] {
    return [new Float(3), 3, 2n ** 63n, -(10n ** 30n), -0, new Float(-0), 0.5, Number.MAX_SAFE_INTEGER + 1];
  }
  exposed_make_big(n: number): [Uint8Array, string] {
    const data = new Uint8Array(256 * n);
    for (let i = 0; i < data.length; i++) data[i] = i % 256;
    return [data, "\u00fc\u20ac".repeat(n * 64)];
  }

  // attributes
  exposed_get_thing(label: string): Thing {
    let thing = this.things.get(label);
    if (!thing) this.things.set(label, (thing = new Thing(label)));
    return thing;
  }

  // callbacks
  async exposed_call(fn: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]): Promise<unknown> {
    return await fn(...args);
  }
  async exposed_pingpong(n: number, fn: (n: number) => Promise<unknown[]>): Promise<unknown[]> {
    if (n <= 0) return ["ts0"];
    return [`ts${n}`, ...(await fn(n - 1))];
  }
  async exposed_give_function_to_client(x: number): Promise<unknown> {
    return await (this.conn.root as Untyped).apply((y: number) => ["ts-fn", y * 3], x);
  }
  exposed_notify_later(fn: (value: unknown) => Promise<unknown>, value: unknown): void {
    // After this call has returned: the client must be serving in the background.
    setTimeout(() => void fn(value).catch(() => {}), 20);
  }
  exposed_client_service_name(): unknown {
    return this.clientName;
  }
  async exposed_ask_client(x: number): Promise<unknown> {
    return await (this.conn.root as Untyped).client_method(x);
  }
  async exposed_client_hidden(): Promise<unknown> {
    return await (this.conn.root as Untyped).hidden_method();
  }

  // exceptions
  exposed_fail_value(): never {
    throw new ValueError("bad ts value", 3);
  }
  exposed_fail_plain(): never {
    throw new Error("plain failure");
  }
  exposed_fail_type(): never {
    throw new TypeError("wrong type");
  }
  exposed_fail_custom(): never {
    throw new TsCustomError("custom ts failure");
  }
  async exposed_call_and_report(fn: () => Promise<unknown>): Promise<unknown> {
    try {
      await fn();
      return null;
    } catch (err) {
      if (!(err instanceof PythonException)) throw err;
      return [err.name, err.module, err.args, err.remoteTraceback ?? "", err.attrs["code"] ?? null];
    }
  }

  // timeouts
  exposed_slow(seconds: number): Promise<number> {
    const result = sleep(seconds * 1000).then(() => seconds);
    // setImmediate runs after the connection sent the (late) reply from a promise reaction.
    void result.then(() => setImmediate(() => (this.slowSettled = true)));
    return result;
  }
  exposed_slow_settled(): boolean {
    return this.slowSettled;
  }

  // Python protocol operations
  exposed_get_map(): Map<string, number> {
    return new Map([
      ["a", 1],
      ["b", 2],
    ]);
  }
  exposed_get_set(): Set<number> {
    return new Set([3, 1, 2]);
  }
  *exposed_get_generator(n: number): Generator<number> {
    for (let i = 0; i < n; i++) yield i * i;
  }
  async *exposed_get_async_generator(n: number): AsyncGenerator<string> {
    for (let i = 0; i < n; i++) {
      await sleep(1);
      yield `tick ${i}`;
    }
  }
  exposed_get_countdown(n: number): Countdown {
    return new Countdown(n);
  }
  exposed_get_array(): number[] {
    return [1, 2, 3];
  }
  exposed_add(a: number, b: number): number {
    return a + b;
  }
  exposed_pair(a: string, b: string): string {
    return `${a}/${b}`;
  }

  // netref lifetime
  exposed_local_object_count(): number {
    const conn = [...interopServer.connections].find((c) => c.localRoot === this);
    if (!conn) throw new Error("connection not found in server.connections");
    return conn.stats().localObjects;
  }
  exposed_hold(obj: unknown): void {
    this.held = obj;
  }
  exposed_release_held(): void {
    release(this.held);
    this.held = undefined;
  }
}

async function client(scenario: string, port = interopServer.port): Promise<Record<string, Untyped>> {
  return runPythonClient("interop_client.py", [String(port), scenario]);
}

beforeAll(async () => {
  requirePythonRpyc();
  interopServer = await serve(InteropService);
});

describe("Python client -> rpyc-ts server", () => {
  it("runs the seed tutorial against the TypeScript MyService", async () => {
    const server = await serve(MyService);
    const out = await runPythonClient("seed_client.py", [String(server.port)]);
    expect(out).toEqual({
      get_answer: 42,
      the_real_answer_though: 43,
      get_service_name: "MY",
      get_service_aliases: ["MY"],
      get_question: { type: "AttributeError", args: ["cannot access 'get_question'"] },
    });
  });

  it("reports ALIASES: the first alias is the service name", async () => {
    class FloopService extends MyService {
      static override ALIASES = ["floop", "bloop"];
    }
    const server = await serve(FloopService);
    const out = await runPythonClient("seed_client.py", [String(server.port)]);
    expect(out.get_service_name).toBe("FLOOP");
    expect(out.get_service_aliases).toEqual(["FLOOP", "BLOOP"]);
    expect(out.get_answer).toBe(42);
  });

  it("refuses public non-exposed members by default (allow_public_attrs off)", async () => {
    const out = await client("public_attrs");
    expect(out.exposed).toEqual({ ok: "hello from x" });
    for (const key of ["public_method", "public_value"]) {
      expect(out[key].error).toMatchObject({
        type: "AttributeError",
        builtin: "AttributeError",
        args: [`cannot access '${key}' (public attributes of served objects need allow_public_attrs on the server; exposed_ members are always reachable)`],
      });
    }
    expect(out.private_value.error).toMatchObject({ type: "AttributeError" });
  });

  it("reaches public members with allow_public_attrs, never private ones", async () => {
    const server = await serve(InteropService, { protocolConfig: { allow_public_attrs: true } });
    const out = await client("public_attrs", server.port);
    expect(out.exposed).toEqual({ ok: "hello from x" });
    expect(out.public_method).toEqual({ ok: "x:5" });
    expect(out.public_value).toEqual({ ok: 7 });
    expect(out.private_value.error).toMatchObject({ type: "AttributeError", args: ["cannot access '_private_value'"] });
  });

  it("runs callbacks both ways and nests them without deadlock", async () => {
    const out = await client("callbacks");
    // The client's function, called by the server while the client's call is pending.
    expect(out.call).toBe(42);
    expect(out.calls_seen).toEqual([20]);
    // client -> server -> client -> ... five levels deep on one connection.
    expect(out.pingpong).toEqual(["ts5", "py4", "ts3", "py2", "ts1", "py0"]);
    // The server's function, passed to the client's exposed service, called by the client.
    expect(out.server_function_via_client).toEqual(["ts-fn", 15]);
  });

  it("lets the server use the client's root, in on_connect and in exposed methods", async () => {
    const out = await client("client_root");
    // Called back after the client's call returned, served by rpyc.BgServingThread.
    expect(out.notified).toEqual(["ping"]);
    expect(out.name_seen_by_on_connect).toBe("PY-CLIENT");
    expect(out.ask_client).toEqual(["client got", 42]);
    // The client's non-exposed member: refused by Python, relayed through the TS server.
    expect(out.hidden.error).toMatchObject({ type: "AttributeError", args: ["cannot access 'hidden_method'"] });
    // Its traceback is the client's own (Python) traceback, nested in the TS one.
    expect(out.hidden.error.remote_tb).toContain("Remote Traceback");
    expect(out.hidden.error.remote_tb).toContain("rpyc/core/protocol.py");
  });

  it("round-trips every brine type with exact Python types", async () => {
    echoes.length = 0;
    const out = await client("types");
    // Python compared what came back with what it sent, type by type.
    expect(out.echo_problems).toEqual([]);
    // The same value built in TypeScript arrives in Python with the same types.
    expect(out.ts_built_problems).toEqual([]);
    // What is not brine travels by reference, and comes back as the very same object.
    expect(out.netref_comes_back_as_itself).toBe(true);
    // What the TypeScript server received from Python.
    expect(echoes[0]).toEqual(ALL_TYPES);
    const ints = (echoes[0] as unknown[][])[3]!;
    expect(typeof ints[10]).toBe("number"); // 2**53 - 1
    expect(ints[11]).toBe(2n ** 53n + 1n);
    expect(ints[12]).toBe(2n ** 63n);
    expect(ints[13]).toBe(-(10n ** 30n));
    expect(Object.is((echoes[0] as unknown[][])[4]![1], -0)).toBe(true);
    expect(out.typed).toEqual([
      ["float", "3.0"],
      ["int", "3"],
      ["int", "9223372036854775808"],
      ["int", "-1000000000000000000000000000000"],
      ["float", "-0.0"],
      ["float", "-0.0"],
      ["float", "0.5"],
      ["float", "9007199254740992.0"],
    ]);
    // Known mapping limit: a JavaScript number does not remember that Python's 3.0 was a
    // float, so an integral float echoed by a TS service comes back as int (use Float).
    expect(out.integral_float_echo).toEqual(["int", "3"]);
  });

  it("echoes payloads big enough to be compressed, both ways", async () => {
    echoes.length = 0;
    const out = await client("big");
    expect(out.sent_sizes).toEqual([204_800, 100_000]);
    expect(out.echo_intact).toBe(true);
    expect(out.made_sizes).toEqual([204_800, 102_400]);
    expect(out.made_intact).toBe(true);
    const [data, text] = echoes[0] as [Uint8Array, string];
    expect(data).toBeInstanceOf(Uint8Array);
    expect(data.length).toBe(204_800);
    expect(data[257]).toBe(1);
    expect(text).toBe("\u00fc\u20ac".repeat(50_000));
  });

  it("delivers TypeScript errors to Python as real Python exceptions, and Python's to TypeScript", async () => {
    const out = await client("exceptions");
    expect(out.not_exposed.error).toMatchObject({ type: "AttributeError", builtin: "AttributeError", args: ["cannot access 'get_question'"] });

    const value: Report = out.ts_value_error.error;
    expect(value).toMatchObject({ type: "ValueError", module: "builtins", builtin: "ValueError", args: ["bad ts value", 3] });
    expect(out.ts_value_error_is_value_error).toBe(true);
    // The TypeScript stack is the remote traceback.
    expect(value.remote_tb).toContain("exposed_fail_value");
    expect(value.remote_tb).toContain("python-client.test.ts");

    expect(out.ts_plain_error.error).toMatchObject({ type: "Exception", builtin: "Exception", args: ["plain failure"] });
    expect(out.ts_type_error.error).toMatchObject({ type: "TypeError", builtin: "TypeError", args: ["wrong type"] });
    // A class Python does not know arrives as rpyc's GenericException named module.Class.
    expect(out.ts_custom_error.error).toMatchObject({ type: "rpyc_ts.TsCustomError", builtin: "Exception", args: ["custom ts failure"] });
    expect(out.ts_custom_error.error.remote_tb).toContain("exposed_fail_custom");

    // Python exceptions raised in the client's callbacks, as the TypeScript server saw them.
    const [name, module, args, traceback] = out.py_value_error_in_ts;
    expect([name, module, args]).toEqual(["ValueError", "builtins", ["bad value", 7]]);
    expect(traceback).toContain('raise ValueError("bad value", 7)');
    expect(out.py_key_error_in_ts.slice(0, 3)).toEqual(["KeyError", "builtins", ["missing"]]);
    expect(out.py_custom_error_in_ts.slice(0, 3)).toEqual(["InteropError", "interop_common", ["custom failure", 17]]);
    expect(out.py_custom_error_in_ts[4]).toBe(17);
    expect(out.after).toBe(42);
  });

  it("raises rpyc.AsyncResultTimeout in Python when the TS server is slow, and the connection survives", async () => {
    const out = await client("timeout");
    expect(out.slow).toEqual({ caught: "rpyc.AsyncResultTimeout", type: "TimeoutError", args: ["result expired"] });
    expect(out.after_timeout).toBe(42);
    expect(out.after_late_reply).toBe(42);
  });

  it("runs the service's on_disconnect when the Python client closes", async () => {
    const out = await client("disconnect");
    expect(out.closed).toBe(true);
    await eventually(() => disconnected.includes(out.connid), 5000, "on_disconnect");
    expect([...interopServer.connections].some((c) => c.connid === out.connid)).toBe(false);
  });

  it("supports len, iteration, indexing, repr/str/dir/hash/== and kwargs from Python", async () => {
    const out = await client("protocol");
    expect(out.map_len).toBe(2);
    expect(out.map_getitem).toBe(1);
    expect(out.map_missing.error).toMatchObject({ type: "KeyError", args: ["zzz"] });
    expect(out.map_contains).toEqual([true, false]);
    // A Map is served as Python's dict: iterating it yields its keys.
    expect(out.map_iter).toEqual(["a", "b"]);
    expect(out.set_len).toBe(3);
    expect(out.set_iter).toEqual([1, 2, 3]);
    expect(out.generator).toEqual([0, 1, 4, 9]);
    expect(out.async_generator).toEqual(["tick 0", "tick 1", "tick 2"]);
    expect(out.custom_iterable).toEqual([3, 2, 1]);
    // Arrays are tuples on the wire: they travel by value.
    expect(out.array_by_value).toEqual(["tuple", [1, 2, 3]]);
    expect(out.repr).toBe("Thing(t)");
    expect(out.str).toBe("thing t");
    expect(out.dir_has).toEqual([true, true, true]);
    expect(out.hash_stable).toBe(true);
    expect(out.hash_differs).toBe(true);
    expect(out.eq_self).toBe(true);
    expect(out.eq_same_object).toBe(true);
    expect(out.eq_other).toBe(false);
    expect(out.ne_self).toBe(false);
    expect(out.kwargs_only).toBe(3);
    expect(out.kwargs_mixed).toBe(3);
    expect(out.kwargs_reordered).toBe("A/B");
    expect(out.kwargs_unknown.error).toMatchObject({ type: "TypeError" });
  });

  it("drops objects from the tables when the other side releases them", async () => {
    const out = await client("lifetime");
    // TS object handed to Python, then `del` + gc.collect() there: the TS server's
    // connection (from server.connections) no longer holds it.
    const [before, during, after] = out.ts_table as [number, number, number];
    // Sent twice, held once: Python's single DEL carries refcount 2.
    expect(out.same_proxy).toBe(true);
    expect(during).toBe(before + 1);
    expect(after).toBe(before);
    // Python object held by the TS server as a netref, then release(ref) in TypeScript:
    // Python's table drops it and the object is freed.
    const [tableBefore, tableHeld, tableAfter] = out.py_table as [number, number, number];
    expect(tableHeld).toBe(tableBefore + 1);
    expect(tableAfter).toBe(tableBefore);
    expect(out.py_alive).toEqual([true, false]);
  });
});
