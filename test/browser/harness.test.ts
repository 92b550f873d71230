// The browser harness itself (test/helpers/browser.ts), in Debian's chromium: a page bundled by
// esbuild and served from 127.0.0.1 reports its results; a request anywhere but its own site is
// blocked and fails the test, and so does a WebSocket the test did not allow; a page that
// throws fails at once instead of hanging until the guard.

import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { bundlePage, htmlPage, openPage, serveStatic, WITH_CHROMIUM, type StaticSite } from "../helpers/browser.js";
import type { HarnessResults } from "./pages/harness-page.js";

const ENTRY = fileURLToPath(new URL("./pages/harness-page.ts", import.meta.url));

describe.runIf(WITH_CHROMIUM)("the browser harness (chromium)", () => {
  let site: StaticSite;
  beforeAll(async () => {
    const script = await bundlePage(ENTRY);
    site = await serveStatic({
      "/index.html": { type: "text/html; charset=utf-8", body: htmlPage("harness", "/page.js") },
      "/page.js": { type: "text/javascript; charset=utf-8", body: script },
    });
  }, 120_000);

  it("a page served from 127.0.0.1 reports its results", async () => {
    const page = await openPage({ url: `${site.origin}/index.html?case=report`, site });
    const results = await page.results<HarnessResults>();
    expect(results.case).toBe("report");
    expect(results.userAgent).toContain("Chrome/");
    expect(page.strays()).toEqual([]);
    expect(site.requested).toContain("/page.js");
  }, 120_000);

  it("a request elsewhere is blocked, and fails the test", async () => {
    const page = await openPage({ url: `${site.origin}/index.html?case=fetch`, site });
    const failure = await page.results().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(String(failure)).toContain("the page tried to reach http://192.0.2.1/stray");
    expect(page.strays()).toEqual(["http://192.0.2.1/stray"]);
  }, 120_000);

  it("a WebSocket the test did not allow fails the test", async () => {
    const page = await openPage({ url: `${site.origin}/index.html?case=websocket`, site });
    const failure = await page.results().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(String(failure)).toContain("WebSocket ws://127.0.0.1:9/not-allowed");
  }, 120_000);

  it("a page that throws fails at once, with its error", async () => {
    const page = await openPage({ url: `${site.origin}/index.html?case=throw`, site });
    const failure = await page.results().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(String(failure)).toContain("the page failed on purpose");
  }, 120_000);
});
