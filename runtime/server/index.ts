// Servers and the ways to connect. server.ts: ThreadedServer (every connection served
// concurrently on the event loop) and OneShotServer, with limits, authenticators,
// registration and graceful close; connect.ts: connect, tlsConnect, unixConnect and
// connectStream; tls.ts: TLS options and authenticators (sslAuthenticator).

export { connect, connectStream, unixConnect, tlsConnect, type ConnectOptions, type TlsConnectOptions } from "./connect.js";
export { Server, ThreadedServer, OneShotServer, type ServerOptions } from "./server.js";
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
