// The protocol's core of a connection (rpyc/core/protocol.py): sequence numbers, our
// requests and their replies (deadlines, aborts, limits), serving the peer's brine requests
// in arrival order, the lazy root, heartbeat and close. Its parts: boxing.ts (values and
// references), inbound.ts (received frames, the request queue, backpressure, draining),
// native-session.ts (the native codec and pipelining), observe.ts (events and counters).
// Internal: applications hold the Connection facade (connection.ts); netrefs (NetrefOwner)
// and handlers (HandlerHost) hold this.

import { DEFAULT_BRINE_LIMITS, dump, dumpable, dumpFrame, load, type BrineLimits } from "../wire/brine.js";
import { resolveConfig, type ProtocolConfig } from "./config.js";
import * as C from "../wire/consts.js";
import { AsyncResultTimeout, ConnectionClosedError, isTimeoutError, LimitExceededError, ProtocolError } from "../errors/rpyc-errors.js";
import { PythonException } from "../errors/python-exceptions.js";
import { handlerFor, type HandlerHost } from "../serve/handlers.js";
import { JS_MODULE, type IdPack } from "../netref/id-pack.js";
import { schemaNeedsTable, type ServiceSchema } from "../compiled/schema.js";
import { encodeNativeDrop, encodeNativeHold, encodeNativePipeline, isNativePayload, type NativeMethod } from "../compiled/native.js";
import { HANDLE_NATIVE_OFFER, type Codec, type Negotiation } from "../compiled/negotiation.js";
import { netrefState, type NetrefOwner, type NetrefState, type RequestOptions } from "../netref/state.js";
import type { Answer } from "../netref/answer.js";
import { isPromiseLike } from "../netref/brand.js";
import { LocalObjectTable } from "../netref/object-table.js";
import { MAX_TIMER_MS, Pending, PendingRequests, readableSeconds } from "./pending-requests.js";
import { Observer, type ConnectionStats, type RequestErrorKind, type RequestEvent } from "./observe.js";
import { Boxing, type Boxed, type BoxingHost } from "./boxing.js";
import { Inbound, type InboundHost } from "./inbound.js";
import { closingRefusal, NativeSession, type NativeHost } from "./native-session.js";
import type { Stream } from "../wire/stream.js";
import { dumpException, loadException } from "../wire/vinegar.js";
import { unrefTimer } from "../platform/node.js";
import type { PyValue } from "../wire/values.js";

/** The local root's lifecycle hooks, called with the connection the application holds. */
interface LifecycleHooks {
  on_connect?(conn: unknown): void | Promise<void>;
  on_disconnect?(conn: unknown): void | Promise<void>;
}

/** Payload of a heartbeat ping. */
const HEARTBEAT_DATA = "rpyc-ts heartbeat";

/** How sendRequest sends a request, beyond a plain brine one. */
interface SendExtras {
  /** Not subject to maxPendingRequests (the heartbeat must get out when calls fill the table). */
  readonly unlimited?: boolean;
  /** Our own bookkeeping (the codec offer): not counted in stats, limits or events. */
  readonly internal?: boolean;
  /** Promise pipelining: the request's result may have dependents (see NetrefOwner.request). */
  readonly answer?: Answer | undefined;
  /** Promise pipelining: sent as a pipelined request on the held result of our request `base`. */
  readonly base?: number | undefined;
}
const NO_EXTRAS: SendExtras = {};
const INTERNAL: SendExtras = { unlimited: true, internal: true };
const UNLIMITED: SendExtras = { unlimited: true };

export class Session implements NetrefOwner, HandlerHost, BoxingHost, InboundHost, NativeHost {
  readonly config: ProtocolConfig;
  readonly objects = new LocalObjectTable();
  readonly brineLimits: BrineLimits;
  readonly events: Observer;
  readonly boxing: Boxing;
  readonly inbound: Inbound;
  readonly native: NativeSession;
  readonly pending = new PendingRequests((seq, pending) =>
    this.fail(
      seq,
      new AsyncResultTimeout(
        `result expired: no reply to ${C.HANDLER_NAMES[pending.handler]} (seq ${seq}) within ${readableSeconds(pending.timeoutSeconds)} s`,
      ),
      "timeout",
    ),
  );
  seq = 0;
  isClosed = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private heartbeatPending = false;
  private rootProxy: unknown;
  private rootFetch: Promise<void> | undefined;
  /** The fetched root (it holds the refcount); the lazy root keeps it alive for the connection's life. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: only written; holding it is the point.
  private rootTarget: unknown;
  private readonly schemasByNamePack: ReadonlyMap<string, ServiceSchema>;
  codecDecided!: (outcome: Negotiation) => void;
  /** See Connection.negotiated. */
  readonly negotiated: Promise<Negotiation> = new Promise((resolve) => (this.codecDecided = resolve));
  private closing: Promise<void> | undefined;
  private cleanupDone: Promise<void> | undefined;
  readonly closed$: Promise<void>;
  private signalClosed!: () => void;
  /** (msg, seq, payload) and (handler, boxed), reused: dump() only reads them. */
  private readonly message: unknown[] = [0, 0, undefined];
  private readonly requestBody: unknown[] = [0, undefined];

