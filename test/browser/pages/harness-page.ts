// The page of test/browser/harness.test.ts: what it does depends on ?case=. "report" reports at
// once; "fetch" first tries to fetch from another address (the harness blocks it); "websocket"
// first opens a WebSocket the test did not allow and waits for it to close; "throw" throws
// before reporting.

import { param, report } from "./page-globals.js";

export interface HarnessResults {
  readonly case: string;
  readonly userAgent: string;
  /** "fetch": how the blocked fetch failed. */
  readonly fetchError?: string;
}

const which = param("case");
const userAgent = (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent;
if (which === "throw") throw new Error("the page failed on purpose");
if (which === "fetch") {
  // 192.0.2.1 is TEST-NET-1: never reached, the harness blocks the request first.
  const fetchError = await fetch("http://192.0.2.1/stray").then(
    () => "fetched",
    (err: unknown) => String(err),
  );
  report<HarnessResults>({ case: which, userAgent, fetchError });
} else if (which === "websocket") {
  // Port 9 (discard) on loopback: refused, or closed at once; either way it closes.
  const ws = new WebSocket("ws://127.0.0.1:9/not-allowed");
  await new Promise((resolve) => ws.addEventListener("close", resolve));
  report<HarnessResults>({ case: which, userAgent });
} else {
  report<HarnessResults>({ case: which, userAgent });
}
