// Bad input gets a clear error and loses nothing. A raw peer sends oversized frames,
// undecodable payloads, malformed and forged requests, attempts on JavaScript's own
// machinery and random garbage to a ThreadedServer, while a second, healthy rpyc-ts client
// on the same server keeps getting right answers. Expected reactions follow RPyC 5.3
// (docs/protocol.md §8.5): stream-level errors close the connection after one
// HANDLE_CLOSE request; request-level errors get an exception reply and the connection
// stays usable.

import { deflateSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import * as C from "../../runtime/wire/consts.js";
import { Service, type ProtocolConfig, type PyValue, type PyValueIn } from "../../runtime/index.js";
import { dump } from "../../runtime/wire/index.js";
import { RawPeer, rawFrame, type Message } from "../helpers/raw-peer.js";
import { connectTo, eventually, serve } from "../helpers/servers.js";
import { prng } from "../helpers/prng.js";

class MyService extends Service {
  /** A plain function (it has its own `prototype`), handed out by reference. */
  readonly helper = function helper(x: number): number {
    return x + 1;
  };
  exposed_get_answer(): number {
    return 42;
  }
  exposed_the_real_answer_though = 43;
  get_question(): string {
    return "what is the airspeed velocity of an unladen swallow?";
  }
  exposed_get_helper(): (x: number) => number {
    return this.helper;
  }
  async exposed_call_me(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return (await fn(x)) * 2;
  }
}

type IdPack = readonly [string, number | bigint, number | bigint];

/** What a Python peer sends when it gives up on a connection: `(1, seq, (HANDLE_CLOSE, (1, ())))`. */
const CLOSE_REQUEST = (seq: number): Message => [C.MSG_REQUEST, seq, [C.HANDLE_CLOSE, [C.LABEL_VALUE, []]]];

/** Servers and connections of the running test, closed when it ends. */
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A server plus a healthy client connection that must stay unaffected by every attack. */
async function serverWithHealthyClient(protocolConfig: Partial<ProtocolConfig> = {}, service: object | (new () => object) = MyService) {
  const server = await serve(service, { protocolConfig });
  opened.push(server);
  const healthy = await connectTo<MyService>(server.port);
  opened.push(healthy);
  const expectHealthy = async (): Promise<void> => {
    expect(healthy.closed).toBe(false);
    expect(await healthy.root.get_answer()).toBe(42);
    expect(await healthy.root.the_real_answer_though).toBe(43);
  };
  await expectHealthy();
  return { server, healthy, expectHealthy };
}

/** A raw connection with its own request counter. */
class RawClient {
  private seq = 0;
  private constructor(readonly peer: RawPeer) {}

  static async open(port: number): Promise<RawClient> {
    return new RawClient(await RawPeer.connect(port));
  }

  /** Sends a request and returns the answer to it (other messages are skipped). */
  async call(handler: number, boxedArgs: PyValueIn): Promise<Message> {
    const seq = this.seq++;
    this.peer.request(seq, handler, boxedArgs);
    return this.answerTo(seq);
  }

  answerTo(seq: number): Promise<Message> {
    return this.peer.nextMatching((m) => m[0] !== C.MSG_REQUEST && Number(m[1]) === seq, 5000, `the answer to seq ${seq}`);
  }

  nextSeq(): number {
    return this.seq++;
  }

  /** GETROOT: the root's id_pack. */
  async root(): Promise<IdPack> {
    const [msg, , boxed] = await this.call(C.HANDLE_GETROOT, [C.LABEL_VALUE, []]);
    expect(msg).toBe(C.MSG_REPLY);
    const [label, pack] = boxed as readonly [number, IdPack];
    expect(label).toBe(C.LABEL_REMOTE_REF);
    return pack;
  }

  /** CALLATTR(obj, name, args, ()) by reference to `pack`. */
  callattr(pack: IdPack, name: PyValueIn, args: PyValueIn[] = []): Promise<Message> {
    return this.call(C.HANDLE_CALLATTR, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, pack],
        [C.LABEL_VALUE, name],
        [C.LABEL_VALUE, args],
        [C.LABEL_VALUE, []],
      ],
    ]);
  }

  /** The connection still serves: GETROOT, then CALLATTR get_answer -> 42. */
  async expectUsable(): Promise<void> {
    const root = await this.root();
    expect(await this.callattr(root, "get_answer")).toEqual([C.MSG_REPLY, expect.anything(), [C.LABEL_VALUE, 42]]);
  }

  close(): Promise<void> {
    return this.peer.close();
  }
}

