// Temporary: the CLI moved to compiler/cli/ (entry: compiler/cli/index.ts). Kept only for
// importers outside the compiler's tests (test/helpers/cli-io.ts, test/helpers/introspect.ts,
// scripts/update-goldens.ts, bench/compiler/child.ts); delete once they import "compiler/cli/index.js".
export * from "./cli/index.js";
