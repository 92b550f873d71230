// The server side of the leak soak (bench/soak.ts); runs with --expose-gc. Each soak call
// (`make`) calls the client's callback (a netref to a fresh client function), and returns
// a fresh object by reference, which the client drops. `report` tells this process's object
// tables and memory, after a collection if asked. Prints "PORT <n>"; leaves on SIGTERM or when
// stdin reaches EOF.
//
//   node --expose-gc --import tsx bench/soak_server.ts

import { Service, ThreadedServer } from "../runtime/index.js";
import { announce } from "./harness.js";
import { collectGarbage, settledMemory, sideReport, type SideTuple } from "./soak_tables.js";

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

  /**
   * This process's tables (over all connections) and memory: "sizes" without collecting (what the garbage collector left
   * by itself); "collect" after collecting garbage here (netrefs to client callbacks: their DELs go out before this
   * reply); "memory" the same, with heapUsed and RSS measured on a settled heap.
   */
  async exposed_report(how: "sizes" | "collect" | "memory"): Promise<SideTuple> {
    if (how !== "sizes") await collectGarbage();
    const { localObjects, netrefs, heapUsed, rss } = { ...sideReport(server.connections), ...(how === "memory" ? await settledMemory() : {}) };
    return [localObjects, netrefs, heapUsed, rss];
  }
}

const server = new ThreadedServer(SoakService, { hostname: "127.0.0.1", port: 0 });
await server.start();
announce(server);
