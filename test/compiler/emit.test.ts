// rpyc-gen's emit step: hand-built ServiceModels in, generated files out. The generated
// stubs and dispatch tables are type-checked against the real runtime and the real service
// classes, served and called end to end, the .proto files are loaded by protobufjs, and the
// SDK package's dist/ is imported.

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { Project, type SourceFile } from "ts-morph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  emitAll,
  generateClientStub,
  generateDispatchTable,
  generateIndex,
  generatePackage,
  generateProto,
  type EmitOptions,
  type GeneratedFile,
} from "../../compiler/emit.js";
import type { ServiceDef, ServiceModel } from "../../compiler/model.js";
import {
  AttributeError,
  ThreadedServer,
  connect,
  type CompiledRemote,
  type ConnectOptions,
  type Connection,
  type DispatchTable,
  type ServiceSchema,
} from "../../runtime/index.js";
import { CHILD_SERVICE, FIXTURE_ROOT, FULL_MODEL, GEO_SERVICE, MY_SERVICE, SEED_MODEL, T, array, literal, param, ref, union } from "./emit-fixtures/models.js";
import { BaseService } from "./emit-fixtures/src/base-service.js";
import { CallbackService } from "./emit-fixtures/src/callback-service.js";
import DerivedService from "./emit-fixtures/src/derived-service.js";
import { FloopService } from "./emit-fixtures/src/floop-service.js";
import { GeoService } from "./emit-fixtures/src/geo-service.js";
import { Color, Level } from "./emit-fixtures/src/geo-types.js";
import { MyService } from "./emit-fixtures/src/my-service.js";

const REPO = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** Scratch space: excluded from tsconfig and git (".tmp"), removed after the tests. */
const TMP = path.join(REPO, "test", "compiler", ".tmp");
const RPYC_VERSION = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;

/** Options for a project at `root` with generated code in `outDir` (paths in the output never depend on where they are). */
const options = (root: string, extra: Partial<EmitOptions> = {}): EmitOptions => ({ root, outDir: "out", ...extra });

const byPath = (files: readonly GeneratedFile[]): Map<string, string> => new Map(files.map((f) => [f.path, f.contents]));

function file(files: readonly GeneratedFile[], name: string): string {
  const found = files.find((f) => f.path === name);
  if (!found) throw new Error(`no generated ${name} (have ${files.map((f) => f.path).join(", ")})`);
  return found.contents;
}

/** What a generated `connectXxx` helper is, for a service whose shape matches class T. */
// A generated stub's connect function, typed by its service class: a compiled connection.
type Connector<T> = (host: string, port: number, options?: ConnectOptions) => Promise<Connection<CompiledRemote<T>>>;

// ---- servers and connections opened here are closed here ----

const open = new Set<{ close(): Promise<void> }>();
afterAll(async () => {
  await Promise.all([...open].map((item) => item.close()));
  open.clear();
});

async function serve(service: new () => object, dispatch: DispatchTable | DispatchTable[]): Promise<ThreadedServer>;
async function serve(service: object, dispatch: DispatchTable | DispatchTable[]): Promise<ThreadedServer>;
async function serve(service: object, dispatch: DispatchTable | DispatchTable[]): Promise<ThreadedServer> {
  const server = new ThreadedServer(service, { hostname: "127.0.0.1", port: 0, dispatch });
  open.add(server);
  await server.start();
  return server;
}

function track<C extends { close(): Promise<void> }>(conn: C): C {
  open.add(conn);
  return conn;
}

// ---- type checking in memory, against the repository's runtime, tsconfig and fixture classes ----

let project: Project | undefined;
let virtualDirs = 0;

function sharedProject(): Project {
  project ??= new Project({ tsConfigFilePath: path.join(REPO, "tsconfig.json"), skipAddingFilesFromTsConfig: true });
  return project;
}

/** Where fixture sources are, seen from a generated directory in TMP. */
const SRC = path.relative(path.join(TMP, "x"), path.join(FIXTURE_ROOT, "src")).split(path.sep).join("/");

/** A fresh in-memory directory in TMP (never written to disk). */
function virtualDir(): string {
  return path.join(TMP, `virtual-${process.pid}-${virtualDirs++}`);
}

/** Adds files (paths relative to dir) to the in-memory project. */
function addFiles(dir: string, files: Readonly<Record<string, string>>): SourceFile[] {
  return Object.entries(files).map(([rel, text]) => sharedProject().createSourceFile(path.join(dir, rel), text, { overwrite: true }));
}

function errorsOf(sourceFiles: readonly SourceFile[]): string[] {
  return sourceFiles.flatMap((sf) =>
    sf.getPreEmitDiagnostics().map((d) => {
      const where = d.getSourceFile() ? `${path.basename(d.getSourceFile()!.getFilePath())}:${d.getLineNumber() ?? 0}` : "(global)";
      const message = d.getMessageText();
      return `${where}: ${typeof message === "string" ? message : message.getMessageText()}`;
    }),
  );
}

/**
 * Emits a model into an in-memory directory (with snippets next to the generated files) and
 * type-checks them against the fixture classes on disk and the runtime.
 */
function typecheckModel(model: ServiceModel, snippets: Readonly<Record<string, string>> = {}): string[] {
  const dir = virtualDir();
  const files = emitAll(model, { root: FIXTURE_ROOT, outDir: dir });
  const ts = Object.fromEntries(files.filter((f) => f.path.endsWith(".ts")).map((f) => [f.path, f.contents]));
  return errorsOf(addFiles(dir, { ...ts, ...snippets }));
}

// ---- writing generated code to disk, for vitest to import ----

const written: string[] = [];
afterAll(() => {
  for (const dir of written) rmSync(dir, { recursive: true, force: true });
  // TMP itself goes too, unless another test file still has something in it.
  try {
    if (readdirSync(TMP).length === 0) rmSync(TMP, { recursive: true, force: true });
  } catch {
    // already gone
  }
});

/** Writes files to a new directory in TMP; removed after the tests. */
function writeTree(files: readonly GeneratedFile[]): string {
  const dir = path.join(TMP, `run-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  written.push(dir);
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    writeFileSync(path.join(dir, f.path), f.contents);
  }
  return dir;
}

/** Emits a model for the fixture classes into a new directory on disk. */
function writeGenerated(model: ServiceModel, extra: Partial<EmitOptions> = {}): string {
  const dir = path.join(TMP, `run-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const files = emitAll(model, { root: FIXTURE_ROOT, ...extra, outDir: dir });
  written.push(dir);
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    writeFileSync(path.join(dir, f.path), f.contents);
  }
  return dir;
}

async function load<M>(dir: string, rel: string): Promise<M> {
  return (await import(/* @vite-ignore */ path.join(dir, rel))) as M;
}

// ===========================================================================================

