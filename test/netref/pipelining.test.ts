// Promise pipelining (runtime/netref/pipeline.ts): members used on a call's promise before it
// resolves go out at once with the native codec (one round trip: the server sees every
// dependent request before it answers the first), errors reach every dependent, chains of
// three work, plain-data results and late uses fall back, brine and Python peers get the
// same results with one round trip per call, and held results and netrefs are freed.

import { afterEach, describe, expect, it } from "vitest";
import { Service, type Connection, type Remote, type RemoteResult, type RequestEvent } from "../../runtime/index.js";
import { ValueError } from "../../runtime/errors/python-exceptions.js";
import { CallbackService } from "../../fixtures/callbacks/callback-service.js";
import { CallbackServiceDispatch } from "../../fixtures/callbacks/expected/callback-service.dispatch.js";
import { CounterServiceDispatch } from "../../fixtures/callbacks/expected/counter-service.dispatch.js";
import { COUNTER_SERVICE_SCHEMA, connectCallback } from "../../fixtures/callbacks/expected/index.js";
import { startPython } from "../helpers/python.js";
import { sessionOf } from "../../runtime/connection/connection.js";
import { connectTo, eventually, serve, sleep } from "../helpers/servers.js";

const gc = (globalThis as { gc?: () => void }).gc;

// ---- an untyped service handing out objects ------------------------------------------------

class Row {
  constructor(readonly exposed_id: string) {}
}

class Table {
  constructor(readonly exposed_name: string) {}
  exposed_row(i: number): Row {
    return new Row(`${this.exposed_name}[${i}]`);
  }
  exposed_count(): number {
    return 3;
  }
}

class Db {
  constructor(readonly exposed_name: string) {}
  exposed_query(x: string): string {
    return `${this.exposed_name}:${x}`;
  }
  exposed_table(t: string): Table {
    return new Table(`${this.exposed_name}.${t}`);
  }
  exposed_fail(): never {
    throw new ValueError(`${this.exposed_name} cannot`);
  }
}

/** Opened by the test: get_db waits for it, so replies can be held back. */
let gate: Promise<void> = Promise.resolve();
let openGate: () => void = () => {};
function closeGate(): void {
  gate = new Promise((resolve) => (openGate = resolve));
}

class Lab extends Service {
  async exposed_get_db(name: string): Promise<Db> {
    await gate;
    return new Db(name);
  }
  async exposed_broken(): Promise<Db> {
    await gate;
    throw new ValueError("no database today");
  }
  exposed_numbers(): number[] {
    return [1, 2, 3];
  }
}

/** A pending call result, typed as pipelinable (method types return plain Promises). */
function pending<T>(promise: Promise<T>): RemoteResult<T> {
  return promise as RemoteResult<T>;
}

/** An untyped pending result whose member `name` is used: `(await x).name` without the await. */
function member(promise: Promise<unknown>, name: string): ((...args: unknown[]) => Promise<unknown>) & PromiseLike<unknown> {
  return (promise as unknown as Record<string, ((...args: unknown[]) => Promise<unknown>) & PromiseLike<unknown>>)[name]!;
}

type LabRoot = Remote<Lab>;

function serverSide(server: { connections: Set<Connection> }): Connection {
  const [conn] = server.connections;
  if (!conn) throw new Error("no server-side connection");
  return conn;
}

/** A Lab server and a client that agreed on the native codec (the client offers: it has a schema). */
async function lab(
  codec: "auto" | "brine" = "auto",
  maxConcurrentRequests?: number,
): Promise<{ root: LabRoot; conn: Connection; server: Connection; seen: RequestEvent[] }> {
  const server = await serve(Lab, maxConcurrentRequests === undefined ? {} : { protocolConfig: { maxConcurrentRequests } });
  const conn = await connectTo(server.port, { schemas: [COUNTER_SERVICE_SCHEMA], config: { codec } });
  expect((await conn.negotiated).codec).toBe(codec === "auto" ? "native" : "brine");
  const root = (await conn.getRoot()) as unknown as LabRoot;
  const side = serverSide(server);
  const seen: RequestEvent[] = [];
  side.on("request", (event) => seen.push(event));
  return { root, conn, server: side, seen };
}

afterEach(() => openGate());

const names = (events: readonly RequestEvent[]): (string | undefined)[] => events.map((e) => e.name);

