// Wire replay: frames captured between a real Python RPyC 5.3 client and server
// (test/vectors/session-*.json) against rpyc-ts. Our decoder reads every recorded frame;
// our client writes the bytes Python writes (one CALLATTR where Python sends GETATTR and
// CALL) and understands the recorded server answers; our server answers the recorded
// Python client frames with replies of the same structure.

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  AttributeError,
  connect,
  getitem,
  isRemoteException,
  kwargs,
  len,
  PythonException,
  release,
  repr,
  Service,
  StopIteration,
  ValueError,
  type Connection,
  type PyValue,
  type PyValueIn,
} from "../../runtime/index.js";
import { dump, encodeFrame, FrameDecoder, load } from "../../runtime/wire/index.js";
import * as C from "../../runtime/wire/consts.js";
import { pyRepr } from "../../runtime/wire/pyrepr.js";
import { RawPeer, RawServer, type Message } from "../helpers/raw-peer.js";
import { eventually, serve } from "../helpers/servers.js";
import { prng } from "../helpers/prng.js";

// ---- the vectors ----------------------------------------------------------------------

interface FrameRecord {
  readonly dir: "c2s" | "s2c";
  readonly hex: string;
  readonly length_field: number;
  readonly compressed: number;
  readonly terminator_ok: boolean;
  readonly payload_len: number;
  readonly payload_hex?: string;
  readonly payload_hex_prefix?: string;
  readonly decoded: string;
  readonly summary: { readonly msg: string; readonly seq: number; readonly handler?: string };
}

interface SessionVector {
  readonly session: string;
  readonly notes: Readonly<Record<string, unknown>>;
  readonly frames: readonly FrameRecord[];
}

const SESSION_NAMES = ["session-a-seed", "session-b-callback", "session-c-large", "session-d-exception", "session-e-misc"] as const;
type SessionName = (typeof SESSION_NAMES)[number];

function loadSession(name: SessionName): SessionVector {
  return JSON.parse(readFileSync(new URL(`../vectors/${name}.json`, import.meta.url), "utf8")) as SessionVector;
}

/** The one payload of a recorded frame, through our FrameDecoder. */
function payloadOf(frame: string | Uint8Array): Buffer {
  const payloads = new FrameDecoder().push(typeof frame === "string" ? Buffer.from(frame, "hex") : Buffer.from(frame));
  expect(payloads).toHaveLength(1);
  return payloads[0]!;
}

function messageOf(frame: string | Uint8Array): Message {
  return load(payloadOf(frame)) as unknown as Message;
}

/** The recorded frame of one message: direction, message type and seq. */
function findFrame(session: SessionVector, dir: "c2s" | "s2c", msg: string, seq: number, handler?: string): FrameRecord {
  const frame = session.frames.find(
    (f) => f.dir === dir && f.summary.msg === msg && f.summary.seq === seq && (handler === undefined || f.summary.handler === handler),
  );
  if (!frame) throw new Error(`no ${dir} ${msg} seq ${seq} in ${session.session}`);
  return frame;
}

function findRequest(session: SessionVector, seq: number, handler?: string): FrameRecord {
  return findFrame(session, "c2s", "MSG_REQUEST", seq, handler);
}

/** A recorded uncompressed frame with its (immediate-int) seq replaced: what the same request looks like as our Nth. */
function reseq(frame: FrameRecord, seq: number): Buffer {
  const bytes = Buffer.from(frame.hex, "hex");
  expect(frame.compressed).toBe(0);
  expect(bytes[5]).toBe(0x12); // (msg, seq, args)
  expect(bytes[7]! >= 0x20 && bytes[7]! <= 0xef && seq <= 159).toBe(true); // seq is one immediate-int byte
  bytes[7] = 0x50 + seq;
  return bytes;
}

/** Wraps a payload in a frame by hand (independent of encodeFrame). */
function frameBytes(payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload, Buffer.from([0x0a])]);
}

/**
 * Python's GETATTR(obj, name) frame turned into the CALLATTR(obj, name, (), ()) frame Python
 * would send: same LOCAL_REF and name bytes, handler 8, two more boxed empty tuples.
 */
function callattrFromGetattr(getattr: FrameRecord, seq: number): Buffer {
  const payload = payloadOf(getattr.hex);
  // 12 51 <seq> 11 54 11 52 11: (REQUEST, seq, (GETATTR, (LABEL_TUPLE, <2 items>)))
  expect(payload.subarray(3, 8).toString("hex")).toBe("1154115211");
  const items = payload.subarray(8);
  const head = Buffer.from([0x12, 0x51, 0x50 + seq, 0x11, 0x50 + C.HANDLE_CALLATTR, 0x11, 0x52, 0x13]);
  const emptyArgs = Buffer.from("115102115102", "hex"); // (LABEL_VALUE, ()), (LABEL_VALUE, ())
  return frameBytes(Buffer.concat([head, items, emptyArgs]));
}

