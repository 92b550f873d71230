// Discovery through a registry (rpyc/utils/factory.py: discover, list_services,
// connect_by_service). Any Registrar works: the UDP or TCP registry clients, or etcd.
// Without a registrar, RPyC's default is used: a UDP broadcast client (its address can be
// set with RPYC_REGISTRY_HOST / RPYC_REGISTRY_PORT).

import { lookup } from "node:dns/promises";
import { DiscoveryError, ForbiddenError, isConnectError, isConnectionClosedError } from "../errors/rpyc-errors.js";
import { connect, type ConnectOptions } from "../server/connect.js";
import type { Connection } from "../connection/connection.js";
import { pyRepr } from "../wire/pyrepr.js";
import type { Registrar, ServiceAddress } from "./registrar.js";
import { UDPRegistryClient } from "./udp-client.js";

export interface DiscoverOptions {
  /** The registry client to ask; default a UDPRegistryClient (broadcast) with `timeout`. */
  registrar?: Registrar;
  /** Keep only servers on this host (a name is resolved to its addresses). */
  host?: string;
  /** Seconds the default registrar waits for a reply (RPyC: 2). */
  timeout?: number;
}

export interface ListServicesOptions {
  /** The registry client to ask; default a UDPRegistryClient (broadcast) with `timeout`. */
  registrar?: Registrar;
  /** Only services that have a server at this IP. */
  filterHost?: string | null;
  /** Seconds the default registrar waits for a reply (RPyC: 2). */
  timeout?: number;
}

/**
 * Options of connectByService: where to discover (registrar, host) and how to connect
 * (ConnectOptions: service, config, schemas, ...). `timeout` is used for both steps: the
 * default registrar's reply and each TCP connection.
 */
export interface ConnectByServiceOptions extends ConnectOptions, Omit<DiscoverOptions, "timeout"> {}

function registrarOf(options: { registrar?: Registrar; timeout?: number }): Registrar {
  return options.registrar ?? new UDPRegistryClient(options.timeout === undefined ? {} : { timeout: options.timeout });
}

/**
 * Addresses of the servers exposing `name`, oldest registration first. Throws
 * DiscoveryError when there are none (on `host`, if given).
 */
export async function discover(name: string, options: DiscoverOptions = {}): Promise<ServiceAddress[]> {
  let addresses = await registrarOf(options).discover(name);
  if (addresses.length === 0) throw new DiscoveryError(`no servers exposing ${pyRepr(name)} were found`);
  if (options.host) {
    const ips = new Set((await lookup(options.host, { all: true })).map((entry) => entry.address));
    addresses = addresses.filter(([host]) => ips.has(host));
    if (addresses.length === 0) throw new DiscoveryError(`no servers exposing ${name} were found on ${options.host}`);
  }
  return addresses;
}

/** Names of the registered services. Throws ForbiddenError when the registry does not allow listing. */
export async function listServices(options: ListServicesOptions = {}): Promise<string[]> {
  const names = await registrarOf(options).list(options.filterHost ?? null);
  if (names === null) throw new ForbiddenError("Registry doesn't allow listing");
  return names;
}

/** A server that cannot be reached (RPyC catches socket.error here). */
function isUnreachable(err: unknown): boolean {
  if (isConnectError(err) || isConnectionClosedError(err)) return true;
  const sys = err as { code?: unknown; syscall?: unknown } | null;
  return typeof sys?.code === "string" && typeof sys.syscall === "string";
}

/**
 * Discovers `name` and connects to the first server that accepts, trying them in the
 * registry's order (servers that refuse or time out are skipped). Throws DiscoveryError
 * when none is found or all are down (the causes are attached).
 */
export async function connectByService<T = unknown>(name: string, options: ConnectByServiceOptions = {}): Promise<Connection<T>> {
  const addresses = await discover(name, options);
  const failures: unknown[] = [];
  for (const [host, port] of addresses) {
    try {
      return await connect<T>(host, port, options);
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      failures.push(err);
    }
  }
  throw new DiscoveryError(`All services are down: ${pyRepr(addresses)}`, { cause: new AggregateError(failures, "connection failures") });
}
