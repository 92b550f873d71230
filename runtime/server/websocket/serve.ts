// The server half of RPyC over WebSocket (ServerOptions.websocket; docs/protocol.md §12.4).
// The server's listener is then an HTTP server (HTTPS with `tls`), and WebSocketGate sorts
// what arrives: an upgrade request to `path` whose Origin is allowed goes to the server's
// accept (maxConnections, the authenticator, events, stats, close: the TCP path), which
// completes the handshake into a WebSocketStream; every other request is answered and
// closed (404 for another path, 403 for a refused Origin, 426 for plain HTTP at the path,
// 400 for a malformed handshake). `ws` is loaded by start(), not before.

import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type * as Ws from "ws";
import type { Stream } from "../../wire/stream.js";
import { endpointsOf, FRAME_OVERHEAD, loadWs, WebSocketStream, wsPort } from "../../wire/websocket-stream.js";
import { withoutRenegotiation, type TlsServerOptions } from "../tls.js";

/** ServerOptions.websocket: serve RPyC over WebSocket instead of raw TCP. */
export interface WebSocketServerOptions {
  /**
   * The path clients upgrade at, e.g. "/rpyc" (the query string is not compared, so a browser
   * may carry a token there for the authenticator). A request to another path gets HTTP 404.
   * Default: "/".
   */
  path?: string;
  /**
   * The Origin header values allowed, e.g. `["https://app.example.com"]` (compared without
   * regard to case): an upgrade from a browser page of another origin gets HTTP 403. A request
   * without an Origin header (not from a browser; such a client could send any) passes.
   * Default: every origin.
   */
  origins?: readonly string[];
  /**
   * Clients send a token as their first message, a text message of at most 4 KiB, before
   * any RPyC frame (connectWebSocket's `token`); the authenticator gets it as `upgrade.token`
   * and runs once it has arrived. For pages, whose WebSocket cannot carry headers: the token
   * stays out of the URL (and so out of logs) and out of cookies. A client that sends
   * anything else first is refused. Default: false.
   */
  tokenMessage?: boolean;
}

/** Largest token a client may send as its first message (websocket.tokenMessage). */
export const MAX_TOKEN_BYTES = 4096;

/** What an authenticator of a WebSocket server gets beside the socket (ServerOptions.authenticator). */
export interface WebSocketUpgrade {
  /**
   * The HTTP request asking for the upgrade: `headers` (`cookie`, `authorization`, `origin`,
   * ...) and `url` (path and query). The handshake is not answered yet.
   */
  readonly request: IncomingMessage;
  /** With websocket.tokenMessage: the token the client sent as its first message. */
  readonly token?: string;
}

/** An upgrade request that passed the path and Origin checks, waiting for the server's verdict. */
export interface PendingUpgrade extends WebSocketUpgrade {
  /**
   * Completes the handshake: the stream, or null when the client left or its handshake was
   * malformed (answered 400). With websocket.tokenMessage, resolves once the token arrived
   * (then in `token`); null, the socket closed, when something else came first or nothing
   * came within `tokenTimeout` seconds.
   */
  complete(tokenTimeout?: number): Promise<Stream | null>;
  /** The token, once complete() read it (websocket.tokenMessage). */
  token?: string;
  /** Answers the request with an HTTP error status and closes the socket. */
  refuse(status: number): void;
}

export interface WebSocketGateHooks {
  /** The server's accept: an upgrade request to serve or refuse. */
  accept(socket: Socket, upgrade: PendingUpgrade): void;
  /** A refused request worth a warning (a refused Origin). */
  refused(message: string): void;
  /** A connection's peer broke the mapping (text message, ...); it is being closed. */
  violation(peer: string, err: Error): void;
  /** The connections' maxFrameSize: messages over it plus FRAME_OVERHEAD are refused by `ws`. */
  readonly maxFrameSize: number;
}

/** The listener of a WebSocket server: HTTP, or HTTPS with `tls` (renegotiation refused, as for TCP). */
export function createWebSocketListener(tls: TlsServerOptions | undefined): HttpServer | HttpsServer {
  return tls ? createHttpsServer(withoutRenegotiation(tls)) : createHttpServer();
}

/** Sorts a WebSocket server's requests; see the module comment. */
export class WebSocketGate {
  private readonly path: string;
  private readonly origins: ReadonlySet<string> | undefined;
  private readonly tokenMessage: boolean;
  private wss: Ws.WebSocketServer | undefined;
  /** Handshakes being completed, to settle when ws finds one malformed. */
  private readonly completing = new Map<IncomingMessage, (stream: Stream | null) => void>();

  constructor(
    private readonly listener: HttpServer | HttpsServer,
    options: WebSocketServerOptions,
    private readonly hooks: WebSocketGateHooks,
  ) {
    const path = options.path ?? "/";
    if (!path.startsWith("/")) throw new TypeError(`websocket.path must start with "/", got ${JSON.stringify(path)}`);
    this.path = path;
    this.origins = options.origins && new Set(options.origins.map((origin) => origin.toLowerCase()));
    this.tokenMessage = options.tokenMessage ?? false;
    // https.Server emits the same "upgrade" and "request" events.
    const http = listener as HttpServer;
    http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
    http.on("request", (request: IncomingMessage, response: ServerResponse) => this.plainRequest(request, response));
  }

