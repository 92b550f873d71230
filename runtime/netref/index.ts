// Netrefs: local stand-ins for the peer's objects. netref.ts makes the Proxy; state.ts is
// what a netref is made of (its state, its owner, call options); calls.ts turns attribute
// reads and calls into requests; brand.ts tells netrefs apart; path-ref.ts the awaitable,
// callable attribute paths; pipeline.ts and answer.ts promise pipelining (use a result
// before it arrives); ops.ts the explicit operations (setattr, dir, len, release, ...); id-pack.ts the
// ids objects travel under; object-table.ts our objects the peer holds; types.ts and
// remote-python.ts the static types (Remote<T>, Python's containers) that make them typed.

export { withOptions } from "./netref.js";
export { kwargs, Kwargs } from "./calls.js";
export { isNetref } from "./brand.js";
export type { CallOptions, RequestOptions } from "./state.js";
export { getattr, setattr, delattr, dir, repr, str, hash, compare, len, getitem, setitem, toArray, isinstance, release, idPackOf } from "./ops.js";
export type {
  Remote,
  CompiledRemote,
  CompiledValue,
  PlainDataNeedsTheGeneratedClient,
  RemoteValue,
  RemoteAttribute,
  RemoteFunction,
  RemoteMethod,
  RemoteResult,
  PipelineOf,
  RemoteArgs,
  RootType,
  DynamicNetref,
  DynamicRoot,
  DynamicAttribute,
  NetrefBase,
  ServiceShape,
} from "./types.js";
export type { RemoteList, RemoteDict, RemoteTypedDict, RemoteData, RemoteSet, RemoteInstance, KeywordArguments, KeywordCall } from "./remote-python.js";
