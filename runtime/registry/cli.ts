// rpyc-registry: runs a UDP or TCP registry server, with the flags of RPyC's rpyc_registry
// (-m/--mode, -p/--port, -t/--timeout, -l/--listing, -6/--ipv6, -q/--quiet, --logfile) plus
// --host. Stops cleanly (closes the server, exit 0) on SIGINT or SIGTERM.
// Run it as `rpyc-registry`, or from a checkout as `node --import tsx runtime/registry/cli.ts`.

import { createWriteStream, type WriteStream } from "node:fs";
import type { Logger } from "../connection/config.js";
import { isWildcard } from "./addresses.js";
import { CliExit, isEntryPoint, parseCommandLine, type CliIO, type CommandSpec } from "./args.js";
import { DEFAULT_MAX_ENTRIES } from "./registry-core.js";
import { DEFAULT_PRUNING_TIMEOUT, REGISTRY_PORT } from "./registrar.js";
import { TCPRegistryServer } from "./tcp-server.js";
import { UDPRegistryServer } from "./udp-server.js";

/** What the command line asks for. */
export interface RegistryCliOptions {
  mode: "UDP" | "TCP";
  host: string;
  port: number;
  pruningTimeout: number;
  allowListing: boolean;
  ipv6: boolean;
  quiet: boolean;
  logfile?: string;
  maxEntries: number;
}

/** Where the CLI writes: injectable for tests. */
export type RegistryCliIO = CliIO;

export type RegistryServer = UDPRegistryServer | TCPRegistryServer;

export { CliExit };

function integer(min: number, max: number, what: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) throw new Error(`${what} must be an integer in [${min}..${max}]`);
    return n;
  };
}

/** RPyC's -l and -q take a value (plumbum); they also work bare, as flags. */
function flagValue(value: string): boolean {
  const text = value.trim().toLowerCase();
  if (["1", "true", "yes", "on", ""].includes(text)) return true;
  if (["0", "false", "no", "off"].includes(text)) return false;
  throw new Error("expected a boolean: true/false, yes/no, on/off or 1/0");
}

function parseMode(value: string): "UDP" | "TCP" {
  const mode = value.toUpperCase();
  if (mode !== "UDP" && mode !== "TCP") throw new Error("mode must be UDP or TCP");
  return mode;
}

const COMMAND = {
  name: "rpyc-registry",
  description:
    "RPyC registry server: servers register their services here, clients discover them.\n" +
    "Environment for clients (not this server): RPYC_REGISTRY_HOST / RPYC_REGISTRY_PORT set the registry address they use.",
  options: {
    mode: { short: "m", value: "<mode>", description: "serving mode: UDP or TCP", default: "UDP", parse: parseMode },
    port: { short: "p", value: "<port>", description: "the UDP/TCP listener port", default: REGISTRY_PORT, parse: integer(0, 65535, "port") },
    host: { value: "<host>", description: 'interface to bind (default "0.0.0.0", "::" with --ipv6: all interfaces)' },
    timeout: {
      short: "t",
      value: "<seconds>",
      description: "pruning timeout: drop registrations not renewed for this long",
      default: DEFAULT_PRUNING_TIMEOUT,
      parse: integer(1, 2 ** 31, "timeout"),
    },
    listing: { short: "l", value: "[value]", description: "allow clients to list the registered services (off by default)", parse: flagValue },
    ipv6: { short: "6", description: "use IPv6 instead of IPv4" },
    quiet: { short: "q", value: "[value]", description: "quiet mode (only errors are logged)", parse: flagValue },
    logfile: { value: "<path>", description: "the log file to use; the default is stderr" },
    "max-entries": {
      value: "<n>",
      description: "bound on registered (service, address) pairs",
      default: DEFAULT_MAX_ENTRIES,
      parse: integer(1, 2 ** 31, "max-entries"),
    },
  },
} as const satisfies CommandSpec;

/**
 * Parses rpyc-registry's arguments (without the node/script prefix). Throws CliExit: after
 * --help (exitCode 0, the help written to io.stdout) or on a usage error (exitCode 2,
 * `error: ...` written to io.stderr).
 */
