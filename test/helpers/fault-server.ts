// A server in a process of its own, for tests that kill it mid-call (test/connection/faults.test.ts):
// `node --import tsx test/helpers/fault-server.ts` listens on 127.0.0.1, prints "PORT <n>"
// and serves until killed, or until its stdin closes (the test process is gone).

import { Service, ThreadedServer } from "../../runtime/index.js";

class FaultService extends Service {
  private readonly held: unknown[] = [];

  /** Calls `callback` once (so it is known to work), keeps it, and never answers. */
  async exposed_hang(callback: (n: number) => Promise<number>): Promise<never> {
    this.held.push(callback);
    await callback(1);
    return new Promise<never>(() => {});
  }

  exposed_echo(x: unknown): unknown {
    return x;
  }
}

const server = new ThreadedServer(FaultService, { hostname: "127.0.0.1", port: 0 });
await server.start();
process.stdout.write(`PORT ${server.port}\n`);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
