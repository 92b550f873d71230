// HANDLE_INSPECT and HANDLE_DIR of a service's root, as a Python client asks them: a compiled
// rpyc-ts service (dispatch table) must answer as Python RPyC answers for the same service.
// INSPECT lists what a Python netref class gets as methods, so only callables; DIR lists every
// exposed member. rpyc-gen --introspect and Python's netref classes both rely on the difference.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThreadedServer } from "../../runtime/index.js";
import { MyServiceDispatch } from "../../fixtures/seed/expected/my-service.dispatch.js";
import { MyService } from "../../fixtures/seed/my-service.js";
import { requirePythonRpyc, runPythonClient, startPython, type PythonProcess } from "../helpers/python.js";

describe("INSPECT and DIR of the seed's root, Python RPyC vs rpyc-ts", () => {
  let python: PythonProcess;
  let compiled: ThreadedServer;
  let dynamic: ThreadedServer;
  beforeAll(async () => {
    requirePythonRpyc();
    python = await startPython("seed_server.py");
    compiled = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0, dispatch: MyServiceDispatch, autoRegister: false });
    dynamic = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0, autoRegister: false });
    await Promise.all([compiled.start(), dynamic.start()]);
  });
  afterAll(async () => {
    await Promise.all([python?.stop(), compiled?.close(), dynamic?.close()]);
  });

  it("Python RPyC lists the exposed methods under INSPECT, and the attribute too under DIR", async () => {
    expect(await runPythonClient("inspect_client.py", [String(python.port)])).toEqual({
      inspect: ["exposed_get_answer"],
      dir: ["exposed_get_answer", "exposed_get_service_aliases", "exposed_get_service_name", "exposed_the_real_answer_though"],
    });
  });

  // Python's INSPECT leaves out get_service_name/get_service_aliases only because they are
  // classmethods (a classmethod object is not callable); rpyc-ts lists them with the methods.
  const withBuiltins = (names: unknown): unknown => [...(names as string[]), "exposed_get_service_aliases", "exposed_get_service_name"].sort();

  for (const [kind, server] of [
    ["a compiled rpyc-ts service (dispatch table)", () => compiled],
    ["an rpyc-ts service without a dispatch table", () => dynamic],
  ] as const) {
    it(`${kind} answers the same: the attribute is no method`, async () => {
      const reference = await runPythonClient("inspect_client.py", [String(python.port)]);
      const ours = await runPythonClient("inspect_client.py", [String(server().port)]);
      expect(ours.inspect).toEqual(withBuiltins(reference.inspect));
      expect(ours.dir).toEqual(reference.dir);
    });
  }
});
