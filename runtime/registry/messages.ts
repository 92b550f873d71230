// Registry messages (rpyc/utils/registry.py): a request is bare brine of
// ("RPYC", COMMAND, args) — no channel framing — one per UDP datagram or TCP connection;
// a reply is the bare brine of the command's result. This module only encodes and checks
// shapes; the registry's rules live in registry-core.ts.

import { dump, load } from "../wire/brine.js";
import { ProtocolError } from "../errors/rpyc-errors.js";
import type { PyValue, PyValueIn } from "../wire/values.js";
import type { ServiceAddress } from "./registrar.js";

/** The magic string every registry request starts with. */
export const REGISTRY_MAGIC = "RPYC";

/** The commands RPyC's registry answers (its `cmd_<name>` methods). */
export type RegistryCommand = "REGISTER" | "UNREGISTER" | "QUERY" | "LIST";

/** A decoded request: the command as sent (any case) and its positional arguments. */
export interface RegistryRequest {
  readonly command: string;
  readonly args: readonly PyValue[];
}

function request(command: RegistryCommand, args: readonly PyValueIn[]): Buffer {
  return dump([REGISTRY_MAGIC, command, args]);
}

/** `("RPYC", "REGISTER", (aliases, port))`. */
export function encodeRegister(aliases: readonly string[], port: number): Buffer {
  return request("REGISTER", [aliases, port]);
}

/** `("RPYC", "UNREGISTER", (port,))`. */
export function encodeUnregister(port: number): Buffer {
  return request("UNREGISTER", [port]);
}

/** `("RPYC", "QUERY", (name,))`; the name travels as given (the registry upper-cases it). */
export function encodeQuery(name: string): Buffer {
  return request("QUERY", [name]);
}

/** `("RPYC", "LIST", ((filterHost,),))`: RPyC wraps the filter in a 1-tuple inside the args. */
export function encodeList(filterHost: string | null = null): Buffer {
  return request("LIST", [[filterHost]]);
}

/**
 * Decodes a request from untrusted bytes. Throws ProtocolError for undecodable brine, a
 * value that is not a 3-tuple, a wrong magic or a non-str command; the registry drops
 * such a packet without a reply (RPyC does the same).
 */
export function decodeRequest(data: Uint8Array): RegistryRequest {
  const value = load(data);
  if (!Array.isArray(value) || value.length !== 3) throw new ProtocolError("registry request is not a 3-tuple (magic, command, args)");
  const [magic, command, args] = value as readonly PyValue[];
  if (magic !== REGISTRY_MAGIC) throw new ProtocolError(`invalid magic: ${describe(magic)}`);
  if (typeof command !== "string") throw new ProtocolError(`command is not a str: ${describe(command)}`);
  if (!Array.isArray(args)) throw new ProtocolError(`args of ${command} are not a tuple`);
  return { command, args: args as readonly PyValue[] };
}

/** The bare brine reply to a request. */
export function encodeReply(value: PyValueIn): Buffer {
  return dump(value);
}

/** A QUERY reply: a tuple of (host, port) pairs. Throws ProtocolError for any other shape. */
export function decodeQueryReply(data: Uint8Array): ServiceAddress[] {
  const value = load(data);
  if (!Array.isArray(value)) throw new ProtocolError("QUERY reply is not a tuple");
  return (value as readonly PyValue[]).map((item) => {
    if (!Array.isArray(item) || item.length !== 2) throw new ProtocolError("QUERY reply item is not a (host, port) pair");
    const [host, port] = item as readonly PyValue[];
    if (typeof host !== "string" || !isPort(port)) throw new ProtocolError("QUERY reply item is not a (str, int) pair");
    return [host, port] as const;
  });
}

/** A LIST reply: a tuple of names, or None when the registry does not allow listing. */
export function decodeListReply(data: Uint8Array): string[] | null {
  const value = load(data);
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((name) => typeof name === "string")) throw new ProtocolError("LIST reply is not a tuple of str");
  return [...(value as string[])];
}

/** True iff the reply is RPyC's acknowledgement `"OK"`; throws ProtocolError if undecodable. */
export function isOkReply(data: Uint8Array): boolean {
  return load(data) === "OK";
}

/** A TCP/UDP port number as the registry accepts it. */
export function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 && value <= 0xffff;
}

function describe(value: PyValue | undefined): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value);
  if (Array.isArray(value)) return `a tuple of ${value.length}`;
  if (value instanceof Uint8Array) return `bytes of ${value.length}`;
  return typeof value;
}
