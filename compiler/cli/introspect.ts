// rpyc-gen --introspect HOST:PORT -o out (a stub from a running server) and
// rpyc-gen --check --introspect HOST:PORT -o out (a deployment gate: does the server still
// match the stub?). cli/index.ts parses the flags and calls runIntrospect; exit codes are cli/io.ts's EXIT.

import path from "node:path";
import { messageOf } from "../common.js";
import { createEmitter, type EmitOptions } from "../emit.js";
import {
  compareWithLive,
  formatLiveComparison,
  formatLiveDiagnostic,
  introspectServer,
  IntrospectError,
  isIntrospectError,
  loadStubModel,
  type ServerAddress,
} from "../introspect.js";
import { generate } from "./generate.js";
import { EXIT, packageOptions, type CliIO } from "./io.js";

export interface IntrospectCliOptions {
  /** "HOST:PORT", or "[IPV6]:PORT" ("[::1]:18861"). */
  readonly address: string;
  /** Output directory (relative to io.cwd or absolute). With check, where the stub and its model.json are. */
  readonly outDir: string;
  /** Compare the stub in outDir with the server instead of generating. */
  readonly check: boolean;
  readonly quiet?: boolean;
  /** Milliseconds for the whole introspection (default DEFAULT_INTROSPECT_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** Also emit an SDK package (rpyc-gen --package). */
  readonly packageName?: string;
  readonly packageVersion?: string;
  /**
   * Write model.json (default true: a live stub has no source to regenerate it from, and
   * `--check --introspect` compares the server with that file).
   */
  readonly emitModel?: boolean;
  /** Module specifier the stubs import the runtime from (default "rpyc-ts"). */
  readonly runtimeImport?: string;
}

/** Parses "127.0.0.1:18861", "localhost:18861" or "[::1]:18861". */
export function parseAddress(text: string): ServerAddress {
  const bad = (why: string): IntrospectError => new IntrospectError("BAD_ADDRESS", `bad address '${text}': ${why} (expected HOST:PORT, or [IPV6]:PORT)`);
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]+):(\d+)$/.exec(text);
  if (!match) throw bad(text.split(":").length > 2 ? "write an IPv6 address in brackets" : "no port");
  const port = Number(match[2]);
  if (!(port > 0 && port < 65536)) throw bad("the port must be 1-65535");
  return { host: match[1]!, port };
}

/**
 * Runs `rpyc-gen [--check] --introspect ADDRESS -o OUT`. Returns the exit code: EXIT.OK
 * (generated; with check: the server matches the stub), EXIT.STALE (check: members added,
 * removed or changed, listed on stderr), EXIT.USAGE (bad address), EXIT.IO (the server could
 * not be introspected, model.json is missing or unreadable, or writing failed).
 */
export async function runIntrospect(options: IntrospectCliOptions, io: CliIO): Promise<number> {
  let address: ServerAddress;
  try {
    address = parseAddress(options.address);
  } catch (err) {
    io.stderr(`rpyc-gen: ${messageOf(err)}\n`);
    return EXIT.USAGE;
  }
  const outDir = path.resolve(io.cwd, options.outDir);
  const shownOut = path.relative(io.cwd, outDir) || ".";
  const stub = options.check ? loadStub(outDir, shownOut, io) : undefined;
  if (stub === null) return EXIT.IO;

  let live: Awaited<ReturnType<typeof introspectServer>>;
  try {
    live = await introspectServer(address, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  } catch (err) {
    if (!isIntrospectError(err)) throw err;
    io.stderr(`rpyc-gen --introspect: ${err.message} [${err.code}]\n`);
    return EXIT.IO;
  }
  // Members left out are worth seeing even with --quiet: the stub (or the check) lacks them.
  for (const d of live.diagnostics) io.stderr(`${formatLiveDiagnostic(live.where, d)}\n`);

  if (stub) {
    let comparison: ReturnType<typeof compareWithLive>;
    try {
      comparison = compareWithLive(stub, live.model);
    } catch (err) {
      if (!isIntrospectError(err)) throw err;
      io.stderr(`rpyc-gen --check --introspect: ${err.message}\n`);
      return EXIT.STALE;
    }
    if (comparison.matches) {
      if (!options.quiet) io.stdout(formatLiveComparison(comparison));
      return EXIT.OK;
    }
    io.stderr(formatLiveComparison(comparison));
    io.stderr(
      `rpyc-gen --check --introspect: the server differs from the stub in ${shownOut}; regenerate it (rpyc-gen --introspect ${options.address} -o ${shownOut}) or fix the deployment\n`,
    );
    return EXIT.STALE;
  }

  const emitOptions: EmitOptions = {
    outDir,
    root: io.cwd,
    ...((options.emitModel ?? true) ? { emitModel: true } : {}),
    ...packageOptions(options.packageName, options.packageVersion),
    ...(options.runtimeImport ? { runtimeImport: options.runtimeImport } : {}),
  };
  try {
    return generate({ model: live.model, diagnostics: [], files: [] }, emitOptions, { check: false, quiet: options.quiet ?? false }, io, createEmitter());
  } catch (err) {
    io.stderr(`rpyc-gen: ${messageOf(err)}\n`);
    return EXIT.IO;
  }
}

/** The stub's model, or null after printing why it cannot be read. */
function loadStub(outDir: string, shownOut: string, io: CliIO): ReturnType<typeof loadStubModel> | null {
  try {
    return loadStubModel(outDir, shownOut);
  } catch (err) {
    if (!isIntrospectError(err)) throw err;
    io.stderr(`rpyc-gen --check --introspect: ${err.message}\n`);
    return null;
  }
}