// ---- gen_vectors.py's describe_message, in TypeScript ---------------------------------

const MSG_NAMES: Readonly<Record<number, string>> = { 1: "MSG_REQUEST", 2: "MSG_REPLY", 3: "MSG_EXCEPTION" };
const LABEL_NAMES: Readonly<Record<number, string>> = { 1: "LABEL_VALUE", 2: "LABEL_TUPLE", 3: "LABEL_LOCAL_REF", 4: "LABEL_REMOTE_REF" };

function shortRepr(value: unknown, limit: number): string {
  const chars = Array.from(pyRepr(value));
  return chars.length > limit ? `${chars.slice(0, limit).join("")}...<${chars.length} chars total>` : chars.join("");
}

function describeBoxed(boxed: PyValue): string {
  const [label, value] = boxed as readonly [number, PyValue];
  const name = LABEL_NAMES[label] ?? `LABEL?${pyRepr(label)}`;
  if (label === C.LABEL_TUPLE) return `${name}(${(value as readonly PyValue[]).map(describeBoxed).join(", ")})`;
  return `${name}(${shortRepr(value, 300)})`;
}

function describeMessage([msg, seq, args]: Message): Record<string, unknown> {
  const out: Record<string, unknown> = { msg: MSG_NAMES[msg] ?? msg, seq: Number(seq) };
  if (msg === C.MSG_REQUEST) {
    const [handler, boxed] = args as readonly [number, PyValue];
    out.handler = C.HANDLER_NAMES[handler] ?? handler;
    out.args = describeBoxed(boxed);
  } else if (msg === C.MSG_REPLY) {
    out.result = describeBoxed(args);
  } else {
    out.exception = shortRepr(args, 4000);
  }
  return out;
}

// ---- A1: every recorded frame decodes ---------------------------------------------------

describe("recorded Python frames decode with FrameDecoder + load", () => {
  for (const name of SESSION_NAMES) {
    const session = loadSession(name);

    it(`${name}: each frame's msg, seq, handler and labelled args match the recorded summary`, () => {
      expect(session.frames.length).toBeGreaterThan(0);
      for (const [index, frame] of session.frames.entries()) {
        const where = `${name} frame ${index}`;
        const bytes = Buffer.from(frame.hex, "hex");
        expect(bytes.readUInt32BE(0), where).toBe(frame.length_field);
        expect(bytes[4], where).toBe(frame.compressed);
        expect(bytes.length, where).toBe(5 + frame.length_field + 1);
        const payload = payloadOf(bytes);
        expect(payload.length, where).toBe(frame.payload_len);
        if (frame.payload_hex !== undefined) expect(payload.toString("hex"), where).toBe(frame.payload_hex);
        if (frame.payload_hex_prefix !== undefined) expect(payload.toString("hex").startsWith(frame.payload_hex_prefix), where).toBe(true);

        const message = load(payload) as unknown as Message;
        expect(Array.isArray(message) && message.length === 3, where).toBe(true);
        const [msg, seq, args] = message;
        expect(MSG_NAMES[msg], where).toBe(frame.summary.msg);
        expect(Number(seq), where).toBe(frame.summary.seq);
        if (msg === C.MSG_REQUEST) expect(C.HANDLER_NAMES[(args as readonly PyValue[])[0] as number], where).toBe(frame.summary.handler);
        // The whole label-annotated view, rebuilt from our decoding with Python's repr rules.
        expect(describeMessage(message), where).toEqual(frame.summary);
        expect(shortRepr(message, 1500), where).toBe(frame.decoded);
      }
    });

    it(`${name}: re-encoding reproduces Python's bytes (brine exactly; frames exactly when uncompressed)`, () => {
      for (const [index, frame] of session.frames.entries()) {
        const where = `${name} frame ${index}`;
        const payload = payloadOf(frame.hex);
        const reencoded = dump(load(payload) as PyValueIn);
        expect(reencoded.equals(payload), where).toBe(true);
        const ourFrame = encodeFrame(reencoded);
        if (frame.compressed === 0) {
          expect(ourFrame.toString("hex"), where).toBe(frame.hex);
        } else {
          // Node's zlib is not CPython's: same flag, same payload once decompressed.
          expect(payload.length, where).toBeGreaterThan(3000);
          expect(ourFrame[4], where).toBe(1);
          expect(payloadOf(ourFrame).equals(payload), where).toBe(true);
        }
      }
    });

    it(`${name}: the frames of each direction decode the same from one stream cut at random points`, () => {
      const random = prng(name.length * 7919);
      for (const dir of ["c2s", "s2c"] as const) {
        const frames = session.frames.filter((f) => f.dir === dir);
        const stream = Buffer.concat(frames.map((f) => Buffer.from(f.hex, "hex")));
        const decoder = new FrameDecoder();
        const payloads: Buffer[] = [];
        for (let pos = 0; pos < stream.length; ) {
          const size = 1 + Math.floor(random() * 97);
          payloads.push(...decoder.push(stream.subarray(pos, pos + size)));
          pos += size;
        }
        expect(decoder.pending).toBe(0);
        expect(payloads.map((p) => p.toString("hex"))).toEqual(frames.map((f) => payloadOf(f.hex).toString("hex")));
      }
    });
  }
});

