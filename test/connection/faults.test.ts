// Faults: a peer that dies mid-call (process killed, socket reset, half-open), timeouts
// whose reply comes late, per-call deadlines and cancellation, server close with and
// without draining, and backpressure against a peer that never reads its replies. Every
// pending call must reject promptly with a clear error, on_disconnect must run, and the
// object tables must be freed; late replies are dropped and their references given back.

import { spawn, type ChildProcess } from "node:child_process";
import { getEventListeners } from "node:events";
import net, { type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, onTestFinished, vi } from "vitest";
import * as C from "../../runtime/wire/consts.js";
import { AsyncResultTimeout, Connection, ConnectionClosedError, Service, SocketStream, isRemoteException, release, withOptions } from "../../runtime/index.js";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { sessionOf } from "../../runtime/connection/connection.js";
import { startPython } from "../helpers/python.js";
import { RawPeer, messageFrame } from "../helpers/raw-peer.js";
import { connectTo, eventually, serve, sleep } from "../helpers/servers.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

// "Promptly" is not measured with a clock: a pending call that was not rejected by the fault
// itself would wait for a sync_request_timeout of 30 s (or none), beyond the test's timeout,
// and its rejection reason (ConnectionClosedError, not AsyncResultTimeout) names the cause.

/** Settles every promise; resolves with the rejection reasons, in order (fails on a fulfilment). */
async function rejections(promises: readonly Promise<unknown>[]): Promise<unknown[]> {
  const results = await Promise.allSettled(promises);
  return results.map((result, i) => {
    if (result.status === "fulfilled") throw new Error(`call ${i} was expected to reject, got ${String(result.value)}`);
    return result.reason as unknown;
  });
}

/** A promise the test resolves: service methods await `opened` until the test calls open(). */
class Gate {
  open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
}

/**
 * Records SocketStream.destroy() calls until the test ends. `of(conn)`: was the connection's
 * transport destroyed (at once), rather than only ended (which waits up to 2 s for the peer's FIN)?
 */
function streamDestroys(): { of(conn: object): boolean } {
  const spy = vi.spyOn(SocketStream.prototype, "destroy");
  onTestFinished(() => spy.mockRestore());
  return { of: (conn) => spy.mock.contexts.includes((sessionOf(conn as Connection) as unknown as { stream: SocketStream }).stream) };
}

function serverSide(server: { connections: Set<Connection> }): Connection {
  const [conn] = server.connections;
  if (!conn) throw new Error("no server-side connection");
  return conn;
}

/** A client-side service that records on_disconnect. */
class Watcher extends Service {
  disconnects = 0;
  override on_disconnect(): void {
    this.disconnects++;
  }
  exposed_ping(): string {
    return "pong";
  }
}

// ---- a peer process killed mid-call ---------------------------------------------------------

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** test/helpers/fault-server.ts in a process of its own; resolves with it and its port. */
async function startFaultServer(): Promise<{ child: ChildProcess; port: number; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/fault-server.ts"], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let text = "";
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  await eventually(() => /^PORT \d+$/m.test(text) || child.exitCode !== null, 15_000, "the fault server to print its port");
  const match = /^PORT (\d+)$/m.exec(text);
  if (!match) throw new Error(`fault server failed:\n${text}`);
  return { child, port: Number(match[1]), exited };
}

