// Pages in chromium through the gateway to Python RPyC (examples/python/library_service.py,
// run with --record so that every request it receives is listed): one page uses the stub
// rpyc-gen compiled from the Python source, as intended; a hostile page speaks RPyC's frames
// by hand (test/gateway/hostile-page.ts: forged handlers and ids, undeclared names, wrong
// types, a flood of references, oversize frames). The gateway refuses every attack, keeps
// serving the good page, and the Python server never sees a request the model does not allow.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Gateway } from "../../runtime/gateway/index.js";
import { ALLOWED_UPSTREAM, EXPECTED_OUTCOMES, seenUpstream } from "../gateway/hostile-page.js";
import { browserRuntimeAlias, bundlePage, htmlPage, openPage, serveStatic, WITH_CHROMIUM, type StaticSite } from "../helpers/browser.js";
import { startPython, WITH_PYTHON, type PythonProcess } from "../helpers/python.js";
import type { GatewayLibraryResults } from "./pages/gateway-library-page.js";

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const LIBRARY = here("../../examples/python/library_service.py");
const MODEL: unknown = JSON.parse(readFileSync(here("../../examples/python/generated/model.json"), "utf8"));
/** The hostile page bundles the wire modules from source: their platform is the browser's. */
const BROWSER_PLATFORM = { "../platform/node.js": path.join(here("../../runtime/platform"), "browser.ts") };

describe.runIf(WITH_CHROMIUM && WITH_PYTHON)("pages in chromium through the gateway to Python RPyC", () => {
  let python: PythonProcess;
  let gateway: Gateway;
  let site: StaticSite;

  beforeAll(async () => {
    const [library, hostile] = await Promise.all([
      bundlePage(here("./pages/gateway-library-page.ts"), await browserRuntimeAlias()),
      bundlePage(here("./pages/gateway-hostile-page.ts"), BROWSER_PLATFORM),
    ]);
    site = await serveStatic({
      "/library.html": { type: "text/html; charset=utf-8", body: htmlPage("library", "/library.js") },
      "/library.js": { type: "text/javascript; charset=utf-8", body: library },
      "/hostile.html": { type: "text/html; charset=utf-8", body: htmlPage("hostile", "/hostile.js") },
      "/hostile.js": { type: "text/javascript; charset=utf-8", body: hostile },
    });
    python = await startPython("serve_service_file.py", [LIBRARY, "LibraryService", "--public-attrs", "--record"]);
    gateway = await new Gateway({ hostname: "127.0.0.1", upstream: { host: "127.0.0.1", port: python.port }, model: MODEL, origins: [site.origin] }).start();
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    await python?.stop();
  });

  const visit = async <T>(name: string): Promise<T> => {
    const opened = await openPage({ url: `${site.origin}/${name}.html?${new URLSearchParams({ ws: gateway.url })}`, site, webSockets: [gateway.url] });
    const results = await opened.results<T & { failure?: string }>();
    expect(results.failure, opened.problems().join("\n")).toBeUndefined();
    return results;
  };

  it("the page's stub, compiled from the Python source: typed calls, a callback, Python's traceback, a refused member", async () => {
    const results = await visit<GatewayLibraryResults>("library");
    expect(results.count).toBe(2);
    expect(results.titles).toEqual(["Design Patterns", "Structure and Interpretation of Computer Programs"]);
    expect(results.found).toEqual({ title: "Structure and Interpretation of Computer Programs", year: 1985 });
    expect(results.lent).toBe(true);
    expect(results.calledBack).toEqual(["Structure and Interpretation of Computer Programs", 14]);
    expect(results.indexError?.name).toBe("IndexError");
    expect(results.indexError?.remote).toBe(true);
    expect(results.indexError?.traceback).toMatch(/Traceback \(most recent call last\)[\s\S]*IndexError: list index out of range/);
    expect(results.refused).toMatch(/^AttributeError: cannot access '_audit'/);
  }, 120_000);

  it("a hostile page: every attack refused or its connection closed, the good page still served, Python sees only what the model allows", async () => {
    const results = await visit<Record<string, string>>("hostile");
    for (const [attack, expected] of Object.entries(EXPECTED_OUTCOMES)) expect(results[attack], attack).toMatch(expected);
    expect(Object.keys(results).sort()).toEqual(Object.keys(EXPECTED_OUTCOMES).sort());
    expect((await visit<GatewayLibraryResults>("library")).count).toBe(2);
    const seen = seenUpstream(python.output());
    expect(seen.filter((request) => !ALLOWED_UPSTREAM.test(request))).toEqual([]);
    expect(seen).toContain("callattr lend");
  }, 120_000);
});
