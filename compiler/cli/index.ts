// rpyc-gen's command line, one folder:
//   index.ts       the entry: parse arguments, dispatch (diff, --introspect, generate), main()
//   io.ts          what every command shares: CliIO and the exit codes (EXIT)
//   generate.ts    emit, then write, or --check what is missing, stale or left over
//   diff.ts        `rpyc-gen diff OLD NEW` (its own exit codes, DIFF_EXIT)
//   introspect.ts  `rpyc-gen [--check] --introspect HOST:PORT`
//   watch.ts       --watch; progress.ts: progress bars in a terminal
//   main.ts        runs main() from the TypeScript sources (`npm run gen`); bin/rpyc-gen.js runs it from dist/
// Exit codes are part of the interface (documented in EXIT and in the README): build
// pipelines branch on them. Subcommands import io.ts and generate.ts, never this module.
//
// Startup cost: only commander and this folder's light modules are imported statically, so
// `rpyc-gen --help` and bad command lines answer without loading ts-morph (TypeScript itself,
// the bulk of a cold start), web-tree-sitter, Handlebars, chokidar or cli-progress. Each is
// imported with `await import()` by the path that needs it (see run()); type-only imports
// cost nothing at runtime.

import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { messageOf } from "../common.js";
import type { EmitOptions } from "../emit.js";
import type { ExtractSession } from "../extract.js";
import { generate, reportDiagnostics } from "./generate.js";
import { command, EXIT, packageOptions, parseArguments, type CliIO } from "./io.js";
import type { Progress } from "./progress.js";
import type { WatchHandle } from "./watch.js";

export { apply, generate, plan, type Plan } from "./generate.js";
export { EXIT, type CliIO } from "./io.js";

interface CliOptions {
  out: string;
  project?: string;
  watch?: boolean;
  check?: boolean;
  package?: string;
  packageVersion?: string;
  emitModel?: boolean;
  quiet?: boolean;
  introspect?: string;
  timeout?: number;
}

export interface RunResult {
  readonly code: number;
  /** Set with --watch: stop watching with close(). */
  readonly watcher?: WatchHandle;
}

function program(io: CliIO): Command {
  return command("rpyc-gen", io)
    .description("Compile rpyc-ts service classes into typed client stubs, dispatch tables, .proto schemas and SDK packages.")
    .usage("[options] [sources...]\n       rpyc-gen diff OLD NEW [options]   (breaking-change check; rpyc-gen diff --help)")
    .argument("[sources...]", "service source files or globs: TypeScript (.ts), or Python RPyC services (.py) (default: the files of --project)")
    .requiredOption("-o, --out <dir>", "output directory")
    .option("-p, --project <tsconfig>", "tsconfig.json whose compiler options resolve imports")
    .option("-w, --watch", "regenerate when a source changes (writes only files whose contents change)")
    .option("--check", `write nothing; exit ${EXIT.STALE} and list the files that are missing, stale or left over`)
    .option("--package <name>", "also emit a publishable SDK package named <name> in the output directory")
    .addOption(new Option("--package-version <version>", "version of the SDK package").default("0.1.0"))
    .option("--emit-model", "also write the extracted ServiceModel as model.json")
    .option("-q, --quiet", "print only errors")
    .option(
      "--introspect <host:port>",
      "read the service from a running RPyC server instead of sources (with --check: compare the stub in --out with the server)",
    )
    .addOption(new Option("--timeout <ms>", "with --introspect: milliseconds for connecting and every question").argParser(parseMilliseconds))
    .addHelpText(
      "after",
      `\nExit codes:\n  ${EXIT.OK}  generated, or up to date with --check\n  ${EXIT.STALE}  --check found missing, stale or left-over files\n  ${EXIT.DIAGNOSTICS}  unsupported constructs in the sources (see the file:line:col messages), or no service in them\n  ${EXIT.USAGE}  bad command line or no input\n  ${EXIT.IO}  a file could not be read or written`,
    );
}

function parseMilliseconds(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0) throw new InvalidArgumentError("a positive whole number of milliseconds");
  return ms;
}

