// Without the optional peer `ws`: a WebSocket server's start() and connectWebSocket (where
// the platform has no WebSocket) fail saying what to install; nothing was bound.

import { describe, expect, it, vi } from "vitest";
import { connectWebSocket, Service, ThreadedServer } from "../../runtime/index.js";

vi.mock("ws", () => {
  throw new Error("Cannot find package 'ws'");
});

describe("without the ws package", () => {
  it("start() and connectWebSocket reject with 'npm install ws'", async () => {
    const server = new ThreadedServer(Service, { hostname: "127.0.0.1", port: 0, websocket: { path: "/rpyc" } });
    await expect(server.start()).rejects.toThrow("needs the ws package (npm install ws)");
    expect(server.port).toBe(0);
    await server.close();
    await expect(connectWebSocket("ws://127.0.0.1:9/rpyc")).rejects.toThrow("needs the ws package (npm install ws)");
  });
});
