// TLS and authentication (rpyc/utils/authenticators.py). Servers terminate TLS in the
// listener (node's tls.Server) and then run an optional authenticator on the secured
// socket before any request is read; its result becomes the connection's `credentials`.

import { constants as cryptoConstants } from "node:crypto";
import type { Socket } from "node:net";
import { TLSSocket, type ConnectionOptions, type TlsOptions } from "node:tls";
import { AuthenticationError } from "../errors/rpyc-errors.js";

/**
 * Node's TLS server options (key, cert, ca, requestCert, rejectUnauthorized, ...). With
 * `requestCert: true` and `rejectUnauthorized: true` (node's default) the handshake itself
 * refuses a client without a certificate signed by `ca`; with `rejectUnauthorized: false`
 * the handshake passes and `tlsAuthenticator()` decides, logging the reason.
 */
export type TlsServerOptions = TlsOptions;

/**
 * Node's TLS client options (ca, cert, key, servername, rejectUnauthorized, ...); the host,
 * port and socket come from `tlsConnect`'s arguments.
 */
export type TlsClientOptions = Omit<ConnectionOptions, "host" | "port" | "path" | "socket">;

/**
 * `options` with TLS 1.2 renegotiation refused (RPyC never renegotiates): each one costs the
 * other side a full handshake of CPU, and node only reports ERR_TLS_SESSION_ATTACK past 3
 * without stopping it. OpenSSL answers a renegotiation with a no_renegotiation alert instead.
 * BigInt: `|` would truncate to int32 and turn a user's bit 31 into a negative number.
 */
export function withoutRenegotiation<T extends { secureOptions?: number | undefined }>(options: T): T {
  return { ...options, secureOptions: Number(BigInt(options.secureOptions ?? 0) | BigInt(cryptoConstants.SSL_OP_NO_RENEGOTIATION)) };
}

/**
 * RPyC's authenticator protocol: called with the accepted socket (a TLSSocket on a TLS
 * server, its handshake done) before the connection exists. Return the credentials (any
 * value; they land in the connection's `config.credentials`), or throw AuthenticationError
 * to reject: the socket is closed, nothing is read as RPyC, the server keeps serving. Unlike
 * RPyC the authenticator does not return a replacement socket: TLS is the listener's job.
 * It may read from the socket (see readBytes) as long as it does not leave a `data` listener.
 */
export type Authenticator = (socket: Socket) => unknown;

/** The verified peer certificate an tlsAuthenticator returns as credentials (cf. Python's getpeercert()). */
export interface PeerCertificateInfo {
  /** Subject fields, e.g. `{ CN: "client", O: "rpyc-ts" }` (a field that repeats is an array). */
  readonly subject: Readonly<Record<string, string | readonly string[]>>;
  readonly issuer: Readonly<Record<string, string | readonly string[]>>;
  /** Node's subjectAltName text, e.g. "DNS:localhost, IP Address:127.0.0.1"; "" when absent. */
  readonly subjectAltName: string;
  readonly serialNumber: string;
  readonly validFrom: string;
  readonly validTo: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprint256: string;
}

export interface TlsAuthenticatorOptions {
  /**
   * Require a client certificate that the server's `tls.ca` verified (RPyC's CERT_REQUIRED,
   * its default when ca_certs is given). Default: true. Needs `tls.requestCert: true`.
   * When false, a client without a certificate passes with `null` credentials, but a
   * certificate that fails verification is still rejected.
   */
  requireCertificate?: boolean;
  /** Further check of the verified certificate; return false or throw to reject. */
  check?: (cert: PeerCertificateInfo) => boolean;
}

function plainName(name: object | undefined): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  for (const [key, value] of Object.entries(name ?? {})) {
    if (typeof value === "string") out[key] = value;
    else if (Array.isArray(value)) out[key] = value.filter((v): v is string => typeof v === "string");
  }
  return out;
}

/** The peer certificate of a TLS socket, or null when the peer sent none. */
export function peerCertificate(socket: TLSSocket): PeerCertificateInfo | null {
  const cert = socket.getPeerCertificate();
  if (cert === null || Object.keys(cert).length === 0) return null;
  return {
    subject: plainName(cert.subject),
    issuer: plainName(cert.issuer),
    subjectAltName: cert.subjectaltname ?? "",
    serialNumber: cert.serialNumber,
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    fingerprint256: cert.fingerprint256,
  };
}

/**
 * RPyC's SSLAuthenticator for a server whose `tls` options set `requestCert: true`:
 * rejects a client whose certificate is missing or unverified (the reason from node, e.g.
 * "UNABLE_TO_VERIFY_LEAF_SIGNATURE", is in the error and the server log) and returns the
 * certificate as credentials. Use it with `rejectUnauthorized: false` so the handshake lets
 * the client through and the refusal is logged with its reason.
 */
export function tlsAuthenticator(options: TlsAuthenticatorOptions = {}): (socket: Socket) => PeerCertificateInfo | null {
  const required = options.requireCertificate ?? true;
  return (socket) => {
    if (!(socket instanceof TLSSocket)) throw new AuthenticationError("tlsAuthenticator needs a TLS server (set ServerOptions.tls)");
    const cert = peerCertificate(socket);
    if (cert === null) {
      if (required) throw new AuthenticationError("the client sent no certificate (is tls.requestCert set?)");
      return null;
    }
    if (!socket.authorized) {
      throw new AuthenticationError(`client certificate ${JSON.stringify(cert.subject)} not verified: ${String(socket.authorizationError)}`);
    }
    if (options.check && !options.check(cert)) {
      throw new AuthenticationError(`client certificate ${JSON.stringify(cert.subject)} refused by the check`);
    }
    return cert;
  };
}

/**
 * Reads exactly `n` bytes from a socket for an authenticator (e.g. RPyC's magic-word
 * example), leaving whatever follows them unread for the connection. Rejects with
 * AuthenticationError when the peer closes first or `timeoutSeconds` pass. Reads in
 * paused mode ("readable"), so the socket is left as it was found for the connection.
 */
export function readBytes(socket: Socket, n: number, timeoutSeconds = 10): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const finish = (error: Error | null, data?: Buffer): void => {
      clearTimeout(timer);
      socket.off("readable", onReadable);
      socket.off("close", onClose);
      if (error) reject(error);
      else resolve(data!);
    };
    const onReadable = (): void => {
      const data = socket.read(n) as Buffer | null;
      if (data === null) return; // fewer than n bytes buffered yet
      if (data.length < n) finish(new AuthenticationError(`the peer closed after ${data.length} of ${n} bytes`));
      else finish(null, data);
    };
    const onClose = (): void => finish(new AuthenticationError(`the peer closed before sending ${n} bytes`));
    const timer = setTimeout(() => finish(new AuthenticationError(`no ${n} bytes within ${timeoutSeconds} s`)), timeoutSeconds * 1000);
    socket.on("readable", onReadable);
    socket.once("close", onClose);
  });
}
