// A Node server of the benchmark suite (bench/suite.ts), one peer per process (bench/suite/peers.ts),
// on 127.0.0.1 and a free port: prints "PORT n". A line "mem" on stdin prints `MEM {"rss":..,"heap":..}`
// (after a full GC when run with --expose-gc); stdin's EOF (with --watch-stdin) or SIGTERM stops it.
//
//   node --expose-gc --import tsx bench/suite/node_server.ts --peer rpyc

import { announce, cli } from "../harness.js";
import { nodePeer } from "./peers.js";

const { values } = cli("node_server.ts --peer raw|rpyc|rpyc-ws|capnweb|grpc [--codec auto|brine] [--watch-stdin]", {
  peer: { type: "string", default: "rpyc" },
  codec: { type: "string", default: "auto" },
});
const { peer, codec } = nodePeer(values);
announce(await peer.serve(codec), (line) => {
  if (line.trim() !== "mem") return;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(`MEM ${JSON.stringify({ rss, heap: heapUsed })}\n`);
});
