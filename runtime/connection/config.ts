// Per-connection configuration. Keys with snake_case names are RPyC 5.3's DEFAULT_CONFIG,
// same meaning and defaults, so RPyC users recognise them; camelCase keys are our own.
// Configuration never travels on the wire: each side enforces its own.

import { MAX_BRINE_ITEMS } from "../wire/brine.js";
import { DEFAULT_MAX_FRAME_SIZE } from "../wire/channel.js";
import { DEFAULT_CODEC } from "../platform/node.js";
import type { DispatchTable } from "../compiled/dispatch.js";
import type { ServiceSchema } from "../compiled/schema.js";

/** Anything console-like; servers default to a quiet one. */
export interface Logger {
  debug(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

/** A constructor the vinegar loader may instantiate for a remote "module.Class" exception. */
export type ExceptionClass = new (message?: string) => Error;

/** The 80 dunder names RPyC treats as safe on any object (`safe_attrs`). */
export const SAFE_ATTRS: ReadonlySet<string> = new Set([
  "__abs__",
  "__add__",
  "__and__",
  "__bool__",
  "__cmp__",
  "__contains__",
  "__delitem__",
  "__delslice__",
  "__div__",
  "__divmod__",
  "__doc__",
  "__enter__",
  "__eq__",
  "__exit__",
  "__float__",
  "__floordiv__",
  "__format__",
  "__ge__",
  "__getitem__",
  "__getslice__",
  "__gt__",
  "__hash__",
  "__hex__",
  "__iadd__",
  "__iand__",
  "__idiv__",
  "__ifloordiv__",
  "__ilshift__",
  "__imod__",
  "__imul__",
  "__index__",
  "__int__",
  "__invert__",
  "__ior__",
  "__ipow__",
  "__irshift__",
  "__isub__",
  "__iter__",
  "__itruediv__",
  "__ixor__",
  "__le__",
  "__len__",
  "__length_hint__",
  "__long__",
  "__lshift__",
  "__lt__",
  "__mod__",
  "__mul__",
  "__ne__",
  "__neg__",
  "__new__",
  "__next__",
  "__nonzero__",
  "__oct__",
  "__or__",
  "__pos__",
  "__pow__",
  "__radd__",
  "__rand__",
  "__rdiv__",
  "__rdivmod__",
  "__repr__",
  "__rfloordiv__",
  "__rlshift__",
  "__rmod__",
  "__rmul__",
  "__ror__",
  "__rpow__",
  "__rrshift__",
  "__rshift__",
  "__rsub__",
  "__rtruediv__",
  "__rxor__",
  "__setitem__",
  "__setslice__",
  "__str__",
  "__sub__",
  "__truediv__",
  "__xor__",
  "next",
]);

export interface ProtocolConfig {
  /** Allow the names in `safe_attrs` on any object. RPyC default: true. */
  allow_safe_attrs: boolean;
  /** Enable the `exposed_prefix` mechanism (`x` resolves to `exposed_x`). Default: true. */
  allow_exposed_attrs: boolean;
  /** Allow any name not starting with `_`. Default: false. */
  allow_public_attrs: boolean;
  /** Allow any name at all (JavaScript's own internals stay unreachable). Default: false. */
  allow_all_attrs: boolean;
  /** The safe dunder names (default: SAFE_ATTRS). */
  safe_attrs: ReadonlySet<string>;
  /** Prefix of exposed members. Default: "exposed_". */
  exposed_prefix: string;
  /** Master switch for GETATTR, CALLATTR, CMP, CTXEXIT and OLDSLICING. Default: true. */
  allow_getattr: boolean;
  /** Master switch for SETATTR. Default: false. */
  allow_setattr: boolean;
  /** Master switch for DELATTR. Default: false. */
  allow_delattr: boolean;
  /** Send our stack as the remote traceback (else "<traceback denied>"). Default: true. */
  include_local_traceback: boolean;
  /** Send `_remote_version` in exception replies (else "<version denied>"). Default: true. */
  include_local_version: boolean;
  /** Re-create non-builtin remote exceptions as classes registered in `exceptionClasses`. Default: false. */
  instantiate_custom_exceptions: boolean;
  /** Python imports the exception's module; JavaScript cannot, so this has no effect. Default: false. */
  import_custom_exceptions: boolean;
  /** Legacy Python 2 switch; no effect. Default: false. */
  instantiate_oldstyle_exceptions: boolean;
  /** Python SystemExit handling; JavaScript has no SystemExit, no effect. Default: false. */
  propagate_SystemExit_locally: boolean;
  /** Python KeyboardInterrupt handling; no effect in JavaScript. Default: true. */
  propagate_KeyboardInterrupt_locally: boolean;
  /** Log exceptions raised by request handlers (at debug level). Default: true. */
  log_exceptions: boolean;
  /** Answer HANDLE_PICKLE. JavaScript objects cannot be pickled, so it fails either way. Default: false. */
  allow_pickle: boolean;
  /** Connection id; set to "conn1", "conn2", ... when null. */
  connid: string | null;
  /** What the server's authenticator returned (set by servers). */
  credentials: unknown;
  /** `[local address, peer address]` of the socket (set by servers). */
  endpoints: readonly [string, string] | null;
  /** Where the connection logs; null logs nothing. */
  logger: Logger | null;
  /** Seconds to wait for a reply before AsyncResultTimeout; null waits forever. Default: 30. */
  sync_request_timeout: number | null;
  /** Called with the remote root just before CLOSE is sent. */
  before_closed: ((root: unknown) => void | Promise<void>) | null;
  /** Swallow non-EOF errors while closing. Default: false. */
  close_catchall: boolean;
  /** RPyC's experimental thread binding; unsupported (broken in 5.3 itself); must stay false. */
  bind_threads: boolean;

  /** Ours: largest frame payload accepted (length field and decompressed size). Default: 64 MiB. */
  maxFrameSize: number;
  /** Ours: deepest brine nesting accepted from the peer. Default: 256. */
  maxBrineDepth: number;
  /**
   * Ours: most decimal digits of an int accepted from the peer (decimal-to-bigint parsing is
   * quadratic: one frame of millions of digits would block the event loop for seconds).
   * Default 4300, Python 3.11's own `sys.get_int_max_str_digits()`, so a Python peer cannot
   * send more unless it raised its limit.
   */
  maxIntDigits: number;
  /**
   * Ours: most values one received frame may decode into (each int, str, bytes, tuple and
   * item of a tuple counts one); a frame with more is a ProtocolError and the peer is
   * dropped. It bounds what one frame can cost: without it a 10 MB frame of one-byte items
   * decoded into 10 million objects. Default 100,000 (MAX_BRINE_ITEMS): the busiest message
   * of the interop suite is under 400 values; a frame at the limit decodes in at most tens of
   * milliseconds into at most about 17 MB.
   */
  maxBrineItems: number;
  /**
   * Ours: compress outgoing payloads above 3000 bytes, as RPyC does. Default: true. The
   * browser build never compresses (it has no synchronous zlib; peers take uncompressed frames).
   */
  compress: boolean;
  /** Ours: exception classes by "module.Class", used when `instantiate_custom_exceptions` is on. */
  exceptionClasses: ReadonlyMap<string, ExceptionClass>;
  /** Ours: rpyc-gen dispatch tables; a served object of a compiled class answers only its compiled members. */
  dispatch: readonly DispatchTable[];
  /** Ours: rpyc-gen schemas of the peer's services; calls on their netrefs encode and decode by value. */
  schemas: readonly ServiceSchema[];
  /**
   * Ours: the codec of typed calls between two rpyc-ts peers. "auto" (the default): a side
   * with `schemas` offers the native codec when the connection opens (one private request
   * RPyC does not know; a Python peer refuses it and everything stays brine); when the peer
   * is rpyc-ts with the same compiled schema, calls of compiled methods whose types are
   * plain data then travel as protobuf (protobufjs, types built once per schema) instead of
   * brine tuples. Calls made before the peer answered, dynamic calls, netrefs, callbacks
   * and exceptions stay brine. protobufjs is an optional peer dependency: a side that cannot
   * load it stays brine and tells its rpyc-ts peer why. "brine": never offer nor accept the
   * native codec (exactly RPyC's wire; an rpyc-ts peer's offer is answered "brine" with that
   * reason). Either side saying "brine" keeps the connection brine. `conn.codec` tells what
   * was agreed; `conn.negotiated` resolves once it is decided, with the reason (and a reason
   * a user can fix, such as a missing protobufjs on either side, is warned about once per
   * process: to `logger`, else one line on stderr). The browser build has no native codec:
   * its default is "brine".
   */
  codec: "auto" | "brine";

  // ---- limits, liveness (ours) --------------------------------------------------------

  /**
   * Ours: most of our own requests that may await their replies at once (calls, attribute
   * reads, pings; not the fire-and-forget DEL/CLOSE, nor heartbeat pings, which must get
   * out to detect a dead peer even when calls fill the table). One more call rejects at once with a
   * `LimitExceededError` (code "LIMIT", `limit: "maxPendingRequests"`) and sends nothing,
   * so a runaway caller cannot grow the pending table (and the peer's work) without bound.
   * Default: 10,000.
   */
  maxPendingRequests: number;
  /**
   * Ours: most of the peer's requests served at once on this connection (handlers started
   * whose reply is not sent yet). Requests beyond it wait in arrival order until a running
   * one finishes, and the connection stops reading from the socket (backpressure: the
   * peer's sends then block in TCP buffers, on its side). Replies to our own requests are
   * still read while we wait for any (up to `maxQueuedBytes` of waiting requests), so a
   * handler awaiting a callback into the peer is not starved. Default: 1,000.
   */
  maxConcurrentRequests: number;
  /**
   * Ours: most bytes of received requests waiting for a serving slot (see
   * `maxConcurrentRequests` and `maxWriteBuffer`). At this size the connection stops reading
   * even while replies to its own requests are due; it resumes as waiting requests are
   * served. A peer that keeps more than that in flight, all calling back into it, stalls
   * until `sync_request_timeout` fails the callbacks. Default: 16 MiB.
   */
  maxQueuedBytes: number;
  /**
   * Ours: bytes of replies queued for sending (the socket's `writableLength`) above which
   * the connection serves no new requests from the peer and stops reading, until the
   * buffer drains. A peer that sends requests but never reads their replies cannot make
   * us buffer without bound. Default: 16 MiB.
   */
  maxWriteBuffer: number;
  /**
   * Ours: most live netrefs to the peer's objects on this connection (references it sent us
   * that we have not released or garbage-collected yet). A received message that would take
   * the count past it is refused as a whole, before any of its netrefs is made, and its
   * references are given back at once (HANDLE_DEL): a request gets a LimitExceededError
   * reply, a reply rejects our call with it. A message carrying more references than the
   * limit by itself is a broken or hostile peer: the connection is closed. Default 100,000:
   * a client that iterates a remote collection of 100,000 objects and keeps every item still
   * fits (a netref costs about 1 KB of heap with the connection's bookkeeping).
   */
  maxNetrefs: number;
  /**
   * Ours: most of our objects the peer may hold references to at once (the local object
   * table, RPyC's `_local_objects`). Sending one more object by reference fails as a
   * LimitExceededError: a handler's reply becomes that exception, our own call rejects
   * with it before anything is sent. Objects the peer releases free their slots. Default
   * 100,000, as maxNetrefs.
   */
  maxLocalObjects: number;
  /**
   * Ours: liveness check, in seconds; null (the default) turns it off. When nothing has
   * arrived from the peer for about this long, we send a HANDLE_PING; if the ping gets no
   * reply within another `heartbeatInterval`, the connection is closed: every pending call
   * rejects with ConnectionClosedError and on_disconnect runs. So a half-open peer (gone
   * without FIN/RST, or hung) is detected within about 3 × heartbeatInterval. The transport
   * is then destroyed (no FIN handshake is awaited). rpyc-ts peers answer pings at any
   * time, also while their handlers run. A Python RPyC peer answers only while it reads the
   * connection: a Python *server* between requests (so use an interval longer than its
   * slowest call), a Python *client* only while it waits for a reply or serves (e.g. a
   * BgServingThread). So do not set this on a server whose clients are plain Python
   * clients: an idle one would be closed after about 3 intervals.
   */
  heartbeatInterval: number | null;
}

export const DEFAULT_CONFIG: Readonly<ProtocolConfig> = Object.freeze({
  allow_safe_attrs: true,
  allow_exposed_attrs: true,
  allow_public_attrs: false,
  allow_all_attrs: false,
  safe_attrs: SAFE_ATTRS,
  exposed_prefix: "exposed_",
  allow_getattr: true,
  allow_setattr: false,
  allow_delattr: false,
  include_local_traceback: true,
  include_local_version: true,
  instantiate_custom_exceptions: false,
  import_custom_exceptions: false,
  instantiate_oldstyle_exceptions: false,
  propagate_SystemExit_locally: false,
  propagate_KeyboardInterrupt_locally: true,
  log_exceptions: true,
  allow_pickle: false,
  connid: null,
  credentials: null,
  endpoints: null,
  logger: null,
  sync_request_timeout: 30,
  before_closed: null,
  close_catchall: false,
  bind_threads: false,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxBrineDepth: 256,
  maxIntDigits: 4300,
  maxBrineItems: MAX_BRINE_ITEMS,
  compress: true,
  exceptionClasses: new Map(),
  dispatch: [],
  schemas: [],
  codec: DEFAULT_CODEC,
  maxPendingRequests: 10_000,
  maxConcurrentRequests: 1_000,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxWriteBuffer: 16 * 1024 * 1024,
  maxNetrefs: 100_000,
  maxLocalObjects: 100_000,
  heartbeatInterval: null,
});

let connectionCounter = 0;

/** Merges user settings over DEFAULT_CONFIG and assigns a connid, validating what JS cannot honour. */
export function resolveConfig(user: Partial<ProtocolConfig> = {}): ProtocolConfig {
  const config: ProtocolConfig = { ...DEFAULT_CONFIG, ...user };
  if (config.bind_threads) throw new RangeError("bind_threads is not supported (it is broken in RPyC 5.3 itself)");
  if (!(config.maxFrameSize > 0)) throw new RangeError("maxFrameSize must be a positive number of bytes");
  if (config.sync_request_timeout !== null && !(config.sync_request_timeout > 0)) {
    throw new RangeError("sync_request_timeout must be a positive number of seconds or null");
  }
  for (const key of ["maxPendingRequests", "maxConcurrentRequests", "maxIntDigits", "maxBrineItems", "maxNetrefs", "maxLocalObjects"] as const) {
    if (!(Number.isInteger(config[key]) && config[key] > 0)) throw new RangeError(`${key} must be a positive integer`);
  }
  for (const key of ["maxQueuedBytes", "maxWriteBuffer"] as const) {
    if (!(config[key] > 0)) throw new RangeError(`${key} must be a positive number of bytes`);
  }
  if (config.heartbeatInterval !== null && !(config.heartbeatInterval > 0 && config.heartbeatInterval < 2 ** 31 / 1000)) {
    throw new RangeError("heartbeatInterval must be a positive number of seconds or null");
  }
  if (config.codec !== "auto" && config.codec !== "brine") throw new RangeError('codec must be "auto" or "brine"');
  if (config.connid === null) config.connid = `conn${++connectionCounter}`;
  return config;
}