// ---- A2: our client against the recorded Python server ----------------------------------

function keyOf(value: PyValue): string {
  return dump(value as PyValueIn).toString("hex");
}

/**
 * Answers our client's requests with what the recorded Python server answered to the same
 * request (matched by its brine bytes, seq aside). Our CALLATTR(obj, name, args, kwargs) is
 * matched to Python's GETATTR(obj, name) and then CALL(method, args, kwargs).
 */
class RecordedServer {
  private readonly requests: { readonly seq: number; readonly key: string }[] = [];
  private readonly answers = new Map<number, Message>();
  readonly unmatched: Message[] = [];

  constructor(session: SessionVector) {
    for (const frame of session.frames) {
      const [msg, seq, args] = messageOf(frame.hex);
      if (frame.dir === "c2s" && msg === C.MSG_REQUEST) this.requests.push({ seq: Number(seq), key: keyOf(args) });
      if (frame.dir === "s2c" && msg !== C.MSG_REQUEST) this.answers.set(Number(seq), [msg, seq, args]);
    }
  }

  private recordedAnswer(request: PyValue): Message | undefined {
    const key = keyOf(request);
    const recorded = this.requests.find((r) => r.key === key);
    return recorded && this.answers.get(recorded.seq);
  }

  /** Our answer to one of the client's messages (renumbered), or undefined when none is due. */
  answer([msg, seq, args]: Message): Message | undefined {
    if (msg !== C.MSG_REQUEST) return undefined;
    const [handler, boxed] = args as readonly [number, PyValue];
    if (handler === C.HANDLE_CLOSE) return undefined;
    let recorded = this.recordedAnswer(args);
    if (!recorded && handler === C.HANDLE_CALLATTR) {
      const [, [target, name, callArgs, callKwargs]] = boxed as readonly [number, readonly PyValue[]];
      const got = this.recordedAnswer([C.HANDLE_GETATTR, [C.LABEL_TUPLE, [target!, name!]]]);
      if (got?.[0] === C.MSG_EXCEPTION) recorded = got;
      else if (got) {
        const [, method] = got[2] as readonly [number, PyValue];
        recorded = this.recordedAnswer([C.HANDLE_CALL, [C.LABEL_TUPLE, [[C.LABEL_LOCAL_REF, method], callArgs!, callKwargs!]]]);
      }
    }
    if (!recorded && handler === C.HANDLE_DEL) return [C.MSG_REPLY, seq, [C.LABEL_VALUE, null]];
    if (!recorded) {
      this.unmatched.push([msg, seq, args]);
      return [C.MSG_EXCEPTION, seq, [["builtins", "KeyError"], ["no recorded answer"], [], "<replay>"]];
    }
    return [recorded[0], seq, recorded[2]];
  }
}

/** Serves one fake-server connection from the recording until it closes (bounded). */
async function answerFromRecording(peer: RawPeer, recorded: RecordedServer): Promise<void> {
  for (let i = 0; i < 500; i++) {
    let request: Message;
    try {
      request = await peer.next(15_000, "a request from our client");
    } catch {
      return; // closed
    }
    const answer = recorded.answer(request);
    if (answer) peer.send(answer[0], answer[1], answer[2] as PyValueIn);
  }
}

/** Our client connected to a fake server that answers like the recorded Python server. */
async function withRecordedServer<T>(
  name: SessionName,
  body: (ctx: { session: SessionVector; peer: RawPeer; conn: Connection<T>; sentWithSeq(seq: number): Buffer }) => Promise<void>,
): Promise<void> {
  const session = loadSession(name);
  const recorded = new RecordedServer(session);
  const fake = await RawServer.start();
  try {
    const conn = await connect<T>("127.0.0.1", fake.port);
    const peer = await fake.accepted();
    const pump = answerFromRecording(peer, recorded);
    const sentWithSeq = (seq: number): Buffer => {
      const frame = peer.rawFrames.find((f) => {
        const [msg, s] = messageOf(f);
        return msg === C.MSG_REQUEST && Number(s) === seq;
      });
      if (!frame) throw new Error(`our client sent no request with seq ${seq}`);
      return frame;
    };
    try {
      await body({ session, peer, conn, sentWithSeq });
    } finally {
      await conn.close();
    }
    await pump;
    await peer.waitClosed();
    expect(recorded.unmatched).toEqual([]);
    // Our last frame is CLOSE: the bytes of Python's CLOSE, with our seq.
    const last = peer.rawFrames.at(-1)!;
    const [, lastSeq] = messageOf(last);
    const pythonClose = session.frames.find((f) => f.dir === "c2s" && f.summary.handler === "HANDLE_CLOSE")!;
    expect(last.toString("hex")).toBe(reseq(pythonClose, Number(lastSeq)).toString("hex"));
  } finally {
    await fake.close();
  }
}

