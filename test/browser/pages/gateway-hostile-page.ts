// The hostile page of test/browser/gateway.test.ts: the attacks of test/gateway/hostile-page.ts,
// from chromium, with the browser's own WebSocket, on the gateway's URL (?ws=).

import { attackGateway } from "../../gateway/hostile-page.js";
import { param, report } from "./page-globals.js";

attackGateway((globalThis as unknown as { WebSocket: Parameters<typeof attackGateway>[0] }).WebSocket, param("ws")).then(
  (results) => report(results),
  (err: unknown) => report({ failure: String((err as Error).stack ?? err) }),
);
