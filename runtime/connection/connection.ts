// Connection (rpyc/core/protocol.py): message framing over a Stream, sequence numbers,
// pending replies, boxing of values and references, the local object table and the
// netref cache, request dispatch, timeouts and close. Incoming frames are served as they
// arrive, also while our own requests wait, so callbacks and nested calls never deadlock.
// Limits keep a connection's memory bounded (maxPendingRequests for our requests,
// maxConcurrentRequests / maxQueuedBytes / maxWriteBuffer for the peer's, with backpressure
// on the socket); stats() and on("request" | "reply" | "error" | "close") make it observable.

import { DEFAULT_BRINE_LIMITS, MAX_DUMP_DEPTH, dump, dumpable, dumpFrame, load, type BrineLimits } from "../wire/brine.js";
import { DeflatedPayload, FrameDecoder, inflateLater, inflateNow } from "../wire/channel.js";
import { resolveConfig, type ProtocolConfig } from "./config.js";
import * as C from "../wire/consts.js";
import { AsyncResultTimeout, ConnectionClosedError, isTimeoutError, LimitExceededError, PingError, ProtocolError } from "../errors/rpyc-errors.js";
import { PythonException, ValueError } from "../errors/python-exceptions.js";
import { boundMethods } from "../serve/access.js";
import { handlerFor, type HandlerHost } from "../serve/handlers.js";
import { freshInstanceId, idPackKey, isIdPack, JS_MODULE, localIdPack, type IdPack } from "../netref/id-pack.js";
import type { ServiceSchema } from "../compiled/schema.js";
import {
  encodeNativeDrop,
  encodeNativeHold,
  encodeNativePipeline,
  encodeNativeReply,
  encodeNativeRequest,
  isNativePayload,
  loadNativeCodec,
  nativeSchema,
  NATIVE_DROP,
  NATIVE_HOLD,
  NATIVE_REPLY,
  NATIVE_REQUEST,
  readNativeFrame,
  type NativeFrame,
  schemaFingerprint,
  type NativeMethod,
  type NativeReader,
  type NativeRequestHeader,
} from "../compiled/native.js";
import { invokeNativeCall, tableFor } from "../compiled/dispatch.js";
import { createNetref, netrefState, releaseState, type NetrefOwner, type NetrefState, type RequestOptions } from "../netref/netref.js";
import { PIPELINED_ON_VALUE, type Answer } from "../netref/pipeline.js";
import { HANDLE_NATIVE_OFFER, nativeOffer, offerAnswer, readOffer, readOfferAnswer, type Codec, type NativeAgreement, type PeerClass } from "../compiled/negotiation.js";
import { HeldAnswers, MAX_HELD_ANSWERS } from "./held-answers.js";

// Re-exported where they were first defined (runtime/index.ts imports Codec from here).
export { HANDLE_NATIVE_OFFER, type Codec } from "../compiled/negotiation.js";
export { MAX_HELD_ANSWERS } from "./held-answers.js";
import { now, type ConnectionEventListener, type ConnectionEvents, type ConnectionStats, type RequestErrorKind, type RequestEvent } from "./observe.js";
import { LocalObjectTable } from "../netref/object-table.js";
import { MAX_TIMER_MS, Pending, PendingRequests } from "./pending-requests.js";
import type { Stream } from "../wire/stream.js";
import type { RootType } from "../netref/types.js";
import { dumpException, loadException } from "../wire/vinegar.js";
import type { PyValue } from "../wire/values.js";

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
 * After dispatching this many payload bytes (over any number of reads), a connection stops
 * reading until the next turn of the event loop (setImmediate), so other connections' reads
 * and timers run in between. Node reads one socket up to 32 times in a row when data keeps
 * coming: without the pause, a peer sending frames that are cheap to send but costly to
 * decode (100,000 one-byte values in 200 KB) held the loop for a second at a time.
 */
const YIELD_AFTER_BYTES = 64 * 1024;

/**
 * Heap a waiting request costs beside its payload bytes (its Buffer object, about 100 bytes,
 * and its slot in the queue), counted in maxQueuedBytes: a flood of tiny requests is bounded
 * by the memory it really takes, not by its payload alone (10-byte pings held ~12x their size).
 */
const QUEUED_REQUEST_OVERHEAD = 128;

/** A received frame: its payload, or a compressed body not inflated yet. */
type ReceivedFrame = Buffer | DeflatedPayload;

/** Payload of a heartbeat ping. */
const HEARTBEAT_DATA = "rpyc-ts heartbeat";

/** The attribute name a request is about (GETATTR, SETATTR, DELATTR, CALLATTR), for events. */
function requestName(handler: unknown, args: unknown): string | undefined {
  if (handler !== C.HANDLE_GETATTR && handler !== C.HANDLE_CALLATTR && handler !== C.HANDLE_SETATTR && handler !== C.HANDLE_DELATTR) return undefined;
  const name = Array.isArray(args) ? args[1] : undefined;
  return typeof name === "string" ? name : undefined;
}

/** The refusal a draining connection answers new requests with (Python sees EOFError). */
function closingRefusal(): PythonException {
  const err = new PythonException("connection is closing: request refused");
  err.name = "EOFError";
  return err;
}

type Boxed = readonly [number, unknown];

/** LABEL_REMOTE_REF boxes in a received boxed value (nesting is bounded by brine's maxDepth). */
function countRemoteRefs(boxed: unknown): number {
  if (!Array.isArray(boxed) || boxed.length !== 2) return 0;
  const label: unknown = boxed[0];
  if (label === C.LABEL_REMOTE_REF) return 1;
  const items: unknown = boxed[1];
  if (label !== C.LABEL_TUPLE || !Array.isArray(items)) return 0;
  let count = 0;
  for (const item of items) count += countRemoteRefs(item);
  return count;
}

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
const NO_ARGS: readonly unknown[] = [];

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

export class Connection<TRemote = unknown> implements NetrefOwner, HandlerHost {
  readonly config: ProtocolConfig;
  readonly localRoot: object;
  readonly objects = new LocalObjectTable();

