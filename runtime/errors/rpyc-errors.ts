// Error classes of rpyc-ts. Each has a stable `code` so callers can branch without
// string-matching messages; `isXxx` guards narrow `unknown` in catch blocks.

/** Stable codes carried by every rpyc-ts error. */
export type RpycErrorCode =
  | "PROTOCOL"
  | "FRAME_TOO_LARGE"
  | "CONNECTION_CLOSED"
  | "TIMEOUT"
  | "NETREF_RELEASED"
  | "PING"
  | "DISCOVERY"
  | "FORBIDDEN"
  | "LIMIT"
  | "AUTHENTICATION"
  | "CONNECT"
  | "LISTEN";

/** Base class of every error rpyc-ts raises itself. */
export class RpycError extends Error {
  readonly code: RpycErrorCode;
  constructor(code: RpycErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = OWN_NAMES.get(new.target) ?? new.target.name;
  }
}

/** The peer sent something that is not RPyC: bad frame, bad brine, bad message shape. */
export class ProtocolError extends RpycError {
  constructor(message: string, options?: ErrorOptions) {
    super("PROTOCOL", message, options);
  }
}

/** A frame's length field (or its decompressed size) exceeds the configured limit. */
export class FrameTooLargeError extends RpycError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super("FRAME_TOO_LARGE", `frame of ${size} bytes exceeds the limit of ${limit} bytes (maxFrameSize)`);
  }
}

/** The connection is closed (RPyC's `EOFError`); pending requests reject with it. */
export class ConnectionClosedError extends RpycError {
  constructor(message = "connection closed") {
    super("CONNECTION_CLOSED", message);
  }
}

/** No reply within `sync_request_timeout` seconds (RPyC's `AsyncResultTimeout`). */
export class AsyncResultTimeout extends RpycError {
  constructor(message: string) {
    super("TIMEOUT", message);
  }
}

/** An operation on a netref after `release()` or after its connection closed. */
export class NetrefReleasedError extends RpycError {
  constructor(message: string) {
    super("NETREF_RELEASED", message);
  }
}

/** `conn.ping()` got a different payload back. */
export class PingError extends RpycError {
  constructor(message: string) {
    super("PING", message);
  }
}

/** No server exposes the service, or none of them accepts a connection (RPyC's `DiscoveryError`). */
export class DiscoveryError extends RpycError {
  constructor(message: string, options?: ErrorOptions) {
    super("DISCOVERY", message, options);
  }
}

/** The registry refused the request: listing is not allowed (RPyC's `ForbiddenError`). */
export class ForbiddenError extends RpycError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

/**
 * A configured per-connection limit refused the operation before anything was sent, e.g.
 * `maxPendingRequests` outgoing requests are already awaiting replies. Nothing reached the
 * peer, so retrying later is safe.
 */
export class LimitExceededError extends RpycError {
  constructor(
    /** The config key of the limit, e.g. "maxPendingRequests". */
    readonly limit: string,
    /** The configured value that was reached. */
    readonly value: number,
    message = `${limit} (${value}) reached`,
  ) {
    super("LIMIT", message);
  }
}

export function isRpycError(value: unknown): value is RpycError {
  return value instanceof RpycError;
}

export function isProtocolError(value: unknown): value is ProtocolError {
  return isRpycError(value) && value.code === "PROTOCOL";
}

export function isConnectionClosedError(value: unknown): value is ConnectionClosedError {
  return isRpycError(value) && value.code === "CONNECTION_CLOSED";
}

export function isTimeoutError(value: unknown): value is AsyncResultTimeout {
  return isRpycError(value) && value.code === "TIMEOUT";
}

export function isFrameTooLargeError(value: unknown): value is FrameTooLargeError {
  return isRpycError(value) && value.code === "FRAME_TOO_LARGE";
}

export function isNetrefReleasedError(value: unknown): value is NetrefReleasedError {
  return isRpycError(value) && value.code === "NETREF_RELEASED";
}

export function isPingError(value: unknown): value is PingError {
  return isRpycError(value) && value.code === "PING";
}

export function isDiscoveryError(value: unknown): value is DiscoveryError {
  return isRpycError(value) && value.code === "DISCOVERY";
}

export function isForbiddenError(value: unknown): value is ForbiddenError {
  return isRpycError(value) && value.code === "FORBIDDEN";
}

export function isLimitExceededError(value: unknown): value is LimitExceededError {
  return isRpycError(value) && value.code === "LIMIT";
}

/**
 * A server's authenticator refused a connection, or a TLS handshake failed because a peer's
 * certificate could not be verified (RPyC's `AuthenticationError`). Authenticators throw it
 * to reject a client; `tlsConnect` rejects with it (the TLS error as `cause`) when the
 * handshake fails.
 */
export class AuthenticationError extends RpycError {
  constructor(message: string, options?: ErrorOptions) {
    super("AUTHENTICATION", message, options);
  }
}

export function isAuthenticationError(value: unknown): value is AuthenticationError {
  return isRpycError(value) && value.code === "AUTHENTICATION";
}

