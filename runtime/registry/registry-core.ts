// The registry's state and rules, shared by the UDP and TCP registry servers
// (RPyC's RegistryServer): the service table, RPyC's four commands, pruning of stale
// registrations and a bound on the table's size. Transports hand in (sender IP, bytes)
// and send back whatever reply this returns; `undefined` means "ignore, no reply".

import type { Logger } from "../connection/config.js";
import type { PyValue, PyValueIn } from "../wire/values.js";
import { decodeRequest, encodeReply, isPort } from "./messages.js";
import { DEFAULT_PRUNING_TIMEOUT, type ServiceAddress } from "./registrar.js";

/** Default bound on the table: registered (service name, address) pairs over all services. */
export const DEFAULT_MAX_ENTRIES = 10_000;

/** Options every registry server accepts (RPyC's RegistryServer arguments, camelCase). */
export interface RegistryServerOptions {
  /** Interface to bind (RPyC: "0.0.0.0"). Tests pass "127.0.0.1". */
  host?: string;
  /** Port to bind (RPyC: 18811); 0 picks a free one, readable as `.port` after start(). */
  port?: number;
  /** Seconds after which a registration that was not renewed is dropped (RPyC: 240). */
  pruningTimeout?: number;
  /** Answer LIST with the service names; when false (RPyC's default) LIST gets None. */
  allowListing?: boolean;
  /**
   * Bound on (service name, address) pairs held; when full, stale entries are pruned first,
   * then a REGISTER that needs new entries is refused (logged, no reply). Default 10000.
   */
  maxEntries?: number;
  logger?: Logger;
}

interface Entry {
  readonly host: string;
  readonly port: number;
  /** performance.now() of the last (re-)registration. */
  time: number;
}

const addressKey = (host: string, port: number): string => `${host}|${port}`;

export class RegistryCore {
  /**
   * Upper-cased service name -> address key -> entry. Each inner map is kept in order of
   * last registration (an entry is re-inserted when refreshed), so it is already sorted the
   * way RPyC sorts QUERY replies: oldest registration first.
   */
  private readonly services = new Map<string, Map<string, Entry>>();
  private entryCount = 0;
  private readonly pruningMs: number;
  private readonly allowListing: boolean;
  private readonly maxEntries: number;
  private readonly logger: Logger | undefined;

  constructor(options: RegistryServerOptions = {}) {
    this.pruningMs = (options.pruningTimeout ?? DEFAULT_PRUNING_TIMEOUT) * 1000;
    this.allowListing = options.allowListing ?? false;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.logger = options.logger;
  }

  /** (service name, address) pairs currently held. */
  get size(): number {
    return this.entryCount;
  }

  /**
   * Handles one request packet from `senderIp` (the address recorded for REGISTER; RPyC
   * never trusts the payload for it). Returns the reply bytes, or undefined when the packet
   * is ignored: undecodable, wrong magic, unknown command, wrong arguments or refused.
   */
  handle(senderIp: string, data: Uint8Array): Buffer | undefined {
    let command: string;
    let args: readonly PyValue[];
    try {
      ({ command, args } = decodeRequest(data));
    } catch (err) {
      this.logger?.warn(`registry: dropped a ${data.length}-byte packet from ${senderIp}: ${(err as Error).message}`);
      return undefined;
    }
    const reply = this.dispatch(senderIp, command.toUpperCase(), args);
    if (reply === undefined) return undefined;
    return encodeReply(reply);
  }

  private dispatch(host: string, command: string, args: readonly PyValue[]): PyValueIn | undefined {
    const drop = (why: string): undefined => {
      this.logger?.warn(`registry: dropped ${command} from ${host}: ${why}`);
      return undefined;
    };
    const arity = COMMAND_ARITY.get(command);
    if (arity === undefined) return drop("unknown command");
    if (args.length !== arity) return drop(`expected ${arity} argument(s), got ${args.length}`);
    switch (command) {
      case "REGISTER": {
        const [names, port] = args;
        if (!Array.isArray(names) || !names.every((name) => typeof name === "string")) return drop("aliases are not a tuple of str");
        if (!isPort(port)) return drop("port is not a port number");
        return this.register(host, names as string[], port) ? "OK" : undefined;
      }
      case "UNREGISTER": {
        const [port] = args;
        if (!isPort(port)) return drop("port is not a port number");
        this.unregister(host, port);
        return "OK";
      }
      case "QUERY": {
        const [name] = args;
        if (typeof name !== "string") return drop("service name is not a str");
        return this.query(name);
      }
      default: {
        // LIST: RPyC answers None before looking at the argument when listing is off.
        if (!this.allowListing) {
          this.logger?.debug("registry: listing is disabled");
          return null;
        }
        const [filter] = args;
        const filterHost = Array.isArray(filter) ? (filter as readonly PyValue[])[0] : undefined;
        if (filterHost !== null && typeof filterHost !== "string") return drop("filter is not a (host_or_None,) tuple");
        return this.list(filterHost);
      }
    }
  }

