import { defineConfig } from "vitest/config";

export default defineConfig({
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