describe("the seed's MyService", () => {
  const files = emitAll(SEED_MODEL, options("/somewhere/project"));

  it("emits a client stub, a dispatch table, a .proto and an index", () => {
    expect(files.map((f) => f.path)).toEqual(["index.ts", "my-service.client.ts", "my-service.dispatch.ts", "my-service.proto"]);
  });

  it("writes the client stub: shape, Remote interface, names, schema, connect helpers", () => {
    expect(file(files, "my-service.client.ts")).toBe(`// Generated by rpyc-gen from src/my-service.ts. Do not edit.
// The typed client of MyService (service MY): its declared surface, its wire
// schema and a connect helper. Needs only the runtime, not the service's source.

import { type ConnectByServiceOptions, type ConnectOptions, type Connection, type NetrefBase, type RemoteAttribute, type ServiceSchema, type ServiceShape, type WebSocketConnectOptions, connect, connectByService, connectWebSocket } from "rpyc-ts";

/** The exposed members of MyService as its source declares them (service "MY"). */
export interface MyService extends ServiceShape {
  exposed_get_answer(): number;
  exposed_the_real_answer_though: number;
}

/**
 * What \`conn.root\` is on a connection to MY: MyService's exposed members without
 * their prefix, every method returning a promise, every attribute awaitable, plain data by
 * value (the members of \`CompiledRemote<MyService>\`, written out with their docs).
 */
export interface MyRemote extends NetrefBase {
  get_answer(): Promise<number>;
  readonly the_real_answer_though: RemoteAttribute<number>;
  /** The service's formal name ("MY"). */
  get_service_name(): Promise<string>;
  /** Every name the service answers to. */
  get_service_aliases(): Promise<string[]>;
}

/** The names MyService answers to; the first is its formal name. */
export const MY_SERVICE_NAMES = ["MY"] as const;

/** The wire schema of MyService: arguments and results are checked and encoded with it. */
export const MY_SERVICE_SCHEMA: ServiceSchema = {
  className: "MyService",
  name: "MY",
  aliases: ["MY"],
  methods: {
    get_answer: { params: [], returns: { kind: "number" } },
  },
  attributes: {
    the_real_answer_though: { type: { kind: "number" }, readonly: false },
  },
  types: {},
};

/** Connects to the MY service at \`host:port\`; \`conn.root\` is a MyRemote and values cross by the schema. */
export function connectMy(host: string, port: number, options: ConnectOptions = {}): Promise<Connection<MyRemote>> {
  return connect<MyRemote>(host, port, { ...options, schemas: [MY_SERVICE_SCHEMA, ...(options.schemas ?? [])] });
}

/**
 * Connects to the MY service over WebSocket: \`url\` is \`ws://host:port/path\` or \`wss://...\` (a
 * ThreadedServer with \`websocket\`); \`conn.root\` is a MyRemote and values cross by the schema.
 */
export function connectMyWebSocket(url: string | URL, options: WebSocketConnectOptions = {}): Promise<Connection<MyRemote>> {
  return connectWebSocket<MyRemote>(url, { ...options, schemas: [MY_SERVICE_SCHEMA, ...(options.schemas ?? [])] });
}

/** Finds a MY server through a registrar (\`options.registrar\`), then connects as connectMy does. */
export function connectMyByService(options: ConnectByServiceOptions = {}): Promise<Connection<MyRemote>> {
  return connectByService<MyRemote>(MY_SERVICE_NAMES[0], { ...options, schemas: [MY_SERVICE_SCHEMA, ...(options.schemas ?? [])] });
}
`);
  });

  it("writes the dispatch table: explicit calls, the class imported relative to outDir", () => {
    expect(file(files, "my-service.dispatch.ts")).toBe(`// Generated by rpyc-gen from src/my-service.ts. Do not edit.
// The dispatch table of MyService: a server given it answers exactly these members and checks
// every argument against the schema before the service runs. Serve it with
// \`new ThreadedServer(MyService, { dispatch: MyServiceDispatch })\`.

import { defineDispatch } from "rpyc-ts/internal";
import { MyService } from "../src/my-service.js";
import { MY_SERVICE_SCHEMA } from "./my-service.client.js";

export const MyServiceDispatch = defineDispatch(
  MyService,
  MY_SERVICE_SCHEMA,
  {
    get_answer: (s) => s.exposed_get_answer(),
  },
  {
    the_real_answer_though: (s) => s.exposed_the_real_answer_though,
  },
);
`);
  });

  it("writes the index: every client stub's exports by name, no dispatch tables", () => {
    const index = file(files, "index.ts");
    expect(index).toContain(
      `export {\n  MY_SERVICE_NAMES,\n  MY_SERVICE_SCHEMA,\n  type MyRemote,\n  type MyService,\n  connectMy,\n  connectMyByService,\n  connectMyWebSocket,\n} from "./my-service.client.js";`,
    );
    expect(index).not.toContain(".dispatch.js");
  });

  it("writes the .proto: request and response per method, a message per attribute", () => {
    const proto = file(files, "my-service.proto");
    expect(proto).toContain('syntax = "proto3";\n\npackage rpyc.my;');
    expect(proto).toContain("service MyService {\n  // get_answer(): number\n  rpc GetAnswer(GetAnswerRequest) returns (GetAnswerResponse);\n}");
    expect(proto).toContain("message GetAnswerRequest {\n}");
    expect(proto).toContain("message GetAnswerResponse {\n  double result = 1;\n}");
    expect(proto).toContain("message TheRealAnswerThoughAttribute {\n  double value = 1;\n}");
  });

  it("each generate function gives the file emitAll gives", () => {
    const opts = options("/somewhere/project");
    const all = byPath(files);
    expect(generateClientStub(MY_SERVICE, SEED_MODEL, opts).contents).toBe(all.get("my-service.client.ts"));
    expect(generateDispatchTable(MY_SERVICE, SEED_MODEL, opts).contents).toBe(all.get("my-service.dispatch.ts"));
    expect(generateProto(MY_SERVICE, SEED_MODEL, opts).contents).toBe(all.get("my-service.proto"));
    expect(generateIndex(SEED_MODEL, opts).contents).toBe(all.get("index.ts"));
  });
});

