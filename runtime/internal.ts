// The one entry point for code that rpyc-gen generates ("rpyc-ts/internal"). Unstable:
// generated code and this module change together; applications import "rpyc-ts".

export { defineDispatch, type DispatchTable, type MethodInvoker, type AttributeReader } from "./compiled/dispatch.js";
export {
  decodeValue,
  encodeValue,
  decodeArguments,
  encodeArguments,
  describeType,
  SchemaError,
  type WireType,
  type WireField,
  type WireParam,
  type WireDecl,
  type MethodSchema,
  type AttributeSchema,
  type ServiceSchema,
} from "./compiled/schema.js";
