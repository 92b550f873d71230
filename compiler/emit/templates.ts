// The handlebars environment of rpyc-gen: templates/*.hbs (file structure) and
// templates/partials/*.hbs, plus the few helpers templates call to write a WireType as
// TypeScript, as a schema literal, a doc comment, or JSON. Helpers return text or plain
// data, never whole declarations: the shape of every generated file lives in templates/.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import type { WireParam, WireType } from "../model.js";
import { isIdentifier, propertyKey } from "./names.js";
import { docLines } from "./proto.js";
import { PLAIN_NAMING, renderRemoteType, renderLiteral, renderOptional, renderParams, renderReturn, renderTsType, type TsNaming } from "./ts-types.js";

/** The template files rpyc-gen renders (paths under templates/). */
export type TemplateName = "client.ts" | "dispatch.ts" | "index.ts" | "service.proto" | "package.json" | "README.md" | "compiled";

/** The directory that holds the templates: dist/templates/ in the rpyc-gen package, templates/ in the repository. */
export function templatesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "templates");
    if (existsSync(path.join(candidate, "client.ts.hbs"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("rpyc-gen: cannot find its templates/ directory");
    dir = parent;
  }
}

/** The rpyc-ts package this compiler runs with (SDK packages peer-depend on its version and its peers). */
interface RuntimePackage {
  readonly version: string;
  readonly peerDependencies: Readonly<Record<string, string>>;
}

function runtimePackage(): RuntimePackage {
  const file = createRequire(import.meta.url).resolve("rpyc-ts/package.json");
  const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string; peerDependencies?: Record<string, string> };
  if (pkg.name !== "rpyc-ts" || !pkg.version) throw new Error(`rpyc-gen: ${file} is not the rpyc-ts package.json`);
  return { version: pkg.version, peerDependencies: pkg.peerDependencies ?? {} };
}

export function runtimeVersion(): string {
  return runtimePackage().version;
}

/** The protobufjs range rpyc-ts's native codec works with (its optional peer dependency). */
export function protobufRange(): string {
  const range = runtimePackage().peerDependencies["protobufjs"];
  if (!range) throw new Error("rpyc-gen: rpyc-ts's package.json names no protobufjs peer dependency");
  return range;
}

/** How the TypeScript helpers write names; a view passes its own as `naming` (default: plain names). */
function namingOf(options: Handlebars.HelperOptions): TsNaming {
  const root = options.data?.root as { naming?: TsNaming } | undefined;
  return root?.naming ?? PLAIN_NAMING;
}

