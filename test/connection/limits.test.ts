// Per-connection limits (config keys maxPendingRequests, maxConcurrentRequests,
// maxQueuedBytes): each refuses or delays with a clear, typed outcome, nothing is lost and
// order is kept. Frame size, zlib bombs and brine depth are covered by channel, brine and
// bad-input tests.

import { describe, expect, it } from "vitest";
import * as C from "../../runtime/wire/consts.js";
import { LimitExceededError, Service, isLimitExceededError, isRpycError, type Connection } from "../../runtime/index.js";
import { resolveConfig } from "../../runtime/connection/config.js";
import { RawPeer, messageFrame } from "../helpers/raw-peer.js";
import { connectTo, eventually, serve, sleep } from "../helpers/servers.js";

function serverSide(server: { connections: Set<Connection> }): Connection {
  const [conn] = server.connections;
  if (!conn) throw new Error("no server-side connection");
  return conn;
}

/** Handlers that wait for the test to open a gate; records what ran, in order. */
class Gated extends Service {
  started: number[] = [];
  running = 0;
  maxRunning = 0;
  private gates: (() => void)[] = [];
  async exposed_wait(i: number): Promise<number> {
    this.started.push(i);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.running--;
    return i;
  }
  async exposed_work(i: number): Promise<number> {
    this.started.push(i);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await sleep(i % 3); // uneven: later ones may finish first
    this.running--;
    return i * 2;
  }
  exposed_echo(x: unknown): unknown {
    return x;
  }
  open(): void {
    for (const gate of this.gates.splice(0)) gate();
  }
}

describe("maxPendingRequests", () => {
  it("one request over the limit rejects at once with LimitExceededError and sends nothing; room frees as replies come", async () => {
    const service = new Gated();
    const server = await serve(service);
    const conn = await connectTo<Gated>(server.port, { config: { maxPendingRequests: 3 } });
    await conn.getRoot();
    const calls = [conn.root.wait(0), conn.root.wait(1), conn.root.wait(2)];
    await eventually(() => service.started.length === 3, 2000, "three calls to run");
    expect(conn.stats().pendingRequests).toBe(3);
    const errorsBefore = conn.stats().errors;
    const sentBefore = conn.stats().requestsSent;

    const refused = conn.root.wait(3);
    const err: unknown = await refused.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(isLimitExceededError(err) && isRpycError(err)).toBe(true);
    expect(err).toMatchObject({ code: "LIMIT", limit: "maxPendingRequests", value: 3 });
    expect((err as Error).message).toMatch(/maxPendingRequests/);
    // Also pings and attribute reads: every request that awaits a reply counts.
    await expect(conn.ping()).rejects.toBeInstanceOf(LimitExceededError);
    await expect(Promise.resolve(conn.root.echo)).rejects.toBeInstanceOf(LimitExceededError);
    expect(conn.stats().requestsSent).toBe(sentBefore); // nothing went out
    expect(conn.stats().errors).toBe(errorsBefore + 3);
    await sleep(20);
    expect(service.started).toEqual([0, 1, 2]); // the refused call never reached the server

    service.open();
    expect(await Promise.all(calls)).toEqual([0, 1, 2]);
    expect(conn.stats().pendingRequests).toBe(0);
    expect(await conn.root.echo("room again")).toBe("room again");
    expect(conn.closed).toBe(false);
  });
});

describe("maxConcurrentRequests", () => {
  it("a flood of 300 calls with at most 3 served at once: all answered, started in arrival order, reading paused meanwhile", async () => {
    const service = new Gated();
    const server = await serve(service, { protocolConfig: { maxConcurrentRequests: 3 } });
    const conn = await connectTo<Gated>(server.port, { config: { sync_request_timeout: 30 } });
    await conn.getRoot();
    const serverConn = serverSide(server);
    let sawQueue = false;
    let sawPaused = false;
    let maxServing = 0;
    const watch = setInterval(() => {
      const stats = serverConn.stats();
      maxServing = Math.max(maxServing, stats.servingRequests);
      if (stats.queuedRequests > 0) sawQueue = true;
      if (stats.readingPaused) sawPaused = true;
    }, 1);
    try {
      const N = 300;
      const results = await Promise.all(Array.from({ length: N }, (_, i) => conn.root.work(i)));
      expect(results).toEqual(Array.from({ length: N }, (_, i) => i * 2));
      expect(service.started).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(service.maxRunning).toBe(3);
    } finally {
      clearInterval(watch);
    }
    expect(maxServing).toBeLessThanOrEqual(3);
    expect(sawQueue).toBe(true);
    expect(sawPaused).toBe(true);
    expect(serverConn.stats()).toMatchObject({ servingRequests: 0, queuedRequests: 0, queuedBytes: 0, readingPaused: false });
  });

  it("replies to the server's own requests are still read while requests wait, so a handler calling back finishes", async () => {
    class CallsBack extends Service {
      async exposed_via(fn: (x: number) => Promise<number>, x: number): Promise<number> {
        return (await fn(x)) + 1;
      }
    }
    const server = await serve(CallsBack, { protocolConfig: { maxConcurrentRequests: 1 } });
    const conn = await connectTo<CallsBack>(server.port, { config: { sync_request_timeout: 10 } });
    const double = async (x: number): Promise<number> => {
      await sleep(2);
      return x * 2;
    };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => conn.root.via(double, i)));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2 + 1));
  });
});