describe("a peer process killed mid-call", () => {
  it("rpyc-ts server: SIGKILL rejects every pending call promptly, runs on_disconnect, frees the tables", async () => {
    const { child, port, exited } = await startFaultServer();
    const watcher = new Watcher();
    const conn = await connectTo<{ hang(cb: (n: number) => Promise<number>): Promise<never>; echo(x: unknown): Promise<unknown> }>(port, {
      service: watcher,
      config: { sync_request_timeout: 30 },
    });
    expect(await conn.root.echo("alive")).toBe("alive");
    const called: number[] = [];
    const calls = [1, 2, 3].map((i) => conn.root.hang(async (n: number) => (called.push(i), n)));
    // Each hang() called its callback once: the server holds netrefs to our callbacks.
    await eventually(() => called.length === 3, 5000, "the server to call back");
    const before = conn.stats();
    expect(before.pendingRequests).toBe(3);
    expect(before.localObjects).toBeGreaterThanOrEqual(3);
    expect(before.remoteNetrefs).toBeGreaterThanOrEqual(1); // the root

    child.kill("SIGKILL");
    const reasons = await rejections(calls);
    for (const reason of reasons) expect(reason).toBeInstanceOf(ConnectionClosedError);
    await conn.whenClosed();
    expect(watcher.disconnects).toBe(1);
    expect(conn.stats()).toMatchObject({ pendingRequests: 0, localObjects: 0, remoteNetrefs: 0, servingRequests: 0, queuedRequests: 0 });
    await expect(conn.root.echo("again")).rejects.toBeInstanceOf(ConnectionClosedError);
    await exited;
  });

  it("Python RPyC server: SIGKILL rejects every pending call promptly, runs on_disconnect, frees the tables", async () => {
    const py = await startPython("interop_server.py");
    const watcher = new Watcher();
    type Py = { sleep(s: number): Promise<number>; get_thing(name: string): Promise<unknown>; hold(obj: unknown): Promise<void> };
    const conn = await connectTo<Py>(py.port, { service: watcher, config: { sync_request_timeout: 30 } });
    const thing = await conn.root.get_thing("held");
    await conn.root.hold(() => 1); // a callback of ours in our object table
    expect(conn.stats().localObjects).toBeGreaterThanOrEqual(1);
    expect(conn.stats().remoteNetrefs).toBeGreaterThanOrEqual(2); // root, thing
    const calls = [conn.root.sleep(30), conn.root.sleep(30), conn.root.sleep(30)];
    await eventually(() => conn.stats().pendingRequests === 3, 5000, "the calls to be pending");
    await sleep(100); // mostly lets the first sleep() start in Python; the outcome is the same if it has not

    py.proc.kill("SIGKILL");
    const reasons = await rejections(calls);
    for (const reason of reasons) expect(reason).toBeInstanceOf(ConnectionClosedError);
    await conn.whenClosed();
    expect(watcher.disconnects).toBe(1);
    expect(conn.stats()).toMatchObject({ pendingRequests: 0, localObjects: 0, remoteNetrefs: 0 });
    expect(thing).toBeDefined();
    await py.stop();
  });

  it("a Python RPyC server answers heartbeat pings between requests: an idle connection stays open", async () => {
    const py = await startPython("interop_server.py");
    // Python must answer each ping within one interval: 0.4 s leaves room for a loaded machine.
    const conn = await connectTo<{ echo(x: unknown): Promise<unknown> }>(py.port, { config: { heartbeatInterval: 0.4 } });
    let pings = 0;
    conn.on("reply", (event) => {
      if (event.handler === C.HANDLE_PING) pings++;
    });
    expect(await conn.root.echo(1)).toBe(1);
    await sleep(3200); // deliberate: idle for 8 intervals, so pings go out (one every ~2 intervals) and are answered
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(conn.closed).toBe(false);
    expect(await conn.root.echo(2)).toBe(2);
    await conn.close();
    await py.stop();
  });
});

// ---- socket reset and half-open peers ---------------------------------------------------

/** A server whose `hang` never answers and whose `call` calls the client back (the client may never answer). */
class Hanging extends Service {
  disconnects = 0;
  conns = 0;
  override on_connect(): void {
    this.conns++;
  }
  override on_disconnect(): void {
    this.disconnects++;
  }
  exposed_hang(): Promise<never> {
    return new Promise<never>(() => {});
  }
  async exposed_slow(ms: number): Promise<number> {
    await sleep(ms);
    return ms;
  }
  async exposed_call(fn: () => Promise<unknown>): Promise<unknown> {
    return fn();
  }
  exposed_echo(x: unknown): unknown {
    return x;
  }
  private readonly gates = [new Gate(), new Gate()];
  /** How many gated() calls entered, per gate. */
  readonly entered = [0, 0];
  /** Test side: lets the gated() calls waiting on gate `which` answer. */
  openGate(which = 0): void {
    this.gates[which]!.open();
  }
  async exposed_gated<T>(value: T, which = 0): Promise<T> {
    this.entered[which]!++;
    await this.gates[which]!.opened;
    return value;
  }
}

