// The byte transport under a connection. A Stream is bytes in, bytes out: the protocol
// never sees a socket. SocketStream adapts a Node net.Socket (TCP or Unix); TLS sockets
// are net.Sockets too, so the same adapter serves them.

import type { Socket } from "node:net";

export interface StreamHandlers {
  data(chunk: Buffer): void;
  /** Called once, when the transport is gone (EOF, error or local close). */
  close(error?: Error): void;
  /**
   * Called when the write buffer has emptied after data had to wait in it (whatever its
   * size: unlike a socket's "drain", not only past the highWaterMark).
   */
  drain?(): void;
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
  /**
   * Optional backpressure: stop delivering data (and stop reading from the transport, so
   * the peer's writes back up into its own buffers) until resume(). A Stream without
   * pause/resume keeps delivering, and the connection queues what it cannot serve yet.
   */
  pause?(): void;
  resume?(): void;
  /**
   * Optional: bytes written but not yet handed to the transport (a socket's
   * `writableLength`). Without it the connection cannot apply `maxWriteBuffer`.
   */
  readonly writableLength?: number;
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
  private onDrain: (() => void) | undefined;
  /** Set when a write left bytes in the socket's buffer; cleared when the buffer empties. */
  private buffered = false;
  /**
   * Write callback: reports an emptied buffer. (The socket's own "drain" fires only after a
   * write crossed its highWaterMark, so a maxWriteBuffer below that would wait forever.)
   */
  private readonly written = (): void => {
    if (this.buffered && this.socket.writableLength === 0) {
      this.buffered = false;
      this.onDrain?.();
    }
  };

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
    this.socket.write(data, this.written);
    if (this.socket.writableLength > 0) this.buffered = true;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  start(handlers: StreamHandlers): void {
    this.socket.on("data", handlers.data);
    this.onDrain = handlers.drain;
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
