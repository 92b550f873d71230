// rpyc-ts <-> rpyc-ts: the service model end to end over real loopback sockets.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  AsyncResultTimeout,
  AttributeError,
  ConnectionClosedError,
  OneShotServer,
  Service,
  ThreadedServer,
  VoidService,
  classpartial,
  dir,
  getattr,
  hash,
  isNetref,
  isRemoteException,
  kwargs,
  len,
  getitem,
  repr,
  setattr,
  str,
  unixConnect,
  ValueError,
  type Connection,
} from "../../runtime/index.js";
import { connectTo, eventually, serve, sleep } from "../helpers/servers.js";

class MyService extends Service {
  exposed_get_answer(): number {
    return 42;
  }
  exposed_the_real_answer_though = 43;
  get_question(): string {
    return "what is the airspeed velocity of an unladen swallow?";
  }
}

describe("the seed scenario", () => {
  it("answers exposed members and refuses the rest", async () => {
    const server = await serve(MyService);
    const conn = await connectTo<MyService>(server.port);
    expect(await conn.root.get_answer()).toBe(42);
    expect(await conn.root.the_real_answer_though).toBe(43);
    expect(await conn.root.get_service_name()).toBe("MY");
    expect(await conn.root.get_service_aliases()).toEqual(["MY"]);
    // @ts-expect-error not exposed, so not in the type
    const refused = conn.root.get_question();
    await expect(refused).rejects.toBeInstanceOf(AttributeError);
    await expect(refused).rejects.toThrow("cannot access 'get_question'");
    // The exposed_ name itself is reachable too, as in RPyC.
    expect(await getattr(conn.root, "exposed_get_answer").then((f) => (f as () => Promise<number>)())).toBe(42);
  });

  it("uses ALIASES for the service name", async () => {
    class FloopService extends Service {
      static override ALIASES = ["floop", "bloop"];
    }
    const server = await serve(FloopService);
    expect(server.aliases).toEqual(["FLOOP", "BLOOP"]);
    const conn = await connectTo<FloopService>(server.port);
    expect(await conn.root.get_service_name()).toBe("FLOOP");
    expect(await conn.root.get_service_aliases()).toEqual(["FLOOP", "BLOOP"]);
  });

  it("derives names like RPyC: class name upper-cased, Service suffix stripped", () => {
    class CalcService extends Service {}
    class Myservice extends Service {}
    class Foo extends Service {}
    expect(CalcService.get_service_name()).toBe("CALC");
    expect(Myservice.get_service_name()).toBe("MY");
    expect(Foo.get_service_name()).toBe("FOO");
    expect(VoidService.get_service_name()).toBe("VOID");
  });
});

describe("instances per connection", () => {
  class Counter extends Service {
    count = 0;
    constructor(readonly start = 0) {
      super();
      this.count = start;
    }
    exposed_increment(): number {
      return ++this.count;
    }
  }

  it("a class gives each connection its own instance", async () => {
    const server = await serve(Counter);
    const a = await connectTo<Counter>(server.port);
    const b = await connectTo<Counter>(server.port);
    expect(await a.root.increment()).toBe(1);
    expect(await a.root.increment()).toBe(2);
    expect(await b.root.increment()).toBe(1);
  });

  it("an instance is shared by all connections", async () => {
    const server = await serve(new Counter());
    const a = await connectTo<Counter>(server.port);
    const b = await connectTo<Counter>(server.port);
    expect(await a.root.increment()).toBe(1);
    expect(await b.root.increment()).toBe(2);
  });

  it("classpartial builds each connection's instance with the given arguments", async () => {
    const server = await serve(classpartial(Counter, 100));
    const a = await connectTo<Counter>(server.port);
    const b = await connectTo<Counter>(server.port);
    expect(await a.root.increment()).toBe(101);
    expect(await b.root.increment()).toBe(101);
  });
});

