// Builds the two packages of this repository (`npm run build`; `npm ci` runs it as "prepare"):
//   packages/rpyc-ts/dist   from runtime/   (JavaScript and declarations)
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

const REPO = fileURLToPath(new URL("../", import.meta.url));
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const at = (...parts: string[]): string => path.join(REPO, ...parts);

/** The packages of the repository, in build order, with the source folder each is built from. */
export const PACKAGES = { "rpyc-ts": "runtime", "rpyc-gen": "compiler" } as const;
export type PackageName = keyof typeof PACKAGES;

/** Builds one package's dist/ into `distDir` (its own dist/ by default); throws with tsc's output on failure. */
export function buildPackage(name: PackageName, distDir = at("packages", name, "dist")): void {
  rmSync(distDir, { recursive: true, force: true });
  execFileSync(process.execPath, [TSC, "-p", at("packages", name, "tsconfig.json"), "--outDir", distDir, "--pretty", "false"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (name === "rpyc-gen") {
    cpSync(at("templates"), path.join(distDir, "templates"), { recursive: true });
    const grammar = path.dirname(createRequire(import.meta.url).resolve("tree-sitter-python/tree-sitter-python.wasm"));
    cpSync(path.join(grammar, "tree-sitter-python.wasm"), path.join(distDir, "grammars", "tree-sitter-python.wasm"));
    cpSync(path.join(grammar, "LICENSE"), path.join(distDir, "grammars", "LICENSE-tree-sitter-python"));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
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
