// The server side of the leak soak (bench/soak.ts); runs with --expose-gc. Each soak call
// (`make`) calls the client's callback (a netref to a fresh client function), and returns
// a fresh object by reference, which the client drops. `collect` runs the garbage
// collector here and reports this process's object tables (over all connections) and
// memory. Prints "PORT <n>"; leaves on SIGTERM or when stdin reaches EOF.
//
//   node --expose-gc --import tsx bench/soak_server.ts

import { Service, ThreadedServer } from "../runtime/index.js";
import { exitWithParent } from "./harness.js";
import { collectGarbage, settledMemory, sideReport, toTuple, type SideReport, type SideTuple } from "./soak_tables.js";

/** A fresh object per call, sent by reference (it has exposed members). */
export class Item {
  constructor(
    readonly exposed_n: number,
    readonly exposed_got: number,
  ) {}
}

const kept = new Item(-1, -1);

export class SoakService extends Service {
  /** Calls the client's callback with n, returns (what it answered, a fresh Item) by reference. */
  async exposed_make(n: number, cb: (n: number) => Promise<number>): Promise<[number, Item]> {
    const got = await cb(n);
    return [got, new Item(n, got)];
  }

  /** The same long-lived object every time: its refcount races with the client's DELs. */
  async exposed_shared(cb: (n: number) => Promise<number>): Promise<Item> {
    await cb(0);
    return kept;
  }

  /** Collects garbage here (netrefs to client callbacks: DELs go out before this reply) and reports. */
  async exposed_collect(): Promise<SideTuple> {
    await collectGarbage();
    return toTuple(report());
  }

  /** Like collect, with heapUsed and RSS measured on a settled heap. */
  async exposed_memory(): Promise<SideTuple> {
    await collectGarbage();
    return toTuple({ ...report(), ...(await settledMemory()) });
  }

  /** Reports without collecting: what the garbage collector left by itself. */
  exposed_sizes(): SideTuple {
    return toTuple(report());
  }
}

const report = (): SideReport => sideReport(server.connections);

const server = new ThreadedServer(SoakService, { hostname: "127.0.0.1", port: 0 });
await server.start();
process.stdout.write(`PORT ${server.port}\n`);
exitWithParent(() => server.close());
