// RPyC's UDPRegistryClient: each call sends one datagram from a fresh socket and (except
// unregister) waits `timeout` seconds for a reply. By default it broadcasts to
// 255.255.255.255:18811, so any registry on the local network answers; set `ip` (or the
// environment variable RPYC_REGISTRY_HOST, and RPYC_REGISTRY_PORT) to ask one registry.

import dgram from "node:dgram";
import type { Logger } from "../connection/config.js";
import { familyOf, localBindAddress, registryHostFromEnv, registryPortFromEnv } from "./addresses.js";
import { decodeListReply, decodeQueryReply, encodeList, encodeQuery, encodeRegister, encodeUnregister, isOkReply } from "./messages.js";
import { REGISTRY_PORT, type Registrar, type ServiceAddress } from "./registrar.js";

/** RPyC's default UDP registry address: the local network's broadcast. */
export const DEFAULT_UDP_REGISTRY_IP = "255.255.255.255";
/** Seconds a registry client waits for a reply (RPyC: 2). */
export const DEFAULT_REGISTRY_TIMEOUT = 2;

export interface UDPRegistryClientOptions {
  /** Registry address; default $RPYC_REGISTRY_HOST, else the broadcast 255.255.255.255. */
  ip?: string;
  /** Registry port; default $RPYC_REGISTRY_PORT, else 18811. */
  port?: number;
  /** Seconds to wait for a reply (default 2). */
  timeout?: number;
  /** Enable SO_BROADCAST; default: when any dotted part of `ip` is "255" (RPyC's rule). */
  bcast?: boolean;
  /** Use an IPv6 socket (no broadcast). Implied by an IPv6 `ip`. */
  ipv6?: boolean;
  logger?: Logger;
}

interface Exchange<T> {
  /** Local interface to send from (REGISTER/UNREGISTER: the server's listening host). */
  interfaceHost?: string | undefined;
  /** Turns a datagram into the result, or undefined to keep waiting; omitted: do not wait. */
  accept?: (msg: Buffer, rinfo: dgram.RemoteInfo) => T | undefined;
}

export class UDPRegistryClient implements Registrar {
  readonly ip: string;
  readonly port: number;
  readonly timeout: number;
  readonly bcast: boolean;
  private readonly family: 4 | 6;
  private readonly logger: Logger | undefined;

  constructor(options: UDPRegistryClientOptions = {}) {
    this.ip = options.ip ?? registryHostFromEnv(DEFAULT_UDP_REGISTRY_IP);
    this.port = options.port ?? registryPortFromEnv(REGISTRY_PORT);
    this.timeout = options.timeout ?? DEFAULT_REGISTRY_TIMEOUT;
    this.family = familyOf(this.ip, options.ipv6);
    this.bcast = this.family === 6 ? false : (options.bcast ?? this.ip.split(".").includes("255"));
    this.logger = options.logger;
  }

  /** Servers exposing `name`: the first well-formed reply, or [] when none comes in time. */
  async discover(name: string): Promise<ServiceAddress[]> {
    const reply = await this.exchange(encodeQuery(name), { accept: (msg) => this.decoded(msg, decodeQueryReply) });
    return reply ?? [];
  }

  /** Service names; null when the registry does not allow listing; [] when none answers. */
  async list(filterHost: string | null = null): Promise<string[] | null> {
    const reply = await this.exchange(encodeList(filterHost), { accept: (msg) => this.decoded(msg, (data) => ({ names: decodeListReply(data) })) });
    return reply ? reply.names : [];
  }

  /**
   * Registers from `interfaceHost` (so the registry records that address) and waits for an
   * "OK" coming from the registry's port; false when none comes within `timeout`.
   */
  async register(aliases: readonly string[], port: number, interfaceHost?: string): Promise<boolean> {
    this.logger?.info(`registering on ${this.ip}:${this.port}`);
    const ok = await this.exchange(encodeRegister(aliases, port), {
      interfaceHost,
      accept: (msg, rinfo) => (rinfo.port === this.port && this.decoded(msg, isOkReply) ? true : undefined),
    });
    if (ok) this.logger?.info(`registry ${this.ip}:${this.port} acknowledged`);
    else this.logger?.warn("no registry acknowledged");
    return ok ?? false;
  }

  /**
   * Sends UNREGISTER and does not wait for the reply (RPyC's behaviour). Unlike RPyC it
   * sends from `interfaceHost`, the address the registration was recorded under.
   */
  async unregister(port: number, interfaceHost?: string): Promise<void> {
    this.logger?.info(`unregistering from ${this.ip}:${this.port}`);
    await this.exchange(encodeUnregister(port), { interfaceHost });
  }

  /** Nothing to release: every call uses its own socket. */
  async close(): Promise<void> {}

  private decoded<T>(msg: Buffer, decode: (data: Buffer) => T): T | undefined {
    try {
      return decode(msg);
    } catch (err) {
      this.logger?.warn(`ignored a malformed registry reply: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Sends `data` from a fresh socket; resolves with the accepted reply, or undefined. */
  private exchange<T>(data: Buffer, { interfaceHost, accept }: Exchange<T>): Promise<T | undefined> {
    const socket = dgram.createSocket(this.family === 6 ? "udp6" : "udp4");
    return new Promise<T | undefined>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (err: Error | undefined, value?: T): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.close();
        if (err) reject(err);
        else resolve(value);
      };
      socket.on("error", (err) => finish(err));
      if (accept) {
        socket.on("message", (msg, rinfo) => {
          const value = accept(msg, rinfo);
          if (value !== undefined) finish(undefined, value);
        });
      }
      socket.bind({ address: localBindAddress(this.ip, this.family, interfaceHost), port: 0 }, () => {
        if (this.bcast) socket.setBroadcast(true);
        if (accept) timer = setTimeout(() => finish(undefined, undefined), this.timeout * 1000);
        socket.send(data, this.port, this.ip, (err) => {
          if (err) finish(err);
          else if (!accept) finish(undefined, undefined);
        });
      });
    });
  }
}