describe("promise pipelining with the native codec", () => {
  it("a method call on a pending result is sent with it: the server sees both before it answers the first", async () => {
    const { root, conn, server, seen } = await lab();
    const sent = conn.stats().requestsSent;
    closeGate();
    const result = pending(root.get_db("main")).query("x");
    // get_db cannot answer until the gate opens, yet query has already arrived.
    await eventually(() => seen.length === 2, 2000, "both requests at the server");
    expect(names(seen)).toEqual(["get_db", "query"]);
    expect(sessionOf(server).native.held.size).toBe(1);
    openGate();
    expect(await result).toBe("main:x");
    expect(conn.stats().requestsSent - sent).toBe(2);
    expect(sessionOf(server).native.held.size).toBe(0);
    expect(conn.stats()).toMatchObject({ pendingRequests: 0, errors: 0 });
  });

  it("attribute reads, several dependents of one result and a three-level chain: one round trip", async () => {
    const { root, server, seen } = await lab();
    closeGate();
    const db = pending(root.get_db("sales"));
    const all = Promise.all([db.name, db.query("q"), pending(pending(db.table("orders")).row(7)).id, pending(db.table("items")).count()]);
    await eventually(() => seen.length === 8, 2000, "every request at the server");
    expect(names(seen).slice().sort()).toEqual(["count", "get_db", "id", "name", "query", "row", "table", "table"]);
    expect(names(seen)[0]).toBe("get_db");
    openGate();
    expect(await all).toEqual(["sales", "sales:q", "sales.orders[7]", 3]);
    // The base promise itself still resolves to the netref.
    const dbRef = await db;
    expect(await dbRef.name).toBe("sales");
    expect(sessionOf(server).native.held.size).toBe(0);
  });

  it("the first call's error rejects every dependent call, with the same error", async () => {
    const { root, conn, server, seen } = await lab();
    closeGate();
    const broken = pending(root.broken());
    const dependents = [broken.query("x"), pending(broken.table("t")).row(1), Promise.resolve(broken.name)];
    await eventually(() => seen.length === 5, 2000, "every request at the server");
    openGate();
    const base = await broken.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(base).toBeInstanceOf(Error);
    expect((base as Error).message).toContain("no database today");
    const outcomes = await Promise.allSettled(dependents);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason as Error;
      expect(reason.name).toBe((base as Error).name);
      expect(reason.message).toBe((base as Error).message);
    }
    expect(sessionOf(server).native.held.size).toBe(0);
    expect(conn.stats().pendingRequests).toBe(0);
  });

  it("a server serving one request at a time queues the dependents behind their base, in order", async () => {
    const { root, server, seen } = await lab("auto", 1);
    closeGate();
    const chain = pending(pending(pending(root.get_db("one")).table("t")).row(3)).id;
    const other = pending(root.get_db("two")).query("q");
    await eventually(() => seen.length > 0, 5000, "the first request to be served");
    await sleep(20); // deliberate: time for a request that must not be served yet to show up
    expect(names(seen)).toEqual(["get_db"]); // the rest wait in the queue
    openGate();
    expect(await Promise.all([chain, other])).toEqual(["one.t[3]", "two:q"]);
    expect(names(seen).slice().sort()).toEqual(["get_db", "get_db", "id", "query", "row", "table"]);
    expect(sessionOf(server).native.held.size).toBe(0);
  });

  it("a dependent's own error stays its own; the others succeed", async () => {
    const { root, server } = await lab();
    const db = pending(root.get_db("x"));
    const [failed, ok] = await Promise.allSettled([db.fail(), db.query("y")]);
    expect(failed.status).toBe("rejected");
    expect(((failed as PromiseRejectedResult).reason as Error).message).toContain("x cannot");
    expect(ok).toEqual({ status: "fulfilled", value: "x:y" });
    expect(sessionOf(server).native.held.size).toBe(0);
  });

  it("a dependent that cannot be sent gives its slot back; the result is freed", async () => {
    const { root, server } = await lab();
    const db = pending(root.get_db("x"));
    const bad = db.query(Promise.resolve(1) as unknown as string); // a Promise cannot be sent
    const good = db.query("z");
    await expect(bad).rejects.toThrow(/Promise/);
    expect(await good).toBe("x:z");
    await eventually(() => sessionOf(server).native.held.size === 0, 2000, "the held result freed");
  });

  it("plain-data results and uses made after the call left still work (waiting for the result)", async () => {
    const { root, server, seen } = await lab();
    // A list arrives by value: its members are read locally.
    expect(await member(root.numbers(), "length")).toBe(3);
    const db = pending(root.get_db("late"));
    // The call has left (without dependents): the server has it.
    await eventually(() => names(seen).includes("get_db"), 2000, "get_db at the server");
    seen.length = 0;
    expect(await db.query("q")).toBe("late:q");
    expect(names(seen)).toEqual(["query"]);
    expect(sessionOf(server).native.held.size).toBe(0);
  });

  it("compiled services: a typed call on a pending compiled netref decodes by its schema", async () => {
    const server = await serve(CallbackService, { dispatch: [CallbackServiceDispatch, CounterServiceDispatch] });
    const conn = await connectCallback("127.0.0.1", server.port, { schemas: [COUNTER_SERVICE_SCHEMA] });
    try {
      expect((await conn.negotiated).codec).toBe("native");
      const root = await conn.getRoot();
      const side = serverSide(server);
      const seen: RequestEvent[] = [];
      side.on("request", (event) => seen.push(event));
      // The client's own view: every request left before the first reply came back.
      const order: string[] = [];
      conn.on("request", (event) => order.push(`sent ${event.name ?? event.handlerName}`));
      conn.on("reply", (event) => order.push(`reply ${event.name ?? event.handlerName}`));
      const counter = pending(root.counter(10));
      const [first, value] = await Promise.all([counter.increment(), counter.value]);
      expect(first).toBe(11);
      expect(typeof first).toBe("number");
      expect([10, 11]).toContain(value);
      expect(names(seen).slice().sort()).toEqual(["counter", "increment", "value"]);
      expect(order.slice(0, 3).sort()).toEqual(["sent counter", "sent increment", "sent value"]);
      expect(sessionOf(side).native.held.size).toBe(0);
    } finally {
      await conn.close();
    }
  });

  it("no leaks: held results and the netrefs they made go back to the baseline", async () => {
    if (!gc) throw new Error("needs node --expose-gc (vitest.config.ts sets it)");
    const { root, server } = await lab();
    const baseline = server.stats().localObjects;
    for (let i = 0; i < 20; i++) {
      expect(await pending(pending(pending(root.get_db(`d${i}`)).table("t")).row(i)).id).toBe(`d${i}.t[${i}]`);
    }
    expect(sessionOf(server).native.held.size).toBe(0);
    for (let i = 0; i < 200 && server.stats().localObjects !== baseline; i++) {
      gc();
      await sleep(10);
    }
    expect(server.stats().localObjects).toBe(baseline);
  });
});

