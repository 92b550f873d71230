// Leak soak, short: 20,000 calls that create and drop netrefs in both directions (callbacks
// from the server to fresh client functions, fresh server objects returned by reference,
// fresh client objects the server asks for through the client's root, a long-lived server
// object whose refcount races the client's DELs). Every few thousand calls both sides
// collect garbage: both object tables must come back to their starting sizes and the heap
// (after GC) must stay within a generous bound. The full 1,000,000-call soak, in two
// processes, is bench/soak.ts.
//
// Client and server share this process (and its heap); the suite runs with --expose-gc.

import { describe, expect, it } from "vitest";
import { Service, type Connection } from "../runtime/index.js";
import { connectTo, serve, sleep } from "./helpers/servers.js";

const CALLS = 20_000;
const CHECKPOINT_EVERY = 5_000;
/** Untimed calls before the baseline (a multiple of 8: every kind of call equally often). */
const WARMUP = 1_000;
const CONNECTIONS = 2;
const IN_FLIGHT = 8;
/** heapUsed (after GC) may grow by at most this much from the first checkpoint to the last. */
const MAX_HEAP_GROWTH_BYTES = 8 * 1048576;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("the soak test needs node --expose-gc (vitest.config.ts sets it)");

/** A fresh object per call, sent by reference (it has exposed members). */
class Item {
  constructor(readonly exposed_n: number) {}
}

/** The client's root: the server asks it for fresh client objects. */
class ClientSide extends Service {
  exposed_give(n: number): Item {
    return new Item(n);
  }
}

const kept = new Item(-1);

class SoakService extends Service {
  private peer: Connection<ClientSide> | undefined;

  override on_connect(conn: Connection): void {
    this.peer = conn as Connection<ClientSide>;
  }

  /** Calls the client's callback (a netref to a fresh function), returns (its answer, a fresh Item by reference). */
  async exposed_make(n: number, cb: (n: number) => Promise<number>): Promise<[number, Item]> {
    const got = await cb(n);
    return [got, new Item(n)];
  }

  /** Asks the client for a fresh object (a netref here), reads it, drops it. */
  async exposed_ask(n: number): Promise<number> {
    const item = await this.peer!.root.give(n);
    return (await item.n) + 1;
  }

  /** The same long-lived object every time, after a callback. */
  async exposed_shared(cb: (n: number) => Promise<number>): Promise<Item> {
    await cb(0);
    return kept;
  }
}

interface Tables {
  readonly clientObjects: number;
  readonly clientNetrefs: number;
  readonly serverObjects: number;
  readonly serverNetrefs: number;
}

