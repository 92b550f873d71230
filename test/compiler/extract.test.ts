// Extraction on in-memory sources (a stand-in of the rpyc-ts package in node_modules), asserting
// on the plain model; plus the seed service of this repository read from disk.

import { fileURLToPath } from "node:url";
import { Project, ts } from "ts-morph";
import { describe, expect, it } from "vitest";
import { extractFromProject, extractModel, type ExtractResult } from "../../compiler/extract.js";
import { formatDiagnostic, type MethodDef, type ServiceDef, type TypeDef, type WireType } from "../../compiler/model.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The runtime's Service as the published package declares it. */
const RPYC_TS = `
export declare class Service {
  /** Names this service registers under; the first is its formal name. */
  static ALIASES?: readonly string[];
  static get_service_aliases(): string[];
  static get_service_name(): string;
  on_connect(conn: unknown): void | Promise<void>;
  on_disconnect(conn: unknown): void | Promise<void>;
  exposed_get_service_aliases(): string[];
  exposed_get_service_name(): string;
}
export declare class VoidService extends Service {}
`;

const NODE_TYPES = `
declare global {
  interface Buffer extends Uint8Array { toJSON(): { type: "Buffer"; data: number[] } }
}
export {};
`;

const SUPPORT: Record<string, string> = {
  "/node_modules/rpyc-ts/package.json": `{ "name": "rpyc-ts", "version": "0.1.0", "types": "index.d.ts" }`,
  "/node_modules/rpyc-ts/index.d.ts": RPYC_TS,
  "/node_modules/@types/node/package.json": `{ "name": "@types/node", "version": "20.0.0", "types": "index.d.ts" }`,
  "/node_modules/@types/node/index.d.ts": NODE_TYPES,
};

/** Files under /src are the entries unless `entries` says otherwise. */
function extractFrom(files: Record<string, string>, entries?: readonly string[], order: "sorted" | "reversed" = "sorted"): ExtractResult {
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
      lib: ["lib.es2022.d.ts"], // no DOM: faster, and Buffer comes from the @types/node stand-in
    },
  });
  const all = { ...SUPPORT, ...files };
  const paths = Object.keys(all).sort();
  if (order === "reversed") paths.reverse();
  for (const path of paths) {
    if (path.endsWith(".json")) project.getFileSystem().writeFileSync(path, all[path]!);
    else project.createSourceFile(path, all[path]!);
  }
  const wanted = entries ?? paths.filter((p) => p.startsWith("/src/") && !p.endsWith(".d.ts"));
  return extractFromProject(
    project,
    wanted.map((p) => project.getSourceFileOrThrow(p)),
    "/",
  );
}

function service(result: ExtractResult, className: string): ServiceDef {
  const found = result.model.services.find((s) => s.className === className);
  if (!found) throw new Error(`no service ${className} in ${result.model.services.map((s) => s.className).join(", ")}`);
  return found;
}

function method(s: ServiceDef, name: string): MethodDef {
  const found = s.methods.find((m) => m.name === name);
  if (!found) throw new Error(`no method ${name} in ${s.className}`);
  return found;
}

function typeDef(result: ExtractResult, name: string): TypeDef {
  const found = result.model.types.find((t) => t.name === name);
  if (!found) throw new Error(`no type ${name} in ${result.model.types.map((t) => t.name).join(", ")}`);
  return found;
}

function formatted(result: ExtractResult): string[] {
  return result.diagnostics.map(formatDiagnostic);
}

const S = { kind: "string" } as const;
const N = { kind: "number" } as const;
const B = { kind: "boolean" } as const;
const U = { kind: "undefined" } as const;
const NULL = { kind: "null" } as const;
const ref = (name: string): WireType => ({ kind: "ref", name });
const param = (name: string, type: WireType, more: { optional?: boolean; rest?: boolean; default?: string; doc?: string } = {}) => ({
  name,
  type,
  optional: more.optional ?? false,
  rest: more.rest ?? false,
  ...(more.doc === undefined ? {} : { doc: more.doc }),
  ...(more.default === undefined ? {} : { default: more.default }),
});

describe("the seed service (examples/seed-service.ts, from disk)", () => {
  it("extracts MyService exactly", () => {
    const result = extractModel({ sources: ["examples/seed-service.ts"], root: REPO_ROOT, project: "tsconfig.json" });
    expect(result.diagnostics).toEqual([]);
    expect(result.model).toEqual({
      version: 1,
      types: [],
      services: [
        {
          className: "MyService",
          name: "MY",
          aliases: ["MY"],
          explicitAliases: false,
          module: "examples/seed-service.ts",
          exportName: "MyService",
          bases: [],
          location: { file: "examples/seed-service.ts", line: 5, column: 14 },
          doc: "RPyC's tutorial service: one exposed method, one exposed attribute, one private method.",
          methods: [
            {
              name: "get_answer",
              member: "exposed_get_answer",
              params: [],
              returns: N,
              async: false,
              declaredIn: "MyService",
              location: { file: "examples/seed-service.ts", line: 15, column: 3 },
              doc: "The answer to life, the universe and everything (an exposed method).",
            },
          ],
          attributes: [
            {
              name: "the_real_answer_though",
              member: "exposed_the_real_answer_though",
              type: N,
              readonly: false,
              kind: "property",
              declaredIn: "MyService",
              location: { file: "examples/seed-service.ts", line: 20, column: 3 },
              doc: "The real answer, though (an exposed attribute).",
            },
          ],
        },
      ],
    } satisfies typeof result.model);
    // get_question is not exposed; get_service_name/aliases come from the runtime itself.
    expect(JSON.stringify(result.model)).not.toMatch(/get_question|get_service_name|get_service_aliases/);
    expect(result.files).toEqual([`${REPO_ROOT}examples/seed-service.ts`]);
  }, 60_000); // the file's first extraction warms the compiler: 2.7-7 s lightly loaded

  it("reads globs and directories without a tsconfig; a pattern matching nothing is RPYC_NO_INPUT", () => {
    const result = extractModel({ sources: ["examples", "examples/nothing-*.ts"], root: REPO_ROOT });
    expect(result.model.services.map((s) => s.className)).toEqual(["MyService"]);
    expect(formatted(result)).toEqual([
      "examples/nothing-*.ts:1:1: error RPYC_NO_INPUT: 'examples/nothing-*.ts' matches no TypeScript source file\n" +
        "  hint: pass the files (or globs) that declare your services, relative to the project root",
    ]);
    expect(JSON.stringify(result.model)).not.toContain(REPO_ROOT);
  });
});

