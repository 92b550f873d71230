// Observability of a connection: the counters of `conn.stats()` and the events a tracer
// hooks onto (`conn.on("request" | "reply" | "error" | "close", listener)`). Events are
// built only while someone listens, so an unobserved connection pays one boolean test per
// request.

/** Which side issued the request: "out" = we sent it, "in" = the peer sent it and we serve it. */
export type RequestDirection = "in" | "out";

/** A request sent (direction "out") or received (direction "in"). */
export interface RequestEvent {
  readonly connid: string;
  /** The sequence number, from the requesting side's counter (in and out seqs are unrelated). */
  readonly seq: number | bigint;
  /** The handler code (HANDLE_CALLATTR = 8, ...). */
  readonly handler: number;
  /** The handler's RPyC name, e.g. "HANDLE_CALLATTR". */
  readonly handlerName: string;
  /** The attribute name for GETATTR/SETATTR/DELATTR/CALLATTR, else undefined. */
  readonly name: string | undefined;
  readonly direction: RequestDirection;
  /** When it was sent or received: milliseconds since the Unix epoch, sub-millisecond precision. */
  readonly start: number;
}

/** A request completed successfully: reply received ("out") or reply sent ("in"). */
export interface ReplyEvent extends RequestEvent {
  /** Same clock as `start`. */
  readonly end: number;
  /** `end - start`, in milliseconds. */
  readonly duration: number;
}

/**
 * How a request failed: "exception" (an exception reply, received or sent), "timeout"
 * (sync_request_timeout or a per-call deadline), "aborted" (the caller's AbortSignal) or
 * "closed" (the connection closed first).
 */
export type RequestErrorKind = "exception" | "timeout" | "aborted" | "closed";

/** A request completed with an error. */
export interface RequestErrorEvent extends ReplyEvent {
  readonly kind: RequestErrorKind;
  readonly error: unknown;
}

/** The connection closed (by either side); `reason` is set when it was not an orderly close. */
export interface CloseEvent {
  readonly connid: string;
  readonly reason: Error | undefined;
}

/** Event names and payloads of `Connection.on()`. */
export interface ConnectionEvents {
  request: RequestEvent;
  reply: ReplyEvent;
  error: RequestErrorEvent;
  close: CloseEvent;
}

export type ConnectionEventListener<K extends keyof ConnectionEvents> = (event: ConnectionEvents[K]) => void;

/** A snapshot of a connection's counters (`conn.stats()`). */
export interface ConnectionStats {
  /** Our requests awaiting replies (bounded by maxPendingRequests). */
  readonly pendingRequests: number;
  /** The peer's requests being served: handler started, reply not sent yet (bounded by maxConcurrentRequests). */
  readonly servingRequests: number;
  /** The peer's requests received and waiting for a serving slot. */
  readonly queuedRequests: number;
  /** Bytes of those waiting requests (bounded by maxQueuedBytes, plus at most one read's worth). */
  readonly queuedBytes: number;
  /** True while the connection has stopped reading from the peer (backpressure). */
  readonly readingPaused: boolean;
  /** Bytes written but not yet handed to the OS (the socket's writableLength); 0 if the stream cannot tell. */
  readonly writeBuffer: number;
  /** Objects of ours the peer holds references to (the object table). */
  readonly localObjects: number;
  /** Live netrefs to the peer's objects. */
  readonly remoteNetrefs: number;
  /** Bytes received and sent, frames included. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Complete frames received and sent. */
  readonly framesIn: number;
  readonly framesOut: number;
  /** Requests we sent, DEL and CLOSE included. */
  readonly requestsSent: number;
  /** Requests of the peer we answered (with a reply or an exception). */
  readonly requestsServed: number;
  /**
   * Requests that failed (exception replies received or sent, timeouts, aborts, calls failed
   * by a close, calls refused by maxPendingRequests), plus protocol errors that closed the
   * connection.
   */
  readonly errors: number;
}

/** Wall-clock milliseconds with sub-millisecond precision, monotonic within the process. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
