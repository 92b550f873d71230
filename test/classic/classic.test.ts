// Classic mode: ClassicService (RPyC's SlaveService for Node), connectClassic (rpyc.classic
// .connect), interop with Python's classic clients and servers, and the rpyc-classic CLI.
// Everything binds and connects 127.0.0.1.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AttributeError,
  ConnectionClosedError,
  DEFAULT_CONFIG,
  type PythonException,
  Service,
  VoidService,
  connect,
  getattr,
  getitem,
  isNetref,
  isRemoteException,
  len,
  setattr,
  setitem,
  type Connection,
  type DynamicNetref,
  type ThreadedServer,
} from "../../runtime/index.js";
import { ClassicService, DEFAULT_CLASSIC_PORT, connectClassic, installClassic, type ClassicConnection } from "../../runtime/classic/index.js";
import { TCPRegistryClient, TCPRegistryServer } from "../../runtime/registry/index.js";
import { isLoopbackHost, main, securityWarning, type ClassicCliIO } from "../../runtime/classic/cli.js";
import { runPythonClient, startPython, type PythonProcess } from "../helpers/python.js";
import { connectTo, eventually, serve, sleep } from "../helpers/servers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** Fixtures live in test/classic/python/; the python helper resolves scripts from test/interop/python/. */
const FIXTURE = (name: string): string => `../../classic/python/${name}`;

const opened = new Set<{ close(): Promise<void> }>();
afterAll(async () => {
  await Promise.all([...opened].map((item) => item.close()));
});

async function classic(port: number, options: Parameters<typeof connectClassic>[2] = {}): Promise<ClassicConnection> {
  const conn = await connectClassic("127.0.0.1", port, options);
  opened.add(conn);
  return conn;
}

async function rejection(promise: PromiseLike<unknown>): Promise<PythonException> {
  try {
    await promise;
  } catch (err) {
    return err as PythonException;
  }
  throw new Error("expected a rejection");
}

/** The server side of the newest connection (our client's peer on that server). */
async function serverSideOf(server: ThreadedServer, count: number): Promise<Connection> {
  await eventually(() => server.connections.size >= count, 5000, "the server to accept");
  return [...server.connections].at(-1)!;
}

// ---- rpyc-ts server, rpyc-ts client ---------------------------------------------------