  /** Loads `ws` (start() calls it before listening): rejects naming the package when it is missing. */
  async load(): Promise<void> {
    if (this.wss) return;
    const { WebSocketServer } = await loadWs("a WebSocket server (ServerOptions.websocket)");
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false, // the server tracks its connections
      perMessageDeflate: false, // frames are compressed by RPyC's own rule
      maxPayload: this.hooks.maxFrameSize + FRAME_OVERHEAD,
    });
    // A malformed handshake (no key, another version, ...): answer it ourselves, so the
    // request waiting in complete() is settled.
    wss.on("wsClientError", (err, socket, request) => {
      answer(socket, 400, err.message);
      this.completing.get(request)?.(null);
    });
    this.wss = wss;
  }

  /** Closes the sockets left on the HTTP side (keep-alive, requests in flight). */
  closeIdle(): void {
    (this.listener as HttpServer).closeAllConnections();
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // node's HTTP server no longer listens on an upgraded socket: an "error" must not crash us.
    socket.on("error", ignore);
    if (pathOf(request.url) !== this.path) return answer(socket, 404);
    const origin = request.headers.origin;
    if (this.origins && origin !== undefined && !this.origins.has(origin.toLowerCase())) {
      this.hooks.refused(`refused a WebSocket upgrade from ${peerOf(request)}: Origin ${JSON.stringify(origin)} is not in websocket.origins`);
      return answer(socket, 403);
    }
    const pending: PendingUpgrade = {
      request,
      complete: (tokenTimeout) => this.complete(request, socket, head, pending, tokenTimeout),
      refuse: (status) => answer(socket, status),
    };
    this.hooks.accept(request.socket, pending);
  }

  private complete(request: IncomingMessage, socket: Duplex, head: Buffer, pending: PendingUpgrade, tokenTimeout = 10): Promise<Stream | null> {
    const wss = this.wss;
    if (!wss || !socket.writable) {
      socket.destroy();
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      let settled = false;
      const settle = (stream: Stream | null): void => {
        settled = true;
        socket.off("close", gone);
        this.completing.delete(request);
        resolve(stream);
      };
      const gone = (): void => settle(null);
      socket.once("close", gone);
      this.completing.set(request, settle);
      wss.handleUpgrade(request, socket, head, (ws) => {
        if (settled) return ws.terminate();
        const peer = peerOf(request);
        const serve = (): void => settle(streamOf(ws, socket, this.hooks, peer, endpointsOf(request.socket)));
        if (!this.tokenMessage) return serve();
        // The token first: read before the stream exists, so RPyC never sees it.
        const refuse = (why: string): void => {
          clearTimeout(timer);
          this.hooks.refused(`refused a WebSocket client ${peer}: ${why} (websocket.tokenMessage)`);
          ws.close(1008, "expected a token first");
          settle(null);
        };
        const timer = setTimeout(() => refuse(`no token within ${tokenTimeout} s`), tokenTimeout * 1000);
        ws.once("message", (data, binary) => {
          const bytes = data as Buffer;
          if (binary) return refuse("its first message was binary, not the token");
          if (bytes.length > MAX_TOKEN_BYTES) return refuse(`a token of ${bytes.length} bytes (at most ${MAX_TOKEN_BYTES})`);
          clearTimeout(timer);
          pending.token = bytes.toString("utf8");
          serve();
        });
      });
    });
  }

  /** A plain HTTP request: 426 at the path (only upgrades are served), 404 elsewhere. */
  private plainRequest(request: IncomingMessage, response: ServerResponse): void {
    const status = pathOf(request.url) === this.path ? 426 : 404;
    const body = `${status} ${STATUS_CODES[status]}${status === 426 ? ": RPyC over WebSocket" : ""}\n`;
    response.writeHead(status, { Connection: "close", "Content-Type": "text/plain", ...(status === 426 ? { Upgrade: "websocket" } : {}) });
    response.end(body);
  }
}

/** Answers an upgrade request with an HTTP error and closes the socket once it is sent. */
function answer(socket: Duplex, status: number, detail?: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${status} ${STATUS_CODES[status] ?? ""}${detail === undefined ? "" : `: ${detail}`}\n`;
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The path of a request target ("/rpyc?token=x" -> "/rpyc"). */
function pathOf(url: string | undefined): string {
  const target = url ?? "/";
  const query = target.indexOf("?");
  return query < 0 ? target : target.slice(0, query);
}

function peerOf(request: IncomingMessage): string {
  return endpointsOf(request.socket)?.[1] ?? "a client";
}

/** The upgraded socket's "error" listener: module-level, so it keeps no request (or `head`) alive. */
function ignore(): void {}

/**
 * A connection's stream, built outside complete(): its onViolation closure lives as long as the
 * connection and must not hold complete()'s scope (the request, its headers, `head`).
 */
function streamOf(ws: Ws.WebSocket, socket: Duplex, hooks: WebSocketGateHooks, peer: string, endpoints: readonly [string, string] | null): WebSocketStream {
  return new WebSocketStream(wsPort(ws, socket), { endpoints, maxFrameSize: hooks.maxFrameSize, onViolation: (err) => hooks.violation(peer, err) });
}
