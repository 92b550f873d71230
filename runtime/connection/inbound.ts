// The inbound side of a connection: received frames (the inbox: inflating large ones in
// zlib's thread pool, letting the event loop turn every YIELD_AFTER_BYTES), the peer's
// requests waiting for a serving slot (the queue, under maxConcurrentRequests,
// maxQueuedBytes and maxWriteBuffer), backpressure on the socket, and draining on close.

import { DeflatedPayload, FrameDecoder, inflateLater, inflateNow } from "../wire/channel.js";
import { copyBytes, nextTurn } from "../platform/node.js";
import type { Stream } from "../wire/stream.js";
import type { ProtocolConfig } from "./config.js";
import type { Observer } from "./observe.js";

/**
 * After dispatching this many payload bytes (over any number of reads), a connection stops
 * reading until the next turn of the event loop (nextTurn), so other connections' reads
 * and timers run in between. Node reads one socket up to 32 times in a row when data keeps
 * coming: without the pause, a peer sending frames that are cheap to send but costly to
 * decode (100,000 one-byte values in 200 KB) held the loop for a second at a time.
 */
const YIELD_AFTER_BYTES = 64 * 1024;

/**
 * Heap a waiting request costs beside its payload bytes (its typed array object, about 100 bytes,
 * and its slot in the queue), counted in maxQueuedBytes: a flood of tiny requests is bounded
 * by the memory it really takes, not by its payload alone (10-byte pings held ~12x their size).
 */
const QUEUED_REQUEST_OVERHEAD = 128;

/** A received frame: its payload, or a compressed body not inflated yet. */
type ReceivedFrame = Uint8Array | DeflatedPayload;

/** What the inbound side needs of its connection. */
export interface InboundHost {
  readonly config: ProtocolConfig;
  readonly isClosed: boolean;
  readonly events: Observer;
  /** Our requests awaiting replies: while there are some, reading goes on (see flow). */
  readonly pending: { readonly size: number };
  /** Handles one payload; `fresh`: just received (a request may have to queue), else taken from the queue. */
  dispatch(payload: Uint8Array, fresh: boolean): void;
  /** The peer broke the protocol (a bad frame): close. */
  fatal(err: unknown): void;
}

export class Inbound {
  /** The peer's requests whose handler runs (reply not sent yet). */
  serving = 0;
  /** True while reading from the stream is paused (backpressure). */
  readPaused = false;
  private readonly decoder: FrameDecoder;
  /** The peer's requests waiting for a serving slot, raw payloads in arrival order (FIFO from queueHead). */
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private pumping = false;
  /**
   * Frames received but not dispatched yet (from inboxHead on), while `inboxBusy`: waiting
   * behind a frame that inflates in zlib's thread pool, or for the next turn of the event
   * loop. Reading is paused meanwhile, so the inbox holds at most about one socket read.
   */
  private inbox: ReceivedFrame[] = [];
  private inboxHead = 0;
  private inboxBusy = false;
  /** Payload bytes dispatched since this connection last let the event loop turn (YIELD_AFTER_BYTES). */
  private sinceYield = 0;
  /** The inbox waits for the queue to drain below maxQueuedBytes (see parkInbox). */
  private inboxParked = false;
  /** Set by drain(): new requests are refused while running ones finish. */
  private draining = false;
  /** Requests still queued that had arrived when draining began: they are served, not refused. */
  private drainAdmits = 0;
  private drained: (() => void) | undefined;

  constructor(
    private readonly host: InboundHost,
    private readonly stream: Stream,
  ) {
    this.decoder = new FrameDecoder(host.config.maxFrameSize);
  }

  /** Whether requests wait in the queue. */
  get queued(): boolean {
    return this.queueHead < this.queue.length;
  }

  onData(chunk: Uint8Array): void {
    const events = this.host.events;
    events.bytesIn += chunk.length;
    let frames: ReceivedFrame[];
    try {
      frames = this.decoder.pushDeferred(chunk);
    } catch (err) {
      return this.host.fatal(err);
    }
    events.framesIn += frames.length;
    if (this.inboxBusy) {
      for (const frame of frames) this.inbox.push(frame);
      return;
    }
    this.receive(frames, 0);
  }

  /** The stream can take writes again: serve what waited for the write buffer to drain. */
  onWritable(): void {
    if (this.queueHead < this.queue.length) this.pump();
  }

  /**
   * Dispatches frames[from..] in arrival order. Compressed frames inflate on the spot when
   * small; a large one inflates in zlib's thread pool, and the frames after it wait for it.
   * Every YIELD_AFTER_BYTES of payload, the rest (and reading) waits for the next turn.
   */
  private receive(frames: ReceivedFrame[], from: number): void {
    const host = this.host;
    for (let i = from; i < frames.length; i++) {
      if (host.isClosed) return;
      const frame = frames[i]!;
      let payload: Uint8Array;
      if (frame instanceof DeflatedPayload) {
        let inflated: Uint8Array | undefined;
        try {
          inflated = inflateNow(frame.body, host.config.maxFrameSize);
        } catch (err) {
          return host.fatal(err);
        }
        if (inflated === undefined) return this.receiveLater(frames, i, frame);
        payload = inflated;
      } else {
        payload = frame;
      }
      host.dispatch(payload, true);
      this.sinceYield += payload.length;
      if (this.sinceYield >= YIELD_AFTER_BYTES) {
        this.sinceYield = 0;
        return this.receiveLater(frames, i + 1, undefined);
      }
      // A full queue takes no more: the rest of this read waits (unqueued) until it drains.
      if (i + 1 < frames.length && this.queuedBytes >= host.config.maxQueuedBytes) return this.parkInbox(frames, i + 1);
    }
    if (this.readPaused || this.queueHead < this.queue.length) this.flow();
  }