/** Asserts an exception reply of a builtin class; returns its args. */
function expectException(answer: Message, className: string): readonly PyValue[] {
  expect(answer[0], `expected an exception reply, got ${JSON.stringify(answer, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`).toBe(
    C.MSG_EXCEPTION,
  );
  const [type, args, attrs, traceback] = answer[2] as readonly PyValue[];
  expect(type).toEqual(["builtins", className]);
  expect(Array.isArray(args)).toBe(true);
  expect(attrs).toContainEqual(["_remote_version", "5.3.0"]);
  expect(typeof traceback).toBe("string");
  return args as readonly PyValue[];
}

/** Sends `bytes` on a fresh raw connection and expects Python's reaction to a broken stream. */
async function expectClosedAfter(port: number, bytes: Uint8Array): Promise<void> {
  const peer = await RawPeer.connect(port);
  try {
    peer.write(bytes);
    await peer.waitClosed();
    // No exception reply: exactly one HANDLE_CLOSE request (the server's first request, seq 0).
    expect(peer.decodeError).toBeUndefined();
    expect(peer.received).toEqual([CLOSE_REQUEST(0)]);
  } finally {
    await peer.close();
  }
}

/** A PING request frame whose brine payload is exactly `size` bytes. */
function pingOfPayloadSize(seq: number, size: number): Buffer {
  for (let n = Math.max(0, size - 40); n <= size; n++) {
    const payload = dump([C.MSG_REQUEST, seq, [C.HANDLE_PING, [C.LABEL_VALUE, ["x".repeat(n)]]]]);
    if (payload.length === size) return rawFrame(payload);
  }
  throw new Error(`no PING payload of ${size} bytes`);
}

// ---- oversized frames -------------------------------------------------------------------

describe("a frame longer than maxFrameSize", () => {
  it("is refused from its header alone (maxFrameSize 1024): CLOSE, then the socket closes; the healthy client goes on", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient({ maxFrameSize: 1024 });

    // Exactly at the limit: served.
    const atLimit = await RawClient.open(server.port);
    atLimit.peer.write(pingOfPayloadSize(0, 1024));
    const [msg, seq, boxed] = await atLimit.answerTo(0);
    expect([msg, seq]).toEqual([C.MSG_REPLY, 0]);
    expect(((boxed as readonly PyValue[])[1] as string).length).toBeGreaterThan(1000);
    await atLimit.close();

    // One byte over, header only: the body never comes, the server does not wait for it.
    const header = Buffer.from([0, 0, 0x04, 0x01, 0]); // length 1025, not compressed
    await expectClosedAfter(server.port, header);
    await expectHealthy();

    // Much larger, with the first part of a body.
    await expectClosedAfter(server.port, Buffer.concat([Buffer.from([0, 0x10, 0, 0, 0]), Buffer.alloc(512, 0x41)]));
    await expectHealthy();

    // Small on the wire, larger than the limit once decompressed.
    const bomb = deflateSync(dump([C.MSG_REQUEST, 0, [C.HANDLE_PING, [C.LABEL_VALUE, ["x".repeat(100_000)]]]]));
    expect(bomb.length).toBeLessThan(1024);
    await expectClosedAfter(server.port, rawFrame(bomb, 1));
    await expectHealthy();
    await eventually(() => server.connections.size === 1, 5000, "only the healthy connection left");
  });

  it("with the default limit (64 MiB), a 0xFFFFFFFF length is refused from the header alone", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient();
    await expectClosedAfter(server.port, Buffer.from([0xff, 0xff, 0xff, 0xff, 0]));
    await expectHealthy();
    await expectClosedAfter(server.port, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0x78, 0x01]));
    await expectHealthy();
    await eventually(() => server.connections.size === 1, 5000, "only the healthy connection left");
  });
});