describe("symmetric connections and callbacks", () => {
  class ClientService extends Service {
    exposed_client_name = "the client";
    exposed_double(x: number): number {
      return 2 * x;
    }
  }

  class CallbackService extends Service {
    peer: Connection<ClientService> | undefined;
    override on_connect(conn: Connection): void {
      this.peer = conn as Connection<ClientService>;
    }
    async exposed_call_me(fn: (x: number) => Promise<number>, x: number): Promise<number> {
      return (await fn(x)) + 1;
    }
    async exposed_ask_client(x: number): Promise<unknown> {
      const root = this.peer!.root;
      return [await root.client_name, await root.double(x)];
    }
    exposed_make_adder(n: number): (x: number) => number {
      return (x) => x + n;
    }
    async exposed_ping_pong(depth: number, fn: (d: number) => Promise<number>): Promise<number> {
      return depth === 0 ? 0 : 1 + (await fn(depth - 1));
    }
    exposed_identity(x: unknown): unknown {
      return x;
    }
  }

  it("the server calls a client callback while the client's call is pending", async () => {
    const server = await serve(CallbackService);
    const conn = await connectTo<CallbackService>(server.port);
    expect(await conn.root.call_me((x) => x * 10, 4)).toBe(41);
    expect(await conn.root.call_me(async (x) => x * 3, 5)).toBe(16);
  });

  it("the server calls the client's own service root", async () => {
    const server = await serve(CallbackService);
    const conn = await connectTo<CallbackService>(server.port, { service: ClientService });
    expect(await conn.root.ask_client(21)).toEqual(["the client", 42]);
  });

  it("a function returned by the server is a callable netref", async () => {
    const server = await serve(CallbackService);
    const conn = await connectTo<CallbackService>(server.port);
    const add5 = await conn.root.make_adder(5);
    expect(isNetref(add5)).toBe(true);
    expect(await add5(10)).toBe(15);
  });

  it("nested calls in both directions never deadlock", async () => {
    const server = await serve(CallbackService);
    const conn = await connectTo<CallbackService>(server.port);
    // client -> server -> client -> server -> ... 20 levels deep
    const bounce = async (depth: number): Promise<number> => conn.root.ping_pong(depth, bounce);
    expect(await bounce(20)).toBe(20);
  });

  it("a netref passed back arrives as the original local object", async () => {
    const server = await serve(CallbackService);
    const conn = await connectTo<CallbackService>(server.port);
    const local = { marker: "mine" };
    const back = await conn.root.identity(local);
    expect(back).toBe(local);
    const fn = (): number => 1;
    expect(await conn.root.identity(fn)).toBe(fn);
    // And the server's objects come back as the same netref.
    const adder = await conn.root.make_adder(1);
    expect(await conn.root.identity(adder)).toBe(adder);
  });

  it("many concurrent calls on one connection all get their own answer", async () => {
    const server = await serve(CallbackService);
    const conn = await connectTo<CallbackService>(server.port);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => conn.root.call_me(async (x) => x, i)));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});

