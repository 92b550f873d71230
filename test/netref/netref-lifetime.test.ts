// Netref lifetime: the peer's object table follows our netrefs, through explicit release
// and through garbage collection (the suite runs with --expose-gc).

import { describe, expect, it } from "vitest";
import { NetrefReleasedError, Service, idPackOf, release, type Connection } from "../../runtime/index.js";
import { connectTo, eventually, serve, sleep } from "../helpers/servers.js";
import { sessionOf } from "../../runtime/connection/connection.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("netref lifetime tests need node --expose-gc (vitest.config.ts sets it)");

class Factory extends Service {
  readonly kept = { exposed_name: "kept" };
  exposed_make(): { exposed_name: string } {
    return { exposed_name: "fresh" };
  }
  exposed_same(): { exposed_name: string } {
    return this.kept;
  }
  exposed_pair(): object[] {
    return [this.kept, this.kept];
  }
  held: unknown[] = [];
  exposed_hold(fn: unknown): void {
    this.held.push(fn);
  }
  exposed_drop(): void {
    this.held.length = 0;
  }
}

function serverSide(server: { connections: Set<Connection> }): Connection {
  const [conn] = server.connections;
  if (!conn) throw new Error("no server-side connection");
  return conn;
}

/** Collects garbage until `condition` holds; FinalizationRegistry callbacks run after a GC, asynchronously. */
async function collectUntil(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) {
    gc!();
    await sleep(10);
  }
  if (!condition()) throw new Error(`garbage collection did not lead to: ${what}`);
}

describe("netref lifetime", () => {
  it("explicit release sends DEL and the peer drops the object", async () => {
    const server = await serve(Factory);
    const conn = await connectTo<Factory>(server.port);
    await conn.getRoot();
    const before = serverSide(server).stats().localObjects;
    const made = await conn.root.make();
    expect(serverSide(server).stats().localObjects).toBe(before + 1);
    release(made);
    await eventually(() => serverSide(server).stats().localObjects === before, 5000, "DEL to arrive");
    await expect(Promise.resolve(made.name)).rejects.toBeInstanceOf(NetrefReleasedError);
    release(made); // idempotent
  });

  it("Symbol.dispose releases", async () => {
    const server = await serve(Factory);
    const conn = await connectTo<Factory>(server.port);
    await conn.getRoot();
    const before = serverSide(server).stats().localObjects;
    {
      const made = await conn.root.make();
      expect(await made.name).toBe("fresh");
      (made as unknown as Disposable)[Symbol.dispose]();
    }
    await eventually(() => serverSide(server).stats().localObjects === before, 5000, "DEL to arrive");
  });

  it("garbage collection of a netref sends DEL", async () => {
    const server = await serve(Factory);
    const conn = await connectTo<Factory>(server.port);
    await conn.getRoot();
    const before = serverSide(server).stats().localObjects;
    // Fetch and use netrefs in a scope that keeps no reference to them.
    await (async () => {
      for (let i = 0; i < 5; i++) expect(await (await conn.root.make()).name).toBe("fresh");
    })();
    expect(serverSide(server).stats().localObjects).toBe(before + 5);
    await collectUntil(() => serverSide(server).stats().localObjects === before, "the server to drop 5 objects");
    expect(conn.stats().remoteNetrefs).toBeLessThanOrEqual(1); // only the root's proxy may remain
  });

  it("one proxy per id_pack; its refcount covers every receipt, released with one DEL", async () => {
    const server = await serve(Factory);
    const conn = await connectTo<Factory>(server.port);
    const a = await conn.root.same();
    const b = await conn.root.same();
    expect(a).toBe(b);
    const [c, d] = (await conn.root.pair()) as unknown[];
    expect(c).toBe(a);
    expect(d).toBe(a);
    const pack = idPackOf(a)!;
    // Sent 4 times: the table stores sends - 1, as RPyC does.
    expect(sessionOf(serverSide(server)).objects.refcount(pack)).toBe(3);
    release(a);
    await eventually(() => sessionOf(serverSide(server)).objects.refcount(pack) === undefined, 5000, "DEL(4) to drop the entry");
    // The object is still the server's; asking again gives a fresh, working netref.
    const again = await conn.root.same();
    expect(again).not.toBe(a);
    expect(await again.name).toBe("kept");
  });

  it("the server's netrefs to client callbacks are released too", async () => {
    const server = await serve(Factory);
    const conn = await connectTo<Factory>(server.port);
    const callback = (): number => 1;
    await conn.root.hold(callback);
    await conn.root.hold(callback);
    expect(conn.stats().localObjects).toBe(1);
    await conn.root.drop();
    await collectUntil(() => conn.stats().localObjects === 0, "the client to drop its callback");
  });

  it("the root netref lives as long as its connection", async () => {
    const server = await serve(Factory);
    const conn = await connectTo<Factory>(server.port);
    await conn.getRoot();
    const count = serverSide(server).stats().localObjects;
    for (let i = 0; i < 10; i++) {
      gc();
      await sleep(5);
    }
    expect(serverSide(server).stats().localObjects).toBe(count);
    expect(await conn.root.get_service_name()).toBe("FACTORY");
  });

  it("closing the connection clears both tables", async () => {
    const server = await serve(Factory);
    const conn = await connectTo<Factory>(server.port);
    await conn.root.hold(() => 1);
    const kept = await conn.root.same();
    const serverConn = serverSide(server);
    expect(serverConn.stats().localObjects).toBeGreaterThan(0);
    await conn.close();
    expect(conn.stats().localObjects).toBe(0);
    await eventually(() => serverConn.closed && serverConn.stats().localObjects === 0, 5000, "server-side cleanup");
    await expect(Promise.resolve(kept.name)).rejects.toThrow(/closed/);
  });
});
