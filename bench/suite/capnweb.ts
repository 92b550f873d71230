// The Cap'n Web row of the benchmark suite: a capnweb RpcSession over a WebSocket (the `ws`
// package on both ends, 127.0.0.1), Node <-> Node. capnweb's own newWebSocketRpcSession
// needs a global WebSocket, which Node 20 lacks, so the session runs on WsTransport below:
// capnweb's RpcTransport (string messages) over a `ws` socket, doing what capnweb's
// WebSocketTransport does. Messages are capnweb's JSON; bytes travel base64-encoded in it.

import { createServer } from "node:http";
import { RpcSession, RpcTarget, type RpcStub, type RpcTransport } from "capnweb";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { listenLocal } from "../harness.js";
import type { PeerConnection } from "./events.js";

/** The suite's four calls as a capnweb RpcTarget. */
class BenchApi extends RpcTarget {
  ping(): number {
    return 1;
  }
  echo(data: Uint8Array): Uint8Array {
    return data;
  }
  add(a: number, b: number): number {
    return a + b;
  }
  async callBack(fn: RpcStub<(x: number) => number>): Promise<number> {
    return await fn(1);
  }
}

/** capnweb's RpcTransport over one `ws` socket (text frames, one message each). */
function wsTransport(ws: WebSocket): RpcTransport {
  const queue: string[] = [];
  let waiting: { resolve(message: string): void; reject(error: Error): void } | null = null;
  let failure: Error | null = null;
  const fail = (error: Error): void => {
    failure ??= error;
    waiting?.reject(error);
    waiting = null;
  };
  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (isBinary) return fail(new Error("capnweb: binary WebSocket message"));
    const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as ArrayBuffer).toString();
    if (waiting) waiting.resolve(text);
    else queue.push(text);
    waiting = null;
  });
  ws.on("close", () => fail(new Error("WebSocket closed")));
  ws.on("error", (err) => fail(err));
  return {
    send: (message) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(message);
    },
    receive: () => {
      const next = queue.shift();
      if (next !== undefined) return Promise.resolve(next);
      return failure ? Promise.reject(failure) : new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    abort: () => ws.close(),
  };
}

export async function startCapnwebServer(): Promise<{ port: number; close(): Promise<void> }> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (ws) => new RpcSession(wsTransport(ws), new BenchApi()));
  const listening = await listenLocal(http);
  const close = (): Promise<void> => {
    for (const ws of wss.clients) ws.terminate();
    return new Promise((resolve) => wss.close(() => resolve(listening.close())));
  };
  return { port: listening.port, close };
}

export async function openCapnweb(port: number): Promise<PeerConnection> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const api = new RpcSession<BenchApi>(wsTransport(ws)).getRemoteMain();
  const close = (): Promise<void> => {
    api[Symbol.dispose]();
    return new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once("close", () => resolve());
      ws.close();
    });
  };
  const plusOne = (x: number): number => x + 1;
  return {
    ping: async () => await api.ping(),
    echo: async (data) => await api.echo(data),
    callBack: async () => await api.callBack(plusOne),
    codec: null,
    wire: () => null,
    close,
  };
}
