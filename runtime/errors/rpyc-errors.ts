// Error classes of rpyc-ts. Each has a stable `code` so callers can branch without
// string-matching messages; `isXxx` guards narrow `unknown` in catch blocks.

/** Stable codes carried by every rpyc-ts error. */
export type RpycErrorCode =
  | "PROTOCOL"
  | "FRAME_TOO_LARGE"
  | "CONNECTION_CLOSED"
  | "TIMEOUT"
  | "REMOTE"
  | "NETREF_RELEASED"
  | "PING"
  | "DISCOVERY"
  | "FORBIDDEN"
  | "LIMIT"
  | "AUTHENTICATION";

/** Base class of every error rpyc-ts raises itself. */
export class RpycError extends Error {
  readonly code: RpycErrorCode;
  constructor(code: RpycErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
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
