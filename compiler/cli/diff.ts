// `rpyc-gen diff OLD NEW`: reads two ServiceModels (model.json files, directories holding one,
// or service sources), prints what breaks clients of OLD's stubs, and exits with a code CI can
// branch on (DIFF_EXIT). cli/index.ts dispatches `rpyc-gen diff ...` here with the arguments after "diff".

import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { messageOf } from "../common.js";
import { diffModels, type DiffEntry, type DiffReport } from "../diff.js";
import { extractModel, type ExtractOptions, type ExtractResult } from "../extract.js";
import { extractPythonModel } from "../extract-python.js";
import { formatDiagnostic, MODEL_VERSION, type ServiceModel, type WireType } from "../model.js";
import { command, parseArguments, type CliIO } from "./io.js";

/** Exit codes of `rpyc-gen diff`. */
export const DIFF_EXIT = {
  /** No breaking changes (safe ones may be listed). */
  OK: 0,
  /** Breaking changes found (0 instead with --allow-breaking; they are printed either way). */
  BREAKING: 1,
  /** A side could not be extracted: its sources have errors, or its model.json is not a ServiceModel (diagnostics printed). */
  EXTRACT: 2,
  /** Bad command line. */
  USAGE: 3,
  /** A file could not be read (a path that does not exist, a glob matching nothing, an unreadable model.json or tsconfig). */
  IO: 4,
} as const;

type DiffExitCode = (typeof DIFF_EXIT)[keyof typeof DIFF_EXIT];

interface DiffCliOptions {
  old?: string[];
  new?: string[];
  json?: boolean;
  project?: string;
  allowBreaking?: boolean;
}

type Side = "old" | "new";
type Loaded = { readonly model: ServiceModel } | { readonly code: DiffExitCode };

const GLOB = /[*?[\]{}!]/;

function program(io: CliIO): Command {
  const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
  return command("rpyc-gen diff", io)
    .description("Report what breaks clients of OLD's stubs when they talk to a NEW server, and what is safe.")
    .argument("[old]", "model.json, a directory holding model.json, or service sources (a file, directory or quoted glob; .py for Python)")
    .argument("[new]", "the same, for the new side")
    .option("--old <source>", "an old-side source (repeatable; instead of OLD, for several files)", collect)
    .option("--new <source>", "a new-side source (repeatable; instead of NEW)", collect)
    .option("--json", "write the report as JSON to stdout")
    .option("-p, --project <tsconfig>", "tsconfig.json whose compiler options resolve imports of TypeScript sources (both sides)")
    .option("--allow-breaking", `print breaking changes but exit ${DIFF_EXIT.OK}`)
    .addHelpText(
      "after",
      `\nExit codes:\n  ${DIFF_EXIT.OK}  no breaking changes\n  ${DIFF_EXIT.BREAKING}  breaking changes (${DIFF_EXIT.OK} with --allow-breaking)\n  ${DIFF_EXIT.EXTRACT}  a side could not be extracted (diagnostics printed)\n  ${DIFF_EXIT.USAGE}  bad command line\n  ${DIFF_EXIT.IO}  a file could not be read`,
    );
}

/** Runs `rpyc-gen diff` with the arguments after "diff". Returns a DIFF_EXIT code. */
export async function runDiff(argv: readonly string[], io: CliIO): Promise<number> {
  const cmd = program(io);
  // Commander's failures: DIFF_EXIT.OK after --help, DIFF_EXIT.USAGE otherwise (the same numbers as EXIT's).
  const failed = parseArguments(cmd, argv);
  if (failed !== undefined) return failed;
  const opts = cmd.opts<DiffCliOptions>();
  const positional = cmd.args;
  const usage = (message: string): number => {
    io.stderr(`rpyc-gen diff: ${message}\n`);
    return DIFF_EXIT.USAGE;
  };
  const flagged = { old: opts.old ?? [], new: opts.new ?? [] };
  let sides: Record<Side, readonly string[]>;
  if (positional.length > 0) {
    if (positional.length !== 2) return usage("give OLD and NEW (or --old/--new for each side)");
    if (flagged.old.length > 0 || flagged.new.length > 0) return usage("give both sides as OLD NEW, or both with --old/--new, not a mix");
    sides = { old: [positional[0]!], new: [positional[1]!] };
  } else {
    if (flagged.old.length === 0 || flagged.new.length === 0) return usage("give OLD and NEW: model.json files, directories or service sources");
    sides = flagged;
  }

  const old = await loadSide("old", sides.old, opts.project, io);
  const next = await loadSide("new", sides.new, opts.project, io);
  if ("code" in old) return old.code;
  if ("code" in next) return next.code;

  let report: DiffReport;
  try {
    report = diffModels(old.model, next.model);
  } catch (err) {
    io.stderr(`rpyc-gen diff: ${messageOf(err)}\n`);
    return DIFF_EXIT.EXTRACT;
  }
  io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, opts.allowBreaking ?? false));
  return report.breaking > 0 && !opts.allowBreaking ? DIFF_EXIT.BREAKING : DIFF_EXIT.OK;
}

