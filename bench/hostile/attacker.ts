// One attack of the hostile-client bench (bench/hostile/run.ts), in a process of its own so
// that building and sending it takes no CPU or memory from the bench's healthy client. One
// TCP connection to 127.0.0.1. Prints JSON lines: {"event":"start"} as the attack's first
// byte goes out, then {"event":"done","detail":..}. Leaves when its stdin
// reaches EOF (the bench is gone), and after its own time bound.
//
//   node --import tsx bench/hostile/attacker.ts --attack 1 --port N [--quick]

import net, { type Socket } from "node:net";
import tls from "node:tls";
import { deflateSync } from "node:zlib";
import type { PyValue, PyValueIn } from "../../runtime/index.js";
import { dump, FrameDecoder, load } from "../../runtime/wire/index.js";
import * as C from "../../runtime/wire/consts.js";
import { TAG_EMPTY_STR, TAG_EMPTY_TUPLE, TAG_FSET, TAG_STR1, TAG_STR_L4, TAG_TUP_L4 } from "../../runtime/wire/brine.js";
import { cli, emitJson, sleep } from "../harness.js";

const { values } = cli("attacker.ts --attack 1-9 --port N [--quick --watch-stdin]", {
  attack: { type: "string" },
  port: { type: "string" },
  quick: { type: "boolean", default: false },
  "watch-stdin": { type: "boolean", default: false },
});
const attack = Number(values.attack);
const port = Number(values.port);
const scale = values.quick ? 0.1 : 1;
const n = (full: number): number => Math.round(full * scale);
/** How long we wait for the server's replies to the attack before calling it stalled. */
const REPLY_TIMEOUT_MS = 120_000 * scale;

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
const emit = emitJson<Record<string, unknown>>;
const mb = (bytes: number): string => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} KB` : `${(bytes / 1e6).toFixed(1)} MB`);

// ---- frames -------------------------------------------------------------------------------

/** A frame as chunks: 4-byte BE length, flag (1 = zlib), body, "\n" (runtime/wire/channel.ts). */
function frame(body: Uint8Array, flag = 0): Uint8Array[] {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 0);
  header[4] = flag;
  return [header, body, Buffer.from("\n")];
}

const request = (seq: number, handler: number, boxedArgs: PyValueIn): Buffer => dump([C.MSG_REQUEST, seq, [handler, boxedArgs]]);

/** CALLATTR on the server's root: (root, name, args, kwargs), boxed as RPyC boxes them. */
const callattr = (seq: number, root: PyValue, name: string, boxedArgs: PyValueIn): Buffer =>
  request(seq, C.HANDLE_CALLATTR, [C.LABEL_TUPLE, [[C.LABEL_LOCAL_REF, root], [C.LABEL_VALUE, name], boxedArgs, [C.LABEL_VALUE, []]]]);

/** Stands for a big value in a dumped message; `splice` puts the hand-built brine bytes there. */
const MARK = Buffer.from("<hostile-bench-mark>");
function splice(payload: Buffer, body: Buffer): Buffer {
  const mark = dump(MARK);
  const at = payload.indexOf(mark);
  return Buffer.concat([payload.subarray(0, at), body, payload.subarray(at + mark.length)]);
}

/** Brine too big for dump(): `tag`, a u32 BE count, then `count` copies of `item` (a tuple of items, or bytes). */
function repeated(tag: number, count: number, item: readonly number[]): Buffer {
  const out = Buffer.alloc(5 + count * item.length);
  out[0] = tag;
  out.writeUInt32BE(count, 1);
  out.fill(Buffer.from(item), 5);
  return out;
}

// ---- the connection -------------------------------------------------------------------------

/** Reads the server's frames: the root's id_pack, and how many replies arrived for seq >= 1. */
class Wire {
  root: PyValue | undefined;
  answered = 0;
  closed = false;
  /** Wakes the one waiting `until` (data, drain or close happened). */
  private wake = (): void => {};

  constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder(1 << 30);
    socket.on("error", () => {});
    socket.on("drain", () => this.wake());
    socket.once("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const payload of decoder.push(chunk)) {
          const [msg, seq, args] = load(payload) as readonly PyValue[];
          if (msg !== C.MSG_REPLY && msg !== C.MSG_EXCEPTION) continue; // e.g. Python's HANDLE_DEL requests
          if (seq === 0 && Array.isArray(args)) this.root = (args as readonly PyValue[])[1];
          else this.answered++;
        }
      } catch {
        socket.destroy();
      }
      this.wake();
    });
  }

  /** Resolves once `done()` holds, the socket closes, or after `ms`. */
  async until(done: () => boolean, ms: number): Promise<"done" | "closed" | "timeout"> {
    const deadline = performance.now() + ms;
    while (!done()) {
      if (this.closed) return "closed";
      const left = deadline - performance.now();
      if (left <= 0) return "timeout";
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return "done";
  }

  /** Writes chunks as fast as TCP takes them (waiting for drain); false once closed or past `deadline`. */
  async write(chunks: readonly Uint8Array[], deadline = Infinity): Promise<boolean> {
    for (const chunk of chunks) {
      if (!this.socket.write(chunk) && (await this.until(() => !this.socket.writableNeedDrain, deadline - performance.now())) !== "done") return false;
    }
    return true;
  }
}

async function open(): Promise<Wire> {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const wire = new Wire(socket);
  await wire.write(frame(request(0, C.HANDLE_GETROOT, [C.LABEL_VALUE, []])));
  if ((await wire.until(() => wire.root !== undefined, 10_000)) !== "done") throw new Error("the server sent no root");
  return wire;
}

// ---- attacks ----------------------------------------------------------------------------------

/** Attacks 1-5: send the frames, then wait for every reply (or the socket's close, or the bound). */
async function frames(build: (root: PyValue) => Uint8Array[][], what: string): Promise<void> {
  const wire = await open();
  const all = build(wire.root!);
  const bytes = all.flat().reduce((sum, chunk) => sum + chunk.length, 0);
  emit({ event: "start" });
  await wire.write(all.flat());
  const outcome = await wire.until(() => wire.answered >= all.length, REPLY_TIMEOUT_MS);
  const how = outcome === "done" ? "answered" : outcome === "closed" ? "connection closed" : `no reply in ${REPLY_TIMEOUT_MS / 1000} s`;
  emit({ event: "done", detail: `${what}, ${mb(bytes)} sent; ${how} (${wire.answered}/${all.length} replies)` });
  wire.socket.destroy();
}

/**
 * Attacks 8 and 9: one kind of request over and over for `seconds` (as fast as the server
 * reads them), then every reply awaited: the load a server must carry without starving its
 * other clients, since each such frame is within every limit.
 */
async function sustained(build: (root: PyValue, seq: number) => Uint8Array[], seconds: number, what: string): Promise<void> {
  const wire = await open();
  const deadline = performance.now() + seconds * 1000 * scale;
  emit({ event: "start" });
  let sent = 0;
  while (performance.now() < deadline && (await wire.write(build(wire.root!, sent + 1), deadline))) sent++;
  const outcome = await wire.until(() => wire.answered >= sent, REPLY_TIMEOUT_MS);
  const how = outcome === "done" ? "all answered" : outcome === "closed" ? "connection closed" : `no reply in ${REPLY_TIMEOUT_MS / 1000} s`;
  emit({ event: "done", detail: `${sent} × ${what} in ${(seconds * scale).toFixed(1)} s; ${how} (${wire.answered}/${sent})` });
  wire.socket.destroy();
}

/** Attack 6: callbacks the server waits on forever, then pings whose replies we never read. */
async function neverAnswer(): Promise<void> {
  const wire = await open();
  wire.socket.removeAllListeners("data");
  wire.socket.pause(); // never read again: the server's writes to us back up
  const callbacks = n(1000);
  const calls = Array.from({ length: callbacks }, (_, i) =>
    callattr(i + 1, wire.root!, "call_back", [C.LABEL_TUPLE, [[C.LABEL_REMOTE_REF, ["builtins.function", 1, i + 1]]]]),
  );
  // 10-byte pings (payload): small seqs stay 1-byte ints; the server does not care that they repeat.
  const batch = Buffer.concat(
    Array.from({ length: 4096 }, (_, i) => Buffer.concat(frame(request(i % 100, C.HANDLE_PING, [C.LABEL_VALUE, [Buffer.from("x")]])))),
  );
  const pings = n(4_200_000);
  const deadline = performance.now() + 20_000 * scale;
  emit({ event: "start" });
  await wire.write(calls.flatMap((c) => frame(c)));
  let sent = 0;
  while (sent < pings && (await wire.write([batch], deadline))) sent += 4096;
  const why = wire.closed ? "connection closed" : sent >= pings ? "all written" : `stopped at ${(20 * scale).toFixed(0)} s`;
  emit({
    event: "done",
    detail: `${callbacks} call_back + ${Math.min(sent, pings).toLocaleString("en-US")} of ${pings.toLocaleString("en-US")} pings written (${why})`,
  });
  wire.socket.destroy();
}

/** Attack 7: TLS 1.2 renegotiation every 5 ms (the server does a private-key operation each time). */
async function renegotiate(): Promise<void> {
  const socket = tls.connect({ host: "127.0.0.1", port, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", rejectUnauthorized: false });
  let why = "";
  socket.on("error", (err: NodeJS.ErrnoException) => void (why ||= err.code ?? err.message));
  let closed = false;
  const gone = new Promise<void>((resolve) => socket.once("close", () => resolve(void (closed = true))));
  await Promise.race([new Promise<void>((resolve) => socket.once("secureConnect", resolve)), gone]);
  if (closed) throw new Error("TLS handshake failed");
  emit({ event: "start" });
  let ok = 0;
  let failed = 0;
  const end = performance.now() + 2500 * scale;
  while (!closed && performance.now() < end) {
    const t = performance.now();
    const result = new Promise<boolean>((resolve) => {
      const started = socket.renegotiate({ rejectUnauthorized: false }, (err: (Error & { code?: string }) | null) => {
        if (err) why ||= err.code ?? err.message;
        resolve(!err);
      });
      if (!started) resolve(false);
    });
    const done = await Promise.race([result, gone.then(() => false), sleep(end - t).then(() => false)]);
    if (done) ok++;
    else failed++;
    await sleep(Math.max(0, t + 5 - performance.now()));
  }
  const detail = `${ok} renegotiations ok, ${failed} failed${closed ? `; connection closed (${why || "by the server"})` : ""}`;
  emit({ event: "done", detail });
  socket.destroy();
}

async function main(): Promise<void> {
  const getAnswerWith = (body: Buffer) => (root: PyValue) => [frame(splice(callattr(1, root, "get_answer", [C.LABEL_VALUE, MARK]), body))];
  switch (attack) {
    case 1:
    case 2:
    case 3: {
      // A tuple of empty bytes (0x01 each) or of empty frozensets (0x1a 0x02 each).
      const count = n([10_000_000, 3_000_000, 30_000_000][attack - 1]!);
      const [item, name] = attack === 3 ? [[TAG_FSET, TAG_EMPTY_TUPLE], "frozenset()"] : [[TAG_EMPTY_STR], 'b""'];
      return frames(getAnswerWith(repeated(TAG_TUP_L4, count, item)), `get_answer(*${count.toLocaleString("en-US")} × ${name})`);
    }
    case 4: {
      const count = n(250_000);
      const refs = Array.from({ length: count }, (_, i) => [C.LABEL_REMOTE_REF, ["builtins.object", 1, i + 1]]);
      return frames((root) => [frame(callattr(1, root, "get_answer", [C.LABEL_TUPLE, refs]))], `get_answer(*${count.toLocaleString("en-US")} remote refs)`);
    }
    case 5: {
      const size = n(63_000_000);
      const build = (root: PyValue): Uint8Array[][] =>
        Array.from({ length: 8 }, (_, i) =>
          frame(deflateSync(splice(callattr(i + 1, root, "get_answer", [C.LABEL_VALUE, [MARK]]), repeated(TAG_STR_L4, size, [0])), { level: 9 }), 1),
        );
      return frames(build, `8 pipelined zlib frames, each get_answer(<${mb(size)} of zeros>)`);
    }
    case 6:
      return neverAnswer();
    case 7:
      return renegotiate();
    case 8: {
      // 99,000 one-byte bytes values (the costliest kind to decode) keep the message under
      // the server's default item budget (maxBrineItems 100,000), so every frame is decoded.
      const count = 99_000;
      const body = repeated(TAG_TUP_L4, count, [TAG_STR1, 0x41]);
      return sustained(
        (root, seq) => frame(splice(callattr(seq, root, "get_answer", [C.LABEL_VALUE, MARK]), body)),
        5,
        `get_answer(*${count.toLocaleString("en-US")} × b"A")`,
      );
    }
    case 9: {
      const size = n(63_000_000);
      const body = repeated(TAG_STR_L4, size, [0]);
      return sustained(
        (root, seq) => frame(deflateSync(splice(callattr(seq, root, "get_answer", [C.LABEL_VALUE, [MARK]]), body)), 1),
        5,
        `zlib get_answer(<${mb(size)} of zeros>)`,
      );
    }
    default:
      throw new RangeError(`--attack must be 1-9, got ${values.attack}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    emit({ event: "done", detail: `attacker failed: ${err instanceof Error ? err.message : String(err)}` });
    process.exit(1);
  },
);