// ---- undecodable frames -----------------------------------------------------------------

describe("a frame that is not an RPyC message (docs/protocol.md §8.5)", () => {
  const cases: [string, Buffer][] = [
    ["unknown brine tag 0xff", rawFrame(Buffer.from([0xff]))],
    ["unknown tag inside a tuple", rawFrame(Buffer.from([0x12, 0x51, 0x50, 0xf3]))],
    ["an empty payload", rawFrame(Buffer.alloc(0))],
    ["truncated brine", rawFrame(Buffer.from([0x12, 0x51, 0x50]))],
    ["trailing bytes after the message", rawFrame(Buffer.concat([dump([C.MSG_REQUEST, 0, [C.HANDLE_GETROOT, [C.LABEL_VALUE, []]]]), Buffer.from([0x00])]))],
    ["not a tuple", rawFrame(dump(5))],
    ["a 2-tuple", rawFrame(dump([C.MSG_REQUEST, 0]))],
    ["a 4-tuple", rawFrame(dump([C.MSG_REQUEST, 0, [C.HANDLE_GETROOT, [C.LABEL_VALUE, []]], null]))],
    ["message type 9", rawFrame(dump([9, 0, [C.HANDLE_GETROOT, [C.LABEL_VALUE, []]]]))],
    ["message type 0", rawFrame(dump([0, 0, [C.HANDLE_GETROOT, [C.LABEL_VALUE, []]]]))],
    ["the compressed flag on bytes that are not zlib", rawFrame(dump([C.MSG_REQUEST, 0, [C.HANDLE_GETROOT, [C.LABEL_VALUE, []]]]), 1)],
    ["truncated zlib", rawFrame(deflateSync(dump([C.MSG_REQUEST, 0, [C.HANDLE_PING, [C.LABEL_VALUE, ["x".repeat(5000)]]]])).subarray(0, 20), 1)],
  ];

  it.each(cases)("%s: one HANDLE_CLOSE request, no exception reply, the socket closes; the healthy client goes on", async (_what, frame) => {
    const { server, expectHealthy } = await serverWithHealthyClient();
    await expectClosedAfter(server.port, frame);
    await expectHealthy();
    await eventually(() => server.connections.size === 1, 5000, "only the healthy connection left");
  });

  it("after earlier requests the same holds, and the CLOSE comes after the earlier replies", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient();
    const client = await RawClient.open(server.port);
    await client.expectUsable();
    client.peer.write(rawFrame(Buffer.from([0xff])));
    await client.peer.waitClosed();
    expect(client.peer.unread).toEqual([CLOSE_REQUEST(0)]);
    await client.close();
    await expectHealthy();
  });

  it("the HANDLE_CLOSE carries the server's next seq after it sent requests of its own", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient();
    const client = await RawClient.open(server.port);
    const root = await client.root();
    // call_me(fn, 20) with a "function" of ours: the server calls it back with its own request.
    const seq = client.nextSeq();
    const fn = ["builtins.function", 11, 22];
    client.peer.request(seq, C.HANDLE_CALLATTR, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, root],
        [C.LABEL_VALUE, "call_me"],
        [
          C.LABEL_TUPLE,
          [
            [C.LABEL_REMOTE_REF, fn],
            [C.LABEL_VALUE, 20],
          ],
        ],
        [C.LABEL_VALUE, []],
      ],
    ]);
    const callback = await client.peer.next(5000, "the server's callback");
    expect(callback).toEqual([
      C.MSG_REQUEST,
      0,
      [
        C.HANDLE_CALL,
        [
          C.LABEL_TUPLE,
          [
            [C.LABEL_LOCAL_REF, fn],
            [C.LABEL_VALUE, [20]],
            [C.LABEL_VALUE, []],
          ],
        ],
      ],
    ]);
    client.peer.send(C.MSG_REPLY, 0, [C.LABEL_VALUE, 21]);
    expect(await client.answerTo(seq)).toEqual([C.MSG_REPLY, seq, [C.LABEL_VALUE, 42]]);

    client.peer.write(rawFrame(dump([9, 0, []])));
    await client.peer.waitClosed();
    const serverRequests = client.peer.received.filter((m) => m[0] === C.MSG_REQUEST);
    const close = serverRequests.at(-1)!;
    expect(close).toEqual(CLOSE_REQUEST(Number(close[1])));
    // Requests before it (the callback, maybe a GC-driven DEL) used 0, 1, ...: CLOSE takes the next.
    expect(serverRequests.map((m) => Number(m[1]))).toEqual(serverRequests.map((_m, i) => i));
    expect(Number(close[1])).toBeGreaterThanOrEqual(1);
    expect(client.peer.received.filter((m) => m[0] === C.MSG_EXCEPTION)).toEqual([]);
    await client.close();
    await expectHealthy();
  });

  it("a bad terminator byte and a compressed flag of 2..255 are accepted, as in Python", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient();
    const client = await RawClient.open(server.port);
    const ping = dump([C.MSG_REQUEST, 0, [C.HANDLE_PING, [C.LABEL_VALUE, ["terminator"]]]]);
    const badTerminator = rawFrame(ping);
    badTerminator[badTerminator.length - 1] = 0x00;
    client.peer.write(badTerminator);
    expect(await client.answerTo(0)).toEqual([C.MSG_REPLY, 0, [C.LABEL_VALUE, "terminator"]]);
    client.peer.write(rawFrame(deflateSync(dump([C.MSG_REQUEST, 1, [C.HANDLE_PING, [C.LABEL_VALUE, ["flag 7"]]]])), 7));
    expect(await client.answerTo(1)).toEqual([C.MSG_REPLY, 1, [C.LABEL_VALUE, "flag 7"]]);
    client.nextSeq();
    client.nextSeq();
    await client.expectUsable();
    await client.close();
    await expectHealthy();
  });
});

