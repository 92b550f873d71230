// rpyc-registry: runs a UDP or TCP registry server, with the flags of RPyC's rpyc_registry
// (-m/--mode, -p/--port, -t/--timeout, -l/--listing, -6/--ipv6, -q/--quiet, --logfile) plus
// --host. Stops cleanly (closes the server, exit 0) on SIGINT or SIGTERM.
// Run it as `rpyc-registry`, or from a checkout as `node --import tsx runtime/registry/cli.ts`.

import { createWriteStream, realpathSync, type WriteStream } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { Logger } from "../connection/config.js";
import { isWildcard } from "./addresses.js";
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
export interface RegistryCliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

export type RegistryServer = UDPRegistryServer | TCPRegistryServer;

const EXIT_USAGE = 2;

function integer(min: number, max: number, what: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || n < min || n > max) throw new InvalidArgumentError(`${what} must be an integer in [${min}..${max}]`);
    return n;
  };
}

/** RPyC's -l and -q take a value (plumbum); we also accept them bare, as flags. */
function flagValue(value: string | boolean | undefined): boolean {
  if (value === undefined || typeof value === "boolean") return value ?? false;
  const text = value.trim().toLowerCase();
  if (["1", "true", "yes", "on", ""].includes(text)) return true;
  if (["0", "false", "no", "off"].includes(text)) return false;
  throw new InvalidArgumentError(`expected a boolean (true/false), got ${JSON.stringify(value)}`);
}

function program(io: RegistryCliIO): Command {
  return new Command("rpyc-registry")
    .description(
      "RPyC registry server: servers register their services here, clients discover them.\n" +
        "Environment for clients (not this server): RPYC_REGISTRY_HOST / RPYC_REGISTRY_PORT set the registry address they use.",
    )
    .addOption(
      new Option("-m, --mode <mode>", "serving mode: UDP or TCP").default("UDP").argParser((value: string) => {
        const mode = value.toUpperCase();
        if (mode !== "UDP" && mode !== "TCP") throw new InvalidArgumentError("mode must be UDP or TCP");
        return mode;
      }),
    )
    .addOption(new Option("-p, --port <port>", "the UDP/TCP listener port").default(REGISTRY_PORT).argParser(integer(0, 65535, "port")))
    .addOption(new Option("--host <host>", 'interface to bind (default "0.0.0.0", "::" with --ipv6: all interfaces)'))
    .addOption(
      new Option("-t, --timeout <seconds>", "pruning timeout: drop registrations not renewed for this long")
        .default(DEFAULT_PRUNING_TIMEOUT)
        .argParser(integer(1, 2 ** 31, "timeout")),
    )
    .option("-l, --listing [value]", "allow clients to list the registered services (off by default)")
    .option("-6, --ipv6", "use IPv6 instead of IPv4")
    .option("-q, --quiet [value]", "quiet mode (only errors are logged)")
    .option("--logfile <path>", "the log file to use; the default is stderr")
    .addOption(
      new Option("--max-entries <n>", "bound on registered (service, address) pairs")
        .default(DEFAULT_MAX_ENTRIES)
        .argParser(integer(1, 2 ** 31, "max-entries")),
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
}

/** Parses rpyc-registry's arguments (without the node/script prefix). Throws CommanderError. */
export function parseRegistryArgs(argv: readonly string[], io: RegistryCliIO = { stdout: () => {}, stderr: () => {} }): RegistryCliOptions {
  const command = program(io);
  command.parse([...argv], { from: "user" });
  const o = command.opts<{
    mode: "UDP" | "TCP";
    port: number;
    host?: string;
    timeout: number;
    listing?: string | boolean;
    ipv6?: boolean;
    quiet?: string | boolean;
    logfile?: string;
    maxEntries: number;
  }>();
  let allowListing: boolean;
  let quiet: boolean;
  try {
    allowListing = flagValue(o.listing);
    quiet = flagValue(o.quiet);
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n`);
    throw new CommanderError(EXIT_USAGE, "rpyc-registry.invalidArgument", (err as Error).message);
  }
  const ipv6 = o.ipv6 ?? false;
  return {
    mode: o.mode,
    host: o.host ?? (ipv6 ? "::" : "0.0.0.0"),
    port: o.port,
    pruningTimeout: o.timeout,
    allowListing,
    ipv6,
    quiet,
    maxEntries: o.maxEntries,
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
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
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

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main();