  /** `facade`: what the local root's hooks (on_connect, on_disconnect) receive. */
  constructor(
    private readonly facade: object,
    readonly localRoot: object,
    private readonly stream: Stream,
    config: Partial<ProtocolConfig>,
  ) {
    this.config = resolveConfig({ endpoints: stream.endpoints, ...config });
    this.brineLimits = {
      ...DEFAULT_BRINE_LIMITS,
      maxDepth: this.config.maxBrineDepth,
      maxIntDigits: this.config.maxIntDigits,
      maxItems: this.config.maxBrineItems,
    };
    this.closed$ = new Promise((resolve) => (this.signalClosed = resolve));
    this.schemasByNamePack = new Map(this.config.schemas.map((schema) => [`${JS_MODULE}.${schema.className}`, schema]));
    this.events = new Observer(this);
    this.boxing = new Boxing(this);
    this.inbound = new Inbound(this, stream);
    this.native = new NativeSession(this);
  }

  get connid(): string {
    return this.config.connid!;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** See Connection.open(). */
  async open(): Promise<void> {
    const inbound = this.inbound;
    this.stream.start({
      data: (chunk) => inbound.onData(chunk),
      close: (err) => void this.onStreamClosed(err),
      drain: () => inbound.onWritable(),
    });
    this.startHeartbeat();
    // Before on_connect and before open() resolves: the offer must precede every call.
    await this.native.open();
    try {
      await (this.localRoot as LifecycleHooks).on_connect?.(this.facade);
    } catch (err) {
      this.stream.destroy();
      throw err;
    }
  }

  /** See NativeSession.peerHasSchemas (HandlerHost). */
  get peerHasSchemas(): boolean {
    return this.native.peerHasSchemas;
  }

  /** See NativeSession.peerSchemaClasses (HandlerHost). */
  get peerSchemaClasses(): ReadonlySet<string> {
    return this.native.peerSchemaClasses;
  }

  /** "native" once both peers agreed on the native codec (see config `codec`), else "brine". */
  get codec(): Codec {
    return this.native.agreed ? "native" : "brine";
  }

  // ---- netrefs (NetrefOwner) -------------------------------------------------------------

  /** The peer's root service, as a netref; GETROOT is sent on first use. */
  get root(): unknown {
    if (this.rootProxy === undefined) {
      const state: NetrefState = { owner: this, idPack: null, refcount: 0, released: false };
      this.rootProxy = this.boxing.createNetref(state);
    }
    return this.rootProxy;
  }

  async resolveRoot(state: NetrefState): Promise<void> {
    this.rootFetch ??= this.request(C.HANDLE_GETROOT, []).then(
      (root) => {
        const rootState = netrefState(root);
        if (!rootState) throw new ProtocolError("GETROOT did not return a reference");
        state.idPack = rootState.idPack;
        this.rootTarget = root;
      },
      (err: unknown) => {
        this.rootFetch = undefined;
        throw err;
      },
    );
    return this.rootFetch;
  }

  schemaFor(state: NetrefState): ServiceSchema | undefined {
    if (state.idPack === null || this.schemasByNamePack.size === 0) return undefined;
    const namePack = state.idPack[0];
    const schema = this.schemasByNamePack.get(namePack);
    if (schema === undefined && !namePack.startsWith(`${JS_MODULE}.`)) this.refuseForeignClass(namePack);
    return schema;
  }

  /**
   * A schema compiled from a TypeScript service describes an rpyc-ts server, which sends plain
   * data by value to it. The same class served by another peer (Python RPyC: "module.Class")
   * sends objects by reference where the schema declares values: every typed call would lie.
   */
  private refuseForeignClass(namePack: string): void {
    const className = namePack.slice(namePack.lastIndexOf(".") + 1);
    const compiled = this.config.schemas.find((schema) => schema.className === className && schema.origin !== "python" && schemaNeedsTable(schema));
    if (compiled === undefined) return;
    throw new TypeError(
      `${className} here is served by a peer that is not rpyc-ts (its class is ${namePack}: Python RPyC?), but this client was compiled from a TypeScript source, whose types need an rpyc-ts server with the dispatch table. Compile the client from the service's Python source (rpyc-gen service.py)`,
    );
  }

  schemaOfClass(className: string): ServiceSchema | undefined {
    return this.schemasByNamePack.get(`${JS_MODULE}.${className}`);
  }

  netrefReleased(state: NetrefState): void {
    this.boxing.netrefReleased(state);
  }

  idPackOf(obj: object): IdPack {
    return this.boxing.idPackOf(obj);
  }

  callNative(
    state: NetrefState,
    schema: ServiceSchema,
    name: string,
    args: readonly unknown[],
    options: RequestOptions | undefined,
  ): Promise<unknown> | undefined {
    return this.native.call(state, schema, name, args, options);
  }

  // ---- requests ---------------------------------------------------------------------

  /**
   * Sends a request and resolves with the unboxed reply. `options` (from withOptions())
   * carry a deadline replacing sync_request_timeout and an AbortSignal.
   */
  request(handler: number, args: readonly unknown[], options?: RequestOptions, answer?: Answer): Promise<unknown> {
    if (options === undefined) return this.sendRequest(handler, args, this.config.sync_request_timeout, undefined, answer ? { answer } : NO_EXTRAS);
    const [timeout, signal] = this.timeoutOf(options);
    return this.sendRequest(handler, args, timeout, signal, answer ? { answer } : NO_EXTRAS);
  }

  /** Promise pipelining: a request on the held result of our request `base` (see NetrefOwner). */
  requestPipelined(base: number, handler: number, args: readonly unknown[], options: RequestOptions | undefined, answer: Answer): Promise<unknown> {
    const [timeout, signal] = this.timeoutOf(options);
    return this.sendRequest(handler, args, timeout, signal, { answer, base });
  }

  dropPipelined(base: number): void {
    if (!this.isClosed) this.sendChunks(encodeNativeDrop(base));
  }

  /** Our bookkeeping's request (the codec offer): not counted in stats, limits or events. */
  sendInternal(handler: number, args: readonly unknown[]): Promise<unknown> {
    return this.sendRequest(handler, args, this.config.sync_request_timeout, undefined, INTERNAL);
  }

  /** Round trip with HANDLE_PING (see Connection.ping). */
  ping(data: string, timeoutSeconds: number): Promise<unknown> {
    return this.sendRequest(C.HANDLE_PING, [data], timeoutSeconds, undefined);
  }

  /** A request's timeout in seconds (null: none) and signal, from a netref's options. */
  timeoutOf(options: RequestOptions | undefined): [number | null, AbortSignal | undefined] {
    if (options === undefined) return [this.config.sync_request_timeout, undefined];
    let timeout = this.config.sync_request_timeout;
    if (options.deadline !== undefined) timeout = options.deadline === null ? null : Math.max(0, options.deadline - performance.now()) / 1000;
    return [timeout, options.signal];
  }

  /** Sends a brine request (or a pipelined one); see SendExtras. */
  private sendRequest(
    handler: number,
    args: readonly unknown[],
    timeoutSeconds: number | null,
    signal: AbortSignal | undefined,
    extras: SendExtras = NO_EXTRAS,
  ): Promise<unknown> {
    const answer = extras.answer;
    const base = extras.base;
    const refused = this.admit(handler, timeoutSeconds, signal, extras.unlimited === true);
    if (refused !== undefined) return this.refuse(refused, answer, base);
    const seq = this.seq;
    // Boxed and encoded before anything is written: a value that cannot be sent leaves
    // nothing behind (no hold, no seq, no entries in the object table).
    let frame: Uint8Array[];
    const nested = this.objects.begin();
    try {
      frame =
        base !== undefined
          ? encodeNativePipeline(seq, base, dump([handler, this.boxing.box(args)] as PyValue), this.config.compress)
          : this.encodeRequest(seq, handler, this.boxing.box(args));
      if (!nested) this.objects.commit();
    } catch (err) {
      if (!nested) this.objects.rollback();
      return this.refuse(err, answer, base);
    }
    this.seq++;
    // Pipelining: the hold goes first, so the peer keeps this request's result for its dependents.
    if (answer) {
      const held = answer.wanted && this.native.agreed && this.native.pipelining;
      if (held) this.sendChunks(encodeNativeHold(seq, answer.dependents));
      answer.left(held ? seq : null);
    }
    const internal = extras.internal === true;
    const promise = this.track(seq, handler, args, timeoutSeconds, signal, undefined, internal);
    this.sendChunks(frame);
    // Reading may have stopped because nothing we awaited could arrive; now a reply can.
    if (this.inbound.readPaused) this.inbound.flow();
    return promise;
  }

  /** Why a request may not be sent now (closed, aborted, a limit, a passed deadline), or undefined. */
  admit(handler: number, timeoutSeconds: number | null, signal: AbortSignal | undefined, unlimited: boolean): unknown {
    if (this.isClosed) return new ConnectionClosedError();
    if (signal?.aborted) return signal.reason;
    if (!unlimited && this.pending.userCount >= this.config.maxPendingRequests) {
      this.events.errors++;
      const limit = this.config.maxPendingRequests;
      return new LimitExceededError(
        "maxPendingRequests",
        limit,
        `${limit} requests already await replies on ${this.connid} (maxPendingRequests); ${C.HANDLER_NAMES[handler]} was not sent`,
      );
    }
    if (timeoutSeconds === 0) {
      this.events.errors++;
      return new AsyncResultTimeout(`deadline passed before ${C.HANDLER_NAMES[handler]} was sent`);
    }
    return undefined;
  }

  /** A request that will not be sent: its pipelining bookkeeping is given up. */
  private refuse(err: unknown, answer: Answer | undefined, base: number | undefined): Promise<unknown> {
    answer?.left(null);
    if (base !== undefined) this.dropPipelined(base);
    return Promise.reject(err);
  }

  /** Registers request `seq` as pending (deadline, abort, trace, counters); its promise settles with the reply. */
  track(
    seq: number,
    handler: number,
    args: unknown,
    timeoutSeconds: number | null,
    signal: AbortSignal | undefined,
    native: NativeMethod | undefined,
    internal: boolean,
  ): Promise<unknown> {
    // Beyond setTimeout's range (about 24.8 days) is no limit, not an immediate timeout.
    const timed = timeoutSeconds !== null && timeoutSeconds * 1000 <= MAX_TIMER_MS;
    const deadline = timed ? performance.now() + timeoutSeconds * 1000 : Infinity;
    const pending = new Pending(seq, handler, deadline, timeoutSeconds, native, internal);
    if (signal) {
      const onAbort = (): void => this.fail(seq, signal.reason, "aborted");
      signal.addEventListener("abort", onAbort, { once: true });
      pending.unlisten = () => signal.removeEventListener("abort", onAbort);
    }
    if (this.events.observed && !internal) pending.trace = this.events.traceRequest(seq, handler, args, "out");
    this.pending.add(seq, pending);
    if (!internal) this.events.requestsSent++;
    return pending.promise;
  }

  /** Fails a pending request locally (timeout, abort); its reply, if it ever comes, is dropped. */
  private fail(seq: number, error: unknown, kind: RequestErrorKind): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq, pending);
    pending.unlisten?.();
    if (!pending.internal) this.events.errors++;
    if (pending.trace) this.events.traceEnd(pending.trace, kind, error);
    pending.reject(error);
    if (this.inbound.queued) this.inbound.flow();
  }

  /** A request whose reply is ignored (DEL, CLOSE), with already-boxed args. */
  sendAsync(handler: number, boxed: Boxed): void {
    this.events.requestsSent++;
    this.sendChunks(this.encodeRequest(this.seq++, handler, boxed));
  }

  /** The frame of request (MSG_REQUEST, seq, (handler, boxed)), the pair in a reused array: dump() only reads it. */
  private encodeRequest(seq: number, handler: number, boxed: unknown): Uint8Array[] {
    const body = this.requestBody;
    body[0] = handler;
    body[1] = boxed;
    try {
      return this.encode(C.MSG_REQUEST, seq, body);
    } finally {
      body[1] = undefined;
    }
  }

  /** The frame of a brine message (msg, seq, payload). */
  private encode(msg: number, seq: number | bigint, payload: unknown): Uint8Array[] {
    // (msg, seq, payload) through one reused array: dump() only reads it.
    const message = this.message;
    message[0] = msg;
    message[1] = seq;
    message[2] = payload;
    // Small frames are one buffer; big bytes values and large messages are not copied again.
    try {
      return dumpFrame(message as PyValue, this.config.compress);
    } finally {
      message[2] = undefined;
    }
  }

  /** Sends a brine message (msg, seq, payload). */
  send(msg: number, seq: number | bigint, payload: unknown): void {
    this.sendChunks(this.encode(msg, seq, payload));
  }

  /** Writes one frame's chunks. */
  sendChunks(chunks: readonly Uint8Array[]): void {
    const events = this.events;
    for (const chunk of chunks) {
      events.bytesOut += chunk.length;
      this.stream.write(chunk);
    }
    events.framesOut++;
  }

  // ---- received messages ----------------------------------------------------------------

  /** `fresh`: just received (may have to wait in the queue); false: taken from the queue by the inbound side. */
  dispatch(payload: Uint8Array, fresh: boolean): void {
    if (isNativePayload(payload)) return this.native.dispatch(payload, fresh);
    let message: PyValue;
    try {
      message = load(payload, this.brineLimits);
    } catch (err) {
      return this.fatal(err);
    }
    if (!Array.isArray(message) || message.length !== 3) {
      return this.fatal(new ProtocolError("message is not a (type, seq, args) 3-tuple"));
    }
    const [type, seq, args] = message as [PyValue, PyValue, PyValue];
    if (typeof seq !== "number" && typeof seq !== "bigint") return this.fatal(new ProtocolError("message seq is not an int"));
    switch (type) {
      case C.MSG_REQUEST: {
        const refuse = this.inbound.admit(payload, fresh);
        if (refuse !== undefined) this.onRequest(seq, args, refuse);
        return;
      }
      case C.MSG_REPLY:
      case C.MSG_EXCEPTION:
        return this.onReply(seq, args, type === C.MSG_EXCEPTION);
      default:
        // Not String(type): a tuple holding a symbol (NotImplemented) would throw here.
        return this.fatal(new ProtocolError(`unknown message type ${typeof type === "number" || typeof type === "bigint" ? String(type) : typeof type}`));
    }
  }

  private onReply(seq: number | bigint, raw: PyValue, isException: boolean): void {
    const pending = typeof seq === "number" ? this.pending.get(seq) : undefined;
    if (!pending) {
      // Late (timed out, aborted) or never asked for: nobody gets it, but the references it
      // carries are counted in the peer's object table, so give them back at once.
      this.log("debug", `reply for unknown seq ${seq} ignored`);
      if (!isException) this.boxing.releaseOrphan(raw);
      return;
    }
    let value: unknown;
    let failed = isException;
    try {
      value = isException ? loadException(raw, this.config) : this.boxing.unboxMessage(raw);
      if (!isException && pending.native) throw new ProtocolError(`the peer answered the native call ${pending.native.name}() with a brine reply`);
    } catch (err) {
      value = err;
      failed = true;
    }
    this.settle(seq as number, pending, value, failed);
  }

  /** Completes one of our requests with its reply's value (or error). */
  settle(seq: number, pending: Pending, value: unknown, failed: boolean): void {
    this.pending.delete(seq, pending);
    if (pending.unlisten) pending.unlisten();
    if (failed) {
      if (!pending.internal) this.events.errors++;
      if (pending.trace) this.events.traceEnd(pending.trace, "exception", value);
      pending.reject(value);
    } else {
      if (pending.trace) this.events.traceEnd(pending.trace);
      pending.resolve(value);
    }
    if (this.inbound.queued) this.inbound.flow();
  }

  // ---- serving ----------------------------------------------------------------------

  /** `refuse`: the connection is draining and this request arrived after it began. */
  private onRequest(seq: number | bigint, raw: PyValue, refuse: boolean): void {
    let handlerName = "request";
    let trace: RequestEvent | undefined;
    // Every path below ends in exactly one served() (reply, exception reply, or dropped on close).
    this.inbound.serving++;
    try {
      if (!Array.isArray(raw) || raw.length !== 2) throw new TypeError("cannot unpack request: expected (handler, args)");
      const [code, boxedArgs] = raw as [PyValue, PyValue];
      if (code === C.HANDLE_CLOSE) {
        this.inbound.serving--;
        void this.cleanup();
        return;
      }
      if (code === HANDLE_NATIVE_OFFER) {
        this.inbound.serving--;
        return this.native.answerOffer(seq, boxedArgs);
      }
      // Unboxed at once, in arrival order: a later DEL must not overtake this request's refs.
      // (Before the handler lookup, as Python does: a bad label wins over a bad handler code.)
      const args = this.boxing.unboxMessage(boxedArgs);
      const handler = handlerFor(code);
      handlerName = handler.name;
      if (this.events.observed) trace = this.events.traceRequest(seq, code as number, args, "in");
      if (!Array.isArray(args)) throw new TypeError("request arguments must be a tuple");
      if (args.length < handler.minArgs || args.length > handler.maxArgs) {
        throw new TypeError(`_handle_${handler.name}() takes ${handler.minArgs}..${handler.maxArgs} arguments, got ${args.length}`);
      }
      if (refuse && code !== C.HANDLE_DEL && code !== C.HANDLE_PING) throw closingRefusal();
      const result = handler.run(this, args);
      if (isPromiseLike(result) && !netrefState(result)) {
        result.then(
          (value) => this.reply(seq, value, handlerName, trace),
          (err: unknown) => this.replyException(seq, err, handlerName, trace),
        );
      } else {
        this.reply(seq, result, handlerName, trace);
      }
    } catch (err) {
      this.replyException(seq, err, handlerName, trace);
    }
  }

  reply(seq: number | bigint, value: unknown, handlerName: string, trace: RequestEvent | undefined): void {
    if (this.isClosed) return this.served(trace, "closed", new ConnectionClosedError());
    if (isPromiseLike(value) && !netrefState(value)) {
      // An async getter or a method returning a promise: reply with what it settles to.
      value.then(
        (settled) => this.reply(seq, settled, handlerName, trace),
        (err: unknown) => this.replyException(seq, err, handlerName, trace),
      );
      return;
    }
    const held = this.native.held;
    if (held.size > 0) held.settle(seq, { ok: true, value });
    let frame: Uint8Array[];
    const nested = this.objects.begin();
    try {
      frame = this.encode(C.MSG_REPLY, seq, this.boxing.box(value));
      if (!nested) this.objects.commit();
    } catch (err) {
      if (!nested) this.objects.rollback();
      return this.replyException(seq, err, handlerName, trace);
    }
    this.sendChunks(frame);
    this.served(trace);
  }

  replyException(seq: number | bigint, err: unknown, handlerName: string, trace: RequestEvent | undefined): void {
    if (this.config.log_exceptions) this.log("debug", `exception in ${handlerName} (seq ${seq})`, err);
    const held = this.native.held;
    if (held.size > 0) held.settle(seq, { ok: false, error: err });
    if (this.isClosed) return this.served(trace, "closed", err);
    let exception = dumpException(err, this.config);
    // The exception may carry request values (KeyError(code)) nested too deep to send back.
    if (!dumpable([C.MSG_EXCEPTION, seq, exception] as PyValue)) {
      exception = dumpException(new TypeError(`the exception of ${handlerName} cannot be sent back: nested too deep`), this.config);
    }
    this.send(C.MSG_EXCEPTION, seq, exception);
    this.served(trace, "exception", err);
  }

  /** A served request is done (kind set: it failed); frees its slot and lets waiting requests in. */
  served(trace: RequestEvent | undefined, kind?: RequestErrorKind, error?: unknown): void {
    const events = this.events;
    this.inbound.serving--;
    if (kind !== "closed") events.requestsServed++;
    if (kind !== undefined) events.errors++;
    if (trace) events.traceEnd(trace, kind, error);
    this.inbound.slotFreed();
  }

  // ---- liveness and close ---------------------------------------------------------------

  /** heartbeatInterval: ping when nothing arrived for an interval; no reply within another one closes. */
  private startHeartbeat(): void {
    const interval = this.config.heartbeatInterval;
    if (interval === null || this.heartbeat) return;
    let seen = -1;
    this.heartbeat = setInterval(() => {
      if (this.isClosed || this.heartbeatPending) return;
      if (this.events.bytesIn !== seen) {
        seen = this.events.bytesIn;
        return;
      }
      this.heartbeatPending = true;
      this.sendRequest(C.HANDLE_PING, [HEARTBEAT_DATA], interval, undefined, UNLIMITED).then(
        () => {
          this.heartbeatPending = false;
        },
        (err: unknown) => {
          this.heartbeatPending = false;
          if (isTimeoutError(err)) this.lost(new ConnectionClosedError(`peer stopped answering: no reply to a heartbeat ping within ${interval} s`));
        },
      );
    }, interval * 1000);
    unrefTimer(this.heartbeat);
  }

  /** See Connection.close(): the first call's `graceMs` applies. */
  close(graceMs: number): Promise<void> {
    this.closing ??=
      this.cleanupDone ??
      (async () => {
        if (graceMs > 0 && !this.isClosed) await this.inbound.drain(graceMs, this.closed$);
        if (this.config.before_closed) {
          try {
            await this.config.before_closed(this.root);
          } catch (err) {
            this.log("debug", "before_closed failed", err);
          }
        }
        if (!this.isClosed) this.sendAsync(C.HANDLE_CLOSE, [C.LABEL_VALUE, []]);
        await this.cleanup();
      })();
    return this.closing;
  }

  /** The peer broke the protocol: tell it we are closing (as RPyC does), then drop it. */
  fatal(err: unknown): void {
    if (this.isClosed) return;
    this.events.errors++;
    this.log("warn", `closing ${this.connid}: ${(err as Error).message ?? String(err)}`);
    try {
      this.sendAsync(C.HANDLE_CLOSE, [C.LABEL_VALUE, []]);
    } catch {
      // the stream may already be gone
    }
    void this.cleanup(err instanceof Error ? err : new ProtocolError(String(err)));
  }

  /**
   * The peer is gone without closing (no answer to a heartbeat): no CLOSE (it would not be
   * read), and the transport is destroyed rather than ended, so on_disconnect does not wait
   * for a FIN that never comes.
   */
  private lost(err: Error): void {
    if (this.isClosed) return;
    this.events.errors++;
    this.log("warn", `closing ${this.connid}: ${err.message}`);
    this.stream.destroy();
    void this.cleanup(err);
  }

  private onStreamClosed(err: Error | undefined): void {
    void this.cleanup(err ? new ConnectionClosedError(`connection lost: ${err.message}`) : new ConnectionClosedError("connection closed by peer"));
  }

  /** Runs once: fail pending requests, drop tables, close the stream, then on_disconnect. */
  private cleanup(reason?: Error): Promise<void> {
    if (this.cleanupDone) return this.cleanupDone;
    this.isClosed = true;
    const events = this.events;
    const closedError =
      reason === undefined
        ? new ConnectionClosedError()
        : reason instanceof ConnectionClosedError
          ? reason
          : new ConnectionClosedError(`connection closed: ${reason.message}`);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const pending of this.pending.takeAll()) {
      pending.unlisten?.();
      if (!pending.internal) events.errors++;
      if (pending.trace) events.traceEnd(pending.trace, "closed", closedError);
      pending.reject(closedError);
    }
    this.inbound.clear();
    this.native.closed();
    events.emit("close", { connid: this.connid, reason });
    this.objects.clear();
    this.native.held.clear();
    this.boxing.clear();
    this.rootTarget = undefined;
    this.cleanupDone = (async () => {
      await this.stream.close();
      try {
        await (this.localRoot as LifecycleHooks).on_disconnect?.(this.facade);
      } catch (err) {
        this.log("warn", "on_disconnect failed", err);
      }
      this.signalClosed();
    })();
    return this.cleanupDone;
  }

  log(level: "debug" | "warn", message: string, err?: unknown): void {
    const logger = this.config.logger;
    if (!logger) return;
    if (err === undefined) logger[level](`[${this.connid}] ${message}`);
    else logger[level](`[${this.connid}] ${message}: ${err instanceof PythonException || err instanceof Error ? err.stack : String(err)}`);
  }

  /** A snapshot of the connection's counters and limits in use. */
  stats(): ConnectionStats {
    const inbound = this.inbound;
    return this.events.stats({
      pendingRequests: this.pending.userCount,
      servingRequests: inbound.serving,
      queuedRequests: inbound.queuedRequests,
      queuedBytes: inbound.bytesQueued,
      readingPaused: inbound.readPaused,
      writeBuffer: this.stream.writableLength ?? 0,
      localObjects: this.objects.size,
      remoteNetrefs: this.boxing.netrefCount,
    });
  }
}
