// RPyC over WebSocket (docs/protocol.md §12.4): every RPyC frame, exactly as channel.ts writes
// it (length, flag, payload, flush byte), travels as one binary WebSocket message, both ways.
// WebSocketStream is the Stream over such a socket: it cuts what the connection writes at
// frame boundaries into messages, and hands each received message on as one frame after
// checking it is one (a text message, or one whose size disagrees with its header, closes
// the connection). The size limit is the socket's: `ws` refuses a message over maxPayload
// (maxFrameSize + FRAME_OVERHEAD) from its header, before buffering it.
// Two kinds of socket: `ws`'s WebSocket (Node, both ends; an optional peer dependency, loaded
// by loadWs) and the platform's WHATWG WebSocket (browsers, Node 22+), through wsPort and
// platformPort.

import type { Socket } from "node:net";
import type * as Ws from "ws";
import { ProtocolError } from "../errors/rpyc-errors.js";
import { bytesView, concatBytes, endOfTick, unrefTimer, utf8Encode, utf8Length, type Bytes } from "../platform/node.js";
import { FRAME_HEADER_SIZE } from "./channel.js";
import type { Stream, StreamHandlers } from "./stream.js";

/** Bytes a frame adds to its payload: the 5-byte header and the flush byte. */
export const FRAME_OVERHEAD = FRAME_HEADER_SIZE + 1;

/** Close codes (RFC 6455 §7.4.1) this module sends or names. */
const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_NAMES: Readonly<Record<number, string>> = {
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1006: "closed abnormally",
  1007: "invalid data",
  1008: "policy violation",
  1009: "message too big",
  1011: "internal error",
};
/** A peer that closed with these said nothing went wrong. */
const CLEAN_CLOSES = new Set([1000, 1001, 1005]);

/** `[local, peer]` addresses of the socket under a WebSocket, as SocketStream gives them. */
export function endpointsOf(socket: Socket): readonly [string, string] | null {
  const format = (address: string | undefined, port: number | undefined): string =>
    address === undefined ? "" : port === undefined ? address : address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  return socket.remoteAddress === undefined ? null : [format(socket.localAddress, socket.localPort), format(socket.remoteAddress, socket.remotePort)];
}

/** "1009 (message too big): reason", for errors. */
export function describeClose(code: number, reason: string): string {
  const name = CLOSE_NAMES[code];
  return `${code}${name === undefined ? "" : ` (${name})`}${reason === "" ? "" : `: ${reason}`}`;
}

let loading: Promise<typeof Ws> | undefined;

/**
 * Loads the `ws` package (once): an optional peer dependency, needed by WebSocket servers and
 * by clients where the platform has no WebSocket. Rejects naming the package to install.
 */
