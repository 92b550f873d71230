// The byte transport under a connection. A Stream is bytes in, bytes out: the protocol
// never sees a socket. SocketStream adapts a Node net.Socket (TCP or Unix); TLS sockets
// are net.Sockets too, so the same adapter serves them.

import type { Socket } from "node:net";
import type { Bytes } from "../platform/node.js";

export interface StreamHandlers {
  /** Received bytes: a Buffer in Node, a Uint8Array in the browser build. */
  data(chunk: Bytes): void;
  /** Called once, when the transport is gone (EOF, error or local close). */
  close(error?: Error): void;
  /**
   * Called when the write buffer has emptied after data had to wait in it (whatever its
   * size: unlike a socket's "drain", not only past the highWaterMark).
   */
  drain?(): void;
}

export interface Stream {
  /**
   * Queues bytes for sending, in order. Never throws on a closed stream (it drops them).
   * The stream may keep `data` itself (no copy) until it is sent: the caller must not
   * modify it afterwards. A write may be one frame, part of one, or several.
   */
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

/**
 * SocketStream coalesces writes: everything written in one tick of the event loop goes to
 * the socket at the end of that tick (process.nextTick) in one corked write, so N frames
 * sent by one burst of work (replies to N pipelined requests, a frame's header + payload
 * chunks) cost one writev syscall instead of N. A single call waits for nothing: its
 * frame leaves before the event loop polls again.
 */
export class SocketStream implements Stream {
  readonly endpoints: readonly [string, string] | null;
  private readonly done: Promise<void>;
  private isClosed = false;
  private lastError: Error | undefined;
  private onDrain: (() => void) | undefined;
  /** Set by a flush; cleared (and drain reported) when the socket's buffer empties. */
  private buffered = false;
  /** Chunks written this tick, not yet handed to the socket (owned by us until flush). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /**
   * Write callback: reports an emptied buffer. (The socket's own "drain" fires only after a
   * write crossed its highWaterMark, so a maxWriteBuffer below that would wait forever.)
   */
  private readonly written = (): void => {
    if (this.buffered && this.socket.writableLength === 0 && this.pendingBytes === 0) {
      this.buffered = false;
      this.onDrain?.();
    }
  };
  private readonly flushTick = (): void => {
    this.flushScheduled = false;
    this.flush();
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
      this.dropPending();
    });
    // Listen from the start: an unhandled socket "error" would crash the process.
    socket.on("error", (err) => {
      this.lastError = err;
      // Node only emits TLS errors after the handshake (ERR_TLS_SESSION_ATTACK, a fatal
      // alert) and leaves the socket open, dead or still renegotiating: close it. (A TCP
      // error has destroyed the socket already.)
      if (!socket.destroyed) socket.destroy();
    });
  }

  get closed(): boolean {
    return this.isClosed || this.socket.destroyed;
  }

  /**
   * Queues `data` for the end of this tick. The stream keeps a reference, not a copy: the
   * caller must not modify `data` afterwards.
   */
  write(data: Uint8Array): void {
    if (this.closed || this.socket.writableEnded) return;
    if (data.length === 0) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushTick);
    }
  }

  /** Hands this tick's chunks to the socket: one chunk as is, several in one corked writev. */
  private flush(): void {
    const chunks = this.pending;
    if (chunks.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.closed || this.socket.writableEnded) return;
    const socket = this.socket;
    const last = chunks.length - 1;
    if (last === 0) {
      socket.write(chunks[0]!, this.written);
    } else {
      socket.cork();
      for (let i = 0; i < last; i++) socket.write(chunks[i]!);
      socket.write(chunks[last]!, this.written);
      socket.uncork();
    }
    // The data waited (at least this tick): report when the socket's buffer empties, so a
    // connection that stopped serving at maxWriteBuffer resumes even if this write was
    // taken by the kernel at once.
    this.buffered = true;
  }

  private dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Bytes not yet sent: this tick's chunks plus the socket's own buffer. */
  get writableLength(): number {
    return this.socket.writableLength + this.pendingBytes;
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
    this.socket.on("end", () => {
      this.flush();
      this.socket.end();
    });
    if (this.socket.destroyed) handlers.close(this.lastError);
    else this.socket.once("close", () => handlers.close(this.lastError));
  }

  close(): Promise<void> {
    if (!this.socket.destroyed) {
      this.flush(); // what was written before close() goes out before the FIN
      this.socket.end();
      // A peer that never closes its side must not hold us forever.
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      timer.unref();
      this.done.then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
    }
    return this.done;
  }

  destroy(): void {
    this.dropPending();
    this.socket.destroy();
  }
}
