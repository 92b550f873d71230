// The browser example (examples/browser, `npm run demo:browser`) as a user sees it: two
// windows of headless chromium open the page, which reaches the Python library service
// through the gateway. One window searches and lends a book; the other is told by the
// server's callback. A screenshot of the second window is taken and what it shows checked.

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBrowserDemo, type BrowserDemo } from "../../examples/browser/demo.js";
import { browserRuntimeAlias, openPage, WITH_CHROMIUM, type OpenPage } from "../helpers/browser.js";
import { WITH_PYTHON } from "../helpers/python.js";

/** What examples/browser/page.ts exposes for tests as `window.demo`. */
interface DemoState {
  readonly ready: boolean;
  readonly shown: readonly string[];
  readonly news: readonly string[];
  readonly error: string;
}

const HANG_GUARD_MS = 90_000;

describe.runIf(WITH_CHROMIUM && WITH_PYTHON)("the browser example: the Python library in a page, through the gateway", () => {
  let demo: BrowserDemo;
  const shots = mkdtempSync(path.join(os.tmpdir(), "rpyc-example-"));

  beforeAll(async () => {
    demo = await startBrowserDemo({ alias: await browserRuntimeAlias() });
  }, 120_000);
  afterAll(async () => {
    await demo?.close();
    rmSync(shots, { recursive: true, force: true });
  });

  async function open(): Promise<OpenPage> {
    const site = { origin: new URL(demo.url).origin, requested: [] };
    const opened = await openPage({ url: demo.url, site, webSockets: [demo.gatewayUrl] });
    await opened.page.waitForFunction(() => (globalThis as { demo?: DemoState }).demo?.ready === true, undefined, { timeout: HANG_GUARD_MS });
    return opened;
  }
  const stateOf = (opened: OpenPage): Promise<DemoState> => opened.page.evaluate(() => (globalThis as unknown as { demo: DemoState }).demo);

  it("lists and searches, lends in one window, and the other is told at once; the screenshot shows it", async () => {
    const reader = await open();
    const lender = await open();
    expect((await stateOf(reader)).shown).toEqual(["Design Patterns", "Structure and Interpretation of Computer Programs"]);
    expect(await reader.page.textContent("#hours")).toBe("Open 9:00 to 18:00, 2 books");

    await lender.page.fill("#search", "design");
    await lender.page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.shown.length === 1, undefined, { timeout: HANG_GUARD_MS });
    expect((await stateOf(lender)).shown).toEqual(["Design Patterns"]);
    await lender.page.click("#books li button:text('Lend')");

    // The server calls every watching page back: the other window shows the loan.
    await reader.page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.news.length > 0, undefined, { timeout: HANG_GUARD_MS });
    expect((await stateOf(reader)).news).toEqual(["lent: Design Patterns"]);
    expect(await reader.page.textContent("#news")).toContain("lent: Design Patterns");

    const file = path.join(shots, "library.png");
    await reader.page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    // A blank page compresses to a few hundred bytes; this one has text in several colours.
    expect(png.length).toBeGreaterThan(10_000);
    const visible = await reader.page.innerText("body");
    for (const text of [
      "Library",
      "Open 9:00 to 18:00, 2 books",
      "Design Patterns (1994)",
      "Structure and Interpretation of Computer Programs (1985)",
      "News",
      "lent: Design Patterns",
    ])
      expect(visible).toContain(text);
    for (const opened of [reader, lender]) {
      expect(opened.strays()).toEqual([]);
      expect((await stateOf(opened)).error).toBe("");
    }
    // RPYC_KEEP_SCREENSHOT=/path/x.png keeps the picture, to look at it.
    if (process.env.RPYC_KEEP_SCREENSHOT) copyFileSync(file, process.env.RPYC_KEEP_SCREENSHOT);
  }, 120_000);
});
