// A hostile client against the gateway, from Node (the same attacks run from a page in
// Chromium in test/browser/gateway.test.ts): every attack is refused or its connection
// closed, the gateway keeps serving everyone else, and the Python server behind it never
// sees a request the model does not allow (its --record log says what it saw).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Gateway } from "../../runtime/gateway/index.js";
import { connectLibraryWebSocket } from "../../examples/python/generated/library-service.client.js";
import { startPython, WITH_PYTHON, type PythonProcess } from "../helpers/python.js";
import { ALLOWED_UPSTREAM, attackGateway, EXPECTED_OUTCOMES, seenUpstream } from "./hostile-page.js";

const LIBRARY = fileURLToPath(new URL("../../examples/python/library_service.py", import.meta.url));
const MODEL: unknown = JSON.parse(readFileSync(new URL("../../examples/python/generated/model.json", import.meta.url), "utf8"));

describe.runIf(WITH_PYTHON)("a hostile client against the gateway (Node)", () => {
  let python: PythonProcess;
  let gateway: Gateway;
  beforeAll(async () => {
    python = await startPython("serve_service_file.py", [LIBRARY, "LibraryService", "--public-attrs", "--record"]);
    gateway = await new Gateway({ hostname: "127.0.0.1", upstream: { host: "127.0.0.1", port: python.port }, model: MODEL }).start();
  });
  afterAll(async () => {
    await gateway?.close();
    await python?.stop();
  });

  it("every attack is refused or closed, others keep being served, and the server sees only what the model allows", async () => {
    const results = await attackGateway(WebSocket as never, gateway.url);
    for (const [attack, expected] of Object.entries(EXPECTED_OUTCOMES)) expect(results[attack], attack).toMatch(expected);
    expect(Object.keys(results).sort()).toEqual(Object.keys(EXPECTED_OUTCOMES).sort());
    const conn = await connectLibraryWebSocket(gateway.url);
    try {
      expect(await conn.root.count()).toBe(2);
    } finally {
      await conn.close();
    }
    const seen = seenUpstream(python.output());
    expect(seen.filter((request) => !ALLOWED_UPSTREAM.test(request))).toEqual([]);
    expect(seen).toContain("callattr count");
  });
});
