// RPyC's UDPRegistryServer: one request per datagram, the reply goes back to the sender's
// address. Works with broadcasts (clients send to 255.255.255.255 by default).

import dgram from "node:dgram";
import { familyOf, normalizeAddress } from "./addresses.js";
import { RegistryCore, type RegistryServerOptions } from "./registry-core.js";
import { MAX_DGRAM_SIZE, REGISTRY_PORT } from "./registrar.js";

export interface UDPRegistryServerOptions extends RegistryServerOptions {
  /** Resolve a host name to IPv6 (a literal address picks its own family). */
  ipv6?: boolean;
}

export class UDPRegistryServer {
  /** The service table and command rules. */
  readonly registry: RegistryCore;
  private readonly socket: dgram.Socket;
  private readonly options: UDPRegistryServerOptions;
  private started: Promise<this> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: UDPRegistryServerOptions = {}) {
    this.options = options;
    this.registry = new RegistryCore(options);
    const host = options.host ?? "0.0.0.0";
    this.socket = dgram.createSocket(familyOf(host, options.ipv6) === 6 ? "udp6" : "udp4");
    this.socket.on("message", (msg, rinfo) => this.receive(msg, rinfo));
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const sender = normalizeAddress(rinfo.address);
    // RPyC reads MAX_DGRAM_SIZE bytes, so a longer datagram is cut and fails to decode there.
    if (msg.length > MAX_DGRAM_SIZE) {
      this.options.logger?.warn(`registry: dropped a ${msg.length}-byte datagram from ${sender}: larger than ${MAX_DGRAM_SIZE} bytes`);
      return;
    }
    const reply = this.registry.handle(sender, msg);
    if (reply === undefined || this.closing) return;
    this.socket.send(reply, rinfo.port, rinfo.address, (err) => {
      if (err) this.options.logger?.warn(`registry: cannot reply to ${sender}:${rinfo.port}: ${err.message}`);
    });
  }

  /** Binds the socket; resolves once it is bound (`port` then holds the real port). */
  start(): Promise<this> {
    this.started ??= new Promise<this>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once("error", onError);
      this.socket.bind({ address: this.options.host ?? "0.0.0.0", port: this.options.port ?? REGISTRY_PORT }, () => {
        this.socket.off("error", onError);
        this.socket.on("error", (err) => this.options.logger?.error(`registry: socket error: ${err.message}`));
        this.options.logger?.info(`UDP registry started on ${this.host}:${this.port}`);
        resolve(this);
      });
    });
    return this.started;
  }

  /** The bound port (0 before start()). */
  get port(): number {
    try {
      return this.socket.address().port;
    } catch {
      return 0;
    }
  }

  /** The bound address. */
  get host(): string {
    try {
      return this.socket.address().address;
    } catch {
      return this.options.host ?? "0.0.0.0";
    }
  }

  /** Closes the socket; resolves once it is closed. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Let a bind in progress finish first: closing an unbound socket races its callback.
      await this.started?.catch(() => undefined);
      await new Promise<void>((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // already closed (a failed bind)
        }
      });
      this.options.logger?.info("UDP registry closed");
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
