// The connection: one RPyC session over a Stream. Connection (connection.ts) is what
// applications hold; its Session (session.ts) numbers and sends requests, matches replies,
// serves the peer's requests in arrival order under its limits, and closes; boxing.ts boxes
// values and references (the netref table); inbound.ts received frames, the request queue
// and backpressure; native-session.ts the native codec and pipelining; config.ts holds
// RPyC's DEFAULT_CONFIG and our limits; observe.ts stats(), events and their counters;
// pending-requests.ts our requests awaiting replies with their deadlines; held-answers.ts
// results kept for pipelined requests.

export { Connection, type ConnectionHooks, type CloseOptions, type Codec, type Negotiation, type NegotiationReason } from "./connection.js";
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
