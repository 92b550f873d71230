// A Node server of the benchmark suite (bench/suite.ts), one kind per process:
//   --peer raw      the raw TCP floor (bench/suite/raw.ts)
//   --peer rpyc     rpyc-ts: ThreadedServer(BenchService) with its compiled dispatch table
//                   (bench/generated), `--codec brine` to never use the native codec
//   --peer capnweb  capnweb over WebSocket (bench/suite/capnweb.ts)
//   --peer grpc     @grpc/grpc-js unary (bench/suite/grpc.ts)
// Binds 127.0.0.1 on a free port and prints "PORT n". A line "mem" on stdin prints
// `MEM {"rss":..,"heap":..}` (after a full GC when run with --expose-gc); stdin's EOF (with
// --watch-stdin) or SIGTERM stops it.
//
//   node --expose-gc --import tsx bench/suite/node_server.ts --peer rpyc

import { createServer } from "node:net";
import { ThreadedServer } from "../../runtime/index.js";
import { BenchServiceDispatch } from "../generated/bench-service.dispatch.js";
import { BenchService } from "../service/bench-service.js";
import { cli, exitWithParent } from "../harness.js";
import { startCapnwebServer } from "./capnweb.js";
import { startGrpcServer } from "./grpc.js";
import { codecConfig, NODE_PEERS, type NodePeer } from "./peers.js";
import { serveRaw } from "./raw.js";

const { values } = cli("node_server.ts --peer raw|rpyc|capnweb|grpc [--codec auto|brine] [--watch-stdin]", {
  peer: { type: "string", default: "rpyc" },
  codec: { type: "string", default: "auto" },
  "watch-stdin": { type: "boolean", default: false },
});
const peer = values.peer as NodePeer;
if (!NODE_PEERS.includes(peer)) throw new RangeError(`--peer must be one of ${NODE_PEERS.join(", ")}`);
if (values.codec !== "auto" && values.codec !== "brine") throw new RangeError("--codec must be auto or brine");
const codec = values.codec;

async function start(): Promise<{ port: number; close(): Promise<void> }> {
  switch (peer) {
    case "raw": {
      const server = createServer(serveRaw);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no TCP address");
      return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
    }
    case "rpyc": {
      const server = new ThreadedServer(BenchService, { hostname: "127.0.0.1", port: 0, dispatch: BenchServiceDispatch, protocolConfig: codecConfig(codec) });
      await server.start();
      return { port: server.port, close: () => server.close() };
    }
    case "capnweb":
      return startCapnwebServer();
    case "grpc":
      return startGrpcServer();
  }
}

const server = await start();
process.stdout.write(`PORT ${server.port}\n`);
exitWithParent(
  () => server.close(),
  values["watch-stdin"],
  (line) => {
    if (line.trim() !== "mem") return;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const usage = process.memoryUsage();
    process.stdout.write(`MEM ${JSON.stringify({ rss: usage.rss, heap: usage.heapUsed, external: usage.external })}\n`);
  },
);
