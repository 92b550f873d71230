// The two packages as a user installs them, offline (test/helpers/offline-npm.ts):
//   - rpyc-ts alone, into a fresh ESM project: how much it installs, that it installs nothing
//     else and warns about nothing, that `import` and `require` both reach a live server, that
//     its declarations compile with skipLibCheck false and only @types/node, that its two
//     commands run, and that the optional etcd peer is asked for by name;
//   - rpyc-gen: what its tarball holds (no runtime copy, its templates and Python grammar
//     inside), that nothing it depends on runs an install script, and that the packed
//     compiler, installed beside the packed runtime, compiles a TypeScript and a Python service.
// npm itself cannot install rpyc-gen offline from an empty cache (it needs ts-morph & co. from
// a registry); its dependencies are linked from this repository's node_modules instead, which
// holds the versions package-lock.json pins.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThreadedServer } from "../../runtime/index.js";
import { MyService } from "../../examples/seed-service.js";
import { extractTarball, offlineNpm, runNode, tarballFileList, type OfflineNpm, type ProcessResult } from "../helpers/offline-npm.js";
import { installedBytes, packWorkspace, REPO } from "../helpers/packages.js";

const TSC = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly scripts?: Readonly<Record<string, string>>;
}

const RUNTIME_VERSION = readJson<Manifest>(path.join(REPO, "packages/rpyc-ts/package.json")).version;

/** What a new user's ESM program does first: serve, call, meet the refusal of a hidden member. */
const ESM_PROGRAM = `import { ThreadedServer, Service, connect } from "rpyc-ts";
import { dump, load } from "rpyc-ts/wire";
import { defineDispatch } from "rpyc-ts/internal";

class EchoService extends Service {
  exposed_echo(value) { return value; }
  hidden() { return "never"; }
}
const server = new ThreadedServer(EchoService, { hostname: "127.0.0.1", port: 0 });
await server.start();
const conn = await connect("127.0.0.1", server.port);
try {
  const echoed = await conn.root.echo("from ESM");
  const refused = await conn.root.hidden().then(() => "no error", (err) => err.name);
  console.log(JSON.stringify({ echoed, refused, wire: load(dump([1, "two"])), internal: typeof defineDispatch }));
} finally {
  await conn.close();
  await server.close();
}
`;

/** The same from CommonJS (a .cjs file: what `npm init -y` projects are). */
const CJS_PROGRAM = `const { ThreadedServer, Service, connect, isRpycError } = require("rpyc-ts");
const { defineDispatch } = require("rpyc-ts/internal");
class EchoService extends Service {
  exposed_echo(value) { return value; }
}
(async () => {
  const server = new ThreadedServer(EchoService, { hostname: "127.0.0.1", port: 0 });
  await server.start();
  const conn = await connect("127.0.0.1", server.port);
  try {
    const echoed = await conn.root.echo("from CommonJS");
    const refused = await conn.root.nope().then(() => "no error", (err) => err.name);
    console.log(JSON.stringify({ echoed, refused, guard: typeof isRpycError, internal: typeof defineDispatch }));
  } finally {
    await conn.close();
    await server.close();
  }
})();
`;

/** A typed program against the installed declarations (checked, not run). */
const TYPED_PROGRAM = `import { connect, Service, ThreadedServer, isRemoteException, type Connection, type PyValue } from "rpyc-ts";
import { FrameDecoder, HANDLE_CALLATTR } from "rpyc-ts/wire";
import type { DispatchTable } from "rpyc-ts/internal";

export class GreeterService extends Service {
  exposed_greet(name: string): string {
    return \`hello \${name}\`;
  }
}

export async function main(port: number): Promise<string> {
  const server = new ThreadedServer(GreeterService, { hostname: "127.0.0.1", port });
  await server.start();
  const conn: Connection<GreeterService> = await connect<GreeterService>("127.0.0.1", server.port);
  const greeting: string = await conn.root.greet("Ada");
  const value: PyValue = greeting;
  await conn.close();
  await server.close();
  return String(value) + String(isRemoteException(value)) + String(HANDLE_CALLATTR) + typeof FrameDecoder;
}
export type Table = DispatchTable | undefined;
`;

