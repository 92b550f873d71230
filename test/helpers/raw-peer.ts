// A raw RPyC peer for tests: speaks frames directly over a TCP socket, with no Connection
// in between, so tests can send exactly the bytes they want (recorded Python frames,
// forged requests, garbage) and see exactly what comes back. Every socket opened here is
// destroyed after each test at the latest.

import net, { type Socket } from "node:net";
import { afterEach } from "vitest";
import type { PyValue, PyValueIn } from "../../runtime/index.js";
import { dump, encodeFrame, FrameDecoder, load } from "../../runtime/wire/index.js";

/** A decoded `(msg, seq, args)` message. */
export type Message = readonly [number, number | bigint, PyValue];

/** The header of one received frame: length field and compressed flag. */
export interface FrameHeader {
  readonly length: number;
  readonly flag: number;
}

const openSockets = new Set<Socket>();
afterEach(() => {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
});

/** Tracks a socket so it is destroyed after the current test even if the test fails. */
export function trackSocket(socket: Socket): Socket {
  openSockets.add(socket);
  socket.once("close", () => openSockets.delete(socket));
  return socket;
}

/** One complete frame for a message, as RPyC would write it. */
export function messageFrame(msg: number, seq: number | bigint, args: PyValueIn, compress = true): Buffer {
  return encodeFrame(dump([msg, seq, args]), compress);
}

/** A frame with an arbitrary header (length field and flag) around arbitrary bytes. */
export function rawFrame(body: Uint8Array, flag = 0, length = body.length): Buffer {
  const frame = Buffer.alloc(5 + body.length + 1);
  frame.writeUInt32BE(length >>> 0, 0);
  frame[4] = flag;
  frame.set(body, 5);
  frame[frame.length - 1] = 0x0a;
  return frame;
}

/** Splits a byte stream into complete raw frames (header, body, flush byte), as sent. */
function splitFrames(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let pos = 0;
  while (pos + 5 <= bytes.length) {
    const end = pos + 5 + bytes.readUInt32BE(pos) + 1;
    if (end > bytes.length) break;
    frames.push(bytes.subarray(pos, end));
    pos = end;
  }
  return frames;
}

export class RawPeer {
  /** Messages received and not yet taken by next(). */
  private readonly queue: Message[] = [];
  private readonly decoder: FrameDecoder;
  private readonly chunks: Buffer[] = [];
  private wake: (() => void) | undefined;
  /** Every message received, in order (taken or not). */
  readonly received: Message[] = [];
  /** Set when the peer sent bytes we could not decode. */
  decodeError: unknown;
  private isClosed = false;
  private readonly closedPromise: Promise<void>;

  private constructor(
    readonly socket: Socket,
    maxFrameSize = 1 << 30,
  ) {
    this.decoder = new FrameDecoder(maxFrameSize);
    this.closedPromise = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.once("close", () => {
      this.isClosed = true;
      this.wake?.();
    });
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      try {
        for (const payload of this.decoder.push(chunk)) {
          const message = load(payload) as unknown as Message;
          this.queue.push(message);
          this.received.push(message);
        }
      } catch (err) {
        this.decodeError = err;
      }
      this.wake?.();
    });
  }

  /** Connects to 127.0.0.1:port. */
  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = trackSocket(net.connect({ host: "127.0.0.1", port }));
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawPeer(socket));
      });
      socket.once("error", reject);
    });
  }

  /** Wraps an accepted socket (a fake server's side). */
  static accept(socket: Socket): RawPeer {
    return new RawPeer(trackSocket(socket));
  }

  /** Every complete frame received so far, byte for byte as it came off the wire. */
  get rawFrames(): Buffer[] {
    return splitFrames(Buffer.concat(this.chunks));
  }

  /** Headers (length field, compressed flag) of every complete frame received so far. */
  get headers(): FrameHeader[] {
    return this.rawFrames.map((frame) => ({ length: frame.readUInt32BE(0), flag: frame[4]! }));
  }

  /** True once the socket is fully closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends `(msg, seq, args)` as one frame. */
  send(msg: number, seq: number | bigint, args: PyValueIn, compress = true): void {
    this.write(messageFrame(msg, seq, args, compress));
  }

  /** Sends a request `(1, seq, (handler, boxedArgs))`. */
  request(seq: number | bigint, handler: number, boxedArgs: PyValueIn): void {
    this.send(1, seq, [handler, boxedArgs]);
  }

  /** The next message, waiting up to `timeoutMs`; rejects if the socket closes first. */
  async next(timeoutMs = 5000, what = "a message"): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.queue.shift();
      if (message) return message;
      if (this.decodeError) throw new Error(`undecodable bytes from the peer while waiting for ${what}: ${String(this.decodeError)}`);
      if (this.isClosed) throw new Error(`socket closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** The next message that satisfies `match`; others are skipped (kept in `received`). Bounded by `timeoutMs`. */
  async nextMatching(match: (message: Message) => boolean, timeoutMs = 5000, what = "a matching message"): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = await this.next(Math.max(1, deadline - Date.now()), what);
      if (match(message)) return message;
    }
  }

  /** Waits (bounded) until the other side has closed the socket. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out waiting for the socket to close")), timeoutMs);
    });
    try {
      await Promise.race([this.closedPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Messages received but not taken yet. */
  get unread(): readonly Message[] {
    return this.queue;
  }

  /** Closes our side and waits (bounded) for the socket to be gone. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.socket.destroy();
    await this.waitClosed(2000);
  }
}

/** A TCP server on 127.0.0.1:0 whose connections are RawPeers; closed by close(). */
export class RawServer {
  readonly peers: RawPeer[] = [];
  private readonly waiting: ((peer: RawPeer) => void)[] = [];

  private constructor(private readonly server: net.Server) {
    server.on("connection", (socket) => {
      const peer = RawPeer.accept(socket);
      this.peers.push(peer);
      this.waiting.shift()?.(peer);
    });
  }

  static async start(): Promise<RawServer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    return new RawServer(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The next accepted connection (bounded wait). */
  accepted(timeoutMs = 5000): Promise<RawPeer> {
    const ready = this.peers.find((peer) => !this.handedOut.has(peer));
    if (ready) {
      this.handedOut.add(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a connection")), timeoutMs);
      this.waiting.push((peer) => {
        clearTimeout(timer);
        this.handedOut.add(peer);
        resolve(peer);
      });
    });
  }
  private readonly handedOut = new Set<RawPeer>();

  async close(): Promise<void> {
    await Promise.all(this.peers.map((peer) => peer.close()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
