// rpyc-gen --introspect without a healthy server: refused, silent and non-RPyC peers, a missing
// model.json, bad addresses; and the rules that need no server: comparing a stub with a live
// model, class names, docstring cleaning. Every socket a test opens is closed by the end.

import { execFileSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT } from "../../compiler/cli/index.js";
import { parseAddress, runIntrospect } from "../../compiler/cli/introspect.js";
import { cleanDoc, compareWithLive, formatLiveComparison, introspectServer, liveClassName, loadStubModel } from "../../compiler/introspect.js";
import type { ServiceModel } from "../../compiler/model.js";
import { Service } from "../../runtime/index.js";
import { capture, expectIntrospectError, liveAttribute, liveMethod, scratch, SEED_STUB } from "../helpers/introspect.js";
import { PYTHON } from "../helpers/python.js";
import { eventually, serve } from "../helpers/servers.js";

const sockets = new Set<net.Server>();
afterAll(async () => {
  await Promise.all([...sockets].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

class PlainService extends Service {
  exposed_ping(): string {
    return "pong";
  }
}

/** A port nothing listens on: bound once, then closed. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("failures", () => {
  it("connection refused: IntrospectError CONNECTION_REFUSED, and rpyc-gen exits 4 (EXIT.IO) with the reason", async () => {
    const port = await freePort();
    const err = await expectIntrospectError(introspectServer({ host: "127.0.0.1", port }), "CONNECTION_REFUSED");
    expect(err.message).toBe(`127.0.0.1:${port}: connection refused; is the server running?`);
    for (const checking of [false, true]) {
      const io = capture();
      const outDir = checking ? SEED_STUB : path.join(scratch(), "out");
      expect(await runIntrospect({ address: `127.0.0.1:${port}`, outDir, check: checking }, io)).toBe(EXIT.IO);
      expect(io.err).toContain("connection refused");
    }
  });

  it("a server that never answers: TIMEOUT after timeoutMs, and the connection is closed", async () => {
    const accepted: net.Socket[] = [];
    const closed: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      accepted.push(socket);
      socket.resume(); // read (and ignore) what the client sends, so its FIN is seen
      socket.on("close", () => closed.push(socket));
    });
    sockets.add(silent);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    const started = performance.now();
    const err = await expectIntrospectError(introspectServer({ host: "127.0.0.1", port }, { timeoutMs: 300 }), "TIMEOUT");
    // Not before its timeoutMs (no upper bound: a loaded machine may take longer); the message
    // names the 300 ms given, not a default.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(err.message).toContain("no answer within 300 ms");
    expect(accepted).toHaveLength(1);
    await eventually(() => closed.length === 1, 5000, "the client to close its socket");
  });

  it("a peer that is not RPyC: NOT_RPYC", async () => {
    const http = net.createServer((socket) => {
      socket.resume();
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    sockets.add(http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as net.AddressInfo;
    const err = await expectIntrospectError(introspectServer({ host: "127.0.0.1", port }, { timeoutMs: 2000 }), "NOT_RPYC");
    expect(err.message).toContain("does not speak RPyC");
  });

  it("a root that is not a Service (no get_service_name): NOT_A_SERVICE", async () => {
    const server = await serve({ exposed_answer: 42 });
    const err = await expectIntrospectError(introspectServer({ host: "127.0.0.1", port: server.port }), "NOT_A_SERVICE");
    expect(err.message).toContain("does not answer get_service_name()");
    await eventually(() => server.connections.size === 0, 5000, "the introspection connection to close");
  });

  it("--check without model.json: exits 4 and says to generate the stub with --emit-model", async () => {
    const server = await serve(PlainService);
    const empty = scratch();
    const io = capture();
    expect(await runIntrospect({ address: `127.0.0.1:${server.port}`, outDir: empty, check: true }, io)).toBe(EXIT.IO);
    expect(io.err).toContain("generate the stub with --emit-model");
    expect(() => loadStubModel(empty)).toThrow(expect.objectContaining({ code: "NO_STUB_MODEL" }));
  });

  it("parses HOST:PORT and [IPV6]:PORT; anything else is a usage error (exit 3)", async () => {
    expect(parseAddress("127.0.0.1:18861")).toEqual({ host: "127.0.0.1", port: 18861 });
    expect(parseAddress("localhost:1")).toEqual({ host: "localhost", port: 1 });
    expect(parseAddress("[::1]:18861")).toEqual({ host: "::1", port: 18861 });
    for (const bad of ["127.0.0.1", "::1:18861", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:port", ":18861", "[::1]"]) {
      expect(() => parseAddress(bad), bad).toThrow(expect.objectContaining({ code: "BAD_ADDRESS" }));
      const io = capture();
      expect(await runIntrospect({ address: bad, outDir: scratch(), check: false }, io), bad).toBe(EXIT.USAGE);
      expect(io.err).toContain(`bad address '${bad}'`);
    }
  });
});

// ---- comparison and naming rules (no server) ----

function model(...services: { name: string; aliases?: string[]; className?: string; methods?: string[]; attributes?: string[] }[]): ServiceModel {
  return {
    version: 1,
    services: services.map((s) => ({
      className: s.className ?? liveClassName(s.name),
      name: s.name,
      aliases: s.aliases ?? [s.name],
      explicitAliases: false,
      module: "x",
      exportName: "X",
      bases: [],
      location: { file: "x", line: 1, column: 1 },
      methods: (s.methods ?? []).map((n) => liveMethod("x", "X", n)),
      attributes: (s.attributes ?? []).map((n) => liveAttribute("x", "X", n)),
    })),
    types: [],
  };
}

describe("compareWithLive", () => {
  it("compares names and kinds, aliases as a set, and ignores the builtins every service has", () => {
    const stub = model({ name: "A", aliases: ["A", "B"], methods: ["f", "get_service_name"], attributes: ["x"] });
    expect(compareWithLive(stub, model({ name: "A", aliases: ["A", "B"], methods: ["f"], attributes: ["x"] })).matches).toBe(true);
    const differs = compareWithLive(stub, model({ name: "B", aliases: ["B", "A"], methods: ["x", "g"], attributes: ["f"] }));
    expect(differs).toEqual({
      stubService: "AService",
      liveService: "B",
      where: "x",
      added: [{ name: "g", kind: "method" }],
      removed: [],
      changed: [
        { what: "name", stub: "A", live: "B" },
        { what: "kind", name: "f", stub: "method", live: "attribute" },
        { what: "kind", name: "x", stub: "attribute", live: "method" },
      ],
      matches: false,
      liveMembers: 3,
    });
    expect(formatLiveComparison(differs)).toBe(
      [
        "x: service B differs from the stub's AService:",
        "  added:   g (method)",
        "  changed: formal name: A in the stub, B on the server",
        "  changed: f: method in the stub, attribute on the server",
        "  changed: x: attribute in the stub, method on the server",
        "",
      ].join("\n"),
    );
    expect(compareWithLive(stub, model({ name: "A", aliases: ["A"], methods: ["f"], attributes: ["x"] })).changed).toEqual([
      { what: "aliases", stub: ["A", "B"], live: ["A"] },
    ]);
  });

  it("picks the stub's service by the server's names when the stub has several, and says so when none matches", () => {
    const stub = model({ name: "ONE", methods: ["a"] }, { name: "TWO", aliases: ["TWO", "DEUX"], methods: ["b"] });
    expect(compareWithLive(stub, model({ name: "DEUX", methods: ["b"] }))).toMatchObject({ stubService: "TwoService", added: [], removed: [] });
    expect(() => compareWithLive(stub, model({ name: "THREE" }))).toThrow(expect.objectContaining({ code: "NO_MATCHING_SERVICE" }));
  });

  it("class names come from the formal name, and are identifiers", () => {
    expect(["MY", "FLOOP_BLOOP", "CALC", "2048"].map(liveClassName)).toEqual(["MyService", "FloopBloopService", "CalcService", "Live2048Service"]);
  });

  it("cleanDoc cleans docstrings as Python's inspect.cleandoc does", () => {
    const samples = [
      "Adds.\n\n    More text.\n      indented\n    ",
      "\n    Leading newline.\n    Second line.\n",
      "one line",
      "\tTabbed\n\tbody\n  ab\tc",
      "   \n   ",
      "\n\n",
      "a\r\n    b\r\n",
    ];
    const python = JSON.parse(
      execFileSync(PYTHON, ["-c", "import inspect, json, sys; print(json.dumps([inspect.cleandoc(s) for s in json.load(sys.stdin)]))"], {
        input: JSON.stringify(samples),
        encoding: "utf8",
      }),
    ) as string[];
    expect(samples.map((s) => cleanDoc(s) ?? "")).toEqual(python);
  });
});
