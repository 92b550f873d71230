// ServerOptions.maxConnections: the socket past the limit is closed as soon as it is accepted
// (its client sees the connection closed), a warning is logged, the other clients keep being
// served, and a slot frees when a connection closes. Sockets still in the TLS handshake or
// in the authenticator count too.

import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConnectionClosedError,
  connect,
  readBytes,
  Service,
  ThreadedServer,
  tlsConnect,
  type Connection,
  type Logger,
  type ServerOptions,
} from "../../runtime/index.js";
import { selfSignedCertificate } from "../helpers/certificates.js";
import { eventually } from "../helpers/servers.js";

class Echo extends Service {
  static calls = 0;
  exposed_echo(value: string): string {
    Echo.calls++;
    return value;
  }
}
interface EchoRemote {
  echo(value: string): Promise<string>;
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
  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

async function serveEcho(options: ServerOptions): Promise<{ server: ThreadedServer; log: CapturingLogger }> {
  const log = new CapturingLogger();
  const server = new ThreadedServer(Echo, { hostname: "127.0.0.1", port: 0, logger: log, ...options });
  cleanups.push(() => server.close());
  await server.start();
  return { server, log };
}

async function client(port: number): Promise<Connection<EchoRemote>> {
  const conn = await connect<EchoRemote>("127.0.0.1", port, { config: { sync_request_timeout: 5 } });
  cleanups.push(() => conn.close());
  return conn;
}

const REFUSED = /^maxConnections \(2\) reached: refused 127\.0\.0\.1:\d+$/;

describe("maxConnections", () => {
  it("refuses the connection past the limit, keeps serving the others, and frees a slot on close", async () => {
    const { server, log } = await serveEcho({ maxConnections: 2 });
    const first = await client(server.port);
    const second = await client(server.port);
    expect(await first.root.echo("one")).toBe("one");
    expect(await second.root.echo("two")).toBe("two");

    const callsBefore = Echo.calls;
    const third = await client(server.port); // TCP accepts it; the server closes it at once
    await expect(third.root.echo("three")).rejects.toBeInstanceOf(ConnectionClosedError);
    await eventually(() => log.count(REFUSED) === 1, 5000, "the refusal warning");
    expect(Echo.calls).toBe(callsBefore);
    expect(server.connections.size).toBe(2);
    expect(await first.root.echo("still one")).toBe("still one");
    expect(await second.root.echo("still two")).toBe("still two");

    await first.close();
    await eventually(() => server.connections.size === 1, 5000, "the server to see the close");
    const fourth = await client(server.port);
    expect(await fourth.root.echo("four")).toBe("four");
    expect(await second.root.echo("two again")).toBe("two again");
    expect(log.count(REFUSED)).toBe(1);
  });

  it("counts sockets still in the authenticator", async () => {
    let authenticating = 0;
    const magicWord = async (socket: net.Socket): Promise<null> => {
      authenticating++;
      if ((await readBytes(socket, 5, 5)).toString("latin1") !== "Ma6ik") throw new Error("wrong word");
      return null;
    };
    const { server, log } = await serveEcho({ maxConnections: 2, authenticator: magicWord });
    const idle: net.Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = net.connect({ host: "127.0.0.1", port: server.port });
      socket.on("error", () => {});
      idle.push(socket);
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    }
    cleanups.push(async () => idle.forEach((socket) => socket.destroy()));
    await eventually(() => authenticating === 2, 5000, "the server to accept both");
    const third = net.connect({ host: "127.0.0.1", port: server.port });
    third.on("error", () => {});
    await new Promise<void>((resolve) => third.once("close", () => resolve()));
    await eventually(() => log.count(REFUSED) === 1, 5000, "the refusal warning");
    idle[0]!.destroy();
    idle[1]!.destroy();
    expect(server.connections.size).toBe(0);
  });

  it("over TLS the client past the limit fails its handshake with ConnectionClosedError", async () => {
    const { key, cert } = selfSignedCertificate();
    const { server, log } = await serveEcho({ maxConnections: 2, tls: { key, cert } });
    const open = async (): Promise<Connection<EchoRemote>> => {
      const conn = await tlsConnect<EchoRemote>("127.0.0.1", server.port, { tls: { ca: cert } });
      cleanups.push(() => conn.close());
      return conn;
    };
    const first = await open();
    const second = await open();
    const err = await open().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as Error).message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed: the server closed the connection/);
    await eventually(() => log.count(REFUSED) === 1, 5000, "the refusal warning");
    expect(await first.root.echo("a")).toBe("a");
    await second.close();
    await eventually(() => server.connections.size === 1, 5000, "the server to see the close");
    const third = await open();
    expect(await third.root.echo("b")).toBe("b");
  });

  it("must be a positive integer", () => {
    expect(() => new ThreadedServer(Echo, { maxConnections: 0 })).toThrow(RangeError);
    expect(() => new ThreadedServer(Echo, { maxConnections: 1.5 })).toThrow(/maxConnections must be a positive integer, got 1\.5/);
  });
});