/** The recorded Python services, as our client sees them (get_question is what the client tries, not what is exposed). */
interface PySeedService {
  exposed_get_answer(): number;
  exposed_the_real_answer_though: number;
  exposed_get_question(): string;
  exposed_get_service_name(): string;
}

interface PyErrorService {
  exposed_fail(n: number): unknown;
  exposed_fail_custom(): unknown;
  exposed_stop(): unknown;
}

interface PyThing {
  exposed_add(a: number, b: number): number;
}

interface PyMiscService {
  exposed_thing(): PyThing;
  exposed_a_list(): { readonly items: number[] };
  exposed_kw(a: number, b?: number, c?: number): unknown;
  exposed_get_service_name(): string;
}

describe("our client speaks Python's bytes to the recorded Python server", () => {
  it("session a: GETROOT is byte-identical, then one CALLATTR per call; values, the refused name and the close match", async () => {
    await withRecordedServer<PySeedService>("session-a-seed", async ({ session, peer, conn, sentWithSeq }) => {
      const root = conn.root;
      expect(await root.get_answer()).toBe(42);

      const sent = peer.rawFrames;
      expect(sent).toHaveLength(2); // GETROOT, then exactly one round trip for the call
      expect(sent[0]!.toString("hex")).toBe("000000080012515011531151020a");
      expect(sent[0]!.toString("hex")).toBe(session.frames[0]!.hex);
      const rootPack = (messageOf(findFrame(session, "s2c", "MSG_REPLY", 0).hex)[2] as readonly PyValue[])[1]!;
      expect(rootPack).toEqual(["__main__.MyService", 988237280, 139875640040464]);
      expect(messageOf(sent[1]!)).toEqual([
        C.MSG_REQUEST,
        1,
        [
          C.HANDLE_CALLATTR,
          [
            C.LABEL_TUPLE,
            [
              [C.LABEL_LOCAL_REF, rootPack],
              [C.LABEL_VALUE, "get_answer"],
              [C.LABEL_VALUE, []],
              [C.LABEL_VALUE, []],
            ],
          ],
        ],
      ]);
      // Byte for byte what Python would send for the same CALLATTR (its GETATTR's operands).
      const pythonGetAnswer = findRequest(session, 2, "HANDLE_GETATTR");
      expect(sent[1]!.toString("hex")).toBe(callattrFromGetattr(pythonGetAnswer, 1).toString("hex"));

      // An attribute read is Python's GETATTR frame exactly.
      expect(await root.the_real_answer_though).toBe(43);
      expect(sentWithSeq(2).toString("hex")).toBe(reseq(findRequest(session, 5, "HANDLE_GETATTR"), 2).toString("hex"));

      const err: unknown = await root.get_question().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AttributeError);
      expect(isRemoteException(err, "AttributeError")).toBe(true);
      expect((err as AttributeError).args).toEqual(["cannot access 'get_question'"]);
      expect((err as AttributeError).message).toBe("cannot access 'get_question'");
      expect((err as AttributeError).remoteTraceback).toContain("AttributeError: cannot access 'get_question'");
      expect(sentWithSeq(3).toString("hex")).toBe(callattrFromGetattr(findRequest(session, 6, "HANDLE_GETATTR"), 3).toString("hex"));

      expect(await root.get_service_name()).toBe("MY");
      expect(sentWithSeq(4).toString("hex")).toBe(callattrFromGetattr(findRequest(session, 8, "HANDLE_GETATTR"), 4).toString("hex"));
      expect(peer.rawFrames).toHaveLength(5);
    });
  });

  it("session d: recorded exception replies load as ValueError, the custom class with its attribute, and StopIteration", async () => {
    await withRecordedServer<PyErrorService>("session-d-exception", async ({ conn }) => {
      const root = conn.root;
      const fail = await root.fail(7).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(fail).toBeInstanceOf(ValueError);
      expect((fail as ValueError).args).toEqual(["bad value", 7]);
      expect((fail as ValueError).pythonType).toBe("builtins.ValueError");
      expect((fail as ValueError).remoteVersion).toBe("5.3.0");
      expect((fail as ValueError).remoteTraceback).toContain("ValueError: ('bad value', 7)");

      const custom = await root.fail_custom().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(custom).toBeInstanceOf(PythonException);
      expect(custom).not.toBeInstanceOf(ValueError);
      expect((custom as PythonException).name).toBe("CustomError");
      expect((custom as PythonException).pythonType).toBe("__main__.CustomError");
      expect((custom as PythonException).args).toEqual(["custom failure"]);
      expect((custom as PythonException).attrs.code).toBe(17);

      const stop = await root.stop().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(stop).toBeInstanceOf(StopIteration);
    });
  });

  it("session e: ping, a custom-object netref, len/repr/getitem, kwargs, concurrent requests and DELs match Python's frames", async () => {
    await withRecordedServer<PyMiscService>("session-e-misc", async ({ session, peer, conn, sentWithSeq }) => {
      await conn.ping("hello");
      expect(sentWithSeq(0).toString("hex")).toBe(reseq(findRequest(session, 2, "HANDLE_PING"), 0).toString("hex"));

      const root = conn.root;
      const thing = await root.thing(); // GETROOT (1), CALLATTR (2)
      expect(await thing.add(2, 3)).toBe(5); // 3
      expect(await len(thing)).toBe(3); // 4
      expect(sentWithSeq(4).toString("hex")).toBe(reseq(findRequest(session, 10, "HANDLE_CALLATTR"), 4).toString("hex"));
      expect(await repr(thing)).toBe("<Thing>"); // 5
      expect(sentWithSeq(5).toString("hex")).toBe(reseq(findRequest(session, 11, "HANDLE_REPR"), 5).toString("hex"));

      const list = await root.a_list(); // 6
      expect(await getitem(list, 1)).toBe(20); // 7
      expect(sentWithSeq(7).toString("hex")).toBe(reseq(findRequest(session, 15, "HANDLE_CALLATTR"), 7).toString("hex"));
      expect(await len(list)).toBe(3); // 8
      expect(sentWithSeq(8).toString("hex")).toBe(reseq(findRequest(session, 16, "HANDLE_CALLATTR"), 8).toString("hex"));

      // Keyword arguments go through an untyped call (typed methods are positional).
      const untypedKw = (root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)["kw"]!;
      expect(await untypedKw(1, kwargs({ c: 3 }))).toEqual([1, 2, [["c", 3]]]); // 9
      // CALLATTR(root, "kw", (1,), (("c", 3),)): kwargs travel as a tuple of pairs, as in Python's CALL.
      const [, , [handler, [, items]]] = messageOf(sentWithSeq(9)) as unknown as [number, number, [number, [number, PyValue[]]]];
      expect(handler).toBe(C.HANDLE_CALLATTR);
      expect(items.slice(1)).toEqual([
        [C.LABEL_VALUE, "kw"],
        [C.LABEL_VALUE, [1]],
        [C.LABEL_VALUE, [["c", 3]]],
      ]);
      const pythonKw = messageOf(findRequest(session, 18, "HANDLE_CALL").hex) as unknown as [number, number, [number, [number, PyValue[]]]];
      expect(items.slice(2)).toEqual(pythonKw[2][1][1].slice(1));

      // Two requests in flight at once (Python's async_), answered by seq.
      const [name] = await Promise.all([root.get_service_name(), conn.ping("hello")]); // 10, 11
      expect(name).toBe("MISC");

      // Releasing each netref sends one DEL(LOCAL_REF, 1): Python's DEL frames exactly.
      release(thing);
      release(list);
      await eventually(() => peer.rawFrames.length >= 14, 5000, "two DEL frames");
      expect(sentWithSeq(12).toString("hex")).toBe(reseq(findRequest(session, 23, "HANDLE_DEL"), 12).toString("hex"));
      expect(sentWithSeq(13).toString("hex")).toBe(reseq(findRequest(session, 24, "HANDLE_DEL"), 13).toString("hex"));
    });
  });
});

