// The public API of rpyc-ts: what each concept folder's index.ts exports, and nothing else.
// Generated code also uses runtime/internal.ts ("rpyc-ts/internal"). ARCHITECTURE.md maps
// the folders.

export * from "./server/index.js";
export * from "./connection/index.js";
export * from "./serve/index.js";
export * from "./netref/index.js";
export * from "./errors/index.js";
export * from "./wire/index.js";
export * from "./compiled/index.js";
export * from "./registry/index.js";
export * from "./classic/index.js";
