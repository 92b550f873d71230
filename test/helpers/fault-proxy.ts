// A TCP forwarder between a client and a server on 127.0.0.1, for fault tests: it can stop
// forwarding while keeping both sockets open (a hung or half-open peer), close both sides
// (FIN, as when a process exits) or reset them (RST). Closed after the file's tests.

import net, { type Socket } from "node:net";
import { afterAll } from "vitest";

export interface ProxiedPair {
  /** The accepted socket (towards the client). */
  readonly client: Socket;
  /** Our connection to the server. */
  readonly upstream: Socket;
}

const proxies = new Set<FaultProxy>();
afterAll(async () => {
  await Promise.all([...proxies].map((proxy) => proxy.close()));
});

export class FaultProxy {
  readonly pairs: ProxiedPair[] = [];
  private frozen = false;

  private constructor(
    private readonly server: net.Server,
    private readonly targetPort: number,
  ) {
    server.on("connection", (client) => this.forward(client));
  }

  /** Listens on 127.0.0.1:0 and forwards every connection to 127.0.0.1:targetPort. */
  static async start(targetPort: number): Promise<FaultProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    const proxy = new FaultProxy(server, targetPort);
    proxies.add(proxy);
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private forward(client: Socket): void {
    const upstream = net.connect({ host: "127.0.0.1", port: this.targetPort });
    this.pairs.push({ client, upstream });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on("error", () => {});
      from.on("data", (chunk) => {
        if (!this.frozen) to.write(chunk);
      });
      // A side that goes away takes the other with it, unless frozen (then nothing passes).
      from.on("close", () => {
        if (!this.frozen) to.destroy();
      });
    }
  }

  /** Stops forwarding in both directions; every socket stays open (nothing is read any more). */
  freeze(): void {
    this.frozen = true;
    for (const { client, upstream } of this.pairs) {
      client.pause();
      upstream.pause();
    }
  }

  /** Closes both sides of every connection (FIN, as when a process exits). */
  destroy(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
  }

  /** Resets both sides of every connection (RST). */
  reset(): void {
    for (const { client, upstream } of this.pairs) {
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.resetAndDestroy();
    }
  }

  async close(): Promise<void> {
    if (!proxies.delete(this)) return;
    this.frozen = true;
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
