// Builds the two packages of this repository (`npm run build`; `npm ci` runs it as "prepare"):
//   packages/rpyc-ts/dist   from runtime/   (JavaScript and declarations, and dist/browser.js:
//                           the browser build, one ES module, see bundleBrowser)
//   packages/rpyc-gen/dist  from compiler/, plus the templates it renders and the Python grammar
// rpyc-gen's build resolves "rpyc-ts" through the workspace link to the first build's
// declarations, as a consumer's compiler would. dist/ is emptied first: tsc never deletes the
// output of a source that was moved or removed. No source maps are shipped: the packages do
// not carry their sources, and a map pointing at missing files helps no one.

import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const at = (...parts: string[]): string => path.join(REPO, ...parts);

/** Tells this file, run as a program, to make the browser bundle (see buildPackage). */
const BROWSER_FLAG = "--browser-bundle";

/** The packages of the repository, in build order, with the source folder each is built from. */
export const PACKAGES = { "rpyc-ts": "runtime", "rpyc-gen": "compiler" } as const;
export type PackageName = keyof typeof PACKAGES;

/** Builds one package's dist/ into `distDir` (its own dist/ by default); throws with tsc's output on failure. */
export function buildPackage(name: PackageName, distDir = at("packages", name, "dist")): void {
  rmSync(distDir, { recursive: true, force: true });
  execFileSync(process.execPath, [TSC, "-p", at("packages", name, "tsconfig.json"), "--outDir", distDir, "--pretty", "false"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (name === "rpyc-ts") {
    // esbuild runs plugins in its asynchronous API only, and this function is synchronous
    // (test/helpers/packages.ts calls it so): the bundle is made by a child process.
    execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), BROWSER_FLAG, distDir], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
  }
  if (name === "rpyc-gen") {
    cpSync(at("templates"), path.join(distDir, "templates"), { recursive: true });
    const grammar = path.dirname(createRequire(import.meta.url).resolve("tree-sitter-python/tree-sitter-python.wasm"));
    cpSync(path.join(grammar, "tree-sitter-python.wasm"), path.join(distDir, "grammars", "tree-sitter-python.wasm"));
    cpSync(path.join(grammar, "LICENSE"), path.join(distDir, "grammars", "LICENSE-tree-sitter-python"));
  }
}

/**
 * The browser build's modules in place of the Node build's: the platform (Buffer, zlib,
 * crypto, setImmediate -> Uint8Array, DecompressionStream, ...) and the TCP client factories
 * (node:net, node:tls -> connectStream and rejecting stand-ins), and the native codec's protobuf
 * types (never built in a page: a stand-in that says so). runtime/browser.ts says what
 * the build holds.
 */
const BROWSER_SWAPS: ReadonlyMap<string, string> = new Map(
  [
    ["runtime/platform/node.ts", "runtime/platform/browser.ts"],
    ["runtime/server/connect.ts", "runtime/platform/browser-connect.ts"],
    ["runtime/compiled/wire-types.ts", "runtime/platform/browser-wire-types.ts"],
  ].map(([node, browser]) => [at(node!), at(browser!)]),
);

/**
 * Optional peers the browser build never loads (protobufjs: the native codec, off there;
 * ws: browsers have WebSocket; etcd3): a module that fails to load stands for each, so a
 * dynamic import() of one rejects as if it were not installed, and the user's bundler is
 * not asked for it.
 */
const ABSENT_IN_BROWSER = /^(protobufjs|ws|etcd3)(\/|$)/;

function browserModules(): Plugin {
  return {
    name: "rpyc-ts-browser",
    setup(builder) {
      // Relative imports name the compiled ".js" of a ".ts" source; a swapped module resolves to
      // its stand-in's file, one module however many import it.
      builder.onResolve({ filter: /^\.\.?\// }, (args) => {
        const swap = BROWSER_SWAPS.get(path.resolve(args.resolveDir, args.path).replace(/\.js$/, ".ts"));
        return swap === undefined ? undefined : { path: swap };
      });
      builder.onResolve({ filter: ABSENT_IN_BROWSER }, (args) => ({ path: args.path, namespace: "absent-in-browser" }));
      builder.onLoad({ filter: /.*/, namespace: "absent-in-browser" }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`the browser build of rpyc-ts does not load ${args.path}`)});`,
        loader: "js",
      }));
    },
  };
}

/**
 * Bundles runtime/browser.ts into `distDir`/browser.js (the package's "browser" condition),
 * over tsc's output of that file: one ES module, not minified (the user's bundler minifies),
 * importing nothing. Its declarations are tsc's dist/browser.d.ts.
 */
export async function bundleBrowser(distDir: string): Promise<void> {
  await build({
    entryPoints: [at("runtime", "browser.ts")],
    outfile: path.join(distDir, "browser.js"),
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    legalComments: "none",
    logLevel: "warning",
    plugins: [browserModules()],
  });
  // tsc's JavaScript of the swapped-in modules: inside the bundle, never imported by the Node build.
  for (const file of ["platform/browser.js", "platform/browser-connect.js", "platform/browser-wire-types.js"]) rmSync(path.join(distDir, file));
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isMain && process.argv[2] === BROWSER_FLAG) {
  await bundleBrowser(process.argv[3]!);
} else if (isMain) {
  for (const name of Object.keys(PACKAGES) as PackageName[]) {
    try {
      buildPackage(name);
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
      process.stderr.write(`building ${name} failed:\n${stdout?.toString() ?? ""}${stderr?.toString() ?? ""}`);
      process.exit(1);
    }
    cpSync(at("LICENSE"), at("packages", name, "LICENSE"));
  }
}