/** Runs rpyc-gen with `argv` (without node and script). */
export async function run(argv: readonly string[], io: CliIO): Promise<RunResult> {
  // Subcommand and live input load their modules only when used.
  if (argv[0] === "diff") {
    const { runDiff } = await import("./diff.js");
    return { code: await runDiff(argv.slice(1), io) };
  }
  const cmd = program(io);
  const failed = parseArguments(cmd, argv);
  if (failed !== undefined) return { code: failed };
  const sources = cmd.args;
  const opts = cmd.opts<CliOptions>();
  if (opts.watch && opts.check) {
    io.stderr("rpyc-gen: --watch and --check cannot be combined\n");
    return { code: EXIT.USAGE };
  }
  if (opts.introspect !== undefined) {
    const conflict = sources.length > 0 ? "source files" : opts.watch ? "--watch" : opts.project ? "--project" : undefined;
    if (conflict) {
      io.stderr(`rpyc-gen: --introspect reads a running server; it cannot be combined with ${conflict}\n`);
      return { code: EXIT.USAGE };
    }
    const { runIntrospect } = await import("./introspect.js");
    const code = await runIntrospect(
      {
        address: opts.introspect,
        outDir: opts.out,
        check: opts.check ?? false,
        quiet: opts.quiet ?? false,
        ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout } : {}),
        ...packageOptions(opts.package, opts.packageVersion),
      },
      io,
    );
    return { code };
  }
  if (sources.length === 0 && !opts.project) {
    io.stderr("rpyc-gen: no sources given (pass files or globs, or --project tsconfig.json)\n");
    return { code: EXIT.USAGE };
  }
  const root = io.cwd;
  const project = opts.project ? path.resolve(root, opts.project) : undefined;
  const emitOptions: EmitOptions = {
    outDir: path.resolve(root, opts.out),
    root,
    ...packageOptions(opts.package, opts.packageVersion),
    ...(opts.emitModel ? { emitModel: true } : {}),
  };
  // Progress bars are drawn only in a terminal: elsewhere cli-progress is not even loaded.
  const progress: Progress = io.interactive ? (await import("./progress.js")).createProgress(io) : { update: () => {}, finish: () => {} };
  const extractOptions = {
    sources,
    root,
    ...(project ? { project } : {}),
    onService: (done: number, total: number) => progress.update("extracting", done, total),
  };
  // Python RPyC services (rpyc-gen service.py): every source a .py/.pyi file or glob.
  const positive = sources.filter((s) => !s.startsWith("!"));
  const python = positive.filter((s) => /\.pyi?$/.test(s));
  if (python.length > 0 && (python.length !== positive.length || opts.project)) {
    io.stderr(
      python.length !== positive.length
        ? `rpyc-gen: Python sources (${python.join(", ")}) and TypeScript sources (${positive.filter((s) => !python.includes(s)).join(", ")}) cannot be compiled in one run; run rpyc-gen once for each\n`
        : "rpyc-gen: --project applies to TypeScript sources, not to Python ones\n",
    );
    return { code: EXIT.USAGE };
  }
  let session: ExtractSession;
  try {
    session =
      python.length > 0
        ? await (await import("../extract-python.js")).createPythonExtractSession(extractOptions)
        : (await import("../extract.js")).createExtractSession(extractOptions);
  } catch (err) {
    io.stderr(`rpyc-gen: ${messageOf(err)}\n`);
    return { code: EXIT.IO };
  }
  const result = session.result;
  if (result.diagnostics.some((d) => d.code === "RPYC_NO_INPUT")) {
    reportDiagnostics(result, io);
    return { code: EXIT.USAGE };
  }
  // Watch mode keeps one emitter: services that did not change are not rendered again.
  const { createEmitter } = await import("../emit.js");
  const emitter = createEmitter((done, total) => progress.update("emitting", done, total));
  const given = sources.length > 0 ? sources.join(", ") : `the files of ${opts.project}`;
  let code: number;
  try {
    code = generate(result, emitOptions, { check: opts.check ?? false, quiet: opts.quiet ?? false, sources: given }, io, emitter);
    progress.finish();
  } catch (err) {
    io.stderr(`rpyc-gen: ${messageOf(err)}\n`);
    return { code: EXIT.IO };
  }
  if (!opts.watch) return { code };
  const { startWatch } = await import("./watch.js");
  const watcher = await startWatch(
    session,
    (next) => {
      const updated = generate(next, emitOptions, { check: false, quiet: opts.quiet ?? false, sources: given }, io, emitter);
      progress.finish();
      return updated;
    },
    io,
  );
  return { code, watcher };
}

/** The process entry: real stdio, exit code on completion (watch mode runs until SIGINT/SIGTERM). */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // `rpyc-gen --help | head` closes the pipe early: stop quietly, as Unix tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      process.exit(typeof process.exitCode === "number" ? process.exitCode : EXIT.OK);
    });
  }
  const io: CliIO = {
    cwd: process.cwd(),
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    interactive: Boolean(process.stderr.isTTY),
  };
  const { code, watcher } = await run(argv, io);
  if (!watcher) {
    process.exitCode = code;
    return;
  }
  const stop = (): void => {
    void watcher.close().then(() => process.exit(EXIT.OK));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
