// The public API of rpyc-ts. Nothing else is exported; generated code uses this too.

export { connect, connectStream, unixConnect, type ConnectOptions } from "./factory.js";
export { Server, ThreadedServer, OneShotServer, type ServerOptions } from "./server.js";
export { Connection, type ConnectionHooks } from "./protocol.js";
export { Service, VoidService, classpartial, serviceAliases, type ServiceFactory, type ServiceSpec } from "./service.js";
export { DEFAULT_CONFIG, SAFE_ATTRS, type ProtocolConfig, type Logger, type ExceptionClass } from "./config.js";
export { kwargs, Kwargs, isNetref } from "./netref.js";
export {
  getattr,
  setattr,
  delattr,
  dir,
  repr,
  str,
  hash,
  compare,
  len,
  getitem,
  setitem,
  isinstance,
  release,
  idPackOf,
} from "./netref-ops.js";
export {
  PythonException,
  AttributeError,
  KeyError,
  IndexError,
  ValueError,
  NotImplementedError,
  RuntimeError,
  ZeroDivisionError,
  StopIteration,
  isRemoteException,
} from "./exceptions.js";
export {
  RpycError,
  ProtocolError,
  FrameTooLargeError,
  ConnectionClosedError,
  AsyncResultTimeout,
  NetrefReleasedError,
  PingError,
  isRpycError,
  isProtocolError,
  isConnectionClosedError,
  isTimeoutError,
  type RpycErrorCode,
} from "./errors.js";
export { Float, float, Complex, Slice, FrozenSet, NotImplemented, Ellipsis, type PyValue, type PyValueIn } from "./values.js";
export { dump, load, dumpable, DEFAULT_BRINE_LIMITS, type BrineLimits } from "./brine.js";
export { encodeFrame, FrameDecoder, COMPRESSION_THRESHOLD, DEFAULT_MAX_FRAME_SIZE } from "./channel.js";
export { SocketStream, type Stream, type StreamHandlers } from "./stream.js";
export { SchemaError, type ServiceSchema, type WireType } from "./schema.js";
export type { DispatchTable } from "./dispatch.js";
export type { Remote, RemoteValue, RemoteAttribute, RemoteFunction, RemoteMethod, RemoteArgs, RootType, DynamicNetref, DynamicAttribute, NetrefBase, ServiceShape } from "./types.js";
