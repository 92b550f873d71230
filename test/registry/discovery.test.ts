// Discovery (discover, listServices, connectByService) and servers' auto-registration,
// against our own UDP and TCP registries on 127.0.0.1.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  DiscoveryError,
  ForbiddenError,
  Service,
  ThreadedServer,
  OneShotServer,
  connectByService,
  discover,
  isDiscoveryError,
  isForbiddenError,
  listServices,
  type Registrar,
  type ServiceAddress,
} from "../../runtime/index.js";
import { eventually, serve, sleep } from "../helpers/servers.js";
import { HOST, MODES, fakeRegistryClock, memoryLogger, registryClient, startRegistry, track } from "./helpers.js";

class CalcService extends Service {
  static override ALIASES = ["calc", "adder"];
  exposed_add(a: number, b: number): number {
    return a + b;
  }
}

/** A port nothing listens on (a server that was closed). */
async function deadPort(): Promise<number> {
  const server = await new ThreadedServer(CalcService, { hostname: HOST, port: 0 }).start();
  const port = server.port;
  await server.close();
  return port;
}

describe("discover / listServices / connectByService", () => {
  for (const mode of MODES) {
    it(`${mode}: discover finds servers, or throws DiscoveryError as RPyC words it`, async () => {
      const registry = await startRegistry(mode);
      const registrar = registryClient(mode, registry.port);
      await registrar.register(["calc"], 9001, HOST);
      expect(await discover("CALC", { registrar })).toEqual([[HOST, 9001]]);
      expect(await discover("calc", { registrar, host: "localhost" })).toEqual([[HOST, 9001]]);
      const missing = await discover("nope", { registrar }).catch((err: unknown) => err);
      expect(missing).toBeInstanceOf(DiscoveryError);
      expect(isDiscoveryError(missing) && [missing.code, missing.message]).toEqual(["DISCOVERY", "no servers exposing 'nope' were found"]);
      await expect(discover("calc", { registrar, host: "::1" })).rejects.toThrow("no servers exposing calc were found on ::1");
    });

    it(`${mode}: listServices lists, filters by host, and throws ForbiddenError when listing is off`, async () => {
      const open = await startRegistry(mode, { allowListing: true });
      const registrar = registryClient(mode, open.port);
      await registrar.register(["calc", "adder"], 9002, HOST);
      expect(await listServices({ registrar })).toEqual(["CALC", "ADDER"]);
      expect(await listServices({ registrar, filterHost: HOST })).toEqual(["CALC", "ADDER"]);
      expect(await listServices({ registrar, filterHost: "::1" })).toEqual([]);
      const closed = await startRegistry(mode);
      const refused = await listServices({ registrar: registryClient(mode, closed.port) }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ForbiddenError);
      expect(isForbiddenError(refused) && [refused.code, refused.message]).toEqual(["FORBIDDEN", "Registry doesn't allow listing"]);
    });

    it(`${mode}: connectByService skips servers that are down and connects to the next`, async () => {
      const registry = await startRegistry(mode);
      const registrar = registryClient(mode, registry.port);
      const dead = await deadPort();
      const live = await serve(CalcService);
      await registrar.register(["calc"], dead, HOST); // oldest: tried first
      await registrar.register(["calc"], live.port, HOST);
      const conn = track(await connectByService<CalcService>("calc", { registrar }));
      expect(await conn.root.add(2, 3)).toBe(5);
      await conn.close();
      await registrar.unregister(live.port, HOST);
      await eventually(() => registry.registry.size === 1, 2000, "unregister");
      const down = await connectByService("calc", { registrar, timeout: 1 }).catch((err: unknown) => err);
      expect(isDiscoveryError(down) && down.message).toBe(`All services are down: (('127.0.0.1', ${dead}),)`);
      // Each failure is connect()'s ConnectError; node's errno code stays reachable.
      expect(((down as Error).cause as AggregateError).errors[0]).toMatchObject({
        code: "CONNECT",
        systemCode: "ECONNREFUSED",
        cause: { code: "ECONNREFUSED" },
      });
    });
  }
});