describe("determinism", () => {
  const withEverything = (root: string): EmitOptions => options(root, { packageName: "@acme/fixtures", emitModel: true });

  it("the same model gives the same bytes, wherever the project lives", () => {
    const first = emitAll(FULL_MODEL, withEverything("/a/project"));
    const again = emitAll(structuredClone(FULL_MODEL), withEverything("/a/project"));
    const elsewhere = emitAll(FULL_MODEL, { ...withEverything("/elsewhere/deeper/project"), outDir: "/elsewhere/deeper/project/out" });
    expect(again).toEqual(first);
    expect(elsewhere).toEqual(first);
  });

  it("files are sorted by path, use \\n, end with one newline, and hold no absolute path, date or version of the tool", () => {
    const files = emitAll(FULL_MODEL, withEverything("/a/project"));
    expect(files.map((f) => f.path)).toEqual([...files.map((f) => f.path)].sort());
    for (const f of files) {
      expect(f.contents, f.path).not.toContain("\r");
      expect(f.contents.endsWith("\n") && !f.contents.endsWith("\n\n"), f.path).toBe(true);
      expect(f.contents, f.path).not.toContain("/a/project");
      expect(f.contents, f.path).not.toMatch(/\b20\d\d-\d\d-\d\d/);
      expect(f.contents, f.path).not.toMatch(/rpyc-gen (v|version )?\d/);
    }
  });

  it("every generated file starts with the header naming its sources", () => {
    const files = emitAll(FULL_MODEL, withEverything("/a/project"));
    for (const f of files) {
      if (f.path.endsWith(".json")) continue;
      const header = f.path.endsWith(".md")
        ? /^<!-- Generated by rpyc-gen from [^\n]+\. Do not edit\. -->\n/
        : /^\/\/ Generated by rpyc-gen from [^\n]+\. Do not edit\.\n/;
      expect(f.contents, f.path).toMatch(header);
    }
    expect(file(files, "derived-service.client.ts")).toMatch(
      /^\/\/ Generated by rpyc-gen from src\/base-service\.ts, src\/derived-service\.ts, src\/geo-types\.ts\. Do not edit\./,
    );
    expect(JSON.parse(file(files, "package.json")).description).toContain("rpyc-gen");
    expect(file(files, "model.json")).toBe(`${JSON.stringify(FULL_MODEL, null, 2)}\n`);
  });

  it("members, types and schema entries come out sorted", () => {
    const client = file(emitAll(FULL_MODEL, options("/p")), "geo-service.client.ts");
    const members = [...client.matchAll(/^ {2}(?:readonly )?(exposed_\w+)/gm)].map((m) => m[1]!);
    expect(members).toEqual([...members].sort());
    const declared = [...client.matchAll(/^export (?:interface|enum|type) (\w+)/gm)].map((m) => m[1]!);
    expect(declared.slice(0, 5)).toEqual(["Circle", "Id", "Level", "Point", "Shape"]);
  });
});

describe("client stubs", () => {
  const files = emitAll(FULL_MODEL, options("/p"));

  it("import only the runtime and sibling stubs, never a service's source", () => {
    for (const f of files.filter((f) => f.path.endsWith(".client.ts") || f.path === "index.ts")) {
      const specifiers = [...f.contents.matchAll(/ from "([^"]+)"/g)].map((m) => m[1]!);
      for (const s of specifiers) expect(s === "rpyc-ts" || /^\.\/[\w-]+\.client\.js$/.test(s), `${f.path}: ${s}`).toBe(true);
    }
  });

  it("declare each shared type once, in the first stub that reaches it; others import it", () => {
    const base = file(files, "base-service.client.ts");
    const geo = file(files, "geo-service.client.ts");
    expect(base).toContain('/** Paint. */\nexport enum Color {\n  Red = "red",\n  Green = "green",\n}');
    expect(geo).not.toContain("export enum Color");
    expect(geo).toContain('import type { Color } from "./base-service.client.js";');
    expect(file(files, "index.ts").match(/\bColor,/g)).toHaveLength(1);
  });

  it("carry JSDoc over to types, fields, members and parameters (with */ escaped)", () => {
    const geo = file(files, "geo-service.client.ts");
    expect(geo).toContain(
      "/** A point in the plane. */\nexport interface Point {\n  /** Horizontal coordinate. */\n  readonly x: number;\n  y: number;\n  label?: string;\n}",
    );
    expect(geo).toContain(
      "  /**\n   * Moves a point.\n   * @param p The point to move.\n   * @param dx How far right.\n   * @param dy How far up.\n   */\n  exposed_move(p: Point, dx: number, dy?: number): Point;",
    );
    const floop = file(files, "floop-service.client.ts");
    expect(floop).toContain("/** A service with aliases. */\nexport interface FloopService extends ServiceShape {");
    expect(floop).toContain("  /** The protocol version (a *\\/ in a doc stays harmless). */\n  readonly exposed_version: string;");
  });

  it("keep declared types: Promise results, void, readonly, optional, rest, callbacks", () => {
    const floop = file(files, "floop-service.client.ts");
    expect(floop).toContain("  exposed_slow(ms: number): Promise<string>;");
    expect(floop).toContain("  exposed_nothing(): void;");
    expect(floop).toContain("  readonly exposed_uptime: number;");
    const geo = file(files, "geo-service.client.ts");
    expect(geo).toContain("  exposed_sum(first: number, ...rest: number[]): number;");
    expect(geo).toContain("  exposed_span(s: [number, number?]): number;");
    expect(geo).toContain("  exposed_lookup(id: Id): Promise<string | null>;");
    expect(geo).toContain("  exposed_tally(counts: Map<string, number>): Record<string, number>;");
    const callbacks = file(files, "callback-service.client.ts");
    expect(callbacks).toContain("  exposed_apply(fn: (x: number) => Promise<number>, x: number): Promise<number>;");
    expect(callbacks).toContain("  exposed_make_adder(n: number): (x: number) => Promise<number>;");
    expect(callbacks).toContain("  exposed_child(): ChildService;");
    // A class that is not a service: any object (a local one travels by reference) as a parameter.
    expect(callbacks).toContain("  exposed_hold(w: object): boolean;");
  });

  it("name the connect helper after the formal name and export every alias", () => {
    const floop = file(files, "floop-service.client.ts");
    expect(floop).toContain("export function connectFloop(host: string, port: number, options: ConnectOptions = {}): Promise<Connection<FloopRemote>> {");
    expect(floop).toContain("export function connectFloopByService(options: ConnectByServiceOptions = {}): Promise<Connection<FloopRemote>> {");
    expect(floop).toContain(
      "export function connectFloopWebSocket(url: string | URL, options: WebSocketConnectOptions = {}): Promise<Connection<FloopRemote>> {",
    );
    expect(floop).toContain('export const FLOOP_SERVICE_NAMES = ["FLOOP", "BLOOP"] as const;');
    expect(floop).toContain("export interface FloopRemote extends NetrefBase {");
    expect(floop).toContain("connectByService<FloopRemote>(FLOOP_SERVICE_NAMES[0], ");
  });

  it("put wire data only in the schema: no docs, defaults or locations", () => {
    const geo = file(files, "geo-service.client.ts");
    const schema = geo.slice(geo.indexOf("export const GEO_SERVICE_SCHEMA"));
    expect(schema).not.toMatch(/doc:|default:|location:|declaredIn|member:/);
    expect(schema).toContain('{ name: "dy", type: { kind: "number" }, optional: true, rest: false },');
  });

  it("import runtime names under an alias when a user type takes the name", () => {
    const model: ServiceModel = {
      version: 1,
      services: [{ ...MY_SERVICE, methods: [{ ...MY_SERVICE.methods[0]!, params: [param("c", ref("Connection"))], returns: ref("CompiledRemote") }] }],
      types: [
        { kind: "object", name: "Connection", fields: [{ name: "host", type: T.string, optional: false, readonly: false }], location: MY_SERVICE.location },
        { kind: "alias", name: "CompiledRemote", type: union(T.string, T.null), location: MY_SERVICE.location },
      ],
    };
    const stub = generateClientStub(model.services[0]!, model, options("/p"));
    expect(stub.contents).toContain(
      'import { type ConnectByServiceOptions, type ConnectOptions, type NetrefBase, type RemoteAttribute, type CompiledRemote as RpycCompiledRemote, type Connection as RpycConnection, type ServiceSchema, type ServiceShape, type WebSocketConnectOptions, connect, connectByService, connectWebSocket } from "rpyc-ts";',
    );
    expect(stub.contents).toContain('  get_answer(...args: Parameters<RpycCompiledRemote<MyService>["get_answer"]>): Promise<CompiledRemote>;');
    expect(stub.contents).toContain("  exposed_get_answer(c: Connection): CompiledRemote;");
    expect(errorsOf(addFiles(virtualDir(), { [stub.path]: stub.contents }))).toEqual([]);
  }, 60_000);

  it("refuse names two stubs would both export, and two services with one file stem", () => {
    const clash: ServiceModel = {
      version: 1,
      services: [
        MY_SERVICE,
        {
          ...CHILD_SERVICE,
          className: "OtherService",
          name: "OTHER",
          aliases: ["OTHER"],
          attributes: [{ ...CHILD_SERVICE.attributes[0]!, type: ref("MyRemote") }],
        },
      ],
      types: [{ kind: "alias", name: "MyRemote", type: T.string, location: MY_SERVICE.location }],
    };
    expect(() => emitAll(clash, options("/p"))).toThrow(/'MyRemote' would be exported by both my-service\.client\.ts and other-service\.client\.ts/);
    const stems: ServiceModel = { version: 1, services: [MY_SERVICE, { ...MY_SERVICE, className: "MYService", name: "MY2", aliases: ["MY2"] }], types: [] };
    expect(() => emitAll(stems, options("/p"))).toThrow("services MyService and MYService would both be written to my-service.*");
  });

  it("refuse a model that names a type it does not declare", () => {
    const broken: ServiceModel = { ...SEED_MODEL, services: [{ ...MY_SERVICE, methods: [{ ...MY_SERVICE.methods[0]!, returns: ref("Missing") }] }] };
    expect(() => emitAll(broken, options("/p"))).toThrow(/'Missing'.*not in model\.types/);
  });
});

