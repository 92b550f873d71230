// Issue 16: a TLS 1.2 client that renegotiates over and over must not cost the server a
// handshake each time. A ThreadedServer with `tls` refuses renegotiation
// (SSL_OP_NO_RENEGOTIATION: OpenSSL answers the ClientHello with a no_renegotiation alert,
// on which OpenSSL clients give up with a fatal alert), and SocketStream closes a socket
// on any TLS error after the handshake (node only emits those, leaving the socket open).

import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls, { type TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Service, SocketStream, ThreadedServer, tlsConnect, type Connection } from "../../runtime/index.js";

let dir = "";
let key: Buffer;
let cert: Buffer;
let certFile = "";

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-reneg-"));
  // One self-signed certificate for 127.0.0.1, trusted by the clients as its own CA.
  writeFileSync(
    path.join(dir, "req.cnf"),
    "[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = v3\n[dn]\nCN = localhost\n" +
      "[v3]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,digitalSignature,keyCertSign\nsubjectAltName = IP:127.0.0.1\n",
  );
  const run = (args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "server.key"]);
  run(["req", "-x509", "-new", "-key", "server.key", "-config", "req.cnf", "-days", "2", "-out", "server.crt"]);
  key = readFileSync(path.join(dir, "server.key"));
  certFile = path.join(dir, "server.crt");
  cert = readFileSync(certFile);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

class EchoService extends Service {
  calls = 0;
  exposed_echo(value: string): string {
    this.calls++;
    return value;
  }
}

interface EchoRemote {
  echo(value: string): Promise<string>;
}

/** What the server did with one accepted TLS socket. */
interface Watched {
  socket: TLSSocket;
  /** The Finished message of the first handshake; a renegotiation makes a new one. */
  firstFinished: string;
  /** Handshakes completed after the first (a 'secure' whose Finished differs). */
  renegotiations: number;
  closed: Promise<void>;
}

/**
 * A TLS ThreadedServer whose authenticator only records each socket (after its first
 * handshake): the test sees the server's side of every connection.
 */
async function serveTls(): Promise<{ server: ThreadedServer; accepted: Watched[]; next: () => Promise<Watched> }> {
  const accepted: Watched[] = [];
  const waiting: ((w: Watched) => void)[] = [];
  const server = new ThreadedServer(EchoService, {
    hostname: "127.0.0.1",
    port: 0,
    tls: { key, cert },
    // Refused handshakes are logged; without a logger they would go to stderr.
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    authenticator: (socket: Socket) => {
      const tlsSocket = socket as TLSSocket;
      const watched: Watched = {
        socket: tlsSocket,
        firstFinished: tlsSocket.getFinished()?.toString("hex") ?? "",
        renegotiations: 0,
        closed: closeOf(tlsSocket),
      };
      // OpenSSL 3 also runs its handshake callbacks for a refused ClientHello, so node emits
      // 'secure' then too: only a new Finished message is a renegotiation.
      tlsSocket.on("secure", () => {
        const finished = tlsSocket.getFinished()?.toString("hex");
        if (finished !== undefined && finished !== watched.firstFinished) watched.renegotiations++;
      });
      accepted.push(watched);
      waiting.shift()?.(watched);
      return null;
    },
  });
  cleanups.push(() => server.close());
  await server.start();
  let taken = 0;
  const next = (): Promise<Watched> => {
    const index = taken++;
    const ready = accepted[index];
    return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
  };
  return { server, accepted, next };
}

async function healthyClient(port: number): Promise<Connection<EchoRemote>> {
  const conn = await tlsConnect<EchoRemote>("127.0.0.1", port, { tls: { ca: cert }, config: { sync_request_timeout: 10 } });
  cleanups.push(() => conn.close());
  return conn;
}

function startSClient(port: number): { child: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn("openssl", ["s_client", "-tls1_2", "-CAfile", certFile, "-connect", `127.0.0.1:${port}`], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdin.on("error", () => {}); // s_client may exit before we stop writing
  // 'close', not 'exit': by then all of s_client's output has been read.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await exited;
    }
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves once `read()` (called on each chunk of `stream`) matches `pattern`. */
function waitForText(stream: NodeJS.ReadableStream, read: () => string, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (pattern.test(read())) {
        stream.off("data", check);
        resolve();
      }
    };
    stream.on("data", check);
    check();
  });
}

/** Resolves on 'close' (events.once would reject on the 'error' that precedes it). */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

/** A node TLS 1.2 client (renegotiation allowed on its side). */
async function nodeTls12Client(port: number): Promise<{ socket: TLSSocket; errors: Error[]; closed: Promise<void> }> {
  const socket = tls.connect({ host: "127.0.0.1", port, ca: cert, maxVersion: "TLSv1.2" });
  const errors: Error[] = [];
  socket.on("error", (err) => errors.push(err));
  const closed = closeOf(socket);
  cleanups.push(() => void socket.destroy());
  await once(socket, "secureConnect");
  expect(socket.getProtocol()).toBe("TLSv1.2");
  return { socket, errors, closed };
}

/** One renegotiate() attempt: "renegotiated" on a new handshake, else "refused". */
function tryRenegotiate(socket: TLSSocket): Promise<"renegotiated" | "refused"> {
  return new Promise((resolve) => {
    const done = (outcome: "renegotiated" | "refused"): void => {
      socket.off("error", onFail);
      socket.off("close", onFail);
      resolve(outcome);
    };
    const onFail = (): void => done("refused");
    socket.once("error", onFail);
    socket.once("close", onFail);
    // The callback runs on the next 'secure' (a completed handshake) or with an error.
    const started = socket.renegotiate({}, (err) => done(err ? "refused" : "renegotiated"));
    if (!started) done("refused");
  });
}