/** A registrar that records calls and answers from a script (then true). */
function scriptedRegistrar(script: (boolean | Error)[]): Registrar & { registers: number; unregisters: number } {
  const fake = {
    registers: 0,
    unregisters: 0,
    async register(): Promise<boolean> {
      const next = script[fake.registers++];
      if (next instanceof Error) throw next;
      return next ?? true;
    },
    async unregister(): Promise<void> {
      fake.unregisters++;
      throw new Error("registry is gone");
    },
    async discover(): Promise<ServiceAddress[]> {
      return [];
    },
    async list(): Promise<string[] | null> {
      return null;
    },
  };
  return fake;
}

describe("servers' auto-registration", () => {
  for (const mode of MODES) {
    it(`${mode}: a server registers its aliases and port after start() and unregisters on close()`, async () => {
      const registry = await startRegistry(mode, { allowListing: true });
      const registrar = registryClient(mode, registry.port);
      const server = await serve(CalcService, { registrar });
      await eventually(() => registry.registry.size === 2, 3000, "registration");
      expect(await discover("adder", { registrar })).toEqual([[HOST, server.port]]);
      expect(await listServices({ registrar })).toEqual(["CALC", "ADDER"]);
      const conn = track(await connectByService<CalcService>("CALC", { registrar }));
      expect(await conn.root.add(20, 22)).toBe(42);
      await server.close();
      await eventually(() => registry.registry.size === 0, 3000, "unregistration");
    });

    it(`${mode}: re-registration every reregisterInterval keeps a server listed past the pruning timeout`, async () => {
      // The registry's clock is faked (see fakeRegistryClock): we move it past the pruning
      // timeout, then wait for a renewal sent after that; a slow machine changes nothing.
      const clock = fakeRegistryClock();
      onTestFinished(() => clock.restore());
      const registry = await startRegistry(mode, { pruningTimeout: 0.3 });
      const registrar = registryClient(mode, registry.port);
      let advanced = false;
      let renewalsAfter = 0;
      const counting: Registrar = {
        register: async (aliases, port, host) => {
          const sentAfter = advanced;
          const ok = await registrar.register(aliases, port, host);
          if (sentAfter && ok) renewalsAfter++;
          return ok;
        },
        unregister: (port, host) => registrar.unregister(port, host),
        discover: (name) => registrar.discover(name),
        list: (filterHost) => registrar.list(filterHost),
      };
      const renewing = await serve(CalcService, { registrar: counting, reregisterInterval: 0.1 });
      const once = await serve(CalcService, { registrar, reregisterInterval: 60 });
      await eventually(() => registry.registry.size === 4, 5000, "both registrations");
      clock.advance(500);
      advanced = true;
      await eventually(() => renewalsAfter > 0, 5000, "a renewal after the pruning timeout");
      // The server that stopped re-registering was pruned; the other is still there.
      expect(await discover("calc", { registrar })).toEqual([[HOST, renewing.port]]);
      await Promise.all([renewing.close(), once.close()]);
    });
  }

  it("failures are logged and retried; close() stops the loop and unregisters; nothing throws", async () => {
    const logger = memoryLogger();
    const registrar = scriptedRegistrar([false, new Error("registry exploded"), true]);
    const server = await serve(CalcService, { registrar, reregisterInterval: 0.05, logger });
    await eventually(() => registrar.registers >= 5, 3000, "register, retries and renewals");
    expect(logger.lines.some((l) => l.startsWith("error") && l.includes("registry exploded"))).toBe(true);
    expect(logger.lines.some((l) => l.includes("did not work - retry"))).toBe(true);
    await server.close();
    const calls = registrar.registers;
    expect(registrar.unregisters).toBe(1);
    expect(logger.lines.some((l) => l.startsWith("error") && l.includes("registry is gone"))).toBe(true);
    await sleep(150);
    expect(registrar.registers).toBe(calls);
  });

  it("autoRegister defaults to whether a registrar is given; autoRegister: false never registers", async () => {
    const registrar = scriptedRegistrar([]);
    const server = await serve(CalcService, { registrar, autoRegister: false });
    await sleep(50);
    await server.close();
    expect([registrar.registers, registrar.unregisters]).toEqual([0, 0]);
    // A Unix-socket server has no port to register: it says so and serves anyway.
    const logger = memoryLogger();
    const unix = await new ThreadedServer(CalcService, { socketPath: `/tmp/rpyc-ts-reg-${process.pid}.sock`, registrar, logger }).start();
    await unix.close();
    expect(registrar.registers).toBe(0);
    expect(logger.lines.some((l) => l.includes("autoRegister ignored"))).toBe(true);
  });

  it("a OneShotServer stays registered under its port while serving, and unregisters when done", async () => {
    const registry = await startRegistry("TCP");
    const registrar = registryClient("TCP", registry.port);
    const server = track(await new OneShotServer(CalcService, { hostname: HOST, port: 0, registrar, reregisterInterval: 0.05 }).start());
    const port = server.port;
    await eventually(() => registry.registry.size === 2, 3000, "registration");
    const conn = await connectByService<CalcService>("calc", { registrar });
    await sleep(120); // renewals while serving keep the original port
    expect(await discover("calc", { registrar })).toEqual([[HOST, port]]);
    expect(await conn.root.add(1, 1)).toBe(2);
    await conn.close();
    await server.whenDone();
    expect(registry.registry.size).toBe(0);
  });

  it("after close() nothing keeps the process alive (a child process exits by itself)", async () => {
    const program = `
      import { ThreadedServer, Service } from "./runtime/index.ts";
      import { UDPRegistryServer, UDPRegistryClient, TCPRegistryServer, TCPRegistryClient } from "./runtime/registry/index.ts";
      class CalcService extends Service {}
      const udp = await new UDPRegistryServer({ host: "127.0.0.1", port: 0 }).start();
      const tcp = await new TCPRegistryServer({ host: "127.0.0.1", port: 0 }).start();
      const a = await new ThreadedServer(CalcService, { hostname: "127.0.0.1", registrar: new UDPRegistryClient({ ip: "127.0.0.1", port: udp.port }) }).start();
      const b = await new ThreadedServer(CalcService, { hostname: "127.0.0.1", registrar: new TCPRegistryClient({ ip: "127.0.0.1", port: tcp.port }) }).start();
      while (udp.registry.size + tcp.registry.size < 2) await new Promise((r) => setTimeout(r, 10));
      await a.close(); await b.close(); await udp.close(); await tcp.close();
      console.log("closed");
    `;
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program], { cwd: root, timeout: 15_000 });
    expect(stdout.trim()).toBe("closed");
  });
});

describe("Server.whenRegistered", () => {
  for (const mode of MODES) {
    it(`${mode}: resolves true once the registry confirmed, so discovery finds the server right away`, async () => {
      const registry = await startRegistry(mode);
      const registrar = registryClient(mode, registry.port);
      const server = track(await new ThreadedServer(CalcService, { hostname: HOST, port: 0, registrar }).start());
      expect(await server.whenRegistered()).toBe(true);
      expect(await discover("adder", { registrar })).toEqual([[HOST, server.port]]);
    });
  }

  it("resolves false for a server that does not register, or that closed before it could", async () => {
    const plain = await serve(CalcService);
    expect(await plain.whenRegistered()).toBe(false);
    const unreachable = registryClient("TCP", await deadPort());
    const server = await new ThreadedServer(CalcService, { hostname: HOST, port: 0, registrar: unreachable }).start();
    const registered = server.whenRegistered();
    await server.close();
    expect(await registered).toBe(false);
  });
});
