// Connection (rpyc/core/protocol.py): message framing over a Stream, sequence numbers,
// pending replies, boxing of values and references, the local object table and the
// netref cache, request dispatch, timeouts and close. Incoming frames are served as they
// arrive, also while our own requests wait, so callbacks and nested calls never deadlock.

import { DEFAULT_BRINE_LIMITS, MAX_DUMP_DEPTH, dump, dumpable, load, type BrineLimits } from "./brine.js";
import { encodeFrame, FrameDecoder } from "./channel.js";
import { resolveConfig, type ProtocolConfig } from "./config.js";
import * as C from "./consts.js";
import { AsyncResultTimeout, ConnectionClosedError, PingError, ProtocolError } from "./errors.js";
import { PythonException, ValueError } from "./exceptions.js";
import { boundMethods } from "./access.js";
import { handlerFor, type HandlerHost } from "./handlers.js";
import { freshInstanceId, idPackKey, isIdPack, JS_MODULE, localIdPack, type IdPack } from "./id-pack.js";
import type { ServiceSchema } from "./schema.js";
import { createNetref, netrefState, releaseState, type NetrefOwner, type NetrefState } from "./netref.js";
import { LocalObjectTable } from "./object-table.js";
import type { Stream } from "./stream.js";
import type { RootType } from "./types.js";
import { dumpException, loadException } from "./vinegar.js";
import type { PyValue } from "./values.js";

