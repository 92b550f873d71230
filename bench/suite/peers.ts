// The Node peers of the benchmark suite behind one interface: how each one's server listens
// (bench/suite/node_server.ts) and how its client opens a connection (bench/suite/node_client.ts).

import { ThreadedServer, type ProtocolConfig } from "../../runtime/index.js";
import { connectBench, connectBenchWebSocket } from "../generated/bench-service.client.js";
import { BenchServiceDispatch } from "../generated/bench-service.dispatch.js";
import { BenchService } from "../service/bench-service.js";
import { openCapnweb, startCapnwebServer } from "./capnweb.js";
import type { PeerConnection } from "./events.js";
import { openGrpc, startGrpcServer } from "./grpc.js";
import { openRaw, startRawServer } from "./raw.js";

type Codec = "auto" | "brine";

/** rpyc-ts's config for a codec: the default ("auto": negotiate the native codec between rpyc-ts peers), or "brine" (never). */
const codecConfig = (codec: Codec): Partial<ProtocolConfig> => (codec === "brine" ? { codec: "brine" } : {});

/** The WebSocket peer's path (a ThreadedServer with `websocket`). */
const WS_PATH = "/rpyc";

async function openRpyc(port: number, codec: Codec, ws = false): Promise<PeerConnection> {
  const options = { config: codecConfig(codec) };
  const conn = await (ws ? connectBenchWebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, options) : connectBench("127.0.0.1", port, options));
  // Calls made before the codec is decided travel as brine: wait for the decision.
  const agreed = (await conn.negotiated).codec;
  const root = conn.root;
  const plusOne = async (x: number): Promise<number> => x + 1;
  return {
    ping: () => root.ping(),
    echo: (data) => root.echo(data),
    callBack: () => root.call_back(plusOne),
    codec: agreed,
    wire: () => conn.stats(),
    close: () => conn.close(),
  };
}

async function startRpycServer(codec: Codec, ws = false): Promise<ThreadedServer> {
  const options = { hostname: "127.0.0.1", port: 0, dispatch: BenchServiceDispatch, protocolConfig: codecConfig(codec) };
  const server = new ThreadedServer(BenchService, ws ? { ...options, websocket: { path: WS_PATH } } : options);
  await server.start();
  return server;
}

type NodePeer = { open(port: number, codec: Codec): Promise<PeerConnection>; serve(codec: Codec): Promise<{ readonly port: number; close(): Promise<void> }> };

const NODE_PEERS: Record<string, NodePeer> = {
  raw: { open: openRaw, serve: startRawServer },
  rpyc: { open: (port, codec) => openRpyc(port, codec), serve: (codec) => startRpycServer(codec) },
  // The same over WebSocket: connectWebSocket (`ws` in Node 20), a ThreadedServer with `websocket`.
  "rpyc-ws": { open: (port, codec) => openRpyc(port, codec, true), serve: (codec) => startRpycServer(codec, true) },
  capnweb: { open: openCapnweb, serve: startCapnwebServer },
  grpc: { open: openGrpc, serve: startGrpcServer },
};

/** The --peer and --codec options of node_server.ts and node_client.ts. */
export function nodePeer(values: { readonly peer: string; readonly codec: string }): { peer: NodePeer; codec: Codec } {
  const peer = NODE_PEERS[values.peer];
  if (peer === undefined) throw new RangeError(`--peer must be one of ${Object.keys(NODE_PEERS).join(", ")}`);
  if (values.codec !== "auto" && values.codec !== "brine") throw new RangeError("--codec must be auto or brine");
  return { peer, codec: values.codec };
}