export function loadWs(user: string): Promise<typeof Ws> {
  loading ??= import("ws");
  return loading.catch((err: unknown) => {
    loading = undefined;
    throw new Error(`${user} needs the ws package (npm install ws): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
}

/** What WebSocketStream needs of a socket; wsPort and platformPort make one. */
export interface WebSocketPort {
  /** Bytes sent but not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Sends one binary message. */
  send(message: Uint8Array): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Closes at once. */
  terminate(): void;
  pause?(): void;
  resume?(): void;
  /** Installs the listeners (once, by WebSocketStream's constructor). */
  listen(listener: PortListener): void;
}

export interface PortListener {
  message(data: Bytes, binary: boolean): void;
  /** Sent data left the buffer (bufferedAmount may be 0 now). */
  sent(): void;
  error(err: Error): void;
  closed(code: number, reason: string): void;
}

/** What WsPort corks: the socket under the WebSocket. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * A `ws` WebSocket (Node, server or client side) as a port: pause, resume and write
 * callbacks. `socket` is the TCP (or TLS) socket `ws` writes to, corked for a tick at a time.
 */
export function wsPort(ws: Ws.WebSocket, socket?: Corkable): WebSocketPort {
  ws.binaryType = "nodebuffer";
  return new WsPort(ws, socket);
}

/**
 * Messages sent in one tick leave in one corked writev, as SocketStream's frames do (without
 * it each message is a write syscall of its own: 32 calls in flight, 32 syscalls a side). A
 * class: an object literal with a getter stays in dictionary mode (~0.5 KB a connection).
 */
class WsPort implements WebSocketPort {
  private corked = false;
  private sent: () => void = noop;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket!.uncork();
  };

  constructor(
    private readonly ws: Ws.WebSocket,
    private readonly socket: Corkable | undefined,
  ) {}

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(message: Uint8Array): void {
    if (!this.corked && this.socket !== undefined) {
      this.corked = true;
      this.socket.cork();
      endOfTick(this.uncork);
    }
    this.ws.send(message, this.sent);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  listen(listener: PortListener): void {
    this.sent = () => listener.sent();
    // binaryType "nodebuffer": a message is one Buffer (ws joins fragments).
    this.ws.on("message", (data, binary) => listener.message(data as Bytes, binary));
    this.ws.on("error", (err) => listener.error(err));
    this.ws.on("close", (code, reason) => listener.closed(code, reason.toString("utf8")));
  }
}

function noop(): void {}

/** The WHATWG WebSocket's members platformPort uses (browsers, Node 22+, and `ws` itself). */
export interface PlatformWebSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: PlatformEvent) => void): void;
}

/** The fields of MessageEvent, CloseEvent and ErrorEvent platformPort reads. */
export interface PlatformEvent {
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

/** How often platformPort looks whether bufferedAmount emptied (the WHATWG API has no event for it). */
const DRAIN_POLL_MS = 10;

/** A platform WebSocket as a port: no pause, and the emptied buffer found by polling bufferedAmount. */
export function platformPort(ws: PlatformWebSocket): WebSocketPort {
  ws.binaryType = "arraybuffer";
  let listener: PortListener | undefined;
  let polling: ReturnType<typeof setTimeout> | undefined;
  const poll = (): void => {
    polling = undefined;
    listener?.sent();
    if (ws.bufferedAmount > 0) polling = setTimeout(poll, DRAIN_POLL_MS);
  };
  return {
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send(message) {
      ws.send(message);
      if (polling === undefined) polling = setTimeout(poll, ws.bufferedAmount > 0 ? DRAIN_POLL_MS : 0);
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.close(),
    listen(l) {
      listener = l;
      ws.addEventListener("message", ({ data }) => {
        if (typeof data === "string") l.message(utf8Encode(data), false);
        else if (data instanceof ArrayBuffer) l.message(bytesView(data), true);
        else l.error(new ProtocolError("a WebSocket message that is neither text nor an ArrayBuffer (binaryType must stay 'arraybuffer')"));
      });
      ws.addEventListener("error", (event) => l.error(new Error(event.message ?? "WebSocket error")));
      ws.addEventListener("close", (event) => {
        clearTimeout(polling);
        l.closed(event.code ?? 1005, event.reason ?? "");
      });
    },
  };
}

/**
 * Cuts a byte stream of whole frames into frames. The connection writes each frame as one or
 * more chunks (header, payload, flush byte); a frame written as one chunk passes uncopied.
 */
class FrameCutter {
  private parts: Uint8Array[] = [];
  /** Bytes of the current frame in parts. */
  private filled = 0;
  /** The current frame's size, once its header is in; 0 before. */
  private size = 0;

  get pending(): number {
    return this.filled;
  }

  push(data: Uint8Array, emit: (frame: Uint8Array) => void): void {
    let at = 0;
    while (at < data.length) {
      if (this.size === 0) {
        if (this.filled === 0 && data.length - at >= FRAME_HEADER_SIZE) {
          this.size = frameSize(data, at);
          if (data.length - at >= this.size) {
            emit(data.subarray(at, at + this.size));
            at += this.size;
            this.size = 0;
            continue;
          }
        } else {
          const take = Math.min(FRAME_HEADER_SIZE - this.filled, data.length - at);
          this.add(data.subarray(at, at + take));
          at += take;
          if (this.filled < FRAME_HEADER_SIZE) return;
          this.size = frameSize(concatBytes(this.parts, FRAME_HEADER_SIZE), 0);
          continue;
        }
      }
      const take = Math.min(this.size - this.filled, data.length - at);
      this.add(data.subarray(at, at + take));
      at += take;
      if (this.filled === this.size) {
        emit(this.parts.length === 1 ? this.parts[0]! : concatBytes(this.parts, this.size));
        this.parts = [];
        this.filled = 0;
        this.size = 0;
      }
    }
  }

  private add(part: Uint8Array): void {
    this.parts.push(part);
    this.filled += part.length;
  }
}

function frameSize(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]! + FRAME_OVERHEAD;
}

export interface WebSocketStreamOptions {
  /** `[local, peer]` addresses, for the connection's `endpoints`; null when unknown (a browser). */
  endpoints: readonly [string, string] | null;
  /** The connection's maxFrameSize: names the limit when the socket refuses a message over it. */
  maxFrameSize: number;
  /** Told when the peer broke the mapping (a text message, a message that is not one frame, one too big). */
  onViolation?: (err: Error) => void;
}

/** A Stream over a WebSocket: one RPyC frame per binary message (see the module comment). */
export class WebSocketStream implements Stream {
  readonly endpoints: readonly [string, string] | null;
  private readonly cutter = new FrameCutter();
  private readonly done: Promise<void>;
  private isClosed = false;
  private handlers: StreamHandlers | undefined;
  /** Messages received before start(). */
  private early: Bytes[] | undefined = [];
  /** The transport is gone: undefined while it is not, else the error (or null). */
  private ended: Error | null | undefined;
  private reported = false;
  private lastError: Error | undefined;
  /** Set by a send; cleared (and drain reported) when the socket's buffer empties. */
  private buffered = false;
  private readonly emit = (frame: Uint8Array): void => {
    this.port.send(frame);
    this.buffered = true;
  };

  constructor(
    private readonly port: WebSocketPort,
    private readonly options: WebSocketStreamOptions,
  ) {
    this.endpoints = options.endpoints;
    let resolveDone!: () => void;
    this.done = new Promise((resolve) => (resolveDone = resolve));
    port.listen({
      message: (data, binary) => this.received(data, binary),
      sent: () => {
        if (this.buffered && this.port.bufferedAmount === 0 && this.cutter.pending === 0) {
          this.buffered = false;
          this.handlers?.drain?.();
        }
      },
      error: (err) => {
        this.lastError = tooBig(err) ? this.violation(new ProtocolError(this.tooBigMessage(), { cause: err })) : err;
      },
      closed: (code, reason) => {
        this.isClosed = true;
        resolveDone();
        const error = this.lastError ?? (CLEAN_CLOSES.has(code) ? null : new Error(`the WebSocket closed with ${describeClose(code, reason)}`));
        this.end(error);
      },
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get writableLength(): number {
    return this.port.bufferedAmount + this.cutter.pending;
  }

  write(data: Uint8Array): void {
    if (this.isClosed || data.length === 0) return;
    this.cutter.push(data, this.emit);
  }

  start(handlers: StreamHandlers): void {
    this.handlers = handlers;
    const early = this.early ?? [];
    this.early = undefined;
    for (const message of early) {
      if (this.reported) return;
      handlers.data(message);
    }
    if (this.ended !== undefined) this.report(this.ended);
  }

  pause(): void {
    this.port.pause?.();
  }

  resume(): void {
    if (!this.isClosed) this.port.resume?.();
  }

  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.closeWith(CLOSE_NORMAL, "");
    }
    return this.done;
  }

  destroy(): void {
    this.isClosed = true;
    this.port.terminate();
  }

  /** One frame per binary message; anything else closes the connection. */
  private received(data: Bytes, binary: boolean): void {
    if (this.ended !== undefined) return;
    if (!binary) {
      return this.refuse(CLOSE_UNSUPPORTED_DATA, new ProtocolError("a text WebSocket message: RPyC over WebSocket takes binary messages only"));
    }
    if (data.length < FRAME_OVERHEAD || frameSize(data, 0) !== data.length) {
      const announced = data.length < FRAME_HEADER_SIZE ? "no header" : `a header announcing ${frameSize(data, 0) - FRAME_OVERHEAD} payload bytes`;
      return this.refuse(
        CLOSE_PROTOCOL_ERROR,
        new ProtocolError(`a WebSocket message of ${data.length} bytes with ${announced}: each message must be one RPyC frame`),
      );
    }
    if (this.early) this.early.push(data);
    else this.handlers?.data(data);
  }

  /** The peer broke the mapping: close with `code` and report `err` now, without waiting for the closing handshake. */
  private refuse(code: number, err: ProtocolError): void {
    this.violation(err);
    this.isClosed = true;
    this.closeWith(code, err.message);
    this.end(err);
  }

  private violation(err: Error): Error {
    this.options.onViolation?.(err);
    return err;
  }

  private tooBigMessage(): string {
    const limit = this.options.maxFrameSize + FRAME_OVERHEAD;
    return `a WebSocket message over ${limit} bytes: a frame beyond maxFrameSize (${this.options.maxFrameSize} bytes)`;
  }

  /** Starts the closing handshake; a peer that does not finish it within 2 s is cut off. */
  private closeWith(code: number, reason: string): void {
    // A close reason is at most 123 bytes of UTF-8.
    const short = utf8Length(reason) > 123 ? `${reason.slice(0, 100)}...` : reason;
    this.port.close(code, short);
    const timer = setTimeout(() => this.port.terminate(), 2000);
    unrefTimer(timer);
    const clear = (): void => clearTimeout(timer);
    this.done.then(clear, clear);
  }

  /** The transport is gone (or given up on): tell the connection once it listens. */
  private end(error: Error | null): void {
    if (this.ended !== undefined) return;
    this.ended = error;
    if (this.handlers && !this.early) this.report(error);
  }

  private report(error: Error | null): void {
    if (this.reported) return;
    this.reported = true;
    this.handlers!.close(error ?? undefined);
  }
}

/** ws's error for a message over maxPayload (its header said so; nothing was buffered). */
function tooBig(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" || code === "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH";
}
