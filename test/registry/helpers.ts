// Registry test helpers: registries on 127.0.0.1 closed when the file ends, raw UDP/TCP
// exchanges (send bytes, see what comes back) and a logger that keeps its lines.

import dgram from "node:dgram";
import { connect as netConnect, createServer, type Socket } from "node:net";
import { afterAll, vi } from "vitest";
import type { Logger, Registrar } from "../../runtime/index.js";
import { TCPRegistryClient, TCPRegistryServer, UDPRegistryClient, UDPRegistryServer, type RegistryServerOptions } from "../../runtime/registry/index.js";

export type Mode = "UDP" | "TCP";
export const MODES: readonly Mode[] = ["UDP", "TCP"];
export const HOST = "127.0.0.1";

const open = new Set<{ close(): Promise<void> }>();
afterAll(async () => {
  await Promise.all([...open].map((item) => item.close()));
  open.clear();
});

/** Closes `item` when the test file ends (if the test did not). */
export function track<T extends { close(): Promise<void> }>(item: T): T {
  open.add(item);
  return item;
}

/**
 * Fakes only performance.now, the registry's clock for pruning (timers and sockets stay real):
 * for the registry, time passes only by `advance(ms)`, so what is stale and what is fresh does
 * not depend on how fast the machine is. Install it before the registry records anything;
 * restore it when the test ends.
 */
export function fakeRegistryClock(): { advance(ms: number): void; restore(): void } {
  vi.useFakeTimers({ toFake: ["performance"] });
  return { advance: (ms) => void vi.advanceTimersByTime(ms), restore: () => void vi.useRealTimers() };
}

/** A started registry server of `mode` on 127.0.0.1, closed when the file ends. */
export async function startRegistry(
  mode: Mode,
  options: RegistryServerOptions & { idleTimeout?: number } = {},
): Promise<UDPRegistryServer | TCPRegistryServer> {
  const server = mode === "UDP" ? new UDPRegistryServer({ host: HOST, port: 0, ...options }) : new TCPRegistryServer({ host: HOST, port: 0, ...options });
  return track(await server.start());
}

/**
 * A registry client of `mode` for 127.0.0.1:port. The default timeout (5 s) bounds waits for
 * replies that must come, with room for a loaded machine (a loopback reply takes ~1 ms);
 * a test that expects no reply passes a short one, as it waits that long.
 */
export function registryClient(mode: Mode, port: number, timeout = 5): Registrar {
  return mode === "UDP" ? new UDPRegistryClient({ ip: HOST, port, timeout }) : new TCPRegistryClient({ ip: HOST, port, timeout });
}

/** A logger that records every line, for asserting that bad input was logged. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { lines, debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}

/** Sends one datagram from 127.0.0.1 and resolves with the first reply, or undefined after `waitMs`. */
export function udpExchange(port: number, data: Uint8Array, waitMs = 300, host = HOST): Promise<Buffer | undefined> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    const finish = (reply: Buffer | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), waitMs);
    socket.once("message", (msg) => finish(msg));
    socket.once("error", (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.bind({ address: host, port: 0 }, () => socket.send(data, port, host));
  });
}

export interface TcpOutcome {
  /** Everything the registry sent before closing (or before `waitMs`). */
  readonly reply: Buffer;
  /** True when the registry closed the connection within `waitMs`. */
  readonly closedByServer: boolean;
  /** Milliseconds from sending to the registry's close (or to giving up). */
  readonly elapsedMs: number;
}

/** Opens a connection to 127.0.0.1:port, writes `data`, and watches until the registry closes it or `waitMs` passes. */
export function tcpExchange(port: number, data: Uint8Array, waitMs = 1000): Promise<TcpOutcome> {
  const socket = netConnect({ host: HOST, port });
  const chunks: Buffer[] = [];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const finish = (closedByServer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks), closedByServer, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("end", () => finish(true));
    socket.once("close", () => finish(true));
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("connect", () => socket.write(data));
  });
}

/** A fake registry that records each request's bytes and answers with `reply(request)` (undefined: no reply). */
export async function fakeRegistry(
  mode: Mode,
  reply: (request: Buffer) => Uint8Array | undefined,
): Promise<{ port: number; requests: Buffer[]; close(): Promise<void> }> {
  const requests: Buffer[] = [];
  if (mode === "UDP") {
    const socket = dgram.createSocket("udp4");
    socket.on("message", (msg, rinfo) => {
      requests.push(msg);
      const answer = reply(msg);
      if (answer) socket.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind({ address: HOST, port: 0 }, () => resolve()));
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => (closed ??= new Promise<void>((resolve) => socket.close(() => resolve())));
    return track({ port: socket.address().port, requests, close });
  }
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (chunk: Buffer) => {
      requests.push(chunk);
      const answer = reply(chunk);
      if (answer) socket.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, () => resolve()));
  const address = server.address();
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }));
  return track({ port: typeof address === "object" && address ? address.port : 0, requests, close });
}