// ---- A3: recorded Python client frames against our server -------------------------------

class MyService extends Service {
  exposed_get_answer(): number {
    return 42;
  }
  exposed_the_real_answer_though = 43;
  get_question(): string {
    return "what is the airspeed velocity of an unladen swallow?";
  }
}

class CallbackService extends Service {
  async exposed_call_me(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return (await fn(x)) * 2;
  }
}

class BigService extends Service {
  exposed_echo(data: Uint8Array): Uint8Array {
    return data;
  }
  exposed_length(data: Uint8Array): number {
    return data.length;
  }
}

class CustomError extends PythonException {
  code = 0;
  constructor(message: string) {
    super(message);
    this.module = "__main__";
  }
}

class ErrorService extends Service {
  exposed_fail(n: number): never {
    throw new ValueError("bad value", n);
  }
  exposed_fail_custom(): never {
    const err = new CustomError("custom failure");
    err.code = 17;
    throw err;
  }
  exposed_stop(): never {
    throw new StopIteration();
  }
}

class Thing {
  exposed_add(a: number, b: number): number {
    return a + b;
  }
  __len__(): number {
    return 3;
  }
  __repr__(): string {
    return "<Thing>";
  }
}

/** Stands in for Python's list: served by reference, with __getitem__ and __len__. */
class PyList {
  constructor(private readonly items: number[]) {}
  __getitem__(index: number): number | undefined {
    return this.items[index];
  }
  __len__(): number {
    return this.items.length;
  }
}