describe("values and references", () => {
  class Things extends Service {
    exposed_echo(x: unknown): unknown {
      return x;
    }
    exposed_map(): Map<string, number> {
      return new Map([
        ["a", 1],
        ["b", 2],
      ]);
    }
    exposed_list(): unknown[] {
      return [1, { inner: true }, 3];
    }
    *exposed_count(n: number): Generator<number> {
      for (let i = 0; i < n; i++) yield i;
    }
    exposed_add(a: number, b = 10, c = 100): number {
      return a + b + c;
    }
    exposed_obj(): object {
      return new (class Point {
        x = 1;
        exposed_y = 2;
        norm(): number {
          return 5;
        }
        __repr__(): string {
          return "Point(1, 2)";
        }
      })();
    }
  }

  it("echoes every brine type by value", async () => {
    const server = await serve(Things);
    const conn = await connectTo<Things>(server.port);
    const value = [null, true, false, 0, -1, 160, 2n ** 64n, 1.5, "héllo €", new Uint8Array([1, 2, 3]), [1, [2, [3]]]];
    expect(await conn.root.echo(value)).toEqual([null, true, false, 0, -1, 160, 2n ** 64n, 1.5, "héllo €", new Uint8Array([1, 2, 3]), [1, [2, [3]]]]);
    expect(await conn.root.echo(undefined)).toBeNull();
  });

  it("sends a tuple holding a reference as a tuple of boxed items", async () => {
    const server = await serve(Things);
    const conn = await connectTo<Things>(server.port);
    const list = (await conn.root.list()) as unknown[];
    expect(list[0]).toBe(1);
    expect(isNetref(list[1])).toBe(true);
    expect(list[2]).toBe(3);
  });

  it("serves Python's protocol on JavaScript containers", async () => {
    const server = await serve(Things);
    const conn = await connectTo<Things>(server.port);
    const map = await conn.root.map();
    expect(isNetref(map)).toBe(true);
    expect(await len(map)).toBe(2);
    expect(await getitem(map, "b")).toBe(2);
    await expect(getitem(map, "zz")).rejects.toThrow(/KeyError|'zz'/);
    const seen: unknown[] = [];
    for await (const key of (await conn.root.count(25)) as AsyncIterable<unknown>) seen.push(key);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("maps keyword arguments onto parameters", async () => {
    const server = await serve(Things);
    // Typed methods are positional; keyword arguments go through an untyped call.
    const root = (await connectTo(server.port)).root;
    expect(await root.add!(1, kwargs({ c: 1000 }))).toBe(1011);
    expect(await root.add!(1, kwargs({ b: 0, c: 0 }))).toBe(1);
    await expect(root.add!(1, kwargs({ d: 0 }))).rejects.toThrow("unexpected keyword argument 'd'");
  });

  it("answers repr, str, dir and hash for served objects", async () => {
    const server = await serve(Things);
    const conn = await connectTo<Things>(server.port);
    const point = await conn.root.obj();
    expect(await repr(point)).toBe("Point(1, 2)");
    expect(await str(point)).toBe("Point(1, 2)");
    expect(await dir(point)).toEqual(expect.arrayContaining(["exposed_y", "norm", "x"]));
    expect(typeof (await hash(point))).toBe("number");
    expect(await repr(conn.root)).toMatch(/^<rpyc_ts\.Things object at 0x[0-9a-f]+>$/);
  });

  it("reaches only exposed members of returned objects by default", async () => {
    const server = await serve(Things);
    const conn = await connectTo<Things>(server.port);
    const point = (await conn.root.obj()) as unknown as { y: PromiseLike<unknown>; x: PromiseLike<unknown>; norm(): Promise<unknown> };
    expect(await point.y).toBe(2);
    await expect(Promise.resolve(point.x)).rejects.toThrow("cannot access 'x'");
    await expect(point.norm()).rejects.toThrow("cannot access 'norm'");
  });

  it("reaches public members with allow_public_attrs", async () => {
    const server = await serve(Things, { protocolConfig: { allow_public_attrs: true } });
    const conn = await connectTo<Things>(server.port);
    const point = (await conn.root.obj()) as unknown as { x: PromiseLike<unknown>; norm(): Promise<unknown>; _secret: PromiseLike<unknown> };
    expect(await point.x).toBe(1);
    expect(await point.norm()).toBe(5);
  });

  it("refuses to set attributes on a service, even with allow_setattr", async () => {
    const server = await serve(Things, { protocolConfig: { allow_setattr: true } });
    const conn = await connectTo<Things>(server.port);
    await expect(setattr(conn.root, "exposed_x", 1)).rejects.toThrow("access denied");
  });

  it("sets attributes of plain objects only with allow_setattr", async () => {
    const target = { exposed_value: 1 };
    class Holder extends Service {
      exposed_target(): object {
        return target;
      }
    }
    const closed = await serve(Holder);
    const c1 = await connectTo<Holder>(closed.port);
    await expect(setattr(await c1.root.target(), "value", 2)).rejects.toThrow("cannot access 'value'");
    const open = await serve(Holder, { protocolConfig: { allow_setattr: true } });
    const c2 = await connectTo<Holder>(open.port);
    await setattr(await c2.root.target(), "value", 3);
    expect(target.exposed_value).toBe(3);
  });
});

describe("errors", () => {
  class Failing extends Service {
    exposed_value_error(): never {
      throw new ValueError("bad value", 7);
    }
    exposed_plain_error(): never {
      throw new Error("plain");
    }
    async exposed_async_type_error(): Promise<never> {
      await sleep(1);
      throw new TypeError("wrong type");
    }
  }

  it("a thrown error arrives with its Python type, args and the remote stack", async () => {
    const server = await serve(Failing);
    const conn = await connectTo<Failing>(server.port);
    const err = await conn.root.value_error().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValueError);
    expect(isRemoteException(err, "ValueError")).toBe(true);
    expect((err as ValueError).args).toEqual(["bad value", 7]);
    expect((err as ValueError).message).toBe("('bad value', 7)");
    expect((err as ValueError).remoteTraceback).toContain("exposed_value_error");
    expect((err as Error).stack).toContain("========= Remote Traceback (1) =========");
  });

  it("maps JavaScript error classes to Python builtins", async () => {
    const server = await serve(Failing);
    const conn = await connectTo<Failing>(server.port);
    const plain = await conn.root.plain_error().catch((e: unknown) => e);
    expect(isRemoteException(plain, "Exception")).toBe(true);
    expect((plain as Error).message).toBe("plain");
    const typeError = await conn.root.async_type_error().catch((e: unknown) => e);
    expect(isRemoteException(typeError, "builtins.TypeError")).toBe(true);
  });

  it("hides the traceback when include_local_traceback is off", async () => {
    const server = await serve(Failing, { protocolConfig: { include_local_traceback: false } });
    const conn = await connectTo<Failing>(server.port);
    const err = (await conn.root.value_error().catch((e: unknown) => e)) as ValueError;
    expect(err.remoteTraceback).toBe("<traceback denied>");
  });
});

describe("timeouts and close", () => {
  class Slow extends Service {
    disconnected = 0;
    static instances: Slow[] = [];
    constructor() {
      super();
      Slow.instances.push(this);
    }
    async exposed_sleep(ms: number): Promise<string> {
      await sleep(ms);
      return "woke";
    }
    override async on_disconnect(): Promise<void> {
      await sleep(1);
      this.disconnected++;
    }
  }

  it("rejects with AsyncResultTimeout after sync_request_timeout and stays usable", async () => {
    const server = await serve(Slow);
    const conn = await connectTo<Slow>(server.port, { config: { sync_request_timeout: 0.2 } });
    await expect(conn.root.sleep(1000)).rejects.toBeInstanceOf(AsyncResultTimeout);
    expect(await conn.root.sleep(1)).toBe("woke");
  });

  it("closing the client runs the server service's on_disconnect", async () => {
    Slow.instances.length = 0;
    const server = await serve(Slow);
    const conn = await connectTo<Slow>(server.port);
    expect(await conn.root.sleep(1)).toBe("woke");
    await conn.close();
    expect(conn.closed).toBe(true);
    await eventually(() => Slow.instances[0]?.disconnected === 1, 5000, "on_disconnect");
    await eventually(() => server.connections.size === 0, 5000, "server to drop the connection");
    await expect(conn.root.sleep(1)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it("pending calls fail with ConnectionClosedError when the server goes away", async () => {
    const server = new ThreadedServer(Slow, { hostname: "127.0.0.1", port: 0 });
    await server.start();
    const conn = await connectTo<Slow>(server.port);
    const pending = conn.root.sleep(10_000).catch((e: unknown) => e);
    await eventually(() => [...server.connections][0]?.stats().servingRequests === 1, 5000, "the call to run on the server");
    await server.close();
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    await conn.whenClosed();
  });

  it("runs async on_connect before connect() resolves, on both sides", async () => {
    const events: string[] = [];
    class Hello extends Service {
      override async on_connect(): Promise<void> {
        await sleep(5);
        events.push("server on_connect");
      }
    }
    class ClientSide extends Service {
      override async on_connect(): Promise<void> {
        await sleep(5);
        events.push("client on_connect");
      }
    }
    const server = await serve(Hello);
    const conn = await connectTo(server.port, { service: ClientSide });
    expect(events).toContain("client on_connect");
    await conn.ping();
    await eventually(() => events.includes("server on_connect"), 5000, "server on_connect");
  });

  it("pings", async () => {
    const server = await serve(Slow);
    const conn = await connectTo(server.port);
    await expect(conn.ping()).resolves.toBeUndefined();
    await expect(conn.ping("custom")).resolves.toBeUndefined();
  });
});

describe("servers", () => {
  it("OneShotServer serves one connection, then closes", async () => {
    const server = new OneShotServer(MyService, { hostname: "127.0.0.1", port: 0 });
    await server.start();
    const conn = await connectTo<MyService>(server.port);
    expect(await conn.root.get_answer()).toBe(42);
    await conn.close();
    await server.whenDone();
    await expect(connectTo(server.port, { timeout: 1 })).rejects.toThrow();
  });

  describe("on a Unix socket", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("serves and connects", async () => {
      const socketPath = path.join(dir, "seed.sock");
      const server = new ThreadedServer(MyService, { socketPath });
      await server.start();
      const conn = await unixConnect<MyService>(socketPath);
      expect(await conn.root.get_answer()).toBe(42);
      await conn.close();
      await server.close();
    });
  });

  it("close() resolves after every connection is closed", async () => {
    const server = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0 });
    await server.start();
    const conns = await Promise.all([1, 2, 3].map(() => connectTo<MyService>(server.port)));
    await Promise.all(conns.map((c) => c.root.get_answer()));
    expect(server.connections.size).toBe(3);
    await server.close();
    expect(server.connections.size).toBe(0);
    await Promise.all(conns.map((c) => c.whenClosed()));
    expect(conns.every((c) => c.closed)).toBe(true);
  });
});

describe("values that cannot be sent", () => {
  class Echo extends Service {
    exposed_echo(x: unknown): unknown {
      return x;
    }
    exposed_cyclic(): unknown {
      const a: unknown[] = [1];
      a.push(a);
      return a;
    }
  }

  it("refuses a cyclic or absurdly deep tuple with a clear error, and the connection goes on", async () => {
    const server = await serve(Echo);
    const conn = await connectTo<Echo>(server.port);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    await expect(conn.root.echo(cyclic)).rejects.toThrow(/nested deeper than 256 levels \(or cyclic\)/);
    await expect(conn.root.cyclic()).rejects.toThrow(/nested deeper than 256 levels \(or cyclic\)/);
    expect(await conn.root.echo([1, [2]])).toEqual([1, [2]]);
  });

  it("refuses promises, unawaited attributes and symbols", async () => {
    const server = await serve(Echo);
    const conn = await connectTo<Echo>(server.port);
    await expect(conn.root.echo(Promise.resolve(1))).rejects.toThrow(/await it first/);
    await expect(conn.root.echo(conn.root.get_service_name)).rejects.toThrow(/await it first/);
    await expect(conn.root.echo(Symbol("s"))).rejects.toThrow(/cannot send a symbol/);
  });
});