describe("a socket reset (RST)", () => {
  it("rejects pending calls on both sides at once and runs on_disconnect on both", async () => {
    const service = new Hanging();
    const server = await serve(service);
    const proxy = await FaultProxy.start(server.port);
    const watcher = new Watcher();
    const conn = await connectTo<Hanging>(proxy.port, { service: watcher, config: { sync_request_timeout: 30 } });
    expect(await conn.root.echo(1)).toBe(1);
    const serverConn = serverSide(server);
    // The server calls back into the client; the client's answer never comes (its callback hangs).
    const serverWaits = conn.root.call(() => new Promise(() => {}));
    const hangs = [conn.root.hang(), conn.root.hang()];
    await eventually(() => serverConn.stats().pendingRequests === 1 && conn.stats().pendingRequests === 3, 5000, "calls in flight both ways");
    expect(serverConn.stats().remoteNetrefs).toBeGreaterThanOrEqual(1); // the client's callback

    proxy.reset();
    const reasons = await rejections([serverWaits, ...hangs]);
    for (const reason of reasons) {
      expect(reason).toBeInstanceOf(ConnectionClosedError);
      expect(String((reason as Error).message)).toMatch(/connection (lost|closed)/);
    }
    await conn.whenClosed();
    await serverConn.whenClosed();
    expect(watcher.disconnects).toBe(1);
    expect(service.disconnects).toBe(1);
    expect(serverConn.stats()).toMatchObject({ pendingRequests: 0, localObjects: 0, remoteNetrefs: 0 });
    expect(conn.stats()).toMatchObject({ pendingRequests: 0, localObjects: 0, remoteNetrefs: 0 });
    expect(server.connections.size).toBe(0);
  });
});

