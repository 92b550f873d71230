// The client half of RPyC over WebSocket (docs/protocol.md §12.4): connectWebSocket opens a
// WebSocket and runs an RPyC connection over it, each frame one binary message. It uses the
// platform's WebSocket where there is one (browsers, Node 22+), else `ws` (Node 20: an
// optional peer dependency, loaded on first use), and `ws` always for Node-only options
// (headers, tls). Failures are ConnectError (the URL, the cause, what to check), or
// AuthenticationError for a refused authenticator (HTTP 401) or a failed TLS handshake.

import type { Socket } from "node:net";
import type * as Ws from "ws";
import { DEFAULT_CONFIG } from "../../connection/config.js";
import type { Connection } from "../../connection/connection.js";
import { AuthenticationError, ConnectError } from "../../errors/rpyc-errors.js";
import type { Stream } from "../../wire/stream.js";
import {
  describeClose,
  endpointsOf,
  FRAME_OVERHEAD,
  loadWs,
  platformPort,
  WebSocketStream,
  wsPort,
  type PlatformWebSocket,
} from "../../wire/websocket-stream.js";
import { connectStream, timeoutError, type ConnectOptions } from "../connect.js";
import type { TlsClientOptions } from "../tls.js";

/** connectWebSocket's options: connect's (service, config, schemas, timeout), and two for Node. */
export interface WebSocketConnectOptions extends Omit<ConnectOptions, "ipv6" | "keepalive"> {
  /**
   * Node only (uses `ws`): headers of the upgrade request, e.g. `{ Cookie: "session=..." }`,
   * `{ Authorization: "Bearer ..." }` or `{ Origin: "https://app.example.com" }`, for the
   * server's authenticator and Origin check. A browser sends its own cookies and Origin and
   * cannot add headers (carry a token in the URL's query instead).
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * Node only (uses `ws`): TLS options for a wss: URL, as tlsConnect's (`ca` to trust a
   * private CA or a self-signed certificate, `cert` and `key` for a client certificate, ...).
   */
  tls?: TlsClientOptions;
  /**
   * Sent as the first message, text, before any RPyC frame, for a server with
   * `websocket.tokenMessage` (its authenticator gets it as `upgrade.token`). Browsers too:
   * the token stays out of the URL and out of cookies. At most 4 KiB.
   */
  token?: string;
}

/** The platform's WebSocket class, where there is one. */
type PlatformWebSocketClass = new (url: string) => PlatformWebSocket;

/**
 * Connects to an RPyC server over WebSocket (a ThreadedServer with `websocket`, or anything
 * that carries one RPyC frame per binary message): `url` is `ws://host:port/path` or
 * `wss://...`. Resolves once the connection is open (as `connect`); `timeout` (seconds,
 * default 3) bounds the whole handshake. Rejects with ConnectError naming the URL (refused,
 * no answer, HTTP 404 for a wrong path, 403 for a refused Origin, ...), with
 * AuthenticationError when the server's authenticator refused (HTTP 401) or the TLS
 * handshake failed. A browser does not say why a handshake failed: its ConnectError cannot.
 */
export async function connectWebSocket<T = unknown>(url: string | URL, options: WebSocketConnectOptions = {}): Promise<Connection<T>> {
  const target = new URL(url);
  if (target.protocol !== "ws:" && target.protocol !== "wss:") throw new TypeError(`connectWebSocket needs a ws: or wss: URL, got ${target.href}`);
  const limits = {
    href: target.href,
    seconds: options.timeout ?? 3,
    maxFrameSize: options.config?.maxFrameSize ?? DEFAULT_CONFIG.maxFrameSize,
    ...(options.token === undefined ? {} : { token: options.token }),
  };
  const Platform = (globalThis as { WebSocket?: PlatformWebSocketClass }).WebSocket;
  const stream =
    Platform !== undefined && options.headers === undefined && options.tls === undefined ? await openPlatform(Platform, limits) : await openWs(options, limits);
  return connectStream<T>(stream, options);
}

