// The raw TCP floor of the round-trip bench: the least a Node request/reply over 127.0.0.1
// can cost. A message is a 4-byte big-endian body length and the body; a request's body
// starts with the body length the reply must have. Client and server use TCP_NODELAY,
// one write per message and one promise per request, as rpyc-ts does, and nothing else:
// no serialisation, no dispatch, no allocation beyond Node's own.

import type { Socket } from "node:net";

const HEADER = 4;

/** Splits a byte stream into messages (header + body), calling `onMessage` for each. */
class MessageReader {
  private rest: Buffer | null = null;

  constructor(private readonly onMessage: (message: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    while (buf.length >= HEADER) {
      const size = HEADER + buf.readUInt32BE(0);
      if (buf.length < size) break;
      this.onMessage(buf.subarray(0, size));
      buf = buf.subarray(size);
    }
    this.rest = buf.length > 0 ? buf : null;
  }
}

/** Client side: `request()` sends one message of `reqBytes` and resolves with the reply's size. */
export class FloorConnection {
  private readonly message: Buffer;
  private pending: { resolve(size: number): void; reject(error: Error): void } | null = null;
  private failure: Error | null = null;

  constructor(
    readonly socket: Socket,
    reqBytes: number,
    repBytes: number,
  ) {
    if (reqBytes < 2 * HEADER || repBytes < HEADER) throw new RangeError(`floor messages need req >= 8 and rep >= 4 bytes`);
    socket.setNoDelay(true);
    this.message = Buffer.alloc(reqBytes);
    this.message.writeUInt32BE(reqBytes - HEADER, 0);
    this.message.writeUInt32BE(repBytes - HEADER, HEADER);
    const reader = new MessageReader((reply) => {
      const pending = this.pending;
      this.pending = null;
      pending?.resolve(reply.length);
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    const fail = (error: Error): void => {
      this.failure ??= error;
      const pending = this.pending;
      this.pending = null;
      pending?.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("floor server closed the connection")));
  }

  request(): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(this.message);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }
}

/** Server side: answers every request on `socket` with a reply of the size it asks for. */
export function serveFloor(socket: Socket): void {
  socket.setNoDelay(true);
  const replies = new Map<number, Buffer>();
  const reader = new MessageReader((request) => {
    const body = request.length >= 2 * HEADER ? request.readUInt32BE(HEADER) : 0;
    let reply = replies.get(body);
    if (reply === undefined) {
      reply = Buffer.alloc(HEADER + body);
      reply.writeUInt32BE(body, 0);
      replies.set(body, reply);
    }
    socket.write(reply);
  });
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  socket.on("error", () => socket.destroy());
  socket.on("end", () => socket.end());
}