class MiscService extends Service {
  exposed_thing(): Thing {
    return new Thing();
  }
  exposed_a_list(): PyList {
    return new PyList([10, 20, 30]);
  }
  exposed_kw(a: number, b = 2, c?: number): unknown[] {
    return [a, b, c === undefined ? [] : [["c", c]]];
  }
}

/** Attributes CPython 3.11 adds to exceptions that a JavaScript peer has no reason to send. */
const PYTHON_ONLY_ATTRS = new Set(["add_note", "name", "obj"]);

interface ReplayOptions {
  /** Names our INSPECT reply must list, by the recorded INSPECT's seq. */
  readonly inspect?: Readonly<Record<number, readonly string[]>>;
  /** Our name_pack for a recorded one (default: `__main__.X` -> `rpyc_ts.X`, builtins unchanged). */
  readonly namePacks?: Readonly<Record<string, string>>;
}

interface Replayed {
  /** Our server's answer to each recorded client request seq. */
  readonly answers: ReadonlyMap<number, Message>;
  /** The raw connection (closed by our server after CLOSE). */
  readonly peer: RawPeer;
}

function isDelRequest([msg, , args]: Message): boolean {
  return msg === C.MSG_REQUEST && (args as readonly PyValue[])[0] === C.HANDLE_DEL;
}

function isIdPack(value: unknown): value is readonly [string, number | bigint, number | bigint] {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    typeof value[0] === "string" &&
    (typeof value[1] === "number" || typeof value[1] === "bigint") &&
    (typeof value[2] === "number" || typeof value[2] === "bigint")
  );
}

/** Replaces every recorded server id_pack by the one our server gave for the same object. */
function rewritePacks(value: PyValue, packs: ReadonlyMap<string, PyValue>): PyValue {
  if (!Array.isArray(value)) return value;
  if (isIdPack(value)) {
    const ours = packs.get(keyOf(value));
    if (ours !== undefined) return ours;
  }
  return (value as readonly PyValue[]).map((item) => rewritePacks(item, packs));
}

/**
 * Sends the recorded client frames of a session to our server, in capture order, rewriting
 * id_packs (ours differ from CPython's addresses) and seqs of replies to our server's
 * requests, and checks that each recorded server message is matched by one of ours with
 * the same structure: message type, seq, labels, values, exception types and args.
 */
