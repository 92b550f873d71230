// The browser entry of rpyc-ts: what `import ... from "rpyc-ts"` gives under a bundler's
// "browser" condition (the package's exports), built by scripts/build-packages.ts into one ES
// module, dist/browser.js, with platform/browser.ts in place of platform/node.ts and
// platform/browser-connect.ts in place of server/connect.ts; its declarations are tsc's of
// this file. A client: connectWebSocket (to a ThreadedServer with `websocket`), connections,
// netrefs, calls and callbacks (the client's own service), errors with remote tracebacks, and
// what generated client stubs import. connect and connectByService reject (no TCP, no
// registry in a browser). Not here: servers, TCP/TLS/Unix connections, the registry, classic
// mode, and the native codec (every call is brine: protobufjs is not loaded).

export { connectWebSocket, type WebSocketConnectOptions } from "./server/websocket/connect.js";
export { connect, connectStream, connectByService } from "./platform/browser-connect.js";
export type { ConnectOptions } from "./server/connect.js";
export type { ConnectByServiceOptions } from "./registry/discovery.js";
export * from "./connection/index.js";
export * from "./serve/index.js";
export * from "./netref/index.js";
export * from "./errors/index.js";
export { Float, float, Complex, Slice, FrozenSet, NotImplemented, Ellipsis, type PyValue, type PyValueIn } from "./wire/values.js";
export { DEFAULT_BRINE_LIMITS, type BrineLimits } from "./wire/brine.js";
export { DEFAULT_MAX_FRAME_SIZE } from "./wire/channel.js";
export type { Stream, StreamHandlers } from "./wire/stream.js";
export * from "./compiled/index.js";