describe("dispatch tables", () => {
  const files = emitAll(FULL_MODEL, options("/p"));

  it("cast arguments to the declared types, spread rest parameters, import types from the stub", () => {
    const geo = file(files, "geo-service.dispatch.ts");
    expect(geo).toContain('import { GEO_SERVICE_SCHEMA, type Id, type Point } from "./geo-service.client.js";');
    expect(geo).toContain("    move: (s, a) => s.exposed_move(a[0] as Point, a[1] as number, a[2] as number | undefined),");
    expect(geo).toContain("    sum: (s, a) => s.exposed_sum(a[0] as number, ...(a.slice(1) as number[])),");
    expect(geo).toContain("    label: (s, a) => s.exposed_label(a[0] as { name: string; tags: string[] }),");
    expect(geo).toContain("    palette: (s) => s.exposed_palette,");
  });

  it("cast enum-bearing arguments to the class's own parameter types (enums are nominal)", () => {
    const geo = file(files, "geo-service.dispatch.ts");
    expect(geo).toContain(
      '    paint: (s, a) => s.exposed_paint(a[0] as Parameters<GeoService["exposed_paint"]>[0], a[1] as Parameters<GeoService["exposed_paint"]>[1]),',
    );
    expect(geo).toContain('    area: (s, a) => s.exposed_area(a[0] as Parameters<GeoService["exposed_area"]>[0]),');
  });

  it("import default and renamed exports, and cast netrefs of compiled services to their classes", () => {
    expect(file(files, "derived-service.dispatch.ts")).toContain('import DerivedService from "../src/derived-service.js";');
    expect(file(files, "child-service.dispatch.ts")).toContain('import { Child as ChildService } from "../src/child-service.js";');
    const callbacks = file(files, "callback-service.dispatch.ts");
    expect(callbacks).toContain('import type { Child as ChildService } from "../src/child-service.js";');
    expect(callbacks).toContain("    adopt: (s, a) => s.exposed_adopt(a[0] as ChildService),");
    expect(callbacks).toContain("    apply: (s, a) => s.exposed_apply(a[0] as (x: number) => Promise<number>, a[1] as number),");
  });

  it("import service modules relative to outDir, with .js extensions", () => {
    const nested = emitAll(SEED_MODEL, { root: "/p", outDir: "generated/rpyc" });
    expect(file(nested, "my-service.dispatch.ts")).toContain('import { MyService } from "../../src/my-service.js";');
    const inside = emitAll({ ...SEED_MODEL, services: [{ ...MY_SERVICE, module: "gen/svc/my.mts" }] }, { root: "/p", outDir: "/p/gen" });
    expect(file(inside, "my-service.dispatch.ts")).toContain('import { MyService } from "./svc/my.mjs";');
  });

  it("use the configured runtime import", () => {
    const files = emitAll(SEED_MODEL, options("/p", { runtimeImport: "@vendor/rpyc" }));
    expect(file(files, "my-service.dispatch.ts")).toContain('import { defineDispatch } from "@vendor/rpyc/internal";');
    expect(file(files, "my-service.client.ts")).toContain(
      'type ServiceShape, type WebSocketConnectOptions, connect, connectByService, connectWebSocket } from "@vendor/rpyc";',
    );
  });
});

