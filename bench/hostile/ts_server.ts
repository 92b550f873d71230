// The rpyc-ts server of the hostile-client bench (bench/hostile/run.ts): the seed MyService
// (examples/seed-service.ts) plus call_back, on a ThreadedServer bound to 127.0.0.1, default
// limits. Prints "PORT <n>"; `--tls DIR` serves TLS with DIR/key.pem and DIR/cert.pem.
// Leaves on SIGTERM or when its stdin reaches EOF (--watch-stdin: the bench is gone).
//
//   node --import tsx bench/hostile/ts_server.ts [--tls DIR]

import { readFileSync } from "node:fs";
import path from "node:path";
import { ThreadedServer } from "../../runtime/index.js";
import { MyService } from "../../examples/seed-service.js";
import { announce, cli } from "../harness.js";

/** The seed service, plus the call-back that attack 6 needs (as the Python control has). */
class HostileService extends MyService {
  async exposed_call_back(fn: (x: number) => Promise<number>): Promise<number> {
    return await fn(1);
  }
}

const { values } = cli("ts_server.ts [--tls DIR] [--watch-stdin]", { tls: { type: "string" }, "watch-stdin": { type: "boolean", default: false } });
const tls =
  values.tls === undefined ? undefined : { key: readFileSync(path.join(values.tls, "key.pem")), cert: readFileSync(path.join(values.tls, "cert.pem")) };
const server = new ThreadedServer(HostileService, { hostname: "127.0.0.1", port: 0, ...(tls ? { tls } : {}) });
await server.start();
announce(server);
