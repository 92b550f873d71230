// The public API of rpyc-ts: what each concept folder's index.ts exports, and nothing else.
// Subpaths: "rpyc-ts/registry" (registry/index.ts: RPyC's registry servers and clients),
// "rpyc-ts/etcd" (registry/etcd.ts, so that only its users need the etcd3 package and its
// types), "rpyc-ts/classic" (classic/index.ts: remote code execution, never a default),
// "rpyc-ts/wire" (wire/index.ts: brine, framing, message constants) for tools, and
// "rpyc-ts/internal" (runtime/internal.ts) for generated code.
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
export {
  discover,
  listServices,
  connectByService,
  type DiscoverOptions,
  type ListServicesOptions,
  type ConnectByServiceOptions,
} from "./registry/discovery.js";
export type { Registrar, ServiceAddress } from "./registry/registrar.js";