describe("without the native codec the same expressions wait for each result", () => {
  it("brine between rpyc-ts peers: correct results, the dependent leaves only after the first reply", async () => {
    const { root, server, seen } = await lab("brine");
    closeGate();
    const result = pending(pending(pending(root.get_db("b")).table("t")).row(1)).id;
    const failing = pending(root.broken()).query("x");
    const failed = expect(failing).rejects.toThrow(/no database today/);
    await eventually(() => seen.length >= 2, 5000, "both first calls to be served");
    await sleep(20); // deliberate: time for a dependent that must not be sent yet to show up
    expect(names(seen)).toEqual(["get_db", "broken"]);
    openGate();
    expect(await result).toBe("b.t[1]");
    await failed;
    expect(sessionOf(server).native.held.size).toBe(0);
  });

  it("Python RPyC server: pipelined expressions work (two round trips), errors propagate", async () => {
    const py = await startPython("interop_server.py");
    try {
      const conn = await connectTo(py.port, { schemas: [COUNTER_SERVICE_SCHEMA] });
      try {
        expect((await conn.negotiated).codec).toBe("brine");
        const root = (await conn.getRoot()) as unknown as { get_thing(name: string): Promise<unknown>; raise_value_error(): Promise<unknown> };
        expect(await member(root.get_thing("py"), "hello")()).toBe("hello from py");
        await expect(member(root.raise_value_error(), "anything")()).rejects.toThrow(/ValueError|value/i);
        expect(conn.stats().pendingRequests).toBe(0);
      } finally {
        await conn.close();
      }
    } finally {
      await py.stop();
    }
  });
});