interface Opening {
  readonly href: string;
  readonly seconds: number;
  readonly maxFrameSize: number;
  /** Sent as the first message (WebSocketConnectOptions.token). */
  readonly token?: string;
}

function timedOut({ href, seconds }: Opening): ConnectError {
  return new ConnectError(href, timeoutError(href, seconds), `no answer within ${seconds} s`);
}

async function openWs(options: WebSocketConnectOptions, opening: Opening): Promise<Stream> {
  const { WebSocket } = await loadWs("connectWebSocket (where the platform has no WebSocket, or with headers or tls)");
  const { href, seconds, maxFrameSize } = opening;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(href, {
      ...(options.tls as Ws.ClientOptions | undefined),
      ...(options.headers === undefined ? {} : { headers: { ...options.headers } }),
      perMessageDeflate: false, // frames are compressed by RPyC's own rule
      maxPayload: maxFrameSize + FRAME_OVERHEAD,
      followRedirects: false,
    });
    let settled = false;
    let endpoints: readonly [string, string] | null = null;
    let socket: Socket | undefined;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.on("error", () => {}); // terminate() reports the abort as an error
      ws.terminate();
      reject(err);
    };
    const timer = setTimeout(() => fail(timedOut(opening)), seconds * 1000);
    ws.once("upgrade", (response) => {
      endpoints = endpointsOf(response.socket);
      socket = response.socket;
    });
    ws.once("unexpected-response", (_request, response) => {
      response.resume();
      fail(refusedWith(href, response.statusCode ?? 0, response.statusMessage ?? ""));
    });
    ws.on("error", (err) => fail(failedWith(href, err)));
    ws.once("open", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (opening.token !== undefined) ws.send(opening.token);
      resolve(new WebSocketStream(wsPort(ws, socket), { endpoints, maxFrameSize }));
    });
  });
}

function openPlatform(Platform: PlatformWebSocketClass, opening: Opening): Promise<Stream> {
  const { href, seconds, maxFrameSize } = opening;
  return new Promise((resolve, reject) => {
    let ws: PlatformWebSocket;
    try {
      ws = new Platform(href);
    } catch (err) {
      reject(new ConnectError(href, err));
      return;
    }
    let settled = false;
    let detail: string | undefined;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      ws.close();
      reject(timedOut(opening));
    }, seconds * 1000);
    ws.addEventListener("error", (event) => {
      detail ??= event.message;
    });
    ws.addEventListener("close", ({ code = 1006, reason = "" }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const cause = new Error(detail ?? `the WebSocket closed before it opened: ${describeClose(code, reason)}`);
      reject(new ConnectError(href, cause, `${cause.message} (refused, a wrong path or Origin, or the authenticator?)`));
    });
    ws.addEventListener("open", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (opening.token !== undefined) ws.send(opening.token);
      resolve(new WebSocketStream(platformPort(ws), { endpoints: null, maxFrameSize }));
    });
  });
}

const STATUS_HINTS: Readonly<Record<number, string>> = {
  400: "the server found the handshake malformed",
  403: "is this Origin in the server's websocket.origins?",
  404: "is the path right?",
  503: "the server is closing or serves one client only",
};

/** The server answered the upgrade with an HTTP status instead of 101. */
function refusedWith(href: string, status: number, message: string): Error {
  if (status === 401) return new AuthenticationError(`the WebSocket server at ${href} refused this client: HTTP 401 ${message} (its authenticator said no)`);
  const cause = Object.assign(new Error(`Unexpected server response: ${status}`), { statusCode: status });
  const hint = STATUS_HINTS[status];
  return new ConnectError(href, cause, `the server answered HTTP ${status} ${message}${hint === undefined ? "" : `: ${hint}`}`);
}

/** TLS errors that mean a certificate was not accepted (node's and OpenSSL's codes). */
const TLS_CODE = /CERT|UNABLE_TO_|^ERR_TLS_|^ERR_SSL_/;

function failedWith(href: string, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && TLS_CODE.test(code)) {
    return new AuthenticationError(`TLS handshake with ${href} failed: ${err.message} (${code})`, { cause: err });
  }
  return new ConnectError(href, err);
}
