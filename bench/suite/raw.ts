// The raw Node TCP floor of the benchmark suite: what each row costs with no protocol at
// all. A message is a 4-byte big-endian body length and the body; the body's first byte is
// its kind. Both sides use TCP_NODELAY, one (corked) write per message and one promise per
// request, as rpyc-ts does, and nothing else. Replies come back in request order (TCP is
// ordered and the server answers at once), so requests in flight wait in a FIFO.
//
//   'P' ping (60 bytes on the wire, rpyc-ts's small-request size)  -> 'p' (12 bytes)
//   'E' echo + payload                                             -> 'e' + the same payload
//   'C' callback (60 bytes) -> the server sends 'Q' (60 bytes), the client answers 'A'
//       (12 bytes), then the server replies 'c' (12 bytes): the shape of an RPyC callback,
//       two round trips.

import { connect, createServer, type Socket } from "node:net";
import { listenLocal } from "../harness.js";
import type { PeerConnection } from "./events.js";

/** The length prefix; rpyc-ts's small request and reply sizes. */
const [HEADER, SMALL_REQUEST, SMALL_REPLY] = [4, 60, 12];
const KIND = { ping: 0x50, pong: 0x70, echo: 0x45, echoed: 0x65, call: 0x43, query: 0x51, answer: 0x41, called: 0x63 } as const;

function frame(kind: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(size - HEADER, 0);
  buf[HEADER] = kind;
  return buf;
}

const [PING, CALL, QUERY] = [KIND.ping, KIND.call, KIND.query].map((kind) => frame(kind, SMALL_REQUEST)) as [Buffer, Buffer, Buffer];
const [PONG, ANSWER, CALLED] = [KIND.pong, KIND.answer, KIND.called].map((kind) => frame(kind, SMALL_REPLY)) as [Buffer, Buffer, Buffer];

/** Splits a byte stream into message bodies; a body inside one chunk is a view, not a copy. */
class Framer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private need = -1;

  constructor(private readonly onBody: (body: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.size < HEADER) return;
        this.need = this.take(HEADER).readUInt32BE(0);
      }
      if (this.size < this.need) return;
      const body = this.take(this.need);
      this.need = -1;
      this.onBody(body);
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    this.size -= n;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[0]!;
      const count = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, count);
      offset += count;
      if (count === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(count);
    }
    return out;
  }
}

/** One message: header and kind in one small buffer, the payload written after it, corked. */
function writeMessage(socket: Socket, kind: number, payload: Uint8Array): void {
  const head = Buffer.allocUnsafe(HEADER + 1);
  head.writeUInt32BE(1 + payload.length, 0);
  head[HEADER] = kind;
  socket.cork();
  socket.write(head);
  socket.write(payload);
  socket.uncork();
}

/** Client side. Owns its socket; close() ends it. */
export class RawClient implements PeerConnection {
  /** Requests awaiting their replies, oldest at `head` (a FIFO without shift()'s copying). */
  private pending: ({ resolve(body: Buffer): void; reject(error: Error): void } | undefined)[] = [];
  private head = 0;
  private failure: Error | null = null;
  /** Messages sent and received (the suite's wire counts). */
  private framesOut = 0;
  private framesIn = 0;
  readonly codec = null;

  static async open(port: number): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => (socket.off("error", reject), resolve()));
      socket.once("error", reject);
    });
    return new RawClient(socket);
  }

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    const framer = new Framer((body) => {
      this.framesIn++;
      if (body[0] === KIND.query) {
        this.framesOut++;
        socket.write(ANSWER);
        return;
      }
      const next = this.pending[this.head];
      if (next === undefined) return;
      this.pending[this.head++] = undefined;
      if (this.head === this.pending.length) {
        this.pending = [];
        this.head = 0;
      }
      next.resolve(body);
    });
    socket.on("data", (chunk: Buffer) => framer.push(chunk));
    const fail = (error: Error): void => {
      this.failure ??= error;
      const waiting = this.pending.slice(this.head);
      this.pending = [];
      this.head = 0;
      for (const p of waiting) p?.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("raw server closed the connection")));
  }

  private request(send: () => void): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.framesOut++;
      send();
    });
  }

  /** Resolves with 1 (the reply of a ping). */
  async ping(): Promise<number> {
    const body = await this.request(() => this.socket.write(PING));
    return body[0] === KIND.pong ? 1 : 0;
  }

  async echo(data: Uint8Array): Promise<Uint8Array> {
    const body = await this.request(() => writeMessage(this.socket, KIND.echo, data));
    return body.subarray(1);
  }

  /** The callback exchange: resolves with 2 after the server's query was answered, as call_back(x => x + 1) does. */
  async callBack(): Promise<number> {
    const body = await this.request(() => this.socket.write(CALL));
    return body[0] === KIND.called ? 2 : 0;
  }

  wire() {
    return { bytesOut: this.socket.bytesWritten, bytesIn: this.socket.bytesRead, framesOut: this.framesOut, framesIn: this.framesIn };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }
}

/** The server: answers every message on each connection. */
export const startRawServer = () => listenLocal(createServer(serveRaw));

function serveRaw(socket: Socket): void {
  socket.setNoDelay(true);
  let callbacks = 0; // 'C' requests whose 'Q' is out and whose 'A' has not come back
  const framer = new Framer((body) => {
    switch (body[0]) {
      case KIND.ping:
        socket.write(PONG);
        break;
      case KIND.echo:
        writeMessage(socket, KIND.echoed, body.subarray(1));
        break;
      case KIND.call:
        callbacks++;
        socket.write(QUERY);
        break;
      case KIND.answer:
        if (callbacks > 0) {
          callbacks--;
          socket.write(CALLED);
        }
        break;
      default:
        socket.destroy(new Error(`raw server: unknown message kind ${body[0]}`));
    }
  });
  socket.on("data", (chunk: Buffer) => framer.push(chunk));
  socket.on("error", () => socket.destroy());
  socket.on("end", () => socket.end());
}
