// Command lines of rpyc-registry and rpyc-classic, on node:util's parseArgs (no dependency).
// A command's options are described once (OptionSpec); that gives the parser, the checks
// of the values, the usage errors and the --help text (in the usual layout). Besides what
// parseArgs offers, an option may take an optional value, as RPyC's plumbum flags do:
// `-l`, `-l true`, `-lfalse`, `--listing false` and `--listing=no` all work; a bare one
// means true, and the next argument is its value unless it starts with "-".
// (rpyc-classic imports this module; it lives here because classic/cli.ts already depends
// on registry/, never the other way.)

import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

/** The exit code of a bad command line. */
export const EXIT_USAGE = 2;

/**
 * Thrown when the command line ends the run before it starts: after --help (exitCode 0;
 * the help is on stdout) or on a usage error (exitCode 2; the message, with a hint to
 * --help, is on stderr).
 */
export class CliExit extends Error {
  override readonly name = "CliExit";
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** One option of a command. */
export interface OptionSpec {
  /** A one-character alias: "p" for -p. */
  readonly short?: string;
  /** "<name>": takes a value; "[name]": may take one (bare means true); absent: a flag. */
  readonly value?: `<${string}>` | `[${string}]`;
  readonly description: string;
  /** The value when the option is absent, shown in --help as `(default: ...)`. */
  readonly default?: unknown;
  /** The values allowed (exact match), shown in --help. */
  readonly choices?: readonly string[];
  /** Turns the text into the value; throws an Error saying what is wrong with it. */
  readonly parse?: (text: string) => unknown;
}

export interface CommandSpec {
  /** The executable's name: "rpyc-registry". */
  readonly name: string;
  /** Shown under the usage line; "\n" starts a new line. */
  readonly description: string;
  /** By long name ("max-entries" for --max-entries), in the order --help lists them. */
  readonly options: Readonly<Record<string, OptionSpec>>;
}

/** Where a command writes its help and its usage errors. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

type ValueOf<O extends OptionSpec> = O extends { parse: (text: string) => infer T }
  ? T
  : O extends { choices: readonly (infer C)[] }
    ? C
    : O extends { value: string }
      ? string
      : boolean;

type OptionalValue<O extends OptionSpec> = O extends { value: `[${string}]` } ? true : never;

/** What parseCommandLine returns: each option's value, or its default, or undefined. */
export type ParsedOptions<S extends Readonly<Record<string, OptionSpec>>> = {
  -readonly [K in keyof S]: S[K] extends { default: infer D } ? ValueOf<S[K]> | OptionalValue<S[K]> | D : ValueOf<S[K]> | OptionalValue<S[K]> | undefined;
};

const HELP: OptionSpec = { short: "h", description: "display help for command" };
const WIDTH = 80;

/**
 * Parses `argv` (without node and the script) for `command`. On --help (anywhere), writes
 * the help to io.stdout and throws CliExit(0); else on a usage error writes `error: ...`
 * (the first one) and a hint to io.stderr and throws CliExit(2). Later occurrences of an
 * option override earlier ones.
 */
export function parseCommandLine<C extends CommandSpec>(command: C, argv: readonly string[], io: CliIO): ParsedOptions<C["options"]> {
  const args = [...argv];
  const specs: Record<string, OptionSpec> = { ...command.options, help: HELP };
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = { type: spec.value?.startsWith("<") ? "string" : "boolean", ...(spec.short === undefined ? {} : { short: spec.short }) };
  }
  // Not strict: unknown options, stray values and missing ones come back as tokens, and
  // are refused below in words that name the option.
  const { tokens } = parseArgs({ args, options: config, strict: false, allowPositionals: true, tokens: true });
  // --help wins over any error; otherwise the first error is the one reported.
  let help = false;
  let error: string | undefined;
  const fail = (message: string): void => void (error ??= message);

  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(command.options)) if (spec.default !== undefined) values[name] = spec.default;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      fail(`unexpected argument '${token.value}': ${command.name} takes only options`);
      continue;
    }
    if (token.name === "help") {
      help = true;
      continue;
    }
    const spec = Object.hasOwn(command.options, token.name) ? command.options[token.name] : undefined;
    if (spec === undefined) {
      fail(`unknown option '${token.rawName}'${suggestion(token.rawName, specs)}`);
      continue;
    }
    const term = optionTerm(token.name, spec);
    let text = token.value;
    if (spec.value?.startsWith("[") && text === undefined) {
      // parseArgs sees the option as a flag: its value is the rest of a short group
      // (-lfalse: parseArgs split it into -l -f -a ...), else the next argument.
      const raw = args[token.index]!;
      let position = 1; // of this option's letter in a short group
      for (let j = i - 1; j >= 0 && tokens[j]!.index === token.index; j--) position++;
      const rest = raw.startsWith("--") ? "" : raw.slice(position + 1);
      if (rest !== "") {
        text = rest;
        while (tokens[i + 1]?.index === token.index) i++;
      } else {
        const next = tokens[i + 1];
        if (next?.kind === "positional" && next.index === token.index + 1 && !next.value.startsWith("-")) {
          text = next.value;
          i++;
        }
      }
    }
    if (spec.value === undefined) {
      if (text === undefined) values[token.name] = true;
      else fail(`option '${term}' takes no value (got '${text}')`);
    } else if (text === undefined) {
      if (spec.value.startsWith("<")) fail(`option '${term}' argument missing`);
      else values[token.name] = true;
    } else if (spec.choices !== undefined && !spec.choices.includes(text)) {
      fail(`option '${term}' argument '${text}' is invalid: allowed choices are ${spec.choices.join(", ")}`);
    } else {
      try {
        values[token.name] = spec.parse ? spec.parse(text) : text;
      } catch (err) {
        fail(`option '${term}' argument '${text}' is invalid: ${(err as Error).message}`);
      }
    }
  }
  if (help) {
    io.stdout(helpText(command));
    throw new CliExit(0, "help displayed");
  }
  if (error !== undefined) throw usageError(command.name, error, io);
  return values as ParsedOptions<C["options"]>;
}

