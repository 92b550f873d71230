// Observability: conn.stats() counters move as traffic flows (and agree between the two
// ends), and the "request" / "reply" / "error" / "close" events carry what a tracer needs
// (seq, handler, name, direction, times) for calls in both directions, exceptions,
// timeouts, aborts and closes; off() and once() work, and a throwing listener breaks nothing.

import { describe, expect, it } from "vitest";
import * as C from "../../runtime/wire/consts.js";
import {
  AsyncResultTimeout,
  ConnectionClosedError,
  Service,
  ValueError,
  release,
  withOptions,
  type CloseEvent,
  type Connection,
  type ConnectionStats,
  type ReplyEvent,
  type RequestErrorEvent,
  type RequestEvent,
} from "../../runtime/index.js";
import { connectTo, eventually, serve, sleep } from "../helpers/servers.js";

function serverSide(server: { connections: Set<Connection> }): Connection {
  const [conn] = server.connections;
  if (!conn) throw new Error("no server-side connection");
  return conn;
}

class Traced extends Service {
  private gate: (() => void) | undefined;
  exposed_add(a: number, b: number): number {
    return a + b;
  }
  exposed_make(): { exposed_name: string } {
    return { exposed_name: "made" };
  }
  exposed_fail(): never {
    throw new ValueError("bad value");
  }
  /** Callbacks are kept, so no HANDLE_DEL for them arrives at a moment the garbage collector picks. */
  readonly kept: unknown[] = [];
  async exposed_call_me(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    this.kept.push(fn);
    return (await fn(x)) + 1;
  }
  async exposed_slow(ms: number): Promise<number> {
    await sleep(ms);
    return ms;
  }
  exposed_wait(): Promise<string> {
    return new Promise((resolve) => (this.gate = () => resolve("opened")));
  }
  open(): void {
    this.gate?.();
  }
}

/** Every event of a connection, recorded. */
function record<T>(conn: Connection<T>) {
  const log = { request: [] as RequestEvent[], reply: [] as ReplyEvent[], error: [] as RequestErrorEvent[], close: [] as CloseEvent[] };
  const listeners = {
    request: (e: RequestEvent) => log.request.push(e),
    reply: (e: ReplyEvent) => log.reply.push(e),
    error: (e: RequestErrorEvent) => log.error.push(e),
    close: (e: CloseEvent) => log.close.push(e),
  };
  conn.on("request", listeners.request).on("reply", listeners.reply).on("error", listeners.error).on("close", listeners.close);
  const off = (): void => {
    conn.off("request", listeners.request).off("reply", listeners.reply).off("error", listeners.error).off("close", listeners.close);
  };
  const clear = (): void => {
    for (const list of Object.values(log)) list.length = 0;
  };
  return { log, off, clear };
}

/** Waits until both ends have seen all of each other's bytes (no traffic in flight). */
async function quiescent<A, B>(a: Connection<A>, b: Connection<B>): Promise<[ConnectionStats, ConnectionStats]> {
  await eventually(
    () => {
      const [x, y] = [a.stats(), b.stats()];
      return x.bytesOut === y.bytesIn && y.bytesOut === x.bytesIn && x.pendingRequests === 0 && y.pendingRequests === 0;
    },
    3000,
    "the two ends to agree",
  );
  return [a.stats(), b.stats()];
}

describe("stats()", () => {
  it("counts bytes, frames, requests, objects, pending and serving requests and errors; both ends agree", async () => {
    const service = new Traced();
    const server = await serve(service);
    const conn = await connectTo<Traced>(server.port);
    await conn.getRoot();
    const serverConn = serverSide(server);
    const [c0, s0] = await quiescent(conn, serverConn);
    expect(c0.bytesOut).toBeGreaterThan(0);
    expect(c0.framesOut).toBe(s0.framesIn);
    expect(c0.requestsSent).toBe(1); // GETROOT
    expect(s0.requestsServed).toBe(1);
    expect(c0.remoteNetrefs).toBe(1); // the root
    expect(s0.localObjects).toBe(1);

    expect(await conn.root.add(2, 3)).toBe(5);
    const [c1, s1] = await quiescent(conn, serverConn);
    expect(c1.bytesOut).toBeGreaterThan(c0.bytesOut);
    expect(c1.bytesIn).toBeGreaterThan(c0.bytesIn);
    expect(c1.framesOut - c0.framesOut).toBe(1);
    expect(c1.framesIn - c0.framesIn).toBe(1);
    expect(c1.requestsSent - c0.requestsSent).toBe(1);
    expect(s1.requestsServed - s0.requestsServed).toBe(1);
    expect(c1.framesOut).toBe(s1.framesIn);
    expect(c1.framesIn).toBe(s1.framesOut);

    // Objects: a netref here is an entry in the server's table; releasing it sends DEL.
    const made = await conn.root.make();
    expect(conn.stats().remoteNetrefs).toBe(2);
    expect(serverConn.stats().localObjects).toBe(2);
    release(made);
    await eventually(() => serverConn.stats().localObjects === 1, 3000, "the DEL");
    expect(conn.stats().remoteNetrefs).toBe(1);
    // A callback here is an entry in our table while the server holds it.
    expect(await conn.root.call_me(async (x: number) => x * 10, 4)).toBe(41);
    expect(conn.stats().requestsServed).toBe(1); // the server's HANDLE_CALL

    // Pending (ours) and serving (theirs).
    const waiting = conn.root.wait();
    await eventually(() => serverConn.stats().servingRequests === 1, 2000, "the call to run");
    expect(conn.stats().pendingRequests).toBe(1);
    service.open();
    expect(await waiting).toBe("opened");
    expect(conn.stats().pendingRequests).toBe(0);
    expect(serverConn.stats().servingRequests).toBe(0);

    // Errors: an exception reply counts on both ends.
    const [c2, s2] = await quiescent(conn, serverConn);
    await expect(conn.root.fail()).rejects.toBeInstanceOf(ValueError);
    const [c3, s3] = await quiescent(conn, serverConn);
    expect(c3.errors - c2.errors).toBe(1);
    expect(s3.errors - s2.errors).toBe(1);
    expect(s3.requestsServed - s2.requestsServed).toBe(1);
    expect(c3).toMatchObject({ queuedRequests: 0, queuedBytes: 0, readingPaused: false, writeBuffer: 0 });

    await conn.close();
    expect(conn.stats()).toMatchObject({ pendingRequests: 0, localObjects: 0, remoteNetrefs: 0 });
  });
});

