// Live registry interop with Debian's python3-rpyc 5.3, both registry modes, on 127.0.0.1:
// a Python ThreadedServer registers with OUR registry and our client discovers and calls it;
// OUR servers register with Python's registry and Python's discover / connect_by_service /
// list_services find and call them. Both directions show pruning of a server that stops
// re-registering, and LIST with listing on and off.

import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { ForbiddenError, Service, connectByService, discover, listServices, type Registrar, type ServiceAddress } from "../../runtime/index.js";
import { requirePythonRpyc, runPythonClient, startPython } from "../helpers/python.js";
import { eventually, serve, sleep } from "../helpers/servers.js";
import { HOST, MODES, fakeRegistryClock, registryClient, startRegistry, track } from "./helpers.js";

/** The registry fixtures, relative to the interop fixtures directory startPython() uses. */
const FIXTURES = "../../registry/python/";

class CalcService extends Service {
  static override ALIASES = ["calc", "adder"];
  exposed_add(a: number, b: number): number {
    return a + b;
  }
}

/** Polls `registrar.discover(name)` until it equals `expected` (sorted), or fails after `timeoutMs` (ample: it returns as soon as it holds). */
async function discoverUntil(registrar: Registrar, name: string, expected: ServiceAddress[], timeoutMs = 15_000): Promise<void> {
  const key = (list: readonly ServiceAddress[]): string => JSON.stringify([...list].map((a) => `${a[0]}:${a[1]}`).sort());
  const deadline = Date.now() + timeoutMs;
  let last: ServiceAddress[] = [];
  while (Date.now() < deadline) {
    last = await registrar.discover(name);
    if (key(last) === key(expected)) return;
    await sleep(50);
  }
  throw new Error(`discover(${name}) is ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
}

interface ClientReport {
  discover: [string, number][];
  add: number;
  service_name: string;
  list: { names?: string[]; error?: string; message?: string };
  missing: string;
  list_without_listing: { names?: string[]; error?: string; message?: string };
}

beforeAll(() => requirePythonRpyc());

// The four scenarios are independent (own registries, own processes). The two on our registry
// fake its clock, which is global (performance.now): they run one after the other. The two on
// Python's registry wait out its pruning timeout: they run side by side.
for (const mode of MODES) {
  describe(`${mode} registry`, () => {
    it("a Python server registers with our registry; we discover, list and call it; once it dies it is pruned", async () => {
      // Our registry's clock is faked (fakeRegistryClock): while the clock stands still the
      // Python server's registration cannot go stale, however late its renewals come on a
      // loaded machine; after its death we move the clock across the pruning timeout.
      const clock = fakeRegistryClock();
      onTestFinished(() => clock.restore());
      const registry = await startRegistry(mode, { allowListing: true, pruningTimeout: 2 });
      const unlisted = await startRegistry(mode);
      const registrar = registryClient(mode, registry.port);
      // Python re-registers every second while alive (its loop checks once a second).
      const py = await startPython(`${FIXTURES}registered_server.py`, [mode, String(registry.port), "1"]);
      await eventually(() => registry.registry.size === 2, 15_000, "the Python server's registration");
      expect(await discover("pycalc", { registrar })).toEqual([[HOST, py.port]]);
      const conn = track(await connectByService<{ exposed_add(a: number, b: number): number; exposed_language(): string }>("PyAdder", { registrar }));
      expect(await conn.root.add(2, 3)).toBe(5);
      expect(await conn.root.language()).toBe("python");
      await conn.close();
      expect(await listServices({ registrar })).toEqual(["PYCALC", "PYADDER"]);
      await expect(listServices({ registrar: registryClient(mode, unlisted.port) })).rejects.toThrow(ForbiddenError);

      // Python's own client functions against our registry, listing on and off.
      const report = (await runPythonClient(`${FIXTURES}registry_client.py`, [
        mode,
        String(registry.port),
        "pycalc",
        String(unlisted.port),
      ])) as unknown as ClientReport;
      expect(report).toEqual({
        discover: [[HOST, py.port]],
        add: 42,
        service_name: "PYCALC",
        list: { names: ["PYADDER", "PYCALC"] },
        missing: "no servers exposing 'nosuch' were found",
        list_without_listing: { error: "ForbiddenError", message: "Registry doesn't allow listing" },
      });

      // Killed, it never unregisters: the registry prunes it once the pruning timeout passed.
      await py.stop();
      clock.advance(1500); // not yet
      expect(await discover("pyadder", { registrar })).toEqual([[HOST, py.port]]);
      clock.advance(600); // 2.1 s since its last registration (a renewal still in flight at its death could land after this: then we move on again)
      for (let i = 0; i < 10 && (await registrar.discover("pyadder")).length > 0; i++) clock.advance(2100);
      expect(await registrar.discover("pyadder")).toEqual([]);
      expect(await listServices({ registrar })).toEqual([]);
    });
  });
}

for (const mode of MODES) {
  describe.concurrent(`${mode} registry`, () => {
    it("our servers register with Python's registry; Python's discover / connect_by_service / list_services call them; pruning and unregister", async () => {
      const pyRegistry = await startPython(`${FIXTURES}registry_server.py`, [mode, "2"]);
      const unlistedPort = Number(/^NOLIST (\d+)$/m.exec(pyRegistry.output())![1]);
      const registrar = registryClient(mode, pyRegistry.port);
      // Both servers renew every 0.2 s (Python's registry prunes after 2 s); later one stops
      // renewing: its registrar is muted (it answers true and sends nothing). So the registry
      // sees a server that stopped re-registering only when we say so, not when a slow
      // moment of the machine outlasts the pruning timeout.
      let muted = false;
      const mutable: Registrar = {
        register: (aliases, port, host) => (muted ? Promise.resolve(true) : registrar.register(aliases, port, host)),
        unregister: (port, host) => registrar.unregister(port, host),
        discover: (name) => registrar.discover(name),
        list: (filterHost) => registrar.list(filterHost),
      };
      const renewing = await serve(CalcService, { registrar, reregisterInterval: 0.2 });
      const once = await serve(CalcService, { registrar: mutable, reregisterInterval: 0.2 });
      await discoverUntil(registrar, "calc", [
        [HOST, renewing.port],
        [HOST, once.port],
      ]);
      expect(await listServices({ registrar })).toEqual(["CALC", "ADDER"]);
      await expect(listServices({ registrar: registryClient(mode, unlistedPort) })).rejects.toThrow("Registry doesn't allow listing");
      const conn = track(await connectByService<CalcService>("adder", { registrar }));
      expect(await conn.root.add(1, 2)).toBe(3);
      await conn.close();

      const report = (await runPythonClient(`${FIXTURES}registry_client.py`, [
        mode,
        String(pyRegistry.port),
        "calc",
        String(unlistedPort),
      ])) as unknown as ClientReport;
      expect(report.discover.map(([h, p]) => `${h}:${p}`).sort()).toEqual([`${HOST}:${renewing.port}`, `${HOST}:${once.port}`].sort());
      expect({ ...report, discover: undefined }).toEqual({
        discover: undefined,
        add: 42,
        service_name: "CALC",
        list: { names: ["ADDER", "CALC"] },
        missing: "no servers exposing 'nosuch' were found",
        list_without_listing: { error: "ForbiddenError", message: "Registry doesn't allow listing" },
      });

      // The server that stopped re-registering is pruned by Python's registry (2 s); the other stays.
      muted = true;
      await discoverUntil(registrar, "calc", [[HOST, renewing.port]]);
      // close() unregisters from Python's registry.
      await renewing.close();
      await discoverUntil(registrar, "adder", []);
      await once.close();
      await pyRegistry.stop();
    });
  });
}