describe("ClassicService and connectClassic", () => {
  let server: ThreadedServer;
  let conn: ClassicConnection;

  beforeAll(async () => {
    server = await serve(ClassicService);
    conn = await classic(server.port);
  });

  it("is explicit only: registers as SLAVE (as rpyc_classic does) and no default uses it", async () => {
    expect(ClassicService.get_service_name()).toBe("SLAVE");
    expect(server.aliases).toEqual(["SLAVE"]);
    expect(await conn.root.get_service_name()).toBe("SLAVE");
    expect(DEFAULT_CLASSIC_PORT).toBe(18812);
    expect(DEFAULT_CONFIG.allow_all_attrs).toBe(false);
    // A plain connect() exposes a VoidService, not a classic one.
    const plainServer = await serve(ClassicService);
    const plain = await connectTo(plainServer.port);
    expect(await plain.root.get_service_name!()).toBe("SLAVE");
    const side = await serverSideOf(plainServer, 1);
    expect(await (side.root as DynamicNetref).get_service_name!()).toBe("VOID");
    expect((await rejection((side.root as DynamicNetref).eval!("1"))).name).toBe("AttributeError");
  });

  it("evaluates expressions: plain values by value", async () => {
    expect(await conn.eval("1+2")).toBe(3);
    expect(await conn.eval("0.5 * 3")).toBe(1.5);
    expect(await conn.eval("'ab'.repeat(3)")).toBe("ababab");
    expect(await conn.eval("[1, 'two', null, true]")).toEqual([1, "two", null, true]);
    expect(await conn.eval("2n ** 70n")).toBe(2n ** 70n);
    expect(await conn.eval("undefined")).toBeNull();
    expect(await conn.eval("new Uint8Array([1, 2, 3])")).toEqual(new Uint8Array([1, 2, 3]));
    // Statements: the completion value.
    expect(await conn.eval("let q = 4; q * 2")).toBe(8);
    // An object literal is an expression, not a block.
    expect(isNetref(await conn.eval("{a: 1}"))).toBe(true);
  });

  it("evaluates objects and functions to netrefs", async () => {
    const obj = await conn.eval("({a: 1, nested: {b: 'two'}, greet(name) { return 'hi ' + name }})");
    expect(isNetref(obj)).toBe(true);
    const ref = obj as DynamicNetref;
    expect(await ref.a).toBe(1);
    expect(await (ref.nested as unknown as DynamicNetref).b).toBe("two");
    expect(await ref.greet!("bob")).toBe("hi bob");
    const fn = (await conn.eval("(x) => x * 2")) as (x: number) => Promise<unknown>;
    expect(isNetref(fn)).toBe(true);
    expect(await fn(21)).toBe(42);
    // Maps and Sets are this process's own: Python's len()/[] work on them.
    const map = await conn.eval("new Map([['k', 1], ['l', 2]])");
    expect(await len(map)).toBe(2);
    expect(await getitem(map, "l")).toBe(2);
  });

  it("shares one namespace between execute and eval, per connection", async () => {
    expect(await conn.execute("x = 5; var y = 6; function add(a, b) { return a + b }; const k = 10")).toBeUndefined();
    expect(await conn.eval("add(x, y) + k")).toBe(21);
    expect(await conn.namespace.x).toBe(5);
    expect(await getitem(conn.namespace, "y")).toBe(6);
    expect(await len(conn.namespace)).toBeGreaterThanOrEqual(3);
    // const/let persist between calls but are not namespace entries (script scope).
    expect((await rejection(getattr(conn.namespace, "k"))).name).toBe("AttributeError");
    // Writes through the netref are seen by evaluated code (allow_setattr in classic mode).
    await setattr(conn.namespace, "fromClient", 7);
    await setitem(conn.namespace, "viaItem", 8);
    expect(await conn.eval("fromClient + viaItem")).toBe(15);
    const shared = await conn.eval("shared = {n: 1}");
    await setattr(shared, "n", 2);
    expect(await conn.eval("shared.n")).toBe(2);
    // Another connection has its own namespace.
    const other = await classic(server.port);
    expect(await other.eval("typeof x")).toBe("undefined");
  });

  it("allows top-level await", async () => {
    await conn.execute("z = await Promise.resolve(7)");
    expect(await conn.eval("z")).toBe(7);
    expect(await conn.eval("await Promise.resolve(8)")).toBe(8);
    // A promise result is awaited.
    expect(await conn.eval("Promise.resolve(9)")).toBe(9);
  });

  it("gives evaluated code Node's globals, importModule and require", async () => {
    expect(await conn.eval("typeof process.pid")).toBe("number");
    expect(await conn.eval("Buffer.from('hi').toString('hex')")).toBe("6869");
    expect(await conn.eval("require('node:path').join('a', 'b')")).toBe(path.join("a", "b"));
    expect(await conn.eval("(await importModule('node:os')).EOL")).toBe(os.EOL);
    expect(await conn.eval("typeof setTimeout")).toBe("function");
  });

  it("imports modules: node builtins, installed packages and paths, as netrefs", async () => {
    expect(await conn.modules["node:os"]!.hostname!()).toBe(os.hostname());
    expect(await conn.modules["node:path"]!.join!("a", "b")).toBe(path.join("a", "b"));
    expect(await conn.modules.os!.EOL).toBe(os.EOL);
    expect(await conn.modules["node:process"]!.pid).toBe(process.pid);
    const osModule = await conn.modules.os;
    expect(isNetref(osModule)).toBe(true);
    expect(await conn.getmodule("os")).toBe(osModule); // cached, like RPyC's ModuleNamespace
    expect(isNetref(await conn.root.getmodule!("node:os"))).toBe(true);
    // an installed package (a dependency of rpyc-ts)
    const commander = await conn.modules.commander;
    expect(isNetref(await getattr(commander, "Command"))).toBe(true);
    // a file, by absolute path
    const dir = mkdtempSync(path.join(os.tmpdir(), "rpyc-classic-"));
    try {
      const file = path.join(dir, "answer.mjs");
      writeFileSync(file, "export const answer = 42;\nexport function twice(n) { return 2 * n; }\n");
      expect(await conn.modules[file]!.answer).toBe(42);
      expect(await conn.modules[file]!.twice!(4)).toBe(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const missing = await rejection(conn.modules.no_such_module_xyz!);
    expect(isRemoteException(missing, "ModuleNotFoundError")).toBe(true);
    expect(missing.message).toBe("No module named 'no_such_module_xyz'");
  });

  it("exposes builtins (globalThis)", async () => {
    expect(await conn.builtins.Math!.max!(1, 5)).toBe(5);
    expect(await conn.builtins.parseInt!("42")).toBe(42);
    expect(await conn.root.builtins.JSON!.stringify!([1, "a"])).toBe('[1,"a"]');
    expect(isNetref(await conn.root.getconn!())).toBe(true);
  });

  it("sends errors of evaluated code as remote exceptions", async () => {
    const syntax = await rejection(conn.eval("1 +"));
    expect(isRemoteException(syntax, "SyntaxError")).toBe(true);
    expect(syntax.message).toBe("Unexpected end of input");
    expect((await rejection(conn.execute("function ("))).name).toBe("SyntaxError");
    const notAwait = await rejection(conn.execute("const s = 'await'; s +"));
    expect(notAwait.name).toBe("SyntaxError");
    expect(notAwait.message).toBe("Unexpected end of input");

    const thrown = await rejection(conn.eval("throw new Error('boom')"));
    expect(isRemoteException(thrown)).toBe(true);
    expect(thrown.name).toBe("Exception"); // a JavaScript Error is Python's Exception
    expect(thrown.message).toBe("boom");
    expect(thrown.remoteTraceback).toContain("<rpyc-classic>");

    const type = await rejection(conn.execute("null.x"));
    expect(type.name).toBe("TypeError");
    expect(type.message).toContain("Cannot read properties of null");
    expect((await rejection(conn.eval("undefinedName"))).name).toBe("ReferenceError");

    const custom = await rejection(
      conn.execute("class MyErr extends Error { constructor(m) { super(m); this.name = 'MyErr'; this.code = 7 } }; throw new MyErr('bad')"),
    );
    expect(custom.name).toBe("MyErr");
    expect(custom.module).toBe("rpyc_ts");
    expect(custom.attrs).toEqual({ code: 7 });

    const asyncFailure = await rejection(conn.execute("await Promise.resolve(); throw new RangeError('late')"));
    expect(asyncFailure.name).toBe("RangeError");
    expect(asyncFailure.message).toBe("late");
  });

  it("keeps JavaScript internals unreachable from the client, even in classic mode", async () => {
    const obj = await conn.eval("({a: 1})");
    const fn = await conn.eval("function f() {}; f");
    for (const [target, name] of [
      [obj, "__proto__"],
      [obj, "constructor"],
      [fn, "prototype"],
      [fn, "constructor"],
      [fn, "caller"],
      [conn.root, "constructor"],
      [conn.root, "__proto__"],
      [conn.namespace, "__proto__"],
      [await conn.modules.os, "constructor"],
      [conn.builtins, "__proto__"],
    ] as const) {
      const err = await rejection(getattr(target, name));
      expect(err, name).toBeInstanceOf(AttributeError);
      expect(err.message).toBe(`cannot access '${name}'`);
    }
    expect((await rejection(setattr(obj, "__proto__", null))).message).toBe("cannot access '__proto__'");
    expect((await rejection(setitem(conn.namespace, "__proto__", 1))).name).toBe("KeyError");
    // Setting a name on a service root is refused, as on every RPyC service.
    expect((await rejection(setattr(conn.root, "namespace", 1))).message).toBe("access denied");
  });

  it("grants the server full access to the client by default, as rpyc.classic does", async () => {
    const own = await serve(ClassicService);
    const client = await classic(own.port);
    const side = await serverSideOf(own, 1);
    const peer = side.root as DynamicNetref;
    expect(await peer.eval!("6 * 7")).toBe(42);
    await client.namespace; // (the client's own namespace is independent of the server's)
    expect(await peer.getmodule!("node:process").then((m) => getattr(m, "pid"))).toBe(process.pid);
    // ...but not JavaScript internals.
    expect((await rejection(getattr(peer, "constructor"))).message).toBe("cannot access 'constructor'");
    expect((await rejection(getattr(await peer.namespace, "__proto__"))).message).toBe("cannot access '__proto__'");
  });

  it("exposeLocal: false gives the server only a VoidService", async () => {
    const own = await serve(ClassicService);
    const client = await classic(own.port, { exposeLocal: false });
    expect(await client.eval("1 + 1")).toBe(2);
    const side = await serverSideOf(own, 1);
    const peer = side.root as DynamicNetref;
    expect(await peer.get_service_name!()).toBe("VOID");
    expect((await rejection(peer.eval!("1"))).message).toBe("cannot access 'eval'");
  });

  it("installClassic works on any connection to a classic server", async () => {
    const plain = await connectTo(server.port, { service: VoidService });
    const upgraded = await installClassic(plain);
    expect(upgraded).toBe(plain);
    expect(await upgraded.eval("40 + 2")).toBe(42);
    expect(await upgraded.modules["node:path"]!.basename!("/a/b.txt")).toBe("b.txt");
  });
});

// ---- a normal server ------------------------------------------------------------------

class NormalService extends Service {
  exposed_thing(): object {
    return {
      a: 1,
      method(): number {
        return 2;
      },
    };
  }
  exposed_fn(): () => number {
    return function fn(): number {
      return 3;
    };
  }
}

describe("a normal (non-classic) server", () => {
  it("offers no eval/execute/getmodule and refuses JavaScript internals", async () => {
    for (const protocolConfig of [{}, { allow_all_attrs: true, allow_setattr: true }]) {
      const server = await serve(NormalService, { protocolConfig });
      const conn = await connectTo(server.port);
      const root = conn.root as DynamicNetref;
      for (const name of ["eval", "execute", "getmodule", "namespace"]) {
        expect((await rejection(root[name]!("1"))).name, name).toBe("AttributeError");
      }
      const thing = await root.thing!();
      const fn = await root.fn!();
      for (const [target, name] of [
        [thing, "__proto__"],
        [thing, "constructor"],
        [thing, "toString"],
        [thing, "hasOwnProperty"],
        [fn, "prototype"],
        [fn, "call"],
        [root, "constructor"],
      ] as const) {
        const err = await rejection(getattr(target, name));
        expect(err, `${name} with ${JSON.stringify(protocolConfig)}`).toBeInstanceOf(AttributeError);
      }
      if ("allow_all_attrs" in protocolConfig) {
        expect(await getattr(thing, "a")).toBe(1);
        expect((await rejection(setattr(thing, "__proto__", {}))).name).toBe("AttributeError");
      } else {
        expect((await rejection(getattr(thing, "a"))).message).toBe(
          "cannot access 'a' (public attributes of served objects need allow_public_attrs on the server; exposed_ members are always reachable)",
        );
      }
      await conn.close();
    }
  });
});

// ---- interop: Python client -----------------------------------------------------------

describe("interop: Python rpyc.classic.connect -> rpyc-ts ClassicService", () => {
  it("eval, execute, namespace, modules, builtins and errors work from Python", async () => {
    const server = await serve(ClassicService);
    const out = await runPythonClient(FIXTURE("classic_client.py"), [String(server.port)], 40_000);
    expect(out).toMatchObject({
      root_eval: 3,
      eval: 3,
      string: "ababab",
      tuple: [1, "two", null],
      x: 5,
      add: 15,
      namespace_x: 5,
      namespace_contains: true,
      namespace_missing: { type: "KeyError", args: ["nope"] },
      set_from_python: 22,
      await: 9,
      obj_a: 1,
      obj_nested_b: "two",
      obj_c: 3,
      fn: 42,
      map_len: 2,
      bytes: [1, 2, 3],
      pid: process.pid,
      path_join: "a/b",
      os_platform: os.platform(),
      math_max: 5,
      hasattr_missing: false,
      contains_node_os: true,
      contains_missing: false,
      missing_module: { type: "ModuleNotFoundError", args: ["No module named 'no_such_module_xyz'"] },
      service_name: "SLAVE",
      syntax_error: { type: "SyntaxError", args: ["Unexpected end of input"] },
      thrown_error: { type: "Exception", args: ["boom"] },
      type_error: { type: "TypeError" },
      reference_error: { type: "ReferenceError", args: ["undefinedName is not defined"] },
      proto: { type: "AttributeError", args: ["cannot access '__proto__'"] },
      constructor: { type: "AttributeError", args: ["cannot access 'constructor'"] },
      fn_prototype: { type: "AttributeError", args: ["cannot access 'prototype'"] },
      root_constructor: { type: "AttributeError", args: ["cannot access 'constructor'"] },
      // rpyc.classic's teleport ships Python bytecode: not available against JavaScript.
      teleport: { type: "ModuleNotFoundError" },
    });
  });
});

// ---- interop: Python servers ----------------------------------------------------------

describe("interop: connectClassic -> Python classic servers", () => {
  let slave: PythonProcess;
  let full: PythonProcess;

  beforeAll(async () => {
    [slave, full] = await Promise.all([startPython(FIXTURE("classic_server.py"), ["slave"]), startPython(FIXTURE("classic_server.py"), ["classic"])]);
  });

  it("rpyc_classic's SlaveService: modules, eval, execute, namespace, builtins, errors", async () => {
    const conn = await classic(slave.port);
    expect(await conn.modules.os!.getpid!()).toBe(slave.proc.pid);
    expect(await conn.eval("1+2")).toBe(3);
    expect(await conn.execute("x = 5")).toBeUndefined();
    expect(await conn.eval("x")).toBe(5);
    expect(await getitem(conn.namespace, "x")).toBe(5); // a dict on Python peers
    expect(await conn.modules.sys!.version_info!.major!).toBe(3);
    expect(await conn.modules["os.path"]!.join!("a", "b")).toBe("a/b");
    expect(await conn.builtins.len!([1, 2, 3])).toBe(3);
    expect(await conn.builtins.sum!([1, 2, 3])).toBe(6);
    expect(await conn.eval("[i * i for i in range(4)]").then((list) => len(list))).toBe(4);
    expect(await conn.root.get_service_name()).toBe("SLAVE");

    const syntax = await rejection(conn.eval("1 +"));
    expect(isRemoteException(syntax, "SyntaxError")).toBe(true);
    const zero = await rejection(conn.eval("1 / 0"));
    expect(zero.name).toBe("ZeroDivisionError");
    const missing = await rejection(conn.modules.no_such_module_xyz!);
    expect(missing.name).toBe("ModuleNotFoundError");
  });

  it("exposeLocal: false works against rpyc_classic's SlaveService", async () => {
    const conn = await classic(slave.port, { exposeLocal: false });
    expect(await conn.eval("2 * 3")).toBe(6);
    expect(await conn.modules.sys!.version_info!.major!).toBe(3);
  });

  it("full-duplex rpyc.classic.ClassicService: the Python server evaluates code on our client", async () => {
    const conn = await classic(full.port);
    // The server reaches into us from its on_connect, which may still run when connect returns.
    const deadline = Date.now() + 10_000;
    while ((await conn.eval("globals().get('peer_sum')")) === null) {
      if (Date.now() > deadline) throw new Error("the Python server never finished its on_connect");
      await sleep(20);
    }
    expect(await conn.eval("peer_probe")).toBe(42);
    expect(await conn.eval("peer_platform")).toBe(os.platform());
    expect(await conn.eval("peer_sum")).toBe(42);
    expect(await conn.modules.os!.getpid!()).toBe(full.proc.pid);
  });

  it("full-duplex ClassicService drops a client that exposes nothing (exposeLocal: false)", async () => {
    // The server's on_connect reaches into the client at once (conn.root.getmodule); a client
    // serving only a VoidService refuses, the on_connect raises and the server hangs up. That
    // hang-up races with connectClassic's own setup requests (installClassic: root, getmodule,
    // namespace): mostly they are answered first and connectClassic resolves, but when the
    // server is quicker (a loaded machine) it closes while they are in flight and
    // connectClassic rejects with ConnectionClosedError. Both are the server dropping us;
    // anything else (a refused TCP connection, another error) fails the test.
    const logged = full.output().length;
    const outcome: unknown = await connectClassic("127.0.0.1", full.port, { exposeLocal: false }).then(
      (conn) => {
        opened.add(conn);
        return conn;
      },
      (err: unknown) => err,
    );
    if (outcome instanceof Error) {
      expect(outcome).toBeInstanceOf(ConnectionClosedError);
    } else {
      const conn = outcome as ClassicConnection;
      await eventually(() => conn.closed, 10_000, "the Python server to drop the connection");
    }
    // Why: our VoidService refused the server's first reach into us (its on_connect's error).
    await eventually(
      () => full.output().slice(logged).includes("AttributeError: cannot access 'getmodule'"),
      10_000,
      "the server to log its failed on_connect",
    );
    // The same connection without connectClassic's requests (no race): the client sees the drop.
    const plain = await connect("127.0.0.1", full.port, { service: VoidService });
    opened.add(plain);
    await eventually(() => plain.closed, 10_000, "the Python server to drop the plain connection");
  });
});

// ---- the CLI --------------------------------------------------------------------------

function captureIO(): ClassicCliIO & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}

describe("rpyc-classic CLI", () => {
  it("serves ClassicService on 127.0.0.1, warns on stderr, and stops on close()", async () => {
    const io = captureIO();
    const cli = await main(["--port", "0", "--host", "127.0.0.1"], { io, handleSignals: false });
    opened.add(cli);
    expect(cli.server).toBeDefined();
    expect(cli.server!.host).toBe("127.0.0.1");
    expect(cli.server!.aliases).toEqual(["SLAVE"]);
    expect(io.err).toContain("GRANTS ARBITRARY CODE EXECUTION");
    expect(io.err).toContain(`127.0.0.1:${cli.server!.port}`);
    expect(io.err).not.toContain("DANGER");
    const conn = await classic(cli.server!.port);
    expect(await conn.eval("6 * 7")).toBe(42);
    await cli.close();
    expect(await cli.done).toBe(0);
    await eventually(() => conn.closed, 5000, "the client to see the close");
  });

  it("a port in use: one ERROR line naming the port and what to do, exit code 1", async () => {
    const busy = await serve(ClassicService);
    const io = captureIO();
    const cli = await main(["--port", String(busy.port), "--host", "127.0.0.1"], { io, handleSignals: false });
    expect(cli.server).toBeUndefined();
    expect(await cli.done).toBe(1);
    const lines = io.err.split("\n").filter((line) => line !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ ERROR \[rpyc-classic\] /);
    expect(lines[0]!.slice(lines[0]!.indexOf("] ") + 2)).toBe(
      `cannot listen on 127.0.0.1:${busy.port}: the port is in use (EADDRINUSE): choose another port or stop the process using it (port 0 picks a free one)`,
    );
    expect(io.err).not.toContain("GRANTS ARBITRARY CODE EXECUTION");
  });

  it("binds 127.0.0.1 when no --host is given, and -q keeps the warning but drops the log", async () => {
    const io = captureIO();
    const cli = await main(["-p", "0", "-q"], { io, handleSignals: false });
    opened.add(cli);
    expect(cli.server!.host).toBe("127.0.0.1");
    expect(io.err).toContain("GRANTS ARBITRARY CODE EXECUTION");
    expect(io.err).not.toContain("INFO");
    await cli.close();
    expect(await cli.done).toBe(0);
  });

  it("--logfile takes the log off stderr (the warning stays there)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rpyc-classic-log-"));
    try {
      const logfile = path.join(dir, "classic.log");
      const io = captureIO();
      const cli = await main(["-p", "0", "--logfile", logfile], { io, handleSignals: false });
      opened.add(cli);
      const port = cli.server!.port;
      await cli.close();
      expect(await cli.done).toBe(0);
      expect(io.err).toContain("GRANTS ARBITRARY CODE EXECUTION");
      expect(io.err).not.toContain("server started");
      expect(readFileSync(logfile, "utf8")).toContain(`server started on 127.0.0.1:${port}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("warns louder for addresses other hosts can reach", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost", "[::1]", "::ffff:127.0.0.1"]) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com", "10.0.0.1"]) expect(isLoopbackHost(host), host).toBe(false);
    expect(securityWarning("127.0.0.1", 18812)).not.toContain("DANGER");
    const loud = securityWarning("0.0.0.0", 18812);
    expect(loud).toContain("GRANTS ARBITRARY CODE EXECUTION");
    expect(loud).toContain("DANGER");
    expect(loud).toContain("0.0.0.0 IS NOT A LOOPBACK ADDRESS");
  });

  it("oneshot mode prints the address like rpyc_classic and exits after its one client", async () => {
    const io = captureIO();
    const cli = await main(["--mode", "oneshot", "--port", "0"], { io, handleSignals: false });
    opened.add(cli);
    expect(io.out).toBe(`rpyc-oneshot\n127.0.0.1\t${cli.server!.port}\n`);
    const conn = await connectClassic("127.0.0.1", cli.server!.port);
    expect(await conn.eval("1 + 1")).toBe(2);
    await conn.close();
    expect(await cli.done).toBe(0);
  });

  it("rejects bad command lines and answers --help", async () => {
    for (const argv of [["--mode", "forking"], ["--port", "70000"], ["--port", "x"], ["--bogus"]]) {
      const io = captureIO();
      const cli = await main(argv, { io, handleSignals: false });
      expect(cli.server, argv.join(" ")).toBeUndefined();
      expect(await cli.done, argv.join(" ")).not.toBe(0);
      expect(io.err, argv.join(" ")).toMatch(/error/);
    }
    const io = captureIO();
    const help = await main(["--help"], { io, handleSignals: false });
    expect(await help.done).toBe(0);
    expect(io.out).toContain("arbitrary code execution");
    expect(io.out).toContain("--registry-type");
  });

  it("--register announces the server as SLAVE to a registry", async () => {
    const registry = await new TCPRegistryServer({ host: "127.0.0.1", port: 0 }).start();
    opened.add(registry);
    const io = captureIO();
    const cli = await main(["--port", "0", "--register", "--registry-type", "TCP", "--registry-host", "127.0.0.1", "--registry-port", String(registry.port)], {
      io,
      handleSignals: false,
    });
    opened.add(cli);
    const client = new TCPRegistryClient({ ip: "127.0.0.1", port: registry.port });
    let found: unknown[] = [];
    const deadline = Date.now() + 10_000;
    while (found.length === 0 && Date.now() < deadline) {
      found = await client.discover("SLAVE");
      if (found.length === 0) await sleep(50);
    }
    expect(found).toEqual([["127.0.0.1", cli.server!.port]]);
    await cli.close();
    expect(await cli.done).toBe(0);
  });

  it("runs as a process and shuts down cleanly on SIGTERM", async () => {
    // What bin/rpyc-classic.js does (run()), from the TypeScript sources.
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        "const { run } = await import('./runtime/classic/cli.ts'); await run(process.argv.slice(1));",
        "--",
        "--port",
        "0",
      ],
      { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await eventually(() => /server started on 127\.0\.0\.1:(\d+)/.test(err) && err.includes("GRANTS ARBITRARY CODE EXECUTION"), 15_000, "the CLI to start");
      const port = Number(/server started on 127\.0\.0\.1:(\d+)/.exec(err)![1]);
      const conn = await classic(port);
      expect(await conn.eval("process.pid")).toBe(child.pid);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(err).toContain("SIGTERM received, shutting down");
      await eventually(() => conn.closed, 5000, "the client to see the close");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