// ---- malformed and forged requests ----------------------------------------------------

describe("a malformed or forged request gets an exception reply and the connection stays usable", () => {
  it("unknown handler, unknown label, wrong arity, bad request shape, forged id_packs; replies for unknown seqs are ignored", async () => {
    const { server, expectHealthy } = await serverWithHealthyClient();
    const client = await RawClient.open(server.port);
    const root = await client.root();
    const forged: IdPack = [root[0], root[1], 987_654_321];
    const forgedClass: IdPack = ["rpyc_ts.Nothing", 424_242, 0];

    expect(expectException(await client.call(99, [C.LABEL_VALUE, []]), "KeyError")).toEqual([99]);
    await expectHealthy();
    expect(expectException(await client.call(0, [C.LABEL_VALUE, []]), "KeyError")).toEqual([0]);
    expect(expectException(await client.call(C.HANDLE_PING, [9, "x"]), "ValueError")).toEqual(["invalid label 9"]);
    expect(
      expectException(
        await client.call(C.HANDLE_GETATTR, [
          C.LABEL_TUPLE,
          [
            [C.LABEL_LOCAL_REF, root],
            [7, "get_answer"],
          ],
        ]),
        "ValueError",
      ),
    ).toEqual(["invalid label 7"]);
    await expectHealthy();

    // Wrong number of arguments for the handler.
    expectException(await client.call(C.HANDLE_PING, [C.LABEL_VALUE, []]), "TypeError");
    expectException(await client.call(C.HANDLE_PING, [C.LABEL_VALUE, ["a", "b"]]), "TypeError");
    expectException(await client.call(C.HANDLE_GETATTR, [C.LABEL_TUPLE, [[C.LABEL_LOCAL_REF, root]]]), "TypeError");
    expectException(
      await client.call(C.HANDLE_CALLATTR, [
        C.LABEL_TUPLE,
        [
          [C.LABEL_LOCAL_REF, root],
          [C.LABEL_VALUE, "get_answer"],
        ],
      ]),
      "TypeError",
    );
    expectException(await client.call(C.HANDLE_GETROOT, [C.LABEL_VALUE, [1]]), "TypeError");
    await expectHealthy();

    // A request whose args are not a (handler, boxed_args) pair.
    const bare = client.nextSeq();
    client.peer.send(C.MSG_REQUEST, bare, 5);
    expectException(await client.answerTo(bare), "TypeError");
    const triple = client.nextSeq();
    client.peer.send(C.MSG_REQUEST, triple, [C.HANDLE_PING, [C.LABEL_VALUE, ["x"]], null]);
    expectException(await client.answerTo(triple), "TypeError");

    // Forged id_packs: LOCAL_REF, DEL, INSPECT.
    const getattrForged = await client.call(C.HANDLE_GETATTR, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, forged],
        [C.LABEL_VALUE, "get_answer"],
      ],
    ]);
    expect(expectException(getattrForged, "KeyError")).toEqual([forged]);
    expectException(await client.callattr(forgedClass, "get_answer"), "KeyError");
    expectException(
      await client.call(C.HANDLE_CALL, [
        C.LABEL_TUPLE,
        [
          [C.LABEL_LOCAL_REF, forged],
          [C.LABEL_VALUE, []],
          [C.LABEL_VALUE, []],
        ],
      ]),
      "KeyError",
    );
    expect(
      expectException(
        await client.call(C.HANDLE_DEL, [
          C.LABEL_TUPLE,
          [
            [C.LABEL_LOCAL_REF, forged],
            [C.LABEL_VALUE, 1],
          ],
        ]),
        "KeyError",
      ),
    ).toEqual([forged]);
    expect(expectException(await client.call(C.HANDLE_INSPECT, [C.LABEL_VALUE, [forged]]), "KeyError")).toEqual([forged]);
    expect(expectException(await client.call(C.HANDLE_INSPECT, [C.LABEL_VALUE, [forgedClass]]), "KeyError")).toEqual([forgedClass]);
    // An id_pack that is not one.
    expectException(
      await client.call(C.HANDLE_GETATTR, [
        C.LABEL_TUPLE,
        [
          [C.LABEL_LOCAL_REF, "root"],
          [C.LABEL_VALUE, "x"],
        ],
      ]),
      "ValueError",
    );
    await expectHealthy();

    // Python ints are unbounded: any int seq is answered with that same seq.
    const hugeSeq = 2n ** 70n;
    client.peer.request(hugeSeq, C.HANDLE_PING, [C.LABEL_VALUE, ["big"]]);
    expect(await client.peer.nextMatching((m) => m[1] === hugeSeq)).toEqual([C.MSG_REPLY, hugeSeq, [C.LABEL_VALUE, "big"]]);
    client.peer.request(-5, C.HANDLE_PING, [C.LABEL_VALUE, ["negative"]]);
    expect(await client.peer.nextMatching((m) => m[1] === -5)).toEqual([C.MSG_REPLY, -5, [C.LABEL_VALUE, "negative"]]);

    // Replies and exceptions for seqs the server never used: ignored, nothing comes back.
    client.peer.send(C.MSG_REPLY, 777, [C.LABEL_VALUE, "nobody asked"]);
    client.peer.send(C.MSG_EXCEPTION, 778, [["builtins", "ValueError"], ["nobody asked"], [], ""]);
    client.peer.send(C.MSG_EXCEPTION, 779, C.EXC_STOP_ITERATION);
    client.peer.send(C.MSG_REPLY, 780, [C.LABEL_REMOTE_REF, ["builtins.list", 1, 2]]);

    // The real root was not disturbed by the forged DEL/INSPECT: it still answers on this connection.
    expect(await client.callattr(root, "get_answer")).toEqual([C.MSG_REPLY, expect.anything(), [C.LABEL_VALUE, 42]]);
    await client.expectUsable();
    expect(client.peer.unread.filter((m) => m[0] !== C.MSG_REQUEST)).toEqual([]);
    expect(client.peer.closed).toBe(false);
    await client.close();
    await expectHealthy();
    await eventually(() => server.connections.size === 1, 5000, "only the healthy connection left");
  });
});

