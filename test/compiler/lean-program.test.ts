// rpyc-gen reads sources through its own program (compiler/extract/program.ts) instead of a
// ts-morph Project: no parent pointers or wrappers, JSDoc parsed on demand outside the entry
// files, the browser libraries stubbed until a model names one of their globals. None of that
// may change a model: every case here is extracted both ways, and the model, the diagnostics
// and the watched files must be equal: types from imported modules, from node_modules and from
// @types/node, docs inherited across files and packages, globals of lib.dom in every position.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Project, ts } from "ts-morph";
import { afterAll, describe, expect, it } from "vitest";
import { createExtractSession, DEFAULT_COMPILER_OPTIONS, type ExtractResult, extractFromProject, extractModel } from "../../compiler/extract.js";
import { stubLibrary } from "../../compiler/extract/dom.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The extraction as rpyc-gen did it before: a ts-morph Project holding the sources and everything they import. */
function viaProject(sources: readonly string[], root: string, project?: string): ExtractResult {
  const morph = project
    ? new Project({ tsConfigFilePath: path.resolve(root, project), skipAddingFilesFromTsConfig: true })
    : new Project({ compilerOptions: DEFAULT_COMPILER_OPTIONS });
  const entries = sources.map((s) => morph.addSourceFileAtPath(path.resolve(root, s)));
  morph.resolveSourceFileDependencies();
  return extractFromProject(morph, entries, root);
}

function expectSame(sources: readonly string[], root: string, project?: string): ExtractResult {
  const lean = extractModel({ sources, root, ...(project ? { project } : {}) });
  const reference = viaProject(sources, root, project);
  expect(lean.model).toEqual(reference.model);
  expect(lean.diagnostics).toEqual(reference.diagnostics);
  expect(lean.files).toEqual(reference.files);
  return lean;
}

describe("the lean program gives the models a ts-morph Project gives (repository sources)", () => {
  it("the seed service, without and with the repository's tsconfig", () => {
    expect(expectSame(["examples/seed-service.ts"], REPO).model.services.map((s) => s.className)).toEqual(["MyService"]);
    expectSame(["examples/seed-service.ts"], REPO, "tsconfig.json");
  });

  it("rich types: interfaces, enums and aliases from other files, Date, Map, bytes, bigint, and node:path's ParsedPath from @types/node", () => {
    const result = expectSame(["fixtures/rich-types/directory-service.ts"], REPO, "tsconfig.json");
    const parsedPath = result.model.types.find((t) => t.name === "ParsedPath");
    expect(parsedPath?.location.file).toBe("node_modules/@types/node/path.d.ts");
    expect(parsedPath?.kind === "object" && parsedPath.fields.some((f) => f.doc !== undefined)).toBe(true);
  });

  it("a base service in another file and callbacks between two services", () => {
    expectSame(["fixtures/inheritance/base-service.ts", "fixtures/inheritance/audited-service.ts", "fixtures/inheritance/inventory-service.ts"], REPO);
    expectSame(["fixtures/callbacks/callback-service.ts", "fixtures/callbacks/counter-service.ts"], REPO, "tsconfig.json");
  });
});

// ---- hermetic cases in a scratch directory ---------------------------------------------------