async function replayAgainstServer(port: number, session: SessionVector, options: ReplayOptions = {}): Promise<Replayed> {
  const peer = await RawPeer.connect(port);
  const packs = new Map<string, PyValue>();
  const serverSeqs = new Map<number, number | bigint>(); // recorded server request seq -> ours
  const handlers = new Map<number, number>(); // recorded client request seq -> handler
  const answers = new Map<number, Message>();
  let closeSeq: number | undefined;

  const ourNamePack = (recorded: string): string =>
    options.namePacks?.[recorded] ?? (recorded.startsWith("__main__.") ? `rpyc_ts.${recorded.slice("__main__.".length)}` : recorded);

  const expectSameBoxed = (recorded: PyValue, ours: PyValue, handler: number, where: string, inspectNames?: readonly string[]): void => {
    const [label, value] = recorded as readonly [number, PyValue];
    expect(Array.isArray(ours) && ours.length === 2, where).toBe(true);
    const [ourLabel, ourValue] = ours as readonly [number, PyValue];
    expect(ourLabel, `${where}: label`).toBe(label);
    switch (label) {
      case C.LABEL_VALUE:
        if (handler === C.HANDLE_INSPECT) {
          // A tuple of (name, doc-or-None) pairs, unfiltered.
          expect(Array.isArray(ourValue), where).toBe(true);
          for (const pair of ourValue as readonly PyValue[]) {
            expect(Array.isArray(pair) && pair.length === 2 && typeof pair[0] === "string", where).toBe(true);
            expect((pair as readonly PyValue[])[1] === null || typeof (pair as readonly PyValue[])[1] === "string", where).toBe(true);
          }
          const names = (ourValue as readonly (readonly PyValue[])[]).map((pair) => pair[0]);
          for (const name of inspectNames ?? []) expect(names, where).toContain(name);
        } else if (value instanceof Uint8Array && ourValue instanceof Uint8Array) {
          expect(Buffer.from(ourValue).equals(Buffer.from(value)), `${where}: bytes`).toBe(true);
        } else {
          expect(ourValue, where).toEqual(value);
        }
        return;
      case C.LABEL_TUPLE:
        expect(ourValue, where).toHaveLength((value as readonly PyValue[]).length);
        (value as readonly PyValue[]).forEach((item, i) => expectSameBoxed(item, (ourValue as readonly PyValue[])[i]!, handler, `${where}[${i}]`));
        return;
      case C.LABEL_REMOTE_REF:
        expect(isIdPack(ourValue), where).toBe(true);
        expect((ourValue as readonly PyValue[])[0], where).toBe(ourNamePack((value as readonly PyValue[])[0] as string));
        expect((ourValue as readonly PyValue[])[2], `${where}: an instance, not a class`).not.toBe(0);
        packs.set(keyOf(value), ourValue);
        return;
      case C.LABEL_LOCAL_REF:
        expect(ourValue, where).toEqual(packs.get(keyOf(value)) ?? value);
        return;
      default:
        throw new Error(`${where}: recorded label ${String(label)}`);
    }
  };

  const expectSameException = (recorded: PyValue, ours: PyValue, where: string): void => {
    if (recorded === C.EXC_STOP_ITERATION) {
      expect(ours, where).toBe(C.EXC_STOP_ITERATION);
      return;
    }
    const [type, args, attrs] = recorded as readonly PyValue[];
    expect(Array.isArray(ours) && ours.length === 4, where).toBe(true);
    const [ourType, ourArgs, ourAttrs, ourTraceback] = ours as readonly PyValue[];
    expect(ourType, `${where}: (module, class)`).toEqual(type);
    expect(ourArgs, `${where}: args`).toEqual(args);
    const byName = new Map((ourAttrs as readonly (readonly [string, PyValue])[]).map(([k, v]) => [k, v]));
    for (const [key, value] of attrs as readonly (readonly [string, PyValue])[]) {
      if (!PYTHON_ONLY_ATTRS.has(key)) expect(byName.get(key), `${where}: attr ${key}`).toEqual(value);
    }
    expect(typeof ourTraceback === "string" && ourTraceback.length > 0, `${where}: traceback text`).toBe(true);
  };

  for (const [index, frame] of session.frames.entries()) {
    const recorded = messageOf(frame.hex);
    const [msg, seq, args] = recorded;
    const where = `${session.session} frame ${index} (${frame.dir} ${frame.summary.msg} seq ${frame.summary.seq}${frame.summary.handler ? " " + frame.summary.handler : ""})`;
    if (frame.dir === "c2s") {
      let ourSeq: number | bigint = seq;
      if (msg === C.MSG_REQUEST) {
        const handler = (args as readonly PyValue[])[0] as number;
        handlers.set(Number(seq), handler);
        if (handler === C.HANDLE_CLOSE) closeSeq = Number(seq);
      } else {
        ourSeq = serverSeqs.get(Number(seq)) ?? seq;
      }
      peer.write(encodeFrame(dump([msg, ourSeq, rewritePacks(args, packs)] as PyValueIn)));
      continue;
    }
    // The server's own DELs follow its garbage collector, in Python and here: not replayed.
    if (isDelRequest(recorded)) continue;
    const ours = await peer.nextMatching((m) => !isDelRequest(m), 5000, where);
    expect(ours[0], `${where}: message type`).toBe(msg);
    if (msg === C.MSG_REQUEST) {
      // A nested request from the server (a callback into the client).
      serverSeqs.set(Number(seq), ours[1]);
      expect(Number(ours[1]), `${where}: seq`).toBe(Number(seq));
      const [handler, boxed] = args as readonly [number, PyValue];
      const [ourHandler, ourBoxed] = ours[2] as readonly [number, PyValue];
      expect(ourHandler, where).toBe(handler);
      expectSameBoxed(boxed, ourBoxed, handler, where);
      continue;
    }
    expect(Number(ours[1]), `${where}: seq`).toBe(Number(seq));
    const handler = handlers.get(Number(seq))!;
    if (msg === C.MSG_REPLY) expectSameBoxed(args, ours[2], handler, where, options.inspect?.[Number(seq)]);
    else expectSameException(args, ours[2], where);
    answers.set(Number(seq), ours);
  }

  // CLOSE: no reply, and the server closes the connection.
  expect(closeSeq).toBeDefined();
  await peer.waitClosed();
  expect(peer.decodeError).toBeUndefined();
  const late = peer.received.filter((m) => m[0] !== C.MSG_REQUEST && Number(m[1]) === closeSeq);
  expect(late).toEqual([]);
  expect(peer.unread.filter((m) => !isDelRequest(m))).toEqual([]);
  return { answers, peer };
}

function replyValue(replayed: Replayed, seq: number): PyValue {
  const answer = replayed.answers.get(seq);
  expect(answer?.[0]).toBe(C.MSG_REPLY);
  const [label, value] = answer![2] as readonly [number, PyValue];
  expect(label).toBe(C.LABEL_VALUE);
  return value;
}

function exceptionOf(replayed: Replayed, seq: number): readonly PyValue[] {
  const answer = replayed.answers.get(seq);
  expect(answer?.[0]).toBe(C.MSG_EXCEPTION);
  return answer![2] as readonly PyValue[];
}