// ---- JavaScript internals ---------------------------------------------------------------

const JS_INTERNALS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "__defineGetter__", "valueOf", "call", "apply", "bind"];

const PERMISSIVE: Partial<ProtocolConfig> = {
  allow_all_attrs: true,
  allow_public_attrs: true,
  allow_setattr: true,
  allow_delattr: true,
};

/** Everything an attack on JavaScript's machinery could change. */
function snapshot(service: MyService): unknown {
  const describeOwn = (obj: object): unknown[] =>
    Reflect.ownKeys(obj).map((key) => {
      const d = Object.getOwnPropertyDescriptor(obj, key)!;
      return [String(key), d.value, d.get, d.set, d.writable, d.enumerable, d.configurable];
    });
  return {
    objectPrototype: describeOwn(Object.prototype),
    functionPrototype: describeOwn(Function.prototype),
    service: describeOwn(service),
    serviceProto: Object.getPrototypeOf(service),
    serviceClassProto: describeOwn(MyService.prototype),
    serviceBaseProto: describeOwn(Service.prototype),
    helper: describeOwn(service.helper),
    helperProto: Object.getPrototypeOf(service.helper),
    helperPrototype: describeOwn(service.helper.prototype as object),
  };
}

describe.each([
  ["the default config", {}],
  ["allow_all_attrs + allow_public_attrs + allow_setattr + allow_delattr", PERMISSIVE],
] as const)("JavaScript internals are unreachable with %s", (_what, protocolConfig) => {
  it("GETATTR / CALLATTR / SETATTR / DELATTR / CMP / OLDSLICING of JS internals on the root, a function and a bound method: AttributeError, nothing changes", async () => {
    const service = new MyService(); // one shared instance, so the test can inspect it
    const { server, expectHealthy } = await serverWithHealthyClient(protocolConfig, service);
    const before = snapshot(service);
    const client = await RawClient.open(server.port);
    const root = await client.root();
    const [, , helperBoxed] = await client.callattr(root, "get_helper");
    const [helperLabel, helper] = helperBoxed as readonly [number, IdPack];
    expect(helperLabel).toBe(C.LABEL_REMOTE_REF);
    expect(helper[0]).toBe("builtins.function");
    const [, , methodBoxed] = await client.call(C.HANDLE_GETATTR, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, root],
        [C.LABEL_VALUE, "get_answer"],
      ],
    ]);
    const [methodLabel, method] = methodBoxed as readonly [number, IdPack];
    expect(methodLabel).toBe(C.LABEL_REMOTE_REF);

    const targets: [string, IdPack][] = [
      ["root", root],
      ["function", helper],
      ["bound method", method],
    ];
    let attempts = 0;
    for (const [targetName, pack] of targets) {
      const ref = [C.LABEL_LOCAL_REF, pack] as const;
      for (const name of JS_INTERNALS) {
        // Names arrive as str, or as bytes (decoded as UTF-8): both are refused.
        for (const wireName of [name, new TextEncoder().encode(name)]) {
          const where = `${targetName}.${name} (${typeof wireName === "string" ? "str" : "bytes"})`;
          const requests: [string, number, PyValueIn][] = [
            ["GETATTR", C.HANDLE_GETATTR, [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, wireName]]]],
            ["CALLATTR", C.HANDLE_CALLATTR, [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, wireName], [C.LABEL_VALUE, []], [C.LABEL_VALUE, []]]]],
            ["CALLATTR with args", C.HANDLE_CALLATTR, [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, wireName], [C.LABEL_VALUE, [null, 1]], [C.LABEL_VALUE, []]]]],
            ["SETATTR", C.HANDLE_SETATTR, [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, wireName], [C.LABEL_VALUE, "polluted"]]]],
            ["SETATTR of a tuple", C.HANDLE_SETATTR, [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, wireName], [C.LABEL_VALUE, [["polluted", true]]]]]],
            ["DELATTR", C.HANDLE_DELATTR, [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, wireName]]]],
            ["CMP", C.HANDLE_CMP, [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, null], [C.LABEL_VALUE, wireName]]]],
            [
              "OLDSLICING",
              C.HANDLE_OLDSLICING,
              [C.LABEL_TUPLE, [ref, [C.LABEL_VALUE, wireName], [C.LABEL_VALUE, wireName], [C.LABEL_VALUE, 0], [C.LABEL_VALUE, 1], [C.LABEL_VALUE, []]]],
            ],
          ];
          for (const [op, handler, boxed] of requests) {
            const answer = await client.call(handler, boxed);
            expect(answer[0], `${op} ${where} must be refused`).toBe(C.MSG_EXCEPTION);
            expect((answer[2] as readonly PyValue[])[0], `${op} ${where}`).toEqual(["builtins", "AttributeError"]);
            attempts++;
          }
        }
        await expectHealthy();
      }
    }
    expect(attempts).toBe(3 * JS_INTERNALS.length * 2 * 8);

    // Nothing was polluted or replaced.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((service.helper as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(snapshot(service)).toEqual(before);
    expect(Object.getPrototypeOf(service)).toBe(MyService.prototype);
    expect(service.helper(1)).toBe(2);

    // The objects still work over the wire.
    const called = await client.call(C.HANDLE_CALL, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, helper],
        [C.LABEL_VALUE, [1]],
        [C.LABEL_VALUE, []],
      ],
    ]);
    expect(called).toEqual([C.MSG_REPLY, expect.anything(), [C.LABEL_VALUE, 2]]);
    const str = await client.call(C.HANDLE_STR, [C.LABEL_TUPLE, [[C.LABEL_LOCAL_REF, root]]]);
    expect(str[0]).toBe(C.MSG_REPLY);
    await client.expectUsable();
    await client.close();
    await expectHealthy();
  });

  it("ordinary names still follow the config (the permissive run is really permissive)", async () => {
    const service = new MyService();
    const { server, expectHealthy } = await serverWithHealthyClient(protocolConfig, service);
    const client = await RawClient.open(server.port);
    const root = await client.root();
    const [, , [, helper]] = (await client.callattr(root, "get_helper")) as unknown as [number, number, [number, IdPack]];
    const name = await client.call(C.HANDLE_GETATTR, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, helper],
        [C.LABEL_VALUE, "name"],
      ],
    ]);
    const question = await client.callattr(root, "get_question");
    if (protocolConfig === PERMISSIVE) {
      expect(name).toEqual([C.MSG_REPLY, expect.anything(), [C.LABEL_VALUE, "helper"]]);
      expect(question).toEqual([C.MSG_REPLY, expect.anything(), [C.LABEL_VALUE, service.get_question()]]);
      // Services refuse SETATTR whatever the config (Service._rpyc_setattr), as in RPyC.
      expect(
        expectException(
          await client.call(C.HANDLE_SETATTR, [
            C.LABEL_TUPLE,
            [
              [C.LABEL_LOCAL_REF, root],
              [C.LABEL_VALUE, "x"],
              [C.LABEL_VALUE, 1],
            ],
          ]),
          "AttributeError",
        ),
      ).toEqual(["access denied"]);
    } else {
      expect(expectException(name, "AttributeError")).toEqual([
        "cannot access 'name' (public attributes of served objects need allow_public_attrs on the server; exposed_ members are always reachable)",
      ]);
      expect(expectException(question, "AttributeError")).toEqual(["cannot access 'get_question'"]);
    }
    await client.close();
    await expectHealthy();
  });
});