const ETCD_PROGRAM = `import { EtcdRegistryClient, type EtcdRegistryOptions } from "rpyc-ts/etcd";
const options: EtcdRegistryOptions = { hosts: "127.0.0.1:2379" };
export const client = new EtcdRegistryClient(options);
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    skipLibCheck: false,
    types: ["node"],
    noEmit: true,
  },
};

let scratch: string;
let npm: OfflineNpm;
let runtimeTgz: string;
let genTgz: string;
/** The runtime-only consumer. */
let app: string;
let appInstall: ProcessResult;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), "rpyc-packages-"));
  npm = await offlineNpm(path.join(scratch, "npm"));
  const pkgs = path.join(scratch, "pkgs");
  mkdirSync(pkgs);
  runtimeTgz = await packWorkspace(npm, "rpyc-ts", path.join(scratch, "stage-rpyc-ts"), pkgs);
  genTgz = await packWorkspace(npm, "rpyc-gen", path.join(scratch, "stage-rpyc-gen"), pkgs);

  app = path.join(scratch, "app");
  mkdirSync(app);
  const manifest = { name: "app", version: "1.0.0", private: true, type: "module", dependencies: { "rpyc-ts": `file:${runtimeTgz}` } };
  writeFileSync(path.join(app, "package.json"), JSON.stringify(manifest, null, 2));
  appInstall = await npm(["install", "--no-package-lock"], app);
}, 240_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** How a module is imported: loaded on import ("static"), loaded on demand ("dynamic", `import()`), or for its types only ("type"). */
type ImportKind = "static" | "dynamic" | "type";
const KIND_WEIGHT: Record<ImportKind, number> = { type: 0, dynamic: 1, static: 2 };

/** The bare module specifiers the .ts files under `dir` import, each with the strongest way any file imports it. */
function bareImports(dir: string): Map<string, ImportKind> {
  const found = new Map<string, ImportKind>();
  const note = (specifier: string, kind: ImportKind): void => {
    const before = found.get(specifier);
    if (!before || KIND_WEIGHT[kind] > KIND_WEIGHT[before]) found.set(specifier, kind);
  };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const text = readFileSync(path.join(entry.parentPath, entry.name), "utf8");
    for (const [, typeOnly, specifier] of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^".][^"]*)"/gm)) {
      note(specifier!, typeOnly ? "type" : "static");
    }
    for (const [, specifier] of text.matchAll(/\bimport\(\s*"([^".][^"]*)"\s*\)/g)) note(specifier!, "dynamic");
  }
  return found;
}

/** "ts-morph" of "ts-morph", "protobufjs" of "protobufjs/light.js", "@scope/x" of "@scope/x/y". */
const packageOf = (specifier: string): string =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");

describe("dependencies", () => {
  it("rpyc-ts declares none: its sources import node's built-ins, and its optional peers only on demand or for types", () => {
    const manifest = readJson<Manifest & { peerDependencies?: Record<string, string> }>(path.join(REPO, "packages/rpyc-ts/package.json"));
    expect(manifest.dependencies ?? {}).toEqual({});
    const packages = [...bareImports(path.join(REPO, "runtime"))].filter(([specifier]) => !specifier.startsWith("node:"));
    expect(new Set(packages.map(([specifier]) => packageOf(specifier)))).toEqual(new Set(Object.keys(manifest.peerDependencies ?? {})));
    // A static import of an optional peer would fail for everyone who did not install it.
    expect(packages.filter(([, kind]) => kind === "static")).toEqual([]);
  });

  it("rpyc-gen declares exactly the packages compiler/ imports", () => {
    const manifest = readJson<Manifest>(path.join(REPO, "packages/rpyc-gen/package.json"));
    const imported = new Set([...bareImports(path.join(REPO, "compiler")).keys()].filter((s) => !s.startsWith("node:")).map(packageOf));
    expect(imported).toEqual(new Set(Object.keys(manifest.dependencies ?? {})));
  });
});

describe("rpyc-ts, installed alone", () => {
  it("packs JavaScript, declarations, its commands, README and LICENSE: no sources, tests or source maps", () => {
    const files = tarballFileList(runtimeTgz);
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "README.md",
        "LICENSE",
        "bin/rpyc-registry.js",
        "bin/rpyc-classic.js",
        "bin/rpyc-gateway.js",
        "dist/index.js",
        "dist/index.d.ts",
      ]),
    );
    expect(files.filter((f) => !/^(dist\/.*\.(js|d\.ts)|bin\/[a-z-]+\.js|package\.json|README\.md|LICENSE)$/.test(f))).toEqual([]);
  });

  it("installs rpyc-ts and nothing else, offline, without a warning, in at most 2 MB", () => {
    expect(npm.registry.requests).toEqual([]);
    expect(`${appInstall.stdout}${appInstall.stderr}`).not.toMatch(/warn/i);
    const installed = readdirSync(path.join(app, "node_modules")).filter((name) => !name.startsWith("."));
    expect(installed).toEqual(["rpyc-ts"]);
    const bytes = installedBytes(path.join(app, "node_modules"));
    console.info(`runtime-only consumer: node_modules holds ${(bytes / 1e6).toFixed(2)} MB in ${installed.length} package`);
    expect(bytes).toBeLessThanOrEqual(2e6);
  });

  it("import: an ES module serves, calls and is refused a hidden member", async () => {
    writeFileSync(path.join(app, "main.js"), ESM_PROGRAM);
    const ran = await runNode(["main.js"], { cwd: app });
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ echoed: "from ESM", refused: "AttributeError", wire: [1, "two"], internal: "function" });
  });

  it("require: a CommonJS module does the same (Node >= 20.19 loads the ES module)", async () => {
    writeFileSync(path.join(app, "main.cjs"), CJS_PROGRAM);
    const ran = await runNode(["main.cjs"], { cwd: app });
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ echoed: "from CommonJS", refused: "AttributeError", guard: "function", internal: "function" });
  });

  it("its declarations compile with skipLibCheck false and only @types/node", async () => {
    const typed = path.join(scratch, "typed");
    mkdirSync(path.join(typed, "node_modules", "@types"), { recursive: true });
    extractTarball(runtimeTgz, path.join(typed, "node_modules", "rpyc-ts"));
    symlinkSync(path.join(REPO, "node_modules", "@types", "node"), path.join(typed, "node_modules", "@types", "node"), "dir");
    writeFileSync(path.join(typed, "package.json"), JSON.stringify({ name: "typed", private: true, type: "module" }));
    writeFileSync(path.join(typed, "app.ts"), TYPED_PROGRAM);
    writeFileSync(path.join(typed, "tsconfig.json"), JSON.stringify({ ...CONSUMER_TSCONFIG, files: ["app.ts"] }));
    const checked = await runNode([TSC, "-p", "tsconfig.json", "--pretty", "false"], { cwd: typed, timeoutMs: 120_000 });
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);

    // "rpyc-ts/etcd" is the one entry that names etcd3: it compiles once etcd3 is installed.
    symlinkSync(path.join(REPO, "node_modules", "etcd3"), path.join(typed, "node_modules", "etcd3"), "dir");
    writeFileSync(path.join(typed, "etcd.ts"), ETCD_PROGRAM);
    writeFileSync(path.join(typed, "tsconfig.etcd.json"), JSON.stringify({ ...CONSUMER_TSCONFIG, files: ["etcd.ts"] }));
    const etcd = await runNode([TSC, "-p", "tsconfig.etcd.json", "--pretty", "false"], { cwd: typed, timeoutMs: 120_000 });
    expect(etcd.stdout + etcd.stderr).toBe("");
    expect(etcd.code).toBe(0);
  }, 240_000); // two cold tsc runs

  it("rpyc-ts/etcd without etcd3 says what to install", async () => {
    writeFileSync(
      path.join(app, "etcd.js"),
      `import { EtcdRegistryClient } from "rpyc-ts/etcd";