  /**
   * Records `host:port` for every name (upper-cased), refreshing existing entries. Returns
   * false, storing nothing, when the new entries do not fit under maxEntries even after
   * pruning every stale entry.
   */
  register(host: string, names: readonly string[], port: number): boolean {
    const key = addressKey(host, port);
    const upper = [...new Set(names.map((name) => name.toUpperCase()))];
    const needed = (): number => upper.filter((name) => !this.services.get(name)?.has(key)).length;
    if (this.entryCount + needed() > this.maxEntries) {
      this.pruneAll();
      if (this.entryCount + needed() > this.maxEntries) {
        this.logger?.warn(`registry: refused ${host}:${port} as ${upper.join(", ")}: the table is full (maxEntries ${this.maxEntries})`);
        return false;
      }
    }
    this.logger?.debug(`registry: registering ${host}:${port} as ${upper.join(", ")}`);
    const now = performance.now();
    for (const name of upper) {
      let servers = this.services.get(name);
      if (!servers) this.services.set(name, (servers = new Map()));
      const entry = servers.get(key);
      if (entry) {
        servers.delete(key); // re-insert: keeps the map ordered by registration time
        entry.time = now;
        servers.set(key, entry);
      } else {
        servers.set(key, { host, port, time: now });
        this.entryCount++;
      }
    }
    return true;
  }

  /** Removes `host:port` from every service. */
  unregister(host: string, port: number): void {
    this.logger?.debug(`registry: unregistering ${host}:${port}`);
    const key = addressKey(host, port);
    for (const name of [...this.services.keys()]) this.remove(name, key);
  }

  /** Live servers of `name` (case-insensitive), oldest registration first; prunes stale ones. */
  query(name: string): ServiceAddress[] {
    const upper = name.toUpperCase();
    this.pruneService(upper, performance.now() - this.pruningMs);
    const servers = this.services.get(upper);
    return servers ? [...servers.values()].map((entry) => [entry.host, entry.port] as const) : [];
  }

  /**
   * Service names (all, or those with a server at `filterHost`), or null when listing is
   * not allowed. Unlike RPyC, stale registrations are pruned first, so a name whose
   * servers all went silent is not listed.
   */
  list(filterHost?: string | null): string[] | null {
    if (!this.allowListing) return null;
    this.pruneAll();
    const names: string[] = [];
    for (const [name, servers] of this.services) {
      if (!filterHost || [...servers.values()].some((entry) => entry.host === filterHost)) names.push(name);
    }
    return names;
  }

  /** Drops every registration older than the pruning timeout. */
  pruneAll(): void {
    const oldest = performance.now() - this.pruningMs;
    for (const name of [...this.services.keys()]) this.pruneService(name, oldest);
  }

  private pruneService(name: string, oldest: number): void {
    const servers = this.services.get(name);
    if (!servers) return;
    for (const [key, entry] of servers) {
      if (entry.time >= oldest) break; // ordered by time: the rest are newer
      this.logger?.debug(`registry: discarding stale ${entry.host}:${entry.port} of ${name}`);
      this.remove(name, key);
    }
  }

  private remove(name: string, key: string): void {
    const servers = this.services.get(name);
    if (!servers?.delete(key)) return;
    this.entryCount--;
    if (servers.size === 0) this.services.delete(name);
  }
}

/** Argument counts of RPyC's `cmd_*` methods (after the sender host). */
const COMMAND_ARITY: ReadonlyMap<string, number> = new Map([
  ["REGISTER", 2],
  ["UNREGISTER", 1],
  ["QUERY", 1],
  ["LIST", 1],
]);
