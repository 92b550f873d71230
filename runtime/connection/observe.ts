// Observability of a connection: the counters of `conn.stats()` and the events a tracer
// hooks onto (`conn.on("request" | "reply" | "error" | "close", listener)`). Events are
// built only while someone listens, so an unobserved connection pays one boolean test per
// request. Observer holds the listeners and the counters of one connection.

import * as C from "../wire/consts.js";

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

/** The gauges of stats() that other parts of the connection know (the counters are Observer's). */
export type ConnectionGauges = Omit<ConnectionStats, "bytesIn" | "bytesOut" | "framesIn" | "framesOut" | "requestsSent" | "requestsServed" | "errors">;

/** The attribute name a request is about (GETATTR, SETATTR, DELATTR, CALLATTR), for events. */
function requestName(handler: unknown, args: unknown): string | undefined {
  if (handler !== C.HANDLE_GETATTR && handler !== C.HANDLE_CALLATTR && handler !== C.HANDLE_SETATTR && handler !== C.HANDLE_DELATTR) return undefined;
  const name = Array.isArray(args) ? args[1] : undefined;
  return typeof name === "string" ? name : undefined;
}

/** Events and counters of one connection: listeners, request traces, and the counters of stats(). */
export class Observer {
  // Counters of stats(), bumped directly by the rest of the connection.
  bytesIn = 0;
  bytesOut = 0;
  framesIn = 0;
  framesOut = 0;
  requestsSent = 0;
  requestsServed = 0;
  errors = 0;
  /** True while any request/reply/error listener exists: the only cost of events when nobody listens. */
  observed = false;
  /** Listeners by event; arrays are replaced, never mutated, so an emit iterates a stable list. */
  private listeners: { [K in keyof ConnectionEvents]?: readonly ConnectionEventListener<K>[] } = {};

  /** `conn`: its connid names events, its log gets what a listener threw. */
  constructor(private readonly conn: { readonly connid: string; log(level: "debug" | "warn", message: string, err?: unknown): void }) {}

  /** A snapshot of the counters, with the gauges of the rest of the connection. */
  stats(gauges: ConnectionGauges): ConnectionStats {
    return {
      pendingRequests: gauges.pendingRequests,
      servingRequests: gauges.servingRequests,
      queuedRequests: gauges.queuedRequests,
      queuedBytes: gauges.queuedBytes,
      readingPaused: gauges.readingPaused,
      writeBuffer: gauges.writeBuffer,
      localObjects: gauges.localObjects,
      remoteNetrefs: gauges.remoteNetrefs,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      requestsSent: this.requestsSent,
      requestsServed: this.requestsServed,
      errors: this.errors,
    };
  }

  on<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): void {
    this.listeners[event] = [...(this.listeners[event] ?? []), listener] as never;
    this.updateObserved();
  }

  off<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): void {
    const list = this.listeners[event] as readonly (ConnectionEventListener<K> & { original?: unknown })[] | undefined;
    const index = list ? list.findLastIndex((l) => l === listener || l.original === listener) : -1;
    if (index >= 0) this.listeners[event] = list!.filter((_, i) => i !== index) as never;
    this.updateObserved();
  }

  once<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): void {
    const wrapper = Object.assign(
      (payload: ConnectionEvents[K]) => {
        this.off(event, wrapper);
        listener(payload);
      },
      { original: listener },
    );
    this.on(event, wrapper);
  }

  listenerCount(event: keyof ConnectionEvents): number {
    return this.listeners[event]?.length ?? 0;
  }

  private updateObserved(): void {
    this.observed = this.listenerCount("request") + this.listenerCount("reply") + this.listenerCount("error") > 0;
  }

  emit<K extends keyof ConnectionEvents>(event: K, payload: ConnectionEvents[K]): void {
    const list = this.listeners[event] as readonly ConnectionEventListener<K>[] | undefined;
    if (!list) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (err) {
        this.conn.log("warn", `a "${event}" listener threw`, err);
      }
    }
  }

  traceRequest(seq: number | bigint, handler: number, args: unknown, direction: "in" | "out"): RequestEvent {
    const event: RequestEvent = {
      connid: this.conn.connid,
      seq,
      handler,
      handlerName: C.HANDLER_NAMES[handler] ?? `handler ${String(handler)}`,
      name: requestName(handler, args),
      direction,
      start: now(),
    };
    this.emit("request", event);
    return event;
  }

  traceEnd(trace: RequestEvent, kind?: RequestErrorKind, error?: unknown): void {
    const end = now();
    if (kind === undefined) this.emit("reply", { ...trace, end, duration: end - trace.start });
    else this.emit("error", { ...trace, end, duration: end - trace.start, kind, error });
  }
}