/** The system error code of a failed socket operation (`ECONNREFUSED`, ...), if any. */
function systemCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const CONNECT_REASONS: Readonly<Record<string, readonly [cause: string, advice: string]>> = {
  ECONNREFUSED: ["connection refused", "is the server running and listening there?"],
  ENOTFOUND: ["no such host", "check the host name"],
  EAI_AGAIN: ["the host name could not be resolved now", "check the host name and the DNS, then try again"],
  ETIMEDOUT: ["no answer in time", "is the host reachable and the port open? (a slow network may need a larger `timeout`)"],
  EHOSTUNREACH: ["host unreachable", "check the address and the network"],
  ENETUNREACH: ["network unreachable", "check the address and the network"],
  ECONNRESET: ["the connection was reset", "is it an RPyC server, and does it accept this client?"],
  ENOENT: ["no such socket file", "is the server running, and is the path right?"],
  EACCES: ["permission denied", "check the socket file's permissions"],
};

/**
 * The TCP, TLS or Unix socket connection could not be made: connection refused, unknown
 * host, no answer within `timeout`, ... (`connect`, `tlsConnect`, `unixConnect`). The
 * message names the address, the cause in words and what to check; `cause` is node's
 * error and `systemCode` its code (`"ECONNREFUSED"`, `"ENOTFOUND"`, `"ETIMEDOUT"` for
 * rpyc-ts's own connect timeout, ...). Nothing reached the server.
 */
export class ConnectError extends RpycError {
  /** node's error code, e.g. "ECONNREFUSED" (also `cause.code`); undefined if it had none. */
  readonly systemCode: string | undefined;
  /** What was connected to: "host:port" or the Unix socket path. */
  readonly address: string;
  constructor(address: string, cause: unknown, detail?: string) {
    const systemCode = systemCodeOf(cause);
    const reason = systemCode === undefined ? undefined : CONNECT_REASONS[systemCode];
    const words = detail ?? reason?.[0] ?? (cause instanceof Error ? cause.message : String(cause));
    const code = systemCode === undefined ? "" : ` (${systemCode})`;
    super("CONNECT", `cannot connect to ${address}: ${words}${code}${reason ? `: ${reason[1]}` : ""}`, { cause });
    this.systemCode = systemCode;
    this.address = address;
  }
}

export function isConnectError(value: unknown): value is ConnectError {
  return isRpycError(value) && value.code === "CONNECT";
}

const LISTEN_REASONS: Readonly<Record<string, readonly [cause: string, advice: string]>> = {
  EADDRINUSE: ["the port is in use", "choose another port or stop the process using it (port 0 picks a free one)"],
  EACCES: ["permission denied", "ports below 1024 need privileges: choose a higher port (port 0 picks a free one)"],
  EADDRNOTAVAIL: ["the address is not one of this machine's", "check the host name to bind"],
  ENOTFOUND: ["no such host", "check the host name to bind"],
};

const SOCKET_LISTEN_REASONS: Readonly<Record<string, readonly [cause: string, advice: string]>> = {
  EADDRINUSE: ["the socket file exists", "stop the server using it, or remove the file if none does, or choose another path"],
  EACCES: ["permission denied", "check the directory's permissions or choose another path"],
  ENOENT: ["no such directory", "create the directory or choose another path"],
};

/**
 * A server could not start listening (`start()`): the port is in use, a privileged port,
 * an address that is not this machine's, ... The message names the address, the cause in
 * words and what to do; `cause` is node's error and `systemCode` its code ("EADDRINUSE", ...).
 */
export class ListenError extends RpycError {
  /** node's error code, e.g. "EADDRINUSE" (also `cause.code`); undefined if it had none. */
  readonly systemCode: string | undefined;
  /** What the server tried to bind: "host:port", "port N" or the Unix socket path. */
  readonly address: string;
  constructor(address: string, cause: unknown, options: { socketPath?: boolean } = {}) {
    const systemCode = systemCodeOf(cause);
    const reason = systemCode === undefined ? undefined : (options.socketPath ? SOCKET_LISTEN_REASONS : LISTEN_REASONS)[systemCode];
    const words = reason?.[0] ?? (cause instanceof Error ? cause.message : String(cause));
    const code = systemCode === undefined ? "" : ` (${systemCode})`;
    super("LISTEN", `cannot listen on ${address}: ${words}${code}${reason ? `: ${reason[1]}` : ""}`, { cause });
    this.systemCode = systemCode;
    this.address = address;
  }
}

export function isListenError(value: unknown): value is ListenError {
  return isRpycError(value) && value.code === "LISTEN";
}

/**
 * The names of these classes as data: a minifier (a web app's bundler) renames classes, and
 * users print and compare `name`. Other subclasses (users') are named by their class.
 */
const OWN_NAMES: ReadonlyMap<abstract new (...args: never[]) => RpycError, string> = new Map<abstract new (...args: never[]) => RpycError, string>([
  [RpycError, "RpycError"],
  [ProtocolError, "ProtocolError"],
  [FrameTooLargeError, "FrameTooLargeError"],
  [ConnectionClosedError, "ConnectionClosedError"],
  [AsyncResultTimeout, "AsyncResultTimeout"],
  [NetrefReleasedError, "NetrefReleasedError"],
  [PingError, "PingError"],
  [DiscoveryError, "DiscoveryError"],
  [ForbiddenError, "ForbiddenError"],
  [LimitExceededError, "LimitExceededError"],
  [AuthenticationError, "AuthenticationError"],
  [ConnectError, "ConnectError"],
  [ListenError, "ListenError"],
]);