describe("a server-side socket reset (resetAndDestroy)", () => {
  it("the client's pending calls reject at once with a connection-lost error; both sides run on_disconnect", async () => {
    const service = new Hanging();
    let serverConn: Connection | undefined;
    let serverSocket: Socket | undefined;
    const listener = net.createServer((socket) => {
      serverSocket = socket;
      serverConn = new Connection(service, new SocketStream(socket));
      void serverConn.open();
    });
    await new Promise<void>((resolve) => listener.listen({ host: "127.0.0.1", port: 0 }, () => resolve()));
    try {
      const watcher = new Watcher();
      const port = (listener.address() as net.AddressInfo).port;
      const conn = await connectTo<Hanging>(port, { service: watcher, config: { sync_request_timeout: 30 } });
      expect(await conn.root.echo("x")).toBe("x");
      const calls = [conn.root.hang(), conn.root.slow(60_000), conn.root.hang()];
      await eventually(() => serverConn!.stats().servingRequests === 3, 2000, "the calls to run");
      serverSocket!.resetAndDestroy();
      const reasons = await rejections(calls);
      for (const reason of reasons) {
        expect(reason).toBeInstanceOf(ConnectionClosedError);
        expect((reason as Error).message).toMatch(/ECONNRESET|connection lost/);
      }
      await conn.whenClosed();
      await serverConn!.whenClosed();
      expect(watcher.disconnects).toBe(1);
      expect(service.disconnects).toBe(1);
      expect(conn.stats()).toMatchObject({ pendingRequests: 0, localObjects: 0, remoteNetrefs: 0 });
      expect(serverConn!.stats()).toMatchObject({ localObjects: 0, remoteNetrefs: 0 });
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });
});

describe("a half-open peer (heartbeatInterval)", () => {
  const INTERVAL = 0.1; // seconds

  it("client side: traffic stops both ways; the connection closes within ~3 intervals and pending calls reject", async () => {
    const service = new Hanging();
    const server = await serve(service);
    const proxy = await FaultProxy.start(server.port);
    const watcher = new Watcher();
    const conn = await connectTo<Hanging>(proxy.port, { service: watcher, config: { sync_request_timeout: 30, heartbeatInterval: INTERVAL } });
    expect(await conn.root.echo("before")).toBe("before");
    const calls = [conn.root.hang(), conn.root.slow(60_000)];
    await eventually(() => conn.stats().pendingRequests === 2, 5000, "calls pending");
    const destroyed = streamDestroys();
    const start = performance.now();
    proxy.freeze();
    const reasons = await rejections(calls);
    const elapsed = performance.now() - start;
    for (const reason of reasons) {
      expect(reason).toBeInstanceOf(ConnectionClosedError);
      expect((reason as Error).message).toMatch(/heartbeat/); // the heartbeat closed it, not the 30 s timeout
    }
    // About 3 intervals (300 ms) on a quiet machine; no upper bound (the reason above says what closed it).
    expect(elapsed).toBeGreaterThanOrEqual(INTERVAL * 1000);
    // The socket is destroyed, not ended: on_disconnect does not wait out SocketStream's 2 s for a FIN that never comes.
    await conn.whenClosed();
    expect(destroyed.of(conn)).toBe(true);
    expect(watcher.disconnects).toBe(1);
    expect(conn.stats()).toMatchObject({ pendingRequests: 0, localObjects: 0, remoteNetrefs: 0 });
  });

  it("also when maxPendingRequests is reached: the heartbeat is not subject to it", async () => {
    const server = await serve(new Hanging());
    const proxy = await FaultProxy.start(server.port);
    const conn = await connectTo<Hanging>(proxy.port, { config: { sync_request_timeout: null, heartbeatInterval: INTERVAL, maxPendingRequests: 2 } });
    await conn.getRoot();
    const calls = [conn.root.hang(), conn.root.hang()];
    await expect(conn.root.echo(1)).rejects.toThrow(/maxPendingRequests/);
    proxy.freeze();
    // (sync_request_timeout: null: nothing but the heartbeat can end these calls.)
    for (const reason of await rejections(calls)) {
      expect(reason).toBeInstanceOf(ConnectionClosedError);
      expect((reason as Error).message).toMatch(/heartbeat/);
    }
  });

  it("server side: a frozen idle client is closed and the server's on_disconnect runs", async () => {
    const service = new Hanging();
    const server = await serve(service, { protocolConfig: { heartbeatInterval: INTERVAL } });
    const proxy = await FaultProxy.start(server.port);
    const conn = await connectTo<Hanging>(proxy.port);
    expect(await conn.root.echo(1)).toBe(1);
    const serverConn = serverSide(server);
    const destroyed = streamDestroys();
    proxy.freeze();
    await serverConn.whenClosed(); // only the heartbeat can close it: the client is frozen and idle
    expect(destroyed.of(serverConn)).toBe(true); // destroyed, not ended: no 2 s wait for a FIN
    expect(service.disconnects).toBe(1);
    expect(server.connections.size).toBe(0);
    expect(serverConn.stats().localObjects).toBe(0);
  });

  it("a healthy peer is never closed by the heartbeat: an idle connection and a call longer than 3 intervals both survive", async () => {
    const HEALTHY = 0.4; // a ping must be answered within one interval: leave room for a loaded machine
    const service = new Hanging();
    const server = await serve(service, { protocolConfig: { heartbeatInterval: HEALTHY } });
    const pings: number[] = [];
    const conn = await connectTo<Hanging>(server.port, { config: { heartbeatInterval: HEALTHY } });
    conn.on("request", (event) => {
      if (event.handler === C.HANDLE_PING && event.direction === "out") pings.push(event.start);
    });
    expect(await conn.root.echo(1)).toBe(1);
    await sleep(HEALTHY * 1000 * 5); // deliberate: idle for 5 intervals, pings go out and are answered
    expect(pings.length).toBeGreaterThanOrEqual(1);
    expect(conn.closed).toBe(false);
    // A handler busy for 4 intervals: the peer still answers pings meanwhile.
    expect(await conn.root.slow(HEALTHY * 1000 * 4)).toBe(HEALTHY * 1000 * 4);
    expect(conn.closed).toBe(false);
    expect(serverSide(server).closed).toBe(false);
    expect(service.disconnects).toBe(0);
  });
});

// ---- timeouts, deadlines and cancellation: late replies are dropped -------------------------------

/** Answers after a delay the test sets; counts calls and hands out fresh objects by reference. */
class Late extends Service {
  calls = 0;
  exposed_later<T>(ms: number, value: T): Promise<T> {
    this.calls++;
    return new Promise((resolve) => setTimeout(() => resolve(value), ms));
  }
  async exposed_later_object(ms: number): Promise<{ exposed_name: string }> {
    this.calls++;
    await sleep(ms);
    return { exposed_name: "late" };
  }
  async exposed_later_objects(ms: number): Promise<unknown[]> {
    this.calls++;
    await sleep(ms);
    const shared = { exposed_name: "shared" };
    return [shared, { exposed_name: "other" }, shared, 5];
  }
  exposed_quick(): string {
    return "quick";
  }
  private readonly gate = new Gate();
  /** Test side: lets gated_object() answer. */
  openGate(): void {
    this.gate.open();
  }
  async exposed_gated_object(): Promise<{ exposed_name: string }> {
    this.calls++;
    await this.gate.opened;
    return { exposed_name: "late" };
  }
}

describe("sync_request_timeout and a late reply", () => {
  it("the call rejects with AsyncResultTimeout; the late reply is dropped, its netrefs DEL'd, the connection stays usable", async () => {
    const service = new Late();
    const server = await serve(service);
    const conn = await connectTo<Late>(server.port, { config: { sync_request_timeout: 0.1 } });
    expect(await conn.root.quick()).toBe("quick");
    const serverConn = serverSide(server);
    const baseline = serverConn.stats().localObjects;
    const netrefsBefore = conn.stats().remoteNetrefs;

    // (Had the reply come in time, these would resolve.)
    await expect(conn.root.later_object(400)).rejects.toBeInstanceOf(AsyncResultTimeout);
    await expect(conn.root.later_objects(300)).rejects.toThrow(/result expired/);
    expect(conn.stats().pendingRequests).toBe(0);
    // The replies arrive later, carrying 1 and 2 (one twice) references: all given back.
    // GETROOT, quick(), and the two late calls answered: the references were in the table then.
    await eventually(() => serverConn.stats().requestsServed >= 4, 3000, "the late replies to be sent");
    await eventually(() => serverConn.stats().localObjects === baseline, 3000, "the DELs of the late references");
    expect(conn.stats().remoteNetrefs).toBe(netrefsBefore);
    expect(conn.closed).toBe(false);
    expect(await conn.root.quick()).toBe("quick");
    expect(await conn.root.later(10, "in time")).toBe("in time");
  });
});

describe("withOptions(): per-call deadline and AbortSignal", () => {
  it("a per-call timeout replaces sync_request_timeout, both shorter and longer (null: no limit)", async () => {
    const service = new Late();
    const server = await serve(service);
    const conn = await connectTo<Late>(server.port, { config: { sync_request_timeout: 0.3 } });
    await conn.getRoot();
    const timeouts: number[] = [];
    conn.on("error", (event) => timeouts.push(event.duration));
    const short = withOptions(conn.root, { timeout: 0.03 }).later(1000, "x");
    await expect(short).rejects.toBeInstanceOf(AsyncResultTimeout);
    expect(timeouts).toHaveLength(1);
    // Its own deadline, not the connection's 0.3 s: the error names the time it allowed (what
    // was left of the 30 ms when the request went out), not a measured duration.
    const printed = /within ([\d.e-]+) s$/.exec(((await short.catch((err: unknown) => err)) as Error).message)?.[1] ?? "";
    // Readable: three significant digits at most (not 0.029435909100000003).
    expect(printed.replace(/^0\.0*/, "").replace(".", "").length).toBeLessThanOrEqual(3);
    const allowed = Number(printed);
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThanOrEqual(0.03);
    // Longer than the connection's 0.3 s (10 s: ample for a reply due after 450 ms on a loaded machine).
    expect(await withOptions(conn.root, { timeout: 10 }).later(450, "longer")).toBe("longer");
    expect(await withOptions(conn.root, { timeout: null }).later(450, "unlimited")).toBe("unlimited");
    expect(await withOptions(conn.root.later, { timeout: 10 })(400, "attribute view")).toBe("attribute view");
    // A timeout beyond setTimeout's range is no limit (not an instant expiry).
    const far = await connectTo<Late>(server.port, { config: { sync_request_timeout: 30 * 24 * 3600 } });
    expect(await far.root.later(20, "far")).toBe("far");
    // The base netref keeps the connection's timeout.
    await expect(conn.root.later(600, "x")).rejects.toBeInstanceOf(AsyncResultTimeout);
    expect(() => withOptions(conn.root, { timeout: -1 })).toThrow(RangeError);
    expect(() => withOptions({}, { timeout: 1 })).toThrow(TypeError);
  });

  it("aborting rejects at once with the signal's reason; the late reply is dropped and its reference given back", async () => {
    const service = new Late();
    const server = await serve(service);
    const conn = await connectTo<Late>(server.port, { config: { sync_request_timeout: 30 } });
    expect(await conn.root.quick()).toBe("quick");
    const serverConn = serverSide(server);
    const baseline = serverConn.stats().localObjects;

    const ac = new AbortController();
    const call = withOptions(conn.root, { signal: ac.signal }).gated_object();
    await eventually(() => service.calls === 1, 5000, "the call to reach the server");
    const reason = new Error("user gave up");
    ac.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(conn.stats().pendingRequests).toBe(0);
    service.openGate(); // now the reply (which would have resolved the call) comes, late
    await eventually(() => serverConn.stats().requestsServed >= 3, 3000, "the late reply to be sent");
    await eventually(() => serverConn.stats().localObjects === baseline, 3000, "the DEL of the late reference");
    expect(await conn.root.quick()).toBe("quick");

    // A signal shared by many calls keeps no listener once they are done.
    const shared = new AbortController();
    const view = withOptions(conn.root, { signal: shared.signal });
    expect(await Promise.all(Array.from({ length: 20 }, (_, i) => view.later(1, i)))).toHaveLength(20);
    expect(getEventListeners(shared.signal, "abort")).toHaveLength(0);
    service.calls -= 20;

    // Already aborted: nothing is sent. Default reason: an AbortError.
    const aborted = AbortSignal.abort();
    await expect(withOptions(conn.root, { signal: aborted }).later(1, "x")).rejects.toMatchObject({ name: "AbortError" });
    await expect(withOptions(conn.root.quick, { signal: aborted })()).rejects.toMatchObject({ name: "AbortError" });
    expect(service.calls).toBe(1);
  });

  it("a view holds its netref: dropping the view (and the netref) lets GC release the remote object", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("needs node --expose-gc (vitest.config.ts sets it)");
    const service = new Late();
    const server = await serve(service);
    const conn = await connectTo<Late>(server.port);
    await conn.getRoot();
    const serverConn = serverSide(server);
    const baseline = serverConn.stats().localObjects;
    let view: { name: Promise<unknown> } | undefined = await (async () =>
      withOptions((await conn.root.later_object(1)) as unknown as { name: Promise<unknown> }, { timeout: 5 }))();
    // Only the view is left: the netref behind it must stay alive while the view is.
    for (let i = 0; i < 5; i++) {
      gc();
      await sleep(10);
    }
    expect(serverConn.stats().localObjects).toBe(baseline + 1);
    expect(await view.name).toBe("late");
    view = undefined;
    for (let i = 0; i < 200 && serverConn.stats().localObjects !== baseline; i++) {
      gc();
      await sleep(10);
    }
    expect(serverConn.stats().localObjects).toBe(baseline);
    // An explicit release through a view releases the shared netref.
    const made = (await conn.root.later_object(1)) as unknown as { name: Promise<unknown> };
    expect(serverConn.stats().localObjects).toBe(baseline + 1);
    release(withOptions(made, { timeout: 1 }));
    await eventually(() => serverConn.stats().localObjects === baseline, 3000, "the DEL");
  });

  it("an abort while the lazy root is fetched rejects at once too", async () => {
    const service = new Late();
    const server = await serve(service);
    const conn = await connectTo<Late>(server.port);
    const ac = new AbortController();
    const call = withOptions(conn.root, { signal: ac.signal }).quick();
    ac.abort();
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
    expect(await conn.root.quick()).toBe("quick");
    expect(service.calls).toBe(0);
  });
});

