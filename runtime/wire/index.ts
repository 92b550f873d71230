// The wire: bytes in and out, as RPyC 5.3 puts them. A Stream carries bytes (TCP, TLS, Unix
// sockets); channel.ts cuts them into frames (length, compressed flag, payload, flush byte)
// and refuses oversized or bomb-like ones; brine.ts turns payloads into Python values and
// back, bounded by depth, int size and an item budget; consts.ts names the messages,
// handlers and labels; vinegar.ts carries exceptions; pyrepr.ts prints values as Python
// would. Nothing here knows about connections or objects. docs/protocol.md §2-§4 and §7.
// This folder is also the subpath "rpyc-ts/wire", for tools that speak RPyC's wire by
// hand (fuzzers, proxies, introspection); applications import values and streams from "rpyc-ts".

export { Float, float, Complex, Slice, FrozenSet, NotImplemented, Ellipsis, type PyValue, type PyValueIn } from "./values.js";
export { dump, load, dumpable, DEFAULT_BRINE_LIMITS, type BrineLimits } from "./brine.js";
export { encodeFrame, FrameDecoder, DeflatedPayload, COMPRESSION_THRESHOLD, DEFAULT_MAX_FRAME_SIZE } from "./channel.js";
export { SocketStream, type Stream, type StreamHandlers } from "./stream.js";
export * from "./consts.js";
