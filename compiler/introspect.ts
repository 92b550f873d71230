// A running RPyC server as rpyc-gen input: connect, read the root service's names and exposed
// members with the handlers RPyC 5.3 answers (compiler/introspect/probe.ts), and give the
// ServiceModel of an untyped but complete stub; compareWithLive checks a stub against a server.

import { connect, isConnectError, isConnectionClosedError, isProtocolError, isRpycError, isTimeoutError, type Connection } from "rpyc-ts";
import { messageOf } from "./common.js";
import type { ServiceModel } from "./model.js";
import { IntrospectError, type LiveDiagnostic } from "./introspect/errors.js";
import { liveServiceModel } from "./introspect/live-model.js";
import { probeService } from "./introspect/probe.js";

export {
  IntrospectError,
  isIntrospectError,
  formatLiveDiagnostic,
  LIVE_DIAGNOSTIC_CODES,
  type IntrospectErrorCode,
  type LiveDiagnostic,
  type LiveDiagnosticCode,
} from "./introspect/errors.js";
export { cleanDoc, liveClassName, liveServiceModel, type LiveMember, type LiveMemberKind, type LiveService } from "./introspect/live-model.js";
export { MAX_LIVE_MEMBERS } from "./introspect/probe.js";
export { compareWithLive, formatLiveComparison, loadStubModel, type LiveComparison, type LiveChange, type MemberSummary } from "./introspect/compare.js";

/** How long introspection may take by default, connecting included. */
export const DEFAULT_INTROSPECT_TIMEOUT_MS = 10_000;

export interface ServerAddress {
  /** A host name or an IP literal ("127.0.0.1", "::1"). */
  readonly host: string;
  readonly port: number;
}

export interface IntrospectOptions {
  /** Milliseconds for the whole introspection, connecting included (default DEFAULT_INTROSPECT_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** The server's `exposed_prefix` (default "exposed_", RPyC's). */
  readonly exposedPrefix?: string;
}

export interface IntrospectResult {
  /** One service (origin "live"), members sorted, every type unknown. */
  readonly model: ServiceModel;
  /** What could not be read (members left out, missing docstrings), sorted by member. */
  readonly diagnostics: readonly LiveDiagnostic[];
  /** "HOST:PORT" ("[::1]:PORT" for IPv6): the model's module and location file. */
  readonly where: string;
}

/** "127.0.0.1:18861", or "[::1]:18861" for an IPv6 literal. */
export function formatAddress(address: ServerAddress): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function errnoOf(err: unknown): string | undefined {
  if (isConnectError(err)) return err.systemCode;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/** Any failure of introspection as an IntrospectError with a code callers can branch on. */
function asIntrospectError(err: unknown, where: string, timeoutMs: number, signal: AbortSignal, closeReason: Error | undefined): unknown {
  if (err instanceof IntrospectError) return err;
  if (signal.aborted) return signal.reason;
  const message = messageOf(err);
  if (isTimeoutError(err)) return new IntrospectError("TIMEOUT", `${where}: no answer within ${timeoutMs} ms (${message})`, { cause: err });
  // Requests in flight reject with "connection closed"; why it closed is the close event's reason.
  const notRpyc = (e: unknown): boolean => isProtocolError(e) || (isRpycError(e) && e.code === "FRAME_TOO_LARGE");
  if (notRpyc(err) || notRpyc(closeReason)) return new IntrospectError("NOT_RPYC", `${where}: the server does not speak RPyC (${message})`, { cause: err });
  if (isConnectionClosedError(err))
    return new IntrospectError("CONNECTION_CLOSED", `${where}: the server closed the connection during introspection (${message})`, { cause: err });
  const errno = errnoOf(err);
  if (errno === "ETIMEDOUT") return new IntrospectError("TIMEOUT", `${where}: no answer within ${timeoutMs} ms (${message})`, { cause: err });
  if (errno === "ECONNREFUSED") return new IntrospectError("CONNECTION_REFUSED", `${where}: connection refused; is the server running?`, { cause: err });
  if (errno === "ECONNRESET" || errno === "EPIPE")
    return new IntrospectError("CONNECTION_CLOSED", `${where}: the server reset the connection (${errno})`, { cause: err });
  if (errno !== undefined) return new IntrospectError("CONNECT_FAILED", `${where}: cannot connect (${errno}: ${message})`, { cause: err });
  return err;
}

/**
 * Connects to the server at `address`, reads its service and returns the model of a stub for
 * it. Calls nothing on the server but get_service_name() and get_service_aliases(); reads
 * exposed attributes (a Python property runs its getter). Rejects with IntrospectError
 * (CONNECTION_REFUSED, TIMEOUT, ...) when it cannot; the connection is closed in every case.
 */
export async function introspectServer(address: ServerAddress, options: IntrospectOptions = {}): Promise<IntrospectResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_INTROSPECT_TIMEOUT_MS;
  const where = formatAddress(address);
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs < 2 ** 31))
    throw new RangeError("introspectServer(): timeoutMs must be a positive number of milliseconds");
  if (!(Number.isInteger(address.port) && address.port > 0 && address.port < 65536))
    throw new IntrospectError("BAD_ADDRESS", `${where}: the port must be 1-65535`);

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new IntrospectError("TIMEOUT", `${where}: no answer within ${timeoutMs} ms`)), timeoutMs);
  const deadline = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }));
  deadline.catch(() => {}); // only ever observed through the races below
  const seconds = timeoutMs / 1000;
  // The runtime's own timeouts are a second longer than ours, so a timeout is always reported as ours.
  const connecting = connect(address.host, address.port, { timeout: seconds + 1, config: { sync_request_timeout: seconds + 1 } });
  let conn: Connection | undefined;
  let closeReason: Error | undefined;
  try {
    conn = await Promise.race([connecting, deadline]);
    conn.once("close", (event) => (closeReason = event.reason));
    const { service, diagnostics } = await Promise.race([
      probeService(conn, { where, exposedPrefix: options.exposedPrefix ?? "exposed_", signal: controller.signal }),
      deadline,
    ]);
    const sorted = [...diagnostics].sort((a, b) => ((a.member ?? "") < (b.member ?? "") ? -1 : (a.member ?? "") > (b.member ?? "") ? 1 : 0));
    return { model: liveServiceModel(service), diagnostics: sorted, where };
  } catch (err) {
    throw asIntrospectError(err, where, timeoutMs, controller.signal, closeReason);
  } finally {
    clearTimeout(timer);
    if (conn) await conn.close().catch(() => {});
    // Our deadline passed while connecting: close the connection if it still comes.
    else
      connecting.then(
        (late) => late.close(),
        () => {},
      );
  }
}
