// rpyc-gen --introspect against running servers: the model read from a Python RPyC 5.3 server
// and from rpyc-ts servers (plain and compiled), the stub generated from it (type-checked, then
// called end to end) and the --check deployment gate. Failures and the comparison rules:
// introspect-rules.test.ts. Every server and process a test opens is closed by the end of the file.

import path from "node:path";
import { readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Project } from "ts-morph";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../compiler/cli/index.js";
import { emitAll } from "../../compiler/emit.js";
import { runIntrospect } from "../../compiler/cli/introspect.js";
import { compareWithLive, introspectServer, loadStubModel } from "../../compiler/introspect.js";
import type { AttributeDef, MethodDef, ServiceModel } from "../../compiler/model.js";
import { Service, ThreadedServer, type Connection } from "../../runtime/index.js";
import { MyServiceDispatch } from "../../fixtures/seed/expected/my-service.dispatch.js";
import { MyService } from "../../fixtures/seed/my-service.js";
import { capture, checkStub as check, generateStub, liveAttribute, liveMethod, only, REPO, scratch, SEED_STUB } from "../helpers/introspect.js";
import { startPython, type PythonProcess } from "../helpers/python.js";
import { eventually, serve } from "../helpers/servers.js";

/** Type-checks generated files plus `snippets` in memory, in a directory the repo's tsconfig resolves "rpyc-ts" for (nothing is written). */
let virtualDirs = 0;
function typeErrors(files: readonly { path: string; contents: string }[], snippets: Readonly<Record<string, string>>): string[] {
  const project = new Project({ tsConfigFilePath: path.join(REPO, "tsconfig.json"), skipAddingFilesFromTsConfig: true });
  const dir = path.join(REPO, "test", "compiler", ".tmp", `introspect-virtual-${process.pid}-${virtualDirs++}`);
  const all = [...files.filter((f) => f.path.endsWith(".ts")).map((f) => [f.path, f.contents] as const), ...Object.entries(snippets)];
  const sources = all.map(([rel, text]) => project.createSourceFile(path.join(dir, rel), text, { overwrite: true }));
  return sources.flatMap((sf) =>
    sf.getPreEmitDiagnostics().map((d) => {
      const message = d.getMessageText();
      return `${path.basename(d.getSourceFile()?.getFilePath() ?? "?")}:${d.getLineNumber() ?? 0}: ${typeof message === "string" ? message : message.getMessageText()}`;
    }),
  );
}

// ---- a Python RPyC 5.3 server ----

const CALC = "CalcService";
const CALC_DOC = "Adds and counts.\n\nServed by Python RPyC for the introspection tests.";
const SHOUT_DOC = "Upper-cases text (a module function, exposed as a callable attribute).";

/** What test/interop/python/introspect_server.py's CalculatorService is, as introspection must see it. */
function expectedCalculator(where: string): ServiceModel {
  const m = (name: string, doc?: string): MethodDef => liveMethod(where, CALC, name, doc);
  const a = (name: string): AttributeDef => liveAttribute(where, CALC, name);
  return {
    version: 1,
    services: [
      {
        origin: "live",
        className: CALC,
        name: "CALC",
        aliases: ["CALC", "CALCULATOR"],
        explicitAliases: true,
        module: where,
        exportName: CALC,
        bases: [],
        location: { file: where, line: 1, column: 1 },
        doc: CALC_DOC,
        methods: [
          m("add", "Adds two numbers."),
          m("calls", "What has been called so far (the tests check introspection called nothing)."),
          m("create", "Makes a new calculator."), // a classmethod: INSPECT on the root misses it, its value is callable
          m("formatter", SHOUT_DOC), // a function stored in the class
          m("on_event", SHOUT_DOC), // a function stored on the instance: only DIR lists it
          m("reset"),
        ],
        attributes: [a("flaky"), a("history"), a("settings"), a("status"), a("version")],
      },
    ],
    types: [],
  };
}

async function calculator(variant = "base"): Promise<PythonProcess> {
  return startPython("introspect_server.py", ["--variant", variant]);
}