describe("TLS renegotiation against a ThreadedServer", () => {
  it("openssl s_client's renegotiation (R) is refused, its socket closed, another client keeps being served", async () => {
    const { server, next } = await serveTls();
    const healthy = await healthyClient(server.port);
    expect(await healthy.root.echo("before")).toBe("before");
    await next(); // the healthy client's socket

    const sc = startSClient(server.port);
    const attacker = await next();
    await waitForText(sc.child.stdout, sc.stdout, /Verify return code: 0 \(ok\)/);
    expect(sc.stdout()).toMatch(/Protocol\s*: TLSv1\.2/);

    // A renegotiation that succeeded would leave s_client running: stop waiting on either.
    const renegotiated = new Promise<"renegotiated">((resolve) =>
      attacker.socket.on("secure", () => {
        if (attacker.renegotiations > 0) resolve("renegotiated");
      }),
    );
    sc.child.stdin.write("R\n");
    const outcome = await Promise.race([sc.exited.then(() => "exited" as const), renegotiated]);

    expect(outcome).toBe("exited");
    expect(attacker.renegotiations).toBe(0);
    expect(sc.child.exitCode).not.toBe(0);
    const stderr = sc.stderr();
    expect(stderr).toMatch(/RENEGOTIATING/);
    expect(stderr).toMatch(/no renegotiation/); // OpenSSL's ssl3_read_bytes:no renegotiation
    // No second certificate verification after the request: no second handshake.
    expect(stderr.slice(stderr.indexOf("RENEGOTIATING"))).not.toMatch(/depth=0/);
    await attacker.closed;
    expect(attacker.socket.destroyed).toBe(true);

    expect(await healthy.root.echo("after")).toBe("after");
    expect(healthy.closed).toBe(false);
  });

  it("a node client's renegotiate() calls (up to 20) are refused and its connection is closed by the server", async () => {
    const { server, next } = await serveTls();
    const healthy = await healthyClient(server.port);
    await next();
    expect(await healthy.root.echo("before")).toBe("before");

    const client = await nodeTls12Client(server.port);
    const attacker = await next();
    let clientClosed = false;
    void client.closed.then(() => (clientClosed = true));

    const outcomes: string[] = [];
    for (let i = 0; i < 20 && !clientClosed; i++) outcomes.push(await tryRenegotiate(client.socket));

    expect(outcomes.filter((o) => o === "renegotiated")).toEqual([]);
    expect(outcomes[0]).toBe("refused");
    expect(client.errors[0]?.message).toMatch(/no renegotiation/);
    expect(attacker.renegotiations).toBe(0);
    // node leaves a TLS socket open after a post-handshake error on both sides: only the
    // server destroying its socket ends the client's.
    await attacker.closed;
    await client.closed;

    expect(await healthy.root.echo("after")).toBe("after");
  });
});

describe("SocketStream on a TLS socket", () => {
  it("closes a socket on node's ERR_TLS_SESSION_ATTACK (a server that allows renegotiation)", async () => {
    // A bare node TLS server with renegotiation allowed: node emits ERR_TLS_SESSION_ATTACK
    // past tls.CLIENT_RENEG_LIMIT renegotiations but keeps the socket; SocketStream must close it.
    const streamClosed: Promise<Error | undefined>[] = [];
    const listener = tls.createServer({ key, cert }, (socket) => {
      const stream = new SocketStream(socket);
      streamClosed.push(new Promise((resolve) => stream.start({ data: () => {}, close: (err) => resolve(err) })));
    });
    cleanups.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    listener.listen(0, "127.0.0.1");
    await once(listener, "listening");
    const address = listener.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;

    const client = await nodeTls12Client(port);
    let clientClosed = false;
    void client.closed.then(() => (clientClosed = true));
    const outcomes: string[] = [];
    for (let i = 0; i < 20 && !clientClosed; i++) outcomes.push(await tryRenegotiate(client.socket));

    const renegotiated = outcomes.filter((o) => o === "renegotiated").length;
    expect(renegotiated).toBeGreaterThan(0); // this server does renegotiate...
    expect(renegotiated).toBeLessThanOrEqual(tls.CLIENT_RENEG_LIMIT); // ...but not past node's limit
    expect(outcomes.length).toBeLessThan(20);
    const err = await streamClosed[0];
    expect((err as NodeJS.ErrnoException | undefined)?.code).toBe("ERR_TLS_SESSION_ATTACK");
    await client.closed;
  });
});

describe("tlsConnect as the client", () => {
  it("refuses a renegotiation the server starts", async () => {
    // A bare node TLS server (renegotiation allowed on its side) that asks every client to
    // renegotiate: a tlsConnect client answers with the no_renegotiation alert.
    const outcomes: Promise<"renegotiated" | "refused">[] = [];
    const listener = tls.createServer({ key, cert, maxVersion: "TLSv1.2" }, (socket) => {
      socket.on("error", () => {});
      outcomes.push(tryRenegotiate(socket));
    });
    cleanups.push(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    listener.listen(0, "127.0.0.1");
    await once(listener, "listening");
    const address = listener.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;

    const conn = await tlsConnect("127.0.0.1", port, { tls: { ca: cert } });
    cleanups.push(() => conn.close());
    await eventuallyDefined(() => outcomes[0]);
    expect(await outcomes[0]).toBe("refused");
  });
});

/** Resolves with read()'s value once it is defined (it is set by a server callback). */
async function eventuallyDefined<T>(read: () => T | undefined): Promise<T> {
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