describe("events", () => {
  it("a call out and its reply, seen from both ends, with seq, handler, name, direction and duration", async () => {
    const server = await serve(Traced);
    const conn = await connectTo<Traced>(server.port);
    await conn.getRoot();
    const client = record(conn);
    const srv = record(serverSide(server));

    expect(await conn.root.slow(20)).toBe(20);
    await eventually(() => srv.log.reply.length === 1, 2000, "the server's reply event");
    expect(client.log.request).toHaveLength(1);
    const out = client.log.request[0]!;
    expect(out).toMatchObject({ connid: conn.connid, handler: C.HANDLE_CALLATTR, handlerName: "HANDLE_CALLATTR", name: "slow", direction: "out" });
    expect(client.log.reply).toHaveLength(1);
    const done = client.log.reply[0]!;
    expect(done).toMatchObject({ seq: out.seq, start: out.start, name: "slow", direction: "out" });
    expect(done.end).toBeGreaterThanOrEqual(done.start);
    expect(done.duration).toBeCloseTo(done.end - done.start, 6);
    expect(done.duration).toBeGreaterThanOrEqual(15); // the handler slept 20 ms
    expect(done.start).toBeGreaterThan(Date.now() - 60_000); // epoch milliseconds
    expect(done.start).toBeLessThanOrEqual(Date.now() + 1);

    // The server saw the same request coming in, with the client's seq.
    expect(srv.log.request).toEqual([expect.objectContaining({ seq: out.seq, handler: C.HANDLE_CALLATTR, name: "slow", direction: "in" })]);
    expect(srv.log.reply[0]).toMatchObject({ seq: out.seq, direction: "in", name: "slow" });
    expect(srv.log.reply[0]!.duration).toBeGreaterThanOrEqual(15);
    expect(client.log.error).toEqual([]);
    expect(srv.log.error).toEqual([]);
  });

  it("a callback from the server is an 'in' request on the client and an 'out' one on the server", async () => {
    const server = await serve(Traced);
    const conn = await connectTo<Traced>(server.port);
    await conn.getRoot();
    const client = record(conn);
    const srv = record(serverSide(server));
    expect(await conn.root.call_me(async (x: number) => x * 2, 5)).toBe(11);
    await eventually(() => srv.log.reply.length === 2, 2000, "the server's events");
    expect(client.log.request.map((e) => [e.direction, e.handlerName, e.name])).toEqual([
      ["out", "HANDLE_CALLATTR", "call_me"],
      ["in", "HANDLE_CALL", undefined],
    ]);
    // Nested: the callback's reply completes before the outer call's.
    expect(client.log.reply.map((e) => [e.direction, e.handlerName])).toEqual([
      ["in", "HANDLE_CALL"],
      ["out", "HANDLE_CALLATTR"],
    ]);
    expect(srv.log.request.map((e) => [e.direction, e.handlerName])).toEqual([
      ["in", "HANDLE_CALLATTR"],
      ["out", "HANDLE_CALL"],
    ]);
    // The callback's seq is the server's: the client's "in" event and the server's "out" event agree.
    expect(client.log.request[1]!.seq).toBe(srv.log.request[1]!.seq);
  });

  it("exceptions (both ends), timeouts, aborts and closes are 'error' events of their kind; 'close' fires once", async () => {
    const server = await serve(Traced);
    const conn = await connectTo<Traced>(server.port, { config: { sync_request_timeout: 30 } });
    await conn.getRoot();
    const client = record(conn);
    const srv = record(serverSide(server));

    await expect(conn.root.fail()).rejects.toBeInstanceOf(ValueError);
    await eventually(() => srv.log.error.length === 1, 2000, "the server's error event");
    expect(client.log.error[0]).toMatchObject({ kind: "exception", direction: "out", name: "fail", handler: C.HANDLE_CALLATTR });
    expect(client.log.error[0]!.error).toBeInstanceOf(ValueError);
    expect(srv.log.error[0]).toMatchObject({ kind: "exception", direction: "in", name: "fail" });
    expect(String(srv.log.error[0]!.error)).toMatch(/bad value/);

    // (A deadline already past when the request would go out rejects with no events: nothing was sent.
    // 100 ms leaves room for a loaded machine between the call and the send.)
    await expect(withOptions(conn.root, { timeout: 0.1 }).slow(1000)).rejects.toBeInstanceOf(AsyncResultTimeout);
    expect(client.log.error[1]).toMatchObject({ kind: "timeout", name: "slow", direction: "out" });
    expect(client.log.error[1]!.error).toBeInstanceOf(AsyncResultTimeout);
    expect(client.log.error[1]!.duration).toBeGreaterThanOrEqual(50);

    const ac = new AbortController();
    const aborted = withOptions(conn.root, { signal: ac.signal }).slow(300);
    await eventually(() => client.log.request.length === 3, 2000, "the request event");
    ac.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    expect(client.log.error[2]).toMatchObject({ kind: "aborted", name: "slow" });

    const pending = conn.root.wait();
    await eventually(() => client.log.request.length === 4, 2000, "the request event");
    const closing = pending.catch((err: unknown) => err);
    await conn.close();
    expect(await closing).toBeInstanceOf(ConnectionClosedError);
    expect(client.log.error[3]).toMatchObject({ kind: "closed", name: "wait" });
    expect(client.log.error[3]!.error).toBeInstanceOf(ConnectionClosedError);
    expect(client.log.error).toHaveLength(4);
    expect(client.log.close).toEqual([{ connid: conn.connid, reason: undefined }]);
    // The late replies of the timed-out and aborted calls produced no second end event.
    expect(client.log.reply).toHaveLength(0);
    await eventually(() => srv.log.close.length === 1, 2000, "the server's close event");
  });

  it("off() stops a listener, once() fires once, a throwing listener breaks nothing", async () => {
    const server = await serve(Traced);
    const conn = await connectTo<Traced>(server.port);
    await conn.getRoot();
    const seen: string[] = [];
    const listener = (e: RequestEvent): void => void seen.push(`on:${e.name ?? ""}`);
    conn.on("request", listener);
    conn.once("reply", (e) => void seen.push(`once:${e.name ?? ""}`));
    conn.on("request", () => {
      throw new Error("a broken tracer");
    });
    expect(conn.listenerCount("request")).toBe(2);
    expect(await conn.root.add(1, 1)).toBe(2);
    expect(await conn.root.add(2, 2)).toBe(4);
    expect(seen).toEqual(["on:add", "once:add", "on:add"]);
    expect(conn.listenerCount("reply")).toBe(0);
    conn.off("request", listener);
    expect(conn.listenerCount("request")).toBe(1);
    expect(await conn.root.add(3, 3)).toBe(6);
    expect(seen).toHaveLength(3);
    // once() listeners can be removed by the original function before they fire.
    const never = (): void => void seen.push("never");
    conn.once("reply", never);
    conn.off("reply", never);
    expect(await conn.root.add(4, 4)).toBe(8);
    expect(seen).toHaveLength(3);
  });

  it("a tracer keyed by (direction, seq) opens and closes one span per request, none left open", async () => {
    const server = await serve(Traced);
    const conn = await connectTo<Traced>(server.port, { config: { sync_request_timeout: 30 } });
    await conn.getRoot();
    const open = new Map<string, RequestEvent>();
    const ended: { name: string | undefined; handler: number; ok: boolean; ms: number }[] = [];
    const key = (e: RequestEvent): string => `${e.direction}:${String(e.seq)}`;
    // (A tracer would skip HANDLE_DEL, which the garbage collector sends at any time.)
    conn.on("request", (e) => open.set(key(e), e));
    const unmatched: string[] = []; // (an expect() inside a listener would only be logged)
    conn.on("reply", (e) => {
      if (!open.delete(key(e))) unmatched.push(key(e));
      ended.push({ name: e.name, handler: e.handler, ok: true, ms: e.duration });
    });
    conn.on("error", (e) => {
      if (!open.delete(key(e))) unmatched.push(key(e));
      ended.push({ name: e.name, handler: e.handler, ok: false, ms: e.duration });
    });
    await Promise.allSettled([
      conn.root.add(1, 2),
      conn.root.fail(),
      conn.root.call_me(async (x: number) => x, 1),
      withOptions(conn.root, { timeout: 0.1 }).slow(1000),
      conn.ping(),
    ]);
    expect(open.size).toBe(0);
    expect(unmatched).toEqual([]);
    expect(
      ended
        .filter((s) => !s.ok)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["fail", "slow"]);
    expect(ended.filter((s) => s.handler !== C.HANDLE_DEL)).toHaveLength(6); // five calls plus the server's callback into us
  });
});