// ---- random garbage ---------------------------------------------------------------------

/** A valid request frame to mutate. */
function seedMessages(seq: number): PyValueIn[] {
  const pack = ["rpyc_ts.MyService", 1, 1];
  return [
    [C.MSG_REQUEST, seq, [C.HANDLE_GETROOT, [C.LABEL_VALUE, []]]],
    [C.MSG_REQUEST, seq, [C.HANDLE_PING, [C.LABEL_VALUE, ["garbage"]]]],
    [
      C.MSG_REQUEST,
      seq,
      [
        C.HANDLE_GETATTR,
        [
          C.LABEL_TUPLE,
          [
            [C.LABEL_LOCAL_REF, pack],
            [C.LABEL_VALUE, "get_answer"],
          ],
        ],
      ],
    ],
    [
      C.MSG_REQUEST,
      seq,
      [
        C.HANDLE_CALLATTR,
        [
          C.LABEL_TUPLE,
          [
            [C.LABEL_LOCAL_REF, pack],
            [C.LABEL_VALUE, "__proto__"],
            [C.LABEL_VALUE, []],
            [C.LABEL_VALUE, []],
          ],
        ],
      ],
    ],
    [C.MSG_REPLY, seq, [C.LABEL_REMOTE_REF, pack]],
    [C.MSG_EXCEPTION, seq, [["builtins", "ValueError"], ["x"], [], ""]],
  ];
}