const client = new EtcdRegistryClient({ hosts: "127.0.0.1:9" });
await client.list().then(() => console.log("listed"), (err) => console.log(err.message));
await client.close();
`,
    );
    const ran = await runNode(["etcd.js"], { cwd: app });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain("npm install etcd3");
  });

  it("its commands run from node_modules/.bin", async () => {
    for (const command of ["rpyc-registry", "rpyc-classic", "rpyc-gateway"]) {
      const ran = await runNode([path.join(app, "node_modules", ".bin", command), "--help"], { cwd: app });
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toContain(command);
    }
  });
});

/** Where node would find `name` from a package at `from` (nested node_modules first, then hoisted). */
function packageDir(name: string, from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === path.dirname(dir)) throw new Error(`cannot find ${name} from ${from}`);
  }
}

describe("rpyc-gen, packed", () => {
  const genManifest = (): Manifest => readJson<Manifest>(path.join(REPO, "packages/rpyc-gen/package.json"));

  it("depends on this rpyc-ts, carries its templates and grammar, and no copy of the runtime", () => {
    expect(genManifest().dependencies?.["rpyc-ts"]).toBe(RUNTIME_VERSION);
    expect(Object.keys(genManifest().dependencies ?? {})).not.toContain("tree-sitter-python");
    const files = tarballFileList(genTgz);
    expect(files).toEqual(
      expect.arrayContaining(["bin/rpyc-gen.js", "dist/cli/index.js", "dist/templates/client.ts.hbs", "dist/grammars/tree-sitter-python.wasm"]),
    );
    expect(files.filter((f) => /\.map$|\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(runtime|connection|netref)\//.test(f))).toEqual([]);
  });

  it("pulls in no package that runs an install script or builds native code", () => {
    const seen = new Map<string, string>();
    const visit = (name: string, from: string): void => {
      const dir = packageDir(name, from);
      if (seen.has(dir)) return;
      const manifest = readJson<Manifest>(path.join(dir, "package.json"));
      seen.set(dir, `${manifest.name}@${manifest.version}`);
      for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, dir);
    };
    for (const dependency of Object.keys(genManifest().dependencies ?? {})) visit(dependency, REPO);
    const building = [...seen].filter(([dir]) => {
      const scripts = readJson<Manifest>(path.join(dir, "package.json")).scripts ?? {};
      return ["preinstall", "install", "postinstall"].some((hook) => hook in scripts) || existsSync(path.join(dir, "binding.gyp"));
    });
    expect(building.map(([, id]) => id)).toEqual([]);
    expect(seen.size).toBeGreaterThan(5);
  });

  it("installed beside rpyc-ts, compiles a TypeScript and a Python service into stubs a program runs", async () => {
    const project = path.join(scratch, "gen-project");
    const modules = path.join(project, "node_modules");
    mkdirSync(modules, { recursive: true });
    extractTarball(runtimeTgz, path.join(modules, "rpyc-ts"));
    extractTarball(genTgz, path.join(modules, "rpyc-gen"));
    for (const dependency of Object.keys(genManifest().dependencies ?? {})) {
      if (dependency !== "rpyc-ts") symlinkSync(packageDir(dependency, REPO), path.join(modules, dependency), "dir");
    }
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "gen-project", private: true, type: "module" }));
    writeFileSync(path.join(project, "seed-service.ts"), readFileSync(path.join(REPO, "examples/seed-service.ts"), "utf8"));
    writeFileSync(path.join(project, "library_service.py"), readFileSync(path.join(REPO, "examples/python/library_service.py"), "utf8"));
    const bin = path.join(modules, "rpyc-gen", "bin", "rpyc-gen.js");

    const ts = await runNode([bin, "seed-service.ts", "-o", "generated"], { cwd: project, timeoutMs: 120_000 });
    expect(ts.code, ts.stderr).toBe(0);
    expect(readdirSync(path.join(project, "generated")).sort()).toEqual(["index.ts", "my-service.client.ts", "my-service.dispatch.ts", "my-service.proto"]);
    const py = await runNode([bin, "library_service.py", "-o", "generated-py"], { cwd: project, timeoutMs: 120_000 });
    expect(py.code, py.stderr).toBe(0);
    expect(readFileSync(path.join(project, "generated-py", "library-service.client.ts"), "utf8")).toContain("connectLibrary");

    // The generated client, run by node itself (type stripping is not in Node 20: compile it).
    const server = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0 });
    await server.start();
    try {
      symlinkSync(path.join(REPO, "node_modules", "@types"), path.join(modules, "@types"), "dir");
      const tsconfig = { compilerOptions: { ...CONSUMER_TSCONFIG.compilerOptions, noEmit: false, outDir: "out", rootDir: "." }, files: ["generated/index.ts"] };
      writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(tsconfig));
      const built = await runNode([TSC, "-p", "tsconfig.json", "--pretty", "false"], { cwd: project, timeoutMs: 120_000 });
      expect(built.stdout + built.stderr).toBe("");
      writeFileSync(
        path.join(project, "call.js"),
        `import { connectMy } from "./out/generated/index.js";
const conn = await connectMy("127.0.0.1", Number(process.argv[2]));
console.log(JSON.stringify(await conn.root.get_answer()));
await conn.close();
`,
      );
      const called = await runNode(["call.js", String(server.port)], { cwd: project });
      expect(called.code, called.stderr).toBe(0);
      expect(called.stdout.trim()).toBe("42");
    } finally {
      await server.close();
    }
  }, 240_000); // two rpyc-gen runs and a tsc run
});
