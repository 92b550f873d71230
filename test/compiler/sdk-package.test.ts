// End to end: the SDK package rpyc-gen emits with --package, used exactly as a consumer uses
// it from npm, with no network beyond 127.0.0.1.
//   1. The rpyc-ts package (packages/rpyc-ts) is packed as npm would publish it
//      (test/helpers/packages.ts).
//   2. rpyc-gen compiles the seed service and a service with structured types into
//      @acme/seed-sdk; `npm pack` of the output directory must hold only dist/, the .proto
//      files, README.md and package.json (no dispatch tables, no .ts sources).
//   3. A consumer project installs both tarballs offline (see installConsumer for how).
//   4. Its plain-JavaScript script runs under `node`, against servers in this process that
//      serve the generated dispatch tables, and prints JSON results.
//   5. Its TypeScript file and the README's examples type-check with this repository's tsc
//      (strict, nodenext) against the installed declarations, except the marked lines, which
//      must be the only errors; the SDK's declarations also check on their own.
// Everything lives in one temp dir under the OS tmpdir, removed at the end.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, run } from "../../compiler/cli/index.js";
import type { DispatchTable } from "../../runtime/index.js";
import { MyService } from "../../examples/seed-service.js";
import { ShopService } from "../helpers/sdk-shop-service.js";
import { serve } from "../helpers/servers.js";
import { offlineNpm, runNode, tarballFileList, type OfflineNpm, type ProcessResult } from "../helpers/offline-npm.js";
import { installedBytes, packDir, packWorkspace } from "../helpers/packages.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const TSC = path.join(REPO, "node_modules", "typescript", "bin", "tsc"); // what node_modules/.bin/tsc links to
const SDK_NAME = "@acme/seed-sdk";
const SOURCES = ["examples/seed-service.ts", "test/helpers/sdk-shop-service.ts"];

