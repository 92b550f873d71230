// The browser example, started by one command (`npm run demo:browser`): the Python library
// service of examples/python (Python RPyC 5.3), the gateway in front of it with the service's
// model (examples/python/generated/model.json, written by rpyc-gen --emit-model), and a page
// (examples/browser/page.ts, bundled by esbuild as a web application would) served on
// 127.0.0.1. It prints the page's URL; open it in two windows, lend a book in one and watch
// the news arrive in the other. Ctrl-C stops all three.
//
//   npm run demo:browser            then open the URL it prints
//   npx tsx examples/browser/demo.ts --once   starts, prints the URL, stops (a smoke check)

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { Gateway } from "rpyc-ts/gateway";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export interface BrowserDemo {
  /** The page: "http://127.0.0.1:<port>/" */
  readonly url: string;
  /** Where the page connects: the gateway, "ws://127.0.0.1:<port>/rpyc" */
  readonly gatewayUrl: string;
  /** Stops the page's server, the gateway and the Python service. */
  close(): Promise<void>;
}

export interface BrowserDemoOptions {
  /** Module specifiers to resolve to files when bundling the page (the suite maps "rpyc-ts" to its sources). */
  readonly alias?: Readonly<Record<string, string>>;
}

/** Starts library_service.py on 127.0.0.1, a free port. */
async function startLibrary(): Promise<{ port: number; stop: () => void }> {
  const python = spawn("/usr/bin/python3", [here("../python/library_service.py"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: python.stdout });
  const timer = setTimeout(() => python.kill(), 30_000);
  try {
    for await (const line of lines) {
      const match = /^PORT (\d+)$/.exec(line);
      if (match) return { port: Number(match[1]), stop: () => python.kill() };
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error("library_service.py exited without listening (is python3-rpyc installed? apt-get install -y python3-rpyc)");
}

/** Bundles the page for the browser: "rpyc-ts" resolves to its browser build (the "browser" export condition). */
async function bundlePage(alias: Readonly<Record<string, string>>): Promise<string> {
  const aliases: Plugin = {
    name: "aliases",
    setup(builder) {
      for (const [specifier, file] of Object.entries(alias))
        builder.onResolve({ filter: new RegExp(`^${specifier.replace(/[/.-]/g, "\\$&")}$`) }, () => ({ path: file }));
    },
  };
  const result = await build({
    entryPoints: [here("page.ts")],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    logLevel: "silent",
    plugins: [aliases],
    tsconfigRaw: {}, // as a web application resolves it: the repository's tsconfig maps "rpyc-ts" to the Node sources
  });
  return result.outputFiles[0]!.text;
}

export async function startBrowserDemo(options: BrowserDemoOptions = {}): Promise<BrowserDemo> {
  const script = await bundlePage(options.alias ?? {});
  const library = await startLibrary();
  let page = "";
  const site = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    if (request.method === "GET" && path === "/") response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page);
    else if (request.method === "GET" && path === "/page.js") response.writeHead(200, { "Content-Type": "text/javascript" }).end(script);
    else response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // Only this page's origin may connect: another site's page in the same browser may not.
  const gateway = await new Gateway({
    hostname: "127.0.0.1",
    upstream: { host: "127.0.0.1", port: library.port },
    model: JSON.parse(readFileSync(here("../python/generated/model.json"), "utf8")),
    origins: [origin],
  }).start();
  page = readFileSync(here("index.html"), "utf8").replace("{{GATEWAY_URL}}", gateway.url);
  return {
    url: `${origin}/`,
    gatewayUrl: gateway.url,
    async close() {
      site.closeAllConnections();
      await new Promise<void>((resolve) => site.close(() => resolve()));
      await gateway.close();
      library.stop();
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const demo = await startBrowserDemo();
  console.log(`The library, in the browser: open ${demo.url}`);
  console.log(`(the page connects to the gateway at ${demo.gatewayUrl}, which forwards to Python RPyC; Ctrl-C stops)`);
  const stop = (): void => void demo.close().then(() => process.exit(0));
  if (process.argv.includes("--once")) stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