describe("services and names", () => {
  it("derives the name from the class, or reads literal ALIASES (inherited like a static)", () => {
    const result = extractFrom({
      "/src/a.ts": `
        import { Service } from "rpyc-ts";
        export class CalculatorService extends Service {}
        export class Floop extends Service { static ALIASES = ["floop", "bloop"]; }
        export class Frozen extends Service { static readonly ALIASES = ["ice", \`snow\`] as const; }
        export class Empty extends Service { static ALIASES: string[] = []; }
        export class Plain {}
        class NotAService {}
      `,
    });
    expect(result.diagnostics).toEqual([]);
    const names = result.model.services.map((s) => [s.className, s.name, s.aliases, s.explicitAliases]);
    expect(names).toEqual([
      ["CalculatorService", "CALCULATOR", ["CALCULATOR"], false],
      ["Empty", "EMPTY", ["EMPTY"], false],
      ["Floop", "FLOOP", ["FLOOP", "BLOOP"], true],
      ["Frozen", "ICE", ["ICE", "SNOW"], true],
    ]);
  });

  it("inherits ALIASES from a base class, so the subclass clashes with it", () => {
    const result = extractFrom({
      "/src/a.ts": `import { Service } from "rpyc-ts";\nexport class Floop extends Service { static ALIASES = ["floop", "bloop"]; }\nexport class Derived extends Floop {}\n`,
    });
    expect(service(result, "Derived")).toMatchObject({ name: "FLOOP", aliases: ["FLOOP", "BLOOP"], explicitAliases: true, bases: ["Floop"] });
    expect(formatted(result)).toEqual([
      "src/a.ts:2:14: error RPYC_DUPLICATE_SERVICE_NAME: service Floop's names 'FLOOP', 'BLOOP' are already used by Derived (src/a.ts:3:14)\n" +
        '  hint: give one of them a different name with static ALIASES = ["..."]',
    ]);
  });

  it("reports module, export name, bases and location; default and renamed exports", () => {
    const result = extractFrom({
      "/src/services/one.ts": `import { Service } from "rpyc-ts";\n\nexport default class OneService extends Service {}\n`,
      "/src/services/two.ts": `import { Service } from "rpyc-ts";\nclass TwoService extends Service {}\nexport { TwoService as Second };\n`,
    });
    const one = service(result, "OneService");
    expect([one.module, one.exportName, one.location]).toEqual(["src/services/one.ts", "default", { file: "src/services/one.ts", line: 3, column: 22 }]);
    expect(service(result, "TwoService").exportName).toBe("Second");
  });

  it("recognises Service imported under another name, through a namespace, or from runtime/serve/service.ts", () => {
    const result = extractFrom({
      "/src/renamed.ts": `import { Service as Base } from "rpyc-ts";\nexport class RenamedService extends Base {}\n`,
      "/src/namespace.ts": `import * as rpyc from "rpyc-ts";\nexport class NamespacedService extends rpyc.Service {}\n`,
      "/lib/runtime/serve/service.ts": `export class Service { exposed_get_service_name(): string { return ""; } }\n`,
      "/src/local.ts": `import { Service } from "../lib/runtime/serve/service.js";\nexport class LocalService extends Service {}\n`,
      "/src/impostor.ts": `class Service {}\nexport class Impostor extends Service { exposed_x(): number { return 1; } }\n`,
      "/src/void.ts": `import { VoidService } from "rpyc-ts";\nexport class Child extends VoidService {}\n`,
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.model.services.map((s) => [s.className, s.bases])).toEqual([
      ["Child", ["VoidService"]],
      ["LocalService", []],
      ["NamespacedService", []],
      ["RenamedService", []],
    ]);
    expect(service(result, "LocalService").methods).toEqual([]);
  });
});

describe("exposed members and inheritance", () => {
  const files = {
    "/src/base.ts": `
      import { Service } from "rpyc-ts";
      /** Shared by every calculator. */
      export abstract class BaseService extends Service {
        exposed_version = "1.0";
        /** Pings. */
        exposed_ping(): string { return "pong"; }
        abstract exposed_compute(x: number): number;
        exposed_hidden_by_child(): void {}
        hidden(): void {}
      }
    `,
    "/src/child.ts": `
      import { BaseService } from "./base.js";
      export class ChildService extends BaseService {
        override exposed_ping(loud?: boolean): string { return loud ? "PONG" : "pong"; }
        exposed_compute(x: number): number { return x * 2; }
        private exposed_private(): void {}
      }
      export class GrandChildService extends ChildService {
        exposed_extra = true;
      }
    `,
  };

  it("collects own and inherited exposed members, the override winning; skips abstract classes", () => {
    const result = extractFrom(files);
    // A private exposed_ member is left out, with a warning.
    expect(formatted(result)).toEqual([
      "src/child.ts:6:17: warning RPYC_PRIVATE_MEMBER: ChildService.exposed_private is private: it is left out of the client stub and the dispatch table\n" +
        "  hint: drop the exposed_ prefix to keep it to the service, or make it public to expose it",
    ]);
    expect(result.model.services.map((s) => s.className)).toEqual(["ChildService", "GrandChildService"]);
    const child = service(result, "ChildService");
    expect(child.bases).toEqual(["BaseService"]);
    expect(child.methods.map((m) => [m.name, m.declaredIn, m.location.file, m.params.length])).toEqual([
      ["compute", "ChildService", "src/child.ts", 1],
      ["hidden_by_child", "BaseService", "src/base.ts", 0],
      ["ping", "ChildService", "src/child.ts", 1],
    ]);
    expect(method(child, "ping").params).toEqual([param("loud", B, { optional: true })]);
    expect(child.attributes).toEqual([
      {
        name: "version",
        member: "exposed_version",
        type: S,
        readonly: false,
        kind: "property",
        declaredIn: "BaseService",
        location: { file: "src/base.ts", line: 5, column: 9 },
      },
    ]);
    const grand = service(result, "GrandChildService");
    expect(grand.bases).toEqual(["ChildService", "BaseService"]);
    expect(grand.methods.map((m) => m.name)).toEqual(["compute", "hidden_by_child", "ping"]);
    expect(grand.attributes.map((a) => [a.name, a.declaredIn, a.type])).toEqual([
      ["extra", "GrandChildService", B],
      ["version", "BaseService", S],
    ]);
    // An override without JSDoc of its own keeps the documentation of the member it overrides.
    expect(method(grand, "ping").doc).toBe("Pings.");
    expect(service(result, "ChildService").doc).toBeUndefined();
  });

  it("reports only classes of the entry files, but follows bases anywhere (also into packages)", () => {
    const result = extractFrom(
      {
        ...files,
        "/node_modules/calc-lib/package.json": `{ "name": "calc-lib", "version": "1.0.0", "types": "index.d.ts" }`,
        "/node_modules/calc-lib/index.d.ts": `
          import { Service } from "rpyc-ts";
          export interface Reading { value: number; unit: string }
          export declare class LibService extends Service {
            static ALIASES: readonly ["lib", "library"];
            exposed_read(): Reading;
          }
        `,
        "/src/uses-lib.ts": `import { LibService } from "calc-lib";\nexport class MyLib extends LibService {}\n`,
      },
      ["/src/child.ts", "/src/uses-lib.ts"],
    );
    expect(result.diagnostics.map((d) => d.code)).toEqual(["RPYC_PRIVATE_MEMBER"]); // ChildService's, as above
    expect(result.model.services.map((s) => s.className)).toEqual(["ChildService", "GrandChildService", "MyLib"]);
    const lib = service(result, "MyLib");
    expect([lib.aliases, lib.explicitAliases, lib.bases]).toEqual([["LIB", "LIBRARY"], true, ["LibService"]]);
    expect(method(lib, "read")).toMatchObject({ returns: ref("Reading"), declaredIn: "LibService", location: { file: "node_modules/calc-lib/index.d.ts" } });
    expect(typeDef(result, "Reading")).toEqual({
      kind: "object",
      name: "Reading",
      fields: [
        { name: "value", type: N, optional: false, readonly: false },
        { name: "unit", type: S, optional: false, readonly: false },
      ],
      location: { file: "node_modules/calc-lib/index.d.ts", line: 3, column: 28 },
    });
    expect(result.files).toEqual(["/node_modules/calc-lib/index.d.ts", "/src/base.ts", "/src/child.ts", "/src/uses-lib.ts"]);
  });

  it("describes getters (readonly without a setter), readonly and optional properties, function-valued properties", () => {
    const result = extractFrom({
      "/src/a.ts": `
        import { Service } from "rpyc-ts";
        export class PropsService extends Service {
          exposed_x = 43;
          readonly exposed_y: string = "why";
          exposed_maybe?: number;
          get exposed_z(): number { return 1; }
          get exposed_w(): string { return ""; }
          set exposed_w(value: string) {}
          exposed_handler = (n: number): string => String(n);
          exposed_async_handler = async (): Promise<number> => 1;
          constructor(public readonly exposed_param_prop: boolean = true) { super(); }
        }
      `,
    });
    expect(result.diagnostics).toEqual([]);
    const s = service(result, "PropsService");
    expect(s.attributes.map((a) => [a.name, a.kind, a.readonly, a.type])).toEqual([
      ["maybe", "property", false, { kind: "union", members: [N, U] }],
      ["param_prop", "property", true, B],
      ["w", "getter", false, S],
      ["x", "property", false, N],
      ["y", "property", true, S],
      ["z", "getter", true, N],
    ]);
    expect(s.methods.map((m) => [m.name, m.params, m.returns, m.async])).toEqual([
      ["async_handler", [], N, true],
      ["handler", [param("n", N)], S, false],
    ]);
  });

  it("describes params: optional, defaults, rest, destructured; async and Promise results are unwrapped", () => {
    const result = extractFrom({
      "/src/a.ts": `
        import { Service } from "rpyc-ts";
        export class ParamsService extends Service {
          exposed_move(x: number, dy = 0, label?: string, ...tags: string[]): void {}
          exposed_opts({ a, b }: { a: number; b: string }): void {}
          async exposed_fetch(id: string): Promise<string | null> { return null; }
          exposed_later(): Promise<number> { return Promise.resolve(1); }
          async exposed_nothing(): Promise<void> {}
          exposed_never(): never { throw new Error("no"); }
        }
      `,
    });
    expect(result.diagnostics).toEqual([]);
    const s = service(result, "ParamsService");
    expect(method(s, "move")).toMatchObject({
      params: [
        param("x", N),
        param("dy", N, { optional: true, default: "0" }),
        param("label", S, { optional: true }),
        param("tags", { kind: "array", element: S }, { rest: true }),
      ],
      returns: U,
      async: false,
    });
    expect(method(s, "opts").params).toEqual([
      param("arg0", {
        kind: "object",
        fields: [
          { name: "a", type: N, optional: false },
          { name: "b", type: S, optional: false },
        ],
      }),
    ]);
    expect([method(s, "fetch").returns, method(s, "fetch").async]).toEqual([{ kind: "union", members: [S, NULL] }, true]);
    expect([method(s, "later").returns, method(s, "later").async]).toEqual([N, true]);
    expect([method(s, "nothing").returns, method(s, "nothing").async]).toEqual([U, true]);
    expect([method(s, "never").returns, method(s, "never").async]).toEqual([U, false]);
  });

  it("keeps optional function properties as attributes, takes the last overload, and answers `this` with a netref", () => {
    const result = extractFrom({
      "/src/a.ts": `
        import { Service } from "rpyc-ts";
        export class MiscService extends Service {
          exposed_cb?: () => void;
          exposed_over(a: string): string;
          exposed_over(a: number): number;
          exposed_over(a: string | number): string | number { return a; }
          exposed_fluent(): this { return this; }
        }
      `,
    });
    expect(result.diagnostics).toEqual([]);
    const s = service(result, "MiscService");
    expect(s.attributes.map((a) => [a.name, a.type])).toEqual([["cb", { kind: "union", members: [{ kind: "function", params: [], returns: U }, U] }]]);
    expect(method(s, "over")).toMatchObject({ params: [param("a", N)], returns: N, location: { line: 5 } });
    expect(method(s, "fluent").returns).toEqual({ kind: "netref", name: "MiscService" });
  });

  it("describes callbacks (function params and results) and netrefs (class instances, objects with methods)", () => {
    const result = extractFrom({
      "/src/events.ts": `
        export interface Event { name: string; at: Date }
        export interface Listener { onEvent(e: Event): void }
        export class Subscription { cancel(): void {} }
        export type Handler = (event: Event, count?: number) => void | Promise<void>;
      `,
      "/src/a.ts": `
        import { Service } from "rpyc-ts";
        import type { Event, Handler, Listener } from "./events.js";
        import { Subscription } from "./events.js";
        export class EventsService extends Service {
          exposed_subscribe(topic: string, callback: (event: Event, count?: number) => Promise<boolean>): () => void { return () => {}; }
          exposed_on(handler: Handler): Subscription { return new Subscription(); }
          exposed_listen(listener: Listener, inline: { ping(): void }): void {}
          exposed_apply(fn: (...xs: number[]) => number): number { return fn(1); }
          exposed_self(): EventsService { return this; }
        }
      `,
    });
    expect(result.diagnostics).toEqual([]);
    const s = service(result, "EventsService");
    expect(method(s, "subscribe").params[1]).toEqual(
      param("callback", {
        kind: "function",
        params: [param("event", ref("Event")), param("count", N, { optional: true })],
        returns: B,
      }),
    );
    expect(method(s, "subscribe").returns).toEqual({ kind: "function", params: [], returns: U });
    expect(method(s, "on").params).toEqual([param("handler", ref("Handler"))]);
    expect(method(s, "on").returns).toEqual({ kind: "netref", name: "Subscription" });
    expect(typeDef(result, "Handler")).toMatchObject({
      kind: "alias",
      type: { kind: "function", params: [param("event", ref("Event")), param("count", N, { optional: true })], returns: U },
    });
    expect(method(s, "listen").params.map((p) => p.type)).toEqual([
      { kind: "netref", name: "Listener" },
      { kind: "netref", name: "object" },
    ]);
    expect(method(s, "apply").params[0]!.type).toEqual({ kind: "function", params: [param("xs", { kind: "array", element: N }, { rest: true })], returns: N });
    expect(method(s, "self").returns).toEqual({ kind: "netref", name: "EventsService" });
    expect(typeDef(result, "Event")).toMatchObject({
      kind: "object",
      fields: [
        { name: "name", type: S },
        { name: "at", type: { kind: "date" } },
      ],
    });
  });
});

describe("types", () => {
  const files = {
    "/src/model.ts": `
      /** A user of the system. */
      export interface User {
        /** Unique id. */
        readonly id: Id;
        name: string;
        email?: string | null;
        role: Role;
        level: Level;
        tags: readonly string[];
        avatar: Uint8Array;
        raw: Buffer;
        created: Date;
        balance: bigint;
        address: { street: string; city?: string };
        friends: User[];
      }
      /** Identifies things. */
      export type Id = string | number;
      export enum Role { Admin = "admin", Member = "member" }
      export enum Level { Low, High = 10 }
      export type Point = { x: number; y: number };
      export interface Page<T> { items: T[]; next?: string; total: number }
      export type Maybe<T> = T | null;
      export interface Tree { value: number; children: Tree[]; parent?: Tree }
      export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
      export type Status = "active" | "disabled" | 0 | true;
      export type UserId = string & { readonly __brand: "UserId" };
    `,
    "/node_modules/geo-types/package.json": `{ "name": "geo-types", "version": "1.0.0", "types": "index.d.ts" }`,
    "/node_modules/geo-types/index.d.ts": `export interface LatLng { lat: number; lng: number }\n`,
    "/src/service.ts": `
      import { Service } from "rpyc-ts";
      import type { Id, Json, Level, Maybe, Page, Point, Role, Status, Tree, User, UserId } from "./model.js";
      import type { LatLng } from "geo-types";
      export class TypesService extends Service {
        exposed_user(id: Id): User { throw new Error(); }
        exposed_users(page: number): Page<User> { throw new Error(); }
        exposed_points(): Page<Point> { throw new Error(); }
        exposed_find(name: string): Maybe<User> { return null; }
        exposed_role(r: Role, l: Level, one: Role.Admin): void {}
        exposed_tree(): Tree { throw new Error(); }
        exposed_json(j: Json): void {}
        exposed_status(s: Status, flag: boolean | string, n: 1 | 2 | "x"): void {}
        exposed_where(): LatLng { throw new Error(); }
        exposed_uid(u: UserId): void {}
        exposed_pair(p: [string, number, boolean?]): [number, number] { return [1, 2]; }
        exposed_record(r: Record<string, number>, byId: { [id: string]: User }): Map<string, User[]> { return new Map(); }
        exposed_readonly_map(m: ReadonlyMap<number, string>): ReadonlyArray<bigint> { return []; }
        exposed_partial(p: Partial<Point>, keys: Record<"a" | "b", string>): void {}
        exposed_any(a: any, u: unknown, o: object): void {}
      }
    `,
  };

  it("describes primitives, literals, containers, enums, interfaces, aliases, generics, packages and recursion", () => {
    const result = extractFrom(files, ["/src/service.ts"]);
    // `object` travels untyped: a warning (explicit any and unknown are the author's choice: none).
    expect(formatted(result)).toEqual([
      "src/service.ts:20:41: warning RPYC_UNTYPED_VALUE: TypesService.exposed_any() parameter 'o': type 'object' says nothing about the value, so it travels untyped (unknown in the stub)\n" +
        "  hint: declare the value's type (an interface, a union, ...), or write unknown to say that any value is meant",
    ]);
    const s = service(result, "TypesService");
    const params = (name: string): WireType[] => method(s, name).params.map((p) => p.type);

    expect(result.model.types.map((t) => `${t.kind} ${t.name}`)).toEqual([
      "alias Id",
      "alias Json",
      "object LatLng",
      "enum Level",
      "alias Maybe_User",
      "object Page_Point",
      "object Page_User",
      "object Point",
      "enum Role",
      "alias Status",
      "object Tree",
      "object User",
      "alias UserId",
    ]);

    expect(typeDef(result, "User")).toEqual({
      kind: "object",
      name: "User",
      doc: "A user of the system.",
      location: { file: "src/model.ts", line: 3, column: 24 },
      fields: [
        { name: "id", type: ref("Id"), optional: false, readonly: true, doc: "Unique id." },
        { name: "name", type: S, optional: false, readonly: false },
        { name: "email", type: { kind: "union", members: [S, NULL] }, optional: true, readonly: false },
        { name: "role", type: ref("Role"), optional: false, readonly: false },
        { name: "level", type: ref("Level"), optional: false, readonly: false },
        { name: "tags", type: { kind: "array", element: S }, optional: false, readonly: false },
        { name: "avatar", type: { kind: "bytes" }, optional: false, readonly: false },
        { name: "raw", type: { kind: "bytes" }, optional: false, readonly: false },
        { name: "created", type: { kind: "date" }, optional: false, readonly: false },
        { name: "balance", type: { kind: "bigint" }, optional: false, readonly: false },
        {
          name: "address",
          type: {
            kind: "object",
            fields: [
              { name: "street", type: S, optional: false },
              { name: "city", type: S, optional: true },
            ],
          },
          optional: false,
          readonly: false,
        },
        { name: "friends", type: { kind: "array", element: ref("User") }, optional: false, readonly: false },
      ],
    });
    expect(typeDef(result, "Id")).toEqual({
      kind: "alias",
      name: "Id",
      type: { kind: "union", members: [S, N] },
      doc: "Identifies things.",
      location: { file: "src/model.ts", line: 19, column: 19 },
    });
    expect(typeDef(result, "Role")).toMatchObject({
      kind: "enum",
      members: [
        { name: "Admin", value: "admin" },
        { name: "Member", value: "member" },
      ],
    });
    expect(typeDef(result, "Level")).toMatchObject({
      kind: "enum",
      members: [
        { name: "Low", value: 0 },
        { name: "High", value: 10 },
      ],
    });

    // Generics with concrete arguments get a TypeDef of their own, arguments substituted.
    expect(method(s, "users").returns).toEqual(ref("Page_User"));
    expect(typeDef(result, "Page_User")).toMatchObject({
      kind: "object",
      fields: [
        { name: "items", type: { kind: "array", element: ref("User") }, optional: false },
        { name: "next", type: S, optional: true },
        { name: "total", type: N, optional: false },
      ],
      location: { file: "src/model.ts", line: 23, column: 24 },
    });
    expect(typeDef(result, "Page_Point")).toMatchObject({ fields: [{ name: "items", type: { kind: "array", element: ref("Point") } }, {}, {}] });
    expect(typeDef(result, "Maybe_User")).toMatchObject({ kind: "alias", type: { kind: "union", members: [ref("User"), NULL] } });
    expect(typeDef(result, "Point")).toMatchObject({
      kind: "object",
      fields: [
        { name: "x", type: N },
        { name: "y", type: N },
      ],
    });

    // Recursive types end in a ref to themselves.
    expect(typeDef(result, "Tree")).toMatchObject({
      fields: [
        { name: "value", type: N },
        { name: "children", type: { kind: "array", element: ref("Tree") } },
        { name: "parent", type: ref("Tree"), optional: true },
      ],
    });
    expect(typeDef(result, "Json")).toMatchObject({
      type: {
        kind: "union",
        members: [S, N, B, { kind: "array", element: ref("Json") }, { kind: "map", key: S, value: ref("Json"), container: "record" }, NULL],
      },
    });

    // Enums as a whole are refs; one member is a literal.
    expect(params("role")).toEqual([ref("Role"), ref("Level"), { kind: "literal", value: "admin" }]);
    expect(typeDef(result, "Status")).toMatchObject({
      type: {
        kind: "union",
        members: [
          { kind: "literal", value: "active" },
          { kind: "literal", value: "disabled" },
          { kind: "literal", value: 0 },
          { kind: "literal", value: true },
        ],
      },
    });
    expect(params("status").slice(1)).toEqual([
      { kind: "union", members: [S, B] },
      {
        kind: "union",
        members: [
          { kind: "literal", value: "x" },
          { kind: "literal", value: 1 },
          { kind: "literal", value: 2 },
        ],
      },
    ]);
    expect(method(s, "where").returns).toEqual(ref("LatLng"));
    expect(typeDef(result, "LatLng")).toMatchObject({ location: { file: "node_modules/geo-types/index.d.ts", line: 1, column: 18 } });
    expect(typeDef(result, "UserId")).toMatchObject({ kind: "alias", type: S });

    // Tuples (minLength counts the required elements), records, maps.
    expect(params("pair")).toEqual([{ kind: "tuple", elements: [S, N, B], minLength: 2 }]);
    expect(method(s, "pair").returns).toEqual({ kind: "tuple", elements: [N, N], minLength: 2 });
    expect(params("record")).toEqual([
      { kind: "map", key: S, value: N, container: "record" },
      { kind: "map", key: S, value: ref("User"), container: "record" },
    ]);
    expect(method(s, "record").returns).toEqual({ kind: "map", key: S, value: { kind: "array", element: ref("User") }, container: "map" });
    expect(params("readonly_map")).toEqual([{ kind: "map", key: N, value: S, container: "map" }]);
    expect(method(s, "readonly_map").returns).toEqual({ kind: "array", element: { kind: "bigint" } });
    // Standard-library mapped types are described inline.
    expect(params("partial")).toEqual([
      {
        kind: "object",
        fields: [
          { name: "x", type: N, optional: true },
          { name: "y", type: N, optional: true },
        ],
      },
      {
        kind: "object",
        fields: [
          { name: "a", type: S, optional: false },
          { name: "b", type: S, optional: false },
        ],
      },
    ]);
    expect(params("any")).toEqual([{ kind: "unknown" }, { kind: "unknown" }, { kind: "unknown" }]);
  });

  it("keeps TypeDef names unique when two files declare the same name", () => {
    const result = extractFrom(
      {
        "/src/a/user.ts": `export interface User { a: string }`,
        "/src/b/user.ts": `export interface User { b: number }`,
        "/src/service.ts": `
        import { Service } from "rpyc-ts";
        import type { User as A } from "./a/user.js";
        import type { User as B } from "./b/user.js";
        export class ClashService extends Service {
          exposed_a(): A { throw new Error(); }
          exposed_b(): B { throw new Error(); }
        }
      `,
      },
      ["/src/service.ts"],
    );
    const s = service(result, "ClashService");
    expect([method(s, "a").returns, method(s, "b").returns]).toEqual([ref("User"), ref("User_2")]);
    expect(result.model.types.map((t) => [t.name, t.location.file])).toEqual([
      ["User", "src/a/user.ts"],
      ["User_2", "src/b/user.ts"],
    ]);
  });

  it("lists every contributing file for watch mode, also where a type alias vanished into a primitive", () => {
    const result = extractFrom(
      {
        "/src/name.ts": `export type Name = string;`,
        "/src/unused.ts": `export type Unused = number;`,
        "/src/point.ts": `import type { Name } from "./name.js";\nexport interface Point { label: Name }`,
        "/src/service.ts": `
          import { Service } from "rpyc-ts";
          import type { Point } from "./point.js";
          import type { Name } from "./name.js";
          export class WatchService extends Service { exposed_p(n: Name): Point { throw new Error(); } }
        `,
      },
      ["/src/service.ts"],
    );
    expect(result.files).toEqual(["/src/name.ts", "/src/point.ts", "/src/service.ts"]);
    expect(method(service(result, "WatchService"), "p").params[0]!.type).toEqual(S);
  });

  it("carries JSDoc of classes, methods, params, properties and fields", () => {
    const result = extractFrom({
      "/src/a.ts": `
        import { Service } from "rpyc-ts";
        /** A point. */
        export interface Pt {
          /** Across. */
          x: number;
        }
        /**
         * Documented service.
         *
         * Second paragraph.
         */
        export class DocService extends Service {
          /** The answer. */
          exposed_answer = 42;
          /** Current time. */
          get exposed_now(): Date { return new Date(); }
          /**
           * Moves a point.
           * @param p - the point
           * @param dx how far
           * @returns the moved point
           */
          exposed_move(p: Pt, dx: number): Pt { return p; }
        }
      `,
    });
    const s = service(result, "DocService");
    expect(s.doc).toBe("Documented service.\n\nSecond paragraph.");
    expect(method(s, "move")).toMatchObject({
      doc: "Moves a point.",
      params: [
        { name: "p", doc: "the point" },
        { name: "dx", doc: "how far" },
      ],
    });
    expect(s.attributes.map((a) => [a.name, a.doc])).toEqual([
      ["answer", "The answer."],
      ["now", "Current time."],
    ]);
    expect(typeDef(result, "Pt")).toMatchObject({ doc: "A point.", fields: [{ name: "x", doc: "Across." }] });
  });
});

describe("diagnostics", () => {
  it("RPYC_NON_LITERAL_ALIASES: a variable, a call, a template with substitutions, a non-array, a getter", () => {
    const result = extractFrom({
      "/src/a.ts": [
        `import { Service } from "rpyc-ts";`,
        `const NAMES = ["x"];`,
        `export class VarService extends Service { static ALIASES = NAMES; }`,
        `export class CallService extends Service { static ALIASES = NAMES.map((n) => n); }`,
        "export class TemplateService extends Service { static ALIASES = [`t-${NAMES[0]}`]; }",
        `export class StringService extends Service { static ALIASES = "single" as unknown as string[]; }`,
        `export class GetterService extends Service { static get ALIASES() { return ["g"]; } }`,
      ].join("\n"),
    });
    expect(formatted(result)).toEqual(
      [
        ["src/a.ts:3:60", "VarService"],
        ["src/a.ts:4:61", "CallService"],
        ["src/a.ts:5:65", "TemplateService"],
        ["src/a.ts:6:63", "StringService"],
        ["src/a.ts:7:57", "GetterService"],
      ].map(
        ([at, cls]) =>
          `${at}: error RPYC_NON_LITERAL_ALIASES: ${cls}.ALIASES is not an array literal of string literals, so rpyc-gen cannot read the service's names\n` +
          `  hint: write the names out: static ALIASES = ["name", "other"]`,
      ),
    );
    // The service is still described, under its derived name.
    expect(service(result, "VarService").aliases).toEqual(["VAR"]);
  });

  it("RPYC_UNSUPPORTED_TYPE: symbol, never as a parameter, unresolved types, rest tuples, intersections, computed enum members", () => {
    const result = extractFrom({
      "/src/a.ts": [
        `import { Service } from "rpyc-ts";`,
        `import type { Missing } from "./missing.js";`,
        `export interface Keyed { key: symbol }`,
        `export class BadService extends Service {`,
        `  exposed_sym(s: symbol): void {}`,
        `  exposed_never(n: never): void {}`,
        `  exposed_missing(): Missing { throw new Error(); }`,
        `  exposed_keyed(k: Keyed): void {}`,
        `  exposed_variadic(t: [string, ...number[]]): void {}`,
        `  exposed_tagged(t: symbol & { tag: string }): void {}`,
        `  exposed_level(l: Level): void {}`,
        `}`,
        `export enum Level { Low = "low".length, High = 2 }`,
      ].join("\n"),
    });
    expect(formatted(result)).toEqual([
      "src/a.ts:3:26: error RPYC_UNSUPPORTED_TYPE: field 'key' of Keyed: type 'symbol' (a symbol) cannot cross the wire\n" +
        "  hint: use a plain data type, or unknown to pass it as a netref",
      "src/a.ts:5:15: error RPYC_UNSUPPORTED_TYPE: BadService.exposed_sym() parameter 's': type 'symbol' (a symbol) cannot cross the wire\n" +
        "  hint: use a plain data type, or unknown to pass it as a netref",
      "src/a.ts:6:17: error RPYC_UNSUPPORTED_TYPE: BadService.exposed_never() parameter 'n': type 'never' has no values to send\n" +
        "  hint: use a plain data type, or unknown to pass it as a netref",
      "src/a.ts:7:3: error RPYC_UNSUPPORTED_TYPE: BadService.exposed_missing() return type: the type does not resolve\n" +
        "  hint: check that the import resolves (pass --project tsconfig.json so paths and packages resolve as they do for tsc)",
      "src/a.ts:9:20: error RPYC_UNSUPPORTED_TYPE: BadService.exposed_variadic() parameter 't': tuple '[string, ...number[]]' has a rest element\n" +
        "  hint: use a fixed-length tuple (optional elements are fine) or an array",
      "src/a.ts:10:18: error RPYC_UNSUPPORTED_TYPE: BadService.exposed_tagged() parameter 't': intersection 'symbol & { tag: string; }' cannot cross the wire\n" +
        "  hint: use a plain data type, or unknown to pass it as a netref",
      "src/a.ts:13:21: error RPYC_UNSUPPORTED_TYPE: enum member Level.Low has a computed value\n  hint: give the enum member a literal value",
    ]);
    expect(typeDef(result, "Level")).toMatchObject({ kind: "enum", members: [{ name: "High", value: 2 }] });
    // What could not be described is `unknown` in the model, which stays well-formed.
    expect(method(service(result, "BadService"), "sym").params[0]!.type).toEqual({ kind: "unknown" });
  });

  it("every construct gets a decided outcome: Sets (netref out, error in), weak collections, promises, Function, object and {}", () => {
    const result = extractFrom({
      "/src/a.ts": [
        `import { Service } from "rpyc-ts";`,
        `export class Tally { count = 0; increment(): number { return ++this.count; } }`,
        `export interface Tagged { tags: Set<string> }`,
        `export interface Item { id: number }`,
        `export class KindsService extends Service {`,
        `  exposed_letters(): Set<string> { return new Set(); }`,
        `  exposed_items(): ReadonlySet<Item> { return new Set(); }`,
        `  exposed_tagged(): Tagged { return { tags: new Set() }; }`,
        `  exposed_tally(): Tally { return new Tally(); }`,
        `  exposed_take(s: Set<string>, t: Tagged): void {}`,
        `  exposed_weak(m: WeakMap<object, number>, s: WeakSet<object>, r: WeakRef<object>): void {}`,
        `  exposed_later(p: Promise<number>): void {}`,
        `  exposed_call(f: Function): void {}`,
        `  exposed_loose(o: object, e: {}, b: Object, u: unknown, a: any): void {}`,
        `  exposed_names = new Set<string>();`,
        `}`,
      ].join("\n"),
    });
    const hintSet = "\n  hint: a Set cannot travel by value: take an array (T[]) and build the Set in the method";
    const hintWeak = "\n  hint: a weak collection or reference cannot be iterated or copied: use a Map (or a Set) and send its entries";
    const hintUntyped = "\n  hint: declare the value's type (an interface, a union, ...), or write unknown to say that any value is meant";
    expect(formatted(result)).toEqual([
      "src/a.ts:3:27: error RPYC_UNSUPPORTED_TYPE: field 'tags' of Tagged: type 'Set<string>' would arrive as a reference, not a Set" + hintSet,
      "src/a.ts:7:3: warning RPYC_UNTYPED_VALUE: KindsService.exposed_items() return type: the items of 'ReadonlySet<Item>' arrive as references, typed unknown in the stub (RemoteSet<unknown>)\n" +
        "  hint: return an array (T[]) to send the items by value",
      "src/a.ts:10:16: error RPYC_UNSUPPORTED_TYPE: KindsService.exposed_take() parameter 's': type 'Set<string>' would arrive as a reference, not a Set" +
        hintSet,
      "src/a.ts:11:16: error RPYC_UNSUPPORTED_TYPE: KindsService.exposed_weak() parameter 'm': type 'WeakMap<object, number>' cannot cross the wire" + hintWeak,
      "src/a.ts:11:44: error RPYC_UNSUPPORTED_TYPE: KindsService.exposed_weak() parameter 's': type 'WeakSet<object>' cannot cross the wire" + hintWeak,
      "src/a.ts:11:64: error RPYC_UNSUPPORTED_TYPE: KindsService.exposed_weak() parameter 'r': type 'WeakRef<object>' cannot cross the wire" + hintWeak,
      "src/a.ts:12:17: error RPYC_UNSUPPORTED_TYPE: KindsService.exposed_later() parameter 'p': type 'Promise<number>' is a promise, which only a method's result may be (it is awaited)\n" +
        "  hint: await the value in the service and send the result (a method may be async)",
      "src/a.ts:13:16: error RPYC_UNSUPPORTED_TYPE: KindsService.exposed_call() parameter 'f': type 'Function' does not say how to call it\n" +
        "  hint: declare a function type with parameters, e.g. (x: number) => string",
      "src/a.ts:14:17: warning RPYC_UNTYPED_VALUE: KindsService.exposed_loose() parameter 'o': type 'object' says nothing about the value, so it travels untyped (unknown in the stub)" +
        hintUntyped,
      "src/a.ts:14:28: warning RPYC_UNTYPED_VALUE: KindsService.exposed_loose() parameter 'e': type '{}' says nothing about the value, so it travels untyped (unknown in the stub)" +
        hintUntyped,
      "src/a.ts:14:35: warning RPYC_UNTYPED_VALUE: KindsService.exposed_loose() parameter 'b': type 'Object' says nothing about the value, so it travels untyped (unknown in the stub)" +
        hintUntyped,
    ]);
    const s = service(result, "KindsService");
    expect(method(s, "letters").returns).toEqual({ kind: "netref", name: "Set", args: [S] });
    expect(method(s, "items").returns).toEqual({ kind: "netref", name: "Set", args: [{ kind: "unknown" }] });
    expect(method(s, "tally").returns).toEqual({ kind: "netref", name: "Tally" });
    expect(s.attributes.find((a) => a.name === "names")?.type).toEqual({ kind: "netref", name: "Set", args: [S] });
    expect(method(s, "loose").params.map((p) => p.type.kind)).toEqual(["unknown", "unknown", "unknown", "unknown", "unknown"]);
  });

  it("RPYC_UNTYPED_VALUE: a parameter without a type (an implicit any) is a warning; an explicit any or unknown is not", () => {
    const result = extractFrom({
      "/src/a.ts": [
        `import { Service } from "rpyc-ts";`,
        `export class RawService extends Service {`,
        `  // @ts-expect-error: implicit any`,
        `  exposed_raw(x, a: any, u: unknown, d = 1): void {}`,
        `}`,
      ].join("\n"),
    });
    expect(formatted(result)).toEqual([
      "src/a.ts:4:15: warning RPYC_UNTYPED_VALUE: RawService.exposed_raw() parameter 'x' has no type, so it travels untyped (unknown in the stub)\n" +
        "  hint: annotate the parameter (unknown, if any value is meant)",
    ]);
    expect(method(service(result, "RawService"), "raw").params.map((p) => p.type.kind)).toEqual(["unknown", "unknown", "unknown", "number"]);
  });

  it("RPYC_STATIC_MEMBER: static exposed_ members of the class and its bases", () => {
    const result = extractFrom({
      "/src/a.ts": [
        `import { Service } from "rpyc-ts";`,
        `export class BaseService extends Service { static exposed_version = 1; }`,
        `export class LeafService extends BaseService {`,
        `  static exposed_h(): string { return "h"; }`,
        `  static get exposed_g(): number { return 1; }`,
        `  exposed_ok(): number { return 1; }`,
        `}`,
      ].join("\n"),
    });
    const hint = "\n  hint: a peer reaches a service through its instance: make it an instance member";
    expect(formatted(result)).toEqual([
      "src/a.ts:2:51: error RPYC_STATIC_MEMBER: BaseService.exposed_version is a static property: rpyc-ts serves a service's instance, so a peer cannot reach it" +
        hint,
      "src/a.ts:4:10: error RPYC_STATIC_MEMBER: LeafService.exposed_h is a static method: rpyc-ts serves a service's instance, so a peer cannot reach it" +
        hint,
      "src/a.ts:5:14: error RPYC_STATIC_MEMBER: LeafService.exposed_g is a static member: rpyc-ts serves a service's instance, so a peer cannot reach it" +
        hint,
    ]);
    expect(service(result, "LeafService").methods.map((m) => m.name)).toEqual(["ok"]);
  });

  it("RPYC_OPEN_GENERIC: a type parameter left open in a method or a class", () => {
    const result = extractFrom({
      "/src/a.ts": [
        `import { Service } from "rpyc-ts";`,
        `export class Box<T> extends Service {`,
        `  exposed_get(): T { throw new Error(); }`,
        `  exposed_identity<U>(value: U): Promise<U> { return Promise.resolve(value); }`,
        `}`,
        `export class NumberBox extends Box<number> {}`,
      ].join("\n"),
    });
    const hint = "\n  hint: give the type parameter a concrete type argument, or declare the member with a concrete type (unknown for anything)";
    expect(formatted(result)).toEqual([
      "src/a.ts:3:3: error RPYC_OPEN_GENERIC: Box.exposed_get() return type: type parameter 'T' is left open" + hint,
      "src/a.ts:4:3: error RPYC_OPEN_GENERIC: Box.exposed_identity() return type: type parameter 'U' is left open" + hint,
      "src/a.ts:4:23: error RPYC_OPEN_GENERIC: Box.exposed_identity() parameter 'value': type parameter 'U' is left open" + hint,
    ]);
    // A concrete subclass instantiates the inherited member.
    expect(method(service(result, "NumberBox"), "get").returns).toEqual(N);
  });

  it("RPYC_DUPLICATE_SERVICE_NAME: on the second service, naming the first", () => {
    const result = extractFrom({
      "/src/a.ts": `import { Service } from "rpyc-ts";\nexport class AlphaService extends Service { static ALIASES = ["calc", "alpha"]; }\n`,
      "/src/b.ts": `import { Service } from "rpyc-ts";\nexport class CalcService extends Service {}\n`,
    });
    expect(formatted(result)).toEqual([
      "src/b.ts:2:14: error RPYC_DUPLICATE_SERVICE_NAME: service CalcService's name 'CALC' is already used by AlphaService (src/a.ts:2:14)\n" +
        '  hint: give one of them a different name with static ALIASES = ["..."]',
    ]);
  });

  it("RPYC_SERVICE_NOT_EXPORTED: the class is left out of the model", () => {
    const result = extractFrom({ "/src/a.ts": `import { Service } from "rpyc-ts";\n\nclass HiddenService extends Service {}\n` });
    expect(formatted(result)).toEqual([
      "src/a.ts:3:7: error RPYC_SERVICE_NOT_EXPORTED: service class HiddenService is not exported, so generated dispatch tables cannot import it\n" +
        "  hint: export it: `export class HiddenService ...`",
    ]);
    expect(result.model.services).toEqual([]);
  });

  it("RPYC_NO_INPUT: no entry files", () => {
    expect(formatted(extractFrom({}, []))).toEqual([
      ".:1:1: error RPYC_NO_INPUT: no source files were given\n  hint: pass the files (or globs) that declare your services, relative to the project root",
    ]);
  });
});

describe("determinism", () => {
  const files = {
    "/src/types.ts": `
      export interface B { a: A | null; n: number }
      export interface A { b: B[]; s: "x" | "y" }
      export type Either = A | B | string | undefined;
    `,
    "/src/one.ts": `
      import { Service } from "rpyc-ts";
      import type { A, Either } from "./types.js";
      export class ZedService extends Service { exposed_z(e: Either): A { throw new Error(); } exposed_a = 1; }
    `,
    "/src/two.ts": `
      import { Service } from "rpyc-ts";
      import type { B } from "./types.js";
      export class AlphaService extends Service { exposed_b(): B { throw new Error(); } }
    `,
  };

  it("gives the same JSON twice, and whatever the order of the sources", () => {
    const first = JSON.stringify(extractFrom(files));
    expect(JSON.stringify(extractFrom(files))).toBe(first);
    expect(JSON.stringify(extractFrom(files, ["/src/two.ts", "/src/one.ts", "/src/types.ts"], "reversed"))).toBe(first);
    const model = JSON.parse(first).model as ExtractResult["model"];
    expect(model.services.map((s) => s.className)).toEqual(["AlphaService", "ZedService"]);
    expect(model.types.map((t) => t.name)).toEqual(["A", "B", "Either"]);
  });
});