describe("type checking with the real runtime", () => {
  it("stubs, dispatch tables and index of every fixture compile against the real service classes", () => {
    expect(typecheckModel(FULL_MODEL)).toEqual([]);
  }, 60_000);

  it("MyRemote has exactly the members of CompiledRemote<MyService> (the compiled pairing), and so do the other services' Remote interfaces", () => {
    const errors = typecheckModel(FULL_MODEL, {
      "check.ts": `import type { CompiledRemote, Connection, Remote, RootType } from "rpyc-ts";
import type { MyService as RealMy } from "${SRC}/my-service.js";
import type { FloopService as RealFloop } from "${SRC}/floop-service.js";
import type { Child as RealChild } from "${SRC}/child-service.js";
import type RealDerived from "${SRC}/derived-service.js";
import type { ChildRemote, DerivedRemote, FloopRemote, MyRemote, MyService, connectMy, connectMyWebSocket } from "./index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// The stub writes XxxRemote out as an interface (so the IDE shows each member's docs): it has
// exactly the members of the runtime's mapped CompiledRemote<Xxx> (what a client with the
// schema gets), each type extending the other.
type SameMembers<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const my: SameMembers<MyRemote, CompiledRemote<RealMy>> = true;
export const floop: SameMembers<FloopRemote, CompiledRemote<RealFloop>> = true;
export const child: SameMembers<ChildRemote, CompiledRemote<RealChild>> = true;
export const derived: SameMembers<DerivedRemote, CompiledRemote<RealDerived>> = true;
export const derivedPing: Equal<DerivedRemote["ping"], CompiledRemote<RealDerived>["ping"]> = true;
export const root: Equal<Awaited<ReturnType<typeof connectMy>>, Connection<MyRemote>> = true;
export const rootWs: Equal<Awaited<ReturnType<typeof connectMyWebSocket>>, Connection<MyRemote>> = true;
// connect<Shape>() without the stub types values as any server may send them (Remote<Shape>); with it, exactly.
export const rootType: SameMembers<RootType<MyService>, Remote<MyService>> = true;
export const compiledRootType: SameMembers<RootType<CompiledRemote<MyService>>, MyRemote> = true;
`,
    });
    expect(errors).toEqual([]);
  }, 60_000);

  it("the stub's Remote type allows correct calls", () => {
    const errors = typecheckModel(FULL_MODEL, {
      "ok.ts": `import { Color, Level, connectGeo, connectMy, connectCallback, type GeoRemote, type MyRemote } from "./index.js";

export async function calls(my: MyRemote, geo: GeoRemote): Promise<void> {
  const answer: number = await my.get_answer();
  const real: number = await my.the_real_answer_though;
  const name: string = await my.get_service_name();
  const moved: { x: number; y: number } = await geo.move({ x: 1, y: 2 }, 3);
  await geo.move({ x: 1, y: 2 }, 3, 4);
  const when: Date = await geo.when(new Date());
  const tally: Record<string, number> = await geo.tally(new Map([["a", 1]]));
  const big: bigint = await geo.big(1n);
  const bytes: Uint8Array = await geo.checksum(new Uint8Array(2));
  const painted: string = await geo.paint(Color.Red, Level.High);
  const found: string | null = await geo.lookup(7);
  const sum: number = await geo.sum(1, 2, 3);
  const area: number = await geo.area({ kind: "circle", center: { x: 0, y: 0 }, radius: 1 });
  void [answer, real, name, moved, when, tally, big, bytes, painted, found, sum, area];
}

export async function connecting(): Promise<void> {
  const conn = await connectMy("127.0.0.1", 1);
  const answer: number = await conn.root.get_answer();
  const cb = await connectCallback("127.0.0.1", 1, { config: { sync_request_timeout: 5 } });
  const tripled: number = await cb.root.apply((x) => x * 3, 2);
  const adder = await cb.root.make_adder(1);
  const added: number = await adder(2);
  const child = await cb.root.child();
  const childName: string = await child.name;
  const geo = await connectGeo("127.0.0.1", 1);
  void [answer, tripled, added, childName, geo];
}
`,
    });
    expect(errors).toEqual([]);
  }, 60_000);

  const rejected: [string, string][] = [
    ["a member that is not exposed", "void my.get_question();"],
    ["the prefixed name", "void my.exposed_get_answer();"],
    ["a misspelled attribute", "void my.the_real_answer_thogh;"],
    ["an argument of the wrong type", 'void geo.move({ x: "1", y: 2 }, 1);'],
    ["a missing argument", "void geo.move({ x: 1, y: 2 });"],
    ["too many arguments", "void my.get_answer(1);"],
    ["a string where an enum is declared", 'void geo.paint("red");'],
    ["a wrong callback", "void cb.apply((x: string) => x, 1);"],
    ["the wrong result type", "const s: string = await my.get_answer(); void s;"],
  ];
  it.each(rejected)(
    "the stub's Remote type rejects %s",
    (_what, line) => {
      const errors = typecheckModel(FULL_MODEL, {
        "bad.ts": `import type { CallbackRemote, GeoRemote, MyRemote } from "./index.js";
declare const my: MyRemote;
declare const geo: GeoRemote;
declare const cb: CallbackRemote;
export async function bad(): Promise<void> {
  ${line}
}
`,
      });
      expect(errors.length, "no error").toBeGreaterThan(0);
      expect(
        errors.every((e) => e.startsWith("bad.ts:6:")),
        errors.join("\n"),
      ).toBe(true);
    },
    60_000,
  );

  it("generated code also compiles under noUnusedLocals and noUnusedParameters", () => {
    const strict = new Project({
      tsConfigFilePath: path.join(REPO, "tsconfig.json"),
      skipAddingFilesFromTsConfig: true,
      compilerOptions: { noUnusedLocals: true, noUnusedParameters: true },
    });
    const dir = virtualDir();
    const files = emitAll(FULL_MODEL, { root: FIXTURE_ROOT, outDir: dir }).filter((f) => f.path.endsWith(".ts"));
    const sourceFiles = files.map((f) => strict.createSourceFile(path.join(dir, f.path), f.contents));
    expect(errorsOf(sourceFiles)).toEqual([]);
  }, 60_000);

  it("a dispatch table that no longer matches the class fails to compile", () => {
    const drifted: ServiceDef = {
      ...GEO_SERVICE,
      methods: GEO_SERVICE.methods.map((m) => (m.name === "when" ? { ...m, params: [param("d", T.string)] } : m)),
    };
    const errors = typecheckModel({ ...FULL_MODEL, services: FULL_MODEL.services.map((s) => (s.className === "GeoService" ? drifted : s)) });
    expect(errors.join("\n")).toMatch(/geo-service\.dispatch\.ts:\d+: Argument of type 'string' is not assignable to parameter of type 'Date'/);
  }, 60_000);
});

