// The fast tier, for the edit loop: `npx vitest run -c vitest.fast.config.ts` (about a
// minute on a 2-core machine). vitest.config.ts with the test files left out that need
// something beyond Node or take long:
//  - Python RPyC 5.3 peers: files that call test/helpers/python.ts's RPyC helpers (found by
//    reading the files, so a new interop test is left out without a change here), unless
//    they guard their Python part with WITH_PYTHON (then only that part is skipped);
//  - etcd (test/helpers/etcd.ts) and npm packaging (test/helpers/offline-npm.ts), found the same way;
//  - fuzzing, the soak and the load test;
//  - the compiler tests that run many cold extractions or type-check generated code.
// `npm test` (vitest.config.ts) still runs everything; CI runs that.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/** What a test file needs that the fast tier leaves out, by what it imports or calls. */
const NEEDS = [
  // Python RPyC: a peer process, a client script, or rpyc's brine (`PYTHON` alone is python3's standard library).
  /\b(startPython|runPython|runPythonClient|requirePythonRpyc|pythonBrineDump|pythonBrineLoadRepr)\b/,
  /helpers\/etcd\.js/,
  /helpers\/offline-npm\.js/,
];

/**
 * Left out by name: fuzzing (15-40 s), soak, load, and the compiler tests that run many cold
 * extractions or type-check generated code (10-20 s per file quiet, up to 35 s loaded).
 */
const SLOW = [
  "test/fuzz/decoders.test.ts",
  "test/fuzz/live.test.ts",
  "test/soak.test.ts",
  "test/load.test.ts",
  "test/compiler/golden.test.ts",
  "test/compiler/emit.test.ts",
  "test/compiler/cli.test.ts",
  "test/compiler/cli-subcommands.test.ts",
];

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return testFiles(relative);
    return entry.name.endsWith(".test.ts") ? [relative] : [];
  });
}

/** A file that imports WITH_PYTHON runs its Python part only under `npm test`: the rest stays in. */
const TIERED = /\bWITH_PYTHON\b/;

const needsMore = testFiles("test").filter((file) => {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  return !TIERED.test(text) && NEEDS.some((pattern) => pattern.test(text));
});

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [...configDefaults.exclude, ...SLOW, ...needsMore],
      env: { RPYC_TESTS: "fast" },
    },
  }),
);
