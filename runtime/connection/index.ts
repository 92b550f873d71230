// The connection: one RPyC session over a Stream. Connection (connection.ts) numbers and
// sends requests, matches replies, boxes values and references, serves the peer's requests
// in arrival order under its limits, and closes; config.ts holds RPyC's DEFAULT_CONFIG and
// our limits; observe.ts the shapes of stats() and events; pending-requests.ts our requests
// awaiting replies with their deadlines; held-answers.ts results kept for pipelined requests.

export { Connection, type ConnectionHooks, type CloseOptions, type Codec } from "./connection.js";
export { DEFAULT_CONFIG, SAFE_ATTRS, type ProtocolConfig, type Logger, type ExceptionClass } from "./config.js";
export type {
  ConnectionStats,
  ConnectionEvents,
  ConnectionEventListener,
  RequestEvent,
  ReplyEvent,
  RequestErrorEvent,
  RequestErrorKind,
  RequestDirection,
  CloseEvent,
} from "./observe.js";