/** Lifecycle hooks a connection calls on its local root (Service has both). */
export interface ConnectionHooks {
  on_connect?(conn: Connection): void | Promise<void>;
  on_disconnect?(conn: Connection): void | Promise<void>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

type Boxed = readonly [number, unknown];

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
  private readonly pending = new Map<number, Pending>();
  /** Live netrefs by id_pack key; weak, so the garbage collector decides their lifetime. */
  private readonly proxies = new Map<string, WeakRef<object>>();
  private readonly finalizer = new FinalizationRegistry<NetrefState>((state) => this.netrefCollected(state));
  /** id_packs for netrefs of other connections that we re-export to this peer. */
  private readonly forwarded = new WeakMap<object, IdPack>();
  private rootProxy: unknown;
  private rootFetch: Promise<void> | undefined;
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
    this.brineLimits = { ...DEFAULT_BRINE_LIMITS, maxDepth: this.config.maxBrineDepth };
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
    this.stream.start({ data: (chunk) => this.onData(chunk), close: (err) => void this.onStreamClosed(err) });
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
    const echo = await this.sendRequest(C.HANDLE_PING, [data], timeoutSeconds);
    if (echo !== data) throw new PingError(`echoed data does not match: ${String(echo).slice(0, 40)}`);
  }

  /** Sends CLOSE, closes the stream, then runs on_disconnect. Resolves when all is done. */
  close(): Promise<void> {
    this.closing ??=
      this.cleanupDone ??
      (async () => {
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

  /** Resolves once the connection is closed (by either side) and on_disconnect has run. */
  whenClosed(): Promise<void> {
    return this.closed$;
  }

  // ---- requests ---------------------------------------------------------------------

  request(handler: number, args: readonly unknown[]): Promise<unknown> {
    return this.sendRequest(handler, args, this.config.sync_request_timeout);
  }

  private sendRequest(handler: number, args: readonly unknown[], timeoutSeconds: number | null): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new ConnectionClosedError());
    let boxed: Boxed;
    try {
      boxed = this.box(args);
    } catch (err) {
      return Promise.reject(err);
    }
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, timer: undefined };
      if (timeoutSeconds !== null) {
        pending.timer = setTimeout(() => {
          this.pending.delete(seq);
          reject(new AsyncResultTimeout(`result expired: no reply to ${C.HANDLER_NAMES[handler]} (seq ${seq}) within ${timeoutSeconds} s`));
        }, timeoutSeconds * 1000);
      }
      this.pending.set(seq, pending);
      this.send(C.MSG_REQUEST, seq, [handler, boxed]);
    });
  }

  /** A request whose reply is ignored (DEL, CLOSE), with already-boxed args. */
  private sendAsync(handler: number, boxed: Boxed): void {
    this.send(C.MSG_REQUEST, this.seq++, [handler, boxed]);
  }

  private send(msg: number, seq: number | bigint, payload: unknown): void {
    const data = dump([msg, seq, payload as PyValue]);
    this.stream.write(encodeFrame(data, this.config.compress));
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
    this.objects.add(obj, idPack);
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
    let payloads: Buffer[];
    try {
      payloads = this.decoder.push(chunk);
    } catch (err) {
      return this.fatal(err);
    }
    for (const payload of payloads) {
      if (this.isClosed) return;
      this.dispatch(payload);
    }
  }

  private dispatch(payload: Buffer): void {
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
        return this.onRequest(seq, args);
      case C.MSG_REPLY:
      case C.MSG_EXCEPTION:
        return this.onReply(seq, args, type === C.MSG_EXCEPTION);
      default:
        return this.fatal(new ProtocolError(`unknown message type ${String(type)}`));
    }
  }

  private onReply(seq: number | bigint, raw: PyValue, isException: boolean): void {
    const pending = typeof seq === "number" ? this.pending.get(seq) : undefined;
    let value: unknown;
    let failed = isException;
    try {
      value = isException ? loadException(raw, this.config) : this.unbox(raw);
    } catch (err) {
      value = err;
      failed = true;
    }
    if (!pending) {
      this.log("debug", `reply for unknown seq ${seq} ignored`);
      return;
    }
    this.pending.delete(seq as number);
    if (pending.timer) clearTimeout(pending.timer);
    if (failed) pending.reject(value);
    else pending.resolve(value);
  }

  private onRequest(seq: number | bigint, raw: PyValue): void {
    let handlerName = "request";
    try {
      if (!Array.isArray(raw) || raw.length !== 2) throw new TypeError("cannot unpack request: expected (handler, args)");
      const [code, boxedArgs] = raw as [PyValue, PyValue];
      if (code === C.HANDLE_CLOSE) {
        void this.cleanup();
        return;
      }
      // Unboxed at once, in arrival order: a later DEL must not overtake this request's refs.
      // (Before the handler lookup, as Python does: a bad label wins over a bad handler code.)
      const args = this.unbox(boxedArgs);
      const handler = handlerFor(code);
      handlerName = handler.name;
      if (!Array.isArray(args)) throw new TypeError("request arguments must be a tuple");
      if (args.length < handler.minArgs || args.length > handler.maxArgs) {
        throw new TypeError(`_handle_${handler.name}() takes ${handler.minArgs}..${handler.maxArgs} arguments, got ${args.length}`);
      }
      const result = handler.run(this, args);
      if (isPromiseLike(result) && !netrefState(result)) {
        result.then(
          (value) => this.reply(seq, value, handlerName),
          (err: unknown) => this.replyException(seq, err, handlerName),
        );
      } else {
        this.reply(seq, result, handlerName);
      }
    } catch (err) {
      this.replyException(seq, err, handlerName);
    }
  }

  private reply(seq: number | bigint, value: unknown, handlerName: string): void {
    if (this.isClosed) return;
    if (isPromiseLike(value) && !netrefState(value)) {
      // An async getter or a method returning a promise: reply with what it settles to.
      value.then(
        (settled) => this.reply(seq, settled, handlerName),
        (err: unknown) => this.replyException(seq, err, handlerName),
      );
      return;
    }
    let boxed: Boxed;
    try {
      boxed = this.box(value);
    } catch (err) {
      return this.replyException(seq, err, handlerName);
    }
    this.send(C.MSG_REPLY, seq, boxed);
  }

  private replyException(seq: number | bigint, err: unknown, handlerName: string): void {
    if (this.config.log_exceptions) this.log("debug", `exception in ${handlerName} (seq ${seq})`, err);
    if (this.isClosed) return;
    this.send(C.MSG_EXCEPTION, seq, dumpException(err, this.config));
  }

  /** The peer broke the protocol: tell it we are closing (as RPyC does), then drop it. */
  private fatal(err: unknown): void {
    if (this.isClosed) return;
    this.log("warn", `closing ${this.connid}: ${(err as Error).message ?? String(err)}`);
    try {
      this.sendAsync(C.HANDLE_CLOSE, [C.LABEL_VALUE, []]);
    } catch {
      // the stream may already be gone
    }
    void this.cleanup(err instanceof Error ? err : new ProtocolError(String(err)));
  }

  private onStreamClosed(err: Error | undefined): void {
    void this.cleanup(err ? new ConnectionClosedError(`connection lost: ${err.message}`) : new ConnectionClosedError("connection closed by peer"));
  }

  /** Runs once: fail pending requests, drop tables, close the stream, then on_disconnect. */
  private cleanup(reason: Error = new ConnectionClosedError()): Promise<void> {
    if (this.cleanupDone) return this.cleanupDone;
    this.isClosed = true;
    const closedError = reason instanceof ConnectionClosedError ? reason : new ConnectionClosedError(`connection closed: ${reason.message}`);
    for (const pending of this.pending.values()) {
      if (pending.timer) clearTimeout(pending.timer);
      pending.reject(closedError);
    }
    this.pending.clear();
    this.objects.clear();
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
