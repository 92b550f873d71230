// The byte transport under a connection. A Stream is bytes in, bytes out: the protocol
// never sees a socket. SocketStream adapts a Node net.Socket (TCP or Unix); TLS sockets
// are net.Sockets too, so the same adapter serves them.

import type { Socket } from "node:net";

export interface StreamHandlers {
  data(chunk: Buffer): void;
  /** Called once, when the transport is gone (EOF, error or local close). */
  close(error?: Error): void;
}

export interface Stream {
  /** Queues bytes for sending, in order. Never throws on a closed stream (it drops them). */
  write(data: Uint8Array): void;
  /** Starts delivering bytes; called once the connection is ready to serve. */
  start(handlers: StreamHandlers): void;
  /** Flushes what was written, then closes; resolves once the transport is fully closed. */
  close(): Promise<void>;
  /** Closes at once, dropping unsent bytes. */
  destroy(): void;
  readonly closed: boolean;
  /** `[local, peer]` addresses, for the connection's `endpoints`. */
  readonly endpoints: readonly [string, string] | null;
}

function formatAddress(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return "";
  return port === undefined ? address : address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

export class SocketStream implements Stream {
  readonly endpoints: readonly [string, string] | null;
  private readonly done: Promise<void>;
  private isClosed = false;
  private lastError: Error | undefined;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true); // request/reply traffic: never wait for Nagle
    this.endpoints =
      socket.remoteAddress === undefined
        ? null
        : [formatAddress(socket.localAddress, socket.localPort), formatAddress(socket.remoteAddress, socket.remotePort)];
    this.done = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.once("close", () => {
      this.isClosed = true;
    });
    // Listen from the start: an unhandled socket "error" would crash the process.
    socket.on("error", (err) => {
      this.lastError = err;
    });
  }

  get closed(): boolean {
    return this.isClosed || this.socket.destroyed;
  }

  write(data: Uint8Array): void {
    if (this.closed || this.socket.writableEnded) return;
    this.socket.write(data);
  }

  start(handlers: StreamHandlers): void {
    this.socket.on("data", handlers.data);
    // The peer's FIN: finish our side too, so "close" follows.
    this.socket.on("end", () => this.socket.end());
    if (this.socket.destroyed) handlers.close(this.lastError);
    else this.socket.once("close", () => handlers.close(this.lastError));
  }

  close(): Promise<void> {
    if (!this.socket.destroyed) {
      this.socket.end();
      // A peer that never closes its side must not hold us forever.
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      timer.unref();
      this.done.then(() => clearTimeout(timer), () => clearTimeout(timer));
    }
    return this.done;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