describe("generated code served end to end", () => {
  let out: string;
  beforeAll(() => {
    out = writeGenerated(FULL_MODEL);
  });

  it("the seed: the generated table serves MyService and connectMy reaches it", async () => {
    const { MyServiceDispatch } = await load<{ MyServiceDispatch: DispatchTable }>(out, "my-service.dispatch.ts");
    const { connectMy } = await load<{ connectMy: Connector<MyService> }>(out, "my-service.client.ts");
    const server = await serve(MyService, MyServiceDispatch);
    const conn = track(await connectMy("127.0.0.1", server.port));
    expect(await conn.root.get_answer()).toBe(42);
    expect(await conn.root.the_real_answer_though).toBe(43);
    expect(await conn.root.get_service_name()).toBe("MY");
    const untyped = conn.root as unknown as Record<string, () => Promise<unknown>>;
    await expect(untyped["get_question"]!()).rejects.toBeInstanceOf(AttributeError);
  });

  it("structured values cross by value both ways; a bad argument is refused naming the parameter", async () => {
    const { GeoServiceDispatch } = await load<{ GeoServiceDispatch: DispatchTable }>(out, "geo-service.dispatch.ts");
    const { connectGeo } = await load<{ connectGeo: Connector<GeoService> }>(out, "geo-service.client.ts");
    const service = new GeoService();
    const server = await serve(service, GeoServiceDispatch);
    const conn = track(await connectGeo("127.0.0.1", server.port));
    const geo = conn.root;
    expect(await geo.move({ x: 1, y: 2, label: "a" }, 10)).toEqual({ x: 11, y: 2, label: "a" });
    expect(await geo.move({ x: 1, y: 2 }, 1, 5)).toEqual({ x: 2, y: 7 });
    expect(
      await geo.centroid([
        { x: 0, y: 0 },
        { x: 2, y: 4 },
      ]),
    ).toEqual({ x: 1, y: 2 });
    expect(await geo.when(new Date(5000))).toEqual(new Date(6000));
    expect(await geo.tally(new Map([["a", 1]]))).toEqual({ a: 2 });
    expect(await geo.area({ kind: "square", corner: { x: 0, y: 0 }, side: 3, color: Color.Red })).toBe(9);
    expect(await geo.area({ kind: "circle", center: { x: 0, y: 0 }, radius: 2 })).toBe(12);
    expect(await geo.paint(Color.Green, Level.High)).toBe("green:2");
    expect(await geo.paint(Color.Red)).toBe("red:0");
    expect(await geo.big(2n ** 60n)).toBe(2n ** 61n);
    expect(await geo.checksum(Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(6));
    expect(await geo.span([3, 10])).toBe(7);
    expect(await geo.span([3])).toBe(0);
    expect(await geo.sum(1, 2, 3, 4)).toBe(10);
    expect(await geo.mix(Color.Red, Color.Green)).toBe(2);
    expect(await geo.lookup(7)).toBe("#7");
    expect(await geo.lookup("x")).toBeNull();
    expect(await geo.grid()).toEqual(new Map([[1, [{ x: 1, y: 1 }]]]));
    expect(await geo.label({ name: "n", tags: ["a", "b"] })).toBe("n[a,b]");
    expect(await geo.version).toBe("1.0");
    expect(await geo.origin).toEqual({ x: 0, y: 0 });
    expect(await geo.palette).toEqual(["red", "green"]);

    // A client without the schema (as a Python client would be) sends what it is given.
    const raw = track(await connect("127.0.0.1", server.port));
    const untyped = raw.root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const before = service.calls;
    await expect(untyped["move"]!([1, 2, null], "ten")).rejects.toThrow("move() argument 'dx': expected number, got string \"ten\"");
    await expect(untyped["paint"]!("blue")).rejects.toThrow("paint() argument 'color': expected Color");
    await expect(untyped["move"]!([1, 2, null])).rejects.toThrow("move() takes 2 to 3 arguments, got 1");
    expect(service.calls).toBe(before);
    // The generated client refuses to send what does not fit, before anything goes out.
    await expect((geo.move as unknown as (...args: unknown[]) => Promise<unknown>)({ x: "1", y: 2 }, 1)).rejects.toThrow(
      "move() argument 'p'.x: expected number",
    );
  });

  it("callbacks, returned functions and netrefs of other compiled services", async () => {
    const { CallbackServiceDispatch } = await load<{ CallbackServiceDispatch: DispatchTable }>(out, "callback-service.dispatch.ts");
    const { ChildServiceDispatch } = await load<{ ChildServiceDispatch: DispatchTable }>(out, "child-service.dispatch.ts");
    const index = await load<{ connectCallback: Connector<CallbackService>; CHILD_SERVICE_SCHEMA: ServiceSchema }>(out, "index.ts");
    const server = await serve(CallbackService, [CallbackServiceDispatch, ChildServiceDispatch]);
    const conn = track(await index.connectCallback("127.0.0.1", server.port, { schemas: [index.CHILD_SERVICE_SCHEMA] }));
    expect(await conn.root.apply(async (x) => x * 3, 7)).toBe(21);
    const seen: string[] = [];
    expect(await conn.root.each(["a", "b"], (item, i) => void seen.push(`${i}:${item}`))).toBe(2);
    expect(seen).toEqual(["0:a", "1:b"]);
    const add5 = await conn.root.make_adder(5);
    expect(await add5(1)).toBe(6);
    const child = await conn.root.child();
    expect(await child.name).toBe("child");
    const untyped = child as unknown as Record<string, () => Promise<unknown>>;
    await expect(untyped["secret"]!()).rejects.toBeInstanceOf(AttributeError);
    expect(await conn.root.hold({ name: "w", describe: () => "w" })).toBe(true);
    await expect((conn.root.apply as unknown as (...args: unknown[]) => Promise<unknown>)(5, 1)).rejects.toThrow("apply() argument 'fn'");
  });

  it("aliases, async methods, getters and inherited members", async () => {
    const index = await load<{
      connectFloop: Connector<FloopService>;
      connectDerived: Connector<DerivedService>;
      FLOOP_SERVICE_NAMES: readonly string[];
    }>(out, "index.ts");
    const { FloopServiceDispatch } = await load<{ FloopServiceDispatch: DispatchTable }>(out, "floop-service.dispatch.ts");
    const { DerivedServiceDispatch } = await load<{ DerivedServiceDispatch: DispatchTable }>(out, "derived-service.dispatch.ts");
    const { BaseServiceDispatch } = await load<{ BaseServiceDispatch: DispatchTable }>(out, "base-service.dispatch.ts");

    const floopServer = await serve(FloopService, FloopServiceDispatch);
    const f = track(await index.connectFloop("127.0.0.1", floopServer.port));
    expect(await f.root.get_service_name()).toBe("FLOOP");
    expect(await f.root.get_service_aliases()).toEqual([...index.FLOOP_SERVICE_NAMES]);
    expect(await f.root.echo("hi")).toBe("hi");
    expect(await f.root.slow(1)).toBe("slept 1");
    expect(await f.root.nothing()).toBeNull(); // a void result arrives as None -> null, typed and untyped alike
    expect(await f.root.version).toBe("2.0");
    expect(await f.root.uptime).toBe(1);

    const derivedServer = await serve(DerivedService, [DerivedServiceDispatch, BaseServiceDispatch]);
    const d = track(await index.connectDerived("127.0.0.1", derivedServer.port));
    expect(await d.root.ping()).toBe("pong");
    expect(await d.root.extra(1)).toBe(2);
    expect(await d.root.favourite()).toBe(Color.Green);
    expect(await d.root.base_value).toBe(1);
    expect(await d.root.get_service_name()).toBe("DERIVED");

    const baseServer = await serve(BaseService, [DerivedServiceDispatch, BaseServiceDispatch]);
    const b = track(await connect<BaseService>("127.0.0.1", baseServer.port));
    expect(await b.root.ping()).toBe("pong");
    await expect((b.root as unknown as Record<string, (n: number) => Promise<unknown>>)["extra"]!(1)).rejects.toBeInstanceOf(AttributeError);
  });
});

describe(".proto files", () => {
  const files = emitAll(FULL_MODEL, options("/p"));
  const protos = files.filter((f) => f.path.endsWith(".proto"));

  /** Every message and enum in a parsed root, by full name. */
  function declared(root: protobuf.Root): { types: string[]; enums: string[] } {
    const types: string[] = [];
    const enums: string[] = [];
    const walk = (ns: protobuf.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) types.push(nested.fullName.slice(1));
        else if (nested instanceof protobuf.Enum) enums.push(nested.fullName.slice(1));
        if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) walk(nested);
      }
    };
    walk(root);
    return { types, enums };
  }

  it.each(protos.map((p) => [p.path, p.contents]))("protobufjs loads %s and resolves every message", (_path, text) => {
    const parsed = protobuf.parse(text, { keepCase: true });
    const root = protobuf.Root.fromJSON(parsed.root.toJSON());
    root.resolveAll();
    const { types, enums } = declared(root);
    expect(types.length).toBeGreaterThan(0);
    for (const name of types) expect(root.lookupType(name).fullName).toBe(`.${name}`);
    for (const name of enums) expect(root.lookupEnum(name).valuesById[0]).toMatch(/_UNSPECIFIED$|^[A-Z]/);
    expect(parsed.package).toMatch(/^rpyc\.[a-z]/);
  });

  it("messages encode and decode", () => {
    const root = protobuf.parse(file(files, "geo-service.proto"), { keepCase: true }).root;
    const Move = root.lookupType("rpyc.geo.MoveRequest");
    const message = { p: { x: 1, y: 2, label: "a" }, dx: 3, dy: 4 };
    expect(Move.toObject(Move.decode(Move.encode(Move.create(message)).finish()))).toEqual(message);
    const Area = root.lookupType("rpyc.geo.AreaRequest");
    const square = { shape_square: { kind: "square", corner: { x: 0, y: 0 }, side: 2, color: 1 } };
    const decoded = Area.toObject(Area.decode(Area.encode(Area.create(square)).finish()), { oneofs: true });
    expect(decoded).toMatchObject({ shape: "shape_square", shape_square: { side: 2, color: 1 } });
  });

  it("enums get a zero value first; string enums keep their names, numeric ones their numbers", () => {
    const geo = file(files, "geo-service.proto");
    expect(geo).toContain('// Paint.\nenum Color {\n  COLOR_UNSPECIFIED = 0;\n  COLOR_RED = 1; // "red"\n  COLOR_GREEN = 2; // "green"\n}');
    expect(geo).toContain("enum Level {\n  LEVEL_UNSPECIFIED = 0;\n  LEVEL_LOW = 1;\n  LEVEL_HIGH = 2;\n}");
  });

  it("unions are oneofs, maps are map<K, V> or entry messages, tuples and inline objects are messages", () => {
    const geo = file(files, "geo-service.proto");
    expect(geo).toContain("message AreaRequest {\n  oneof shape {\n    Circle shape_circle = 1;\n    Square shape_square = 2;\n  }\n}");
    expect(geo).toContain("message LookupRequest {\n  oneof id {\n    string id_string = 1;\n    double id_number = 2;\n  }\n}");
    expect(geo).toContain("message LookupResponse {\n  optional string result = 1;\n}");
    expect(geo).toContain("message TallyRequest {\n  map<string, double> counts = 1;\n}");
    expect(geo).toContain("message GridResponse {\n  repeated GridResponseResultEntry result = 1;\n}");
    expect(geo).toContain("message GridResponseResultEntry {\n  double key = 1;\n  repeated Point value = 2;\n}");
    expect(geo).toContain("message SpanRequestS {\n  double item_0 = 1;\n  optional double item_1 = 2;\n}");
    expect(geo).toContain("message LabelRequestItem {\n  string name = 1;\n  repeated string tags = 2;\n}");
    expect(geo).toContain("message BigRequest {\n  sint64 n = 1;\n}");
    expect(geo).toContain("message ChecksumRequest {\n  bytes data = 1;\n}");
    expect(geo).toContain("message WhenRequest {\n  double d = 1;\n}");
    expect(geo).toContain(
      "// A point in the plane.\nmessage Point {\n  // Horizontal coordinate.\n  double x = 1;\n  double y = 2;\n  optional string label = 3;\n}",
    );
    expect(geo).not.toContain("message RpycNetref");
  });

  it("netrefs, functions and unknown values are RpycNetref, declared once", () => {
    const callbacks = file(files, "callback-service.proto");
    expect(callbacks.match(/message RpycNetref \{/g)).toHaveLength(1);
    expect(callbacks).toContain("message RpycNetref {\n  string name_pack = 1;\n  sint64 class_id = 2;\n  sint64 instance_id = 3;\n}");
    expect(callbacks).toContain("message ApplyRequest {\n  // Called with x.\n  RpycNetref fn = 1;\n  double x = 2;\n}");
    expect(callbacks).toContain("message MakeAdderResponse {\n  RpycNetref result = 1;\n}");
  });

  it("hard cases still load: nested arrays, nullable elements, map values that are unions, recursive aliases, enum zero members", () => {
    const tricky: ServiceModel = {
      version: 1,
      services: [
        {
          ...MY_SERVICE,
          className: "TrickyService",
          name: "TRICKY",
          aliases: ["TRICKY", "TRICKY-2"],
          methods: [
            {
              ...MY_SERVICE.methods[0]!,
              name: "odd",
              member: "exposed_odd",
              params: [
                param("matrix", array(array(T.number))),
                param("maybe", array(union(T.string, T.null))),
                param("byKey", { kind: "map", key: ref("Mode"), value: union(T.string, T.number), container: "map" }),
                param("tree", ref("Json")),
                param("labelText", union(literal("a"), literal("b"))),
                param("nothing", T.null),
                param("label_text", T.boolean),
              ],
              returns: union(array(T.number), { kind: "map", key: T.string, value: T.number, container: "record" }, T.undefined),
            },
          ],
          attributes: [],
        },
      ],
      types: [
        {
          kind: "alias",
          name: "Json",
          type: union(T.string, T.number, array(ref("Json")), { kind: "map", key: T.string, value: ref("Json"), container: "record" }, T.null),
          location: MY_SERVICE.location,
        },
        {
          kind: "enum",
          name: "Mode",
          members: [
            { name: "Off", value: 0 },
            { name: "On", value: 1 },
            { name: "Enabled", value: 1 },
          ],
          location: MY_SERVICE.location,
        },
      ],
    };
    const proto = file(emitAll(tricky, options("/p")), "tricky-service.proto");
    const parsed = protobuf.parse(proto, { keepCase: true });
    protobuf.Root.fromJSON(parsed.root.toJSON()).resolveAll();
    expect(parsed.package).toBe("rpyc.tricky");
    expect(proto).toContain("enum Mode {\n  option allow_alias = true;\n  MODE_OFF = 0;\n  MODE_ON = 1;\n  MODE_ENABLED = 1;\n}");
    expect(proto).toContain("repeated OddRequestMatrixItem matrix = 1;");
    expect(proto).toContain("message Json {");
    expect(proto).toContain("  Json tree = 4;\n  string label_text = 5;\n  bool label_text_2 = 6;\n}"); // the null-only parameter has no field
    expect(proto).toContain("message OddRequestMaybeItem {\n  optional string value = 1;\n}");
    expect(proto).toContain(
      "message OddResponse {\n  oneof result {\n    OddResponseResultList result_list = 1;\n    OddResponseResultMap result_map = 2;\n  }\n}",
    );
  });
});

