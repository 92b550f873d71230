// The public API of rpyc-ts: what each concept folder's index.ts exports, and nothing else.
// Subpaths: "rpyc-ts/internal" (runtime/internal.ts) for generated code, "rpyc-ts/wire"
// (wire/index.ts: brine, framing, message constants) for tools, "rpyc-ts/etcd"
// (registry/etcd.ts) so that only its users need the etcd3 package and its types.
// ARCHITECTURE.md maps the folders.

export * from "./server/index.js";
export * from "./connection/index.js";
export * from "./serve/index.js";
export * from "./netref/index.js";
export * from "./errors/index.js";
export { Float, float, Complex, Slice, FrozenSet, NotImplemented, Ellipsis, type PyValue, type PyValueIn } from "./wire/values.js";
export { DEFAULT_BRINE_LIMITS, type BrineLimits } from "./wire/brine.js";
export { DEFAULT_MAX_FRAME_SIZE } from "./wire/channel.js";
export { SocketStream, type Stream, type StreamHandlers } from "./wire/stream.js";
export * from "./compiled/index.js";
export * from "./registry/index.js";
export * from "./classic/index.js";
