// Reads a connected server's root service with the requests RPyC 5.3 answers by default:
// get_service_name/get_service_aliases (CALLATTR of the two builtins), HANDLE_DIR, HANDLE_INSPECT
// and HANDLE_GETATTR (of exposed members and the safe `__doc__`). Nothing else is called.

import { dir, getattr, idPackOf, isNetref, isRemoteException, release, withOptions, type Connection } from "rpyc-ts";
import { HANDLE_CALLATTR, HANDLE_INSPECT } from "rpyc-ts/wire";
import { IntrospectError, type LiveDiagnostic } from "./errors.js";
import { BUILTIN_MEMBERS, cleanDoc, type LiveMember, type LiveService } from "./live-model.js";

/** At most this many exposed members are read (each costs up to three requests): a bound on a hostile DIR answer. */
export const MAX_LIVE_MEMBERS = 10_000;

export interface ProbeOptions {
  /** Where the server is ("127.0.0.1:18861"), for the model and messages. */
  readonly where: string;
  /** The server's exposed_prefix. */
  readonly exposedPrefix: string;
  /** Aborts every request in flight (the introspection deadline). */
  readonly signal: AbortSignal;
}

export interface ProbeResult {
  readonly service: LiveService;
  readonly diagnostics: readonly LiveDiagnostic[];
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.split("\n")[0]}` : String(err);
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return undefined;
}

/**
 * A remote object's docstring, cleaned. `__doc__` is one of RPyC's safe attributes; a server
 * that refuses it (or an object without one) just gives no doc.
 */
async function docOf(remote: unknown): Promise<string | undefined> {
  try {
    const text = asText(await getattr(remote, "__doc__"));
    return text === undefined ? undefined : cleanDoc(text);
  } catch (err) {
    if (!isRemoteException(err)) throw err;
    return undefined;
  }
}

/** INSPECT's answer, ((name, doc), ...), as a map; entries of another shape are skipped. */
function inspectMap(answer: unknown): Map<string, string | undefined> {
  const methods = new Map<string, string | undefined>();
  if (!Array.isArray(answer)) return methods;
  for (const entry of answer as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) continue;
    const name = asText(entry[0]);
    const doc = asText(entry[1]);
    if (name !== undefined) methods.set(name, doc === undefined ? undefined : cleanDoc(doc));
  }
  return methods;
}

/** The class part of a name_pack: "__main__.CalculatorService" -> "CalculatorService". */
function classOf(namePack: string): string {
  return namePack.slice(namePack.lastIndexOf(".") + 1);
}

/** Reads the service at the other end of `conn`. Remote refusals of single members become diagnostics; the rest throws. */
export async function probeService(conn: Connection, options: ProbeOptions): Promise<ProbeResult> {
  const { where, exposedPrefix, signal } = options;
  const diagnostics: LiveDiagnostic[] = [];
  const root = withOptions(await conn.getRoot(), { signal });
  const rootPack = idPackOf(root);
  const request = (handler: number, args: readonly unknown[]): Promise<unknown> => conn.request(handler, args, { signal });

  const callBuiltin = async (name: string): Promise<unknown> => {
    try {
      return await request(HANDLE_CALLATTR, [root, name, [], []]);
    } catch (err) {
      if (!isRemoteException(err)) throw err;
      throw new IntrospectError("NOT_A_SERVICE", `${where}: the root object does not answer ${name}() (${describeError(err)}); is it an RPyC Service?`, {
        cause: err,
      });
    }
  };
  const name = asText(await callBuiltin("get_service_name"));
  const aliasesAnswer = await callBuiltin("get_service_aliases");
  const aliases = Array.isArray(aliasesAnswer) ? (aliasesAnswer as unknown[]).map(asText) : [];
  if (name === undefined || aliases.length === 0 || aliases.some((a) => a === undefined)) {
    throw new IntrospectError("NOT_A_SERVICE", `${where}: get_service_name()/get_service_aliases() did not answer a name and a list of names`);
  }

  let names: unknown;
  try {
    names = await dir(root);
  } catch (err) {
    if (!isRemoteException(err)) throw err;
    throw new IntrospectError("DIR_REFUSED", `${where}: the server refused to list its members (HANDLE_DIR: ${describeError(err)})`, { cause: err });
  }
  if (!Array.isArray(names)) throw new IntrospectError("DIR_REFUSED", `${where}: HANDLE_DIR did not answer a list of names`);

  // The root's INSPECT answer: its class's callables with their docstrings.
  let rootMethods = new Map<string, string | undefined>();
  try {
    rootMethods = inspectMap(rootPack === null ? [] : await request(HANDLE_INSPECT, [rootPack]));
  } catch (err) {
    if (!isRemoteException(err)) throw err;
    diagnostics.push({
      severity: "warning",
      code: "RPYC_LIVE_INSPECT_REFUSED",
      message: `the server refused HANDLE_INSPECT on its root (${describeError(err)}); methods have no docstrings`,
      hint: "members are still classified by reading them",
    });
  }

  const exposed = [...new Set((names as unknown[]).map(asText).filter((n): n is string => n?.startsWith(exposedPrefix) === true))].sort();
  if (exposed.length > MAX_LIVE_MEMBERS)
    throw new IntrospectError("TOO_MANY_MEMBERS", `${where}: the server lists ${exposed.length} exposed members, more than ${MAX_LIVE_MEMBERS}`);
  const members: LiveMember[] = [];
  for (const member of exposed) {
    const remoteName = member.slice(exposedPrefix.length);
    if (BUILTIN_MEMBERS.has(remoteName)) continue;
    if (remoteName === "") {
      diagnostics.push({
        severity: "warning",
        code: "RPYC_LIVE_EMPTY_NAME",
        member,
        message: `DIR lists '${member}', the bare exposed prefix; left out`,
        hint: "rename the member on the server",
      });
      continue;
    }
    const read = await readMember(root, member, rootMethods, request, diagnostics);
    if (read) members.push({ member, name: remoteName, ...read });
  }

  const doc = await docOf(root);

  const remoteClass = rootPack === null ? undefined : classOf(rootPack[0]);
  const service: LiveService = {
    where,
    name,
    aliases: aliases as string[],
    ...(remoteClass ? { remoteClass } : {}),
    ...(doc === undefined ? {} : { doc }),
    members,
  };
  return { service, diagnostics };
}

/**
 * One member: read it (GETATTR; a Python property runs its getter, which is what reading is),
 * then decide its kind without calling it. A value that came by value is an attribute; a
 * netref is a method when its INSPECT answer lists `__call__` (bound methods, functions,
 * classes, callable objects), which also covers callables INSPECT on the root cannot see
 * (instance attributes, classmethods). The root's INSPECT list alone is not trusted for the
 * kind: an rpyc-ts server with a dispatch table lists its attributes there too.
 */
async function readMember(
  root: unknown,
  member: string,
  rootMethods: ReadonlyMap<string, string | undefined>,
  request: (handler: number, args: readonly unknown[]) => Promise<unknown>,
  diagnostics: LiveDiagnostic[],
): Promise<Pick<LiveMember, "kind" | "doc"> | undefined> {
  let value: unknown;
  try {
    value = await getattr(root, member);
  } catch (err) {
    if (!isRemoteException(err)) throw err;
    if (!isRemoteException(err, "AttributeError")) {
      // The name resolved and something ran: a property whose getter failed. It exists; clients may read it later.
      diagnostics.push({
        severity: "warning",
        code: "RPYC_LIVE_MEMBER_RAISED",
        member,
        message: `reading '${member}' raised ${describeError(err)}; taken as an attribute (a property whose getter failed)`,
        hint: "check the member's kind in the generated stub",
      });
      return { kind: "attribute" };
    }
    diagnostics.push({
      severity: "warning",
      code: "RPYC_LIVE_UNREADABLE_MEMBER",
      member,
      message: `DIR lists '${member}' but reading it was refused (${describeError(err)}); left out of the stub`,
      hint: "clients cannot reach it either; if they should, let the server's getattr answer it",
    });
    return undefined;
  }
  if (!isNetref(value)) return { kind: "attribute" };
  try {
    const pack = idPackOf(value);
    let callable: boolean;
    try {
      callable = pack !== null && inspectMap(await request(HANDLE_INSPECT, [pack])).has("__call__");
    } catch (err) {
      if (!isRemoteException(err)) throw err;
      callable = rootMethods.has(member);
      diagnostics.push({
        severity: "warning",
        code: "RPYC_LIVE_MEMBER_INSPECT_REFUSED",
        member,
        message: `the server refused HANDLE_INSPECT on '${member}' (${describeError(err)}); taken as ${callable ? "a method" : "an attribute"} from the root's INSPECT answer`,
        hint: "check the member's kind in the generated stub",
      });
    }
    if (!callable) return { kind: "attribute" };
    if (rootMethods.has(member)) {
      const doc = rootMethods.get(member);
      return doc === undefined ? { kind: "method" } : { kind: "method", doc };
    }
    // A callable the root's INSPECT does not list: its own docstring.
    const doc = await docOf(value);
    return doc === undefined ? { kind: "method" } : { kind: "method", doc };
  } finally {
    release(value); // HANDLE_DEL now rather than at garbage collection
  }
}
