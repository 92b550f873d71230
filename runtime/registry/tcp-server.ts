// RPyC's TCPRegistryServer: one request per connection. Like RPyC it looks at a single
// read (at most MAX_DGRAM_SIZE bytes), sends the brine reply and closes. Useful where
// routers block UDP broadcasts.

import { createServer, type Server as NetServer, type Socket } from "node:net";
import { normalizeAddress } from "./addresses.js";
import { RegistryCore, type RegistryServerOptions } from "./registry-core.js";
import { MAX_DGRAM_SIZE, REGISTRY_PORT } from "./registrar.js";

/** Seconds a registry connection may stay open without a reply (RPyC's accept timeout). */
export const DEFAULT_TCP_IDLE_TIMEOUT = 3;
/** Connections the TCP registry holds at once; more are refused by closing them. */
export const DEFAULT_TCP_MAX_CONNECTIONS = 1024;

export interface TCPRegistryServerOptions extends RegistryServerOptions {
  /** Bind the IPv6 wildcard when no host is given. */
  ipv6?: boolean;
  /**
   * Seconds after which any registry connection is closed: one that sent nothing, whose
   * request was ignored, or whose peer does not close after the reply. Default 3 (RPyC's
   * accept timeout).
   */
  idleTimeout?: number;
  /** Connections held at once (default 1024). */
  maxConnections?: number;
}

export class TCPRegistryServer {
  /** The service table and command rules. */
  readonly registry: RegistryCore;
  private readonly listener: NetServer;
  private readonly sockets = new Set<Socket>();
  private readonly options: TCPRegistryServerOptions;
  private started: Promise<this> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: TCPRegistryServerOptions = {}) {
    this.options = options;
    this.registry = new RegistryCore(options);
    this.listener = createServer((socket) => this.accept(socket));
    this.listener.maxConnections = options.maxConnections ?? DEFAULT_TCP_MAX_CONNECTIONS;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", (err) => this.options.logger?.debug(`registry: connection error: ${err.message}`));
    const sender = normalizeAddress(socket.remoteAddress ?? "");
    // RPyC leaves a connection whose request it ignored open forever (its client relies on
    // its own timeout). We keep it open too, for that client's sake (an early EOF would make
    // RPyC's client fail to decode instead of timing out), but never longer than
    // idleTimeout seconds from the accept, so silent peers, ignored requests and peers that
    // never close leak no sockets. A fixed deadline, not an inactivity timer: a peer that
    // keeps sending cannot extend it.
    const deadline = setTimeout(() => socket.destroy(), (this.options.idleTimeout ?? DEFAULT_TCP_IDLE_TIMEOUT) * 1000);
    socket.once("close", () => clearTimeout(deadline));
    let handled = false;
    socket.on("data", (chunk: Buffer) => {
      // A single read, as RPyC's recv(MAX_DGRAM_SIZE): later bytes are read and discarded
      // (so the peer's close is still seen and the socket released at once).
      if (handled) return;
      handled = true;
      if (chunk.length > MAX_DGRAM_SIZE) {
        this.options.logger?.warn(`registry: dropped a ${chunk.length}-byte request from ${sender}: larger than ${MAX_DGRAM_SIZE} bytes`);
        return;
      }
      const reply = this.registry.handle(sender, chunk);
      // end(): reply, then close our side; the socket is released when the peer closes its side.
      if (reply !== undefined) socket.end(reply);
    });
  }

  /** Starts listening; resolves once bound (`port` then holds the real port). */
  start(): Promise<this> {
    this.started ??= new Promise<this>((resolve, reject) => {
      this.listener.once("error", reject);
      const host = this.options.host ?? (this.options.ipv6 ? "::" : "0.0.0.0");
      // RPyC listens with a backlog of 10; Node's default (511) absorbs bursts of registrations.
      this.listener.listen({ host, port: this.options.port ?? REGISTRY_PORT }, () => {
        this.listener.off("error", reject);
        this.listener.on("error", (err) => this.options.logger?.error(`registry: listener error: ${err.message}`));
        this.options.logger?.info(`TCP registry started on ${this.host}:${this.port}`);
        resolve(this);
      });
    });
    return this.started;
  }

  /** Registry connections currently open. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** The bound port (0 before start()). */
  get port(): number {
    const address = this.listener.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /** The bound address. */
  get host(): string {
    const address = this.listener.address();
    return typeof address === "object" && address !== null ? address.address : (this.options.host ?? "0.0.0.0");
  }

  /** Stops listening and closes every open connection; resolves once all are closed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.started?.catch(() => undefined);
      const stopped = new Promise<void>((resolve) => {
        if (!this.listener.listening) resolve();
        else this.listener.close(() => resolve());
      });
      await Promise.all(
        [...this.sockets].map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.closed) return resolve();
              socket.once("close", () => resolve());
              socket.destroy();
            }),
        ),
      );
      await stopped;
      this.options.logger?.info("TCP registry closed");
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