// ---- server close: drain or reject ------------------------------------------------------------------

describe("server close()", () => {
  it("with graceMs: calls in flight finish and reply, new ones are refused with EOFError, then the connection closes", async () => {
    const service = new Hanging();
    const server = await serve(service);
    const watcher = new Watcher();
    const conn = await connectTo<Hanging>(server.port, { service: watcher });
    expect(await conn.root.echo(1)).toBe(1);
    // The calls in flight finish when the test opens the gate, so the new call surely comes
    // while the connection drains, however slow the machine.
    const inFlight = [conn.root.gated(150), conn.root.gated(200)];
    await eventually(() => serverSide(server).stats().servingRequests === 2, 5000, "the calls to run");
    // A grace beyond the test's timeout: close() must end when the calls are done, not when the grace ends.
    const closed = server.close({ graceMs: 120_000 });
    const refused = conn.root.echo("late");
    const refusal = await refused.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isRemoteException(refusal)).toBe(true);
    expect(refusal).toMatchObject({ name: "EOFError" });
    service.openGate();
    expect(await Promise.all(inFlight)).toEqual([150, 200]);
    await closed;
    await conn.whenClosed();
    expect(watcher.disconnects).toBe(1);
  });

  it("with graceMs: requests waiting for a slot (maxConcurrentRequests) when draining began are served, not refused", async () => {
    const service = new Hanging();
    const server = await serve(service, { protocolConfig: { maxConcurrentRequests: 1 } });
    const conn = await connectTo<Hanging>(server.port);
    await conn.getRoot();
    // Gates hold the first and the last call, so each step happens in this order however slow
    // the machine: the server reads no more while calls wait for the slot, so the new call is
    // read only once the last admitted one runs (and the queue is empty); it waits for the slot.
    const inFlight = [conn.root.gated(100), conn.root.slow(50), conn.root.gated(20, 1)];
    const serverConn = serverSide(server);
    await eventually(() => serverConn.stats().queuedRequests === 2, 5000, "two calls to wait for the slot");
    const closed = server.close({ graceMs: 120_000 });
    const refused = conn.root.echo("after").then(
      () => undefined,
      (err: unknown) => err,
    );
    service.openGate(0);
    await eventually(() => service.entered[1] === 1 && serverConn.stats().queuedRequests === 1, 5000, "the new call to wait for the slot");
    service.openGate(1);
    expect(await Promise.all(inFlight)).toEqual([100, 50, 20]);
    expect(await refused).toMatchObject({ name: "EOFError" });
    await closed;
    expect(service.disconnects).toBe(1);
  });

  it("with graceMs: a call that outlives the grace rejects with ConnectionClosedError when it ends", async () => {
    const service = new Hanging();
    const server = await serve(service);
    const conn = await connectTo<Hanging>(server.port, { config: { sync_request_timeout: 30 } });
    const hang = conn.root.hang();
    await eventually(() => serverSide(server).stats().servingRequests === 1, 5000, "the call to run");
    const outcome = rejections([hang]);
    const start = performance.now();
    await server.close({ graceMs: 150 }); // the call never ends: only the grace can end the drain
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
    expect((await outcome)[0]).toBeInstanceOf(ConnectionClosedError);
  });

  it("without graceMs (RPyC's behaviour): calls in flight reject at once with ConnectionClosedError", async () => {
    const service = new Hanging();
    const server = await serve(service);
    const conn = await connectTo<Hanging>(server.port, { config: { sync_request_timeout: 30 } });
    // Neither call would end within the test's timeout: only the close can end them.
    const calls = [conn.root.slow(120_000), conn.root.hang()];
    await eventually(() => serverSide(server).stats().servingRequests === 2, 5000, "the calls to run");
    const outcome = rejections(calls);
    await server.close();
    for (const reason of await outcome) expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(service.disconnects).toBe(1);
  });
});