export function parseRegistryArgs(argv: readonly string[], io: RegistryCliIO = { stdout: () => {}, stderr: () => {} }): RegistryCliOptions {
  const o = parseCommandLine(COMMAND, argv, io);
  const ipv6 = o.ipv6 ?? false;
  return {
    mode: o.mode,
    host: o.host ?? (ipv6 ? "::" : "0.0.0.0"),
    port: o.port,
    pruningTimeout: o.timeout,
    allowListing: o.listing ?? false,
    ipv6,
    quiet: o.quiet ?? false,
    maxEntries: o["max-entries"],
    ...(o.logfile === undefined ? {} : { logfile: o.logfile }),
  };
}

/** A logger in RPyC's format: everything (debug and up), or only errors when quiet. */
function makeLogger(name: string, quiet: boolean, write: (line: string) => void): Logger {
  const line =
    (level: string) =>
    (message: string): void => {
      write(`${new Date().toISOString()} ${level} ${name}: ${message}\n`);
    };
  const silent = (): void => {};
  return {
    debug: quiet ? silent : line("DEBUG"),
    info: quiet ? silent : line("INFO"),
    warn: quiet ? silent : line("WARNING"),
    error: line("ERROR"),
  };
}

/** Starts the registry the options describe; resolves once it is listening. */
export async function startRegistry(options: RegistryCliOptions, io: RegistryCliIO, log: (line: string) => void = io.stderr): Promise<RegistryServer> {
  const logger = makeLogger(`REGSRV/${options.mode}`, options.quiet, log);
  const common = {
    host: options.host,
    port: options.port,
    pruningTimeout: options.pruningTimeout,
    allowListing: options.allowListing,
    maxEntries: options.maxEntries,
    ipv6: options.ipv6,
    logger,
  };
  const server = options.mode === "TCP" ? new TCPRegistryServer(common) : new UDPRegistryServer(common);
  await server.start();
  if (!options.quiet) io.stdout(bannerLine(options, server.port));
  return server;
}

/** The line printed once listening; says so when the registry listens on all interfaces. */
export function bannerLine(options: Pick<RegistryCliOptions, "mode" | "host" | "pruningTimeout" | "allowListing">, port: number): string {
  const where = isWildcard(options.host) ? " (all interfaces)" : "";
  return `rpyc-registry: ${options.mode} registry listening on ${options.host}:${port}${where}, pruning timeout ${options.pruningTimeout} s, listing ${options.allowListing ? "on" : "off"}\n`;
}

/** The process entry: parse, serve until SIGINT/SIGTERM, then close and exit 0. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const io: RegistryCliIO = { stdout: (s) => void process.stdout.write(s), stderr: (s) => void process.stderr.write(s) };
  let options: RegistryCliOptions;
  try {
    options = parseRegistryArgs(argv, io);
  } catch (err) {
    if (err instanceof CliExit) {
      process.exitCode = err.exitCode; // 0 after --help, 2 (the error is on stderr)
      return;
    }
    throw err;
  }
  let logfile: WriteStream | undefined;
  if (options.logfile !== undefined) logfile = createWriteStream(options.logfile, { flags: "a" });
  const finish = (code: number): void => {
    if (logfile) logfile.end(() => process.exit(code));
    else process.exit(code);
  };
  // Handlers go in before anything is printed: a signal that finds no handler kills the
  // process outright (no close, no exit 0), and a supervisor may signal as soon as it
  // reads the banner.
  const starting = startRegistry(options, io, logfile ? (line) => void logfile.write(line) : io.stderr);
  const stop = (signal: NodeJS.Signals): void => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    if (!options.quiet) io.stdout(`rpyc-registry: ${signal}, closing\n`);
    void starting.then(
      (server) => server.close().then(() => finish(0)),
      () => finish(0),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    await starting;
  } catch (err) {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    io.stderr(`rpyc-registry: cannot listen on ${options.host}:${options.port}: ${(err as Error).message}\n`);
    finish(1);
  }
}

if (isEntryPoint(import.meta.url)) await main();
