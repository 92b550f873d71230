// RPyC's TCPRegistryClient: each call opens a connection to the registry, sends one
// request and reads the reply (the registry closes after replying). Needs the registry's
// address: `ip`, or the environment variable RPYC_REGISTRY_HOST (and RPYC_REGISTRY_PORT).

import { connect as netConnect } from "node:net";
import type { Logger } from "../connection/config.js";
import { load } from "../wire/brine.js";
import { ProtocolError } from "../errors/rpyc-errors.js";
import { familyOf, isWildcard, registryHostFromEnv, registryPortFromEnv } from "./addresses.js";
import { decodeListReply, decodeQueryReply, encodeList, encodeQuery, encodeRegister, encodeUnregister, isOkReply } from "./messages.js";
import { REGISTRY_PORT, type Registrar, type ServiceAddress } from "./registrar.js";
import { DEFAULT_REGISTRY_TIMEOUT } from "./udp-client.js";

/** Largest reply the TCP client reads (RPyC reads 1500 bytes; LIST replies can be longer). */
export const MAX_TCP_REPLY_SIZE = 1 << 20;

export interface TCPRegistryClientOptions {
  /** Registry address; default $RPYC_REGISTRY_HOST (required one way or the other). */
  ip?: string;
  /** Registry port; default $RPYC_REGISTRY_PORT, else 18811. */
  port?: number;
  /** Seconds for connecting and getting the reply (default 2). */
  timeout?: number;
  logger?: Logger;
}

export class TCPRegistryClient implements Registrar {
  readonly ip: string;
  readonly port: number;
  readonly timeout: number;
  private readonly logger: Logger | undefined;

  constructor(options: TCPRegistryClientOptions = {}) {
    const ip = options.ip ?? registryHostFromEnv();
    if (ip === undefined) throw new TypeError("TCPRegistryClient needs the registry's address: pass { ip } or set RPYC_REGISTRY_HOST");
    this.ip = ip;
    this.port = options.port ?? registryPortFromEnv(REGISTRY_PORT);
    this.timeout = options.timeout ?? DEFAULT_REGISTRY_TIMEOUT;
    this.logger = options.logger;
  }

  /** Servers exposing `name`; [] when the registry does not answer in time. */
  async discover(name: string): Promise<ServiceAddress[]> {
    const reply = await this.exchange(encodeQuery(name));
    return reply ? decodeQueryReply(reply) : [];
  }

  /** Service names; null when the registry does not allow listing; [] without an answer. */
  async list(filterHost: string | null = null): Promise<string[] | null> {
    const reply = await this.exchange(encodeList(filterHost));
    return reply ? decodeListReply(reply) : [];
  }

  /**
   * Registers from `interfaceHost` and resolves true once the registry replies "OK" (RPyC
   * accepts any decodable reply); false when it cannot connect or gets no "OK" in time.
   */
  async register(aliases: readonly string[], port: number, interfaceHost?: string): Promise<boolean> {
    this.logger?.info(`registering on ${this.ip}:${this.port}`);
    let reply: Buffer | undefined;
    try {
      reply = await this.exchange(encodeRegister(aliases, port), interfaceHost);
    } catch (err) {
      this.logger?.warn(`could not connect to registry: ${(err as Error).message}`);
      return false;
    }
    if (reply === undefined) {
      this.logger?.warn("registry did not acknowledge");
      return false;
    }
    let ok = false;
    try {
      ok = isOkReply(reply);
    } catch {
      this.logger?.warn("received corrupted data from registry");
      return false;
    }
    if (ok) this.logger?.info(`registry ${this.ip}:${this.port} acknowledged`);
    return ok;
  }

  /**
   * Sends UNREGISTER from `interfaceHost` and waits (at most `timeout`) for the reply, so a
   * discover() right after it no longer sees this server. Failures are logged, not thrown.
   */
  async unregister(port: number, interfaceHost?: string): Promise<void> {
    this.logger?.info(`unregistering from ${this.ip}:${this.port}`);
    try {
      await this.exchange(encodeUnregister(port), interfaceHost);
    } catch (err) {
      this.logger?.warn(`could not connect to registry: ${(err as Error).message}`);
    }
  }

  /** Nothing to release: every call uses its own connection. */
  async close(): Promise<void> {}

  /**
   * One request on a fresh connection. Resolves with the reply bytes (complete brine, or
   * everything up to the registry's close), or undefined when no reply comes in time;
   * rejects when the connection fails.
   */
  private exchange(data: Buffer, interfaceHost?: string): Promise<Buffer | undefined> {
    const local =
      interfaceHost !== undefined && !isWildcard(interfaceHost) && familyOf(interfaceHost) === familyOf(this.ip) ? { localAddress: interfaceHost } : {};
    const socket = netConnect({ host: this.ip, port: this.port, ...local });
    return new Promise<Buffer | undefined>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const finish = (err: Error | undefined, value?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(value);
      };
      const timer = setTimeout(() => finish(undefined, undefined), this.timeout * 1000);
      const complete = (): Buffer | undefined => {
        const reply = Buffer.concat(chunks, size);
        try {
          load(reply);
          return reply;
        } catch {
          return undefined; // not a whole value yet
        }
      };
      socket.on("error", (err) => finish(err));
      socket.once("connect", () => socket.write(data));
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_TCP_REPLY_SIZE) return finish(new ProtocolError(`registry reply exceeds ${MAX_TCP_REPLY_SIZE} bytes`));
        const reply = complete();
        if (reply) finish(undefined, reply);
      });
      // The registry closed: whatever arrived is the reply (the caller reports it if corrupt).
      socket.once("end", () => finish(undefined, size > 0 ? Buffer.concat(chunks, size) : undefined));
    });
  }
}
