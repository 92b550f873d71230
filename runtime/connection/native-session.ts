// The native codec on one connection (§12 of docs/protocol.md): negotiation (the offer and
// its answer), typed calls as protobuf frames between agreed rpyc-ts peers, serving the
// peer's native and pipelined requests, and the results held for its pipelined requests.

import { dumpable, load, type BrineLimits } from "../wire/brine.js";
import * as C from "../wire/consts.js";
import { AsyncResultTimeout, ConnectionClosedError, ProtocolError } from "../errors/rpyc-errors.js";
import { PythonException, ValueError } from "../errors/python-exceptions.js";
import { handlerFor, type HandlerHost } from "../serve/handlers.js";
import type { IdPack } from "../netref/id-pack.js";
import type { ServiceSchema } from "../compiled/schema.js";
import {
  encodeNativeReply,
  encodeNativeRequest,
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
import {
  agreedReason,
  CODEC_BRINE_ANSWER,
  HANDLE_NATIVE_OFFER,
  isNotice,
  announcedSchemaClasses,
  nativeNotice,
  nativeOffer,
  negotiation,
  offerAnswer,
  readNoticeAnswer,
  readOffer,
  readOfferAnswer,
  WARNED_REASONS,
  type NativeAgreement,
  type Negotiation,
  type NegotiationReason,
  type PeerClass,
  type Reading,
} from "../compiled/negotiation.js";
import { netrefState, type NetrefState, type RequestOptions } from "../netref/state.js";
import { PIPELINED_ON_VALUE } from "../netref/answer.js";
import { isPromiseLike } from "../netref/brand.js";
import { HeldAnswers, MAX_HELD_ANSWERS } from "./held-answers.js";
import type { Boxing } from "./boxing.js";
import type { Inbound } from "./inbound.js";
import type { Observer, RequestEvent, RequestErrorKind } from "./observe.js";
import type { Pending, PendingRequests } from "./pending-requests.js";
import type { PyValue } from "../wire/values.js";
import { warnLine } from "../platform/node.js";

/** A request frame of the native codec (native or pipelined). */
type NativeRequestFrame = Exclude<NativeFrame, { kind: typeof NATIVE_REPLY | typeof NATIVE_HOLD | typeof NATIVE_DROP }>;

/** What the native codec needs of its connection. */
export interface NativeHost extends HandlerHost {
  readonly connid: string;
  readonly isClosed: boolean;
  readonly brineLimits: BrineLimits;
  readonly events: Observer;
  readonly inbound: Inbound;
  readonly boxing: Boxing;
  readonly pending: PendingRequests;
  /** The next request's seq (taken once its frame is encoded). */
  seq: number;
  /** Why a request may not be sent now, or undefined. */
  admit(handler: number, timeoutSeconds: number | null, signal: AbortSignal | undefined, unlimited: boolean): unknown;
  /** Registers request `seq` as pending; its promise settles with the reply. */
  track(
    seq: number,
    handler: number,
    args: unknown,
    timeoutSeconds: number | null,
    signal: AbortSignal | undefined,
    native: NativeMethod | undefined,
    internal: boolean,
  ): Promise<unknown>;
  /** A request's timeout in seconds (null: none) and signal, from a netref's options. */
  timeoutOf(options: RequestOptions | undefined): [number | null, AbortSignal | undefined];
  /** Our bookkeeping's brine request (the offer): not counted in stats, limits or events. */
  sendInternal(handler: number, args: readonly unknown[]): Promise<unknown>;
  sendChunks(chunks: readonly Uint8Array[]): void;
  send(msg: number, seq: number | bigint, payload: unknown): void;
  settle(seq: number, pending: Pending, value: unknown, failed: boolean): void;
  reply(seq: number | bigint, value: unknown, handlerName: string, trace: RequestEvent | undefined): void;
  replyException(seq: number | bigint, err: unknown, handlerName: string, trace: RequestEvent | undefined): void;
  served(trace: RequestEvent | undefined, kind?: RequestErrorKind, error?: unknown): void;
  /** The negotiation's outcome (called once). */
  codecDecided(outcome: Negotiation): void;
  fatal(err: unknown): void;
  log(level: "debug" | "warn", message: string, err?: unknown): void;
}

/**
 * Internal seam (tests): a config key whose function replaces loadNativeCodec on one
 * connection; resolving false plays "protobufjs is not installed" on that side only. Not
 * exported by runtime/index.ts.
 */
export const NATIVE_CODEC_LOADER: unique symbol = Symbol("rpyc.nativeCodecLoader");

/** The reasons already warned about in this process (see WARNED_REASONS). */
const warned = new Set<NegotiationReason>();

/** Tests: forget the warnings given, as if the process had just started. */
export function forgetNegotiationWarnings(): void {
  warned.clear();
}

/** Why an offer or notice got no answer: closed, timed out, or refused as an unknown handler (Python). */
function unanswered(err: unknown): NegotiationReason {
  if (err instanceof ConnectionClosedError) return "closed";
  if (err instanceof AsyncResultTimeout) return "no-answer";
  return "peer-not-rpyc-ts";
}

/** The refusal a draining connection answers new requests with (Python sees EOFError). */
export function closingRefusal(): PythonException {
  const err = new PythonException("connection is closing: request refused");
  err.name = "EOFError";
  return err;
}

export class NativeSession {
  /** Set once both sides agreed on the native codec; native frames are refused before. */
  agreed = false;
  /** Both peers take promise pipelining's frames (agreed with the codec). */
  pipelining = false;
  /** The peer's compiled classes (by className) it serves natively, with their agreed ids. */
  private peerNative: ReadonlyMap<string, PeerClass> = new Map();
  /** Results of the peer's requests it will pipeline on (NATIVE_HOLD), by its request seq. */
  readonly held = new HeldAnswers();

  constructor(private readonly host: NativeHost) {}

  // ---- negotiation ---------------------------------------------------------------------

  /** The outcome is decided (conn.negotiated resolved). */
  private decided = false;
  /** An offer or a notice was sent or received: closing before the outcome is "closed", else "not-offered". */
  private engaged = false;

  /**
   * The peer sent an offer or a notice: it holds compiled schemas (rpyc-gen's stubs), so
   * results of compiled methods go to it encoded by their schema (plain data by value);
   * other peers get them as RPyC sends objects, by reference.
   */
  peerHasSchemas = false;
  /** The classes whose schemas the peer announced (its stubs'): a call to one we serve without its dispatch table is refused, naming the fix. */
  peerSchemaClasses: ReadonlySet<string> = new Set();

  /**
   * When the connection opens: `codec: "brine"` decides at once; a side with schemas offers
   * (or, without protobufjs or with `codec: "brine"`, sends a notice). Resolves once that is
   * sent, so that it precedes every call: the peer must know it before it answers one.
   */
  open(): Promise<void> {
    const host = this.host;
    const hasSchemas = host.config.schemas.length > 0;
    if (host.config.codec === "brine") {
      this.decide("codec-brine");
      if (hasSchemas) this.announceBrine();
      return Promise.resolve();
    }
    if (!hasSchemas) return Promise.resolve();
    this.engaged = true;
    return this.loadCodec().then((available) => {
      if (host.isClosed) return;
      if (available) this.offer();
      else this.notify();
    });
  }

  /** A `codec: "brine"` side with schemas tells the peer it holds them (and why it offers nothing). */
  private announceBrine(): void {
    this.host.sendInternal(HANDLE_NATIVE_OFFER, nativeNotice("codec-brine", this.host.config.schemas)).then(
      () => {},
      (err: unknown) => this.host.log("debug", "the codec-brine notice got no answer", err),
    );
  }

  /** The connection closed: an outcome not decided yet is decided now. */
  closed(): void {
    this.decide(this.engaged ? "closed" : "not-offered");
  }

  /** protobufjs, loaded once per process (or the NATIVE_CODEC_LOADER a test put in the config). */
  private loadCodec(): Promise<boolean> {
    const loader = (this.host.config as { [NATIVE_CODEC_LOADER]?: () => Promise<boolean> })[NATIVE_CODEC_LOADER];
    return loader ? loader() : loadNativeCodec();
  }

  /** The side with schemas offers (version, codecs, its served classes); the answer decides. */
  private offer(): void {
    const host = this.host;
    host.sendInternal(HANDLE_NATIVE_OFFER, nativeOffer(host.config.dispatch, host.config.schemas)).then(
      (answer) => {
        if (host.isClosed) return;
        const reading = readOfferAnswer(answer);
        if ("reason" in reading) return this.decide(reading.reason);
        this.agree(reading.agreement);
        this.decide(...agreedReason(host.config.schemas, reading.agreement.classes, false));
      },
      // A Python peer answers with KeyError (an unknown handler); a peer that never reads, never.
      (err: unknown) => {
        host.log("debug", "the native-codec offer got no answer", err);
        this.decide(unanswered(err));
      },
    );
  }

  /**
   * Without protobufjs, the side with schemas tells the peer why it does not offer (an
   * rpyc-ts peer then knows too); the answer tells whether the peer could have agreed.
   */
  private notify(): void {
    const host = this.host;
    host.sendInternal(HANDLE_NATIVE_OFFER, nativeNotice("lacks-protobufjs", host.config.schemas)).then(
      (answer) => this.decide(readNoticeAnswer(answer)),
      (err: unknown) => {
        host.log("debug", "the native-codec notice got no answer", err);
        this.decide(unanswered(err));
      },
    );
  }

  private agree(agreement: NativeAgreement): void {
    this.peerNative = agreement.classes;
    this.pipelining = agreement.pipelining;
    this.agreed = true;
  }

  /**
   * Settles conn.negotiated (once) and says why: a warning once per process per reason for
   * those a user can fix (to the logger; without one, a line on stderr, as servers do with
   * refused clients), the others at debug level.
   */
  private decide(reason: NegotiationReason, classes?: readonly string[]): void {
    if (this.decided) return;
    this.decided = true;
    const host = this.host;
    const outcome = negotiation(reason, classes);
    if (WARNED_REASONS.has(reason) && !warned.has(reason)) {
      warned.add(reason);
      const line = `${outcome.message} (${reason}; warned once per process)`;
      if (host.config.logger) host.log("warn", line);
      else warnLine(`rpyc-ts: [${host.connid}] ${line}`);
    } else {
      host.log("debug", `${outcome.message} (${reason})`);
    }
    host.codecDecided(outcome);
  }

  /**
   * Answers the peer's offer: "native" with our served classes, or "brine" and why (our
   * `codec: "brine"`, no protobufjs here, another version); a notice gets a plain "brine".
   * Loading protobufjs may take a moment: the answer is a reply, so it may come after others;
   * we count as agreed only from the moment it is sent.
   */
  answerOffer(seq: number | bigint, boxedArgs: PyValue): void {
    const host = this.host;
    this.engaged = true;
    this.peerHasSchemas = true;
    let offer: unknown;
    try {
      offer = host.boxing.unbox(boxedArgs);
    } catch {
      offer = undefined;
    }
    this.peerSchemaClasses = new Set(announcedSchemaClasses(offer));
    // codec "brine" was decided when the connection opened.
    if (host.config.codec === "brine") return host.send(C.MSG_REPLY, seq, host.boxing.box(CODEC_BRINE_ANSWER));
    if (isNotice(offer)) return this.answer(seq, readOffer(offer, false));
    void this.loadCodec().then((available) => {
      if (host.isClosed) return;
      try {
        this.answer(seq, readOffer(offer, available));
      } catch (err) {
        host.fatal(err);
      }
    });
  }

  private answer(seq: number | bigint, reading: Reading): void {
    const host = this.host;
    // Agreed from here: the peer sends native frames only after reading this reply.
    if ("agreement" in reading) this.agree(reading.agreement);
    host.send(C.MSG_REPLY, seq, host.boxing.box(offerAnswer(reading, host.config.dispatch)));
    if ("reason" in reading) return this.decide(reading.reason);
    const { schemas, dispatch } = host.config;
    this.decide(...agreedReason(schemas, reading.agreement.classes, dispatch.length === 0));
  }

  // ---- calls (client side) -------------------------------------------------------------

  /**
   * A call of a compiled method as a native request, when both sides agreed, the peer
   * serves the netref's class under the same schema, and the method has a native form;
   * undefined otherwise (the caller uses brine).
   */
  call(state: NetrefState, schema: ServiceSchema, name: string, args: readonly unknown[], options: RequestOptions | undefined): Promise<unknown> | undefined {
    if (!this.agreed || this.host.isClosed) return undefined;
    const peer = this.peerNative.get(schema.className);
    if (peer === undefined || !peer.agrees(schema)) return undefined;
    const idPack = state.idPack;
    if (idPack === null || typeof idPack[1] !== "number" || typeof idPack[2] !== "number") return undefined;
    const method = nativeSchema(schema).method(name);
    if (!method || !method.accepts(args.length)) return undefined;
    if (options === undefined) return this.sendCall(method, peer.id, idPack, args, this.host.config.sync_request_timeout, undefined);
    const [timeout, signal] = this.host.timeoutOf(options);
    return this.sendCall(method, peer.id, idPack, args, timeout, signal);
  }

  /** Sends a native call: the lean path of typed calls, nothing allocated but the frame, Pending and promise. */
  private sendCall(
    method: NativeMethod,
    classId: number,
    target: IdPack,
    args: readonly unknown[],
    timeoutSeconds: number | null,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const host = this.host;
    const refused = host.admit(C.HANDLE_CALLATTR, timeoutSeconds, signal, false);
    if (refused !== undefined) return Promise.reject(refused);
    const seq = host.seq;
    let frame: Uint8Array[];
    try {
      frame = encodeNativeRequest(seq, classId, method, target, args, host.config.compress);
    } catch (err) {
      return Promise.reject(err);
    }
    host.seq++;
    const promise = host.track(seq, C.HANDLE_CALLATTR, host.events.observed ? [null, method.name] : NO_ARGS, timeoutSeconds, signal, method, false);
    host.sendChunks(frame);
    if (host.inbound.readPaused) host.inbound.flow();
    return promise;
  }

  // ---- received frames -----------------------------------------------------------------

  /** A native-codec frame: a reply to our call, a hold or drop of a result, or a request. */
  dispatch(payload: Uint8Array, fresh: boolean): void {
    const host = this.host;
    if (!this.agreed) return host.fatal(new ProtocolError("received a native-codec frame, but no native codec was agreed on this connection"));
    let frame: NativeFrame;
    try {
      frame = readNativeFrame(payload);
    } catch (err) {
      return host.fatal(new ProtocolError(`malformed native-codec frame: ${(err as Error).message}`));
    }
    switch (frame.kind) {
      case NATIVE_REPLY:
        return this.onReply(frame.seq, frame.method, frame.reader);
      case NATIVE_HOLD:
        return this.holdAnswer(frame.seq, frame.count);
      case NATIVE_DROP:
        return void this.held.take(frame.seq);
    }
    // A request (native, or pipelined): served in arrival order like brine requests.
    const refuse = host.inbound.admit(payload, fresh);
    if (refuse !== undefined) this.serve(frame, refuse);
  }

  /** A method, not a closure per frame: under tsx every closure created also costs a __name (defineProperty). */
  private serve(frame: NativeRequestFrame, refuse: boolean): void {
    if (frame.kind === NATIVE_REQUEST) this.onRequest(frame.header, frame.reader, refuse);
    else this.onPipelinedRequest(frame.seq, frame.base, frame.body, refuse);
  }

  /** The peer's hold of our reply to its request `seq`: keep the result for `count` pipelined requests. */
  private holdAnswer(seq: number, count: number): void {
    // Refused: its pipelined requests will be answered with an error naming the missing hold.
    if (!this.held.hold(seq, count)) this.host.log("debug", `hold of seq ${seq} ignored: ${MAX_HELD_ANSWERS} results already held (MAX_HELD_ANSWERS)`);
  }

  /** A pipelined request: a brine (handler, args) whose args[0] is the held result of request `base`. */
  private onPipelinedRequest(seq: number, base: number, body: Uint8Array, refuse: boolean): void {
    const host = this.host;
    let handlerName = "request";
    let trace: RequestEvent | undefined;
    host.inbound.serving++;
    const entry = this.held.take(base);
    try {
      const message = load(body, host.brineLimits);
      if (!Array.isArray(message) || message.length !== 2) throw new TypeError("cannot unpack pipelined request: expected (handler, args)");
      const [code, boxedArgs] = message as [PyValue, PyValue];
      // Unboxed at once, in arrival order (as for brine requests).
      const args = host.boxing.unboxMessage(boxedArgs);
      if (code !== C.HANDLE_GETATTR && code !== C.HANDLE_CALLATTR)
        throw new TypeError(`pipelined requests are GETATTR or CALLATTR, got handler ${String(code)}`);
      const handler = handlerFor(code);
      handlerName = handler.name;
      if (host.events.observed) trace = host.events.traceRequest(seq, code, args, "in");
      if (!Array.isArray(args) || args.length < handler.minArgs || args.length > handler.maxArgs) {
        throw new TypeError(`_handle_${handler.name}() takes ${handler.minArgs}..${handler.maxArgs} arguments`);
      }
      if (refuse) throw closingRefusal();
      if (!entry) throw new ValueError(`pipelined request on the result of request ${base}, which is not held`);
      void entry.outcome.then((outcome) => {
        if (host.isClosed) return host.served(trace, "closed", new ConnectionClosedError());
        // The first call's error is every dependent's error.
        if (!outcome.ok) return host.replyException(seq, outcome.error, handlerName, trace);
        const target = outcome.value;
        if (dumpable(target) || Array.isArray(target)) {
          // Plain data is sent by value: the caller reads its members locally instead.
          const err = new PythonException(`the result of request ${base} is plain data, not a reference`);
          err.name = PIPELINED_ON_VALUE;
          return host.replyException(seq, err, handlerName, trace);
        }
        let result: unknown;
        try {
          args[0] = target;
          result = handler.run(host, args);
        } catch (err) {
          return host.replyException(seq, err, handlerName, trace);
        }
        host.reply(seq, result, handlerName, trace);
      });
    } catch (err) {
      host.replyException(seq, err, handlerName, trace);
    }
  }

  private onRequest(header: NativeRequestHeader, reader: NativeReader, refuse: boolean): void {
    const host = this.host;
    const seq = header.seq;
    // The class id indexes the classes we announced (our dispatch tables, see compiled/negotiation.ts):
    // any other number is not a call we could have agreed to, so the peer is broken.
    const table = host.config.dispatch[header.classId];
    if (table === undefined) {
      return host.fatal(
        new ProtocolError(`native request names class id ${header.classId}, but only ${host.config.dispatch.length} classes were announced on this connection`),
      );
    }
    let trace: RequestEvent | undefined;
    let method: NativeMethod;
    let result: unknown;
    host.inbound.serving++;
    try {
      const target = host.objects.get(header.target);
      // A netref of another connection we forward (proxy chaining): called through it, as
      // brine CALLATTR would be; its own connection encodes for the next hop.
      const forwarded = netrefState(target) !== undefined;
      if (!forwarded) {
        const own = tableFor(host.config.dispatch, target);
        if (own !== table && (own === undefined || schemaFingerprint(own.schema) !== schemaFingerprint(table.schema))) {
          throw new TypeError(`native call: the target is not served as ${table.schema.className}, the class the caller named`);
        }
      }
      const found = nativeSchema(table.schema).methodAt(header.method);
      if (!found) throw new TypeError(`native call: method #${header.method} of ${table.schema.className} has no native form`);
      method = found;
      if (host.events.observed) trace = host.events.traceRequest(seq, C.HANDLE_CALLATTR, [target, method.name], "in");
      const args = method.decodeArgs(reader, header.argc);
      if (refuse) throw closingRefusal();
      result = forwarded
        ? (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method.name]!(...args)
        : invokeNativeCall(table, target, method.name, args);
    } catch (err) {
      return host.replyException(seq, err, "callattr", trace);
    }
    // A synchronous result is answered at once (no promise, no microtask), as brine requests are.
    if (isPromiseLike(result)) {
      result.then(
        (value) => this.reply(seq, method, value, trace),
        (err: unknown) => host.replyException(seq, err, "callattr", trace),
      );
    } else {
      this.reply(seq, method, result, trace);
    }
  }

  private reply(seq: number, method: NativeMethod, value: unknown, trace: RequestEvent | undefined): void {
    const host = this.host;
    if (host.isClosed) return host.served(trace, "closed", new ConnectionClosedError());
    if (this.held.size > 0) this.held.settle(seq, { ok: true, value });
    let frame: Uint8Array[];
    try {
      frame = encodeNativeReply(seq, method, value, host.config.compress);
    } catch (err) {
      return host.replyException(seq, err, "callattr", trace);
    }
    host.sendChunks(frame);
    host.served(trace);
  }

  private onReply(seq: number, methodIndex: number, reader: NativeReader): void {
    const host = this.host;
    const pending = host.pending.get(seq);
    if (!pending) {
      // Late (timed out, aborted): plain data holds no references, nothing to give back.
      host.log("debug", `native reply for unknown seq ${seq} ignored`);
      return;
    }
    if (!pending.native || pending.native.index !== methodIndex) {
      return host.fatal(new ProtocolError(`native reply to seq ${seq}, which was not a native call of that method`));
    }
    let value: unknown;
    let failed = false;
    try {
      value = pending.native.decodeResult(reader);
    } catch (err) {
      value = err;
      failed = true;
    }
    host.settle(seq, pending, value, failed);
  }
}

const NO_ARGS: readonly unknown[] = [];
