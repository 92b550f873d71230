// Servers (rpyc/utils/server.py). Node serves every connection on one event loop, so
// "Threaded" names the behaviour RPyC users know (many clients at once), not threads.
// Every server has start(), resolving once listening, and close(), resolving once every
// socket is closed and every on_disconnect has run.

import { createServer, type Server as NetServer, type Socket } from "node:net";
import type { Logger, ProtocolConfig } from "./config.js";
import type { DispatchTable } from "./dispatch.js";
import { Connection } from "./protocol.js";
import { AutoRegistration } from "./registry/auto-registration.js";
import { REREGISTER_INTERVAL, type Registrar } from "./registry/registrar.js";
import { UDPRegistryClient } from "./registry/udp-client.js";
import { instantiateService, serviceClassOf, serviceAliases, type ServiceSpec } from "./service.js";
import { SocketStream } from "./stream.js";

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
}

export class Server {
  /** Live connections. */
  readonly connections = new Set<Connection>();
  protected readonly listener: NetServer;
  private readonly options: ServerOptions;
  private started = false;
  private closing: Promise<void> | undefined;
  private registration: AutoRegistration | undefined;

  constructor(
    readonly service: ServiceSpec,
    options: ServerOptions = {},
  ) {
    if (options.socketPath !== undefined && (options.hostname !== undefined || options.port !== undefined)) {
      throw new TypeError("socketPath excludes hostname and port");
    }
    this.options = options;
    this.listener = createServer((socket) => void this.accept(socket));
    this.listener.on("error", (err) => this.options.logger?.error(`listener error: ${err.message}`));
  }

  /** Names the service registers under (ALIASES, or the class name minus "Service"). */
  get aliases(): string[] {
    return serviceAliases(serviceClassOf(this.service));
  }

  /** Starts listening; resolves once the socket is bound. */
  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    await new Promise<void>((resolve, reject) => {
      this.listener.once("error", reject);
      const done = (): void => {
        this.listener.off("error", reject);
        resolve();
      };
      const backlog = this.options.backlog ?? 511;
      if (this.options.socketPath !== undefined) this.listener.listen({ path: this.options.socketPath, backlog }, done);
      else {
        const host = this.options.hostname ?? (this.options.ipv6 ? "::" : undefined);
        this.listener.listen({ port: this.options.port ?? 0, backlog, ...(host === undefined ? {} : { host }) }, done);
      }
    });
    this.options.logger?.info(`server started on ${this.address}`);
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

  protected async accept(socket: Socket): Promise<void> {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const stream = new SocketStream(socket);
    const config: Partial<ProtocolConfig> = { ...this.options.protocolConfig };
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

  /** Hook for subclasses: a connection finished. */
  protected connectionClosed(_conn: Connection): void {}

  /** Stops listening, closes every connection; resolves when all is closed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // RPyC unregisters first, so clients stop being sent here while we shut down.
      await this.registration?.stop();
      const stopped = new Promise<void>((resolve) => {
        if (!this.listener.listening) resolve();
        else this.listener.close(() => resolve());
      });
      await Promise.all([...this.connections].map((conn) => conn.close()));
      await stopped;
      this.options.logger?.info("server closed");
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
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

  protected override async accept(socket: Socket): Promise<void> {
    // Stop accepting at once: a second client must not be served.
    if (this.listener.listening) this.listener.close();
    if (this.connections.size > 0) {
      socket.destroy();
      return;
    }
    await super.accept(socket);
  }

  protected override connectionClosed(): void {
    void this.close().then(() => this.finish());
  }

  /** Resolves once the one connection has been served and the server closed. */
  whenDone(): Promise<void> {
    return this.finished;
  }

  override async close(): Promise<void> {
    await super.close();
    this.finish();
  }
}