  /** Keeps frames[from..] in the inbox, pauses reading, and goes on after inflating `deflated` (frames[from]) or on the next turn. */
  private receiveLater(frames: ReceivedFrame[], from: number, deflated: DeflatedPayload | undefined): void {
    this.inbox = frames;
    this.inboxHead = from;
    this.inboxBusy = true;
    this.flow();
    if (deflated === undefined) {
      nextTurn(() => this.resumeInbox());
      return;
    }
    inflateLater(deflated.body, this.host.config.maxFrameSize).then(
      (payload) => {
        if (this.inbox[this.inboxHead] === deflated) this.inbox[this.inboxHead] = payload;
        this.resumeInbox();
      },
      (err: unknown) => this.host.fatal(err),
    );
  }

  /** Keeps frames[from..] in the inbox until pump() has brought the queue below maxQueuedBytes. */
  private parkInbox(frames: ReceivedFrame[], from: number): void {
    this.inbox = frames;
    this.inboxHead = from;
    this.inboxBusy = true;
    this.inboxParked = true;
    this.flow();
  }

  private resumeInbox(): void {
    if (this.host.isClosed) return;
    const frames = this.inbox;
    const from = this.inboxHead;
    this.inbox = [];
    this.inboxHead = 0;
    this.inboxBusy = false;
    this.receive(frames, from);
  }

  /**
   * Admission of a request (brine or native), in arrival order. `fresh`: just received; it
   * waits in the queue (undefined is returned) while others wait, every serving slot is
   * taken or writes are congested. Otherwise it is served now, refused (true) when the
   * connection drains and it arrived after draining began.
   */
  admit(payload: Uint8Array, fresh: boolean): boolean | undefined {
    if (fresh) {
      if (this.queueHead < this.queue.length || this.serving >= this.host.config.maxConcurrentRequests || this.writeCongested()) {
        this.enqueue(payload);
        return undefined;
      }
      return this.draining;
    }
    if (this.drainAdmits > 0) {
      this.drainAdmits--;
      return false;
    }
    return this.draining;
  }

  /** True while more than maxWriteBuffer bytes wait to be sent: serve nothing new until they drain. */
  private writeCongested(): boolean {
    const buffered = this.stream.writableLength;
    return buffered !== undefined && buffered > this.host.config.maxWriteBuffer;
  }

  /** Keeps a received request for later, as its own copy (a payload is a view into the read chunk). */
  private enqueue(payload: Uint8Array): void {
    const copy = copyBytes(payload);
    this.queue.push(copy);
    this.queuedBytes += copy.length + QUEUED_REQUEST_OVERHEAD;
  }

  /** A served request freed its slot (serving was decremented): let waiting requests in, or finish a drain. */
  slotFreed(): void {
    if (this.queueHead < this.queue.length) this.pump();
    else if (this.drained && this.serving === 0) this.drained();
  }

  /** Serves waiting requests, in order, while there is room; then decides whether to read on. */
  private pump(): void {
    if (this.pumping) return; // a request served synchronously inside the loop below
    const host = this.host;
    this.pumping = true;
    try {
      while (this.queueHead < this.queue.length && !host.isClosed && this.serving < host.config.maxConcurrentRequests && !this.writeCongested()) {
        const payload = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined as unknown as Uint8Array;
        this.queuedBytes -= payload.length + QUEUED_REQUEST_OVERHEAD;
        host.dispatch(payload, false);
      }
      if (this.queueHead === this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
    } finally {
      this.pumping = false;
    }
    if (this.inboxParked && this.queuedBytes < host.config.maxQueuedBytes) {
      this.inboxParked = false;
      nextTurn(() => this.resumeInbox());
    }
    this.flow();
    if (this.drained && this.serving === 0 && this.queueHead === this.queue.length) this.drained();
  }

  /**
   * Backpressure on the socket. Reading stops while received frames wait in the inbox (a
   * large one inflating, or the rest of a busy turn). Requests that cannot be served yet
   * wait in the queue; we stop reading when nothing we await could arrive (no pending
   * request of ours), or when the queue holds maxQueuedBytes. While our own requests are
   * pending we read on, so the replies that let running handlers finish (callbacks into the
   * peer) are not stuck behind unread requests.
   */
  flow(): void {
    const waiting = this.queueHead < this.queue.length;
    const pause = !this.host.isClosed && (this.inboxBusy || (waiting && (this.host.pending.size === 0 || this.queuedBytes >= this.host.config.maxQueuedBytes)));
    if (pause === this.readPaused) return;
    this.readPaused = pause;
    if (pause) this.stream.pause?.();
    else this.stream.resume?.();
  }

  /** Refuses new requests and waits until running ones replied (or `graceMs` passed, or `closed` resolved). */
  drain(graceMs: number, closed: Promise<void>): Promise<void> {
    this.draining = true;
    this.drainAdmits = this.queue.length - this.queueHead;
    if (this.serving === 0 && this.queueHead === this.queue.length) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drained = undefined;
        resolve();
      };
      const timer = setTimeout(done, graceMs);
      this.drained = done;
      void closed.then(done);
    });
  }

  /** The queue's gauges for stats(). */
  get queuedRequests(): number {
    return this.queue.length - this.queueHead;
  }

  get bytesQueued(): number {
    return this.queuedBytes;
  }

  /** Bytes of frames received but not complete yet (diagnostics). */
  get bufferedBytes(): number {
    return this.decoder.pending;
  }

  /** On close: drop everything received and not served. */
  clear(): void {
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
    this.inbox = [];
    this.inboxHead = 0;
    this.inboxParked = false;
    this.readPaused = false;
  }
}
