// rpyc-classic: a classic-mode server (rpyc/cli/rpyc_classic.py) serving ClassicService.
// It GRANTS ARBITRARY CODE EXECUTION to anyone who can connect, so it binds 127.0.0.1
// unless told otherwise and says so loudly on stderr every time it starts.
//
// Flags mirror rpyc_classic where they make sense in Node: --host (default 127.0.0.1, ::1
// with --ipv6), -p/--port (18812), --ipv6, -m/--mode threaded|oneshot, -q/--quiet,
// --logfile, --register with --registry-type UDP|TCP, --registry-host, --registry-port.
// Not supported: the forking and stdio modes, SSL.
// Run it as `rpyc-classic`, or from a checkout as `node --import tsx runtime/classic/cli.ts`.

import { appendFileSync } from "node:fs";
import { isIP } from "node:net";
import { userInfo } from "node:os";
import { ClassicService, DEFAULT_CLASSIC_PORT } from "./classic.js";
import type { Logger } from "../connection/config.js";
import { isListenError } from "../errors/rpyc-errors.js";
import { CliExit, isEntryPoint, parseCommandLine, usageError, type CliIO, type CommandSpec, type ParsedOptions } from "../registry/args.js";
import type { Registrar } from "../registry/registrar.js";
import { TCPRegistryClient } from "../registry/tcp-client.js";
import { UDPRegistryClient } from "../registry/udp-client.js";
import { OneShotServer, ThreadedServer, type Server, type ServerOptions } from "../server/server.js";

/** Where the CLI writes (tests capture it). */
export type ClassicCliIO = CliIO;

export interface ClassicCliOptions {
  /** Default: the process's stdout and stderr. */
  io?: ClassicCliIO;
  /** Close the server on SIGINT/SIGTERM (default: true; the handlers are removed once it stops). */
  handleSignals?: boolean;
}

/** A started (or refused) rpyc-classic run. */
export interface ClassicCli {
  /** The running server; undefined after --help or a bad command line. */
  readonly server: Server | undefined;
  /** Resolves with the exit code once the server has stopped (at once after --help or an error). */
  readonly done: Promise<number>;
  /** Stops the server, as SIGINT/SIGTERM do. */
  close(): Promise<void>;
}

const processIO: ClassicCliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** True for addresses that only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice("::ffff:".length) : h;
  return isIP(v4) === 4 && v4.startsWith("127.");
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
}

/** The warning printed on every start; louder when the address is reachable from other hosts. */
export function securityWarning(host: string, port: number): string {
  const bar = "=".repeat(78);
  const lines = [
    bar,
    "WARNING: rpyc-classic serves ClassicService. It GRANTS ARBITRARY CODE EXECUTION",
    `to anyone who can connect to ${host}:${port}: they can run any JavaScript, read and`,
    `write files and start processes as user ${currentUser()} (pid ${process.pid}). There is no`,
    "authentication. Use it only on machines and networks you fully trust.",
  ];
  if (!isLoopbackHost(host)) {
    lines.push(
      "",
      "!!! DANGER !!! DANGER !!! DANGER !!!",
      `!!! ${host} IS NOT A LOOPBACK ADDRESS: ANY HOST THAT CAN REACH THIS MACHINE ON`,
      `!!! PORT ${port} CAN EXECUTE ARBITRARY CODE HERE. Bind to 127.0.0.1 (the default)`,
      "!!! unless you really mean to give this machine away.",
    );
  }
  lines.push(bar);
  return `${lines.join("\n")}\n`;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error("must be an integer from 0 to 65535");
  return port;
}

const COMMAND = {
  name: "rpyc-classic",
  description:
    "Serve ClassicService (RPyC classic mode: remote eval/execute of JavaScript, remote imports).\n" +
    "WARNING: this grants arbitrary code execution to anyone who can connect.",
  options: {
    host: { value: "<host>", description: "interface to bind (default: 127.0.0.1, or ::1 with --ipv6; NOT all interfaces)" },
    port: { short: "p", value: "<port>", description: "TCP port (0 picks a free one)", default: DEFAULT_CLASSIC_PORT, parse: parsePort },
    ipv6: { description: "bind ::1 by default" },
    mode: {
      short: "m",
      value: "<mode>",
      description: "threaded: many clients; oneshot: serve one client, then exit",
      choices: ["threaded", "oneshot"],
      default: "threaded",
    },
    quiet: { short: "q", description: "log only errors (the security warning is always printed)" },
    logfile: { value: "<path>", description: "append the log to this file instead of stderr" },
    register: { description: 'register with a registry server (as "SLAVE"); by default the server does not' },
    "registry-type": { value: "<type>", description: "UDP or TCP registry", choices: ["UDP", "TCP"], default: "UDP" },
    "registry-port": { value: "<port>", description: "the registry's UDP/TCP port (default: $RPYC_REGISTRY_PORT, else 18811)", parse: parsePort },
    "registry-host": {
      value: "<host>",
      description: "the registry host (UDP default: $RPYC_REGISTRY_HOST, else the broadcast 255.255.255.255; required for TCP)",
    },
  },
} as const satisfies CommandSpec;

