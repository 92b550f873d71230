// TypeScript servers and clients for tests, bound to 127.0.0.1 on a free port and closed
// when the test file ends (or earlier, by the test).

import { afterAll } from "vitest";
import { connect, ThreadedServer, type ConnectOptions, type Connection, type ServerOptions, type ServiceSpec } from "../../runtime/index.js";

const open = new Set<{ close(): Promise<void> }>();
afterAll(async () => {
  await Promise.all([...open].map((item) => item.close()));
  open.clear();
});

/** Starts a ThreadedServer on 127.0.0.1:0 that is closed after the file's tests. */
export async function serve(service: ServiceSpec, options: ServerOptions = {}): Promise<ThreadedServer> {
  const server = new ThreadedServer(service, { hostname: "127.0.0.1", port: 0, ...options });
  open.add(server);
  await server.start();
  return server;
}

/** Connects to a local server; the connection is closed after the file's tests. */
export async function connectTo<T = unknown>(port: number, options: ConnectOptions = {}): Promise<Connection<T>> {
  const conn = await connect<T>("127.0.0.1", port, options);
  open.add(conn);
  return conn;
}

/** Resolves after the event loop has had `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds (at most `timeoutMs`); for effects that travel the network. */
export async function eventually(condition: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