interface PackageJson {
  name: string;
  version: string;
  type?: string;
  files?: string[];
  main?: string;
  types?: string;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const RUNTIME_VERSION = readJson<PackageJson>(path.join(REPO, "packages", "rpyc-ts", "package.json")).version;

// ------------------------------------------------------------------- step 3: the consumer

/**
 * Installs the two tarballs into `consumer`, offline. rpyc-ts has no dependencies of its own
 * and the SDK none but its peers, so npm needs nothing but the two local tarballs; with
 * --legacy-peer-deps it does not reach for the SDK's other peer (protobufjs) either, which
 * keeps this consumer on what a brine-only install holds.
 */
async function installConsumer(npm: OfflineNpm, consumer: string, runtimeTgz: string, sdkTgz: string): Promise<ProcessResult> {
  mkdirSync(consumer, { recursive: true });
  const spec = (tgz: string): string => `file:${path.relative(consumer, tgz).split(path.sep).join("/")}`;
  const manifest = {
    name: "sdk-consumer",
    version: "1.0.0",
    private: true,
    type: "module",
    dependencies: { [SDK_NAME]: spec(sdkTgz), "rpyc-ts": spec(runtimeTgz) },
  };
  writeFileSync(path.join(consumer, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return npm(["install", "--legacy-peer-deps", "--no-package-lock"], consumer);
}

/** The consumer's script: plain JavaScript (ESM), the SDK as a consumer imports it. Prints one JSON line. */
const CONSUMER_JS = `import { connectMy, connectShop, Size, SHOP_SERVICE_NAMES } from "${SDK_NAME}";
import { connect, SchemaError } from "rpyc-ts";

const [myPort, shopPort] = process.argv.slice(2).map(Number);
const failure = async (call) => {
  try {
    return { resolved: await call() };
  } catch (err) {
    return { name: err.name, message: err.message, schemaError: err instanceof SchemaError };
  }
};
const result = {
  resolved: { sdk: import.meta.resolve("${SDK_NAME}"), runtime: import.meta.resolve("rpyc-ts") },
};

const my = await connectMy("127.0.0.1", myPort);
try {
  result.my = {
    answer: await my.root.get_answer(),
    realAnswer: await my.root.the_real_answer_though,
    serviceName: await my.root.get_service_name(),
    question: await failure(() => my.root.get_question()),
  };
} finally {
  await my.close();
}

const items = [
  { sku: "TEE-1", qty: 2, size: Size.Small, tags: ["cotton", "sale"] },
  { sku: "HAT-7", qty: 1, size: Size.Large, tags: ["sale"], note: "gift wrap" },
];
const placed = new Date(Date.UTC(2024, 4, 17, 12, 30, 0));
const shop = await connectShop("127.0.0.1", shopPort);
try {
  const receipt = await shop.root.place(items, placed, 300);
  result.shop = {
    names: SHOP_SERVICE_NAMES,
    serviceName: await shop.root.get_service_name(),
    currency: await shop.root.currency,
    shout: await shop.root.shout("my"),
    receipt: {
      id: receipt.id,
      items: receipt.items,
      placed: receipt.placed instanceof Date ? receipt.placed.toISOString() : String(receipt.placed),
      bySize: receipt.bySize instanceof Map ? [...receipt.bySize] : String(receipt.bySize),
      total: typeof receipt.total === "bigint" ? receipt.total.toString() + "n" : String(receipt.total),
    },
    defaultUnit: String((await shop.root.place(items.slice(0, 1), placed)).total),
    tagCounts: await shop.root.tagCounts(items),
    badItem: await failure(() => shop.root.place([{ ...items[0], qty: "two" }], placed)),
    restock: await failure(() => shop.root.restock()),
  };
} finally {
  await shop.close();
}

// Without the SDK's schema nothing is checked on this side: the server's dispatch table refuses.
const raw = await connect("127.0.0.1", shopPort);
try {
  result.raw = { shout: await failure(() => raw.root.shout(42)) };
} finally {
  await raw.close();
}
console.log(JSON.stringify(result));
`;

/**
 * The consumer's TypeScript. The lines marked `// ERROR` must be tsc's only errors (with the
 * code given, where one is): the rest, correct calls and typed results, must check.
 */
const CONSUMER_TS = `import { connectMy, connectShop, Size, type Item, type MyRemote, type ShopRemote } from "${SDK_NAME}";
import { Kwargs, kwargs } from "rpyc-ts";

export async function tour(port: number): Promise<string> {
  const my = await connectMy("127.0.0.1", port);
  const root: MyRemote = my.root;
  const answer: number = await root.get_answer();
  const real: number = await root.the_real_answer_though;
  const name: string = await root.get_service_name();

  const shop = await connectShop("127.0.0.1", port, { timeout: 5 });
  const shopRoot: ShopRemote = shop.root;
  const items: Item[] = [{ sku: "TEE-1", qty: 2, size: Size.Small, tags: ["cotton"], note: "x" }];
  const receipt = await shopRoot.place(items, new Date(), 300);
  const placed: Date = receipt.placed;
  const bySize: Map<Size, number> = receipt.bySize;
  const total: bigint = receipt.total;
  const sku: string | undefined = receipt.items[0]?.sku;
  const counts: Record<string, number> = await shopRoot.tagCounts(items);
  const loud: string = await shopRoot.shout("my");
  const currency: string = await shopRoot.currency;
  const positional: number = (await shopRoot.place(items, new Date(), 5)).id;
  const isKwargs: boolean = kwargs({}) instanceof Kwargs;
  const conns: { close(): Promise<void> }[] = [my, shop];

  await root.get_question(); // ERROR TS2339
  await shopRoot.restock(); // ERROR TS2339
  await shopRoot.shout(42); // ERROR
  await shopRoot.place([{ sku: "A", qty: 1, size: "M", tags: [] }], new Date()); // ERROR
  const notAString: string = receipt.total; // ERROR TS2322

  for (const conn of conns) await conn.close();
  return [answer, real, name, placed.toISOString(), bySize.size, total, sku, counts, loud, currency, positional, isKwargs, notAString].join(" ");
}
`;

const TS_OPTIONS = { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", noEmit: true };

/**
 * The consumer's project, as `tsc --init` would leave it (skipLibCheck on), with consumer.ts
 * and the README's examples copied into files of their own. A Node consumer has
 * @types/node; this repository's copy stands in for theirs.
 */
const consumerTsconfig = (files: readonly string[]) => ({
  compilerOptions: { ...TS_OPTIONS, skipLibCheck: true, types: ["node"], typeRoots: [path.join(REPO, "node_modules", "@types")] },
  files,
});

/** The ```ts blocks of a README. */
const readmeExamples = (readme: string): string[] => [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

/**
 * The installed SDK's declarations checked themselves (skipLibCheck would hide a broken one:
 * its types would silently become `any` for the consumer). Without @types/node, whose own
 * check is most of a full lib check's cost: rpyc-ts's declarations then miss node:net and
 * Buffer, so only errors in the SDK's files count.
 */
const DECLARATIONS_TSCONFIG = {
  compilerOptions: { ...TS_OPTIONS, skipLibCheck: false, types: [] },
  include: ["node_modules/@acme/seed-sdk/dist/*.d.ts"],
};

// ------------------------------------------------------------------------------- the test

describe("the SDK package, packed and installed like an npm package", () => {
  let scratch: string;
  let npm: OfflineNpm;
  let runtimeTgz: string;
  let sdkTgz: string;
  let consumer: string;
  let installed: ProcessResult;
  let sdkOut: string;
  let typecheck: { consumer: Promise<ProcessResult>; declarations: Promise<ProcessResult> } | undefined;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), "rpyc-sdk-e2e-"));
    npm = await offlineNpm(path.join(scratch, "npm"));
    const pkgs = path.join(scratch, "pkgs");
    mkdirSync(pkgs);
    sdkOut = path.join(scratch, "sdk");
    const generateAndPack = async (): Promise<string> => {
      const err: string[] = [];
      const io = { cwd: REPO, interactive: false, stdout: () => {}, stderr: (s: string) => void err.push(s) };
      const gen = await run([...SOURCES, "-o", sdkOut, "--package", SDK_NAME, "--package-version", "1.0.0"], io);
      if (gen.code !== EXIT.OK) throw new Error(`rpyc-gen exited ${gen.code}:\n${err.join("")}`);
      return packDir(npm, sdkOut, pkgs);
    };
    // Settled, not Promise.all: neither may still be writing into scratch when afterAll removes it.
    const [runtime, sdk] = await Promise.allSettled([packWorkspace(npm, "rpyc-ts", path.join(scratch, "rpyc-ts"), pkgs), generateAndPack()]);
    if (runtime.status === "rejected") throw runtime.reason;
    if (sdk.status === "rejected") throw sdk.reason;
    runtimeTgz = runtime.value;
    sdkTgz = sdk.value;
    consumer = path.join(scratch, "consumer");
    installed = await installConsumer(npm, consumer, runtimeTgz, sdkTgz);
    // npm installs a package's peers (the SDK's protobufjs) unless told not to; offline it
    // cannot fetch it, so this repository's copy stands in, linked after the install.
    symlinkSync(path.join(REPO, "node_modules", "protobufjs"), path.join(consumer, "node_modules", "protobufjs"), "dir");
    writeFileSync(path.join(consumer, "consumer.js"), CONSUMER_JS);
    writeFileSync(path.join(consumer, "consumer.ts"), CONSUMER_TS);
    const examples = readmeExamples(readFileSync(path.join(consumer, "node_modules", "@acme", "seed-sdk", "README.md"), "utf8"));
    examples.forEach((code, i) => writeFileSync(path.join(consumer, `readme-example-${i + 1}.ts`), code));
    const tsFiles = ["consumer.ts", ...examples.map((_, i) => `readme-example-${i + 1}.ts`)];
    writeFileSync(path.join(consumer, "tsconfig.json"), `${JSON.stringify(consumerTsconfig(tsFiles), null, 2)}\n`);
    writeFileSync(path.join(consumer, "tsconfig.declarations.json"), `${JSON.stringify(DECLARATIONS_TSCONFIG, null, 2)}\n`);
    // Both type checks run (as child processes) while the JavaScript consumer runs.
    typecheck = {
      consumer: runNode([TSC, "-p", "tsconfig.json", "--pretty", "false"], { cwd: consumer, timeoutMs: 90_000 }),
      // --listFiles: the files of the program, after its diagnostics.
      declarations: runNode([TSC, "-p", "tsconfig.declarations.json", "--pretty", "false", "--listFiles"], { cwd: consumer, timeoutMs: 90_000 }),
    };
  }, 180_000);

  afterAll(async () => {
    // Type checks a failed test never awaited finish (or time out) before their files go.
    if (typecheck) await Promise.all([typecheck.consumer, typecheck.declarations]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  it("packs rpyc-ts with its runtime entry points and without sources or tests", () => {
    const files = tarballFileList(runtimeTgz);
    const pkg = readJson<PackageJson>(path.join(consumer, "node_modules", "rpyc-ts", "package.json"));
    expect(pkg.name).toBe("rpyc-ts");
    for (const file of ["dist/index.js", "dist/index.d.ts", "dist/internal.js", "dist/internal.d.ts", "package.json"]) {
      expect(files).toContain(file);
    }
    expect(files.filter((f) => /^(test|runtime|compiler|examples)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")))).toEqual([]);
  });

  it("packs the SDK as dist/, README.md, the .proto files and package.json only", () => {
    expect(path.basename(sdkTgz)).toBe("acme-seed-sdk-1.0.0.tgz");
    expect(tarballFileList(sdkTgz)).toEqual([
      "README.md",
      "dist/index.d.ts",
      "dist/index.js",
      "dist/my-service.client.d.ts",
      "dist/my-service.client.js",
      "dist/shop-service.client.d.ts",
      "dist/shop-service.client.js",
      "my-service.proto",
      "package.json",
      "shop-service.proto",
    ]);
    // The output directory does hold the server-side files; they just are not published.
    expect(existsSync(path.join(sdkOut, "shop-service.dispatch.ts"))).toBe(true);
    const installed = path.join(consumer, "node_modules", "@acme", "seed-sdk");
    const pkg = readJson<PackageJson>(path.join(installed, "package.json"));
    expect(pkg).toMatchObject({ name: SDK_NAME, version: "1.0.0", type: "module", peerDependencies: { "rpyc-ts": `^${RUNTIME_VERSION}` } });
    expect(pkg.dependencies ?? {}).toEqual({});
    // Every entry point the manifest names is in the tarball.
    const entry = pkg.exports?.["."] as { types?: string; import?: string } | undefined;
    const targets = [pkg.main, pkg.types, entry?.types, entry?.import, pkg.exports?.["./package.json"]];
    expect(targets).toEqual(["./dist/index.js", "./dist/index.d.ts", "./dist/index.d.ts", "./dist/index.js", "./package.json"]);
    for (const target of targets) expect(tarballFileList(sdkTgz)).toContain(String(target).replace(/^\.\//, ""));
    // Nothing published refers to the server side or to the services' sources.
    for (const file of tarballFileList(sdkTgz)) {
      const text = readFileSync(path.join(installed, file), "utf8");
      expect(text, file).not.toMatch(/rpyc-ts\/internal|defineDispatch|Dispatch\b|sdk-shop-service\.js|seed-service\.js/);
    }
    const readme = readFileSync(path.join(installed, "README.md"), "utf8");
    expect(readme).toContain(`npm install ${SDK_NAME} rpyc-ts`);
    expect(readme).toContain(`import { connectShop } from "${SDK_NAME}";`);
  });

  it("installs both tarballs without asking any registry", () => {
    expect(npm.registry.requests).toEqual([]);
    const manifest = readJson<PackageJson>(path.join(consumer, "package.json"));
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([SDK_NAME, "rpyc-ts"]);
    expect(
      readdirSync(path.join(consumer, "node_modules"))
        .filter((n) => !n.startsWith("."))
        .sort(),
    ).toEqual(["@acme", "protobufjs", "rpyc-ts"]);
    expect(readdirSync(path.join(consumer, "node_modules", "@acme"))).toEqual(["seed-sdk"]);
    // Nothing of the compiler, and no install script anywhere to warn about.
    expect(`${installed.stdout}${installed.stderr}`).not.toMatch(/install-scripts|warn/i);
    const bytes = installedBytes(path.join(consumer, "node_modules")); // the protobufjs link is not counted
    console.info(`SDK consumer: node_modules holds ${(bytes / 1e6).toFixed(2)} MB (SDK + rpyc-ts; protobufjs, a peer, apart)`);
    expect(bytes).toBeLessThanOrEqual(2e6);
    // The installed rpyc-ts is the one packed here, and satisfies the SDK's peer range (^x.y.z).
    expect(readJson<PackageJson>(path.join(consumer, "node_modules", "rpyc-ts", "package.json")).version).toBe(RUNTIME_VERSION);
  });

  it("a JavaScript consumer calls live servers through the installed SDK", async () => {
    const { MyServiceDispatch } = (await import(pathToFileURL(path.join(sdkOut, "my-service.dispatch.ts")).href)) as { MyServiceDispatch: DispatchTable };
    const { ShopServiceDispatch } = (await import(pathToFileURL(path.join(sdkOut, "shop-service.dispatch.ts")).href)) as { ShopServiceDispatch: DispatchTable };
    expect(MyServiceDispatch.serviceClass).toBe(MyService);
    expect(ShopServiceDispatch.serviceClass).toBe(ShopService);
    const myServer = await serve(MyService, { dispatch: MyServiceDispatch });
    const shopServer = await serve(ShopService, { dispatch: ShopServiceDispatch });

    const ran = await runNode(["consumer.js", String(myServer.port), String(shopServer.port)], { cwd: consumer, timeoutMs: 30_000 });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toBe("");
    const result = JSON.parse(ran.stdout.trim().split("\n").at(-1) ?? "null") as Record<string, Record<string, unknown>>;

    // Node resolved both packages from the consumer's node_modules, not from this repository.
    const nodeModules = pathToFileURL(path.join(consumer, "node_modules")).href;
    expect(result.resolved).toEqual({ sdk: `${nodeModules}/@acme/seed-sdk/dist/index.js`, runtime: `${nodeModules}/rpyc-ts/dist/index.js` });

    expect(result.my).toMatchObject({ answer: 42, realAnswer: 43, serviceName: "MY" });
    expect(result.my!.question).toMatchObject({ name: "AttributeError", message: expect.stringContaining("get_question") });

    const shop = result.shop!;
    expect(shop).toMatchObject({ names: ["SHOP"], serviceName: "SHOP", currency: "EUR", shout: "MY", defaultUnit: "500" });
    expect(shop.receipt).toEqual({
      id: 1,
      items: [
        { sku: "TEE-1", qty: 2, size: "S", tags: ["cotton", "sale"] },
        { sku: "HAT-7", qty: 1, size: "L", tags: ["sale"], note: "gift wrap" },
      ],
      placed: "2024-05-17T12:30:00.000Z",
      bySize: [
        ["S", 2],
        ["L", 1],
      ],
      total: "900n",
    });
    expect(shop.tagCounts).toEqual({ cotton: 1, sale: 2 });
    // The SDK's schema refuses a bad argument before it is sent, naming the parameter and field.
    expect(shop.badItem).toMatchObject({
      schemaError: true,
      message: expect.stringMatching(/^place\(\) argument 'items'.*qty.*expected number, got string "two"/),
    });
    expect(shop.restock).toMatchObject({ name: "AttributeError", message: expect.stringContaining("restock") });
    // A client without the schema: the server's dispatch table refuses it, naming the parameter.
    expect(result.raw!.shout).toMatchObject({ name: "TypeError", message: expect.stringContaining("shout() argument 'word': expected string, got number 42") });
  }, 60_000);

  it("a TypeScript consumer and the README's examples type-check against the installed declarations; non-exposed members are errors", async () => {
    const ran = await typecheck!.consumer;
    const marked = CONSUMER_TS.split("\n").flatMap((line, i) => {
      const mark = /\/\/ ERROR(?: (TS\d+))?$/.exec(line);
      return mark ? [{ line: i + 1, code: mark[1] }] : [];
    });
    const errors = [...ran.stdout.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+):/gm)].map((m) => ({ file: m[1], line: Number(m[2]), code: m[3] }));
    // The README's examples (one per service) check too: they contribute no errors.
    expect(readdirSync(consumer).filter((f) => /^readme-example-\d+\.ts$/.test(f))).toHaveLength(2);
    expect(
      errors.map((e) => `${e.file}:${e.line}`),
      ran.stdout + ran.stderr,
    ).toEqual(marked.map((m) => `consumer.ts:${m.line}`));
    for (const [i, mark] of marked.entries()) if (mark.code) expect(errors[i]!.code, `line ${mark.line}`).toBe(mark.code);
    expect(ran.stdout).toMatch(/consumer\.ts\(\d+,\d+\): error TS2339: Property 'get_question' does not exist on type 'MyRemote'/);
    expect(ran.stdout).toMatch(/consumer\.ts\(\d+,\d+\): error TS2339: Property 'restock' does not exist on type 'ShopRemote'/);
    expect(ran.stdout).toMatch(/Argument of type '(number|\[42\])' is not assignable to parameter of type/);
    expect(ran.stdout).toContain("Type 'bigint' is not assignable to type 'string'");
    expect(ran.code).not.toBe(0);
  }, 120_000);

  it("the installed SDK's declarations type-check on their own", async () => {
    const checked = await typecheck!.declarations;
    const sdkDist = path.join(consumer, "node_modules", "@acme", "seed-sdk", "dist");
    const sdkFiles = checked.stdout
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.includes("@acme/seed-sdk") && line.endsWith(".d.ts"));
    expect(sdkFiles.map((file) => path.basename(file)).sort()).toEqual(
      readdirSync(sdkDist)
        .filter((f) => f.endsWith(".d.ts"))
        .sort(),
    );
    // rpyc-ts's declarations are in the program too: they must be the ones installed.
    expect(checked.stdout).toContain(path.join("node_modules", "rpyc-ts", "dist", "index.d.ts").split(path.sep).join("/"));
    const sdkErrors = checked.stdout.split("\n").filter((line) => line.includes("@acme/seed-sdk") && line.includes("error TS"));
    expect(sdkErrors, checked.stdout).toEqual([]);
  }, 120_000);
});