function randomPayload(random: () => number, seq: number): Buffer {
  const kind = random();
  if (kind < 0.3) {
    // Fully random bytes.
    return Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
  }
  const seeds = seedMessages(seq);
  const payload = Buffer.from(dump(seeds[Math.floor(random() * seeds.length)]!));
  if (kind < 0.5) return payload.subarray(0, Math.floor(random() * payload.length)); // truncated
  // A few random byte changes.
  const flips = 1 + Math.floor(random() * 4);
  for (let i = 0; i < flips; i++) payload[Math.floor(random() * payload.length)] = Math.floor(random() * 256);
  return payload;
}

describe("random garbage", () => {
  it("200 seeded random frames never crash the server or disturb the healthy client", async () => {
    const { server, healthy, expectHealthy } = await serverWithHealthyClient();
    const random = prng(0x5eed);
    const PING_SEQ = 100_000;
    let closedByServer = 0;
    let survived = 0;
    for (let i = 0; i < 200; i++) {
      const peer = await RawPeer.connect(server.port);
      try {
        const frames = 1 + Math.floor(random() * 3);
        for (let f = 0; f < frames; f++) {
          const payload = randomPayload(random, f);
          const compressed = random() < 0.15;
          peer.write(rawFrame(compressed && random() < 0.5 ? deflateSync(payload) : payload, compressed ? 1 : 0));
        }
        // Framing is intact, so either the server closed the connection or it answers this.
        peer.request(PING_SEQ, C.HANDLE_PING, [C.LABEL_VALUE, ["still there"]]);
        await eventually(
          () => peer.closed || peer.received.some((m) => m[0] !== C.MSG_REQUEST && m[1] === PING_SEQ),
          5000,
          `the server to answer or close after garbage #${i}`,
        );
        expect(peer.decodeError, `garbage #${i}: the server's own frames stay well formed`).toBeUndefined();
        for (const [msg] of peer.received) expect([C.MSG_REQUEST, C.MSG_REPLY, C.MSG_EXCEPTION]).toContain(msg);
        const pong = peer.received.find((m) => m[0] !== C.MSG_REQUEST && m[1] === PING_SEQ);
        if (pong) {
          expect(pong).toEqual([C.MSG_REPLY, PING_SEQ, [C.LABEL_VALUE, "still there"]]);
          survived++;
        } else {
          closedByServer++;
        }
      } finally {
        await peer.close();
      }
      if (i % 10 === 9) await expectHealthy();
    }
    expect(closedByServer + survived).toBe(200);
    expect(closedByServer).toBeGreaterThan(0);
    expect(survived).toBeGreaterThan(0);

    // 50 connections of unframed random bytes, then EOF.
    for (let i = 0; i < 50; i++) {
      const peer = await RawPeer.connect(server.port);
      try {
        const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
        peer.write(bytes);
        peer.socket.end();
        await peer.waitClosed();
        expect(peer.decodeError).toBeUndefined();
      } finally {
        await peer.close();
      }
    }

    await expectHealthy();
    expect(healthy.closed).toBe(false);
    await eventually(() => server.connections.size === 1, 5000, "only the healthy connection left");
  });
});
