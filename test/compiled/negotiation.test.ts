// Issue 13: the native codec is never silently lost. `conn.negotiated` resolves with the codec
// and why (NegotiationReason) on both sides; a side that cannot take the offer tells an
// rpyc-ts peer why (the third item of its "brine" answer, or a notice when it cannot offer);
// a reason a user can fix is warned about once per process per reason (to the logger, else
// one line on stderr). Each reason is produced for real over sockets on 127.0.0.1: rpyc-ts
// peers (a missing protobufjs played through the internal NATIVE_CODEC_LOADER seam), a raw
// peer answering as another or an older rpyc-ts would, and Python RPyC 5.3.

import net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type Connection, type Logger, type Negotiation, type ProtocolConfig, type PyValueIn } from "../../runtime/index.js";
import { HANDLE_NATIVE_OFFER } from "../../runtime/compiled/negotiation.js";
import { forgetNegotiationWarnings, NATIVE_CODEC_LOADER } from "../../runtime/connection/native-session.js";
import { LABEL_VALUE, MSG_EXCEPTION, MSG_REPLY, MSG_REQUEST } from "../../runtime/wire/consts.js";
import { CallbackService } from "../../fixtures/callbacks/callback-service.js";
import { CallbackServiceDispatch } from "../../fixtures/callbacks/expected/callback-service.dispatch.js";
import { connectCallback } from "../../fixtures/callbacks/expected/index.js";
import { MyService } from "../../fixtures/seed/my-service.js";
import { MyServiceDispatch } from "../../fixtures/seed/expected/my-service.dispatch.js";
import { MY_SERVICE_SCHEMA, connectMy } from "../../fixtures/seed/expected/index.js";
import { RawPeer } from "../helpers/raw-peer.js";
import { serve } from "../helpers/servers.js";
import { startPython, WITH_PYTHON } from "../helpers/python.js";

// ---- helpers ------------------------------------------------------------------------------

/** A logger that keeps its warnings. */
interface Recorder extends Logger {
  readonly warnings: string[];
}

function recorder(): Recorder {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (message) => void warnings.push(message), error: (message) => void warnings.push(message) };
}

/** A config whose side cannot load protobufjs (the internal seam: only this connection is affected). */
function withoutProtobufjs(config: Partial<ProtocolConfig> = {}): Partial<ProtocolConfig> {
  return { ...config, [NATIVE_CODEC_LOADER]: () => Promise.resolve(false) } as Partial<ProtocolConfig>;
}

/** The codec and reason of an outcome (its message is checked where it matters). */
const outcome = (n: Negotiation): [string, string] => [n.codec, n.reason];

const clients: Connection[] = [];
async function client<T>(conn: Promise<Connection<T>>): Promise<Connection<T>> {
  const c = await conn;
  clients.push(c as Connection);
  return c;
}

/** The server side of the server's only connection (it exists once the client connected). */
function serverSide(server: { connections: Set<Connection> }): Connection {
  const [conn] = server.connections;
  if (!conn) throw new Error("the server has no connection");
  return conn;
}

/** Lines written to stderr by the connections (those starting "rpyc-ts: "); the rest goes through. */
let stderrLines: string[] = [];
const realWrite = process.stderr.write;

