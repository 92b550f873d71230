import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Generated code imports the runtime by its package name; inside this repository that
    // is the source, so tests and generated code share one copy of every class.
    alias: [
      { find: /^rpyc-ts\/internal$/, replacement: here("./runtime/internal.ts") },
      { find: /^rpyc-ts\/wire$/, replacement: here("./runtime/wire/index.ts") },
      { find: /^rpyc-ts\/etcd$/, replacement: here("./runtime/registry/etcd.ts") },
      { find: /^rpyc-ts\/registry$/, replacement: here("./runtime/registry/index.ts") },
      { find: /^rpyc-ts\/classic$/, replacement: here("./runtime/classic/index.ts") },
      { find: /^rpyc-ts\/gateway$/, replacement: here("./runtime/gateway/index.ts") },
      { find: /^rpyc-ts$/, replacement: here("./runtime/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup/loopback-guard.ts"],
    // GC-driven netref release is tested for real: the tests call global.gc().
    execArgv: ["--expose-gc"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Python peers are separate processes; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