describe("maxQueuedBytes", () => {
  it("while the server awaits a reply it reads on, queueing requests up to maxQueuedBytes, then stops reading; all are served in order later", async () => {
    // The server's ask() calls back into us and we do not answer; 1500 pings queue behind it.
    const MAX_QUEUED = 64 * 1024;
    const PINGS = 1500;
    const DATA = "p".repeat(1000);
    let serverConn: Connection | undefined;
    class AsksClient extends Service {
      override on_connect(conn: Connection): void {
        serverConn = conn;
      }
      async exposed_ask(): Promise<unknown> {
        return (serverConn!.root as unknown as { answer(): Promise<unknown> }).answer();
      }
    }
    const server = await serve(AsksClient, {
      protocolConfig: { maxConcurrentRequests: 1, maxQueuedBytes: MAX_QUEUED, compress: false, sync_request_timeout: 1.5 },
    });
    const peer = await RawPeer.connect(server.port);
    peer.request(0, C.HANDLE_GETROOT, [C.LABEL_VALUE, []]);
    const [, , rootBoxed] = await peer.nextMatching((m) => m[0] === C.MSG_REPLY && m[1] === 0, 2000, "the root");
    const rootPack = (rootBoxed as readonly [number, unknown])[1];
    // ask() takes the only slot and waits for our root, which we do not give yet.
    peer.request(1, C.HANDLE_CALLATTR, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, rootPack as never],
        [C.LABEL_VALUE, "ask"],
        [C.LABEL_VALUE, []],
        [C.LABEL_VALUE, []],
      ],
    ]);
    const getroot = await peer.nextMatching((m) => m[0] === C.MSG_REQUEST, 2000, "the server's GETROOT");
    expect((getroot[2] as readonly unknown[])[0]).toBe(C.HANDLE_GETROOT);
    expect(serverConn!.stats().pendingRequests).toBe(1);

    const frames = Array.from({ length: PINGS }, (_, i) => messageFrame(C.MSG_REQUEST, 2 + i, [C.HANDLE_PING, [C.LABEL_VALUE, [DATA]]], false));
    peer.write(Buffer.concat(frames));
    await eventually(() => serverConn!.stats().readingPaused, 5000, "the server to stop reading");
    await sleep(50);
    const stats = serverConn!.stats();
    expect(stats.readingPaused).toBe(true);
    expect(stats.queuedBytes).toBeGreaterThanOrEqual(MAX_QUEUED);
    // At most one socket read (64 KiB) beyond the limit.
    expect(stats.queuedBytes).toBeLessThanOrEqual(MAX_QUEUED + 64 * 1024 + 1100);
    expect(stats.queuedRequests).toBeLessThan(PINGS);
    expect(stats.servingRequests).toBe(1);

    // Reading stopped, so our answer to the GETROOT could not get in either (documented): the
    // server's callback fails at its sync_request_timeout, which frees the slot, and the
    // queued pings are then served.
    const asked = await peer.nextMatching((m) => m[0] !== C.MSG_REQUEST && m[1] === 1, 5000, "the answer to ask()");
    expect(asked[0]).toBe(C.MSG_EXCEPTION);
    expect(JSON.stringify(asked[2], (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toMatch(/expired|timeout/i);
    const seqs: number[] = [];
    for (let i = 0; i < PINGS; i++) {
      const [msg, seq, boxed] = await peer.nextMatching((m) => m[0] !== C.MSG_REQUEST, 5000, `ping reply ${i}`);
      expect(msg).toBe(C.MSG_REPLY);
      expect(boxed).toEqual([C.LABEL_VALUE, DATA]);
      seqs.push(Number(seq));
    }
    expect(seqs).toEqual(Array.from({ length: PINGS }, (_, i) => 2 + i));
    expect(serverConn!.stats()).toMatchObject({ readingPaused: false, queuedRequests: 0, queuedBytes: 0 });
    await peer.close();
  });
});

describe("limit config", () => {
  it("is validated", () => {
    expect(resolveConfig({}).maxPendingRequests).toBe(10_000);
    for (const key of ["maxPendingRequests", "maxConcurrentRequests"] as const) {
      expect(() => resolveConfig({ [key]: 0 })).toThrow(new RegExp(key));
      expect(() => resolveConfig({ [key]: 1.5 })).toThrow(new RegExp(key));
    }
    for (const key of ["maxQueuedBytes", "maxWriteBuffer"] as const) expect(() => resolveConfig({ [key]: -1 })).toThrow(new RegExp(key));
    expect(() => resolveConfig({ heartbeatInterval: 0 })).toThrow(/heartbeatInterval/);
    expect(resolveConfig({ heartbeatInterval: 0.5 }).heartbeatInterval).toBe(0.5);
  });
});
