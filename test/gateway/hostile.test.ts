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
import { attackGateway } from "./hostile-page.js";

const LIBRARY = fileURLToPath(new URL("../../examples/python/library_service.py", import.meta.url));
const MODEL: unknown = JSON.parse(readFileSync(new URL("../../examples/python/generated/model.json", import.meta.url), "utf8"));

/** What a page may cause upstream: its session's root, the model's members, releasing references. */
export const ALLOWED_UPSTREAM =
  /^(getroot|inspect|del|close|callattr (count|find|search|titles|year_span|lend|give_back|watch|fingerprint|__getitem__|__len__|__contains__|__iter__)|getattr (opening_hours|isbn|title|year)|buffiter)$/;

/** The requests the Python server dispatched, as "handler name". */
export function seenUpstream(output: string): string[] {
  return [...output.matchAll(/^SEEN (.*)$/gm)].map((m) => {
    const request = JSON.parse(m[1]!) as { handler: string; name?: string; malformed?: string };
    if (request.malformed) return `malformed ${request.malformed}`;
    return request.name === undefined ? request.handler : `${request.handler} ${request.name}`;
  });
}

/** The outcome each attack must have: refused with the named error, or its connection closed. */
export const EXPECTED_OUTCOMES: Record<string, RegExp> = {
  ...Object.fromEntries(
    ["_audit", "_books", "__class__", "__dict__", "__init__", "_rpyc_getattr", "on_connect", "constructor", "__proto__", "prototype"].flatMap((name) => [
      [`getattr ${name}`, /^exception AttributeError: cannot access/],
      [`callattr ${name}`, /^exception AttributeError: cannot access/],
    ]),
  ),
  "setattr count": /^exception AttributeError/,
  "delattr count": /^exception AttributeError/,
  pickle: /^exception /,
  "find(42)": /^exception TypeError: find\(\) argument 'isbn': expected string, got number 42/,
  "search(tuple)": /^exception TypeError: search\(\) argument 'text': expected string/,
  "lend(on_due='x')": /^exception TypeError: lend\(\) argument 'on_due'/,
  "count(1)": /^exception TypeError: count\(\) takes 0 arguments, got 1/,
  "find(isbn=..., extra=...)": /^exception TypeError: find\(\) got an unexpected keyword argument 'extra'/,
  "find(page object)": /^exception TypeError: find\(\) argument 'isbn': expected string, got a netref/,
  "handler 99": /^exception |^closed$/,
  "forged id": /^exception |^closed$/,
  "a well-formed call still works": /^reply$/,
  "flood of references": /^exception LimitExceededError|^closed$/,
  "frame header of 100 MB": /^closed$/,
  "message of 2 MiB": /^closed$/,
  "text message": /^closed$/,
};

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