/** Writes `error: message` and the hint to --help on io.stderr; returns the CliExit(2) to throw. */
export function usageError(name: string, message: string, io: CliIO): CliExit {
  io.stderr(`error: ${message}\n(see ${name} --help)\n`);
  return new CliExit(EXIT_USAGE, message);
}

/** `-p, --port <port>` */
function optionTerm(name: string, spec: OptionSpec): string {
  const flags = spec.short === undefined ? `--${name}` : `-${spec.short}, --${name}`;
  return spec.value === undefined ? flags : `${flags} ${spec.value}`;
}

/** ` (did you mean --listing?)` for a long option at most two edits from a known one. */
function suggestion(rawName: string, specs: Readonly<Record<string, OptionSpec>>): string {
  if (!rawName.startsWith("--")) return "";
  const word = rawName.slice(2);
  const negated = word.startsWith("no-") && Object.hasOwn(specs, word.slice(3)) ? specs[word.slice(3)] : undefined;
  if (negated?.value?.startsWith("[") && negated.parse !== undefined) return ` (did you mean --${word.slice(3)}=false?)`;
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of Object.keys(specs)) {
    const distance = editDistance(word, name);
    if (distance < bestDistance && distance < Math.max(word.length, name.length) / 2) {
      best = name;
      bestDistance = distance;
    }
  }
  return best === undefined ? "" : ` (did you mean --${best}?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/** The --help text: usage, description, then the options with their defaults, aligned. */
function helpText(command: CommandSpec): string {
  const rows = [...Object.entries(command.options), ["help", HELP] as const].map(([name, spec]) => {
    const notes = [
      ...(spec.choices === undefined ? [] : [`choices: ${spec.choices.map((choice) => JSON.stringify(choice)).join(", ")}`]),
      ...(spec.default === undefined ? [] : [`default: ${JSON.stringify(spec.default)}`]),
    ];
    return { term: optionTerm(name, spec), text: notes.length === 0 ? spec.description : `${spec.description} (${notes.join(", ")})` };
  });
  const termWidth = Math.max(...rows.map((row) => row.term.length));
  const indent = 2 + termWidth + 2;
  const options = rows.map((row) => `  ${row.term.padEnd(termWidth)}  ${wrap(row.text, WIDTH - indent).join(`\n${" ".repeat(indent)}`)}`);
  return `Usage: ${command.name} [options]\n\n${wrap(command.description, WIDTH).join("\n")}\n\nOptions:\n${options.join("\n")}\n`;
}

/** Greedy word wrap; "\n" in the text starts a new line. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ")) {
      if (line !== "" && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    lines.push(line);
  }
  return lines;
}

/** Whether the module at `moduleUrl` is the script node was started with (`node cli.js`, or through a symlink). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
