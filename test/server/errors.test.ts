// Issue 14, §4: the errors a newcomer meets first. Connecting to a closed port, an unknown
// host or a missing Unix socket is a ConnectError naming the address, the cause in words and
// what to check; a port already in use is a ListenError saying what to do; and a server
// without a logger still reports refused clients (TLS handshakes, authenticators) on stderr,
// one line each.

import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  AuthenticationError,
  ConnectError,
  ListenError,
  Service,
  ThreadedServer,
  connect,
  isConnectError,
  isListenError,
  isRpycError,
  tlsConnect,
  unixConnect,
  type Logger,
} from "../../runtime/index.js";
import { eventually, serve } from "../helpers/servers.js";

const HOST = "127.0.0.1";

class EchoService extends Service {
  exposed_echo(value: string): string {
    return value;
  }
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-errors-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, HOST);
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("expected a rejection"),
    (err: unknown) => err,
  );
}

interface Captured extends Logger {
  lines: string[];
}

function capture(): Captured {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}

describe("ConnectError: a connection that cannot be made", () => {
  it("connect() to a closed port names host:port, the cause and what to check; node's error is the cause", async () => {
    const port = await closedPort();
    const err = await failure(connect(HOST, port));
    expect(err).toBeInstanceOf(ConnectError);
    expect(isConnectError(err) && isRpycError(err)).toBe(true);
    const e = err as ConnectError;
    expect(e.message).toBe(`cannot connect to ${HOST}:${port}: connection refused (ECONNREFUSED): is the server running and listening there?`);
    expect(e.code).toBe("CONNECT");
    expect(e.name).toBe("ConnectError");
    expect(e.systemCode).toBe("ECONNREFUSED");
    expect(e.address).toBe(`${HOST}:${port}`);
    expect(e.cause).toMatchObject({ code: "ECONNREFUSED", syscall: "connect" });
  });

  it("tlsConnect() to a closed port is the same ConnectError (not an AuthenticationError)", async () => {
    const port = await closedPort();
    const err = await failure(tlsConnect(HOST, port));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(`cannot connect to ${HOST}:${port}: connection refused (ECONNREFUSED): is the server running and listening there?`);
    expect((err as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
  });

  it("unixConnect() to a missing socket file names the path", async () => {
    const socketPath = path.join(dir, "nobody.sock");
    const err = await failure(unixConnect(socketPath));
    expect(isConnectError(err)).toBe(true);
    expect((err as Error).message).toBe(`cannot connect to ${socketPath}: no such socket file (ENOENT): is the server running, and is the path right?`);
    expect((err as ConnectError).systemCode).toBe("ENOENT");
  });

  it("an unknown host reads 'no such host' (node's ENOTFOUND; real DNS is off limits under the loopback rule)", () => {
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND nohost.invalid"), { code: "ENOTFOUND", syscall: "getaddrinfo", hostname: "nohost.invalid" });
    const err = new ConnectError("nohost.invalid:18812", dns);
    expect(err.message).toBe("cannot connect to nohost.invalid:18812: no such host (ENOTFOUND): check the host name");
    expect(err.cause).toBe(dns);
    expect(err.systemCode).toBe("ENOTFOUND");
    // An error without a known code keeps node's own words.
    expect(new ConnectError("h:1", new Error("something odd")).message).toBe("cannot connect to h:1: something odd");
  });

  it("no TLS handshake within `timeout` is a ConnectError with ETIMEDOUT", async () => {
    // A TCP server that accepts and never answers the ClientHello.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket.on("error", () => {}))).listen(0, HOST);
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    await once(silent, "listening");
    const port = (silent.address() as net.AddressInfo).port;
    const err = await failure(tlsConnect(HOST, port, { timeout: 0.2 }));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe(
      `cannot connect to ${HOST}:${port}: the TLS handshake did not finish within 0.2 s (ETIMEDOUT): is the host reachable and the port open? (a slow network may need a larger \`timeout\`)`,
    );
    expect((err as Error).cause).toMatchObject({ code: "ETIMEDOUT" });
  });
});

describe("ListenError: a server that cannot listen", () => {
  it("a port in use: start() rejects naming the port and what to do, logged by nobody else", async () => {
    const busy = await serve(EchoService);
    const logger = capture();
    const second = new ThreadedServer(EchoService, { hostname: HOST, port: busy.port, logger });
    cleanups.push(() => second.close());
    const err = await failure(second.start());
    expect(err).toBeInstanceOf(ListenError);
    expect(isListenError(err) && isRpycError(err)).toBe(true);
    const e = err as ListenError;
    expect(e.message).toBe(
      `cannot listen on ${HOST}:${busy.port}: the port is in use (EADDRINUSE): choose another port or stop the process using it (port 0 picks a free one)`,
    );
    expect(e.code).toBe("LISTEN");
    expect(e.systemCode).toBe("EADDRINUSE");
    expect(e.cause).toMatchObject({ code: "EADDRINUSE", syscall: "listen" });
    // The rejection is the report: the server's logger does not repeat it.
    expect(logger.lines.filter((line) => line.startsWith("error"))).toEqual([]);
    // Once the port is free, the same server can start.
    const port = busy.port;
    await busy.close();
    await second.start();
    expect(second.port).toBe(port);
  });

  it("a Unix socket path in use says so", async () => {
    const socketPath = path.join(dir, "busy.sock");
    const first = new ThreadedServer(EchoService, { socketPath });
    const second = new ThreadedServer(EchoService, { socketPath });
    cleanups.push(
      () => second.close(),
      () => first.close(),
    );
    await first.start();
    const err = await failure(second.start());
    expect(isListenError(err)).toBe(true);
    expect((err as Error).message).toBe(
      `cannot listen on ${socketPath}: the socket file exists (EADDRINUSE): stop the server using it, or remove the file if none does, or choose another path`,
    );
  });
});

describe("refused clients are logged by default: one line each on stderr", () => {
  /** Lines this suite's servers wrote to stderr while `fn` ran. */
  async function stderrOf(fn: (written: readonly string[]) => Promise<void>): Promise<string[]> {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    const spy = vi.spyOn(process.stderr, "write").mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (text.startsWith("rpyc-ts server: ")) {
        written.push(text);
        return true;
      }
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write);
    try {
      await fn(written);
    } finally {
      spy.mockRestore();
    }
    return written;
  }

  const refuse = (): never => {
    throw new AuthenticationError("wrong magic word");
  };

  it("an authenticator's refusal, without a logger", async () => {
    const written = await stderrOf(async (lines) => {
      const server = await serve(EchoService, { authenticator: refuse });
      const client = net.connect(server.port, HOST);
      client.on("error", () => {});
      await once(client, "connect");
      const local = `${HOST}:${client.localPort}`;
      await once(client, "close");
      await eventually(() => lines.length > 0, 5000, "the refusal on stderr");
      expect(lines).toEqual([`rpyc-ts server: ${local} failed to authenticate, rejecting the connection: wrong magic word\n`]);
    });
    expect(written).toHaveLength(1);
  });

  it("with a logger the refusal goes there and not to stderr", async () => {
    const logger = capture();
    const written = await stderrOf(async () => {
      const server = await serve(EchoService, { authenticator: refuse, logger });
      const client = net.connect(server.port, HOST);
      client.on("error", () => {});
      await once(client, "close");
      await eventually(() => logger.lines.some((line) => line.startsWith("warn")), 5000, "the refusal in the logger");
    });
    expect(written).toEqual([]);
    expect(logger.lines.filter((line) => line.startsWith("warn"))).toEqual([
      expect.stringMatching(/^warn 127\.0\.0\.1:\d+ failed to authenticate, rejecting the connection: wrong magic word$/),
    ]);
  });

  it("a failed TLS handshake, without a logger", async () => {
    writeFileSync(
      path.join(dir, "req.cnf"),
      "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = v3\n[dn]\nCN = localhost\n[v3]\nsubjectAltName = IP:127.0.0.1\n",
    );
    const run = (args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "server.key"]);
    run(["req", "-x509", "-new", "-key", "server.key", "-config", "req.cnf", "-days", "2", "-out", "server.crt"]);
    const tls = { key: readFileSync(path.join(dir, "server.key")), cert: readFileSync(path.join(dir, "server.crt")) };
    const written = await stderrOf(async (lines) => {
      const server = await serve(EchoService, { tls });
      // Not TLS at all: the server's handshake fails on the first bytes.
      const client = net.connect(server.port, HOST);
      client.on("error", () => {});
      await once(client, "connect");
      client.write("GET / HTTP/1.0\r\n\r\n");
      await eventually(() => lines.length > 0, 5000, "the refused handshake on stderr");
      client.destroy();
    });
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^rpyc-ts server: TLS handshake with 127\.0\.0\.1:\d+ failed: http request \(ERR_SSL_HTTP_REQUEST\)\n$/);
  });
});