// ---- backpressure: a peer that never reads its replies -----------------------------------------------

class Blobs extends Service {
  served = 0;
  exposed_blob(n: number): string {
    this.served++;
    return "x".repeat(n);
  }
  exposed_echo(x: unknown): unknown {
    return x;
  }
}

describe("backpressure", () => {
  // 25 MiB / 10 MiB of replies: far more than the kernel's socket buffers hold. The second
  // case has a limit below the socket's highWaterMark (16 KiB), where Node emits no "drain".
  it.each([
    { MAX_WRITE: 64 * 1024, BLOB: 32 * 1024, REQUESTS: 800 },
    { MAX_WRITE: 1024, BLOB: 4 * 1024, REQUESTS: 2500 },
  ])("a client that never reads: the server's write buffer stays near maxWriteBuffer ($MAX_WRITE) and it stops reading; others are unaffected; everything is served once it reads", async ({
    MAX_WRITE,
    BLOB,
    REQUESTS,
  }) => {
    const service = new Blobs();
    const server = await serve(service, { protocolConfig: { maxWriteBuffer: MAX_WRITE, compress: false } });
    const peer = await RawPeer.connect(server.port);
    peer.socket.pause(); // never reads (until the end)
    await eventually(() => server.connections.size === 1, 2000, "the raw connection");
    const slowConn = serverSide(server);

    // The root's id_pack first (GETROOT, seq 0), then a flood of CALLATTR root.blob(BLOB).
    peer.request(0, C.HANDLE_GETROOT, [C.LABEL_VALUE, []]);
    peer.socket.resume();
    const [, , rootBoxed] = await peer.next(2000, "the root");
    peer.socket.pause();
    const rootPack = (rootBoxed as readonly [number, readonly [string, number, number]])[1];
    const frames: Buffer[] = [];
    for (let seq = 1; seq <= REQUESTS; seq++) {
      frames.push(
        messageFrame(C.MSG_REQUEST, seq, [
          C.HANDLE_CALLATTR,
          [
            C.LABEL_TUPLE,
            [
              [C.LABEL_LOCAL_REF, rootPack],
              [C.LABEL_VALUE, "blob"],
              [C.LABEL_VALUE, [BLOB]],
              [C.LABEL_VALUE, []],
            ],
          ],
        ]),
      );
    }
    peer.write(Buffer.concat(frames));

    await eventually(() => slowConn.stats().readingPaused, 5000, "the server to stop reading");
    let maxBuffer = 0;
    for (let i = 0; i < 30; i++) {
      const stats = slowConn.stats();
      maxBuffer = Math.max(maxBuffer, stats.writeBuffer);
      expect(stats.readingPaused).toBe(true);
      await sleep(10);
    }
    const paused = slowConn.stats();
    // Bounded: at most one reply over the limit is buffered, and the unserved rest waits (mostly in TCP buffers).
    expect(maxBuffer).toBeLessThanOrEqual(MAX_WRITE + BLOB + 1024);
    expect(service.served).toBeLessThan(REQUESTS);
    expect(paused.queuedBytes).toBeLessThanOrEqual(REQUESTS * 200);

    // Another client is served normally meanwhile.
    const other = await connectTo<Blobs>(server.port);
    expect(await other.root.echo("fine")).toBe("fine");
    expect((await other.root.blob(10)).length).toBe(10);

    // The slow client reads at last: every reply arrives, in order.
    peer.socket.resume();
    const seqs: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const [msg, seq, boxed] = await peer.next(10_000, `reply ${i + 1}`);
      expect(msg).toBe(C.MSG_REPLY);
      expect((boxed as readonly [number, string])[1].length).toBe(BLOB);
      seqs.push(Number(seq));
    }
    expect(seqs).toEqual(Array.from({ length: REQUESTS }, (_, i) => i + 1));
    expect(slowConn.stats().readingPaused).toBe(false);
    expect(slowConn.stats().queuedRequests).toBe(0);
    await peer.close();
  });
});