describe("introspecting a Python RPyC 5.3 server", () => {
  it("reads names, docstrings and every exposed member with its kind, and nothing that is not exposed", async () => {
    const py = await calculator();
    const where = `127.0.0.1:${py.port}`;
    const { model, diagnostics } = await introspectServer({ host: "127.0.0.1", port: py.port });
    expect(model).toEqual(expectedCalculator(where));
    const names = [...only(model).methods, ...only(model).attributes].map((m) => m.name);
    expect(names).not.toContain("get_question");
    expect(names).not.toContain("hidden_value");
    expect(names).not.toContain("get_service_name"); // every Service has it; stubs declare it themselves
    // The member the server refuses to read is reported, not dropped silently; a failing getter is reported and kept.
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: "warning", code: "RPYC_LIVE_MEMBER_RAISED", member: "exposed_flaky" }),
      expect.objectContaining({ severity: "warning", code: "RPYC_LIVE_UNREADABLE_MEMBER", member: "exposed_secret" }),
    ]);
    expect(diagnostics[0]!.message).toContain("RuntimeError: not ready yet");
    expect(diagnostics[1]!.message).toContain("access denied");
    await py.stop();
  });

  it("calls nothing on the server, and answers the same model twice", async () => {
    const py = await calculator();
    const first = await introspectServer({ host: "127.0.0.1", port: py.port });
    const second = await introspectServer({ host: "127.0.0.1", port: py.port });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    // The generated stub reports what the service recorded: introspection ran no method.
    const { out } = await generateStub(`127.0.0.1:${py.port}`);
    const stub = (await import(pathToFileURL(path.join(out, "calc-service.client.ts")).href)) as {
      connectCalc(host: string, port: number): Promise<Connection<{ calls(): Promise<unknown> }>>;
    };
    const conn = await stub.connectCalc("127.0.0.1", py.port);
    try {
      expect(await conn.root.calls()).toEqual([]);
    } finally {
      await conn.close();
    }
    await py.stop();
  });

  it("generates a stub that type-checks and calls the server (untyped arguments, unknown results)", async () => {
    const py = await calculator();
    const address = `127.0.0.1:${py.port}`;
    const { out, io } = await generateStub(address);
    expect(io.err).toContain("RPYC_LIVE_UNREADABLE_MEMBER"); // the refused member, on stderr
    expect(readdirSync(out).sort()).toEqual(["calc-service.client.ts", "calc-service.proto", "index.ts", "model.json"]); // no dispatch table
    expect(loadStubModel(out)).toEqual(expectedCalculator(address));

    const files = emitAll(loadStubModel(out), { root: REPO, outDir: "out" });
    const errors = typeErrors(files, {
      "use.ts": [
        'import { connectCalc, CALC_SERVICE_NAMES, type CalcRemote } from "./index.js";',
        "export async function use(port: number): Promise<unknown[]> {",
        '  const conn = await connectCalc("127.0.0.1", port);',
        "  const root: CalcRemote = conn.root;",
        '  const names: readonly ["CALC", "CALCULATOR"] = CALC_SERVICE_NAMES;',
        '  return [await root.add(1, 2), await root.add("a", "b", 3), await root.reset(), await root.version, await root.get_service_name(), names];',
        "}",
        "// @ts-expect-error not exposed: not in the stub",
        "export const hidden = (r: CalcRemote) => r.get_question();",
        "// @ts-expect-error refused by the server: left out",
        "export const secret = (r: CalcRemote) => r.secret();",
        "// @ts-expect-error an attribute is not callable",
        "export const version = (r: CalcRemote) => r.version();",
      ].join("\n"),
    });
    expect(errors).toEqual([]);

    const stub = (await import(pathToFileURL(path.join(out, "index.ts")).href)) as {
      connectCalc(
        host: string,
        port: number,
      ): Promise<
        Connection<{
          add(...a: unknown[]): Promise<unknown>;
          on_event(t: string): Promise<unknown>;
          version: PromiseLike<unknown>;
          get_service_name(): Promise<string>;
        }>
      >;
    };
    const conn = await stub.connectCalc("127.0.0.1", py.port);
    try {
      expect(await conn.root.add(2, 3)).toBe(5);
      expect(await conn.root.on_event("hi")).toBe("HI");
      expect(await conn.root.version).toBe("1.2");
      expect(await conn.root.get_service_name()).toBe("CALC");
    } finally {
      await conn.close();
    }
    await py.stop();
  }, 60_000); // type-checks the stub and starts Python: 2-5 s lightly loaded

  it("--check --introspect: 0 when the server matches the stub, 1 with the list when members were added, removed or changed", async () => {
    const base = await calculator();
    const { out } = await generateStub(`127.0.0.1:${base.port}`);
    const same = await check(`127.0.0.1:${base.port}`, out);
    expect(same.code, same.err).toBe(EXIT.OK);
    expect(same.out).toBe(`127.0.0.1:${base.port}: service CALC matches the stub's CalcService (11 members)\n`);
    await base.stop();

    const expectations: Record<string, { lines: string[]; comparison: object }> = {
      added: { lines: ["  added:   multiply (method)"], comparison: { added: [{ name: "multiply", kind: "method" }], removed: [], changed: [] } },
      removed: { lines: ["  removed: version (attribute)"], comparison: { added: [], removed: [{ name: "version", kind: "attribute" }], changed: [] } },
      changed: {
        lines: ["  changed: version: attribute in the stub, method on the server"],
        comparison: { added: [], removed: [], changed: [{ what: "kind", name: "version", stub: "attribute", live: "method" }] },
      },
      renamed: {
        lines: ["  changed: formal name: CALC in the stub, CALCULATOR on the server"],
        comparison: { added: [], removed: [], changed: [{ what: "name", stub: "CALC", live: "CALCULATOR" }] },
      },
    };
    for (const [variant, expected] of Object.entries(expectations)) {
      const py = await calculator(variant);
      const address = `127.0.0.1:${py.port}`;
      const result = await check(address, out);
      expect(result.code, `${variant}: ${result.err}`).toBe(EXIT.STALE);
      expect(result.err).toContain(
        `${address}: service ${variant === "renamed" ? "CALCULATOR" : "CALC"} differs from the stub's CalcService:\n${expected.lines.join("\n")}\n`,
      );
      expect(result.out).toBe("");
      const live = await introspectServer({ host: "127.0.0.1", port: py.port });
      expect(compareWithLive(loadStubModel(out), live.model)).toMatchObject({ ...expected.comparison, matches: false });
      await py.stop();
    }
  }, 60_000); // five Python servers one after another: 3.6-6 s lightly loaded
});

