// What a hostile page does to a gateway: it speaks RPyC's frames by hand over a WebSocket
// (one frame per binary message), so it can send what no stub would: forged handlers and ids,
// names the model does not declare, wrong types, a flood of references, oversize frames. Each
// attack records what came back. Runs in Node (test/gateway/hostile.test.ts, with `ws`) and
// bundled into a page in Chromium (test/browser/gateway.test.ts), against the same gateway.

import { encodeFrame, FrameDecoder } from "../../runtime/wire/channel.js";
import { dump, load } from "../../runtime/wire/brine.js";
import * as C from "../../runtime/wire/consts.js";
import type { PyValue, PyValueIn } from "../../runtime/wire/values.js";

/** What one attack got: "reply", "exception <Type>: <message>", or "closed". */
export type Outcome = string;

interface Socket {
  binaryType: string;
  send(data: Uint8Array): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
  onopen: (() => void) | null;
  onerror: ((event: unknown) => void) | null;
}

type SocketClass = new (url: string) => Socket;
type IdPack = readonly [string, number | bigint, number | bigint];
const WAIT_MS = 20_000;

/** A raw RPyC session over one WebSocket. */
class RawSession {
  #seq = 0;
  readonly #waiting = new Map<number, (outcome: { ok: boolean; value: PyValue }) => void>();
  readonly #decoder = new FrameDecoder(1 << 30);
  #closed = false;
  readonly #closedWaiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.onmessage = (event) => {
      const data = event.data;
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
      for (const payload of this.#decoder.push(bytes as Parameters<FrameDecoder["push"]>[0])) {
        const [msg, seq, args] = load(payload) as unknown as [number, number, PyValue];
        if (msg === C.MSG_REQUEST) continue; // the gateway asks nothing of a raw page that matters here
        this.#waiting.get(seq)?.({ ok: msg === C.MSG_REPLY, value: args });
        this.#waiting.delete(seq);
      }
    };
    socket.onclose = () => {
      this.#closed = true;
      for (const wake of this.#closedWaiters.splice(0)) wake();
      for (const settle of this.#waiting.values()) settle({ ok: false, value: "closed" });
      this.#waiting.clear();
    };
  }

  static open(WebSocketClass: SocketClass, url: string): Promise<RawSession> {
    const socket = new WebSocketClass(url);
    socket.binaryType = "arraybuffer";
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(new RawSession(socket));
      socket.onerror = () => reject(new Error(`cannot open ${url}`));
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a text message (frames travel in binary ones). */
  sendText(text: string): void {
    (this.socket.send as unknown as (data: string) => void)(text);
  }

  /** Sends raw bytes as one binary message. */
  sendBytes(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  /** Sends a request and waits for its answer: the reply value, or an exception's description. */
  request(handler: number, boxedArgs: PyValueIn): Promise<{ ok: boolean; value: PyValue }> {
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      if (this.#closed) return resolve({ ok: false, value: "closed" });
      const timer = setTimeout(() => resolve({ ok: false, value: "no answer" }), WAIT_MS);
      this.#waiting.set(seq, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      this.sendBytes(encodeFrame(dump([C.MSG_REQUEST, seq, [handler, boxedArgs]]), false));
    });
  }

  waitClosed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, WAIT_MS);
      this.#closedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** Boxes plain values and netref ids as RPyC does: a tuple of (label, value) pairs. */
const value = (v: PyValueIn): PyValueIn => [C.LABEL_VALUE, v];
const ref = (idPack: IdPack): PyValueIn => [C.LABEL_LOCAL_REF, idPack as unknown as PyValueIn];
const boxed = (...items: PyValueIn[]): PyValueIn => [C.LABEL_TUPLE, items];

/** The id_pack of a boxed reference in a reply: (LABEL_REMOTE_REF, id_pack). */
function idPackOf(reply: PyValue): IdPack {
  return (reply as readonly PyValue[])[1] as unknown as IdPack;
}

function describe(outcome: { ok: boolean; value: PyValue }): Outcome {
  if (outcome.ok) return "reply";
  if (outcome.value === "closed" || outcome.value === "no answer") return outcome.value;
  const raw = outcome.value as readonly PyValue[];
  const [type, args] = raw as [readonly [string, string], readonly PyValue[]];
  return `exception ${type?.[1] ?? "?"}: ${String(args?.[0] ?? "")}`;
}

/**
 * Runs every attack against the gateway at `url`, each on its own WebSocket where it may
 * close it, and returns what each got. Nothing here waits on a fixed delay: every step waits
 * for its answer or for the socket to close (bounded by a generous guard).
 */
export async function attackGateway(WebSocketClass: SocketClass, url: string): Promise<Record<string, Outcome>> {
  const results: Record<string, Outcome> = {};
  const session = await RawSession.open(WebSocketClass, url);
  const root = idPackOf((await session.request(C.HANDLE_GETROOT, boxed())).value);
  const on = (name: string, handler: number, ...args: PyValueIn[]) =>
    session
      .request(handler, boxed(ref(root), ...args))
      .then(describe)
      .then((o) => (results[name] = o));

  // Names the model does not declare: private, dunder, JavaScript's machinery, the lifecycle hooks.
  for (const name of ["_audit", "_books", "__class__", "__dict__", "__init__", "_rpyc_getattr", "on_connect", "constructor", "__proto__", "prototype"]) {
    await on(`getattr ${name}`, C.HANDLE_GETATTR, value(name));
    await on(`callattr ${name}`, C.HANDLE_CALLATTR, value(name), value([]), value([]));
  }
  await on("setattr count", C.HANDLE_SETATTR, value("count"), value(1));
  await on("delattr count", C.HANDLE_DELATTR, value("count"));
  await on("pickle", C.HANDLE_PICKLE, value(5));
  // Wrong types and arities, refused by the model before anything is forwarded.
  await on("find(42)", C.HANDLE_CALLATTR, value("find"), value([42]), value([]));
  await on("search(tuple)", C.HANDLE_CALLATTR, value("search"), value([[1, 2]]), value([]));
  await on("lend(on_due='x')", C.HANDLE_CALLATTR, value("lend"), value(["978-0201633610", "eve", "x"]), value([]));
  await on("count(1)", C.HANDLE_CALLATTR, value("count"), value([1]), value([]));
  await on(
    "find(isbn=..., extra=...)",
    C.HANDLE_CALLATTR,
    value("find"),
    value([]),
    value([
      ["isbn", "x"],
      ["extra", 1],
    ]),
  );
  // A reference where data is declared: the page's own object as the isbn.
  await on("find(page object)", C.HANDLE_CALLATTR, value("find"), boxed([C.LABEL_REMOTE_REF, ["page.Thing", 1, 0]] as PyValueIn), value([]));
  // Forged handlers and ids.
  results["handler 99"] = describe(await session.request(99, boxed()));
  results["forged id"] = describe(
    await session.request(C.HANDLE_CALLATTR, boxed(ref(["library_service.LibraryService", 1, 1]), value("count"), value([]), value([]))),
  );
  results["a well-formed call still works"] = describe(await session.request(C.HANDLE_CALLATTR, boxed(ref(root), value("count"), value([]), value([]))));

  // A flood of references: one message carrying more of the page's objects than the gateway holds.
  const flood = await RawSession.open(WebSocketClass, url);
  const floodRoot = idPackOf((await flood.request(C.HANDLE_GETROOT, boxed())).value);
  const refs = Array.from({ length: 5_000 }, (_, i) => [C.LABEL_REMOTE_REF, ["page.Callback", i + 1, 0]] as PyValueIn);
  results["flood of references"] = describe(await flood.request(C.HANDLE_CALLATTR, boxed(ref(floodRoot), value("search"), boxed(...refs), value([]))));

  // Oversize: a header announcing 100 MB, then a real 2 MiB message.
  const liar = await RawSession.open(WebSocketClass, url);
  const header = new Uint8Array(5 + 16);
  new DataView(header.buffer).setUint32(0, 100 * 1024 * 1024);
  liar.sendBytes(header);
  await liar.waitClosed();
  results["frame header of 100 MB"] = liar.closed ? "closed" : "open";
  const big = await RawSession.open(WebSocketClass, url);
  big.sendBytes(new Uint8Array(2 * 1024 * 1024));
  await big.waitClosed();
  results["message of 2 MiB"] = big.closed ? "closed" : "open";

  // A text message breaks the mapping (frames travel in binary messages).
  const text = await RawSession.open(WebSocketClass, url);
  text.sendText("hello");
  await text.waitClosed();
  results["text message"] = text.closed ? "closed" : "open";

  for (const s of [session, flood, liar, big, text]) s.close();
  return results;
}

/** What a page may cause upstream: its session's root, the model's members, releasing references. */
export const ALLOWED_UPSTREAM =
  /^(getroot|inspect|del|close|callattr (count|find|search|titles|year_span|lend|give_back|watch|fingerprint|__getitem__|__len__|__contains__|__iter__)|getattr (opening_hours|isbn|title|year)|buffiter)$/;

/** The requests the Python server dispatched, as "handler name". */
export function seenUpstream(output: string): string[] {
  return [...output.matchAll(/^SEEN (.*)$/gm)].map((m) => {
    const request = JSON.parse(m[1]!) as { handler: string; name?: string; malformed?: string };
    if (request.malformed) return `malformed ${request.malformed}`;
    return request.name === undefined ? request.handler : `${request.handler} ${request.name}`;
  });
}

/** The outcome each attack must have: refused with the named error, or its connection closed. */
export const EXPECTED_OUTCOMES: Record<string, RegExp> = {
  ...Object.fromEntries(
    ["_audit", "_books", "__class__", "__dict__", "__init__", "_rpyc_getattr", "on_connect", "constructor", "__proto__", "prototype"].flatMap((name) => [
      [`getattr ${name}`, /^exception AttributeError: cannot access/],
      [`callattr ${name}`, /^exception AttributeError: cannot access/],
    ]),
  ),
  "setattr count": /^exception AttributeError/,
  "delattr count": /^exception AttributeError/,
  pickle: /^exception /,
  "find(42)": /^exception TypeError: find\(\) argument 'isbn': expected string, got number 42/,
  "search(tuple)": /^exception TypeError: search\(\) argument 'text': expected string/,
  "lend(on_due='x')": /^exception TypeError: lend\(\) argument 'on_due'/,
  "count(1)": /^exception TypeError: count\(\) takes 0 arguments, got 1/,
  "find(isbn=..., extra=...)": /^exception TypeError: find\(\) got an unexpected keyword argument 'extra'/,
  "find(page object)": /^exception TypeError: find\(\) argument 'isbn': expected string, got a netref/,
  "handler 99": /^exception |^closed$/,
  "forged id": /^exception |^closed$/,
  "a well-formed call still works": /^reply$/,
  "flood of references": /^exception LimitExceededError|^closed$/,
  "frame header of 100 MB": /^closed$/,
  "message of 2 MiB": /^closed$/,
  "text message": /^closed$/,
};
