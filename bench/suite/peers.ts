// The Node clients of the benchmark suite behind one interface: each row's client opens
// connections of its kind and makes the suite's four calls on them.

import { connect as netConnect } from "node:net";
import type { ProtocolConfig } from "../../runtime/index.js";
import { connectBench } from "../generated/bench-service.client.js";
import { CapnwebClient } from "./capnweb.js";
import { GrpcClient } from "./grpc.js";
import { RawClient } from "./raw.js";

export const NODE_PEERS = ["raw", "rpyc", "capnweb", "grpc"] as const;
export type NodePeer = (typeof NODE_PEERS)[number];
export type Codec = "auto" | "brine";

/** One connection of a row's client. */
export interface PeerConnection {
  /** The small call; resolves with 1. */
  ping(): Promise<number>;
  /** Resolves with the bytes sent. */
  echo(data: Uint8Array): Promise<Uint8Array>;
  /** The callback round trip: the server calls a client function (x => x + 1) with 1; resolves with 2. Null: the peer has none. */
  readonly callBack: (() => Promise<number>) | null;
  /** rpyc-ts: the codec the two ends agreed on ("native" or "brine"); null for other peers. */
  readonly codec: string | null;
  /** What went on the wire so far (bytes and frames, frame headers included); null: not counted. */
  wire(): Wire | null;
  close(): Promise<void>;
}

export interface Wire {
  readonly bytesOut: number;
  readonly bytesIn: number;
  readonly framesOut: number;
  readonly framesIn: number;
}

/** rpyc-ts's config for a codec: the default ("auto": negotiate the native codec between rpyc-ts peers), or "brine" (never). */
export const codecConfig = (codec: Codec): Partial<ProtocolConfig> => (codec === "brine" ? { codec: "brine" } : {});

async function openRpyc(port: number, codec: Codec): Promise<PeerConnection> {
  const conn = await connectBench("127.0.0.1", port, { config: codecConfig(codec) });
  // Calls made before the codec is decided travel as brine: wait for the decision.
  const agreed = String(await conn.negotiated);
  const root = conn.root;
  const plusOne = async (x: number): Promise<number> => x + 1;
  return {
    ping: () => root.ping(),
    echo: (data) => root.echo(data),
    callBack: () => root.call_back(plusOne),
    codec: agreed,
    wire: () => {
      const { bytesOut, bytesIn, framesOut, framesIn } = conn.stats();
      return { bytesOut, bytesIn, framesOut, framesIn };
    },
    close: () => conn.close(),
  };
}

async function openRaw(port: number): Promise<PeerConnection> {
  const socket = netConnect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve();
    });
    socket.once("error", reject);
  });
  const client = new RawClient(socket);
  return {
    ping: () => client.ping(),
    echo: (data) => client.echo(data),
    callBack: () => client.callBack(),
    codec: null,
    close: () => client.close(),
    wire: () => ({ bytesOut: socket.bytesWritten, bytesIn: socket.bytesRead, framesOut: client.framesOut, framesIn: client.framesIn }),
  };
}

async function openCapnweb(port: number): Promise<PeerConnection> {
  const client = await CapnwebClient.open(port);
  return {
    ping: () => client.ping(),
    echo: (data) => client.echo(data),
    callBack: () => client.callBack(),
    codec: null,
    wire: () => null,
    close: () => client.close(),
  };
}

function openGrpc(port: number): Promise<PeerConnection> {
  const client = new GrpcClient(port);
  return Promise.resolve({
    ping: () => client.ping(),
    echo: (data) => client.echo(data),
    callBack: null,
    codec: null,
    wire: () => null,
    close: () => client.close(),
  });
}

export function openPeer(peer: NodePeer, port: number, codec: Codec): Promise<PeerConnection> {
  switch (peer) {
    case "raw":
      return openRaw(port);
    case "rpyc":
      return openRpyc(port, codec);
    case "capnweb":
      return openCapnweb(port);
    case "grpc":
      return openGrpc(port);
  }
}