describe("the SDK package", () => {
  const pkgOptions = (root: string): EmitOptions => options(root, { packageName: "@acme/geo-client", packageVersion: "1.2.3" });
  const files = generatePackage(FULL_MODEL, pkgOptions("/p"));

  it("has package.json, README.md and dist/ JavaScript + declarations for every stub and the index", () => {
    expect(files.map((f) => f.path).sort()).toEqual(
      [
        "README.md",
        "package.json",
        ...["index", ...FULL_MODEL.services.map((s) => `${s.className.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()}.client`)].flatMap((stem) => [
          `dist/${stem}.js`,
          `dist/${stem}.d.ts`,
        ]),
      ].sort(),
    );
    expect(byPath(emitAll(FULL_MODEL, pkgOptions("/p"))).get("package.json")).toBe(file(files, "package.json"));
  });

  it("package.json publishes dist, protos and README only, and peer-depends on this rpyc-ts", () => {
    const pkg = JSON.parse(file(files, "package.json")) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: "@acme/geo-client",
      version: "1.2.3",
      type: "module",
      main: "./dist/index.js",
      types: "./dist/index.d.ts",
      exports: { ".": { types: "./dist/index.d.ts", import: "./dist/index.js" } },
      files: ["dist", "*.proto", "README.md"],
      sideEffects: false,
      peerDependencies: { "rpyc-ts": `^${RPYC_VERSION}` },
    });
    expect(JSON.parse(file(generatePackage(SEED_MODEL, options("/p", { packageName: "seed" })), "package.json")).version).toBe("0.1.0");
  });

  it("peer-depends on protobufjs (npm installs it: the native codec) for services rpyc-ts serves, not for Python ones", () => {
    const peers = (model: ServiceModel): Record<string, string> =>
      (JSON.parse(file(generatePackage(model, options("/p", { packageName: "sdk" })), "package.json")) as { peerDependencies: Record<string, string> })
        .peerDependencies;
    const runtimePeers = (
      JSON.parse(readFileSync(new URL("../../packages/rpyc-ts/package.json", import.meta.url), "utf8")) as { peerDependencies: Record<string, string> }
    ).peerDependencies;
    expect(peers(FULL_MODEL)).toEqual({ protobufjs: runtimePeers["protobufjs"], "rpyc-ts": `^${RPYC_VERSION}` });
    expect(file(files, "README.md")).toMatch(/npm also installs protobufjs/);
    const python: ServiceModel = { ...SEED_MODEL, services: SEED_MODEL.services.map((s) => ({ ...s, origin: "python" as const })) };
    expect(peers(python)).toEqual({ "rpyc-ts": `^${RPYC_VERSION}` });
    expect(file(generatePackage(python, options("/p", { packageName: "sdk" })), "README.md")).not.toMatch(/protobufjs/);
  });

  it("the README names the services, shows the connect helper and documents each method and attribute", () => {
    const readme = file(files, "README.md");
    expect(readme).toMatch(/^<!-- Generated by rpyc-gen from .*src\/geo-service\.ts.*\. Do not edit\. -->\n\n# @acme\/geo-client\n/);
    expect(readme).toContain("## GEO (GeoService)\n\nGeometry on the wire.");
    expect(readme).toContain('import { connectGeo } from "@acme/geo-client";');
    expect(readme).toContain("Service names: `FLOOP`, `BLOOP`.");
    expect(readme).toContain(
      "#### `move(p: Point, dx: number, dy?: number): Promise<Point>`\n\nMoves a point.\n\n- `p`: The point to move.\n- `dx`: How far right.\n- `dy` (default `0`): How far up.",
    );
    expect(readme).toContain("- `origin: Point` (read-only)");
    expect(readme).toContain("#### `child(): Promise<ChildService>`");
  });

  it("dist/ imports only rpyc-ts and its own files, and keeps the header", () => {
    for (const f of files.filter((f) => f.path.startsWith("dist/"))) {
      expect(f.contents, f.path).toMatch(/^\/\/ Generated by rpyc-gen from [^\n]+\. Do not edit\.\n/);
      const specifiers = [...f.contents.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]!);
      for (const s of specifiers) expect(s === "rpyc-ts" || /^\.\/[\w-]+\.client\.js$/.test(s), `${f.path}: ${s}`).toBe(true);
    }
    expect(file(files, "dist/index.js")).toContain('from "./geo-service.client.js"');
    expect(file(files, "dist/geo-service.client.d.ts")).toContain(
      "export declare function connectGeo(host: string, port: number, options?: ConnectOptions): Promise<Connection<GeoRemote>>;",
    );
    expect(file(files, "dist/geo-service.client.js")).not.toMatch(/: ServiceSchema|interface /);
    const custom = generatePackage(SEED_MODEL, options("/p", { packageName: "seed", runtimeImport: "../runtime/index.js" }));
    expect(file(custom, "dist/my-service.client.js")).toContain('import { connect, connectByService, connectWebSocket } from "rpyc-ts";');
  });

  it("dist/ declarations type-check for a consumer, and dist/ JavaScript connects to a served service", async () => {
    const dist = Object.fromEntries(files.filter((f) => f.path.endsWith(".d.ts")).map((f) => [f.path, f.contents]));
    const sourceFiles = addFiles(virtualDir(), {
      ...dist,
      "consumer.ts": `import { connectMy, connectGeo, Color, type GeoRemote } from "./dist/index.js";
export async function use(): Promise<number> {
  const conn = await connectMy("127.0.0.1", 1);
  const geo = await connectGeo("127.0.0.1", 1);
  const remote: GeoRemote = geo.root;
  await remote.paint(Color.Red);
  // @ts-expect-error not exposed
  await conn.root.get_question();
  return conn.root.get_answer();
}
`,
    });
    expect(errorsOf(sourceFiles)).toEqual([]);

    const pkg = writeTree(files);
    const sdk = await load<{ connectMy: Connector<MyService>; MY_SERVICE_NAMES: readonly string[] }>(pkg, "dist/index.js");
    const { MyServiceDispatch } = await load<{ MyServiceDispatch: DispatchTable }>(writeGenerated(SEED_MODEL), "my-service.dispatch.ts");
    const server = await serve(MyService, MyServiceDispatch);
    const conn = track(await sdk.connectMy("127.0.0.1", server.port));
    expect(await conn.root.get_answer()).toBe(42);
    expect(sdk.MY_SERVICE_NAMES).toEqual(["MY"]);
  }, 60_000);
});
