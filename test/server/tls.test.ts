// TLS and authenticators: ThreadedServer and tlsConnect over node's tls with certificates
// generated at test time by openssl (a CA, a server and a client certificate, and an
// unrelated CA with its own "rogue" client), client-certificate checks in the handshake and
// in tlsAuthenticator, custom authenticators that refuse a socket before any request is
// served, and interop with Python RPyC's ssl_connect and SSLAuthenticator.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  ConnectionClosedError,
  connect,
  connectStream,
  readBytes,
  OneShotServer,
  Service,
  SocketStream,
  tlsAuthenticator,
  ThreadedServer,
  tlsConnect,
  type Connection,
  type Logger,
  type PeerCertificateInfo,
  type ServerOptions,
  type TlsClientOptions,
  type TlsServerOptions,
} from "../../runtime/index.js";
import { requirePythonRpyc, runPythonClient, startPython, WITH_PYTHON } from "../helpers/python.js";
import { eventually } from "../helpers/servers.js";

// ---------------------------------------------------------------------------------------
// Certificates

interface Pem {
  key: Buffer;
  cert: Buffer;
  keyFile: string;
  certFile: string;
}
let dir = "";
let ca: Pem, server: Pem, client: Pem, otherCa: Pem, rogue: Pem;

function openssl(args: readonly string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(name: string, cn: string): Pem {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
  openssl(["req", "-x509", "-new", "-key", `${name}.key`, "-config", "ca.cnf", "-extensions", "v3", "-subj", `/CN=${cn}`, "-days", "2", "-out", `${name}.crt`]);
  return load(name);
}

function makeLeaf(name: string, cn: string, issuer: string, ext: string, serial: number): Pem {
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
  openssl(["req", "-new", "-key", `${name}.key`, "-config", "ca.cnf", "-subj", `/O=rpyc-ts/CN=${cn}`, "-out", `${name}.csr`]);
  openssl([
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${issuer}.crt`,
    "-CAkey",
    `${issuer}.key`,
    "-set_serial",
    String(serial),
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    `${name}.crt`,
  ]);
  return load(name);
}

function load(name: string): Pem {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-tls-"));
  const leaf = "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n";
  writeFileSync(
    path.join(dir, "ca.cnf"),
    "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n[v3]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n",
  );
  writeFileSync(path.join(dir, "server.ext"), `${leaf}extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost\n`);
  writeFileSync(path.join(dir, "client.ext"), `${leaf}extendedKeyUsage = clientAuth\n`);
  ca = makeCa("ca", "rpyc-ts test CA");
  otherCa = makeCa("other", "unrelated CA");
  server = makeLeaf("server", "localhost", "ca", "server.ext", 0x1001);
  client = makeLeaf("client", "client", "ca", "client.ext", 0x1002);
  rogue = makeLeaf("rogue", "client", "other", "client.ext", 0x1003);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Service, servers, clients

/** Counts what reached the service, per server. */
class Tally {
  instances = 0;
  connects = 0;
  calls = 0;
  credentials: unknown[] = [];
}

interface SecureRemote {
  echo(value: string): Promise<string>;
  whoami(): Promise<string | null>;
}

function secureService(tally: Tally): new () => Service {
  return class SecureService extends Service {
    private conn: Connection | undefined;
    constructor() {
      super();
      tally.instances++;
    }
    override on_connect(conn: Connection): void {
      tally.connects++;
      tally.credentials.push(conn.config.credentials);
      this.conn = conn;
    }
    exposed_echo(value: string): string {
      tally.calls++;
      return value;
    }
    exposed_whoami(): string | null {
      tally.calls++;
      const cert = this.conn?.config.credentials as PeerCertificateInfo | null | undefined;
      const cn = cert?.subject.CN;
      return typeof cn === "string" ? cn : null;
    }
  };
}

class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  debug(): void {}
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
  has(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

async function serveSecure(options: ServerOptions): Promise<{ server: ThreadedServer; tally: Tally; log: CapturingLogger }> {
  const tally = new Tally();
  const log = new CapturingLogger();
  const srv = new ThreadedServer(secureService(tally), { hostname: "127.0.0.1", port: 0, logger: log, ...options });
  cleanups.push(() => srv.close());
  await srv.start();
  return { server: srv, tally, log };
}

async function open(port: number, tls: TlsClientOptions): Promise<Connection<SecureRemote>> {
  const conn = await tlsConnect<SecureRemote>("127.0.0.1", port, { tls, config: { sync_request_timeout: 5 } });
  cleanups.push(() => conn.close());
  return conn;
}

/**
 * Connects and makes one call; returns the error. A refused client fails in the handshake
 * (AuthenticationError) or, when the server decides after the client's TLS 1.3 handshake is
 * done, on its first request (ConnectionClosedError).
 */
async function refusal(port: number, tls: TlsClientOptions): Promise<Error> {
  try {
    const conn = await open(port, tls);
    await conn.root.echo("should not be served");
  } catch (err) {
    return err as Error;
  }
  throw new Error("the client was served");
}

// ---------------------------------------------------------------------------------------

describe("TLS transport", () => {
  it("serves calls over TLS to a client that trusts the server's CA", async () => {
    const { server: srv, tally } = await serveSecure({ tls: { key: server.key, cert: server.cert } });
    const conn = await open(srv.port, { ca: ca.cert });
    expect(await conn.root.echo("hello")).toBe("hello");
    expect(await conn.root.whoami()).toBeNull(); // no authenticator: credentials stay null
    expect(tally.credentials).toEqual([null]);
  });

  it("a client trusting another CA fails the handshake with AuthenticationError", async () => {
    const { server: srv, tally, log } = await serveSecure({ tls: { key: server.key, cert: server.cert } });
    const err = await tlsConnect("127.0.0.1", srv.port, { tls: { ca: otherCa.cert } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).code).toBe("AUTHENTICATION");
    expect((err as Error).message).toMatch(
      /^TLS handshake with 127\.0\.0\.1:\d+ failed: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
    );
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    // node's client hangs up without an alert when it cannot verify the server.
    await eventually(() => log.has(/^warn TLS handshake with .* failed: socket hang up$/), 5000, "the server's handshake warning");
    expect(tally.instances).toBe(0);
  });

  it("a client checks the server's name: a certificate for another host is refused", async () => {
    const { server: srv } = await serveSecure({ tls: { key: server.key, cert: server.cert } });
    const err = await tlsConnect("127.0.0.1", srv.port, {
      tls: {
        ca: ca.cert,
        servername: "example.invalid",
        checkServerIdentity: (host, cert) => (cert.subject.CN === host ? undefined : new Error(`certificate is for ${cert.subject.CN}, not ${host}`)),
      },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(/certificate is for localhost, not example\.invalid/);
  });

  it("a plain TCP client gets nothing from a TLS server: its first request fails, the server keeps serving", async () => {
    const { server: srv, tally } = await serveSecure({ tls: { key: server.key, cert: server.cert } });
    const plain = await connect<SecureRemote>("127.0.0.1", srv.port, { config: { sync_request_timeout: 5 } });
    cleanups.push(() => plain.close());
    await expect(plain.root.echo("x")).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(tally.instances).toBe(0);
    const good = await open(srv.port, { ca: ca.cert });
    expect(await good.root.echo("still serving")).toBe("still serving");
  });
});

describe("client certificates checked by the handshake (requestCert, rejectUnauthorized)", () => {
  const tls = (): TlsServerOptions => ({ key: server.key, cert: server.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: true });

  it("serves a client with a certificate from the CA, refuses one without and one from another CA", async () => {
    const { server: srv, tally, log } = await serveSecure({ tls: tls() });
    const good = await open(srv.port, { ca: ca.cert, cert: client.cert, key: client.key });
    expect(await good.root.echo("good")).toBe("good");

    const missing = await refusal(srv.port, { ca: ca.cert });
    // TLS 1.3: the client's handshake is done when the server checks; the alert ends the connection.
    expect(missing).toBeInstanceOf(ConnectionClosedError);
    expect(missing.message).toMatch(/^connection lost: .*alert certificate required/);
    const wrongCa = await refusal(srv.port, { ca: ca.cert, cert: rogue.cert, key: rogue.key });
    expect(wrongCa).toBeInstanceOf(ConnectionClosedError);

    await eventually(() => log.has(/peer did not return a certificate/), 5000, "the missing-certificate warning");
    await eventually(() => log.has(/^warn TLS handshake .* failed: .*(unable to verify|certificate)/i), 5000, "the wrong-CA warning");
    expect(tally.instances).toBe(1); // only the good client reached the service
    expect(tally.calls).toBe(1);
    expect(await good.root.echo("still good")).toBe("still good");
  });
});

describe("tlsAuthenticator", () => {
  const tls = (): TlsServerOptions => ({ key: server.key, cert: server.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false });

  it("passes a verified client certificate to the service as credentials", async () => {
    const { server: srv, tally, log } = await serveSecure({ tls: tls(), authenticator: tlsAuthenticator() });
    const conn = await open(srv.port, { ca: ca.cert, cert: client.cert, key: client.key });
    expect(await conn.root.whoami()).toBe("client");
    const cred = tally.credentials[0] as PeerCertificateInfo;
    expect(cred.subject).toEqual({ O: "rpyc-ts", CN: "client" });
    expect(cred.issuer).toEqual({ CN: "rpyc-ts test CA" });
    expect(cred.serialNumber).toBe("1002");
    expect(cred.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(log.has(/^info 127\.0\.0\.1:\d+ authenticated successfully$/)).toBe(true);
  });

  it("refuses a client without a certificate and one from another CA before any request is served", async () => {
    const { server: srv, tally, log } = await serveSecure({ tls: tls(), authenticator: tlsAuthenticator() });
    const missing = await refusal(srv.port, { ca: ca.cert });
    expect(missing).toBeInstanceOf(ConnectionClosedError);
    const wrongCa = await refusal(srv.port, { ca: ca.cert, cert: rogue.cert, key: rogue.key });
    expect(wrongCa).toBeInstanceOf(ConnectionClosedError);
    await eventually(() => log.has(/failed to authenticate, rejecting the connection: the client sent no certificate/), 5000, "the no-certificate warning");
    await eventually(
      () => log.has(/failed to authenticate, rejecting the connection: client certificate .* not verified: .*UNABLE_TO_VERIFY_LEAF_SIGNATURE/),
      5000,
      "the rogue warning",
    );
    // Never instantiated, so on_connect and the method never ran.
    expect([tally.instances, tally.connects, tally.calls]).toEqual([0, 0, 0]);
    const good = await open(srv.port, { ca: ca.cert, cert: client.cert, key: client.key });
    expect(await good.root.echo("served")).toBe("served");
  });

  it("applies `check` to the verified certificate", async () => {
    const { server: srv, tally, log } = await serveSecure({ tls: tls(), authenticator: tlsAuthenticator({ check: (cert) => cert.subject.CN === "admin" }) });
    const err = await refusal(srv.port, { ca: ca.cert, cert: client.cert, key: client.key });
    expect(err).toBeInstanceOf(ConnectionClosedError);
    await eventually(() => log.has(/client certificate .*"CN":"client".* refused by the check/), 5000, "the check warning");
    expect(tally.instances).toBe(0);
  });

  it("with requireCertificate: false lets a client without a certificate in with null credentials", async () => {
    const { server: srv, tally } = await serveSecure({ tls: tls(), authenticator: tlsAuthenticator({ requireCertificate: false }) });
    const conn = await open(srv.port, { ca: ca.cert });
    expect(await conn.root.whoami()).toBeNull();
    expect(tally.credentials).toEqual([null]);
  });
});

describe("custom authenticators (plain TCP)", () => {
  // RPyC's documented example: the client sends a magic word before speaking RPyC.
  const magicWord = async (socket: net.Socket): Promise<string> => {
    const word = (await readBytes(socket, 5, 2)).toString("latin1");
    if (word !== "Ma6ik") throw new AuthenticationError(`wrong magic word ${JSON.stringify(word)}`);
    return "magic user";
  };

  /** A TCP socket that sends `prefix` first, then speaks RPyC. */
  async function connectWithPrefix(port: number, prefix: string): Promise<Connection<SecureRemote>> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.write(prefix);
    const conn = await connectStream<SecureRemote>(new SocketStream(socket), { config: { sync_request_timeout: 5 } });
    cleanups.push(() => conn.close());
    return conn;
  }

  it("serves a client that passes, with the returned credentials in config.credentials", async () => {
    const { server: srv, tally } = await serveSecure({ authenticator: magicWord });
    const conn = await connectWithPrefix(srv.port, "Ma6ik");
    expect(await conn.root.echo("after the magic word")).toBe("after the magic word");
    expect(tally.credentials).toEqual(["magic user"]);
  });

  it("closes a refused socket before any request is read, even one sent with the magic word", async () => {
    const { server: srv, tally, log } = await serveSecure({ authenticator: magicWord });
    const conn = await connectWithPrefix(srv.port, "nope!");
    // The request frame follows the wrong word at once; the server must never serve it.
    await expect(conn.root.echo("must not run")).rejects.toBeInstanceOf(ConnectionClosedError);
    await eventually(() => log.has(/^warn 127\.0\.0\.1:\d+ failed to authenticate, rejecting the connection: wrong magic word "nope!"$/), 5000, "the refusal");
    expect([tally.instances, tally.connects, tally.calls]).toEqual([0, 0, 0]);
    const good = await connectWithPrefix(srv.port, "Ma6ik");
    expect(await good.root.echo("others are served")).toBe("others are served");
  });

  it("refuses when the authenticator takes longer than authenticationTimeout, or fails unexpectedly", async () => {
    const never = (): Promise<never> => new Promise(() => {});
    const slow = await serveSecure({ authenticator: never, authenticationTimeout: 0.2 });
    const started = Date.now();
    const conn = await connectWithPrefix(slow.server.port, "");
    await expect(conn.root.echo("x")).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(slow.log.has(/failed to authenticate, rejecting the connection: no verdict within 0\.2 s \(authenticationTimeout\)/)).toBe(true);
    expect(slow.tally.instances).toBe(0);

    const broken = await serveSecure({
      authenticator: () => {
        throw new TypeError("bug in the authenticator");
      },
    });
    const conn2 = await connectWithPrefix(broken.server.port, "");
    await expect(conn2.root.echo("x")).rejects.toBeInstanceOf(ConnectionClosedError);
    await eventually(
      () => broken.log.has(/^error authenticator failed for 127\.0\.0\.1:\d+, rejecting the connection: bug in the authenticator$/),
      5000,
      "the error",
    );
    expect(broken.tally.instances).toBe(0);
  });

  it("a OneShotServer whose one client is refused closes, as RPyC's does", async () => {
    const tally = new Tally();
    const log = new CapturingLogger();
    const srv = new OneShotServer(secureService(tally), { hostname: "127.0.0.1", port: 0, logger: log, authenticator: magicWord });
    cleanups.push(() => srv.close());
    await srv.start();
    const conn = await connectWithPrefix(srv.port, "nope!");
    await expect(conn.root.echo("x")).rejects.toBeInstanceOf(ConnectionClosedError);
    await srv.whenDone();
    expect(log.has(/^info server closed$/)).toBe(true);
    expect(tally.instances).toBe(0);
  });

  it("close() does not wait for a pending authenticator", async () => {
    // The authenticator never decides and its timeout (30 s) is beyond the test's: close()
    // that waited for either would fail the test by its timeout (no wall-clock bound here).
    let authenticating = 0;
    const { server: srv } = await serveSecure({
      authenticator: () => {
        authenticating++;
        return new Promise(() => {});
      },
      authenticationTimeout: 30,
    });
    const socket = net.connect({ host: "127.0.0.1", port: srv.port });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    await eventually(() => authenticating === 1, 5000, "the server to accept the connection and ask the authenticator");
    await srv.close();
    await closed;
  });
});

describe.runIf(WITH_PYTHON)("interop with Python RPyC", () => {
  it("a Python rpyc.ssl_connect client calls our TLS server with tlsAuthenticator", async () => {
    requirePythonRpyc();
    const { server: srv, tally } = await serveSecure({
      tls: { key: server.key, cert: server.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false },
      authenticator: tlsAuthenticator(),
    });
    const ok = await runPythonClient("../../security/python/ssl_client.py", [String(srv.port), ca.certFile, client.certFile, client.keyFile]);
    expect(ok).toEqual({ tls_version: "TLSv1.3", echo: "hello over TLS", whoami: "client" });
    const refused = await runPythonClient("../../security/python/ssl_client.py", [String(srv.port), ca.certFile]);
    expect(refused.error).toMatch(/^(EOFError|ConnectionResetError|SSLError|SSLEOFError)$/);
    expect(tally.instances).toBe(1);
  });

  it("our tlsConnect calls a Python ThreadedServer guarded by SSLAuthenticator", async () => {
    requirePythonRpyc();
    const py = await startPython("../../security/python/ssl_server.py", [ca.certFile, server.certFile, server.keyFile]);
    cleanups.push(() => py.stop());
    const conn = await open(py.port, { ca: ca.cert, cert: client.cert, key: client.key });
    expect(await conn.root.echo("to Python over TLS")).toBe("to Python over TLS");
    expect(await conn.root.whoami()).toBe("client"); // Python's credentials: getpeercert()
    const missing = await refusal(py.port, { ca: ca.cert });
    expect(missing).toBeInstanceOf(ConnectionClosedError);
    expect(missing.message).toMatch(/alert certificate required/);
    const wrongCa = await refusal(py.port, { ca: ca.cert, cert: rogue.cert, key: rogue.key });
    expect(wrongCa).toBeInstanceOf(ConnectionClosedError);
    expect(await conn.root.echo("still served")).toBe("still served");
  });
});
