// Servers and the ways to connect. server.ts: ThreadedServer (every connection served
// concurrently on the event loop) and OneShotServer, with limits, authenticators,
// registration and graceful close; connect.ts: connect, tlsConnect, unixConnect and
// connectStream; tls.ts: TLS options and authenticators (tlsAuthenticator); websocket/:
// RPyC over WebSocket (ServerOptions.websocket, connectWebSocket).

export { connect, connectStream, unixConnect, tlsConnect, type ConnectOptions, type TlsConnectOptions } from "./connect.js";
export { ThreadedServer, OneShotServer, type Server, type ServerOptions } from "./server.js";
export { connectWebSocket, type WebSocketConnectOptions } from "./websocket/connect.js";
export type { WebSocketServerOptions, WebSocketUpgrade } from "./websocket/serve.js";
export {
  tlsAuthenticator,
  peerCertificate,
  readBytes,
  type Authenticator,
  type PeerCertificateInfo,
  type TlsAuthenticatorOptions,
  type TlsClientOptions,
  type TlsServerOptions,
} from "./tls.js";
