// A real browser for the tests: Debian's chromium (/usr/bin/chromium) driven by playwright-core
// (which never downloads a browser of its own), headless, with a fresh profile in a temporary
// directory. A page is a TypeScript entry bundled by esbuild for the browser and served, with
// an HTML page around it, by a static file server on 127.0.0.1 port 0. The page may load only
// from that server: every other request is blocked and recorded, and so is a WebSocket to any
// address but those the test allows; `strays()` lists them and `results()` fails on them. The
// page reports by setting `window.results`; results() waits for it (no sleeps: a long timeout
// only guards against a hang) and fails at once on an uncaught error in the page. Everything
// opened here (browser, servers, temporary directories) is closed when the test file ends.

import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll } from "vitest";
import { buildPackage, PACKAGES } from "../../scripts/build-packages.js";

export const CHROMIUM = "/usr/bin/chromium";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** CI sets CI=true: there a missing chromium fails the tests that need it instead of skipping them. */
const IN_CI = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";

/**
 * Whether the tests that need chromium run: always in CI (.ci/run installs it; missing, they
 * fail through requireChromium), elsewhere when it is installed; never in the fast tier
 * (`npm run test:fast` sets RPYC_TESTS=fast), like the Python peers. Files wrap them in
 * `describe.runIf(WITH_CHROMIUM)`.
 */
export const WITH_CHROMIUM = process.env.RPYC_TESTS !== "fast" && (IN_CI || existsSync(CHROMIUM));

/** Fails with a clear instruction when chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser tests need Debian's chromium at ${CHROMIUM}: run 'apt-get install -y chromium' (bash .ci/run does it)`);
  }
}

/**
 * How long a page may take to report before the test gives up: only a guard against a hang
 * (a page that never reports), far above what a loaded machine needs (a page reports in about
 * a second here). Tests that wait for a page allow 120 s, so this guard's message is the one seen.
 */
export const PAGE_HANG_GUARD_MS = 90_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Bundles a TypeScript page entry for the browser (ESM, one file, inline source map), as a web
 * application would: platform "browser", so package exports resolve under the "browser"
 * condition, and without the repository's tsconfig paths (which map "rpyc-ts" to the Node
 * sources). `alias` maps module specifiers to files (see browserRuntimeAlias).
 */
export async function bundlePage(entry: string, alias: Readonly<Record<string, string>> = {}): Promise<string> {
  const aliases: Plugin = {
    name: "aliases",
    setup(builder) {
      for (const [specifier, file] of Object.entries(alias)) {
        const exact = new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
        builder.onResolve({ filter: exact }, () => ({ path: file }));
      }
    },
  };
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: REPO,
    bundle: true,
    write: false,
    platform: "browser",
    conditions: ["browser"],
    format: "esm",
    target: "es2022",
    sourcemap: "inline",
    logLevel: "silent",
    plugins: [aliases],
    tsconfigRaw: {}, // no tsconfig.json: its paths would resolve "rpyc-ts" to runtime/index.ts
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild wrote nothing for ${entry}`);
  return output.text;
}

/** The newest modification time of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(child) : statSync(child).mtimeMs);
  }
  return newest;
}

/**
 * The aliases a page's bundle needs so that "rpyc-ts" is the runtime's browser build under
 * test. Normally none: the bundle resolves "rpyc-ts" as a web app's bundler does, through the
 * package's exports under the "browser" condition, to packages/rpyc-ts/dist/browser.js (which
 * `npm ci` builds). When that file is older than runtime/ (an edit since), the package is built
 * again into a scratch folder (as test/helpers/packages.ts does) and "rpyc-ts" aliased to its
 * browser.js, so a page never runs stale code.
 */
export async function browserRuntimeAlias(): Promise<Record<string, string>> {
  const built = path.join(REPO, "packages", "rpyc-ts", "dist", "browser.js");
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(path.join(REPO, PACKAGES["rpyc-ts"]))) return {};
  const scratch = await mkdtemp(path.join(os.tmpdir(), "rpyc-browser-build-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  buildPackage("rpyc-ts", scratch);
  return { "rpyc-ts": path.join(scratch, "browser.js") };
}

/** A static file: its body and Content-Type. */
export interface StaticFile {
  readonly type: string;
  readonly body: string | Uint8Array;
}

export interface StaticSite {
  /** "http://127.0.0.1:<port>" */
  readonly origin: string;
  /** Paths requested so far (a page may load only what the site serves). */
  readonly requested: readonly string[];
}

/** Serves `files` (by path: "/index.html") on 127.0.0.1, port 0; anything else is a 404. Closed when the test file ends. */
export async function serveStatic(files: Readonly<Record<string, StaticFile>>): Promise<StaticSite> {
  const requested: string[] = [];
  const server: Server = createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    requested.push(pathname);
    const file = files[pathname];
    if (request.method !== "GET" || file === undefined) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    response.writeHead(200, { "Content-Type": file.type, "Cache-Control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requested };
}

/** An HTML page that loads one module script (and asks for no favicon). */
export function htmlPage(title: string, script: string): string {
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,"></head>
<body><pre id="status">running</pre><script type="module" src="${script}"></script></body>
</html>
`;
}

