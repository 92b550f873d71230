// The etcd registrar against a real etcd (started by the suite, see helpers/etcd.ts): keys,
// leases, expiry of a killed server's registration, listing, watching, and a real server
// found through it. Each test works under its own key prefix.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Etcd3 } from "etcd3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectByService, discover, DiscoveryError, listServices, Service, ThreadedServer } from "../../runtime/index.js";
import { EtcdRegistryClient, type EtcdRegistration, type EtcdRegistryOptions } from "../../runtime/registry/etcd.js";
import type { ServiceAddress } from "../../runtime/registry/registrar.js";
import { startEtcd, type EtcdServer } from "../helpers/etcd.js";
import { eventually, sleep } from "../helpers/servers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const REGISTRANT = fileURLToPath(new URL("../helpers/etcd-registrant.ts", import.meta.url));

let etcd: EtcdServer;
/** A plain etcd client for looking at what the registrar stored. */
let admin: Etcd3;

beforeAll(async () => {
  etcd = await startEtcd();
  admin = new Etcd3({ hosts: etcd.endpoint });
});

afterAll(async () => {
  admin?.close();
  await etcd?.stop();
});

let prefixCount = 0;
let prefix = "";
const open: EtcdRegistryClient[] = [];

/** A registrar on this test's prefix, advertising 127.0.0.1, closed after the test. */
function registrar(options: Partial<EtcdRegistryOptions> = {}): EtcdRegistryClient {
  const client = new EtcdRegistryClient({ hosts: etcd.endpoint, prefix, host: "127.0.0.1", ...options });
  open.push(client);
  return client;
}

function newPrefix(): string {
  prefix = `/rpyc-test/${process.pid}/${++prefixCount}/`;
  return prefix;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

async function keys(): Promise<string[]> {
  return (await admin.getAll().prefix(prefix).keys()).sort();
}

/** Polls (at most 15 s: ample, it returns as soon as it holds) until `name` has `count` servers; auto-registration runs in the background. */
async function serversOf(client: EtcdRegistryClient, name: string, count: number): Promise<ServiceAddress[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const servers = await client.discover(name);
    if (servers.length === count || Date.now() > deadline) return servers;
    await sleep(20);
  }
}

async function leaseCount(): Promise<number> {
  return (await admin.leaseClient.leaseLeases()).leases.length;
}

