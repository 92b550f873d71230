// RPyC from a real browser (Debian's chromium), straight to the server: a page written in
// TypeScript (pages/notes-page.ts), bundled by esbuild for the browser (so "rpyc-ts" is the
// browser build) and served from 127.0.0.1, calls NotesService on a ThreadedServer serving RPyC
// over WebSocket, through the generated stub's connectNotesWebSocket (brine: the browser build
// has no native codec). The page may load only from the test's site and open only the server's WebSocket; the server
// accepts only the site's Origin. What the page reports shows typed results decoded by the
// schema, the server calling a function the page passed, a remote exception with the
// server's traceback, and a member without exposed_ refused with AttributeError.

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThreadedServer } from "../../runtime/index.js";
import { NotesServiceDispatch } from "../../fixtures/websocket/expected/notes-service.dispatch.js";
import { NotesService } from "../../fixtures/websocket/notes-service.js";
import { browserRuntimeAlias, bundlePage, htmlPage, openPage, serveStatic, WITH_CHROMIUM, type StaticSite } from "../helpers/browser.js";
import type { NotesPageResults } from "./pages/notes-page.js";

const ENTRY = fileURLToPath(new URL("./pages/notes-page.ts", import.meta.url));
const PATH = "/rpyc";

describe.runIf(WITH_CHROMIUM)("a page in chromium calls an rpyc-ts server over WebSocket through the generated stub", () => {
  let site: StaticSite;
  let server: ThreadedServer;
  let wsUrl: string;

  beforeAll(async () => {
    const script = await bundlePage(ENTRY, await browserRuntimeAlias());
    site = await serveStatic({
      "/index.html": { type: "text/html; charset=utf-8", body: htmlPage("notes", "/notes-page.js") },
      "/notes-page.js": { type: "text/javascript; charset=utf-8", body: script },
    });
    server = new ThreadedServer(NotesService, {
      hostname: "127.0.0.1",
      port: 0,
      dispatch: NotesServiceDispatch,
      websocket: { path: PATH, origins: [site.origin] },
    });
    await server.start();
    wsUrl = `ws://127.0.0.1:${server.port}${PATH}`;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  describe("the page's results", () => {
    let results: NotesPageResults;
    beforeAll(async () => {
      const page = await openPage({ url: `${site.origin}/index.html?${new URLSearchParams({ ws: wsUrl })}`, site, webSockets: [wsUrl] });
      results = await page.results<NotesPageResults>();
      expect(results.failure, page.problems().join("\n")).toBeUndefined();
      expect(page.strays()).toEqual([]);
      expect(site.requested).toEqual(["/index.html", "/notes-page.js"]);
    }, 120_000);

    it("connects with connectNotesWebSocket, on brine", () => {
      expect(results.codec).toBe("brine");
      expect(results.serviceName).toBe("NOTES");
    });

    it("gets typed results, decoded by the stub's schema", () => {
      expect(results.sum).toBe(5);
      expect(results.note).toEqual({ id: 1, title: "buy milk", tags: ["home", "shop"], due: "2030-01-02T03:04:05.000Z", dueIsDate: true });
      expect(results.found).toEqual(["buy milk"]);
    });

    it("the server calls back a function the page passed", () => {
      expect(results.visits).toEqual([
        ["buy milk", 0],
        ["call back", 1],
      ]);
      expect(results.answers).toEqual(["BUY MILK", "CALL BACK"]);
    });

    it("the page catches the server's exception, with its traceback", () => {
      expect(results.divideByZero).toMatchObject({ name: "ZeroDivisionError", message: "division by zero", expectedClass: true, remote: true });
      expect(results.divideByZero.traceback).toContain("ZeroDivisionError: division by zero");
      expect(results.quarter).toBe(0.25);
    });

    it("a member without exposed_ is refused with AttributeError", () => {
      expect(results.refused).toMatchObject({ name: "AttributeError", expectedClass: true, remote: true });
      expect(results.refused.message).toContain("purge");
    });
  });
});
