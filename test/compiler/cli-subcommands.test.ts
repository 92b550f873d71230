// rpyc-gen's entry points beyond sources, through the same run() the binary calls:
// `rpyc-gen diff OLD NEW` (breaking-change check) and `rpyc-gen [--check] --introspect
// HOST:PORT` (a stub from a running server, and the deployment gate), end to end on real files
// and a real rpyc-ts server on 127.0.0.1.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT, run, type CliIO } from "../../compiler/cli.js";
import { DIFF_EXIT } from "../../compiler/diff-cli.js";
import { Service, ThreadedServer } from "../../runtime/index.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(path.join(REPO, ".tmp-cli-sub-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function io(): CliIO & { out: string; err: string } {
  const captured = {
    cwd: REPO,
    out: "",
    err: "",
    interactive: false,
    stdout(text: string) {
      captured.out += text;
    },
    stderr(text: string) {
      captured.err += text;
    },
  };
  return captured;
}

let counter = 0;
const scratchPath = (name: string): string => path.join(path.relative(REPO, scratch), `${++counter}-${name}`);

describe("rpyc-gen diff", () => {
  const write = (name: string, source: string): string => {
    const file = scratchPath(name);
    writeFileSync(path.join(REPO, file), source);
    return file;
  };
  const v1 = `import { Service } from "rpyc-ts";\nexport class CalcService extends Service {\n  exposed_add(a: number, b: number): number { return a + b; }\n  exposed_name = "calc";\n}\n`;

  it("exits 0 for a compatible change and 1 for a breaking one, naming it", async () => {
    const old = write("calc-v1.ts", v1);
    const compatible = write("calc-v2.ts", v1.replace("exposed_name", "exposed_sub(a: number, b: number): number { return a - b; }\n  exposed_name"));
    const breaking = write("calc-v3.ts", v1.replace("exposed_add(a: number, b: number)", "exposed_add(a: number, b: number, c: number)"));

    const safe = io();
    expect(await run(["diff", old, compatible], safe).then((r) => r.code)).toBe(DIFF_EXIT.OK);
    expect(safe.out).toMatch(/SAFE CalcService\.sub/);

    const broken = io();
    expect(await run(["diff", old, breaking], broken).then((r) => r.code)).toBe(DIFF_EXIT.BREAKING);
    expect(broken.out).toMatch(/BREAKING CalcService\.add.*\bc\b/);

    const allowed = io();
    expect(await run(["diff", old, breaking, "--allow-breaking"], allowed).then((r) => r.code)).toBe(DIFF_EXIT.OK);
    expect(allowed.out).toMatch(/BREAKING/);
  });

  it("compares a checked-in model.json with Python sources of the same service", async () => {
    // The TypeScript seed and the Python seed describe one service; Python's int is number | bigint,
    // so the Python server's get_answer may return values the TS stub does not expect.
    const result = io();
    const code = (await run(["diff", "fixtures/seed/expected/model.json", "fixtures/python-seed/my_service.py", "--json"], result)).code;
    const report = JSON.parse(result.out) as { breaking: number; entries: { code: string; path: string }[] };
    expect(code).toBe(report.breaking > 0 ? DIFF_EXIT.BREAKING : DIFF_EXIT.OK);
    expect(report.entries.map((e) => e.code)).toContain("RPYC_DIFF_TYPE_WIDENED");
  });

  it("exits 3 without two sides and 4 on a missing file", async () => {
    expect((await run(["diff", "fixtures/seed/expected/model.json"], io())).code).toBe(DIFF_EXIT.USAGE);
    const missing = io();
    expect((await run(["diff", "fixtures/seed/expected/model.json", "no/such/model.json"], missing)).code).toBe(DIFF_EXIT.IO);
    expect(missing.err).toMatch(/no\/such\/model\.json/);
  });
});

describe("rpyc-gen --introspect", () => {
  class CalcService extends Service {
    exposed_add(a: number, b: number): number {
      return a + b;
    }
    exposed_version = "1.0";
    secret(): string {
      return "not exposed";
    }
  }
  class CalcV2Service extends Service {
    static override ALIASES = ["CALC"];
    exposed_add(a: number, b: number): number {
      return a + b;
    }
    exposed_mul(a: number, b: number): number {
      return a * b;
    }
  }

  async function serve(service: typeof Service): Promise<ThreadedServer> {
    const server = new ThreadedServer(service, { hostname: "127.0.0.1", port: 0, autoRegister: false });
    await server.start();
    return server;
  }

  it("writes a stub of a running server, then --check passes against it and fails against a changed server", async () => {
    const out = scratchPath("calc-live");
    const v1 = await serve(CalcService);
    try {
      const generated = io();
      expect((await run(["--introspect", `127.0.0.1:${v1.port}`, "-o", out], generated)).code).toBe(EXIT.OK);
      const stub = readFileSync(path.join(REPO, out, "calc-service.client.ts"), "utf8");
      expect(stub).toMatch(/Generated by rpyc-gen/);
      expect(stub).toMatch(/\badd\(/);
      expect(stub).toMatch(/\bversion\b/);
      expect(stub).not.toMatch(/secret/);
      const model = JSON.parse(readFileSync(path.join(REPO, out, "model.json"), "utf8")) as { services: { origin: string }[] };
      expect(model.services.map((s) => s.origin)).toEqual(["live"]);

      const same = io();
      expect((await run(["--check", "--introspect", `127.0.0.1:${v1.port}`, "-o", out], same)).code).toBe(EXIT.OK);
    } finally {
      await v1.close();
    }
    const v2 = await serve(CalcV2Service);
    try {
      const gate = io();
      expect((await run(["--check", "--introspect", `127.0.0.1:${v2.port}`, "-o", out], gate)).code).toBe(EXIT.STALE);
      expect(gate.err).toMatch(/mul/);
      expect(gate.err).toMatch(/version/);
    } finally {
      await v2.close();
    }
  });

  it("refuses --introspect with sources or --watch, and a bad address or timeout", async () => {
    const withSources = io();
    expect((await run(["examples/seed-service.ts", "--introspect", "127.0.0.1:18861", "-o", scratchPath("x")], withSources)).code).toBe(EXIT.USAGE);
    expect(withSources.err).toMatch(/cannot be combined with source files/);
    expect((await run(["--watch", "--introspect", "127.0.0.1:18861", "-o", scratchPath("x")], io())).code).toBe(EXIT.USAGE);
    expect((await run(["--introspect", "127.0.0.1", "-o", scratchPath("x")], io())).code).toBe(EXIT.USAGE);
    expect((await run(["--introspect", "127.0.0.1:1", "--timeout", "soon", "-o", scratchPath("x")], io())).code).toBe(EXIT.USAGE);
  });

  it("exits 4 when nothing listens at the address", async () => {
    const closed = await serve(CalcService);
    const port = closed.port;
    await closed.close();
    const refused = io();
    expect((await run(["--introspect", `127.0.0.1:${port}`, "--timeout", "3000", "-o", scratchPath("x")], refused)).code).toBe(EXIT.IO);
    expect(refused.err).toMatch(/CONNECTION_REFUSED|refused/i);
  });
});