/** The human report: breaking lines, then safe lines, then a summary line. */
export function formatReport(report: DiffReport, allowBreaking = false): string {
  const lines = report.entries.map(formatEntry);
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
  const summary =
    report.entries.length === 0
      ? "no changes"
      : `${plural(report.breaking, "breaking change")}, ${plural(report.safe, "safe change")}${report.breaking > 0 && allowBreaking ? " (allowed by --allow-breaking)" : ""}`;
  return [...lines, `rpyc-gen diff: ${summary}`].join("\n") + "\n";
}

/** `BREAKING Service.path: message (file:line)`; the place is the new one, or the old one for what was removed. */
export function formatEntry(entry: DiffEntry): string {
  const where = entry.new ?? entry.old;
  const subject = entry.path ? `${entry.service}.${entry.path}` : entry.service;
  return `${entry.severity === "breaking" ? "BREAKING" : "SAFE"} ${subject}: ${entry.message}${where ? ` (${where.file}:${where.line})` : ""}`;
}

async function loadSide(side: Side, specs: readonly string[], project: string | undefined, io: CliIO): Promise<Loaded> {
  const fail = (code: DiffExitCode, message: string): Loaded => {
    io.stderr(`rpyc-gen diff: ${side} side: ${message}\n`);
    return { code };
  };
  const models: string[] = [];
  let pythonDirectories = 0;
  for (const spec of specs) {
    const absolute = path.resolve(io.cwd, spec);
    const stat = statOf(absolute);
    if (!stat) {
      if (!GLOB.test(spec)) return fail(DIFF_EXIT.IO, `cannot read '${spec}': no such file or directory`);
    } else if (stat.isFile() && spec.endsWith(".json")) {
      models.push(absolute);
    } else if (stat.isDirectory() && statOf(path.join(absolute, "model.json"))?.isFile()) {
      models.push(path.join(absolute, "model.json"));
    } else if (stat.isDirectory() && directoryLanguage(absolute) === "python") {
      pythonDirectories++;
    }
  }
  if (models.length > 0) {
    if (specs.length > 1) return fail(DIFF_EXIT.USAGE, "a side is one model.json (or a directory holding one), or service sources, not several");
    return readModel(models[0]!, specs[0]!, fail);
  }
  const python = specs.filter((s) => /\.pyi?$/.test(s)).length + pythonDirectories;
  if (python > 0 && python !== specs.length) return fail(DIFF_EXIT.USAGE, "a side is TypeScript or Python sources, not both");
  const options: ExtractOptions = { sources: specs, root: io.cwd, ...(project ? { project: path.resolve(io.cwd, project) } : {}) };
  let result: ExtractResult;
  try {
    result = python > 0 ? await extractPythonModel(options) : extractModel(options);
  } catch (err) {
    return fail(DIFF_EXIT.IO, messageOf(err));
  }
  for (const d of result.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  if (result.diagnostics.some((d) => d.code === "RPYC_NO_INPUT")) return fail(DIFF_EXIT.IO, "no source file matched");
  if (result.diagnostics.some((d) => d.severity === "error")) return fail(DIFF_EXIT.EXTRACT, "the sources have errors (listed above)");
  // Likely a directory of generated stubs without model.json (rpyc-gen --emit-model writes it): every service would show as removed.
  if (result.model.services.length === 0) io.stderr(`rpyc-gen diff: ${side} side: no service classes found in ${specs.join(", ")}\n`);
  return { model: result.model };
}

function readModel(file: string, spec: string, fail: (code: DiffExitCode, message: string) => Loaded): Loaded {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return fail(DIFF_EXIT.IO, `cannot read '${spec}': ${messageOf(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail(DIFF_EXIT.EXTRACT, `'${spec}' is not JSON: ${messageOf(err)}`);
  }
  const problem = modelProblem(value);
  if (problem) return fail(DIFF_EXIT.EXTRACT, `'${spec}' is not a ServiceModel (as rpyc-gen --emit-model writes): ${problem}`);
  return { model: value as ServiceModel };
}

/** Why `value` is not a usable ServiceModel, or undefined. Checks the shape diffModels relies on, and that every ref is declared. */
export function modelProblem(value: unknown): string | undefined {
  try {
    return shapeProblem(value);
  } catch {
    return "a member or type of an unexpected shape"; // e.g. a tuple whose elements are not a list
  }
}

function shapeProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return "not an object";
  if (value["version"] !== MODEL_VERSION) return `version ${JSON.stringify(value["version"])}, expected ${MODEL_VERSION}`;
  const services = value["services"];
  const types = value["types"];
  if (!Array.isArray(services) || !Array.isArray(types)) return "no services or types list";
  const declared = new Set<string>();
  for (const t of types as unknown[]) {
    if (!isRecord(t) || typeof t["name"] !== "string" || !["object", "enum", "alias"].includes(String(t["kind"]))) return "a type without a name or kind";
    declared.add(t["name"]);
  }
  const refs: string[] = [];
  const walk = (type: unknown): boolean => {
    if (!isRecord(type) || typeof type["kind"] !== "string") return false;
    const t = type as WireType;
    switch (t.kind) {
      case "ref":
        refs.push(t.name);
        return true;
      case "array":
        return walk(t.element);
      case "tuple":
        return t.elements.every(walk);
      case "map":
        return walk(t.key) && walk(t.value);
      case "object":
        return t.fields.every((f) => walk(f.type));
      case "union":
        return t.members.every(walk);
      case "function":
        return t.params.every((p) => walk(p.type)) && walk(t.returns);
      case "netref":
        // Type arguments are compared (and a TypedDict's ref resolved) when both sides have them.
        return t.args === undefined || (Array.isArray(t.args) && t.args.every(walk));
      default:
        return true;
    }
  };
  for (const t of types as Record<string, unknown>[]) {
    if (t["kind"] === "object" && !(Array.isArray(t["fields"]) && (t["fields"] as unknown[]).every((f) => isRecord(f) && walk(f["type"]))))
      return `type ${String(t["name"])} has bad fields`;
    if (t["kind"] === "alias" && !walk(t["type"])) return `type ${String(t["name"])} has a bad type`;
    if (t["kind"] === "enum" && !Array.isArray(t["members"])) return `enum ${String(t["name"])} has no members`;
  }
  for (const s of services as unknown[]) {
    if (!isRecord(s) || typeof s["className"] !== "string" || typeof s["name"] !== "string" || !Array.isArray(s["aliases"]))
      return "a service without className, name or aliases";
    const methods = s["methods"];
    const attributes = s["attributes"];
    if (!Array.isArray(methods) || !Array.isArray(attributes)) return `service ${s["className"]} has no methods or attributes list`;
    for (const m of methods as unknown[]) {
      if (!isRecord(m) || typeof m["name"] !== "string" || !Array.isArray(m["params"]) || !walk(m["returns"]))
        return `a method of ${s["className"]} is malformed`;
      const param = (p: unknown): boolean => isRecord(p) && typeof p["name"] === "string" && walk(p["type"]);
      const keywords = m["keywordOnly"];
      const params = [
        ...(m["params"] as unknown[]),
        ...(Array.isArray(keywords) ? keywords : []),
        ...(m["keywordRest"] === undefined ? [] : [m["keywordRest"]]),
      ];
      if ((keywords !== undefined && !Array.isArray(keywords)) || !params.every(param))
        return `method ${s["className"]}.${m["name"]} has a malformed parameter`;
    }
    for (const a of attributes as unknown[]) {
      if (!isRecord(a) || typeof a["name"] !== "string" || !walk(a["type"])) return `an attribute of ${s["className"]} is malformed`;
    }
  }
  const missing = refs.find((r) => !declared.has(r));
  return missing === undefined ? undefined : `it refers to type '${missing}', which its types do not declare`;
}

/** A directory of sources is Python when its own files (not its subdirectories') include .py/.pyi and no TypeScript. */
function directoryLanguage(dir: string): "python" | "typescript" {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
  return files.some((f) => /\.pyi?$/.test(f)) && !files.some((f) => /\.(c|m)?tsx?$/.test(f)) ? "python" : "typescript";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function statOf(file: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