describe("EtcdRegistryClient", () => {
  it("registers every alias upper-cased and discovers them case-insensitively", async () => {
    newPrefix();
    const server = registrar();
    expect(await server.register(["floop", "Bloop"], 18861, "127.0.0.1")).toBe(true);

    const client = registrar();
    for (const name of ["floop", "FLOOP", "bloop", "BlOoP"]) expect(await client.discover(name)).toEqual([["127.0.0.1", 18861]]);
    expect(await client.discover("nope")).toEqual([]);
    // A prefix of a name is another name.
    expect(await client.discover("FLO")).toEqual([]);

    expect(await keys()).toEqual([`${prefix}BLOOP/127.0.0.1:18861`, `${prefix}FLOOP/127.0.0.1:18861`]);
    const stored = await admin.get(`${prefix}FLOOP/127.0.0.1:18861`).exec();
    const kv = stored.kvs[0]!;
    const value = JSON.parse(kv.value.toString()) as EtcdRegistration;
    expect(value).toMatchObject({ host: "127.0.0.1", port: 18861, aliases: ["FLOOP", "BLOOP"] });
    expect(value.registeredAt).toBeGreaterThan(Date.now() - 60_000);
    // Bound to a lease with the default TTL.
    expect(kv.lease).not.toBe("0");
    const ttl = await admin.leaseClient.leaseTimeToLive({ ID: kv.lease });
    expect(Number(ttl.grantedTTL)).toBe(30);
  });

  it("advertises the host option for a wildcard interface, and the interface otherwise", async () => {
    newPrefix();
    const server = registrar({ host: "192.0.2.7" });
    await server.register(["wild"], 1001, "0.0.0.0");
    await server.register(["wild"], 1002, "::");
    await server.register(["wild"], 1003);
    await server.register(["wild"], 1004, "::ffff:127.0.0.1");
    await server.register(["wild"], 1005, "::1");
    expect(await server.discover("wild")).toEqual([
      ["192.0.2.7", 1001],
      ["192.0.2.7", 1002],
      ["192.0.2.7", 1003],
      ["127.0.0.1", 1004],
      ["::1", 1005],
    ]);
    expect(await keys()).toContain(`${prefix}WILD/[::1]:1005`);
  });

  it("discovers two servers of one name, oldest registration first", async () => {
    newPrefix();
    const older = registrar();
    const newer = registrar();
    await older.register(["twin"], 20001, "127.0.0.1");
    await newer.register(["twin"], 20002, "127.0.0.1");
    const client = registrar();
    expect(await client.discover("twin")).toEqual([
      ["127.0.0.1", 20001],
      ["127.0.0.1", 20002],
    ]);
    // Re-registering (every 60 s) keeps a server's place.
    await older.register(["twin"], 20001, "127.0.0.1");
    await newer.register(["twin"], 20002, "127.0.0.1");
    expect(await client.discover("twin")).toEqual([
      ["127.0.0.1", 20001],
      ["127.0.0.1", 20002],
    ]);
  });

  it("unregisters one port: its keys go and its lease is revoked", async () => {
    newPrefix();
    const leasesBefore = await leaseCount();
    const server = registrar();
    await server.register(["gone", "kept"], 21001, "127.0.0.1");
    await server.register(["kept"], 21002, "127.0.0.1");
    expect(await leaseCount()).toBe(leasesBefore + 2);

    await server.unregister(21001);
    expect(await server.discover("gone")).toEqual([]);
    expect(await server.discover("kept")).toEqual([["127.0.0.1", 21002]]);
    expect(await keys()).toEqual([`${prefix}KEPT/127.0.0.1:21002`]);
    expect(await leaseCount()).toBe(leasesBefore + 1);

    // Another interface's registration on the port is not this one's.
    await server.unregister(21002, "127.0.0.9");
    expect(await keys()).toEqual([`${prefix}KEPT/127.0.0.1:21002`]);
    await server.unregister(21002, "127.0.0.1");
    expect(await keys()).toEqual([]);
    expect(await leaseCount()).toBe(leasesBefore);
  });

  it("re-registers idempotently: same keys, one lease; a dropped alias is deleted", async () => {
    newPrefix();
    const leasesBefore = await leaseCount();
    const server = registrar();
    await server.register(["same", "other"], 22001, "127.0.0.1");
    const first = await admin.get(`${prefix}SAME/127.0.0.1:22001`).exec();
    for (let i = 0; i < 5; i++) expect(await server.register(["SAME", "other", "same"], 22001, "127.0.0.1")).toBe(true);

    expect(await keys()).toEqual([`${prefix}OTHER/127.0.0.1:22001`, `${prefix}SAME/127.0.0.1:22001`]);
    expect(await leaseCount()).toBe(leasesBefore + 1);
    const again = await admin.get(`${prefix}SAME/127.0.0.1:22001`).exec();
    expect(again.kvs[0]!.lease).toBe(first.kvs[0]!.lease);
    expect(again.kvs[0]!.create_revision).toBe(first.kvs[0]!.create_revision);
    expect(JSON.parse(again.kvs[0]!.value.toString()).registeredAt).toBe(JSON.parse(first.kvs[0]!.value.toString()).registeredAt);

    await server.register(["same"], 22001, "127.0.0.1");
    expect(await keys()).toEqual([`${prefix}SAME/127.0.0.1:22001`]);
    expect(await leaseCount()).toBe(leasesBefore + 1);
  });

  it("drops a killed server's registration when its lease expires; a live one stays", async () => {
    newPrefix();
    const ttl = 2;
    const healthy = registrar({ ttl });
    await healthy.register(["crashy"], 23001, "127.0.0.1");

    // The crashing server registers from its own process, then dies without a word.
    const child = spawn(process.execPath, ["--import", "tsx", REGISTRANT, etcd.endpoint, prefix, String(ttl), "127.0.0.1", "23002", "crashy"], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      let output = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the registrant did not register within 20 s:\n${output}`)), 20_000);
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          if (output.includes("REGISTERED")) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`the registrant exited (${code}):\n${output}`));
        });
      });
      const client = registrar();
      expect(await client.discover("crashy")).toEqual([
        ["127.0.0.1", 23001],
        ["127.0.0.1", 23002],
      ]);

      child.kill("SIGKILL");
      await exited;
      const killedAt = Date.now();
      // Bounded polling until it is gone: the TTL plus etcd's expiry sweep, with ample room
      // for a loaded machine (the poll ends as soon as it is gone: ~2.5 s).
      let servers: ServiceAddress[] = [];
      for (;;) {
        servers = await client.discover("crashy");
        if (servers.length < 2 || Date.now() - killedAt > (ttl + 20) * 1000) break;
        await sleep(100);
      }
      expect(servers).toEqual([["127.0.0.1", 23001]]);
      // The live server's lease (same TTL) has been kept alive all along.
      await sleep(ttl * 500);
      expect(await client.discover("crashy")).toEqual([["127.0.0.1", 23001]]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    }
  }, 90_000); // ~4 s quiet (a tsx child process, a 2 s lease running out); the waits above allow up to 20 + 22 s

  it("registers again by itself when etcd drops its lease", async () => {
    newPrefix();
    const server = registrar({ ttl: 2 });
    await server.register(["phoenix"], 28001, "127.0.0.1");
    const key = `${prefix}PHOENIX/127.0.0.1:28001`;
    const before = (await admin.get(key).exec()).kvs[0]!.lease;
    // What etcd does to a lease it has not heard from in time (a partition, a long pause).
    await admin.leaseClient.leaseRevoke({ ID: before });
    expect(await server.discover("phoenix")).toEqual([]);
    let after: string | undefined;
    // Bounded polling (ends as soon as the key is back: ~1.5 s quiet; ample room for a loaded machine).
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(100)) {
      after = (await admin.get(key).exec()).kvs[0]?.lease;
      if (after !== undefined) break;
    }
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(await server.discover("phoenix")).toEqual([["127.0.0.1", 28001]]);
  }, 60_000); // ~1.8 s quiet; the poll above allows 20 s

  it("re-registering after etcd dropped the lease grants a new one", async () => {
    newPrefix();
    // TTL 30: the next keepalive is 10 s away, so register() is the one to find out.
    const server = registrar();
    await server.register(["lazarus"], 28002, "127.0.0.1");
    const key = `${prefix}LAZARUS/127.0.0.1:28002`;
    const before = (await admin.get(key).exec()).kvs[0]!.lease;
    await admin.leaseClient.leaseRevoke({ ID: before });
    expect(await server.register(["lazarus"], 28002, "127.0.0.1")).toBe(true);
    const after = (await admin.get(key).exec()).kvs[0]?.lease;
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it("lists every name, or those served at one host", async () => {
    newPrefix();
    const a = registrar();
    const b = registrar();
    await a.register(["alpha", "beta"], 24001, "127.0.0.1");
    await b.register(["Beta", "gamma"], 24002, "127.0.0.2");
    const client = registrar();
    expect(await client.list()).toEqual(["ALPHA", "BETA", "GAMMA"]);
    expect(await client.list(null)).toEqual(["ALPHA", "BETA", "GAMMA"]);
    expect(await client.list("127.0.0.1")).toEqual(["ALPHA", "BETA"]);
    expect(await client.list("127.0.0.2")).toEqual(["BETA", "GAMMA"]);
    expect(await client.list("192.0.2.1")).toEqual([]);
    await b.unregister(24002);
    expect(await client.list()).toEqual(["ALPHA", "BETA"]);
  });

  it("watch reports the list at once, then each server added and removed", async () => {
    newPrefix();
    const client = registrar();
    const reports: (readonly ServiceAddress[])[] = [];
    const watch = await client.watch("watched", (servers) => reports.push(servers));
    expect(reports).toEqual([[]]);

    const a = registrar();
    const b = registrar();
    await a.register(["watched"], 25001, "127.0.0.1");
    await eventually(() => reports.length === 2, 5000, "the added server");
    await b.register(["WATCHED", "unrelated"], 25002, "127.0.0.1");
    await eventually(() => reports.length === 3, 5000, "the second server");
    // A re-registration changes nothing, so it is not reported.
    await a.register(["watched"], 25001, "127.0.0.1");
    await a.unregister(25001);
    await eventually(() => reports.length === 4, 5000, "the removed server");
    expect(reports).toEqual([
      [],
      [["127.0.0.1", 25001]],
      [
        ["127.0.0.1", 25001],
        ["127.0.0.1", 25002],
      ],
      [["127.0.0.1", 25002]],
    ]);
    expect(watch.current).toEqual([["127.0.0.1", 25002]]);

    await watch.close();
    await b.unregister(25002);
    await sleep(200); // deliberate: time for a report that must not come (a closed watch reports nothing)
    expect(reports).toHaveLength(4);
  });

  it("close() revokes its leases and leaves a client it was given open", async () => {
    newPrefix();
    const shared = new Etcd3({ hosts: etcd.endpoint });
    try {
      const server = new EtcdRegistryClient({ client: shared, prefix, host: "127.0.0.1" });
      await server.register(["closing"], 26001);
      expect(await keys()).toHaveLength(1);
      await server.close();
      expect(await keys()).toEqual([]);
      expect(await server.register(["closing"], 26001)).toBe(false);
      await expect(server.discover("closing")).rejects.toThrow(/closed/);
      // The shared client still works.
      expect(await shared.getAll().prefix(prefix).count()).toBe(0);
    } finally {
      shared.close();
    }
  });

  it("reports an unreachable etcd: register resolves false, discover, list and watch reject", async () => {
    newPrefix();
    // Port 1 on loopback: nothing listens there.
    // Each call fails instead of retrying forever (~1 s in all, quiet); no wall-clock bound
    // here: a client that kept retrying would outlast the test's timeout and fail it.
    const client = registrar({ hosts: "http://127.0.0.1:1", timeout: 1 });
    expect(await client.register(["nowhere"], 27001)).toBe(false);
    await expect(client.discover("nowhere")).rejects.toThrow(/etcd registry: cannot read/);
    await expect(client.list()).rejects.toThrow(/etcd registry: cannot read/);
    await expect(client.watch("nowhere", () => undefined)).rejects.toThrow(/etcd registry/);
  });

  it("serves as a ThreadedServer's auto-registrar and connectByService's registrar", async () => {
    newPrefix();
    class EchoService extends Service {
      static override ALIASES = ["echo-etcd", "echo"];
      constructor(private readonly tag = "?") {
        super();
      }
      exposed_echo(value: string): string {
        return `${this.tag}: ${value}`;
      }
    }
    const leasesBefore = await leaseCount();
    // Re-registering every 0.2 s instead of 60 s: the loop must not pile up keys or leases.
    const options = { hostname: "127.0.0.1", port: 0, autoRegister: true, reregisterInterval: 0.2 } as const;
    const first = new ThreadedServer(new EchoService("first"), { ...options, registrar: registrar() });
    const second = new ThreadedServer(new EchoService("second"), { ...options, registrar: registrar() });
    try {
      await first.start();
      const client = registrar();
      await serversOf(client, "echo-etcd", 1);
      await second.start();
      await serversOf(client, "echo-etcd", 2);
      await sleep(700);

      expect(await discover("ECHO", { registrar: client })).toEqual([
        ["127.0.0.1", first.port],
        ["127.0.0.1", second.port],
      ]);
      expect(await keys()).toHaveLength(4);
      expect(await leaseCount()).toBe(leasesBefore + 2);
      expect(await listServices({ registrar: client })).toEqual(["ECHO", "ECHO-ETCD"]);

      // The oldest registration answers first; once it is closed, the other one does.
      const conn = await connectByService<EchoService>("echo-etcd", { registrar: client });
      try {
        expect(await conn.root.echo("hi")).toBe("first: hi");
      } finally {
        await conn.close();
      }
      await first.close();
      expect(await client.discover("echo")).toEqual([["127.0.0.1", second.port]]);
      const next = await connectByService<EchoService>("echo", { registrar: client });
      try {
        expect(await next.root.echo("hi")).toBe("second: hi");
      } finally {
        await next.close();
      }
      await second.close();
      await expect(discover("echo", { registrar: client })).rejects.toThrow(DiscoveryError);
      expect(await leaseCount()).toBe(leasesBefore);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
