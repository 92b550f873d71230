// Address helpers shared by the registry servers and clients: which socket family to use,
// which local address to send from, and how a peer's address is recorded.

import { isIP } from "node:net";

/** Socket family for `host`: IPv6 for an IPv6 literal (or a name when `ipv6`), else IPv4. */
export function familyOf(host: string, ipv6 = false): 4 | 6 {
  const kind = isIP(host);
  if (kind === 0) return ipv6 ? 6 : 4;
  return kind === 6 ? 6 : 4;
}

/** "", "0.0.0.0" and "::" mean "every interface". */
export function isWildcard(host: string | undefined): boolean {
  return host === undefined || host === "" || host === "0.0.0.0" || host === "::";
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and "localhost". */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^(::ffff:)?127\./i.test(host);
}

/**
 * A peer address as the registry records it: an IPv4 client of a dual-stack socket shows up
 * as "::ffff:a.b.c.d"; recording the plain IPv4 address lets every client connect to it.
 */
export function normalizeAddress(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/**
 * The local address a registry client binds before sending to `target`: the server's own
 * interface when given (so the registry records that address, RPyC's rule), otherwise the
 * loopback address for a loopback target and the family's wildcard for anything else. An
 * interface of the other family than the target cannot be used and falls back likewise.
 */
export function localBindAddress(target: string, family: 4 | 6, interfaceHost?: string): string {
  if (interfaceHost !== undefined && !isWildcard(interfaceHost) && familyOf(interfaceHost, family === 6) === family) return interfaceHost;
  if (isLoopback(target)) return family === 6 ? "::1" : "127.0.0.1";
  return family === 6 ? "::" : "0.0.0.0";
}

/**
 * The registry host clients use when none is given: $RPYC_REGISTRY_HOST, else `fallback`
 * (RPyC's UDP broadcast address for the UDP client).
 */
export function registryHostFromEnv(fallback: string): string;
export function registryHostFromEnv(fallback?: undefined): string | undefined;
export function registryHostFromEnv(fallback?: string): string | undefined {
  const host = process.env["RPYC_REGISTRY_HOST"]?.trim();
  return host ? host : fallback;
}

/** The registry port clients use when none is given: $RPYC_REGISTRY_PORT, else 18811. */
export function registryPortFromEnv(fallback: number): number {
  const text = process.env["RPYC_REGISTRY_PORT"]?.trim();
  if (!text) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port <= 0 || port > 0xffff) throw new RangeError(`RPYC_REGISTRY_PORT is not a port number: ${JSON.stringify(text)}`);
  return port;
}