describe("leak soak", () => {
  it(`${CALLS.toLocaleString("en-US")} calls creating and dropping netrefs both ways: tables return to their start, heap stays flat`, async () => {
    const server = await serve(SoakService);
    const conns: Connection<SoakService>[] = [];
    for (let i = 0; i < CONNECTIONS; i++) conns.push(await connectTo<SoakService>(server.port, { service: ClientSide }));
    await Promise.all(conns.map((conn) => conn.getRoot()));

    const tables = (): Tables => {
      const serverConns = [...server.connections];
      return {
        clientObjects: conns.reduce((n, c) => n + c.stats().localObjects, 0),
        clientNetrefs: conns.reduce((n, c) => n + c.stats().remoteNetrefs, 0),
        serverObjects: serverConns.reduce((n, c) => n + c.stats().localObjects, 0),
        serverNetrefs: serverConns.reduce((n, c) => n + c.stats().remoteNetrefs, 0),
      };
    };
    const same = (a: Tables, b: Tables): boolean =>
      a.clientObjects === b.clientObjects && a.clientNetrefs === b.clientNetrefs && a.serverObjects === b.serverObjects && a.serverNetrefs === b.serverNetrefs;

    /**
     * gc() and a turn of the event loop (finalizers send HANDLE_DEL, the peer applies it)
     * until the tables equal `target` (or, without one, two rounds agree); bounded.
     * gc() never runs in the same macrotask as tables(): counting live netrefs derefs their
     * WeakRefs, which keeps the targets alive until the task ends, so a gc() right after a
     * count could never collect a netref that count saw.
     */
    const settle = async (target: Tables | undefined): Promise<Tables> => {
      let previous: Tables | undefined;
      for (let round = 0; round < 100; round++) {
        await sleep(1);
        gc();
        await sleep(5);
        const now = tables();
        if (target ? same(now, target) : previous !== undefined && same(now, previous)) return now;
        previous = now;
      }
      return tables();
    };
    const heap = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        await sleep(1);
        gc();
      }
      return process.memoryUsage().heapUsed;
    };

    let errors = 0;
    const wrong: string[] = [];
    let callbacksRun = 0;
    const expectEqual = (what: string, got: unknown, expected: unknown): void => {
      if (got !== expected) {
        errors++;
        if (wrong.length < 10) wrong.push(`${what}: got ${String(got)}, expected ${String(expected)}`);
      }
    };
    const soakCall = async (conn: Connection<SoakService>, n: number): Promise<void> => {
      const callback = (got: number): number => {
        callbacksRun++;
        return got * 2 + 1;
      };
      switch (Math.abs(n) % 8) {
        case 0: {
          const shared = await conn.root.shared(callback);
          if (n % 64 === 0) expectEqual(`shared.n (call ${n})`, await shared.n, -1);
          return;
        }
        case 1:
        case 5:
          expectEqual(`ask(${n})`, await conn.root.ask(n), n + 1);
          return;
        default: {
          const [got, item] = await conn.root.make(n, callback);
          expectEqual(`make(${n})`, got, n * 2 + 1);
          if (n % 16 === 2) expectEqual(`item.n (call ${n})`, await item.n, n);
        }
      }
    };
    /** Calls numbered [from, to) over every connection, IN_FLIGHT at a time on each. */
    const runCalls = async (from: number, to: number): Promise<void> => {
      let next = from;
      const worker = async (conn: Connection<SoakService>): Promise<void> => {
        while (next < to) {
          const n = next++;
          try {
            await soakCall(conn, n);
          } catch (err) {
            expectEqual(`call ${n}`, err instanceof Error ? err.message : String(err), "no error");
          }
        }
      };
      await Promise.all(conns.flatMap((conn) => Array.from({ length: IN_FLIGHT }, () => worker(conn))));
    };

    // Warm-up (JIT, lazily built structures), then the baseline.
    await runCalls(-WARMUP, 0);
    const baseline = await settle(undefined);
    const checkpoints: { calls: number; tables: Tables; heapUsed: number }[] = [];
    for (let done = 0; done < CALLS; done += CHECKPOINT_EVERY) {
      await runCalls(done, Math.min(CALLS, done + CHECKPOINT_EVERY));
      const settled = await settle(baseline);
      checkpoints.push({ calls: Math.min(CALLS, done + CHECKPOINT_EVERY), tables: settled, heapUsed: await heap() });
    }

    expect(wrong).toEqual([]);
    expect(errors).toBe(0);
    // Every make and shared call ran its callback once (warm-up included: 6 of every 8 calls).
    expect(callbacksRun).toBe(((CALLS + WARMUP) / 8) * 6);
    // The tables held something under load, and came back to their start at every checkpoint.
    expect(baseline.serverObjects).toBeGreaterThan(0); // the roots
    for (const c of checkpoints) expect({ calls: c.calls, ...c.tables }).toEqual({ calls: c.calls, ...baseline });
    for (const conn of [...conns, ...server.connections]) expect(conn.stats().pendingRequests).toBe(0);
    // The heap (after GC) does not grow with the calls.
    const growth = checkpoints.at(-1)!.heapUsed - checkpoints[0]!.heapUsed;
    expect(growth, `heapUsed after GC per checkpoint: ${checkpoints.map((c) => (c.heapUsed / 1048576).toFixed(2)).join(", ")} MB`).toBeLessThan(
      MAX_HEAP_GROWTH_BYTES,
    );

    await Promise.all(conns.map((conn) => conn.close()));
    // About 8 s alone; the margin is for a busy machine (other test files run in parallel).
  }, 60_000);
});
