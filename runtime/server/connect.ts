// Client factories (rpyc/utils/factory.py): connect over TCP or a Unix socket, or wrap
// an existing Stream. The client exposes its own service to the server (VoidService by
// default), and its on_connect has run when the returned promise resolves. tlsConnect is
// RPyC's ssl_connect over node's tls.

import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsSocketConnect } from "node:tls";
import type { ProtocolConfig } from "../connection/config.js";
import { AuthenticationError, ConnectError, ConnectionClosedError, isConnectError } from "../errors/rpyc-errors.js";
import { Connection } from "../connection/connection.js";
import type { ServiceSchema } from "../compiled/schema.js";
import { instantiateService, VoidService, type ServiceSpec } from "../serve/service.js";
import { SocketStream, type Stream } from "../wire/stream.js";
import { withoutRenegotiation, type TlsClientOptions } from "./tls.js";

export interface ConnectOptions {
  /** The service this side exposes to the peer (class, instance or classpartial). Default: VoidService. */
  service?: ServiceSpec;
  /** Connection config, merged over DEFAULT_CONFIG. */
  config?: Partial<ProtocolConfig>;
  /** Prefer IPv6 when resolving the host. */
  ipv6?: boolean;
  /** Enable TCP keepalive (RPyC's `keepalive`). */
  keepalive?: boolean;
  /** Seconds to wait for the TCP connection (RPyC: 3). */
  timeout?: number;
  /** rpyc-gen schemas of the peer's services (generated stubs pass theirs). */
  schemas?: readonly ServiceSchema[];
}

export interface TlsConnectOptions extends ConnectOptions {
  /**
   * Node's TLS client options: `ca` (trust only these CAs; default: node's root store),
   * `cert` and `key` (a client certificate), `servername`, `rejectUnauthorized`, ...
   * Unlike RPyC's ssl_connect (which turns check_hostname off), the server certificate must
   * name the host connected to, unless `checkServerIdentity` says otherwise.
   */
  tls?: TlsClientOptions;
}

/** A connect timeout as a system error, so it reads like the others (code ETIMEDOUT). */
export function timeoutError(what: string, seconds: number): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`connecting to ${what} timed out after ${seconds} s`);
  err.code = "ETIMEDOUT";
  return err;
}

/**
 * Resolves once `socket` is `ready`; rejects with a ConnectError (refused, unknown host, no
 * answer within `timeoutSeconds`, ...) while the connection is being made, or with the raw
 * socket error once it is made (a TLS handshake failure, for tlsConnect to name).
 */
function openSocket(socket: Socket, timeoutSeconds: number, what: string, ready: "connect" | "secureConnect" = "connect"): Promise<Socket> {
  let connected = false;
  const onConnect = (): void => {
    connected = true;
  };
  socket.once("connect", onConnect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      socket.removeListener("error", onError);
      socket.on("error", () => {});
      const detail = connected ? `the TLS handshake did not finish within ${timeoutSeconds} s` : `no answer within ${timeoutSeconds} s`;
      reject(new ConnectError(what, timeoutError(what, timeoutSeconds), detail));
    }, timeoutSeconds * 1000);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeListener("error", onError);
      socket.removeListener("connect", onConnect);
      resolve(socket);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.removeListener("connect", onConnect);
      reject(connected ? err : new ConnectError(what, err));
    };
    socket.once("error", onError);
  });
}

/** Builds a connection over any Stream (the base of every other factory). */
export async function connectStream<T = unknown>(stream: Stream, options: ConnectOptions = {}): Promise<Connection<T>> {
  const config = options.schemas ? { ...options.config, schemas: [...(options.config?.schemas ?? []), ...options.schemas] } : options.config;
  const conn = new Connection<T>(instantiateService(options.service ?? VoidService), stream, config);
  return conn.open();
}

/**
 * Connects to an RPyC server over TCP. Rejects with ConnectError when no connection can be
 * made (refused, unknown host, no answer within `timeout`), its message naming host:port,
 * the cause and what to check, node's error as `cause`.
 */
export async function connect<T = unknown>(host: string, port: number, options: ConnectOptions = {}): Promise<Connection<T>> {
  const socket = netConnect({ host, port, ...(options.ipv6 ? { family: 6 } : {}) });
  await openSocket(socket, options.timeout ?? 3, `${host}:${port}`);
  if (options.keepalive) socket.setKeepAlive(true);
  return connectStream<T>(new SocketStream(socket), options);
}

/**
 * Connects to an RPyC server over TLS (RPyC's ssl_connect). Rejects with AuthenticationError
 * (the TLS error as `cause`) when the handshake fails, e.g. the server's certificate is not
 * signed by `tls.ca`, or a TLS 1.2 server refuses the client certificate; with ConnectError
 * when the TCP connection cannot be made (as `connect`); with
 * ConnectionClosedError when the server hangs up mid-handshake. Under TLS 1.3 a
 * server checks the client certificate after the client's handshake is done, so a refused
 * client certificate shows as ConnectionClosedError on the first request instead.
 */
export async function tlsConnect<T = unknown>(host: string, port: number, options: TlsConnectOptions = {}): Promise<Connection<T>> {
  const socket = tlsSocketConnect(withoutRenegotiation({ ...options.tls, host, port, ...(options.ipv6 ? { family: 6 } : {}) }));
  try {
    await openSocket(socket, options.timeout ?? 3, `${host}:${port}`, "secureConnect");
  } catch (err) {
    socket.destroy();
    if (isConnectError(err) || !(err instanceof Error)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // The server hung up mid-handshake (e.g. its maxConnections was reached): not a certificate matter.
    if (code === "ECONNRESET" || code === "EPIPE") {
      throw new ConnectionClosedError(`TLS handshake with ${host}:${port} failed: the server closed the connection (${err.message})`);
    }
    throw new AuthenticationError(`TLS handshake with ${host}:${port} failed: ${err.message}${code === undefined ? "" : ` (${code})`}`, { cause: err });
  }
  if (options.keepalive) socket.setKeepAlive(true);
  return connectStream<T>(new SocketStream(socket), options);
}

/** Connects to an RPyC server on a Unix domain socket (ConnectError naming the path if it cannot). */
export async function unixConnect<T = unknown>(path: string, options: ConnectOptions = {}): Promise<Connection<T>> {
  const socket = netConnect({ path });
  await openSocket(socket, options.timeout ?? 3, path);
  return connectStream<T>(new SocketStream(socket), options);
}
