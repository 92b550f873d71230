// The runtime half of rpyc-gen. schema.ts: wire schemas of compiled services, and the
// encoding, decoding and checking of values by their declared types; dispatch.ts: dispatch
// tables, the exact whitelist a compiled server answers; native.ts, native-frame.ts and
// wire-types.ts: the protobuf codec between two rpyc-ts peers; negotiation.ts: how two
// peers agree on it when a connection opens. Generated code reaches these through
// runtime/internal.ts.

export {
  SchemaError,
  isSchemaError,
  type ServiceSchema,
  type WireType,
  type WireDecl,
  type WireField,
  type WireParam,
  type MethodSchema,
  type AttributeSchema,
} from "./schema.js";
export type { DispatchTable, MethodInvoker, AttributeReader } from "./dispatch.js";
