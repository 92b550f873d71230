// The browser build of rpyc-ts (dist/browser.js, the "browser" condition of its exports) as a
// web app's bundler meets it: a small client program (connectWebSocket, a call, a callback, a
// netref, a caught remote exception, a large compressed reply) is bundled by esbuild for the
// browser against the built package, minified. The bundle must hold no Node built-in and no
// Buffer, and stay within 40 KB gzipped. Then it runs in a plain Node process (no test runner
// loaders; `ws`'s WHATWG-style WebSocket stands in for the browser's where Node has none)
// against a ThreadedServer with `websocket`: what a browser does, end to end.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Service, ThreadedServer, ValueError } from "../../runtime/index.js";
import { buildPackage } from "../../scripts/build-packages.js";
import { runNode } from "../helpers/offline-npm.js";
import { REPO } from "../helpers/packages.js";

/** The budget of the program's bundle, minified and gzipped. */
const MAX_GZIPPED_BYTES = 40 * 1024;

/** Characters of the large reply: far above RPyC's compression threshold (3000 bytes), and compressible. */
const BIG = 200_000;

/** What a web page does with rpyc-ts. */
const CLIENT_PROGRAM = `import { connect, connectWebSocket, isConnectError, isNetref, isRemoteException, release } from "rpyc-ts";

export async function run(url) {
  const refused = await connect("127.0.0.1", 18861).then(() => "connected", (err) => ({ connectError: isConnectError(err), name: err.name, message: err.message }));
  const conn = await connectWebSocket(url);
  try {
    const sum = await conn.root.add(2, 3);
    const callback = await conn.root.call_back((x) => x + 1);
    const counter = await conn.root.counter();
    await counter.increment(5);
    const count = await counter.count;
    const netref = isNetref(counter);
    await release(counter);
    const failure = await conn.root.fail("boom").then(
      () => "no error",
      (err) => ({ remote: isRemoteException(err), name: err.name, message: err.message, traceback: typeof err.remoteTraceback === "string" }),
    );
    let before = conn.stats();
    const big = await conn.root.big(${BIG});
    const bigBytesIn = conn.stats().bytesIn - before.bytesIn;
    before = conn.stats();
    const echoed = await conn.root.echo(big);
    const echoBytesOut = conn.stats().bytesOut - before.bytesOut;
    return { refused, sum, callback, count, netref, failure, big: big.length, bigBytesIn, echoed: echoed === big, echoBytesOut };
  } finally {
    await conn.close();
  }
}
`;

class Counter {
  exposed_count = 0;
  exposed_increment(by: number): number {
    this.exposed_count += by;
    return this.exposed_count;
  }
}

class BrowserDemoService extends Service {
  exposed_add(a: number, b: number): number {
    return a + b;
  }
  async exposed_call_back(fn: (x: number) => Promise<number>): Promise<number> {
    return fn(1);
  }
  exposed_counter(): Counter {
    return new Counter();
  }
  exposed_fail(message: string): never {
    throw new ValueError(message);
  }
  exposed_big(n: number): string {
    return "rpyc ".repeat(Math.ceil(n / 5)).slice(0, n);
  }
  exposed_echo(value: unknown): unknown {
    return value;
  }
}

/** Node's built-in modules, as a bundle could import them: "fs", "node:fs", "fs/promises", ... */
const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const isBuiltin = (specifier: string): boolean => specifier.startsWith("node:") || BUILTINS.has(specifier) || BUILTINS.has(specifier.split("/")[0]!);

let scratch: string;
let bundle: { code: string; metafile: Metafile };

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), "rpyc-browser-"));
  // The package as installed: its manifest (exports, with "browser") and a fresh dist/.
  const pkg = path.join(scratch, "node_modules", "rpyc-ts");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, "package.json"), JSON.stringify(createRequire(import.meta.url)("../../packages/rpyc-ts/package.json")));
  buildPackage("rpyc-ts", path.join(pkg, "dist"));
  const app = path.join(scratch, "app");
  mkdirSync(app);
  writeFileSync(path.join(app, "client.js"), CLIENT_PROGRAM);
  const result = await build({
    entryPoints: [path.join(app, "client.js")],
    absWorkingDir: scratch,
    bundle: true,
    platform: "browser",
    format: "esm",
    minify: true,
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  bundle = { code: result.outputFiles[0]!.text, metafile: result.metafile };
}, 180_000); // a cold tsc of the runtime and the bundle

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the browser build, bundled by esbuild for the browser", () => {
  it('resolves "rpyc-ts" to the one-file browser build, which imports nothing', () => {
    expect(Object.keys(bundle.metafile.inputs).sort()).toEqual(["app/client.js", "node_modules/rpyc-ts/dist/browser.js"]);
    expect(bundle.metafile.inputs["node_modules/rpyc-ts/dist/browser.js"]!.imports).toEqual([]);
  });

  it("imports no Node built-in and uses no Buffer, process or setImmediate", () => {
    const imports = Object.values(bundle.metafile.inputs).flatMap((input) => input.imports);
    expect(imports.filter((i) => i.external || isBuiltin(i.path))).toEqual([]);
    expect(bundle.code).not.toMatch(/\bBuffer\b/);
    expect(bundle.code).not.toMatch(/\bprocess\.|\bsetImmediate\b|\brequire\(/);
  });

  it(`is at most ${MAX_GZIPPED_BYTES / 1024} KB minified and gzipped`, () => {
    const gzipped = gzipSync(bundle.code).length;
    console.log(`browser bundle of a small client: ${(bundle.code.length / 1024).toFixed(1)} KB minified, ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeLessThanOrEqual(MAX_GZIPPED_BYTES);
  });

  it("runs against a ThreadedServer over WebSocket: calls, a callback, a netref, a remote exception, compressed replies", async () => {
    const app = path.join(scratch, "app");
    writeFileSync(path.join(app, "bundle.mjs"), bundle.code);
    // Node 20 has no WebSocket: ws's WHATWG-style class stands in (binaryType "arraybuffer", events).
    const ws = pathToFileURL(createRequire(path.join(REPO, "package.json")).resolve("ws")).href;
    writeFileSync(
      path.join(app, "main.mjs"),
      `import ws from ${JSON.stringify(ws)};
globalThis.WebSocket ??= ws.WebSocket;
const { run } = await import("./bundle.mjs");
console.log(JSON.stringify(await run(process.argv[2])));
`,
    );
    const server = new ThreadedServer(BrowserDemoService, { hostname: "127.0.0.1", port: 0, websocket: { path: "/rpyc" } });
    await server.start();
    try {
      const ran = await runNode(["main.mjs", `ws://127.0.0.1:${server.port}/rpyc`], { cwd: app });
      expect(ran.code, ran.stderr).toBe(0);
      const result = JSON.parse(ran.stdout) as Record<string, unknown>;
      expect(result).toMatchObject({
        refused: {
          connectError: true,
          name: "ConnectError",
          message: expect.stringContaining("connect() uses TCP, which browsers do not have: use connectWebSocket(url)"),
        },
        sum: 5,
        callback: 2,
        count: 5,
        netref: true,
        failure: { remote: true, name: "ValueError", message: expect.stringContaining("boom"), traceback: true },
        big: BIG,
        echoed: true,
      });
      // The server compressed the large reply (RPyC's rule), and the browser build inflated it.
      expect(result["bigBytesIn"]).toBeLessThan(BIG / 10);
      // The browser build sends uncompressed: the echo went out at full size.
      expect(result["echoBytesOut"]).toBeGreaterThan(BIG);
    } finally {
      await server.close();
    }
  }, 60_000);
});
