// RPyC over WebSocket (docs/protocol.md §12.4): ThreadedServer with `websocket` and
// connectWebSocket, both through `ws` in Node 20 (and the platform-WebSocket path, with ws's
// WHATWG-compatible class standing in for the platform's). Calls, callbacks, netrefs,
// exceptions, refusals and megabyte values as over TCP; the generated stub and the native
// codec; the handshake's refusals (404, 403, 401), the mapping's (text, oversized, not one
// frame) closing only the offending connection; maxConnections, server.close(), wss; and
// WebSocketStream alone: writes cut into one message per frame, messages held until start().

import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { get as httpGet } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import {
  AttributeError,
  AuthenticationError,
  ConnectError,
  ConnectionClosedError,
  connect,
  connectWebSocket,
  isNetref,
  isRemoteException,
  Service,
  ThreadedServer,
  ValueError,
  type CloseEvent,
  type Connection,
  type Logger,
  type ServerOptions,
  type ServiceSpec,
  type WebSocketConnectOptions,
} from "../../runtime/index.js";
import { encodeFrame, frameChunks } from "../../runtime/wire/channel.js";
import { WebSocketStream, type PortListener, type WebSocketPort } from "../../runtime/wire/websocket-stream.js";
import { selfSignedCertificate } from "../helpers/certificates.js";
import { MY_SERVICE_SCHEMA, type MyRemote } from "../../examples/generated/my-service.client.js";
import { MyServiceDispatch } from "../../examples/generated/my-service.dispatch.js";
import { MyService } from "../../examples/seed-service.js";

class Counter {
  count = 0;
  exposed_increment(by: number): number {
    this.count += by;
    return this.count;
  }
}

class CalcService extends Service {
  conn: Connection | undefined;
  override on_connect(conn: Connection): void {
    this.conn = conn;
  }
  exposed_add(a: number, b: number): number {
    return a + b;
  }
  async exposed_call_me(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return (await fn(x)) + 1;
  }
  exposed_counter(): Counter {
    return new Counter();
  }
  exposed_fail(message: string): never {
    throw new ValueError(message);
  }
  exposed_echo(value: unknown): unknown {
    return value;
  }
  exposed_credentials(): unknown {
    return this.conn?.config.credentials ?? null;
  }
  hidden(): string {
    return "secret";
  }
}

interface CalcRemote {
  add(a: number, b: number): Promise<number>;
  call_me(fn: (x: number) => number | Promise<number>, x: number): Promise<number>;
  counter(): Promise<{ increment(by: number): Promise<number> }>;
  fail(message: string): Promise<never>;
  echo(value: Uint8Array): Promise<Uint8Array>;
  credentials(): Promise<unknown>;
  hidden(): Promise<string>;
}

class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(message: string): void {
    this.lines.push(message);
  }
  error(message: string): void {
    this.lines.push(message);
  }
}

const PATH = "/rpyc";
const cleanups: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveWs(options: ServerOptions = {}, service: ServiceSpec = CalcService) {
  const log = new CapturingLogger();
  const server = new ThreadedServer(service, { hostname: "127.0.0.1", port: 0, logger: log, websocket: { path: PATH }, ...options });
  cleanups.push(() => server.close());
  await server.start();
  const scheme = options.tls ? "wss" : "ws";
  return { server, log, url: `${scheme}://127.0.0.1:${server.port}${PATH}` };
}

async function client<T = CalcRemote>(url: string, options: WebSocketConnectOptions = {}): Promise<Connection<T>> {
  const conn = await connectWebSocket<T>(url, options);
  cleanups.push(() => conn.close());
  return conn;
}

/** The server side of the only connection a server has (or will have once it is accepted). */
async function onlyConnection(server: ThreadedServer): Promise<Connection> {
  while (server.connections.size === 0) await new Promise((resolve) => setImmediate(resolve));
  return [...server.connections][0]!;
}

/** A raw `ws` client, to send what connectWebSocket never would. */
async function rawClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  cleanups.push(() => ws.terminate());
  await once(ws, "open");
  return ws;
}

function closeOf(ws: WebSocket): Promise<[code: number, reason: string]> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve([code, reason.toString()])));
}

function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

