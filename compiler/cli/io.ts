// What every rpyc-gen command shares: the I/O it writes through and the exit codes of the
// main command (documented in --help and in the README: build pipelines branch on them).
// The subcommands import this module, never the entry (cli/index.ts), so no import cycles.

import { Command, CommanderError } from "commander";

/** Exit codes of rpyc-gen. */
export const EXIT = {
  /** Generated (or, with --check, everything up to date). */
  OK: 0,
  /** --check: some output is missing, stale or left over. */
  STALE: 1,
  /** The sources contain unsupported constructs (diagnostics printed with file:line:col), or no service. */
  DIAGNOSTICS: 2,
  /** Bad command line (unknown option, no --out, no input). */
  USAGE: 3,
  /** Reading or writing failed. */
  IO: 4,
} as const;

export interface CliIO {
  readonly cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress bars only then). */
  readonly interactive: boolean;
}

/** A Commander command that writes through `io` and throws instead of exiting the process. */
export function command(name: string, io: CliIO): Command {
  return new Command(name).exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
}

/**
 * Parses the user's arguments into `cmd`: undefined when they parse, else the exit code
 * (EXIT.OK after --help, EXIT.USAGE for a bad command line; Commander printed why).
 */
export function parseArguments(cmd: Command, argv: readonly string[]): number | undefined {
  try {
    cmd.parse([...argv], { from: "user" });
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    throw err;
  }
}

/** The SDK package options of --package NAME [--package-version V] (EmitOptions fields), or none. */
export function packageOptions(name: string | undefined, version: string | undefined): { packageName?: string; packageVersion?: string } {
  return name ? { packageName: name, packageVersion: version ?? "0.1.0" } : {};
}
