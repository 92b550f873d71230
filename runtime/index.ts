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
export type { Remote, RemoteValue, RemoteAttribute, RemoteFunction, RemoteMethod, RemoteResult, PipelineOf, RemoteArgs, RootType, DynamicNetref, DynamicAttribute, NetrefBase, ServiceShape } from "./types.js";
export type { RemoteList, RemoteDict, RemoteTypedDict, RemoteSet, RemoteInstance, KeywordArguments, KeywordCall } from "./remote-python.js";

// registry and discovery
export { DiscoveryError, ForbiddenError, isDiscoveryError, isForbiddenError } from "./errors.js";
export { discover, listServices, connectByService, type DiscoverOptions, type ListServicesOptions, type ConnectByServiceOptions } from "./discovery.js";
export { REGISTRY_PORT, MAX_DGRAM_SIZE, DEFAULT_PRUNING_TIMEOUT, REREGISTER_INTERVAL, type Registrar, type ServiceAddress } from "./registry/registrar.js";
export { RegistryCore, DEFAULT_MAX_ENTRIES, type RegistryServerOptions } from "./registry/registry-core.js";
export { UDPRegistryServer, type UDPRegistryServerOptions } from "./registry/udp-server.js";
export { TCPRegistryServer, DEFAULT_TCP_IDLE_TIMEOUT, DEFAULT_TCP_MAX_CONNECTIONS, type TCPRegistryServerOptions } from "./registry/tcp-server.js";
export { UDPRegistryClient, DEFAULT_UDP_REGISTRY_IP, DEFAULT_REGISTRY_TIMEOUT, type UDPRegistryClientOptions } from "./registry/udp-client.js";
export { TCPRegistryClient, MAX_TCP_REPLY_SIZE, type TCPRegistryClientOptions } from "./registry/tcp-client.js";
export { REGISTRY_MAGIC, type RegistryCommand } from "./registry/messages.js";

// etcd registry
export { EtcdRegistryClient, DEFAULT_ETCD_PREFIX, DEFAULT_ETCD_TTL, type EtcdRegistryOptions, type EtcdRegistration, type EtcdServiceWatch } from "./registry/etcd.js";

// classic
export {
  ClassicService,
  connectClassic,
  installClassic,
  importModule,
  DEFAULT_CLASSIC_PORT,
  type ClassicConnection,
  type ClassicConnectOptions,
  type ModuleNamespace,
  type RemotePath,
  type RemoteObject,
  type ClassicRoot,
} from "./classic.js";

// limits, deadlines and observability
export { LimitExceededError, isLimitExceededError } from "./errors.js";
export { withOptions, type CallOptions } from "./netref.js";
export type { CloseOptions } from "./protocol.js";
export type {
  ConnectionStats,
  ConnectionEvents,
  ConnectionEventListener,
  RequestEvent,
  ReplyEvent,
  RequestErrorEvent,
  RequestErrorKind,
  RequestDirection,
  CloseEvent,
} from "./observe.js";

// TLS and authentication
export { AuthenticationError, isAuthenticationError } from "./errors.js";
export { tlsConnect, type TlsConnectOptions } from "./factory.js";
export {
  sslAuthenticator,
  peerCertificate,
  readBytes,
  type Authenticator,
  type PeerCertificateInfo,
  type SslAuthenticatorOptions,
  type TlsClientOptions,
  type TlsServerOptions,
} from "./tls.js";

// native codec between rpyc-ts peers (config `codec`; `conn.codec`, `conn.negotiated`)
export type { Codec } from "./protocol.js";
