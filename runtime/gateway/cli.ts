// rpyc-gateway: lets web pages reach an RPyC server (Python or rpyc-ts) over WebSocket, only
// through what the service's model declares (runtime/gateway/gateway.ts).
//   rpyc-gateway --listen 127.0.0.1:8080 --upstream 127.0.0.1:18871 --model model.json [--path /rpyc]
// The model is rpyc-gen's `--emit-model` output for the service's source. Stops cleanly
// (closes every session, exit 0) on SIGINT or SIGTERM.

import { readFileSync } from "node:fs";
import type { Logger } from "../connection/config.js";
import { CliExit, isEntryPoint, parseCommandLine, type CliIO, type CommandSpec } from "../registry/args.js";
import { Gateway, type GatewayOptions } from "./gateway.js";

/** "host:port" or "[v6]:port". */
function hostPort(what: string) {
  return (text: string): { host: string; port: number } => {
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
    const port = match ? Number(match[3]) : -1;
    if (!match || port > 65535) throw new Error(`${what} must be HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080)`);
    return { host: match[1] ?? match[2]!, port };
  };
}

function positive(what: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || n < 1) throw new Error(`${what} must be a positive integer`);
    return n;
  };
}

const COMMAND = {
  name: "rpyc-gateway",
  description:
    "Lets web pages reach an RPyC server over WebSocket, only through the members its model declares, every argument checked against it before it is forwarded. " +
    "The model: `rpyc-gen service.py --emit-model -o DIR` writes DIR/model.json. Pages connect with the stub's connectXxxWebSocket(url).",
  options: {
    listen: { value: "<host:port>", description: "where pages connect (port 0 picks a free one)", parse: hostPort("--listen") },
    upstream: { value: "<host:port>", description: "the RPyC server behind the gateway", parse: hostPort("--upstream") },
    model: { value: "<model.json>", description: "the service's model, from rpyc-gen --emit-model" },
    path: { value: "<path>", description: "path of the WebSocket upgrade", default: "/rpyc" },
    service: { value: "<name>", description: "which service of the model the upstream serves (when the model has several)" },
    origins: { value: "<url,url>", description: "page origins allowed to connect, comma-separated (default: any)" },
    "max-sessions": { value: "<n>", description: "pages served at once", default: 1000, parse: positive("--max-sessions") },
    "max-pending-calls": { value: "<n>", description: "calls one page may have waiting for the server", default: 64, parse: positive("--max-pending-calls") },
    quiet: { short: "q", description: "log only errors" },
  },
} as const satisfies CommandSpec;

/** Turns the command line into Gateway options; throws CliExit after --help or on a usage error. */
export function parseGatewayArgs(argv: readonly string[], io: CliIO): GatewayOptions & { readonly quiet: boolean; readonly modelPath: string } {
  const o = parseCommandLine(COMMAND, argv, io);
  const missing = (["listen", "upstream", "model"] as const).filter((name) => o[name] === undefined);
  if (missing.length > 0) {
    io.stderr(`rpyc-gateway: error: missing ${missing.map((m) => `--${m}`).join(", ")}\n(see rpyc-gateway --help)\n`);
    throw new CliExit(2, `missing ${missing.join(", ")}`);
  }
  let model: unknown;
  try {
    model = JSON.parse(readFileSync(o.model!, "utf8"));
  } catch (err) {
    io.stderr(`rpyc-gateway: error: cannot read the model ${o.model}: ${(err as Error).message}\n`);
    throw new CliExit(2, "unreadable model");
  }
  return {
    hostname: o.listen!.host,
    port: o.listen!.port,
    upstream: o.upstream!,
    model,
    modelPath: o.model!,
    path: o.path,
    maxSessions: o["max-sessions"],
    maxPendingCalls: o["max-pending-calls"],
    quiet: o.quiet ?? false,
    ...(o.service === undefined ? {} : { service: o.service }),
    ...(o.origins === undefined
      ? {}
      : {
          origins: o.origins
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
        }),
  };
}

function stderrLogger(quiet: boolean): Logger {
  const line = (level: string) => (message: string) => void process.stderr.write(`${new Date().toISOString()} ${level} rpyc-gateway: ${message}\n`);
  const silent = (): void => {};
  return { debug: silent, info: quiet ? silent : line("INFO"), warn: quiet ? silent : line("WARNING"), error: line("ERROR") };
}

/** The process entry: parse, serve until SIGINT/SIGTERM, then close and exit 0. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const io: CliIO = { stdout: (s) => void process.stdout.write(s), stderr: (s) => void process.stderr.write(s) };
  let options: ReturnType<typeof parseGatewayArgs>;
  let gateway: Gateway;
  try {
    options = parseGatewayArgs(argv, io);
    gateway = new Gateway({ ...options, logger: stderrLogger(options.quiet) });
  } catch (err) {
    if (err instanceof CliExit) {
      process.exitCode = err.exitCode;
      return;
    }
    io.stderr(`rpyc-gateway: error: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const stop = (): void => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    void gateway.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    await gateway.start();
  } catch (err) {
    io.stderr(`rpyc-gateway: cannot listen on ${options.hostname}:${options.port}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const service = gateway.model.services.find((s) => options.service === undefined || s.schema.className === options.service) ?? gateway.model.services[0]!;
  io.stdout(
    `rpyc-gateway: pages connect to ${gateway.url}; forwarding to ${options.upstream.host}:${options.upstream.port} ` +
      `(${service.schema.className}: ${Object.keys(service.schema.methods).length} methods, ${Object.keys(service.schema.attributes).length} attributes, from ${options.modelPath})\n`,
  );
}

if (isEntryPoint(import.meta.url)) await main();
