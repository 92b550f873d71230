// Connection: one RPyC session over a Stream, as applications see it (rpyc/core/protocol.py's
// Connection): the peer's root, ping, close, stats() and events. The protocol itself runs
// in its Session (session.ts): seq numbers, pending replies, boxing and netrefs, serving in
// arrival order under the limits (maxPendingRequests for our requests, maxConcurrentRequests
// / maxQueuedBytes / maxWriteBuffer for the peer's, with backpressure on the socket), the
// native codec, heartbeat and close. Netrefs and handlers reach the session, never this.

import * as C from "../wire/consts.js";
import { PingError } from "../errors/rpyc-errors.js";
import { netrefState, type RequestOptions } from "../netref/state.js";
import type { ProtocolConfig } from "./config.js";
import type { ConnectionEventListener, ConnectionEvents, ConnectionStats } from "./observe.js";
import { Session } from "./session.js";
import type { Codec, Negotiation } from "../compiled/negotiation.js";
import type { Stream } from "../wire/stream.js";
import type { RootType } from "../netref/types.js";

// Re-exported where they were first defined (runtime/index.ts imports Codec from here).
export { HANDLE_NATIVE_OFFER, type Codec, type Negotiation, type NegotiationReason } from "../compiled/negotiation.js";
export { MAX_HELD_ANSWERS } from "./held-answers.js";

/** Lifecycle hooks a connection calls on its local root (Service has both). */
export interface ConnectionHooks {
  on_connect?(conn: Connection): void | Promise<void>;
  on_disconnect?(conn: Connection): void | Promise<void>;
}

/** Options of `Connection.close()`. */
export interface CloseOptions {
  /**
   * Drain first: for up to `graceMs` milliseconds, let the requests already received
   * (running, or waiting for a slot under maxConcurrentRequests) finish and send their
   * replies, while requests received from then on (other than DEL and PING) are refused
   * with an exception reply (Python EOFError); then close. Default 0: close at once, as
   * RPyC does; replies of running handlers are then dropped and the peer's calls reject
   * with a closed-connection error.
   */
  graceMs?: number;
}

/**
 * A connection's protocol core (its Session: the NetrefOwner of its netrefs and the
 * HandlerHost of its handlers), for the runtime's own modules and tests. Not exported by
 * runtime/index.ts: applications use the Connection's public members.
 * @internal (stripped from the published declarations: they would name every internal module)
 */
export const SESSION = Symbol("rpyc.connection.session");

/** The Session behind a connection (see SESSION). @internal */
export function sessionOf(conn: Connection<unknown>): Session {
  return conn[SESSION];
}

export class Connection<TRemote = unknown> {
  /** @internal */
  readonly [SESSION]: Session;
  readonly config: ProtocolConfig;
  readonly localRoot: object;
  /**
   * Resolves once the codec is decided, with the codec and why (see NegotiationReason), e.g.
   * `{ codec: "brine", reason: "peer-lacks-protobufjs", message: "no native codec: the peer
   * cannot load protobufjs ...; run \"npm install protobufjs\" where the peer runs" }`. On
   * the side that offers (it has `schemas`), when the peer answered (a Python peer refuses:
   * "peer-not-rpyc-ts"); on the other side, when it answered an offer; at once with
   * `codec: "brine"` ("codec-brine"); on close if nothing was decided ("closed", or
   * "not-offered" on a side that neither offered nor was offered). Calls never wait for it:
   * until then they go as brine. A reason a user can fix is also warned about, once per
   * process per reason, on the connection's logger (without one: one line on stderr).
   */
  readonly negotiated: Promise<Negotiation>;

  constructor(localRoot: object, stream: Stream, config: Partial<ProtocolConfig> = {}) {
    const session = new Session(this, localRoot, stream, config);
    this[SESSION] = session;
    this.config = session.config;
    this.localRoot = localRoot;
    this.negotiated = session.negotiated;
  }

  /**
   * Starts serving and runs the local service's on_connect. Its synchronous part runs
   * before any request is served; while it awaits, requests are served (as in RPyC,
   * where on_connect's own requests serve the peer while they wait).
   */
  async open(): Promise<this> {
    await this[SESSION].open();
    return this;
  }

  get connid(): string {
    return this.config.connid!;
  }

  get closed(): boolean {
    return this[SESSION].isClosed;
  }

  /** "native" once both peers agreed on the native codec (see config `codec`), else "brine". */
  get codec(): Codec {
    return this[SESSION].codec;
  }

  /** The peer's root service, as a netref; GETROOT is sent on first use. */
  get root(): RootType<TRemote> {
    return this[SESSION].root as RootType<TRemote>;
  }

  /** Fetches the peer's root now (otherwise the first use of `root` does). */
  async getRoot(): Promise<RootType<TRemote>> {
    const root = this.root;
    await this[SESSION].resolveRoot(netrefState(root)!);
    return root;
  }

  /** Round trip with HANDLE_PING; rejects with PingError if the echo differs. */
  async ping(data: string = C.PING_DEFAULT_DATA, timeoutSeconds = 3): Promise<void> {
    const echo = await this[SESSION].ping(data, timeoutSeconds);
    if (echo !== data) throw new PingError(`echoed data does not match: ${String(echo).slice(0, 40)}`);
  }

  /**
   * Sends one raw request (a handler code of wire/consts.ts and its arguments, boxed here)
   * and resolves with the unboxed reply; `options` carry a deadline (performance.now()
   * time, null: none) and an AbortSignal. For tools that speak the protocol directly (the
   * introspector's HANDLE_INSPECT); calls through netrefs need none of it.
   */
  request(handler: number, args: readonly unknown[], options?: RequestOptions): Promise<unknown> {
    return this[SESSION].request(handler, args, options);
  }

  /**
   * Sends CLOSE, closes the stream, then runs on_disconnect. Resolves when all is done.
   * With `graceMs`, drains first (see CloseOptions). The first call's options apply.
   */
  close(options: CloseOptions = {}): Promise<void> {
    return this[SESSION].close(options.graceMs ?? 0);
  }

  /** Resolves once the connection is closed (by either side) and on_disconnect has run. */
  whenClosed(): Promise<void> {
    return this[SESSION].closed$;
  }

  /** A snapshot of the connection's counters and limits in use. */
  stats(): ConnectionStats {
    return this[SESSION].stats();
  }

  /**
   * Adds a listener: "request" (sent or received), "reply" (completed: reply received or
   * sent), "error" (failed: exception, timeout, abort, closed), "close". Request events carry
   * seq, handler, direction and times; a "reply"/"error" is the same object plus `end` and
   * `duration`. Requests sent or received while no listener existed report no end. A
   * listener that throws is logged and ignored. DEL and CLOSE sent by us are not reported.
   */
  on<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): this {
    this[SESSION].events.on(event, listener);
    return this;
  }

  /** Removes a listener added with on() or once(). */
  off<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): this {
    this[SESSION].events.off(event, listener);
    return this;
  }

  /** Adds a listener that runs once. */
  once<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): this {
    this[SESSION].events.once(event, listener);
    return this;
  }

  listenerCount(event: keyof ConnectionEvents): number {
    return this[SESSION].events.listenerCount(event);
  }

  /** Symbol.asyncDispose: `await using conn = await connect(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
