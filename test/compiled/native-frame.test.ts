// Native frames (runtime/compiled/native-frame.ts): header, payload and flush byte in one
// buffer; big bytes values as chunks of their own (not copied), and decoded as views; the
// frames a peer reads are the same either way, compressed when that pays.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Service, ThreadedServer, connect } from "../../runtime/index.js";
import { defineDispatch, type ServiceSchema } from "../../runtime/internal.js";
import { FrameDecoder } from "../../runtime/wire/channel.js";
import { encodeNativeReply, encodeNativeRequest, loadNativeCodec, nativeSchema, readNativeFrame } from "../../runtime/compiled/native.js";
import { ZERO_COPY_BYTES } from "../../runtime/compiled/native-frame.js";

class BlobService extends Service {
  exposed_echo(data: Uint8Array): Uint8Array {
    return data;
  }
  exposed_pair(a: Uint8Array, b: Uint8Array, label: string): [number, number, string] {
    return [a.length + a[a.length - 1]!, b.length + b[0]!, label];
  }
}

const BYTES = { kind: "bytes" } as const;
const BLOB_SCHEMA: ServiceSchema = {
  className: "BlobService",
  name: "BLOB",
  aliases: ["BLOB"],
  methods: {
    echo: { params: [{ name: "data", type: BYTES, optional: false, rest: false }], returns: BYTES },
    pair: {
      params: [
        { name: "a", type: BYTES, optional: false, rest: false },
        { name: "b", type: BYTES, optional: false, rest: false },
        { name: "label", type: { kind: "string" }, optional: false, rest: false },
      ],
      returns: { kind: "tuple", elements: [{ kind: "number" }, { kind: "number" }, { kind: "string" }], minLength: 3 },
    },
  },
  attributes: {},
  types: {},
};
const BLOB_DISPATCH = defineDispatch(
  BlobService,
  BLOB_SCHEMA,
  {
    echo: (s, a) => s.exposed_echo(a[0] as Uint8Array),
    pair: (s, a) => s.exposed_pair(a[0] as Uint8Array, a[1] as Uint8Array, a[2] as string),
  },
  {},
);

function random(size: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The one payload the chunks frame, as a reader gets it. */
function readBack(chunks: Uint8Array[]): Buffer {
  const payloads = new FrameDecoder().push(Buffer.concat(chunks));
  expect(payloads).toHaveLength(1);
  return payloads[0]!;
}

beforeAll(async () => {
  expect(await loadNativeCodec()).toBe(true);
});

describe("native frame writer", () => {
  const echo = () => nativeSchema(BLOB_SCHEMA).method("echo")!;

  it("a small call is one buffer holding header, payload and flush byte", () => {
    expect(nativeSchema(BLOB_SCHEMA).nativeMethods.sort()).toEqual(["echo", "pair"]);
    const chunks = encodeNativeRequest(7, 3, echo(), ["rpyc_ts.BlobService", 1, 2], [Uint8Array.of(1, 2, 3)], true);
    expect(chunks).toHaveLength(1);
    const frame = chunks[0]!;
    expect(Buffer.from(frame).readUInt32BE(0)).toBe(frame.length - 6);
    expect(frame[4]).toBe(0);
    expect(frame[frame.length - 1]).toBe(0x0a);
    const read = readNativeFrame(readBack(chunks));
    if (read.kind !== 1) throw new Error("not a request");
    expect(read.header).toEqual({ seq: 7, classId: 3, method: echo().index, argc: 1, target: ["rpyc_ts.BlobService", 1, 2] });
    expect(echo().decodeArgs(read.reader, 1)).toEqual([Uint8Array.of(1, 2, 3)]);
  });

  it("big bytes are a chunk of their own (the caller's buffer), not copied; the reader decodes them as a view", () => {
    const data = random(ZERO_COPY_BYTES * 4);
    for (const compress of [true, false]) {
      const chunks = encodeNativeReply(3, echo(), data, compress);
      expect(chunks).toHaveLength(3);
      expect(chunks[1]).toBe(data);
      const payload = readBack(chunks);
      const read = readNativeFrame(payload);
      if (read.kind !== 2) throw new Error("not a reply");
      const back = echo().decodeResult(read.reader) as Uint8Array;
      expect(back.constructor).toBe(Uint8Array);
      expect(back.buffer).toBe(payload.buffer); // a view into the received frame
      expect(Buffer.compare(back, data)).toBe(0);
    }
  });

  it("compressible big bytes are compressed (one copy), and read back the same", () => {
    const data = new Uint8Array(ZERO_COPY_BYTES * 2).fill(7);
    const chunks = encodeNativeReply(4, echo(), data, true);
    const wire = Buffer.concat(chunks);
    expect(wire[4]).toBe(1);
    expect(wire.length).toBeLessThan(data.length / 10);
    const read = readNativeFrame(readBack(chunks));
    if (read.kind !== 2) throw new Error("not a reply");
    expect(Buffer.compare(echo().decodeResult(read.reader) as Uint8Array, data)).toBe(0);
  });

  it("small bytes decode as copies (a view would pin the read chunk)", () => {
    const chunks = encodeNativeReply(5, echo(), random(1000), false);
    const payload = readBack(chunks);
    const read = readNativeFrame(payload);
    if (read.kind !== 2) throw new Error("not a reply");
    expect((echo().decodeResult(read.reader) as Uint8Array).buffer).not.toBe(payload.buffer);
  });
});

describe("big bytes between rpyc-ts peers", () => {
  let server: ThreadedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("1 MiB and several big arguments round-trip in both codecs, also while other calls are in flight", async () => {
    server = new ThreadedServer(BlobService, { hostname: "127.0.0.1", port: 0, dispatch: [BLOB_DISPATCH] });
    await server.start();
    for (const codec of ["auto", "brine"] as const) {
      const conn = await connect("127.0.0.1", server.port, { schemas: [BLOB_SCHEMA], config: { codec } });
      try {
        expect((await conn.negotiated).codec).toBe(codec === "auto" ? "native" : "brine");
        const root = conn.root as unknown as { echo(d: Uint8Array): Promise<Uint8Array>; pair(a: Uint8Array, b: Uint8Array, l: string): Promise<unknown> };
        const big = random(1 << 20, 1);
        const other = random(ZERO_COPY_BYTES * 3, 2);
        const [back, pair, ...small] = await Promise.all([
          root.echo(big),
          root.pair(big, other, "x"),
          ...Array.from({ length: 8 }, (_, i) => root.echo(Uint8Array.of(i))),
        ]);
        expect(Buffer.compare(back, big)).toBe(0);
        expect(pair).toEqual([big.length + big[big.length - 1]!, other.length + other[0]!, "x"]);
        expect(small).toEqual(Array.from({ length: 8 }, (_, i) => Uint8Array.of(i)));
        const compressible = new Uint8Array(3 << 20).fill(9);
        expect(Buffer.compare(await root.echo(compressible), compressible)).toBe(0);
      } finally {
        await conn.close();
      }
    }
  });
});
