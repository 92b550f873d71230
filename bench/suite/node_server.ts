// A Node server of the benchmark suite (bench/suite.ts), one peer per process (bench/suite/peers.ts):
//   --peer raw|rpyc|capnweb|grpc   (rpyc: ThreadedServer(BenchService) with its compiled dispatch
//                                  table, bench/generated; `--codec brine` never uses the native codec)
// Binds 127.0.0.1 on a free port and prints "PORT n". A line "mem" on stdin prints
// `MEM {"rss":..,"heap":..}` (after a full GC when run with --expose-gc); stdin's EOF (with
// --watch-stdin) or SIGTERM stops it.
//
//   node --expose-gc --import tsx bench/suite/node_server.ts --peer rpyc

import { announce, cli } from "../harness.js";
import { nodePeer } from "./peers.js";

const { values } = cli("node_server.ts --peer raw|rpyc|capnweb|grpc [--codec auto|brine] [--watch-stdin]", {
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
