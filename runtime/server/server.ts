// Servers (rpyc/utils/server.py). Node serves every connection on one event loop, so
// "Threaded" names the behaviour RPyC users know (many clients at once), not threads.
// Every server has start(), resolving once listening, and close(), resolving once every
// socket is closed and every on_disconnect has run. With `tls` the listener is a node
// tls.Server; an `authenticator` vets each socket before its connection exists (runtime/server/tls.ts).
// With `websocket` the listener is an HTTP(S) server and each connection a WebSocket
// (runtime/server/websocket/serve.ts), through the same accept as a TCP socket.

import { createServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { DEFAULT_CONFIG, type Logger, type ProtocolConfig } from "../connection/config.js";
import type { DispatchTable } from "../compiled/dispatch.js";
import { AuthenticationError, isAuthenticationError, ListenError } from "../errors/rpyc-errors.js";
import { Connection, type CloseOptions } from "../connection/connection.js";
import { AutoRegistration } from "../registry/auto-registration.js";
import { REREGISTER_INTERVAL, type Registrar } from "../registry/registrar.js";
import { UDPRegistryClient } from "../registry/udp-client.js";
import { instantiateService, serviceClassOf, serviceAliases, type ServiceSpec } from "../serve/service.js";
import { SocketStream, type Stream } from "../wire/stream.js";
import { withoutRenegotiation, type TlsServerOptions } from "./tls.js";
import { createWebSocketListener, WebSocketGate, type PendingUpgrade, type WebSocketServerOptions, type WebSocketUpgrade } from "./websocket/serve.js";

export interface ServerOptions {
  /** Interface to bind; omitted binds every interface, as RPyC does. Tests pass "127.0.0.1". */
  hostname?: string;
  /** TCP port; 0 (the default) picks a free one, readable as `server.port` after start(). */
  port?: number;
  /** Bind the IPv6 wildcard when no hostname is given. */
  ipv6?: boolean;
  /** Serve on a Unix domain socket instead of TCP. */
  socketPath?: string;
  backlog?: number;
  /** Per-connection config, merged over DEFAULT_CONFIG. */
  protocolConfig?: Partial<ProtocolConfig>;
  /** rpyc-gen dispatch tables: compiled services answer only their compiled members. */
  dispatch?: DispatchTable | readonly DispatchTable[];
  logger?: Logger;
  /**
   * Registry client the server announces itself with. Default (used only when
   * `autoRegister` is true): a UDPRegistryClient, i.e. RPyC's broadcast to port 18811
   * (RPYC_REGISTRY_HOST / RPYC_REGISTRY_PORT override it).
   */
  registrar?: Registrar;
  /**
   * Register the service's aliases and port after start(), renew every
   * `reregisterInterval` seconds, unregister on close(). Default: true iff a registrar is
   * given (RPyC's rule).
   */
  autoRegister?: boolean;
  /**
   * Seconds between re-registrations (RPyC's REREGISTER_INTERVAL, 60). A failed attempt is
   * retried after min(1, reregisterInterval) seconds.
   */
  reregisterInterval?: number;
  /**
   * Serve over TLS: node's tls options (key, cert, ca, requestCert, rejectUnauthorized, ...).
   * A failed handshake is logged (warn; without a `logger`, one line on stderr) and never
   * reaches the service. Not with socketPath. With `websocket`: wss (an HTTPS listener).
   */
  tls?: TlsServerOptions;
  /**
   * Serve RPyC over WebSocket on this port instead of raw TCP: each RPyC frame is one binary
   * message (docs/protocol.md §12.4), the handshake an HTTP upgrade at `websocket.path`; `wss`
   * when `tls` is given. Connections go through the same limits, `maxConnections`,
   * authenticator, events, stats and close as TCP ones. Requests to another path get HTTP
   * 404, from an Origin not in `websocket.origins` 403, a refused authenticator 401. Needs the
   * `ws` package (an optional peer dependency: npm install ws), loaded by start().
   */
  websocket?: WebSocketServerOptions;
  /**
   * RPyC's authenticator: runs on each accepted socket (after the TLS handshake) before any
   * byte is read as RPyC. Its return value becomes the connection's `config.credentials`;
   * if it throws (AuthenticationError, or anything else) the socket is closed, the refusal
   * logged (without a `logger`, one line on stderr), and the service is never instantiated
   * for it. Any Authenticator fits. See tlsAuthenticator, readBytes.
   *
   * On a `websocket` server it runs on the upgrade request, before the handshake is answered,
   * and gets `upgrade`, whose `request` (node's IncomingMessage) has the request's headers
   * (`request.headers.cookie`, `.authorization`, `.origin`) and `url` (path and query); the
   * socket is the TCP (or TLS, so tlsAuthenticator works) socket under it, which it must not
   * read. A refusal is answered HTTP 401. On a TCP server `upgrade` is undefined.
   */
  authenticator?: (socket: Socket, upgrade: WebSocketUpgrade | undefined) => unknown;
  /** Seconds the authenticator may take before the socket is refused. Default: 10. */
  authenticationTimeout?: number;
  /**
   * Most sockets served at once (counting those still in the TLS handshake or the
   * authenticator). One more is closed as soon as it is accepted, before a byte is read, and
   * a warning is logged; its client sees the connection closed (a TLS client: its handshake
   * fails; a TCP client: its first request fails with ConnectionClosedError). A slot frees
   * when a socket closes. Default: unlimited (RPyC has no such limit).
   */
  maxConnections?: number;
}

/** What ThreadedServer and OneShotServer share (RPyC's Server base class); exported as a type only: serve with ThreadedServer or OneShotServer. */
export class Server {
  /** Live connections. */
  readonly connections = new Set<Connection>();
  protected readonly listener: NetServer;
  private readonly options: ServerOptions;
  private started = false;
  private closing: Promise<void> | undefined;
  private registration: AutoRegistration | undefined;
  /** Sockets still in the authenticator: close() must not wait for their verdict. */
  private readonly authenticating = new Set<Socket>();
  /** The WebSocket side of a `websocket` server. */
  private readonly gate: WebSocketGate | undefined;

  constructor(
    readonly service: ServiceSpec,
    options: ServerOptions = {},
  ) {
    if (options.socketPath !== undefined && (options.hostname !== undefined || options.port !== undefined)) {
      throw new TypeError("socketPath excludes hostname and port");
    }
    if (options.socketPath !== undefined && options.tls !== undefined) throw new TypeError("tls needs a TCP server, not socketPath");
    if (options.socketPath !== undefined && options.websocket !== undefined) throw new TypeError("websocket needs a TCP server, not socketPath");
    const max = options.maxConnections;
    if (max !== undefined && !(Number.isInteger(max) && max > 0)) throw new RangeError(`maxConnections must be a positive integer, got ${max}`);
    this.options = options;
    const onSocket = (socket: Socket): void => void this.accept(socket);
    if (options.websocket) {
      const listener = createWebSocketListener(options.tls);
      this.gate = new WebSocketGate(listener, options.websocket, {
        accept: (socket, upgrade) => void this.accept(socket, upgrade),
        refused: (message) => this.refused("warn", message),
        violation: (peer, err) => this.options.logger?.warn(`closing the WebSocket of ${peer}: ${err.message}`),
        maxFrameSize: options.protocolConfig?.maxFrameSize ?? DEFAULT_CONFIG.maxFrameSize,
      });
      this.listener = listener;
    } else {
      this.listener = options.tls ? createTlsServer(withoutRenegotiation(options.tls), onSocket) : createServer(onSocket);
    }
    if (options.tls) {
      this.listener.on("tlsClientError", (err: Error, socket: Socket) => {
        // OpenSSL's messages span lines ("8090...:error:0A00009C:SSL routines:..."): its reason and code read better.
        const { reason, code } = err as Error & { reason?: unknown; code?: unknown };
        const cause = typeof reason === "string" && typeof code === "string" ? `${reason} (${code})` : err.message;
        this.refused("warn", `TLS handshake with ${peerOf(socket)} failed: ${cause}`);
      });
    }
    if (max !== undefined) {
      // node counts every open socket and closes the one past the limit at once ("drop").
      this.listener.maxConnections = max;
      this.listener.on("drop", (data) => {
        const peer = data?.remoteAddress === undefined ? "a client" : `${data.remoteAddress}:${data.remotePort ?? ""}`;
        this.options.logger?.warn(`maxConnections (${max}) reached: refused ${peer}`);
      });
    }
  }

  /**
   * Logs a refused client (a failed TLS handshake, an authenticator's refusal): to the
   * logger if there is one, else as one line on stderr, so refusals are never silent.
   */
  private refused(level: "warn" | "error", message: string): void {
    const logger = this.options.logger;
    if (logger) logger[level](message);
    else process.stderr.write(`rpyc-ts server: ${message.replace(/\s*\n\s*/g, " ").trim()}\n`);
  }

  /** Names the service registers under (ALIASES, or the class name minus "Service"). */
  get aliases(): string[] {
    return serviceAliases(serviceClassOf(this.service));
  }

  /**
   * Starts listening; resolves once the socket is bound. Rejects with ListenError (the port
   * is in use, ...) naming the address and what to do; start() may then be called again.
   */
  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    try {
      await this.gate?.load();
    } catch (err) {
      this.started = false;
      throw err;
    }
    const { socketPath, port = 0 } = this.options;
    const host = this.options.hostname ?? (this.options.ipv6 ? "::" : undefined);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.started = false;
        const address = socketPath ?? (host === undefined ? `port ${port}` : `${host.includes(":") ? `[${host}]` : host}:${port}`);
        reject(new ListenError(address, err, { socketPath: socketPath !== undefined }));
      };
      this.listener.once("error", onError);
      const done = (): void => {
        this.listener.off("error", onError);
        // Errors after listening (rare: e.g. EMFILE on accept) are logged, never thrown.
        this.listener.on("error", (err) => this.options.logger?.error(`listener error: ${err.message}`));
        resolve();
      };
      const backlog = this.options.backlog ?? 511;
      if (socketPath !== undefined) this.listener.listen({ path: socketPath, backlog }, done);
      else this.listener.listen({ port, backlog, ...(host === undefined ? {} : { host }) }, done);
    });
    const path = this.options.websocket ? ` (WebSocket at ${this.options.tls ? "wss" : "ws"}://${this.address}${this.options.websocket.path ?? "/"})` : "";
    this.options.logger?.info(`server started on ${this.address}${path}`);
    this.startRegistration();
    return this;
  }

  /** Starts the background registration loop when auto-registering (RPyC's _bg_register). */
  private startRegistration(): void {
    const { registrar, logger } = this.options;
    if (!(this.options.autoRegister ?? registrar !== undefined)) return;
    if (this.options.socketPath !== undefined) {
      logger?.warn("autoRegister ignored: a Unix socket server has no TCP port to register");
      return;
    }
    const owned = registrar === undefined;
    this.registration = new AutoRegistration(
      registrar ?? new UDPRegistryClient(logger ? { logger } : {}),
      owned,
      // Taken once: a OneShotServer stops listening after its first client, yet stays registered until close().
      { aliases: this.aliases, port: this.port, host: this.host },
      this.options.reregisterInterval ?? REREGISTER_INTERVAL,
      logger,
    );
  }

  /**
   * Resolves true once the registrar confirmed this server's first registration; false when
   * the server does not auto-register or closed before a registration succeeded.
   */
  whenRegistered(): Promise<boolean> {
    return this.registration?.registered ?? Promise.resolve(false);
  }

  /** The bound TCP port (0 before start or for Unix sockets). */
  get port(): number {
    const address = this.listener.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /** The bound host (the interface address) or socket path. */
  get host(): string {
    const address = this.listener.address();
    if (typeof address === "string") return address;
    return address?.address ?? this.options.hostname ?? "";
  }

  get address(): string {
    return this.options.socketPath ?? `${this.host}:${this.port}`;
  }

  /** Serves a TCP socket, or a WebSocket once `upgrade` completes. @internal */
  protected async accept(socket: Socket, upgrade?: PendingUpgrade): Promise<void> {
    if (this.closing) {
      if (upgrade) upgrade.refuse(503);
      else socket.destroy();
      return;
    }
    const seconds = this.options.authenticationTimeout ?? 10;
    // With websocket.tokenMessage the handshake completes first: the token comes after it.
    let early: Stream | null | undefined;
    if (upgrade && this.options.websocket?.tokenMessage) {
      early = await upgrade.complete(seconds);
      if (!early) return;
    }
    let credentials: unknown = null;
    if (this.options.authenticator) {
      const verdict = await this.authenticate(socket, this.options.authenticator, upgrade, early ?? undefined);
      if (!verdict.ok) return;
      credentials = verdict.credentials;
    }
    let stream: Stream;
    if (upgrade) {
      const upgraded = early ?? (await upgrade.complete(seconds));
      if (!upgraded) return;
      if (this.closing) {
        upgraded.destroy();
        return;
      }
      stream = upgraded;
    } else {
      stream = new SocketStream(socket);
    }
    const config: Partial<ProtocolConfig> = { ...this.options.protocolConfig };
    if (this.options.authenticator) config.credentials = credentials;
    if (this.options.dispatch) config.dispatch = [...(config.dispatch ?? []), ...[this.options.dispatch].flat()];
    if (this.options.logger && config.logger === undefined) config.logger = this.options.logger;
    let conn: Connection;
    try {
      conn = new Connection(instantiateService(this.service), stream, config);
    } catch (err) {
      this.options.logger?.error(`cannot create a connection: ${(err as Error).message}`);
      stream.destroy();
      return;
    }
    this.connections.add(conn);
    void conn.whenClosed().then(() => {
      this.connections.delete(conn);
      this.connectionClosed(conn);
    });
    this.options.logger?.info(`accepted ${stream.endpoints?.[1] ?? "a client"} as ${conn.connid}`);
    try {
      await conn.open();
    } catch (err) {
      this.options.logger?.warn(`on_connect failed for ${conn.connid}: ${(err as Error).message}`);
      await conn.close();
    }
  }

  /**
   * Runs the authenticator on a socket nobody reads yet (RPyC's _authenticate_and_serve_client).
   * On refusal the socket is destroyed here (an upgrade request is answered 401 first);
   * nothing was read as RPyC.
   */
  private async authenticate(
    socket: Socket,
    authenticator: (socket: Socket, upgrade: WebSocketUpgrade | undefined) => unknown,
    upgrade: PendingUpgrade | undefined,
    /** The stream, when the handshake completed before the verdict (websocket.tokenMessage). */
    upgraded?: Stream,
  ): Promise<{ ok: true; credentials: unknown } | { ok: false }> {
    const logger = this.options.logger;
    const peer = peerOf(socket);
    // An unhandled socket "error" would crash the process; SocketStream takes over later.
    socket.on("error", () => {});
    this.authenticating.add(socket);
    const seconds = this.options.authenticationTimeout ?? 10;
    let timer: NodeJS.Timeout | undefined;
    let onClose: (() => void) | undefined;
    try {
      const credentials = await Promise.race([
        Promise.resolve().then(() =>
          authenticator(socket, upgrade && { request: upgrade.request, ...(upgrade.token === undefined ? {} : { token: upgrade.token }) }),
        ),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new AuthenticationError(`no verdict within ${seconds} s (authenticationTimeout)`)), seconds * 1000);
          onClose = () => reject(new AuthenticationError("the client closed during authentication"));
          socket.once("close", onClose);
        }),
      ]);
      if (this.closing) throw new AuthenticationError("the server is closing");
      logger?.info(`${peer} authenticated successfully`);
      return { ok: true, credentials };
    } catch (err) {
      if (isAuthenticationError(err)) this.refused("warn", `${peer} failed to authenticate, rejecting the connection: ${err.message}`);
      else this.refused("error", `authenticator failed for ${peer}, rejecting the connection: ${err instanceof Error ? err.message : String(err)}`);
      if (upgraded) upgraded.destroy();
      else if (upgrade) upgrade.refuse(401);
      else socket.destroy();
      return { ok: false };
    } finally {
      clearTimeout(timer);
      if (onClose) socket.off("close", onClose);
      this.authenticating.delete(socket);
    }
  }

  /** Hook for subclasses: a connection finished. */
  protected connectionClosed(_conn: Connection): void {}

  /**
   * Stops listening, closes every connection; resolves when all is closed. With `graceMs`
   * (see CloseOptions), every connection drains first: requests already received may finish
   * and reply for up to `graceMs` ms while new ones are refused. Default 0: close at once
   * (RPyC's behaviour). The first call's options apply.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      // RPyC unregisters first, so clients stop being sent here while we shut down.
      await this.registration?.stop();
      const stopped = new Promise<void>((resolve) => {
        if (!this.listener.listening) resolve();
        else this.listener.close(() => resolve());
      });
      for (const socket of this.authenticating) socket.destroy();
      await Promise.all([...this.connections].map((conn) => conn.close(options)));
      this.gate?.closeIdle();
      await stopped;
      this.options.logger?.info("server closed");
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function peerOf(socket: Socket): string {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress === undefined) return "a client";
  return remoteAddress.includes(":") ? `[${remoteAddress}]:${remotePort ?? ""}` : `${remoteAddress}:${remotePort ?? ""}`;
}

/** Serves many connections at once (RPyC's ThreadedServer). */
export class ThreadedServer extends Server {}

/** Serves exactly one connection, then closes (RPyC's OneShotServer). */
export class OneShotServer extends Server {
  private readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(service: ServiceSpec, options: ServerOptions = {}) {
    super(service, options);
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** @internal */
  protected override async accept(socket: Socket, upgrade?: PendingUpgrade): Promise<void> {
    // Stop accepting at once: a second client must not be served.
    if (this.listener.listening) this.listener.close();
    if (this.connections.size > 0) {
      if (upgrade) upgrade.refuse(503);
      else socket.destroy();
      return;
    }
    await super.accept(socket, upgrade);
    // Refused by the authenticator (or never built): RPyC's OneShotServer closes all the same.
    if (this.connections.size === 0) void this.close();
  }

  protected override connectionClosed(): void {
    void this.close().then(() => this.finish());
  }

  /** Resolves once the one connection has been served and the server closed. */
  whenDone(): Promise<void> {
    return this.finished;
  }

  override async close(options: CloseOptions = {}): Promise<void> {
    await super.close(options);
    this.finish();
  }
}