describe("the seed's Python server (RPyC's default attribute rules, no _rpyc_getattr)", () => {
  it("matches the stub generated from the TypeScript seed, and --check reports its other names", async () => {
    const py = await startPython("seed_server.py");
    const where = `127.0.0.1:${py.port}`;
    const { model, diagnostics } = await introspectServer({ host: "127.0.0.1", port: py.port });
    expect(only(model)).toMatchObject({ className: "MyService", name: "MY", aliases: ["MY"], explicitAliases: false });
    expect(only(model).methods).toEqual([liveMethod(where, "MyService", "get_answer")]);
    expect(only(model).attributes).toEqual([liveAttribute(where, "MyService", "the_real_answer_though")]);
    expect(diagnostics).toEqual([]);
    const same = await check(where, SEED_STUB);
    expect(same.code, same.err).toBe(EXIT.OK);
    await py.stop();

    const floop = await startPython("seed_server.py", ["--aliases"]);
    const renamed = await check(`127.0.0.1:${floop.port}`, SEED_STUB);
    expect(renamed.code).toBe(EXIT.STALE);
    expect(renamed.err).toContain(
      "  changed: formal name: MY in the stub, FLOOP on the server\n  changed: aliases: MY in the stub; FLOOP, BLOOP on the server\n",
    );
    await floop.stop();
  });
});

// ---- an rpyc-ts server ----

const served = { calls: [] as string[], disconnects: 0 };

class Warehouse {
  describe(): string {
    served.calls.push("describe");
    return "north";
  }
}

class InventoryService extends Service {
  static override ALIASES = ["inventory", "stock"];
  exposed_count = 3;
  exposed_label = "main";
  /** A callable field: INSPECT lists it as the function it holds. */
  exposed_on_change = (n: number): number => {
    served.calls.push("on_change");
    return n + 1;
  };
  exposed_warehouse = new Warehouse();
  get exposed_size(): number {
    return 10;
  }
  exposed_add(item: string): string {
    served.calls.push("add");
    return `added ${item}`;
  }
  async exposed_total(): Promise<number> {
    served.calls.push("total");
    return 7;
  }
  helper(): void {
    served.calls.push("helper");
  }
  override on_disconnect(): void {
    served.disconnects++;
  }
}

