// A gateway between web pages and an RPyC server (Python or rpyc-ts): pages connect over
// WebSocket; each page gets its own TCP connection upstream, and reaches through it only what
// the model (rpyc-gen's model.json of the service) declares, with every argument checked
// against it before anything is forwarded (runtime/gateway/session.ts). The page-facing side
// is a ThreadedServer with `websocket`, so it has the server's limits, authenticator, Origin
// check, events and close; its dispatch tables are the whitelist.

import type { IncomingMessage } from "node:http";
import type { Connection } from "../connection/connection.js";
import type { Logger, ProtocolConfig } from "../connection/config.js";
import { RuntimeError } from "../errors/python-exceptions.js";
import { connect } from "../server/connect.js";
import { ThreadedServer } from "../server/server.js";
import type { TlsServerOptions } from "../server/tls.js";
import type { WebSocketUpgrade } from "../server/websocket/serve.js";
import { readGatewayModel, type GatewayModel } from "./model.js";
import { GatewaySession, GatewayTables, type ServiceGuard } from "./session.js";

export interface GatewayOptions {
  /** Interface pages connect to. Default "127.0.0.1": put a reverse proxy in front, or say where to listen. */
  hostname?: string;
  /** Port pages connect to; 0 (the default) picks a free one, readable as `gateway.port`. */
  port?: number;
  /** Path of the WebSocket upgrade. Default "/rpyc". */
  path?: string;
  /** Origins whose pages may connect (the Origin header, e.g. "https://app.example.com"). Default: every origin. */
  origins?: readonly string[];
  /** Serve wss (node's TLS server options). */
  tls?: TlsServerOptions;
  /** The RPyC server behind the gateway (plain TCP). */
  upstream: { readonly host: string; readonly port: number };
  /** The whitelist: rpyc-gen's model.json of the upstream's service (`rpyc-gen service.py --emit-model`), parsed. */
  model: unknown;
  /** Which of the model's services the upstream serves (className or one of its names); needed when the model has several. */
  service?: string;
  /**
   * Tells pages apart: gets the upgrade request (headers, `cookie`, `url` with its query
   * string) and, with `tokenMessage`, the token the page sent first; returns the page's
   * identity, or throws to refuse it (HTTP 401, or the WebSocket closed once a token was
   * read; logged). Each session's identity is in `gateway.sessions`.
   */
  authenticate?: (request: IncomingMessage, token: string | undefined) => unknown;
  /**
   * Pages send a token as their first message (`connectXxxWebSocket(url, { token })`), which
   * `authenticate` gets: a browser's WebSocket cannot carry headers, and a token in the URL
   * ends up in logs. Default: false (cookies or the query string).
   */
  tokenMessage?: boolean;
  /** Pages served at once. Default 1,000. */
  maxSessions?: number;
  /** Calls one page may have waiting for the upstream server. Default 64. */
  maxPendingCalls?: number;
  /** Objects (guards) one page may hold. Default 10,000. */
  maxObjects?: number;
  /** Functions and objects of a page the gateway may hold (callbacks). Default 1,000. */
  maxPageObjects?: number;
  /** Largest frame a page may send, in bytes. Default 1 MiB. */
  maxFrameSize?: number;
  logger?: Logger;
}

/** One page's session, as `gateway.sessions` lists it. */
export interface GatewaySessionInfo {
  /** What `authenticate` returned for the page, or null. */
  readonly identity: unknown;
  /** The page's address, "host:port". */
  readonly peer: string;
  /** Calls waiting for the upstream server. */
  readonly pendingCalls: number;
}

const DEFAULTS = { maxSessions: 1_000, maxPendingCalls: 64, maxObjects: 10_000, maxPageObjects: 1_000, maxFrameSize: 1024 * 1024 };

export class Gateway {
  readonly model: GatewayModel;
  readonly #options: GatewayOptions;
  readonly #server: ThreadedServer;
  readonly #sessions = new Map<Connection, { identity: unknown; peer: string; session: GatewaySession }>();