let browser: Promise<BrowserContext> | undefined;

/** The file's chromium (launched on first use, headless, a fresh profile), closed when the test file ends. */
function launch(): Promise<BrowserContext> {
  browser ??= (async () => {
    requireChromium();
    const profile = await mkdtemp(path.join(os.tmpdir(), "rpyc-chromium-"));
    cleanups.push(() => rm(profile, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox", // as root (CI): chromium refuses to start sandboxed
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        // No traffic of its own: updates, sync, field trials.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    cleanups.push(() => context.close());
    return context;
  })();
  return browser;
}

export interface OpenPage {
  readonly page: Page;
  /** Requests and WebSockets that were refused (anything but the site and the allowed WebSocket URLs). */
  strays(): readonly string[];
  /** Errors the page threw and messages it logged as errors (for failure messages). */
  problems(): readonly string[];
  /** Waits until the page sets `window.results`, then returns it; fails on a stray request or an uncaught page error. */
  results<T>(): Promise<T>;
}

export interface OpenOptions {
  /** The page's address: it must be on `site`. */
  readonly url: string;
  readonly site: StaticSite;
  /** WebSocket URLs (origin and path, no query) the page may open. */
  readonly webSockets?: readonly string[];
}

/** Opens `url` in a new page of the file's chromium. */
export async function openPage({ url, site, webSockets = [] }: OpenOptions): Promise<OpenPage> {
  const context = await launch();
  const page = await context.newPage();
  cleanups.push(() => page.close());
  const strays: string[] = [];
  const problems: string[] = [];
  let failed: (err: Error) => void = () => {};
  const failure = new Promise<never>((_resolve, reject) => {
    failed = reject;
  });
  failure.catch(() => {}); // observed by results(); unobserved until then
  const stray = (what: string): void => {
    strays.push(what);
    failed(new Error(`the page tried to reach ${what}; it may load only from ${site.origin}`));
  };
  // Every HTTP request goes through here: only the site's own are let through.
  await page.route("**/*", async (route) => {
    const requestUrl = route.request().url();
    if (new URL(requestUrl).origin === site.origin) await route.continue();
    else {
      stray(requestUrl);
      await route.abort("blockedbyclient");
    }
  });
  // WebSockets are not routed (that would proxy them); one to an address not allowed fails the test.
  page.on("websocket", (ws) => {
    const target = new URL(ws.url());
    if (!webSockets.includes(`${target.origin}${target.pathname}`)) stray(`WebSocket ${ws.url()}`);
  });
  page.on("pageerror", (err) => {
    problems.push(`uncaught: ${err.stack ?? err.message}`);
    failed(new Error(`the page threw: ${err.stack ?? err.message}`));
  });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console.error: ${message.text()}`);
  });
  if (new URL(url).origin !== site.origin) throw new Error(`${url} is not on the test's site ${site.origin}`);
  await page.goto(url);
  return {
    page,
    strays: () => strays,
    problems: () => problems,
    async results<T>(): Promise<T> {
      const reported = page.waitForFunction(() => (globalThis as { results?: unknown }).results !== undefined, undefined, { timeout: PAGE_HANG_GUARD_MS });
      try {
        await Promise.race([reported, failure]);
      } catch (err) {
        const logged = problems.length > 0 ? `\npage problems:\n${problems.join("\n")}` : "";
        throw new Error(`${(err as Error).message}${logged}`, { cause: err });
      }
      if (strays.length > 0) throw new Error(`the page tried to reach ${strays.join(", ")}`);
      return (await page.evaluate(() => (globalThis as { results?: unknown }).results)) as T;
    },
  };
}