beforeEach(() => {
  forgetNegotiationWarnings();
  stderrLines = [];
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    if (text.startsWith("rpyc-ts: ")) {
      stderrLines.push(text);
      return true;
    }
    return (realWrite as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
});

afterEach(async () => {
  process.stderr.write = realWrite;
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A server with a MyService dispatch table (unless `dispatch` is false) and a logger. */
async function myServer(options: { log?: Recorder | null; dispatch?: boolean; protocolConfig?: Partial<ProtocolConfig> } = {}) {
  const log = options.log === undefined ? recorder() : options.log;
  const server = await serve(MyService, {
    ...(options.dispatch === false ? {} : { dispatch: MyServiceDispatch }),
    ...(log ? { logger: log } : {}),
    ...(options.protocolConfig ? { protocolConfig: options.protocolConfig } : {}),
  });
  return { server, log: log ?? recorder() };
}

/**
 * A fake peer on 127.0.0.1 that reads the offer (the first request) and answers it with
 * `answer` (a boxed-by-value reply), or never, as another or an older rpyc-ts would.
 */
async function fakeServer(answer: PyValueIn | undefined): Promise<{ port: number; offers: unknown[]; close(): Promise<void> }> {
  const offers: unknown[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const peer = RawPeer.accept(socket);
    void peer.next(10_000, "the offer").then(
      ([msg, seq, body]) => {
        expect(msg).toBe(MSG_REQUEST);
        expect((body as unknown[])[0]).toBe(HANDLE_NATIVE_OFFER);
        offers.push((body as unknown[])[1]);
        if (answer !== undefined) peer.send(MSG_REPLY, seq, [LABEL_VALUE, answer]);
      },
      () => {},
    );
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const close = (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: (server.address() as net.AddressInfo).port, offers, close };
}

// ---- the common path ------------------------------------------------------------------------

describe("both rpyc-ts sides able: native, agreed, nothing warned", () => {
  it("the generated client and a server with the dispatch table agree", async () => {
    const { server, log } = await myServer();
    const clientLog = recorder();
    const conn = await client(connectMy("127.0.0.1", server.port, { config: { logger: clientLog } }));
    const agreed = await conn.negotiated;
    expect(agreed).toEqual({ codec: "native", reason: "agreed", message: expect.stringMatching(/^native codec agreed/) });
    expect(outcome(await serverSide(server).negotiated)).toEqual(["native", "agreed"]);
    expect(conn.codec).toBe("native");
    expect(await conn.root.get_answer()).toBe(42);
    expect([log.warnings, clientLog.warnings, stderrLines]).toEqual([[], [], []]);
  });

  it("a server serving only some of the client's compiled classes is still agreed (partial coverage is normal)", async () => {
    const server = await serve(CallbackService, { dispatch: CallbackServiceDispatch, logger: recorder() });
    const conn = await client(connectCallback("127.0.0.1", server.port, { config: { logger: recorder() } }));
    expect(outcome(await conn.negotiated)).toEqual(["native", "agreed"]);
    expect(stderrLines).toEqual([]);
  });
});

// ---- configuration choices ------------------------------------------------------------------

describe('codec "brine" on either side: brine, said so, not warned', () => {
  it("on the client: codec-brine at once; the server is told (a notice, no offer) and says peer-codec-brine", async () => {
    const { server, log } = await myServer();
    const clientLog = recorder();
    const conn = await client(connectMy("127.0.0.1", server.port, { config: { codec: "brine", logger: clientLog } }));
    expect(outcome(await conn.negotiated)).toEqual(["brine", "codec-brine"]);
    expect(await conn.root.get_answer()).toBe(42);
    const side = serverSide(server);
    expect(outcome(await side.negotiated)).toEqual(["brine", "peer-codec-brine"]);
    await conn.close();
    expect([log.warnings, clientLog.warnings, stderrLines]).toEqual([[], [], []]);
  });

  it("on the server: it answers (no exception reply) that it is configured brine; the client says peer-codec-brine", async () => {
    const { server, log } = await myServer({ protocolConfig: { codec: "brine" } });
    const clientLog = recorder();
    const conn = await client(connectMy("127.0.0.1", server.port, { config: { logger: clientLog } }));
    const n = await conn.negotiated;
    expect(outcome(n)).toEqual(["brine", "peer-codec-brine"]);
    expect(n.message).toMatch(/the peer is configured with codec "brine"/);
    expect(outcome(await serverSide(server).negotiated)).toEqual(["brine", "codec-brine"]);
    expect(await conn.root.get_answer()).toBe(42);
    expect(serverSide(server).stats().errors).toBe(0);
    expect([log.warnings, clientLog.warnings, stderrLines]).toEqual([[], [], []]);
  });

  it("a client without protobufjs and a brine server: peer-codec-brine (installing protobufjs would not help), not warned", async () => {
    const { server, log } = await myServer({ protocolConfig: { codec: "brine" } });
    const clientLog = recorder();
    const conn = await client(connectMy("127.0.0.1", server.port, { config: withoutProtobufjs({ logger: clientLog }) }));
    expect(outcome(await conn.negotiated)).toEqual(["brine", "peer-codec-brine"]);
    expect([log.warnings, clientLog.warnings, stderrLines]).toEqual([[], [], []]);
  });

  it("plain client, plain server: nobody offers; both say not-offered when the connection closes", async () => {
    const { server } = await myServer({ dispatch: false });
    const conn = await client(connect("127.0.0.1", server.port));
    const side = serverSide(server);
    await conn.close();
    expect(outcome(await conn.negotiated)).toEqual(["brine", "not-offered"]);
    expect(outcome(await side.negotiated)).toEqual(["brine", "not-offered"]);
    expect(stderrLines).toEqual([]);
  });
});

// ---- protobufjs missing on one side -----------------------------------------------------------

describe("protobufjs missing on one side: both sides know why, both warn", () => {
  it("the server cannot load it: the client reads peer-lacks-protobufjs from the refusal; calls stay brine and work", async () => {
    const { server, log } = await myServer({ protocolConfig: withoutProtobufjs() });
    const clientLog = recorder();
    const conn = await client(connectMy("127.0.0.1", server.port, { config: { logger: clientLog } }));
    const n = await conn.negotiated;
    expect(outcome(n)).toEqual(["brine", "peer-lacks-protobufjs"]);
    expect(n.message).toMatch(/the peer cannot load protobufjs .*npm install protobufjs" where the peer runs/);
    const side = await serverSide(server).negotiated;
    expect(outcome(side)).toEqual(["brine", "local-lacks-protobufjs"]);
    expect(side.message).toMatch(/this process cannot load protobufjs .*npm install protobufjs" here/);
    expect(await conn.root.get_answer()).toBe(42);
    expect(clientLog.warnings).toEqual([`[${conn.connid}] ${n.message} (peer-lacks-protobufjs; warned once per process)`]);
    expect(log.warnings).toEqual([`[${serverSide(server).connid}] ${side.message} (local-lacks-protobufjs; warned once per process)`]);
    expect(stderrLines).toEqual([]);
  });

  it("the client cannot load it: it sends a notice instead of an offer; the server reads peer-lacks-protobufjs", async () => {
    const { server, log } = await myServer();
    const clientLog = recorder();
    const conn = await client(connectMy("127.0.0.1", server.port, { config: withoutProtobufjs({ logger: clientLog }) }));
    expect(outcome(await conn.negotiated)).toEqual(["brine", "local-lacks-protobufjs"]);
    expect(outcome(await serverSide(server).negotiated)).toEqual(["brine", "peer-lacks-protobufjs"]);
    expect(conn.codec).toBe("brine");
    expect(serverSide(server).codec).toBe("brine");
    expect(await conn.root.get_answer()).toBe(42);
    expect(clientLog.warnings).toEqual([expect.stringContaining("(local-lacks-protobufjs; warned once per process)")]);
    expect(log.warnings).toEqual([expect.stringContaining("(peer-lacks-protobufjs; warned once per process)")]);
    // The notice is internal, as the offer is.
    expect(conn.stats()).toMatchObject({ errors: 0, pendingRequests: 0 });
  });
});

// ---- agreed, but typed calls cannot use it ----------------------------------------------------

describe("native agreed but typed calls stay brine: said and warned", () => {
  it("a server without dispatch tables: peer-has-no-dispatch on the client, local-has-no-dispatch on the server", async () => {
    const { server, log } = await myServer({ dispatch: false });
    const clientLog = recorder();
    const conn = await client(connectMy("127.0.0.1", server.port, { config: { logger: clientLog } }));
    const n = await conn.negotiated;
    expect(outcome(n)).toEqual(["native", "peer-has-no-dispatch"]);
    expect(n.message).toMatch(/the peer serves none of MyService through an rpyc-gen dispatch table.*option "dispatch"/);
    const side = await serverSide(server).negotiated;
    expect(outcome(side)).toEqual(["native", "local-has-no-dispatch"]);
    expect(side.message).toMatch(/this side serves no class through an rpyc-gen dispatch table/);
    expect(await conn.root.get_answer()).toBe(42);
    expect(clientLog.warnings).toEqual([expect.stringContaining("(peer-has-no-dispatch; warned once per process)")]);
    expect(log.warnings).toEqual([expect.stringContaining("(local-has-no-dispatch; warned once per process)")]);
  });

  it("stubs generated from another version of the service: schema-mismatch names the class; the server has nothing to say", async () => {
    const { server, log } = await myServer();
    const newer = { ...MY_SERVICE_SCHEMA, methods: { ...MY_SERVICE_SCHEMA.methods, added_later: MY_SERVICE_SCHEMA.methods["get_answer"]! } };
    const clientLog = recorder();
    const conn = await client(connect("127.0.0.1", server.port, { schemas: [newer], config: { logger: clientLog } }));
    const n = await conn.negotiated;
    expect(outcome(n)).toEqual(["native", "schema-mismatch"]);
    expect(n.message).toMatch(/the peer serves MyService under another rpyc-gen schema.*regenerate/);
    expect(outcome(await serverSide(server).negotiated)).toEqual(["native", "agreed"]);
    const root = conn.root as unknown as { get_answer(): Promise<number> };
    expect(await root.get_answer()).toBe(42);
    expect(clientLog.warnings).toEqual([expect.stringContaining("(schema-mismatch; warned once per process)")]);
    expect(log.warnings).toEqual([]);
  });
});

// ---- other versions, older peers, no answer ---------------------------------------------------

describe("another or an older rpyc-ts, and offers without an answer", () => {
  it("an offer of another codec version: the server answers incompatible-version and says so itself", async () => {
    const { server, log } = await myServer();
    const plain = await client(connect("127.0.0.1", server.port));
    expect(await plain.request(HANDLE_NATIVE_OFFER, [3, ["native", "pipeline"], []])).toEqual(["brine", [], "incompatible-version"]);
    const side = await serverSide(server).negotiated;
    expect(outcome(side)).toEqual(["brine", "incompatible-version"]);
    expect(side.message).toMatch(/run the same rpyc-ts version on both sides/);
    expect(log.warnings).toEqual([expect.stringContaining("(incompatible-version; warned once per process)")]);
  });

  it("the offerer reads incompatible-version from a peer's refusal", async () => {
    const peer = await fakeServer(["brine", [], "incompatible-version"]);
    try {
      const clientLog = recorder();
      const conn = await client(connectMy("127.0.0.1", peer.port, { config: { logger: clientLog } }));
      expect(outcome(await conn.negotiated)).toEqual(["brine", "incompatible-version"]);
      expect(clientLog.warnings).toEqual([expect.stringContaining("(incompatible-version; warned once per process)")]);
    } finally {
      await peer.close();
    }
  });

  it('an older rpyc-ts answering a bare "brine" (no reason): peer-declined, warned', async () => {
    const peer = await fakeServer(["brine", []]);
    try {
      const clientLog = recorder();
      const conn = await client(connectMy("127.0.0.1", peer.port, { config: { logger: clientLog } }));
      const n = await conn.negotiated;
      expect(outcome(n)).toEqual(["brine", "peer-declined"]);
      expect(n.message).toMatch(/most likely because it cannot load protobufjs/);
      expect(clientLog.warnings).toEqual([expect.stringContaining("(peer-declined; warned once per process)")]);
    } finally {
      await peer.close();
    }
  });

  it("a peer that never answers: no-answer after sync_request_timeout, the connection stays open; not warned", async () => {
    const peer = await fakeServer(undefined);
    try {
      const clientLog = recorder();
      const conn = await client(connectMy("127.0.0.1", peer.port, { config: { logger: clientLog, sync_request_timeout: 0.2 } }));
      expect(outcome(await conn.negotiated)).toEqual(["brine", "no-answer"]);
      expect(conn.closed).toBe(false);
      expect([clientLog.warnings, stderrLines]).toEqual([[], []]);
    } finally {
      await peer.close();
    }
  });

  it("closing before the answer: closed; not warned", async () => {
    const peer = await fakeServer(undefined);
    try {
      const clientLog = recorder();
      const conn = await client(connectMy("127.0.0.1", peer.port, { config: { logger: clientLog } }));
      // The offer has left once the peer read it.
      while (peer.offers.length === 0) await new Promise((resolve) => setImmediate(resolve));
      await conn.close();
      expect(outcome(await conn.negotiated)).toEqual(["brine", "closed"]);
      expect([clientLog.warnings, stderrLines]).toEqual([[], []]);
    } finally {
      await peer.close();
    }
  });

  it("what an older offerer reads: replies, never exceptions, with brine first and the reason third; a notice gets a bare brine", async () => {
    const { server: brineServer } = await myServer({ protocolConfig: { codec: "brine" } });
    const raw = await RawPeer.connect(brineServer.port);
    raw.request(1, HANDLE_NATIVE_OFFER, [LABEL_VALUE, [2, ["native", "pipeline"], []]]);
    expect(await raw.next()).toEqual([MSG_REPLY, 1, [LABEL_VALUE, ["brine", [], "codec-brine"]]]);
    const { server } = await myServer();
    const other = await RawPeer.connect(server.port);
    other.request(1, HANDLE_NATIVE_OFFER, [LABEL_VALUE, [2, [], [], "lacks-protobufjs"]]);
    const [msg, seq, body] = await other.next();
    expect([msg, seq, body]).toEqual([MSG_REPLY, 1, [LABEL_VALUE, ["brine", []]]]);
    expect(msg).not.toBe(MSG_EXCEPTION);
  });
});

// ---- warnings -------------------------------------------------------------------------------

describe("warnings: once per process per reason; without a logger, one line on stderr", () => {
  it("two clients of a server without protobufjs, no loggers anywhere: one stderr line per reason, every outcome still says why", async () => {
    const { server } = await myServer({ log: null, protocolConfig: withoutProtobufjs() });
    const first = await client(connectMy("127.0.0.1", server.port));
    expect(outcome(await first.negotiated)).toEqual(["brine", "peer-lacks-protobufjs"]);
    const second = await client(connectMy("127.0.0.1", server.port));
    expect(outcome(await second.negotiated)).toEqual(["brine", "peer-lacks-protobufjs"]);
    for (const side of server.connections) expect(outcome(await side.negotiated)).toEqual(["brine", "local-lacks-protobufjs"]);
    expect(stderrLines).toHaveLength(2);
    expect(stderrLines.find((line) => line.includes("(peer-lacks-protobufjs;"))).toMatch(
      new RegExp(`^rpyc-ts: \\[${first.connid}\\] no native codec: the peer cannot load protobufjs .*\\(peer-lacks-protobufjs; warned once per process\\)\\n$`),
    );
    expect(stderrLines.find((line) => line.includes("(local-lacks-protobufjs;"))).toMatch(
      /^rpyc-ts: \[conn\d+\] no native codec: this process cannot load protobufjs/,
    );
    for (const line of stderrLines) expect(line.split("\n")).toHaveLength(2); // one line each

    // A third client with a logger: the reason was already warned about in this process.
    const clientLog = recorder();
    const third = await client(connectMy("127.0.0.1", server.port, { config: { logger: clientLog } }));
    expect(outcome(await third.negotiated)).toEqual(["brine", "peer-lacks-protobufjs"]);
    expect(clientLog.warnings).toEqual([]);
    // Another reason is warned about on its own.
    const { server: noDispatch } = await myServer({ dispatch: false, log: recorder() });
    const fourth = await client(connectMy("127.0.0.1", noDispatch.port, { config: { logger: clientLog } }));
    expect(outcome(await fourth.negotiated)).toEqual(["native", "peer-has-no-dispatch"]);
    expect(clientLog.warnings).toEqual([expect.stringContaining("(peer-has-no-dispatch;")]);
    expect(stderrLines).toHaveLength(2);
  });
});

// ---- Python RPyC ------------------------------------------------------------------------------

describe.runIf(WITH_PYTHON)("Python RPyC 5.3: peer-not-rpyc-ts, expected, not warned", () => {
  it("the offer is refused (KeyError): calls work; the Python server sees only the request it always saw", async () => {
    const py = await startPython("seed_server.py");
    try {
      const clientLog = recorder();
      const conn = await client(connectMy("127.0.0.1", py.port, { config: { logger: clientLog } }));
      const n = await conn.negotiated;
      expect(outcome(n)).toEqual(["brine", "peer-not-rpyc-ts"]);
      expect(n.message).toMatch(/Python RPyC/);
      expect(await conn.root.get_answer()).toBe(42);
      expect([clientLog.warnings, stderrLines]).toEqual([[], []]);
    } finally {
      await py.stop();
    }
  });

  it("a client without protobufjs: its notice is refused like an offer; peer-not-rpyc-ts, not local-lacks-protobufjs", async () => {
    const py = await startPython("seed_server.py");
    try {
      const clientLog = recorder();
      const conn = await client(connectMy("127.0.0.1", py.port, { config: withoutProtobufjs({ logger: clientLog }) }));
      expect(outcome(await conn.negotiated)).toEqual(["brine", "peer-not-rpyc-ts"]);
      expect(await conn.root.get_answer()).toBe(42);
      expect(conn.stats()).toMatchObject({ errors: 0, pendingRequests: 0 });
      expect([clientLog.warnings, stderrLines]).toEqual([[], []]);
    } finally {
      await py.stop();
    }
  });
});