  private readonly decoder: FrameDecoder;
  private readonly brineLimits: BrineLimits;
  private seq = 0;
  private readonly pending = new PendingRequests((seq, pending) =>
    this.fail(seq, new AsyncResultTimeout(`result expired: no reply to ${C.HANDLER_NAMES[pending.handler]} (seq ${seq}) within ${pending.timeoutSeconds} s`), "timeout"),
  );
  /** The peer's requests whose handler runs (reply not sent yet). */
  private serving = 0;
  /** The peer's requests waiting for a serving slot, raw payloads in arrival order (FIFO from queueHead). */
  private queue: Buffer[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private pumping = false;
  private readPaused = false;
  /**
   * Frames received but not dispatched yet (from inboxHead on), while `inboxBusy`: waiting
   * behind a frame that inflates in zlib's thread pool, or for the next turn of the event
   * loop. Reading is paused meanwhile, so the inbox holds at most about one socket read.
   */
  private inbox: ReceivedFrame[] = [];
  private inboxHead = 0;
  private inboxBusy = false;
  /** Payload bytes dispatched since this connection last let the event loop turn (YIELD_AFTER_BYTES). */
  private sinceYield = 0;
  /** The inbox waits for the queue to drain below maxQueuedBytes (see parkInbox). */
  private inboxParked = false;
  /** Set by close({ graceMs }): new requests are refused while running ones finish. */
  private draining = false;
  /** Requests still queued that had arrived when draining began: they are served, not refused. */
  private drainAdmits = 0;
  private drained: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private heartbeatPending = false;
  // Counters of stats().
  private bytesIn = 0;
  private bytesOut = 0;
  private framesIn = 0;
  private framesOut = 0;
  private requestsSent = 0;
  private requestsServed = 0;
  private errorCount = 0;
  /** Listeners by event; arrays are replaced, never mutated, so an emit iterates a stable list. */
  private listeners: { [K in keyof ConnectionEvents]?: readonly ConnectionEventListener<K>[] } = {};
  /** True while any request/reply/error listener exists: the only cost of events when nobody listens. */
  private observed = false;
  /** Live netrefs by id_pack key; weak, so the garbage collector decides their lifetime. */
  private readonly proxies = new Map<string, WeakRef<object>>();
  private readonly finalizer = new FinalizationRegistry<NetrefState>((state) => this.netrefCollected(state));
  /** id_packs for netrefs of other connections that we re-export to this peer. */
  private readonly forwarded = new WeakMap<object, IdPack>();
  private rootProxy: unknown;
  /** Set once both sides agreed on the native codec; native frames are refused before. */
  private nativeAgreed = false;
  /** Both peers take promise pipelining's frames (agreed with the codec). */
  private pipelining = false;
  /** The peer's compiled classes (by className) it serves natively, with their agreed ids. */
  private peerNative: ReadonlyMap<string, PeerClass> = new Map();
  private codecDecided!: (codec: Codec) => void;
  /**
   * Resolves with the codec once it is decided: on the side that offers (it has `schemas`),
   * when the peer answered (a Python peer refuses: "brine"); on the other side, when it
   * answered an offer; "brine" at once with `codec: "brine"`, and "brine" on close if
   * nothing was agreed. Calls never wait for it: until then they go as brine.
   */
  readonly negotiated: Promise<Codec> = new Promise((resolve) => (this.codecDecided = resolve));
  private rootFetch: Promise<void> | undefined;
  /** Results of the peer's requests it will pipeline on (NATIVE_HOLD), by its request seq. */
  private readonly held = new HeldAnswers();
  private cleanupDone: Promise<void> | undefined;
  private isClosed = false;
  private readonly closed$: Promise<void>;
  private signalClosed!: () => void;

  constructor(
    localRoot: object,
    private readonly stream: Stream,
    config: Partial<ProtocolConfig> = {},
  ) {
    this.localRoot = localRoot;
    this.config = resolveConfig({ endpoints: stream.endpoints, ...config });
    this.decoder = new FrameDecoder(this.config.maxFrameSize);
    this.brineLimits = { ...DEFAULT_BRINE_LIMITS, maxDepth: this.config.maxBrineDepth, maxIntDigits: this.config.maxIntDigits, maxItems: this.config.maxBrineItems };
    this.closed$ = new Promise((resolve) => (this.signalClosed = resolve));
    this.schemasByNamePack = new Map(this.config.schemas.map((schema) => [`${JS_MODULE}.${schema.className}`, schema]));
  }

  private readonly schemasByNamePack: ReadonlyMap<string, ServiceSchema>;

  schemaFor(state: NetrefState): ServiceSchema | undefined {
    return state.idPack === null || this.schemasByNamePack.size === 0 ? undefined : this.schemasByNamePack.get(state.idPack[0]);
  }

  /**
   * Starts serving and runs the local service's on_connect. Its synchronous part runs
   * before any request is served; while it awaits, requests are served (as in RPyC,
   * where on_connect's own requests serve the peer while they wait).
   */
  async open(): Promise<this> {
    this.stream.start({
      data: (chunk) => this.onData(chunk),
      close: (err) => void this.onStreamClosed(err),
      drain: () => {
        if (this.queueHead < this.queue.length) this.pump();
      },
    });
    this.startHeartbeat();
    if (this.config.codec === "brine") this.codecDecided("brine");
    else if (this.config.schemas.length > 0) {
      // protobufjs is optional: without it, no offer (and the connection is plain brine).
      void loadNativeCodec().then((available) => {
        if (available && !this.isClosed) this.offerNative();
        else this.codecDecided("brine");
      });
    }
    try {
      await (this.localRoot as ConnectionHooks).on_connect?.(this as Connection);
    } catch (err) {
      this.stream.destroy();
      throw err;
    }
    return this;
  }

  get connid(): string {
    return this.config.connid!;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** "native" once both peers agreed on the native codec (see config `codec`), else "brine". */
  get codec(): Codec {
    return this.nativeAgreed ? "native" : "brine";
  }

  /** The peer's root service, as a netref; GETROOT is sent on first use. */
  get root(): RootType<TRemote> {
    if (this.rootProxy === undefined) {
      const state: NetrefState = { owner: this, idPack: null, refcount: 0, released: false };
      this.rootProxy = createNetref(state, (ref) => this.iterate(ref));
    }
    return this.rootProxy as RootType<TRemote>;
  }

  /** Fetches the peer's root now (otherwise the first use of `root` does). */
  async getRoot(): Promise<RootType<TRemote>> {
    const root = this.root;
    await this.resolveRoot(netrefState(root)!);
    return root;
  }

  /** Round trip with HANDLE_PING; rejects with PingError if the echo differs. */
  async ping(data: string = C.PING_DEFAULT_DATA, timeoutSeconds = 3): Promise<void> {
    const echo = await this.sendRequest(C.HANDLE_PING, [data], timeoutSeconds, undefined);
    if (echo !== data) throw new PingError(`echoed data does not match: ${String(echo).slice(0, 40)}`);
  }

  /**
   * Sends CLOSE, closes the stream, then runs on_disconnect. Resolves when all is done.
   * With `graceMs`, drains first (see CloseOptions). The first call's options apply.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??=
      this.cleanupDone ??
      (async () => {
        const graceMs = options.graceMs ?? 0;
        if (graceMs > 0 && !this.isClosed) await this.drain(graceMs);
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
  private closing: Promise<void> | undefined;

  /** Refuses new requests and waits until running ones replied (or `graceMs` passed, or the peer closed). */
  private drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.drainAdmits = this.queue.length - this.queueHead;
    if (this.serving === 0 && this.queueHead === this.queue.length) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drained = undefined;
        resolve();
      };
      const timer = setTimeout(done, graceMs);
      this.drained = done;
      void this.closed$.then(done);
    });
  }

  /** Resolves once the connection is closed (by either side) and on_disconnect has run. */
  whenClosed(): Promise<void> {
    return this.closed$;
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

  schemaOfClass(className: string): ServiceSchema | undefined {
    return this.schemasByNamePack.get(`${JS_MODULE}.${className}`);
  }

  /** A request's timeout in seconds (null: none) and signal, from a netref's options. */
  private timeoutOf(options: RequestOptions | undefined): [number | null, AbortSignal | undefined] {
    if (options === undefined) return [this.config.sync_request_timeout, undefined];
    let timeout = this.config.sync_request_timeout;
    if (options.deadline !== undefined) timeout = options.deadline === null ? null : Math.max(0, options.deadline - performance.now()) / 1000;
    return [timeout, options.signal];
  }

  /** Sends a brine request (or a pipelined one); see SendExtras. */
  private sendRequest(handler: number, args: readonly unknown[], timeoutSeconds: number | null, signal: AbortSignal | undefined, extras: SendExtras = NO_EXTRAS): Promise<unknown> {
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
          ? encodeNativePipeline(seq, base, dump([handler, this.box(args)] as PyValue), this.config.compress)
          : this.encodeRequest(seq, handler, this.box(args));
      if (!nested) this.objects.commit();
    } catch (err) {
      if (!nested) this.objects.rollback();
      return this.refuse(err, answer, base);
    }
    this.seq++;
    // Pipelining: the hold goes first, so the peer keeps this request's result for its dependents.
    if (answer) {
      const held = answer.wanted && this.nativeAgreed && this.pipelining;
      if (held) this.sendChunks(encodeNativeHold(seq, answer.dependents));
      answer.left(held ? seq : null);
    }
    const internal = extras.internal === true;
    const promise = this.track(seq, handler, args, timeoutSeconds, signal, undefined, internal);
    this.sendChunks(frame);
    // Reading may have stopped because nothing we awaited could arrive; now a reply can.
    if (this.readPaused) this.flow();
    return promise;
  }

  /** Sends a native call (see callNative): the lean path of typed calls, nothing allocated but the frame, Pending and promise. */
  private sendNativeCall(method: NativeMethod, classId: number, target: IdPack, args: readonly unknown[], timeoutSeconds: number | null, signal: AbortSignal | undefined): Promise<unknown> {
    const refused = this.admit(C.HANDLE_CALLATTR, timeoutSeconds, signal, false);
    if (refused !== undefined) return Promise.reject(refused);
    const seq = this.seq;
    let frame: Uint8Array[];
    try {
      frame = encodeNativeRequest(seq, classId, method, target, args, this.config.compress);
    } catch (err) {
      return Promise.reject(err);
    }
    this.seq++;
    const promise = this.track(seq, C.HANDLE_CALLATTR, this.observed ? [null, method.name] : NO_ARGS, timeoutSeconds, signal, method, false);
    this.sendChunks(frame);
    if (this.readPaused) this.flow();
    return promise;
  }

  /** Why a request may not be sent now (closed, aborted, a limit, a passed deadline), or undefined. */
  private admit(handler: number, timeoutSeconds: number | null, signal: AbortSignal | undefined, unlimited: boolean): unknown {
    if (this.isClosed) return new ConnectionClosedError();
    if (signal?.aborted) return signal.reason;
    if (!unlimited && this.pending.userCount >= this.config.maxPendingRequests) {
      this.errorCount++;
      const limit = this.config.maxPendingRequests;
      return new LimitExceededError("maxPendingRequests", limit, `${limit} requests already await replies on ${this.connid} (maxPendingRequests); ${C.HANDLER_NAMES[handler]} was not sent`);
    }
    if (timeoutSeconds === 0) {
      this.errorCount++;
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
  private track(seq: number, handler: number, args: unknown, timeoutSeconds: number | null, signal: AbortSignal | undefined, native: NativeMethod | undefined, internal: boolean): Promise<unknown> {
    // Beyond setTimeout's range (about 24.8 days) is no limit, not an immediate timeout.
    const timed = timeoutSeconds !== null && timeoutSeconds * 1000 <= MAX_TIMER_MS;
    const deadline = timed ? performance.now() + timeoutSeconds * 1000 : Infinity;
    const pending = new Pending(seq, handler, deadline, timeoutSeconds, native, internal);
    if (signal) {
      const onAbort = (): void => this.fail(seq, signal.reason, "aborted");
      signal.addEventListener("abort", onAbort, { once: true });
      pending.unlisten = () => signal.removeEventListener("abort", onAbort);
    }
    if (this.observed && !internal) pending.trace = this.traceRequest(seq, handler, args, "out");
    this.pending.add(seq, pending);
    if (!internal) this.requestsSent++;
    return pending.promise;
  }

  /** Fails a pending request locally (timeout, abort); its reply, if it ever comes, is dropped. */
  private fail(seq: number, error: unknown, kind: RequestErrorKind): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq, pending);
    pending.unlisten?.();
    if (!pending.internal) this.errorCount++;
    if (pending.trace) this.traceEnd(pending.trace, kind, error);
    pending.reject(error);
    if (this.queueHead < this.queue.length) this.flow();
  }

  /** A request whose reply is ignored (DEL, CLOSE), with already-boxed args. */
  private sendAsync(handler: number, boxed: Boxed): void {
    this.requestsSent++;
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
  private readonly message: unknown[] = [0, 0, undefined];
  private readonly requestBody: unknown[] = [0, undefined];

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
  private send(msg: number, seq: number | bigint, payload: unknown): void {
    this.sendChunks(this.encode(msg, seq, payload));
  }

  /** Writes one frame's chunks. */
  private sendChunks(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      this.bytesOut += chunk.length;
      this.stream.write(chunk);
    }
    this.framesOut++;
  }

  // ---- boxing -----------------------------------------------------------------------

  /** Boxes a value for the wire: by value when brine can carry it, else by reference. */
  private box(obj: unknown, depth = 0): Boxed {
    if (dumpable(obj)) return [C.LABEL_VALUE, obj];
    if (Array.isArray(obj)) {
      if (depth >= MAX_DUMP_DEPTH) throw new TypeError(`cannot send a tuple nested deeper than ${MAX_DUMP_DEPTH} levels (or cyclic)`);
      return [C.LABEL_TUPLE, obj.map((item) => this.box(item, depth + 1))];
    }
    if ((typeof obj !== "object" && typeof obj !== "function") || obj === null) {
      throw new TypeError(`cannot send a ${typeof obj} to the peer`);
    }
    const state = netrefState(obj);
    if (state?.owner === this) {
      if (state.released) throw new ValueError("cannot send a released netref");
      if (state.idPack === null) throw new ValueError("cannot send the root netref before it is fetched (await conn.getRoot())");
      return [C.LABEL_LOCAL_REF, state.idPack];
    }
    if (!state && isPromiseLike(obj)) {
      throw new TypeError("cannot send a Promise or an unawaited attribute to the peer; await it first");
    }
    const idPack = state ? this.forwardedIdPack(obj, state) : localIdPack(obj, boundMethods.has(obj as Function));
    if (!this.objects.add(obj, idPack, this.config.maxLocalObjects)) {
      const limit = this.config.maxLocalObjects;
      throw new LimitExceededError("maxLocalObjects", limit, `the peer already holds ${limit} objects of ${this.connid} (maxLocalObjects): cannot send another by reference until it releases some`);
    }
    return [C.LABEL_REMOTE_REF, idPack];
  }

  /** A netref of another connection re-exported here gets an id of ours (ids of two peers may collide). */
  private forwardedIdPack(proxy: object, state: NetrefState): IdPack {
    let pack = this.forwarded.get(proxy);
    if (!pack) {
      if (state.idPack === null) throw new ValueError("cannot forward a root netref before it is fetched");
      const classId = freshInstanceId();
      pack = [state.idPack[0], classId, state.idPack[2] === 0 ? 0 : freshInstanceId()];
      this.forwarded.set(proxy, pack);
    }
    return pack;
  }

  idPackOf(obj: object): IdPack {
    const state = netrefState(obj);
    if (state) return this.forwarded.get(obj) ?? this.forwardedIdPack(obj, state);
    return localIdPack(obj, boundMethods.has(obj as Function));
  }

  private unbox(boxed: unknown): unknown {
    if (!Array.isArray(boxed) || boxed.length !== 2) throw new ValueError("invalid boxed value (expected a (label, value) pair)");
    const [label, value] = boxed as [unknown, unknown];
    switch (label) {
      case C.LABEL_VALUE:
        return value;
      case C.LABEL_TUPLE:
        if (!Array.isArray(value)) throw new ValueError("LABEL_TUPLE needs a tuple");
        return value.map((item: unknown) => this.unbox(item));
      case C.LABEL_LOCAL_REF:
        if (!isIdPack(value)) throw new ValueError("LABEL_LOCAL_REF needs an id_pack");
        return this.objects.get(value);
      case C.LABEL_REMOTE_REF:
        if (!isIdPack(value)) throw new ValueError("LABEL_REMOTE_REF needs an id_pack");
        return this.netrefFor(value);
      default:
        throw new ValueError(`invalid label ${String(label)}`);
    }
  }

  /**
   * Unboxes a received message's value, after checking that its references fit in
   * maxNetrefs: a message that would pass the limit makes no netref at all (see config).
   */
  private unboxMessage(boxed: unknown): unknown {
    if (Array.isArray(boxed) && boxed[0] !== C.LABEL_VALUE) {
      const refs = countRemoteRefs(boxed);
      if (refs > 0 && this.proxies.size + refs > this.config.maxNetrefs) this.refuseReferences(boxed, refs);
    }
    return this.unbox(boxed);
  }

  /** A message whose `refs` references would pass maxNetrefs: gives them back and throws (or drops a peer that sent more than the limit at once). */
  private refuseReferences(boxed: unknown, refs: number): void {
    const limit = this.config.maxNetrefs;
    if (refs > limit) {
      const err = new ProtocolError(`a message carries ${refs} references, more than maxNetrefs (${limit}) allows on one connection`);
      this.fatal(err);
      throw err;
    }
    // Netrefs already collected whose finalizer has not run yet do not count.
    for (const [key, ref] of this.proxies) if (ref.deref() === undefined) this.proxies.delete(key);
    if (this.proxies.size + refs <= limit) return;
    this.releaseOrphan(boxed);
    throw new LimitExceededError(
      "maxNetrefs",
      limit,
      `${this.proxies.size} netrefs are live on ${this.connid} and a message brought ${refs} more, past maxNetrefs (${limit}); its references were given back`,
    );
  }

  /** The netref for a received id_pack: the live one (refcount + 1) or a new one. */
  private netrefFor(raw: IdPack): unknown {
    const name = typeof raw[0] === "string" ? raw[0] : new TextDecoder().decode(raw[0] as Uint8Array);
    const idPack: IdPack = [name, raw[1], raw[2]];
    const key = idPackKey(idPack);
    const cached = this.proxies.get(key)?.deref();
    if (cached) {
      const state = netrefState(cached)!;
      if (!state.released) {
        state.refcount += 1;
        return cached;
      }
    }
    const state: NetrefState = { owner: this, idPack, refcount: 1, released: false };
    const proxy = createNetref(state, (ref) => this.iterate(ref)) as object;
    this.proxies.set(key, new WeakRef(proxy));
    this.finalizer.register(proxy, state, state);
    return proxy;
  }

  netrefReleased(state: NetrefState): void {
    this.finalizer.unregister(state);
    if (state.idPack === null) return;
    const key = idPackKey(state.idPack);
    const cached = this.proxies.get(key)?.deref();
    if (cached === undefined || netrefState(cached) === state) this.proxies.delete(key);
    this.sendDel(state);
  }

  private netrefCollected(state: NetrefState): void {
    if (state.released || state.idPack === null) return;
    state.released = true;
    const key = idPackKey(state.idPack);
    if (this.proxies.get(key)?.deref() === undefined) this.proxies.delete(key);
    this.sendDel(state);
  }

  /** One async HANDLE_DEL(id_pack, refcount); the reply is ignored, as in RPyC. */
  private sendDel(state: NetrefState): void {
    if (this.isClosed || state.refcount === 0 || state.idPack === null) return;
    this.sendAsync(C.HANDLE_DEL, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, state.idPack],
        [C.LABEL_VALUE, state.refcount],
      ],
    ]);
  }

  async resolveRoot(state: NetrefState): Promise<void> {
    this.rootFetch ??= this.request(C.HANDLE_GETROOT, []).then(
      (root) => {
        const rootState = netrefState(root);
        if (!rootState) throw new ProtocolError("GETROOT did not return a reference");
        state.idPack = rootState.idPack;
        // The fetched proxy holds the refcount; the lazy root keeps it alive for the connection's life.
        this.rootTarget = root;
      },
      (err: unknown) => {
        this.rootFetch = undefined;
        throw err;
      },
    );
    return this.rootFetch;
  }
  private rootTarget: unknown;

  /** `for await (const x of netref)`: `__iter__`, then HANDLE_BUFFITER in growing chunks. */
  private async *iterate(ref: unknown): AsyncGenerator<unknown> {
    const iterator = await this.request(C.HANDLE_CALLATTR, [ref, "__iter__", [], []]);
    const state = netrefState(iterator);
    if (!state) {
      yield* iterator as Iterable<unknown>;
      return;
    }
    try {
      for (let chunk = 10; ; chunk = Math.min(chunk * 2, 1000)) {
        const items = (await state.owner.request(C.HANDLE_BUFFITER, [iterator, chunk])) as unknown[];
        if (items.length === 0) return;
        yield* items;
      }
    } finally {
      releaseState(state);
    }
  }

  // ---- serving ----------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    let frames: ReceivedFrame[];
    try {
      frames = this.decoder.pushDeferred(chunk);
    } catch (err) {
      return this.fatal(err);
    }
    this.framesIn += frames.length;
    if (this.inboxBusy) {
      for (const frame of frames) this.inbox.push(frame);
      return;
    }
    this.receive(frames, 0);
  }

  /**
   * Dispatches frames[from..] in arrival order. Compressed frames inflate on the spot when
   * small; a large one inflates in zlib's thread pool, and the frames after it wait for it.
   * Every YIELD_AFTER_BYTES of payload, the rest (and reading) waits for the next turn.
   */
  private receive(frames: ReceivedFrame[], from: number): void {
    for (let i = from; i < frames.length; i++) {
      if (this.isClosed) return;
      const frame = frames[i]!;
      let payload: Buffer;
      if (frame instanceof DeflatedPayload) {
        let inflated: Buffer | undefined;
        try {
          inflated = inflateNow(frame.body, this.config.maxFrameSize);
        } catch (err) {
          return this.fatal(err);
        }
        if (inflated === undefined) return this.receiveLater(frames, i, frame);
        payload = inflated;
      } else {
        payload = frame;
      }
      this.dispatch(payload, true);
      this.sinceYield += payload.length;
      if (this.sinceYield >= YIELD_AFTER_BYTES) {
        this.sinceYield = 0;
        return this.receiveLater(frames, i + 1, undefined);
      }
      // A full queue takes no more: the rest of this read waits (unqueued) until it drains.
      if (i + 1 < frames.length && this.queuedBytes >= this.config.maxQueuedBytes) return this.parkInbox(frames, i + 1);
    }
    if (this.readPaused || this.queueHead < this.queue.length) this.flow();
  }

  /** Keeps frames[from..] in the inbox, pauses reading, and goes on after inflating `deflated` (frames[from]) or on the next turn. */
  private receiveLater(frames: ReceivedFrame[], from: number, deflated: DeflatedPayload | undefined): void {
    this.inbox = frames;
    this.inboxHead = from;
    this.inboxBusy = true;
    this.flow();
    if (deflated === undefined) {
      setImmediate(() => this.resumeInbox());
      return;
    }
    inflateLater(deflated.body, this.config.maxFrameSize).then(
      (payload) => {
        if (this.inbox[this.inboxHead] === deflated) this.inbox[this.inboxHead] = payload;
        this.resumeInbox();
      },
      (err: unknown) => this.fatal(err),
    );
  }

  /** Keeps frames[from..] in the inbox until pump() has brought the queue below maxQueuedBytes. */
  private parkInbox(frames: ReceivedFrame[], from: number): void {
    this.inbox = frames;
    this.inboxHead = from;
    this.inboxBusy = true;
    this.inboxParked = true;
    this.flow();
  }

  private resumeInbox(): void {
    if (this.isClosed) return;
    const frames = this.inbox;
    const from = this.inboxHead;
    this.inbox = [];
    this.inboxHead = 0;
    this.inboxBusy = false;
    this.receive(frames, from);
  }

  /** `fresh`: just received (may have to wait in the queue); false: taken from the queue by pump(). */
  private dispatch(payload: Buffer, fresh: boolean): void {
    if (isNativePayload(payload)) return this.dispatchNative(payload, fresh);
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
      case C.MSG_REQUEST:
        if (fresh) {
          if (this.queueHead < this.queue.length || this.serving >= this.config.maxConcurrentRequests || this.writeCongested()) return this.enqueue(payload);
          return this.onRequest(seq, args, this.draining);
        }
        if (this.drainAdmits > 0) {
          this.drainAdmits--;
          return this.onRequest(seq, args, false);
        }
        return this.onRequest(seq, args, this.draining);
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
      if (!isException) this.releaseOrphan(raw);
      return;
    }
    let value: unknown;
    let failed = isException;
    try {
      value = isException ? loadException(raw, this.config) : this.unboxMessage(raw);
      if (!isException && pending.native) throw new ProtocolError(`the peer answered the native call ${pending.native.name}() with a brine reply`);
    } catch (err) {
      value = err;
      failed = true;
    }
    this.settle(seq as number, pending, value, failed);
  }

  /** Completes one of our requests with its reply's value (or error). */
  private settle(seq: number, pending: Pending, value: unknown, failed: boolean): void {
    this.pending.delete(seq, pending);
    if (pending.unlisten) pending.unlisten();
    if (failed) {
      if (!pending.internal) this.errorCount++;
      if (pending.trace) this.traceEnd(pending.trace, "exception", value);
      pending.reject(value);
    } else {
      if (pending.trace) this.traceEnd(pending.trace);
      pending.resolve(value);
    }
    if (this.queueHead < this.queue.length) this.flow();
  }

  /** One DEL per REMOTE_REF id_pack in a reply nobody waits for, without making netrefs. */
  private releaseOrphan(boxed: unknown): void {
    if (!Array.isArray(boxed) || boxed[0] === C.LABEL_VALUE) return;
    const counts = new Map<string, [IdPack, number]>();
    const walk = (item: unknown): void => {
      if (!Array.isArray(item) || item.length !== 2) return;
      const [label, value] = item as [unknown, unknown];
      if (label === C.LABEL_TUPLE && Array.isArray(value)) {
        for (const element of value) walk(element);
      } else if (label === C.LABEL_REMOTE_REF && isIdPack(value)) {
        const name = typeof value[0] === "string" ? value[0] : new TextDecoder().decode(value[0] as Uint8Array);
        const idPack: IdPack = [name, value[1], value[2]];
        const key = idPackKey(idPack);
        const entry = counts.get(key);
        if (entry) entry[1]++;
        else counts.set(key, [idPack, 1]);
      }
    };
    walk(boxed);
    if (this.isClosed) return;
    for (const [idPack, count] of counts.values()) {
      this.sendAsync(C.HANDLE_DEL, [
        C.LABEL_TUPLE,
        [
          [C.LABEL_LOCAL_REF, idPack],
          [C.LABEL_VALUE, count],
        ],
      ]);
    }
  }

  /** `refuse`: the connection is draining and this request arrived after it began. */
  private onRequest(seq: number | bigint, raw: PyValue, refuse: boolean): void {
    let handlerName = "request";
    let trace: RequestEvent | undefined;
    // Every path below ends in exactly one served() (reply, exception reply, or dropped on close).
    this.serving++;
    try {
      if (!Array.isArray(raw) || raw.length !== 2) throw new TypeError("cannot unpack request: expected (handler, args)");
      const [code, boxedArgs] = raw as [PyValue, PyValue];
      if (code === C.HANDLE_CLOSE) {
        this.serving--;
        void this.cleanup();
        return;
      }
      if (code === HANDLE_NATIVE_OFFER && this.config.codec === "auto") {
        this.serving--;
        return this.answerOffer(seq, boxedArgs);
      }
      // Unboxed at once, in arrival order: a later DEL must not overtake this request's refs.
      // (Before the handler lookup, as Python does: a bad label wins over a bad handler code.)
      const args = this.unboxMessage(boxedArgs);
      const handler = handlerFor(code);
      handlerName = handler.name;
      if (this.observed) trace = this.traceRequest(seq, code as number, args, "in");
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

  private reply(seq: number | bigint, value: unknown, handlerName: string, trace: RequestEvent | undefined): void {
    if (this.isClosed) return this.served(trace, "closed", new ConnectionClosedError());
    if (isPromiseLike(value) && !netrefState(value)) {
      // An async getter or a method returning a promise: reply with what it settles to.
      value.then(
        (settled) => this.reply(seq, settled, handlerName, trace),
        (err: unknown) => this.replyException(seq, err, handlerName, trace),
      );
      return;
    }
    if (this.held.size > 0) this.held.settle(seq, { ok: true, value });
    let frame: Uint8Array[];
    const nested = this.objects.begin();
    try {
      frame = this.encode(C.MSG_REPLY, seq, this.box(value));
      if (!nested) this.objects.commit();
    } catch (err) {
      if (!nested) this.objects.rollback();
      return this.replyException(seq, err, handlerName, trace);
    }
    this.sendChunks(frame);
    this.served(trace);
  }

  private replyException(seq: number | bigint, err: unknown, handlerName: string, trace: RequestEvent | undefined): void {
    if (this.config.log_exceptions) this.log("debug", `exception in ${handlerName} (seq ${seq})`, err);
    if (this.held.size > 0) this.held.settle(seq, { ok: false, error: err });
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
  private served(trace: RequestEvent | undefined, kind?: RequestErrorKind, error?: unknown): void {
    this.serving--;
    if (kind !== "closed") this.requestsServed++;
    if (kind !== undefined) this.errorCount++;
    if (trace) this.traceEnd(trace, kind, error);
    if (this.queueHead < this.queue.length) this.pump();
    else if (this.drained && this.serving === 0) this.drained();
  }

  // ---- native codec (runtime/compiled/native.ts) ------------------------------------------

  /** The side with schemas offers (version, codecs, its served classes); the answer decides. */
  private offerNative(): void {
    this.sendRequest(HANDLE_NATIVE_OFFER, nativeOffer(this.config.dispatch), this.config.sync_request_timeout, undefined, { unlimited: true, internal: true }).then(
      (answer) => {
        const agreement = readOfferAnswer(answer);
        if (agreement && !this.isClosed) {
          this.agree(agreement);
          this.codecDecided("native");
        } else {
          this.codecDecided("brine");
        }
      },
      // A Python peer answers with KeyError (an unknown handler); a peer that never reads, never.
      (err: unknown) => {
        this.log("debug", "native codec not agreed (the peer refused or did not answer the offer)", err);
        this.codecDecided(this.codec);
      },
    );
  }

  private agree(agreement: NativeAgreement): void {
    this.peerNative = agreement.classes;
    this.pipelining = agreement.pipelining;
    this.nativeAgreed = true;
  }

  /**
   * Answers the peer's offer: "native" with our served classes, or "brine" for an offer we
   * cannot take (or without protobufjs). Loading protobufjs may take a moment: the answer is
   * a reply, so it may come after others; we count as agreed only from the moment it is sent.
   */
  private answerOffer(seq: number | bigint, boxedArgs: PyValue): void {
    void loadNativeCodec().then((available) => {
      if (this.isClosed) return;
      try {
        this.answerOfferNow(seq, boxedArgs, available);
      } catch (err) {
        this.fatal(err);
      }
    });
  }

  private answerOfferNow(seq: number | bigint, boxedArgs: PyValue, available: boolean): void {
    let agreement: NativeAgreement | undefined;
    try {
      agreement = readOffer(this.unbox(boxedArgs), available);
    } catch {
      agreement = undefined;
    }
    // Agreed from here: the peer sends native frames only after reading this reply.
    if (agreement) this.agree(agreement);
    this.send(C.MSG_REPLY, seq, this.box(offerAnswer(agreement, this.config.dispatch)));
    if (agreement) this.codecDecided("native");
  }

  /**
   * A call of a compiled method as a native request, when both sides agreed, the peer
   * serves the netref's class under the same schema, and the method has a native form;
   * undefined otherwise (the caller uses brine).
   */
  callNative(state: NetrefState, schema: ServiceSchema, name: string, args: readonly unknown[], options: RequestOptions | undefined): Promise<unknown> | undefined {
    if (!this.nativeAgreed || this.isClosed) return undefined;
    const peer = this.peerNative.get(schema.className);
    if (peer === undefined || !peer.agrees(schema)) return undefined;
    const idPack = state.idPack;
    if (idPack === null || typeof idPack[1] !== "number" || typeof idPack[2] !== "number") return undefined;
    const method = nativeSchema(schema).method(name);
    if (!method || !method.accepts(args.length)) return undefined;
    if (options === undefined) return this.sendNativeCall(method, peer.id, idPack, args, this.config.sync_request_timeout, undefined);
    const [timeout, signal] = this.timeoutOf(options);
    return this.sendNativeCall(method, peer.id, idPack, args, timeout, signal);
  }

  private dispatchNative(payload: Buffer, fresh: boolean): void {
    if (!this.nativeAgreed) return this.fatal(new ProtocolError("received a native-codec frame, but no native codec was agreed on this connection"));
    let frame: ReturnType<typeof readNativeFrame>;
    try {
      frame = readNativeFrame(payload);
    } catch (err) {
      return this.fatal(new ProtocolError(`malformed native-codec frame: ${(err as Error).message}`));
    }
    switch (frame.kind) {
      case NATIVE_REPLY:
        return this.onNativeReply(frame.seq, frame.method, frame.reader);
      case NATIVE_HOLD:
        return this.holdAnswer(frame.seq, frame.count);
      case NATIVE_DROP:
        return void this.held.take(frame.seq);
    }
    // A request (native, or pipelined): served in arrival order like brine requests.
    if (fresh) {
      if (this.queueHead < this.queue.length || this.serving >= this.config.maxConcurrentRequests || this.writeCongested()) return this.enqueue(payload);
      return this.serveNative(frame, this.draining);
    }
    if (this.drainAdmits > 0) {
      this.drainAdmits--;
      return this.serveNative(frame, false);
    }
    return this.serveNative(frame, this.draining);
  }

  /** A method, not a closure per frame: under tsx every closure created also costs a __name (defineProperty). */
  private serveNative(frame: Exclude<NativeFrame, { kind: typeof NATIVE_REPLY | typeof NATIVE_HOLD | typeof NATIVE_DROP }>, refuse: boolean): void {
    if (frame.kind === NATIVE_REQUEST) this.onNativeRequest(frame.header, frame.reader, refuse);
    else this.onPipelinedRequest(frame.seq, frame.base, frame.body, refuse);
  }

  // ---- promise pipelining (serving side) ---------------------------------------------------

  /** The peer's hold of our reply to its request `seq`: keep the result for `count` pipelined requests. */
  private holdAnswer(seq: number, count: number): void {
    // Refused: its pipelined requests will be answered with an error naming the missing hold.
    if (!this.held.hold(seq, count)) this.log("debug", `hold of seq ${seq} ignored: ${MAX_HELD_ANSWERS} results already held (MAX_HELD_ANSWERS)`);
  }

  /** Results held for pipelined requests of the peer (diagnostics, tests). */
  get heldAnswers(): number {
    return this.held.size;
  }

  /** A pipelined request: a brine (handler, args) whose args[0] is the held result of request `base`. */
  private onPipelinedRequest(seq: number, base: number, body: Uint8Array, refuse: boolean): void {
    let handlerName = "request";
    let trace: RequestEvent | undefined;
    this.serving++;
    const entry = this.held.take(base);
    try {
      const message = load(body, this.brineLimits);
      if (!Array.isArray(message) || message.length !== 2) throw new TypeError("cannot unpack pipelined request: expected (handler, args)");
      const [code, boxedArgs] = message as [PyValue, PyValue];
      // Unboxed at once, in arrival order (as for brine requests).
      const args = this.unboxMessage(boxedArgs);
      if (code !== C.HANDLE_GETATTR && code !== C.HANDLE_CALLATTR) throw new TypeError(`pipelined requests are GETATTR or CALLATTR, got handler ${String(code)}`);
      const handler = handlerFor(code);
      handlerName = handler.name;
      if (this.observed) trace = this.traceRequest(seq, code, args, "in");
      if (!Array.isArray(args) || args.length < handler.minArgs || args.length > handler.maxArgs) {
        throw new TypeError(`_handle_${handler.name}() takes ${handler.minArgs}..${handler.maxArgs} arguments`);
      }
      if (refuse) throw closingRefusal();
      if (!entry) throw new ValueError(`pipelined request on the result of request ${base}, which is not held`);
      void entry.outcome.then((outcome) => {
        if (this.isClosed) return this.served(trace, "closed", new ConnectionClosedError());
        // The first call's error is every dependent's error.
        if (!outcome.ok) return this.replyException(seq, outcome.error, handlerName, trace);
        const target = outcome.value;
        if (dumpable(target) || Array.isArray(target)) {
          // Plain data is sent by value: the caller reads its members locally instead.
          const err = new PythonException(`the result of request ${base} is plain data, not a reference`);
          err.name = PIPELINED_ON_VALUE;
          return this.replyException(seq, err, handlerName, trace);
        }
        let result: unknown;
        try {
          args[0] = target;
          result = handler.run(this, args);
        } catch (err) {
          return this.replyException(seq, err, handlerName, trace);
        }
        this.reply(seq, result, handlerName, trace);
      });
    } catch (err) {
      this.replyException(seq, err, handlerName, trace);
    }
  }

  private onNativeRequest(header: NativeRequestHeader, reader: NativeReader, refuse: boolean): void {
    const seq = header.seq;
    // The class id indexes the classes we announced (our dispatch tables, see compiled/negotiation.ts):
    // any other number is not a call we could have agreed to, so the peer is broken.
    const table = this.config.dispatch[header.classId];
    if (table === undefined) {
      return this.fatal(new ProtocolError(`native request names class id ${header.classId}, but only ${this.config.dispatch.length} classes were announced on this connection`));
    }
    let trace: RequestEvent | undefined;
    let method: NativeMethod;
    let result: unknown;
    this.serving++;
    try {
      const target = this.objects.get(header.target);
      // A netref of another connection we forward (proxy chaining): called through it, as
      // brine CALLATTR would be; its own connection encodes for the next hop.
      const forwarded = netrefState(target) !== undefined;
      if (!forwarded) {
        const own = tableFor(this.config.dispatch, target);
        if (own !== table && (own === undefined || schemaFingerprint(own.schema) !== schemaFingerprint(table.schema))) {
          throw new TypeError(`native call: the target is not served as ${table.schema.className}, the class the caller named`);
        }
      }
      const found = nativeSchema(table.schema).methodAt(header.method);
      if (!found) throw new TypeError(`native call: method #${header.method} of ${table.schema.className} has no native form`);
      method = found;
      if (this.observed) trace = this.traceRequest(seq, C.HANDLE_CALLATTR, [target, method.name], "in");
      const args = method.decodeArgs(reader, header.argc);
      if (refuse) throw closingRefusal();
      result = forwarded
        ? (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method.name]!(...args)
        : invokeNativeCall(table, target, method.name, args);
    } catch (err) {
      return this.replyException(seq, err, "callattr", trace);
    }
    // A synchronous result is answered at once (no promise, no microtask), as brine requests are.
    if (isPromiseLike(result)) {
      result.then(
        (value) => this.replyNative(seq, method, value, trace),
        (err: unknown) => this.replyException(seq, err, "callattr", trace),
      );
    } else {
      this.replyNative(seq, method, result, trace);
    }
  }

  private replyNative(seq: number, method: NativeMethod, value: unknown, trace: RequestEvent | undefined): void {
    if (this.isClosed) return this.served(trace, "closed", new ConnectionClosedError());
    if (this.held.size > 0) this.held.settle(seq, { ok: true, value });
    let frame: Uint8Array[];
    try {
      frame = encodeNativeReply(seq, method, value, this.config.compress);
    } catch (err) {
      return this.replyException(seq, err, "callattr", trace);
    }
    this.sendChunks(frame);
    this.served(trace);
  }

  private onNativeReply(seq: number, methodIndex: number, reader: NativeReader): void {
    const pending = this.pending.get(seq);
    if (!pending) {
      // Late (timed out, aborted): plain data holds no references, nothing to give back.
      this.log("debug", `native reply for unknown seq ${seq} ignored`);
      return;
    }
    if (!pending.native || pending.native.index !== methodIndex) {
      return this.fatal(new ProtocolError(`native reply to seq ${seq}, which was not a native call of that method`));
    }
    let value: unknown;
    let failed = false;
    try {
      value = pending.native.decodeResult(reader);
    } catch (err) {
      value = err;
      failed = true;
    }
    this.settle(seq, pending, value, failed);
  }

  // ---- flow control -----------------------------------------------------------------

  /** True while more than maxWriteBuffer bytes wait to be sent: serve nothing new until they drain. */
  private writeCongested(): boolean {
    const buffered = this.stream.writableLength;
    return buffered !== undefined && buffered > this.config.maxWriteBuffer;
  }

  /** Keeps a received request for later, as its own copy (a payload is a view into the read chunk). */
  private enqueue(payload: Buffer): void {
    const copy = Buffer.from(payload);
    this.queue.push(copy);
    this.queuedBytes += copy.length + QUEUED_REQUEST_OVERHEAD;
  }

  /** Serves waiting requests, in order, while there is room; then decides whether to read on. */
  private pump(): void {
    if (this.pumping) return; // a request served synchronously inside the loop below
    this.pumping = true;
    try {
      while (this.queueHead < this.queue.length && !this.isClosed && this.serving < this.config.maxConcurrentRequests && !this.writeCongested()) {
        const payload = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined as unknown as Buffer;
        this.queuedBytes -= payload.length + QUEUED_REQUEST_OVERHEAD;
        this.dispatch(payload, false);
      }
      if (this.queueHead === this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
    } finally {
      this.pumping = false;
    }
    if (this.inboxParked && this.queuedBytes < this.config.maxQueuedBytes) {
      this.inboxParked = false;
      setImmediate(() => this.resumeInbox());
    }
    this.flow();
    if (this.drained && this.serving === 0 && this.queueHead === this.queue.length) this.drained();
  }

  /**
   * Backpressure on the socket. Reading stops while received frames wait in the inbox (a
   * large one inflating, or the rest of a busy turn). Requests that cannot be served yet
   * wait in the queue; we stop reading when nothing we await could arrive (no pending
   * request of ours), or when the queue holds maxQueuedBytes. While our own requests are
   * pending we read on, so the replies that let running handlers finish (callbacks into the
   * peer) are not stuck behind unread requests.
   */
  private flow(): void {
    const waiting = this.queueHead < this.queue.length;
    const pause = !this.isClosed && (this.inboxBusy || (waiting && (this.pending.size === 0 || this.queuedBytes >= this.config.maxQueuedBytes)));
    if (pause === this.readPaused) return;
    this.readPaused = pause;
    if (pause) this.stream.pause?.();
    else this.stream.resume?.();
  }

  // ---- liveness -----------------------------------------------------------------------

  /** heartbeatInterval: ping when nothing arrived for an interval; no reply within another one closes. */
  private startHeartbeat(): void {
    const interval = this.config.heartbeatInterval;
    if (interval === null || this.heartbeat) return;
    let seen = -1;
    this.heartbeat = setInterval(() => {
      if (this.isClosed || this.heartbeatPending) return;
      if (this.bytesIn !== seen) {
        seen = this.bytesIn;
        return;
      }
      this.heartbeatPending = true;
      this.sendRequest(C.HANDLE_PING, [HEARTBEAT_DATA], interval, undefined, { unlimited: true }).then(
        () => {
          this.heartbeatPending = false;
        },
        (err: unknown) => {
          this.heartbeatPending = false;
          if (isTimeoutError(err)) this.lost(new ConnectionClosedError(`peer stopped answering: no reply to a heartbeat ping within ${interval} s`));
        },
      );
    }, interval * 1000);
    this.heartbeat.unref();
  }

  // ---- observability ------------------------------------------------------------------

  /** A snapshot of the connection's counters and limits in use. */
  stats(): ConnectionStats {
    return {
      pendingRequests: this.pending.userCount,
      servingRequests: this.serving,
      queuedRequests: this.queue.length - this.queueHead,
      queuedBytes: this.queuedBytes,
      readingPaused: this.readPaused,
      writeBuffer: this.stream.writableLength ?? 0,
      localObjects: this.objects.size,
      remoteNetrefs: this.netrefCount,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      requestsSent: this.requestsSent,
      requestsServed: this.requestsServed,
      errors: this.errorCount,
    };
  }

  /**
   * Adds a listener: "request" (sent or received), "reply" (completed: reply received or
   * sent), "error" (failed: exception, timeout, abort, closed), "close". Request events carry
   * seq, handler, direction and times; a "reply"/"error" is the same object plus `end` and
   * `duration`. Requests sent or received while no listener existed report no end. A
   * listener that throws is logged and ignored. DEL and CLOSE sent by us are not reported.
   */
  on<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): this {
    this.listeners[event] = [...(this.listeners[event] ?? []), listener] as never;
    this.updateObserved();
    return this;
  }

  /** Removes a listener added with on() or once(). */
  off<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): this {
    const list = this.listeners[event] as readonly (ConnectionEventListener<K> & { original?: unknown })[] | undefined;
    const index = list ? list.findLastIndex((l) => l === listener || l.original === listener) : -1;
    if (index >= 0) this.listeners[event] = list!.filter((_, i) => i !== index) as never;
    this.updateObserved();
    return this;
  }

  /** Adds a listener that runs once. */
  once<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEventListener<K>): this {
    const wrapper = Object.assign((payload: ConnectionEvents[K]) => {
      this.off(event, wrapper);
      listener(payload);
    }, { original: listener });
    return this.on(event, wrapper);
  }

  listenerCount(event: keyof ConnectionEvents): number {
    return this.listeners[event]?.length ?? 0;
  }

  private updateObserved(): void {
    this.observed = this.listenerCount("request") + this.listenerCount("reply") + this.listenerCount("error") > 0;
  }

  private emit<K extends keyof ConnectionEvents>(event: K, payload: ConnectionEvents[K]): void {
    const list = this.listeners[event] as readonly ConnectionEventListener<K>[] | undefined;
    if (!list) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (err) {
        this.log("warn", `a "${event}" listener threw`, err);
      }
    }
  }

  private traceRequest(seq: number | bigint, handler: number, args: unknown, direction: "in" | "out"): RequestEvent {
    const event: RequestEvent = {
      connid: this.connid,
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

  private traceEnd(trace: RequestEvent, kind?: RequestErrorKind, error?: unknown): void {
    const end = now();
    if (kind === undefined) this.emit("reply", { ...trace, end, duration: end - trace.start });
    else this.emit("error", { ...trace, end, duration: end - trace.start, kind, error });
  }

  /** The peer broke the protocol: tell it we are closing (as RPyC does), then drop it. */
  private fatal(err: unknown): void {
    if (this.isClosed) return;
    this.errorCount++;
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
    this.errorCount++;
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
    const closedError =
      reason === undefined ? new ConnectionClosedError() : reason instanceof ConnectionClosedError ? reason : new ConnectionClosedError(`connection closed: ${reason.message}`);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const pending of this.pending.takeAll()) {
      pending.unlisten?.();
      if (!pending.internal) this.errorCount++;
      if (pending.trace) this.traceEnd(pending.trace, "closed", closedError);
      pending.reject(closedError);
    }
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
    this.inbox = [];
    this.inboxHead = 0;
    this.inboxParked = false;
    this.readPaused = false;
    this.codecDecided(this.codec);
    this.emit("close", { connid: this.connid, reason });
    this.objects.clear();
    this.held.clear();
    for (const ref of this.proxies.values()) {
      const proxy = ref.deref();
      if (proxy) this.finalizer.unregister(netrefState(proxy)!);
    }
    this.proxies.clear();
    this.rootTarget = undefined;
    this.cleanupDone = (async () => {
      await this.stream.close();
      try {
        await (this.localRoot as ConnectionHooks).on_disconnect?.(this as Connection);
      } catch (err) {
        this.log("warn", "on_disconnect failed", err);
      }
      this.signalClosed();
    })();
    return this.cleanupDone;
  }

  private log(level: "debug" | "warn", message: string, err?: unknown): void {
    const logger = this.config.logger;
    if (!logger) return;
    if (err === undefined) logger[level](`[${this.connid}] ${message}`);
    else logger[level](`[${this.connid}] ${message}: ${err instanceof PythonException || err instanceof Error ? err.stack : String(err)}`);
  }

  /** Number of local objects the peer currently holds references to (diagnostics, tests). */
  get localObjectCount(): number {
    return this.objects.size;
  }

  /** Number of live netrefs to the peer's objects (diagnostics, tests). */
  get netrefCount(): number {
    let live = 0;
    for (const ref of this.proxies.values()) if (ref.deref()) live++;
    return live;
  }

  /** How many frames are buffered but not yet complete (diagnostics). */
  get bufferedBytes(): number {
    return this.decoder.pending;
  }

  /** Symbol.asyncDispose: `await using conn = await connect(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