const scratch = mkdtempSync(path.join(tmpdir(), "rpyc-lean-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function write(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(scratch, "case-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

/** A stand-in of the published rpyc-ts package (the runtime is not needed to extract). */
const RPYC_TS = {
  "node_modules/rpyc-ts/package.json": `{ "name": "rpyc-ts", "version": "0.1.0", "types": "index.d.ts" }`,
  "node_modules/rpyc-ts/index.d.ts": `
export declare class Service {
  /** Names this service registers under. */
  static ALIASES?: readonly string[];
  on_connect(conn: unknown): void | Promise<void>;
  exposed_get_service_name(): string;
}
`,
};

describe("JSDoc parsed on demand", () => {
  const root = write({
    ...RPYC_TS,
    "package.json": `{ "type": "module" }`,
    "node_modules/geo-kit/package.json": `{ "name": "geo-kit", "version": "1.0.0", "types": "index.d.ts" }`,
    "node_modules/geo-kit/index.d.ts": `
/** A point on the map, from a package. */
export interface Point {
  /** Degrees east. */
  lon: number;
  /** Degrees north. */
  lat: number;
}
/** A box. */
export interface Box { /** The corner. */ min: Point; max: Point }
`,
    "src/types.ts": `
import type { Point } from "geo-kit";
/** Where a user lives. */
export interface Place extends Point {
  /** The name on the map. */
  label: string;
}
/** How sure we are. */
export enum Confidence {
  /** A guess. */
  Low = 1,
  High = 2,
}
/** A labelled pair. */
export type Pair = [/** The first. */ first: number, second: string];
/** An id. */
export type Id = string & { readonly brand: unique symbol };
`,
    "src/base.ts": `
import { Service } from "rpyc-ts";
import type { Place } from "./types.js";
export abstract class Located extends Service {
  /** Where the service runs. @param precise - more digits */
  exposed_where(precise?: boolean): Place { return { lon: 0, lat: 0, label: String(precise) }; }
  /** Says hello (documented on the base only). */
  exposed_greet(name: string): string { return name; }
  /** A documented attribute. */
  exposed_zone = "UTC";
}
`,
    "src/service.ts": `
import type { Box } from "geo-kit";
import { Located } from "./base.js";
import { Confidence, type Id, type Pair } from "./types.js";
/** The service of this case. */
export class MapService extends Located {
  override exposed_greet(name: string): string { return "hi " + name; }
  exposed_box(): Box { return { min: { lon: 0, lat: 0 }, max: { lon: 1, lat: 1 } }; }
  exposed_sure(): Confidence { return Confidence.High; }
  exposed_pair(...pair: Pair): Id { return String(pair[0]) as Id; }
}
`,
  });

  it("docs of other files and packages, inherited docs and labelled tuples come out as with a full parse", () => {
    const result = expectSame(["src/service.ts"], root);
    const service = result.model.services[0]!;
    expect(service.methods.find((m) => m.name === "greet")?.doc).toBe("Says hello (documented on the base only).");
    const place = result.model.types.find((t) => t.name === "Place");
    expect(place?.doc).toBe("Where a user lives.");
    expect(place?.kind === "object" && place.fields.find((f) => f.name === "lon")?.doc).toBe("Degrees east.");
  });

  it("a watch update re-reads a changed file and its new docs", () => {
    const session = createExtractSession({ sources: ["src/service.ts"], root });
    const types = path.join(root, "src/types.ts");
    const before = session.result.model.types.find((t) => t.name === "Place")?.doc;
    writeFileSync(types, ts.sys.readFile(types)!.replace("Where a user lives.", "Where a user lives now."));
    try {
      const updated = session.update([types]);
      expect(before).toBe("Where a user lives.");
      expect(updated.model.types.find((t) => t.name === "Place")?.doc).toBe("Where a user lives now.");
      const reference = viaProject(["src/service.ts"], root);
      expect(updated.model).toEqual(reference.model);
      expect(updated.files).toEqual(reference.files);
    } finally {
      writeFileSync(types, ts.sys.readFile(types)!.replace("Where a user lives now.", "Where a user lives."));
    }
  });
});

describe("JavaScript sources (allowJs): their JSDoc declares types", () => {
  const root = write({
    ...RPYC_TS,
    "package.json": `{ "type": "module" }`,
    "tsconfig.json": JSON.stringify({
      compilerOptions: { strict: true, target: "ES2022", module: "nodenext", moduleResolution: "nodenext", allowJs: true, lib: ["ES2022"], types: [] },
    }),
    "src/helpers.js": `
/** @typedef {{ a: number, b: string }} Pair */
/**
 * Makes a pair.
 * @param {string} b
 * @returns {Pair}
 */
export function makePair(b) { return { a: 1, b }; }
`,
    "src/service.ts": `
import { Service } from "rpyc-ts";
import { makePair } from "./helpers.js";
export class JsService extends Service {
  exposed_pair(b: string) { return makePair(b); }
}
`,
  });

  it("a JavaScript helper's @returns type reaches the model as with a full parse", () => {
    const result = expectSame(["src/service.ts"], root, "tsconfig.json");
    const pair = result.model.services[0]!.methods.find((m) => m.name === "pair")!;
    expect(pair.returns.kind).not.toBe("unknown");
  });
});

describe("the browser library, stubbed until a model needs it", () => {
  /** Each is extracted alone (no tsconfig: TypeScript's default library, DOM included). */
  const cases: Record<string, string> = {
    "a DOM type as a parameter": "exposed_f(e: Event): string { return e.type; }",
    "a DOM global in an inferred type": "exposed_title = document.title;\n  exposed_body() { return document.body; }",
    "URL and Blob": "exposed_u(u: URL): string { return u.href; }\n  exposed_b(): Blob { return new Blob([]); }",
    "a union with a DOM type": "exposed_h(): HTMLElement | null { return null; }",
    "setTimeout's result": "exposed_t() { return setTimeout(() => {}, 1); }",
    "typeof globalThis": "exposed_g(): typeof globalThis extends { onmessage: unknown } ? { dom: true } : { dom: false } { return null as never; }",
    "import.meta": "exposed_m() { return import.meta; }",
    "a namespace of the DOM": "exposed_w(): WebAssembly.Module | undefined { return undefined; }",
    "keyof Window and a DOM global variable": "exposed_k(): keyof Window | undefined { return undefined; }\n  exposed_len = length;",
    "an interface extending a DOM interface": "exposed_o(o: Options): number { return o.x; }",
    "a DOM type only in a private member": "private el(): HTMLElement | null { return null; }\n  exposed_n(): number { return 1; }",
  };
  const root = write({
    ...RPYC_TS,
    "package.json": `{ "type": "module" }`,
    ...Object.fromEntries(
      Object.values(cases).map((members, i) => [
        `dom/case-${i}.ts`,
        `import { Service } from "rpyc-ts";\nexport interface Options extends EventInit { x: number }\nexport class Case${i}Service extends Service {\n  ${members}\n}\n`,
      ]),
    ),
  });

  for (const [i, name] of Object.keys(cases).entries()) {
    it(name, () => {
      expectSame([`dom/case-${i}.ts`], root);
    });
  }

  it("the guard watches every global of lib.dom.d.ts and lib.webworker.d.ts, which merge into no ES global but ImportMeta", () => {
    const host = new Project({ compilerOptions: DEFAULT_COMPILER_OPTIONS }).getModuleResolutionHost();
    const lib = (name: string): string => host.readFile(`/node_modules/typescript/lib/lib.${name}.d.ts`) ?? "";
    const declared = (text: string): Set<string> => {
      const names = new Set<string>();
      for (const statement of ts.createSourceFile("lib.d.ts", text, ts.ScriptTarget.Latest).statements) {
        if (ts.isVariableStatement(statement))
          for (const d of statement.declarationList.declarations)
            if (ts.isIdentifier(d.name)) names.add(d.name.text);
            else if ("name" in statement && statement.name && ts.isIdentifier(statement.name as ts.Node)) names.add((statement.name as ts.Identifier).text);
      }
      return names;
    };
    // Every ES library, following the references of the newest one.
    const es = new Set<string>();
    const pending = ["esnext"];
    const seen = new Set<string>();
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (seen.has(name)) continue;
      seen.add(name);
      const text = lib(name);
      for (const n of declared(text)) es.add(n);
      pending.push(...ts.preProcessFile(text, false, true).libReferenceDirectives.map((r) => r.fileName.toLowerCase()));
    }
    for (const name of ["dom", "webworker"]) {
      const text = lib(name);
      expect(text.length).toBeGreaterThan(100_000);
      const stub = stubLibrary(text);
      expect([...declared(text)].filter((n) => !stub.names.has(n))).toEqual([]);
      expect(stub.text).toMatch(/^(\/\/\/ <reference lib="[\w.]+" \/>\n)+$/);
      // TypeScript reads ImportMeta only for an `import.meta`, which the guard sees (a lookup of the name).
      expect([...declared(text)].filter((n) => es.has(n) && n !== "ImportMeta")).toEqual([]);
    }
  });
});
