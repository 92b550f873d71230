// The browser build's stand-in for runtime/server/connect.ts (scripts/build-packages.ts
// swaps it in: that file imports node:net and node:tls) and for the registry's
// connectByService (UDP, TCP, DNS). connectStream, which connectWebSocket is built on, works
// as in Node; connect and connectByService are here for generated stubs, whose connectXxx and
// connectXxxByService call them: they reject, saying what to use instead.

import { Connection } from "../connection/connection.js";
import { ConnectError, DiscoveryError } from "../errors/rpyc-errors.js";
import type { ConnectByServiceOptions } from "../registry/discovery.js";
import { instantiateService, VoidService } from "../serve/service.js";
import type { ConnectOptions } from "../server/connect.js";
import type { Stream } from "../wire/stream.js";

const USE_WEBSOCKET = "use connectWebSocket(url) (or the generated stub's connectXxxWebSocket)";

/** Builds a connection over any Stream: server/connect.ts's connectStream, without that file's Node imports. */
export async function connectStream<T = unknown>(stream: Stream, options: ConnectOptions = {}): Promise<Connection<T>> {
  const config = options.schemas ? { ...options.config, schemas: [...(options.config?.schemas ?? []), ...options.schemas] } : options.config;
  const conn = new Connection<T>(instantiateService(options.service ?? VoidService), stream, config);
  return conn.open();
}

/** server/connect.ts's timeoutError (connectWebSocket's timeout names it): a connect timeout as a system error, code ETIMEDOUT. */
export function timeoutError(what: string, seconds: number): Error & { code: string } {
  return Object.assign(new Error(`connecting to ${what} timed out after ${seconds} s`), { code: "ETIMEDOUT" });
}

/**
 * Not in browsers: rejects with a ConnectError, as RPyC over TCP needs sockets a browser does
 * not give. Connect with connectWebSocket(url) to a server with `websocket` instead.
 */
export async function connect<T = unknown>(host: string, port: number, _options?: ConnectOptions): Promise<Connection<T>> {
  throw new ConnectError(`${host}:${port}`, new Error("no TCP sockets in a browser"), `connect() uses TCP, which browsers do not have: ${USE_WEBSOCKET}`);
}

/** Not in browsers: rejects with a DiscoveryError, as registries answer over UDP or TCP. */
export async function connectByService<T = unknown>(name: string, _options?: ConnectByServiceOptions): Promise<Connection<T>> {
  throw new DiscoveryError(`connectByService(${JSON.stringify(name)}) asks a registry over UDP or TCP, which browsers do not have: ${USE_WEBSOCKET}`);
}
