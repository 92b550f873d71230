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

/** Splits a byte stream into message bodies (push the chunks); a body inside one chunk is a view, not a copy. */
function framer(onBody: (body: Buffer) => void): (chunk: Buffer) => void {
  const chunks: Buffer[] = [];
  let [size, need] = [0, -1];
  const take = (n: number): Buffer => {
    if (chunks[0]!.length < n) chunks.splice(0, chunks.length, Buffer.concat(chunks)); // spans chunks: one copy
    const first = chunks[0]!;
    size -= n;
    if (first.length === n) chunks.shift();
    else chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  };
  return (chunk) => {
    chunks.push(chunk);
    size += chunk.length;
    for (;;) {
      if (need < 0) {
        if (size < HEADER) return;
        need = take(HEADER).readUInt32BE(0);
      }
      if (size < need) return;
      const body = take(need);
      need = -1;
      onBody(body);
    }
  };
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

/** Client side: one connection, which close() ends. */
export async function openRaw(port: number): Promise<PeerConnection> {
  const socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => (socket.off("error", reject), resolve()));
    socket.once("error", reject);
  });
  socket.setNoDelay(true);
  /** Requests awaiting their replies, oldest at `head` (a FIFO without shift()'s copying). */
  let pending: ({ resolve(body: Buffer): void; reject(error: Error): void } | undefined)[] = [];
  let head = 0;
  let failure: Error | null = null;
  /** Messages sent and received (the suite's wire counts). */
  let [framesOut, framesIn] = [0, 0];
  const push = framer((body) => {
    framesIn++;
    if (body[0] === KIND.query) {
      framesOut++;
      socket.write(ANSWER);
      return;
    }
    const next = pending[head];
    if (next === undefined) return;
    pending[head++] = undefined;
    if (head === pending.length) {
      pending = [];
      head = 0;
    }
    next.resolve(body);
  });
  socket.on("data", push);
  const fail = (error: Error): void => {
    failure ??= error;
    const waiting = pending.slice(head);
    [pending, head] = [[], 0];
    for (const p of waiting) p?.reject(error);
  };
  socket.on("error", fail);
  socket.on("close", () => fail(new Error("raw server closed the connection")));
  const request = (send: () => void): Promise<Buffer> =>
    failure
      ? Promise.reject(failure)
      : new Promise((resolve, reject) => {
          pending.push({ resolve, reject });
          framesOut++;
          send();
        });
  return {
    ping: async () => ((await request(() => socket.write(PING)))[0] === KIND.pong ? 1 : 0),
    echo: async (data) => (await request(() => writeMessage(socket, KIND.echo, data))).subarray(1),
    // The callback exchange: resolves with 2 after the server's query was answered, as call_back(x => x + 1) does.
    callBack: async () => ((await request(() => socket.write(CALL)))[0] === KIND.called ? 2 : 0),
    codec: null,
    wire: () => ({ bytesOut: socket.bytesWritten, bytesIn: socket.bytesRead, framesOut, framesIn }),
    close: () =>
      new Promise((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once("close", () => resolve());
        socket.end();
      }),
  };
}

/** The server: answers every message on each connection. */
export const startRawServer = () => listenLocal(createServer(serveRaw));

function serveRaw(socket: Socket): void {
  socket.setNoDelay(true);
  let callbacks = 0; // 'C' requests whose 'Q' is out and whose 'A' has not come back
  const push = framer((body) => {
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
  socket.on("data", push);
  socket.on("error", () => socket.destroy());
  socket.on("end", () => socket.end());
}