describe("introspecting an rpyc-ts server", () => {
  it("reads a Service class's members and kinds, calls none of them, and closes its connection", async () => {
    const server = await serve(InventoryService);
    const where = `127.0.0.1:${server.port}`;
    const before = served.disconnects;
    const { model, diagnostics } = await introspectServer({ host: "127.0.0.1", port: server.port });
    const cls = "InventoryService";
    expect(model).toEqual({
      version: 1,
      services: [
        {
          origin: "live",
          className: cls,
          name: "INVENTORY",
          aliases: ["INVENTORY", "STOCK"],
          explicitAliases: true,
          module: where,
          exportName: cls,
          bases: [],
          location: { file: where, line: 1, column: 1 },
          methods: [liveMethod(where, cls, "add"), liveMethod(where, cls, "on_change"), liveMethod(where, cls, "total")],
          attributes: ["count", "label", "size", "warehouse"].map((name) => liveAttribute(where, cls, name)),
        },
      ],
      types: [],
    });
    expect(diagnostics).toEqual([]);
    expect(served.calls).toEqual([]);
    await eventually(() => server.connections.size === 0 && served.disconnects === before + 1, 5000, "the introspection connection to close");
  });

  it("reads a compiled service (dispatch table) right, and the seed's source stub passes --check against it", async () => {
    // Kinds come from reading each member, not from INSPECT alone (Python's misses classmethods).
    const server = await serve(MyService, { dispatch: [MyServiceDispatch] });
    const where = `127.0.0.1:${server.port}`;
    const service = only((await introspectServer({ host: "127.0.0.1", port: server.port })).model);
    expect(service.methods).toEqual([liveMethod(where, "MyService", "get_answer")]);
    expect(service.attributes).toEqual([liveAttribute(where, "MyService", "the_real_answer_though")]);
    // A stub generated from TypeScript sources (fixtures/seed, --emit-model) against the running server.
    const result = await check(where, SEED_STUB);
    expect(result.code, result.err).toBe(EXIT.OK);
    expect(result.out).toBe(`${where}: service MY matches the stub's MyService (2 members)\n`);
  });

  it("a stub generated from an rpyc-ts server calls it end to end", async () => {
    const server = await serve(InventoryService);
    const { out } = await generateStub(`127.0.0.1:${server.port}`);
    const stub = (await import(pathToFileURL(path.join(out, "inventory-service.client.ts")).href)) as {
      connectInventory(
        host: string,
        port: number,
      ): Promise<Connection<{ add(i: string): Promise<unknown>; total(): Promise<unknown>; size: PromiseLike<unknown> }>>;
    };
    const conn = await stub.connectInventory("127.0.0.1", server.port);
    try {
      expect(await conn.root.add("bolt")).toBe("added bolt");
      expect(await conn.root.total()).toBe(7);
      expect(await conn.root.size).toBe(10);
    } finally {
      await conn.close();
      served.calls.length = 0;
    }
  });

  it("--check --introspect lists a member the deployed server gained and one it lost", async () => {
    class InventoryV2 extends InventoryService {
      static override ALIASES = ["inventory", "stock"];
      exposed_restock(): void {}
    }
    const v1 = await serve(InventoryService);
    const { out } = await generateStub(`127.0.0.1:${v1.port}`);
    const v2 = await serve(InventoryV2);
    const result = await check(`127.0.0.1:${v2.port}`, out);
    expect(result.code).toBe(EXIT.STALE);
    expect(result.err).toContain(`service INVENTORY differs from the stub's InventoryService:\n  added:   restock (method)\n`);
    // The other way round: the stub has a member the server lacks.
    const { out: v2Out } = await generateStub(`127.0.0.1:${v2.port}`);
    const back = await check(`127.0.0.1:${v1.port}`, v2Out);
    expect(back.code).toBe(EXIT.STALE);
    expect(back.err).toContain("  removed: restock (method)\n");
  });

  it("works over IPv6 loopback ([::1]:PORT)", async () => {
    const server = new ThreadedServer(InventoryService, { hostname: "::1", port: 0 });
    await server.start();
    try {
      const io = capture();
      const out = path.join(scratch(), "out");
      expect(await runIntrospect({ address: `[::1]:${server.port}`, outDir: out, check: false, quiet: true }, io), io.err).toBe(EXIT.OK);
      expect(only(loadStubModel(out)).module).toBe(`[::1]:${server.port}`);
    } finally {
      await server.close();
    }
  });
});
