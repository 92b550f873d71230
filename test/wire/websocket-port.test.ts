// wsPort corks the socket under a `ws` WebSocket for the rest of the tick on its first send,
// so the frames one tick writes leave together (as SocketStream coalesces them over TCP).

import { describe, expect, it } from "vitest";
import type * as Ws from "ws";
import { wsPort } from "../../runtime/wire/websocket-stream.js";

describe("wsPort", () => {
  it("sends of one tick go out under one cork, uncorked once the tick's work is done", async () => {
    const log: string[] = [];
    const ws = { binaryType: "", send: (message: Uint8Array) => log.push(`send ${message.length}`) } as unknown as Ws.WebSocket;
    const socket = { cork: () => log.push("cork"), uncork: () => log.push("uncork") };
    const port = wsPort(ws, socket);
    port.send(new Uint8Array(1));
    port.send(new Uint8Array(2));
    port.send(new Uint8Array(3));
    expect(log).toEqual(["cork", "send 1", "send 2", "send 3"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(["cork", "send 1", "send 2", "send 3", "uncork"]);
    port.send(new Uint8Array(4));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.slice(5)).toEqual(["cork", "send 4", "uncork"]);
  });
});