describe("an rpyc-ts service over WebSocket", () => {
  it("calls, a callback into the client, a netref, an exception with its traceback, a refused member", async () => {
    const { url } = await serveWs();
    const conn = await client(url);
    expect(await conn.root.add(2, 3)).toBe(5);
    expect(await conn.root.call_me((x) => x * 10, 4)).toBe(41);
    const counter = await conn.root.counter();
    expect(isNetref(counter)).toBe(true);
    expect(await counter.increment(2)).toBe(2);
    expect(await counter.increment(3)).toBe(5);
    const err = await rejectionOf(conn.root.fail("bad value"));
    expect(err).toBeInstanceOf(ValueError);
    expect(isRemoteException(err, "ValueError")).toBe(true);
    expect((err as ValueError).remoteTraceback).toContain("exposed_fail");
    const refused = rejectionOf(conn.root.hidden());
    expect(await refused).toBeInstanceOf(AttributeError);
    expect(String(await refused)).toContain("cannot access 'hidden'");
    expect(conn.config.endpoints?.[1]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("echoes 1 MiB of bytes, raw and in compressed frames, and counts them in stats", async () => {
    const { server, url } = await serveWs();
    const conn = await client(url);
    const random = randomBytes(1 << 20);
    expect(Buffer.from(await conn.root.echo(random)).equals(random)).toBe(true);
    const before = conn.stats().bytesOut;
    const text = Buffer.from("RPyC over WebSocket, one frame per message. ".repeat(30_000)).subarray(0, 1 << 20);
    expect(Buffer.from(await conn.root.echo(text)).equals(text)).toBe(true);
    // Compressed: far fewer bytes left than the megabyte echoed.
    expect(conn.stats().bytesOut - before).toBeLessThan(1 << 17);
    const served = (await onlyConnection(server)).stats();
    expect(served.requestsServed).toBeGreaterThanOrEqual(2);
    expect(served.bytesIn).toBeGreaterThan(1 << 20);
  });

  it("serves the generated stub, and both ends agree on the native codec", async () => {
    const { url } = await serveWs({ dispatch: MyServiceDispatch }, MyService);
    const conn = await client<MyRemote>(url, { schemas: [MY_SERVICE_SCHEMA] });
    expect(await conn.negotiated).toMatchObject({ codec: "native", reason: "agreed" });
    expect(await conn.root.get_answer()).toBe(42);
    expect(await conn.root.the_real_answer_though).toBe(43);
    expect(await conn.root.get_service_name()).toBe("MY");
  });

  it("the platform-WebSocket path (browsers, Node 22+) does the same", async () => {
    const { url } = await serveWs({ dispatch: MyServiceDispatch }, MyService);
    // ws's class implements the WHATWG API: it stands in for the platform's.
    vi.stubGlobal("WebSocket", WebSocket);
    try {
      const conn = await client<MyRemote>(url, { schemas: [MY_SERVICE_SCHEMA] });
      expect(conn.config.endpoints).toBeNull(); // a browser does not tell addresses
      expect(await conn.negotiated).toMatchObject({ codec: "native" });
      expect(await conn.root.get_answer()).toBe(42);
      const refused = await rejectionOf(client(url.replace(PATH, "/elsewhere")));
      expect(refused).toBeInstanceOf(ConnectError);
      expect(String(refused)).toContain("404");
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("runs beside a TCP server in the same process", async () => {
    const tcp = new ThreadedServer(CalcService, { hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => tcp.close());
    await tcp.start();
    const { url } = await serveWs();
    const overTcp = await connect<CalcRemote>("127.0.0.1", tcp.port);
    cleanups.push(() => overTcp.close());
    const overWs = await client(url);
    const [a, b] = await Promise.all([overTcp.root.add(1, 2), overWs.root.add(3, 4)]);
    expect([a, b]).toEqual([3, 7]);
    // A callback that hops from one transport to the other.
    expect(await overWs.root.call_me((x) => overTcp.root.add(x, 100), 1)).toBe(102);
  });
});

describe("WebSocketStream", () => {
  /** A stream over a port that records what is sent, and the port's listener to play the peer. */
  function fakeStream(): { stream: WebSocketStream; sent: Buffer[]; peer: PortListener } {
    const sent: Buffer[] = [];
    let peer: PortListener | undefined;
    const port: WebSocketPort = {
      bufferedAmount: 0,
      send: (message) => void sent.push(Buffer.from(message)),
      close: (code, reason) => peer!.closed(code, reason),
      terminate: () => peer!.closed(1006, ""),
      listen: (listener) => void (peer = listener),
    };
    const stream = new WebSocketStream(port, { endpoints: null, maxFrameSize: 1 << 20 });
    return { stream, sent, peer: peer! };
  }

  it("sends one message per frame, however the frames were cut into writes", () => {
    const frames = [Buffer.from("a"), randomBytes(20_000), Buffer.alloc(0), Buffer.from("RPyC ".repeat(1000))].map((payload) =>
      Buffer.concat(frameChunks(payload, true)),
    );
    const bytes = Buffer.concat(frames);
    for (const step of [1, 3, 5, 6, 7, 4096, bytes.length]) {
      const { stream, sent } = fakeStream();
      for (let at = 0; at < bytes.length; at += step) stream.write(bytes.subarray(at, at + step));
      expect(sent, `writes of ${step} bytes`).toEqual(frames);
    }
  });

  it("holds what arrives before start(), then reports a refused message as the close", () => {
    const { stream, peer } = fakeStream();
    const frame = encodeFrame(Buffer.from("first"), false);
    peer.message(frame, true);
    peer.message(Buffer.from("not a frame"), true);
    const got: Buffer[] = [];
    const closed: (Error | undefined)[] = [];
    stream.start({ data: (chunk) => got.push(chunk), close: (err) => closed.push(err) });
    expect(got).toEqual([frame]);
    expect(closed).toHaveLength(1);
    expect(String(closed[0])).toContain("each message must be one RPyC frame");
    expect(stream.closed).toBe(true);
  });
});

describe("the handshake", () => {
  it("answers another path 404 and plain HTTP at the path 426", async () => {
    const { server, url } = await serveWs();
    const err = await rejectionOf(connectWebSocket(url.replace(PATH, "/nope")));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).message).toContain("HTTP 404");
    expect((err as ConnectError).address).toBe(`ws://127.0.0.1:${server.port}/nope`);
    const status = async (where: string): Promise<number | undefined> => {
      const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) =>
        httpGet(`http://127.0.0.1:${server.port}${where}`, resolve).once("error", reject),
      );
      response.resume();
      return response.statusCode;
    };
    expect(await status(PATH)).toBe(426);
    expect(await status("/")).toBe(404);
    expect(server.connections.size).toBe(0);
  });

  it("refuses an Origin not in websocket.origins with 403; a listed one and none pass", async () => {
    const { url, log } = await serveWs({ websocket: { path: PATH, origins: ["https://app.example"] } });
    const err = await rejectionOf(connectWebSocket(url, { headers: { Origin: "https://evil.example" } }));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).message).toContain("HTTP 403");
    expect(log.lines.join("\n")).toContain('Origin "https://evil.example" is not in websocket.origins');
    const listed = await client(url, { headers: { Origin: "https://APP.example" } });
    expect(await listed.root.add(1, 1)).toBe(2);
    const none = await client(url);
    expect(await none.root.add(2, 2)).toBe(4);
  });

  it("the authenticator sees the upgrade request's headers and cookies, refuses with 401, and its verdict is the credentials", async () => {
    const seen: (string | undefined)[] = [];
    const { server, url, log } = await serveWs({
      authenticator: (socket, upgrade) => {
        expect(socket.remoteAddress).toBe("127.0.0.1");
        const request = upgrade!.request;
        seen.push(request.headers["x-team"] as string | undefined);
        const session = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
        if (session !== "s3cret") throw new AuthenticationError("no valid session cookie");
        return { team: request.headers["x-team"], path: request.url };
      },
    });
    const refused = await rejectionOf(connectWebSocket(url, { headers: { Cookie: "session=wrong", "X-Team": "blue" } }));
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect(String(refused)).toContain("HTTP 401");
    expect(log.lines.join("\n")).toContain("no valid session cookie");
    expect(server.connections.size).toBe(0);
    const conn = await client(`${url}?v=1`, { headers: { Cookie: "theme=dark; session=s3cret", "X-Team": "red" } });
    expect(await conn.root.credentials()).toBeDefined();
    expect((await onlyConnection(server)).config.credentials).toEqual({ team: "red", path: `${PATH}?v=1` });
    expect(seen).toEqual(["blue", "red"]);
  });
});

describe("the mapping's refusals close only the offending connection", () => {
  it("a text message, a message that is not one frame, and one over maxFrameSize", async () => {
    const maxFrameSize = 64 * 1024;
    const { server, url, log } = await serveWs({ protocolConfig: { maxFrameSize } });
    const good = await client(url);
    expect(await good.root.add(1, 2)).toBe(3);
    const closes: CloseEvent[] = [];

    const text = await rawClient(url);
    (await onlyOther(server, good)).on("close", (event) => closes.push(event));
    const textClosed = closeOf(text);
    text.send("hello");
    expect(await textClosed).toEqual([1003, "a text WebSocket message: RPyC over WebSocket takes binary messages only"]);

    const partial = await rawClient(url);
    const partialClosed = closeOf(partial);
    partial.send(encodeFrame(Buffer.from("12345"), false).subarray(0, 8));
    const [partialCode, partialReason] = await partialClosed;
    expect(partialCode).toBe(1002);
    expect(partialReason).toContain("each message must be one RPyC frame");

    const big = await rawClient(url);
    const bigClosed = closeOf(big);
    big.send(encodeFrame(randomBytes(maxFrameSize + 1), false));
    expect((await bigClosed)[0]).toBe(1009);

    expect(await good.root.add(2, 3)).toBe(5);
    expect(good.closed).toBe(false);
    // The server closed each with a clear reason, logged and in its close event.
    const lines = log.lines.join("\n");
    expect(lines).toContain("binary messages only");
    expect(lines).toContain("each message must be one RPyC frame");
    expect(lines).toContain(`a frame beyond maxFrameSize (${maxFrameSize} bytes)`);
    expect(String(closes[0]?.reason)).toContain("binary messages only");
  });

  it("a client refuses a message over its own maxFrameSize, and its calls fail with ConnectionClosedError", async () => {
    const { url } = await serveWs();
    const conn = await client(url, { config: { maxFrameSize: 1024 } });
    const closed = new Promise<CloseEvent>((resolve) => conn.once("close", resolve));
    const err = await rejectionOf(conn.root.echo(randomBytes(4096)));
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect(String(err)).toContain("maxFrameSize (1024 bytes)");
    expect(String((await closed).reason)).toContain("maxFrameSize");
  });
});

/** The server side of the connection that is not `mine`'s peer, once it exists. */
async function onlyOther(server: ThreadedServer, mine: Connection<CalcRemote>): Promise<Connection> {
  const local = mine.config.endpoints?.[0];
  for (;;) {
    const other = [...server.connections].find((conn) => conn.config.endpoints?.[1] !== local);
    if (other) return other;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("server limits and lifecycle", () => {
  it("maxConnections refuses the client past the limit until a slot frees", async () => {
    const { server, url, log } = await serveWs({ maxConnections: 1 });
    const first = await client(url);
    expect(await first.root.add(1, 1)).toBe(2);
    const refused = await rejectionOf(connectWebSocket(url));
    expect(refused).toBeInstanceOf(ConnectError);
    expect(log.lines.join("\n")).toContain("maxConnections (1) reached");
    const served = await onlyConnection(server);
    await first.close();
    await served.whenClosed();
    const next = await client(url);
    expect(await next.root.add(2, 2)).toBe(4);
  });

  it("server.close() closes its WebSocket connections, and nothing more is accepted", async () => {
    const { server, url } = await serveWs();
    const a = await client(url);
    const b = await client(url);
    expect(await a.root.add(1, 2)).toBe(3);
    expect(await b.root.add(1, 2)).toBe(3);
    await server.close();
    await Promise.all([a.whenClosed(), b.whenClosed()]);
    expect([a.closed, b.closed]).toEqual([true, true]);
    const err = await rejectionOf(connectWebSocket(url));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).systemCode).toBe("ECONNREFUSED");
  });
});

describe("wss", () => {
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => {
    ({ key, cert } = selfSignedCertificate());
  });

  it("serves over TLS with a self-signed certificate the client trusts, and refuses it untrusted", async () => {
    const { url } = await serveWs({ tls: { key, cert } });
    expect(url.startsWith("wss://")).toBe(true);
    const conn = await client(url, { tls: { ca: cert } });
    expect(await conn.root.add(20, 22)).toBe(42);
    const random = randomBytes(1 << 20);
    expect(Buffer.from(await conn.root.echo(random)).equals(random)).toBe(true);
    const untrusted = await rejectionOf(connectWebSocket(url, { tls: {} }));
    expect(untrusted).toBeInstanceOf(AuthenticationError);
    expect(String(untrusted)).toMatch(/self[- ]signed/i);
  });
});