/** Lines of a JSDoc block (without the delimiters), with `*\/` made harmless. */
function jsdocLines(doc: unknown, params: unknown): string[] {
  const harmless = (line: string): string => line.replace(/\*\//g, "*\\/");
  const lines = docLines(typeof doc === "string" ? doc : undefined).map(harmless);
  const documented = Array.isArray(params) ? (params as { name: string; doc?: string }[]).filter((p) => typeof p.doc === "string" && p.doc.trim() !== "") : [];
  for (const param of documented) {
    const [first = "", ...rest] = docLines(param.doc).map(harmless);
    lines.push(`@param ${param.name} ${first}`.trimEnd(), ...rest.map((line) => `  ${line}`.trimEnd()));
  }
  return lines;
}

function createEnvironment(): typeof Handlebars {
  const hbs = Handlebars.create();
  const helpers: Record<string, Handlebars.HelperDelegate> = {
    /** `{{tsType type}}`: a WireType as TypeScript type text. */
    tsType: (type: WireType, options: Handlebars.HelperOptions) => renderTsType(type, namingOf(options)),
    /** `{{tsReturn type async}}`: a result type (`void` for undefined, Promise when async). */
    tsReturn: (type: WireType, async: unknown, options: Handlebars.HelperOptions) => renderReturn(type, namingOf(options), async === true),
    /** `{{remoteType type}}`: a WireType as it arrives on the client (null for undefined, netrefs as Remote interfaces). */
    remoteType: (type: WireType, options: Handlebars.HelperOptions) => {
      const root = options.data?.root as { remoteNaming?: TsNaming; rt?: { RemoteFunction?: string } } | undefined;
      return renderRemoteType(type, root?.remoteNaming ?? namingOf(options), root?.rt?.RemoteFunction ?? "RemoteFunction");
    },
    /** `{{tsParams params}}`: a parameter list. */
    tsParams: (params: readonly WireParam[], options: Handlebars.HelperOptions) => renderParams(params, namingOf(options)),
    /** `{{tsOptional type}}`: `T | undefined` (a dispatch table's optional argument). */
    tsOptional: (type: WireType, options: Handlebars.HelperOptions) => renderOptional(type, namingOf(options)),
    /** `{{literal value}}`: plain data as a one-line TypeScript literal. */
    literal: (value: unknown) => renderLiteral(value),
    /** `{{json value}}`: a JSON value (strings quoted and escaped). */
    json: (value: unknown) => JSON.stringify(value),
    /** `{{key name}}`: a property key, quoted when it is not an identifier. */
    key: (name: string) => propertyKey(name),
    /** `{{member name}}`: property access on an object: `.name` or `["name"]`. */
    member: (name: string) => (isIdentifier(name) ? `.${name}` : `[${JSON.stringify(name)}]`),
    /** `(jsdoc doc params)`: the lines of a JSDoc block, for the jsdoc partial. */
    jsdoc: (doc: unknown, params: unknown) => jsdocLines(doc, params),
    /** `(lines doc)`: the lines of a doc text (for `//` and markdown). */
    lines: (doc: unknown) => docLines(typeof doc === "string" ? doc : undefined),
    /** `(documented params)`: the parameters that have a doc or a default value (README lists those). */
    documented: (params: unknown) =>
      Array.isArray(params) ? (params as { doc?: string; default?: string }[]).filter((p) => (p.doc?.trim() ?? "") !== "" || p.default !== undefined) : [],
    /** `(eq a b)`. */
    eq: (a: unknown, b: unknown) => a === b,
    /** `{{join items ", "}}`. */
    join: (items: readonly unknown[], separator: unknown) => items.join(typeof separator === "string" ? separator : ", "),
  };
  for (const [name, helper] of Object.entries(helpers)) hbs.registerHelper(name, helper);
  return hbs;
}

interface Environment {
  readonly templates: ReadonlyMap<TemplateName, Handlebars.TemplateDelegate>;
}

let cached: Environment | undefined;

function environment(): Environment {
  if (cached) return cached;
  const dir = templatesDir();
  const hbs = createEnvironment();
  const partialsDir = path.join(dir, "partials");
  for (const file of readdirSync(partialsDir)
    .filter((f) => f.endsWith(".hbs"))
    .sort()) {
    hbs.registerPartial(file.slice(0, -".hbs".length), readFileSync(path.join(partialsDir, file), "utf8"));
  }
  const names: TemplateName[] = ["client.ts", "dispatch.ts", "index.ts", "service.proto", "package.json", "README.md", "compiled"];
  const templates = new Map<TemplateName, Handlebars.TemplateDelegate>();
  for (const name of names) {
    templates.set(name, hbs.compile(readFileSync(path.join(dir, `${name}.hbs`), "utf8"), { noEscape: true, strict: false }));
  }
  cached = { templates };
  return cached;
}

/**
 * Renders a template with a view and normalises the text: "\n" line ends, no trailing spaces,
 * at most one blank line in a row, exactly one newline at the end.
 */
export function render(name: TemplateName, view: object): string {
  const template = environment().templates.get(name)!;
  const text = template(view)
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+$/gm, "")
    .replace(/\n{3,}/g, "\n\n")
    .replace(/^\n+/, "");
  return `${text.trimEnd()}\n`;
}
