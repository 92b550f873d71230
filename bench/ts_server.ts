// rpyc-ts's server side of the round-trip bench: the seed MyService
// (examples/seed-service.ts) on a ThreadedServer bound to 127.0.0.1 on a free port.
// Prints "PORT <n>", serves until SIGTERM (or, with --watch-stdin, until its stdin reaches EOF: the bench died).
//
//   node --import tsx bench/ts_server.ts

import { ThreadedServer } from "../runtime/index.js";
import { MyService } from "../examples/seed-service.js";
import { exitWithParent } from "./child.js";

const server = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0 });
await server.start();
process.stdout.write(`PORT ${server.port}\n`);
exitWithParent(() => server.close());