describe("our server answers the recorded Python client frames", () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  const serveForTest: typeof serve = async (service, options) => {
    const server = await serve(service, options);
    servers.push(server);
    return server;
  };

  it("session a (seed MyService): 42, 43, the refused get_question, 'MY', INSPECT, DEL replies, CLOSE closes", async () => {
    const server = await serveForTest(MyService);
    const session = loadSession("session-a-seed");
    const replayed = await replayAgainstServer(server.port, session, {
      inspect: { 1: ["exposed_get_answer", "exposed_get_service_name", "on_connect", "on_disconnect"] },
    });
    expect(replyValue(replayed, 3)).toBe(42);
    expect(replyValue(replayed, 5)).toBe(43);
    for (const seq of [6, 7]) {
      const [type, args] = exceptionOf(replayed, seq);
      expect(type).toEqual(["builtins", "AttributeError"]);
      expect(args).toEqual(["cannot access 'get_question'"]);
    }
    expect(replyValue(replayed, 9)).toBe("MY");
    expect(replyValue(replayed, 4)).toBeNull(); // DEL
    expect(replyValue(replayed, 10)).toBeNull(); // DEL sent together with CLOSE, answered before closing
    await eventually(() => server.connections.size === 0, 5000, "the server to drop the connection");
  });

  it("session b (callback): the server's nested CALL is Python's frame byte for byte; the recorded reply completes the call", async () => {
    const server = await serveForTest(CallbackService);
    const session = loadSession("session-b-callback");
    const replayed = await replayAgainstServer(server.port, session);
    expect(replyValue(replayed, 3)).toBe(42);
    const nested = replayed.peer.rawFrames.find((f) => messageOf(f)[0] === C.MSG_REQUEST)!;
    expect(nested.toString("hex")).toBe(findFrame(session, "s2c", "MSG_REQUEST", 0, "HANDLE_CALL").hex);
  });

  it("session c (large): compressed requests are read; the 102400-byte echo comes back compressed and intact", async () => {
    const server = await serveForTest(BigService);
    const session = loadSession("session-c-large");
    const replayed = await replayAgainstServer(server.port, session);
    expect(replyValue(replayed, 3)).toBe(102400);
    const echoed = replyValue(replayed, 6) as Uint8Array;
    expect(echoed).toHaveLength(102400);
    expect(echoed.every((byte, i) => byte === i % 256)).toBe(true);
    const compressed = replayed.peer.headers.filter((h) => h.flag !== 0);
    expect(compressed).toHaveLength(1);
  });

  it("session d (exceptions): ValueError args, the custom class with its attribute, and StopIteration as 1", async () => {
    const server = await serveForTest(ErrorService);
    const session = loadSession("session-d-exception");
    const replayed = await replayAgainstServer(server.port, session);
    const [valueType, valueArgs] = exceptionOf(replayed, 3);
    expect(valueType).toEqual(["builtins", "ValueError"]);
    expect(valueArgs).toEqual(["bad value", 7]);
    const [customType, customArgs, customAttrs] = exceptionOf(replayed, 5);
    expect(customType).toEqual(["__main__", "CustomError"]);
    expect(customArgs).toEqual(["custom failure"]);
    expect(customAttrs).toContainEqual(["code", 17]);
    expect(customAttrs).toContainEqual(["_remote_version", "5.3.0"]);
    expect(replayed.answers.get(7)).toEqual([C.MSG_EXCEPTION, 7, C.EXC_STOP_ITERATION]);
  });

  it("session e (misc): ping echo, a served object with INSPECT, len/repr, a list-like, kwargs, the async request, DELs", async () => {
    const server = await serveForTest(MiscService);
    const session = loadSession("session-e-misc");
    const replayed = await replayAgainstServer(server.port, session, {
      inspect: { 1: ["exposed_thing", "exposed_a_list", "exposed_kw"], 5: ["exposed_add", "__len__", "__repr__"] },
      namePacks: { "builtins.list": "rpyc_ts.PyList" },
    });
    expect(replyValue(replayed, 2)).toBe("hello");
    expect(replyValue(replayed, 8)).toBe(5);
    expect(replyValue(replayed, 10)).toBe(3);
    expect(replyValue(replayed, 11)).toBe("<Thing>");
    expect(replyValue(replayed, 15)).toBe(20);
    expect(replyValue(replayed, 16)).toBe(3);
    expect(replyValue(replayed, 18)).toEqual([1, 2, [["c", 3]]]);
    expect(replyValue(replayed, 21)).toBe("MISC");
    for (const seq of [6, 9, 14, 19, 22, 23, 24]) expect(replyValue(replayed, seq)).toBeNull();
    await eventually(() => server.connections.size === 0, 5000, "the server to drop the connection");
  });
});
