// Netrefs: local stand-ins for the peer's objects. netref.ts makes the Proxy (attribute
// reads and calls become requests, with per-call options); path-ref.ts the awaitable,
// callable attribute paths; pipeline.ts promise pipelining (use a result before it
// arrives); ops.ts the explicit operations (setattr, dir, len, release, ...); id-pack.ts the
// ids objects travel under; object-table.ts our objects the peer holds; types.ts and
// remote-python.ts the static types (Remote<T>, Python's containers) that make them typed.

export { kwargs, Kwargs, isNetref, withOptions, type CallOptions } from "./netref.js";
export { getattr, setattr, delattr, dir, repr, str, hash, compare, len, getitem, setitem, isinstance, release, idPackOf } from "./ops.js";
export type { Remote, RemoteValue, RemoteAttribute, RemoteFunction, RemoteMethod, RemoteResult, PipelineOf, RemoteArgs, RootType, DynamicNetref, DynamicAttribute, NetrefBase, ServiceShape } from "./types.js";
export type { RemoteList, RemoteDict, RemoteTypedDict, RemoteSet, RemoteInstance, KeywordArguments, KeywordCall } from "./remote-python.js";