  constructor(options: GatewayOptions) {
    this.#options = options;
    if (options.tokenMessage && !options.authenticate) throw new TypeError("Gateway: tokenMessage needs authenticate, which checks the token");
    this.model = readGatewayModel(options.model);
    const tables = new GatewayTables(this.model);
    const rootClass = tables.serviceClass(this.#rootClassName())!;
    const limits = { maxPendingCalls: options.maxPendingCalls ?? DEFAULTS.maxPendingCalls };
    const logger = options.logger;
    const sessions = this.#sessions;
    const upstream = options.upstream;

    // Schemas of TypeScript services make plain data travel by value from an rpyc-ts upstream;
    // a Python one sends values as RPyC does, so it is spared the native-codec offer.
    const upstreamSchemas = this.model.services.filter((s) => s.schema.origin === undefined).map((s) => s.schema);
    // Each page's root: the upstream root's guard, which opens the page's upstream connection.
    class GatewayRoot extends rootClass {
      readonly #session: GatewaySession;
      readonly #upstream: Promise<Connection<unknown>>;
      constructor() {
        const upstreamConnection = connect(upstream.host, upstream.port, upstreamSchemas.length > 0 ? { schemas: upstreamSchemas } : {}).catch(
          (err: unknown) => {
            logger?.warn(`gateway: cannot reach ${upstream.host}:${upstream.port}: ${(err as Error).message}`);
            // The page learns that the server is unavailable, not where it is.
            throw new RuntimeError("the gateway cannot reach its server; try again later");
          },
        );
        upstreamConnection.catch(() => {}); // surfaced by the calls that need it
        const session = new GatewaySession(tables, upstreamConnection, limits);
        super(
          session,
          upstreamConnection.then((conn) => conn.root),
        );
        this.#session = session;
        this.#upstream = upstreamConnection;
      }
      on_connect(conn: Connection): void {
        const [, peer] = conn.config.endpoints ?? ["", "?"];
        sessions.set(conn, { identity: conn.config.credentials ?? null, peer, session: this.#session });
        // The page's session ends with its upstream connection, and the other way round.
        this.#upstream.then(
          (up) => void up.whenClosed().then(() => conn.close()),
          () => void conn.close(),
        );
      }
      on_disconnect(conn: Connection): void {
        sessions.delete(conn);
        this.#upstream.then(
          (up) => up.close(),
          () => {},
        );
      }
    }

    // Pages see the root as the model's class (a stub finds its schema by the class name).
    Object.defineProperty(GatewayRoot, "name", { value: rootClass.name });

    const protocolConfig: Partial<ProtocolConfig> = {
      maxNetrefs: options.maxPageObjects ?? DEFAULTS.maxPageObjects,
      maxLocalObjects: options.maxObjects ?? DEFAULTS.maxObjects,
      maxFrameSize: options.maxFrameSize ?? DEFAULTS.maxFrameSize,
      maxPendingRequests: options.maxPendingCalls ?? DEFAULTS.maxPendingCalls,
      allow_public_attrs: false,
      allow_all_attrs: false,
      allow_setattr: false,
      allow_delattr: false,
      allow_pickle: false,
      // The gateway's own source paths are none of the page's business; upstream tracebacks still reach it.
      include_local_traceback: false,
      include_local_version: false,
      codec: "brine",
      ...(logger ? { logger } : {}),
    };
    const authenticate = options.authenticate;
    this.#server = new ThreadedServer(
      { serviceClass: GatewayRoot as unknown as new () => ServiceGuard, create: () => new GatewayRoot() },
      {
        hostname: options.hostname ?? "127.0.0.1",
        port: options.port ?? 0,
        websocket: { path: options.path ?? "/rpyc", tokenMessage: options.tokenMessage ?? false, ...(options.origins ? { origins: options.origins } : {}) },
        ...(options.tls ? { tls: options.tls } : {}),
        dispatch: tables.tables,
        protocolConfig,
        maxConnections: options.maxSessions ?? DEFAULTS.maxSessions,
        ...(logger ? { logger } : {}),
        ...(authenticate ? { authenticator: (_socket: unknown, upgrade: WebSocketUpgrade | undefined) => authenticate(upgrade!.request, upgrade!.token) } : {}),
      },
    );
  }

  #rootClassName(): string {
    const services = this.model.services;
    const wanted = this.#options.service;
    if (wanted === undefined) {
      if (services.length === 1) return services[0]!.schema.className;
      throw new TypeError(
        `the model has ${services.length} services (${services.map((s) => s.schema.className).join(", ")}): say which one the upstream server serves (option service, --service)`,
      );
    }
    const found = services.find((s) => s.schema.className === wanted || s.schema.aliases.includes(wanted.toUpperCase()));
    if (!found) throw new TypeError(`the model has no service ${JSON.stringify(wanted)} (it has ${services.map((s) => s.schema.className).join(", ")})`);
    return found.schema.className;
  }

  /** Starts listening; resolves once pages can connect. */
  async start(): Promise<this> {
    await this.#server.start();
    return this;
  }

  /** The port pages connect to (after start()). */
  get port(): number {
    return this.#server.port;
  }

  /** The URL pages connect to, `ws://host:port/path` (`wss` with tls). */
  get url(): string {
    const host = this.#options.hostname ?? "127.0.0.1";
    const shown = host.includes(":") ? `[${host}]` : host;
    return `${this.#options.tls ? "wss" : "ws"}://${shown}:${this.port}${this.#options.path ?? "/rpyc"}`;
  }

  /** The pages connected now, with their identity. */
  get sessions(): readonly GatewaySessionInfo[] {
    return [...this.#sessions.values()].map(({ identity, peer, session }) => ({ identity, peer, pendingCalls: session.pending }));
  }

  /** Stops accepting pages and closes every session (and its upstream connection). */
  async close(): Promise<void> {
    await this.#server.close();
  }
}