type Flags = ParsedOptions<typeof COMMAND.options>;

function makeLogger(io: ClassicCliIO, flags: Flags): Logger {
  const write = (level: string, message: string): void => {
    const line = `${new Date().toISOString()} ${level.padEnd(5)} [rpyc-classic] ${message}\n`;
    if (flags.logfile !== undefined) appendFileSync(flags.logfile, line);
    else io.stderr(line);
  };
  return {
    debug: () => {},
    info: (message) => void (flags.quiet ? undefined : write("INFO", message)),
    warn: (message) => void (flags.quiet ? undefined : write("WARN", message)),
    error: (message) => write("ERROR", message),
  };
}

function finished(code: number): ClassicCli {
  return { server: undefined, done: Promise.resolve(code), close: async () => {} };
}

/**
 * Runs rpyc-classic with `argv` (without node and the script). Resolves once the server
 * listens (or the command line was handled); `done` resolves with the exit code when the
 * server stops — on SIGINT/SIGTERM, `close()`, or after the one client in oneshot mode.
 */
export async function main(argv: readonly string[] = process.argv.slice(2), options: ClassicCliOptions = {}): Promise<ClassicCli> {
  const io = options.io ?? processIO;
  let flags: Flags;
  try {
    flags = parseCommandLine(COMMAND, argv, io);
  } catch (err) {
    if (err instanceof CliExit) return finished(err.exitCode);
    throw err;
  }
  const host = flags.host && flags.host !== "" ? flags.host : flags.ipv6 ? "::1" : "127.0.0.1";
  const logger = makeLogger(io, flags);

  let registrar: Registrar | undefined;
  if (flags.register) {
    const registryOptions = {
      logger,
      ...(flags["registry-host"] === undefined ? {} : { ip: flags["registry-host"] }),
      ...(flags["registry-port"] === undefined ? {} : { port: flags["registry-port"] }),
    };
    try {
      registrar = flags["registry-type"] === "TCP" ? new TCPRegistryClient(registryOptions) : new UDPRegistryClient(registryOptions);
    } catch (err) {
      // A TCP registry has no broadcast address to fall back on.
      return finished(usageError(COMMAND.name, `${(err as Error).message} (--registry-host)`, io).exitCode);
    }
  }
  const serverOptions: ServerOptions = { hostname: host, port: flags.port, logger, ...(registrar ? { registrar, autoRegister: true } : {}) };
  const server: ThreadedServer | OneShotServer =
    flags.mode === "oneshot" ? new OneShotServer(ClassicService, serverOptions) : new ThreadedServer(ClassicService, serverOptions);
  try {
    await server.start();
  } catch (err) {
    // A ListenError names the address, the cause and what to do; logged once.
    logger.error(isListenError(err) ? err.message : `cannot listen on ${host}:${flags.port}: ${(err as Error).message}`);
    return finished(1);
  }

  io.stderr(securityWarning(host, server.port));
  if (flags.mode === "oneshot") io.stdout(`rpyc-oneshot\n${server.host}\t${server.port}\n`);

  // A threaded server runs until close() (a signal or the caller); a oneshot server also
  // stops by itself after its one client.
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  let stopping: Promise<void> | undefined;
  const close = (): Promise<void> => {
    stopping ??= server
      .close()
      .then(() => registrar?.close?.())
      .then(() => markStopped());
    return stopping;
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info(`${signal} received, shutting down`);
    void close();
  };
  if (options.handleSignals ?? true) for (const signal of signals) process.once(signal, onSignal);
  if (server instanceof OneShotServer) void server.whenDone().then(close);
  const done = stopped.then(() => {
    for (const signal of signals) process.off(signal, onSignal);
    logger.info("server stopped");
    return 0;
  });
  return { server, done, close };
}

/** The `rpyc-classic` executable: main(argv), then exit with its code once the server stops. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  const cli = await main(argv);
  process.exit(await cli.done);
}

if (isEntryPoint(import.meta.url)) await run();
