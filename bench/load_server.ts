// The server side of the load bench (bench/load.ts): a ThreadedServer on 127.0.0.1, one
// process, one event loop. Prints "PORT <n>", then every 250 ms a JSON line with its
// connection count and how many calls it has answered, so the bench can check that every
// call a client counted was served once and that every connection is gone at the end.
// Leaves on SIGTERM or when its stdin (a pipe from the bench) reaches EOF.
//
//   node --import tsx bench/load_server.ts

import { Service, ThreadedServer } from "../runtime/index.js";
import { announce, emitJson } from "./harness.js";

let served = 0;

export class LoadBenchService extends Service {
  /** The benchmarked call: one request, one reply; the answer depends on the argument. */
  exposed_next(n: number): number {
    served++;
    return n + 1;
  }
}

const server = new ThreadedServer(LoadBenchService, { hostname: "127.0.0.1", port: 0, backlog: 1024 });
await server.start();
announce(server);
setInterval(() => emitJson({ event: "server", connections: server.connections.size, served }), 250).unref();
