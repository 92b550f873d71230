// The native codec between rpyc-ts peers (runtime/compiled/native.ts): negotiation at connect
// time (rpyc-ts <-> rpyc-ts agree; Python RPyC peers and `codec: "brine"` keep brine), typed
// calls of compiled methods as protobuf with the same results as brine, dynamic values,
// netrefs and callbacks still by reference, errors, timeouts, aborts and events, and a native
// frame sent to a peer that did not agree refused. Frames are observed on the wire through a
// recording TCP forwarder.

import net, { type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AsyncResultTimeout,
  ConnectionClosedError,
  PythonException,
  Service,
  ThreadedServer,
  connect,
  withOptions,
  type Connection,
  type ConnectOptions,
  type RequestEvent,
} from "../../runtime/index.js";
import { defineDispatch, type ServiceSchema } from "../../runtime/internal.js";
import { FrameDecoder } from "../../runtime/wire/channel.js";
import { encodeNativeRequest, isNativePayload, loadNativeCodec, nativeSchema, schemaFingerprint } from "../../runtime/compiled/native.js";
import { CallbackService } from "../../fixtures/callbacks/callback-service.js";
import { CallbackServiceDispatch } from "../../fixtures/callbacks/expected/callback-service.dispatch.js";
import { CounterServiceDispatch } from "../../fixtures/callbacks/expected/counter-service.dispatch.js";
import { COUNTER_SERVICE_SCHEMA, connectCallback } from "../../fixtures/callbacks/expected/index.js";
import { DirectoryService } from "../../fixtures/rich-types/directory-service.js";
import { DirectoryServiceDispatch } from "../../fixtures/rich-types/expected/directory-service.dispatch.js";
import { Priority, Role, connectDirectory, type DirectoryRemote, type Ticket, type User } from "../../fixtures/rich-types/expected/index.js";
import { MyService } from "../../fixtures/seed/my-service.js";
import { MyServiceDispatch } from "../../fixtures/seed/expected/my-service.dispatch.js";
import { MY_SERVICE_SCHEMA, connectMy } from "../../fixtures/seed/expected/index.js";
import { runPythonClient, startPython, WITH_PYTHON } from "../helpers/python.js";
import { eventually } from "../helpers/servers.js";
import { resolveConfig } from "../../runtime/connection/config.js";
import { PeerClass } from "../../runtime/compiled/negotiation.js";
import { sessionOf } from "../../runtime/connection/connection.js";

/** The client's agreed table of the peer's native classes (a test reaches in to play a broken peer). */
function peerClasses(conn: Connection): Map<string, PeerClass> {
  return (sessionOf(conn).native as unknown as { peerNative: Map<string, PeerClass> }).peerNative;
}

// ---- a recording forwarder ----------------------------------------------------------------

/** Payloads seen on the wire, per direction: "native" or "brine" by their first bytes. */
interface Tap {
  readonly up: ("native" | "brine")[];
  readonly down: ("native" | "brine")[];
}

class RecordingProxy {
  readonly taps: Tap[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: net.Server,
    private readonly target: number,
  ) {
    server.on("connection", (client) => this.forward(client));
  }

  static async start(target: number): Promise<RecordingProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    return new RecordingProxy(server, target);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private forward(client: Socket): void {
    const upstream = net.connect({ host: "127.0.0.1", port: this.target });
    const tap: Tap = { up: [], down: [] };
    this.taps.push(tap);
    for (const [from, to, log] of [
      [client, upstream, tap.up],
      [upstream, client, tap.down],
    ] as const) {
      this.sockets.add(from);
      const decoder = new FrameDecoder(64 * 1024 * 1024);
      from.on("error", () => {});
      from.on("data", (chunk: Buffer) => {
        for (const payload of decoder.push(chunk)) log.push(isNativePayload(payload) ? "native" : "brine");
        to.write(chunk);
      });
      from.on("close", () => to.destroy());
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- resources ------------------------------------------------------------------------------

beforeAll(async () => {
  // Connections load protobufjs themselves; tests that use the codec directly load it here.
  expect(await loadNativeCodec()).toBe(true);
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  // Connections first, then proxies and servers.
  for (const item of open.splice(0).reverse()) await item.close();
});
afterAll(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function serve(service: new () => object, options: ConstructorParameters<typeof ThreadedServer>[1] = {}): Promise<ThreadedServer> {
  const server = new ThreadedServer(service, { hostname: "127.0.0.1", port: 0, ...options });
  await server.start();
  open.push(server);
  return server;
}

async function proxy(target: number): Promise<RecordingProxy> {
  const p = await RecordingProxy.start(target);
  open.push(p);
  return p;
}

function track<T extends { close(): Promise<void> }>(item: T): T {
  open.push(item);
  return item;
}

/** The server side of the only connection the server has. */
function serverSide(server: ThreadedServer): Connection {
  const [conn] = [...server.connections];
  if (!conn) throw new Error("the server has no connection");
  return conn;
}

// ---- a rich scenario, run in both codecs ------------------------------------------------

const ADA: User = {
  id: "u-1",
  name: "Ada",
  roles: [Role.Admin],
  address: { street: "1 Analytical Way", city: "London", country: "US" },
  joined: new Date(Date.UTC(2020, 0, 1)),
  tags: { team: "engines" },
  balance: 2n ** 60n,
};

/** Every typed call of DirectoryService, with its result (the same object in both codecs). */
async function directoryScenario(dir: DirectoryRemote): Promise<Record<string, unknown>> {
  const grace: User = {
    ...ADA,
    id: "u-2",
    name: "Grace",
    email: "grace@example.org",
    roles: [Role.Editor, Role.Viewer],
    avatar: Uint8Array.of(137, 80),
    balance: -(2n ** 100n),
    address: { street: "2 Cobol Ct", city: "Arlington", country: "US", zip: "22201" },
  };
  const ticket: Ticket = {
    id: 7,
    title: "fix it",
    priority: Priority.Low,
    assignee: null,
    labels: ["bug"],
    location: [1, 2],
    watchers: new Map([["u-1", Role.Admin]]),
  };
  return {
    getUser: await dir.get_user("u-1"),
    missing: await dir.get_user("nobody"),
    putUser: await dir.put_user(grace),
    page1: await dir.list_users(1),
    page2: await dir.list_users(1, "u-1"),
    searchUser: await dir.search("Grace"),
    searchMissing: await dir.search("Linus"),
    relocate: await dir.relocate(ADA.address, "Paris"),
    escalate: await dir.escalate(ticket),
    escalateTo: await dir.escalate({ ...ticket, assignee: grace, location: [1, 2, 3] }, Priority.Normal),
    tickets: await dir.tickets(),
    distance2: await dir.distance([3, 4]),
    distance3: await dir.distance([2, 3, 6]),
    shift: await dir.shift(new Date(Date.UTC(2024, 1, 28)), 2),
    checksum: await dir.checksum(Uint8Array.of(1, 2)),
    attach: await dir.attach("/srv/notes.txt", Uint8Array.of(1)),
    wordCounts: await dir.word_counts({ a: "two words", b: "" }),
    version: await dir.version,
    status: await dir.status,
    roleCounts: await dir.role_counts,
  };
}

describe("negotiation between rpyc-ts peers", () => {
  it("both sides agree on native; typed calls then travel as native frames both ways", async () => {
    const server = await serve(DirectoryService, { dispatch: DirectoryServiceDispatch });
    const wire = await proxy(server.port);
    const conn = track(await connectDirectory("127.0.0.1", wire.port));
    expect(await conn.negotiated).toMatchObject({ codec: "native", reason: "agreed" });
    expect(conn.codec).toBe("native");
    expect(await serverSide(server).negotiated).toMatchObject({ codec: "native", reason: "agreed" });
    expect(serverSide(server).codec).toBe("native");
    const tap = wire.taps[0]!;
    // The offer and its answer are brine (a Python peer must be able to read the offer).
    expect(tap.up[0]).toBe("brine");
    expect(tap.down[0]).toBe("brine");

    await conn.getRoot();
    const [up, down] = [tap.up.length, tap.down.length];
    expect(await conn.root.checksum(Uint8Array.of(1, 2, 3))).toBe(1026n);
    // One native request, one native reply: nothing else.
    expect(tap.up.slice(up)).toEqual(["native"]);
    expect(tap.down.slice(down)).toEqual(["native"]);
    // Attributes and builtin methods stay brine.
    expect(await conn.root.version).toBe("3.1");
    expect(tap.up.at(-1)).toBe("brine");
  });

  it("typed calls give the same results with the native codec as with brine (and values keep their types)", async () => {
    const nativeServer = await serve(DirectoryService, { dispatch: DirectoryServiceDispatch });
    const nativeWire = await proxy(nativeServer.port);
    const nativeConn = track(await connectDirectory("127.0.0.1", nativeWire.port));
    expect((await nativeConn.negotiated).codec).toBe("native");
    const viaNative = await directoryScenario(nativeConn.root);

    const brineServer = await serve(DirectoryService, { dispatch: DirectoryServiceDispatch });
    const brineWire = await proxy(brineServer.port);
    const brineConn = track(await connectDirectory("127.0.0.1", brineWire.port, { config: { codec: "brine" } }));
    expect(await brineConn.negotiated).toMatchObject({ codec: "brine", reason: "codec-brine" });
    const viaBrine = await directoryScenario(brineConn.root);

    expect(viaNative).toEqual(viaBrine);
    expect(viaNative["getUser"]).toEqual(ADA);
    expect((viaNative["getUser"] as User).joined).toBeInstanceOf(Date);
    expect(typeof (viaNative["getUser"] as User).balance).toBe("bigint");
    expect((viaNative["putUser"] as User).balance).toBe(-(2n ** 100n));
    expect(Object.keys(viaNative["getUser"] as object)).not.toContain("email");
    expect(Object.keys(viaNative["page2"] as object)).toEqual(["items", "total"]);
    expect(viaNative["missing"]).toBeNull();
    expect(viaNative["escalate"]).toMatchObject({ priority: Priority.High, labels: ["bug", "escalated"], location: [1, 2] });
    expect((viaNative["escalateTo"] as Ticket).location).toEqual([1, 2, 3]);
    expect((viaNative["escalate"] as Ticket).watchers).toEqual(new Map([["u-1", Role.Admin]]));
    expect(viaNative["distance3"]).toBe(7);
    expect(viaNative["roleCounts"]).toEqual(
      new Map([
        [Role.Admin, 1],
        [Role.Editor, 1],
        [Role.Viewer, 1],
      ]),
    );

    const nativeFrames = nativeWire.taps[0]!.up.filter((k) => k === "native").length;
    expect(nativeFrames).toBeGreaterThanOrEqual(17); // every typed method call of the scenario
    expect(brineWire.taps[0]!.up).not.toContain("native");
    expect(brineWire.taps[0]!.down).not.toContain("native");
  });

  it('codec: "brine" on the server refuses the offer: the client stays brine and works', async () => {
    const server = await serve(DirectoryService, { dispatch: DirectoryServiceDispatch, protocolConfig: { codec: "brine" } });
    const wire = await proxy(server.port);
    const conn = track(await connectDirectory("127.0.0.1", wire.port));
    expect(await conn.negotiated).toMatchObject({ codec: "brine", reason: "peer-codec-brine" });
    expect(conn.codec).toBe("brine");
    expect(serverSide(server).codec).toBe("brine");
    expect(await conn.root.checksum(Uint8Array.of(1, 2, 3))).toBe(1026n);
    expect(await conn.root.get_user("u-1")).toEqual(ADA);
    expect(wire.taps[0]!.up).not.toContain("native");
    expect(wire.taps[0]!.down).not.toContain("native");
    // The refused offer counts nowhere.
    expect(conn.stats()).toMatchObject({ errors: 0, pendingRequests: 0, requestsSent: 3 });
  });

  it('codec: "brine" on the client offers nothing, only says it holds schemas (so results come encoded by them)', async () => {
    const server = await serve(DirectoryService, { dispatch: DirectoryServiceDispatch });
    const wire = await proxy(server.port);
    const conn = track(await connectDirectory("127.0.0.1", wire.port, { config: { codec: "brine" } }));
    expect((await conn.negotiated).codec).toBe("brine");
    await conn.getRoot();
    expect(await conn.root.checksum(Uint8Array.of(1, 2))).toBe(33n);
    expect(wire.taps[0]!.up).toHaveLength(3); // the codec-brine notice, GETROOT, CALLATTR
    expect(wire.taps[0]!.up).not.toContain("native");
    expect(serverSide(server).codec).toBe("brine");
    expect(await serverSide(server).negotiated).toMatchObject({ codec: "brine", reason: "peer-codec-brine" });
  });

  it("a client without schemas never offers; its calls are plain RPyC", async () => {
    const server = await serve(DirectoryService, { dispatch: DirectoryServiceDispatch });
    const conn = track(await connect("127.0.0.1", server.port));
    const root = await conn.getRoot();
    expect(await (root as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)["checksum"]!(Uint8Array.of(1, 2))).toBe(33); // no schema: the bigint arrives as a plain int
    expect(conn.codec).toBe("brine");
    expect(serverSide(server).codec).toBe("brine");
  });

  it("rejects an unknown codec setting", () => {
    expect(() => resolveConfig({ codec: "json" as unknown as "auto" })).toThrow(/codec must be/);
    expect(resolveConfig({}).codec).toBe("auto");
  });
});

// ---- a hand-written compiled service: errors, limits, events, dynamic values ----------------

interface Item {
  name: string;
  qty: number;
  tags?: string[];
  meta: Record<string, number>;
  id: bigint;
  blob?: Uint8Array;
  kind: "a" | "b" | null;
}

class LabService extends Service {
  exposed_echo(item: Item, ...more: Item[]): Item[] {
    return [item, ...more];
  }
  exposed_fail(message: string): never {
    throw new RangeError(message);
  }
  exposed_wrong(): Item {
    return { name: 5 } as unknown as Item; // breaks its own schema
  }
  async exposed_slow(ms: number): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  }
  exposed_nothing(): void {}
  exposed_run(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return fn(x);
  }
  exposed_holder(): object {
    return { secret: 1 };
  }
}

const ITEM = { kind: "ref", name: "Item" } as const;
const LAB_SCHEMA: ServiceSchema = {
  className: "LabService",
  name: "LAB",
  aliases: ["LAB"],
  methods: {
    echo: {
      params: [
        { name: "item", type: ITEM, optional: false, rest: false },
        { name: "more", type: { kind: "array", element: ITEM }, optional: false, rest: true },
      ],
      returns: { kind: "array", element: ITEM },
    },
    fail: { params: [{ name: "message", type: { kind: "string" }, optional: false, rest: false }], returns: { kind: "undefined" } },
    wrong: { params: [], returns: ITEM },
    slow: { params: [{ name: "ms", type: { kind: "number" }, optional: false, rest: false }], returns: { kind: "number" } },
    nothing: { params: [], returns: { kind: "undefined" } },
    run: {
      params: [
        {
          name: "fn",
          type: { kind: "function", params: [{ name: "x", type: { kind: "number" }, optional: false, rest: false }], returns: { kind: "number" } },
          optional: false,
          rest: false,
        },
        { name: "x", type: { kind: "number" }, optional: false, rest: false },
      ],
      returns: { kind: "number" },
    },
    holder: { params: [], returns: { kind: "unknown" } },
  },
  attributes: {},
  types: {
    Item: {
      kind: "object",
      name: "Item",
      fields: [
        { name: "name", type: { kind: "string" }, optional: false },
        { name: "qty", type: { kind: "number" }, optional: false },
        { name: "tags", type: { kind: "array", element: { kind: "string" } }, optional: true },
        { name: "meta", type: { kind: "map", key: { kind: "string" }, value: { kind: "number" }, container: "record" }, optional: false },
        { name: "id", type: { kind: "bigint" }, optional: false },
        { name: "blob", type: { kind: "bytes" }, optional: true },
        {
          name: "kind",
          type: { kind: "union", members: [{ kind: "literal", value: "a" }, { kind: "literal", value: "b" }, { kind: "null" }] },
          optional: false,
        },
      ],
    },
  },
};

const LAB_DISPATCH = defineDispatch(
  LabService,
  LAB_SCHEMA,
  {
    echo: (s, a) => s.exposed_echo(a[0] as Item, ...(a.slice(1) as Item[])),
    fail: (s, a) => s.exposed_fail(a[0] as string),
    wrong: (s) => s.exposed_wrong(),
    slow: (s, a) => s.exposed_slow(a[0] as number),
    nothing: (s) => s.exposed_nothing(),
    run: (s, a) => s.exposed_run(a[0] as (x: number) => Promise<number>, a[1] as number),
    holder: (s) => s.exposed_holder(),
  },
  {},
);

type Lab = Record<string, (...args: unknown[]) => Promise<unknown>>;

async function lab(
  options: ConnectOptions = {},
  serverOptions: ConstructorParameters<typeof ThreadedServer>[1] = {},
): Promise<{ conn: Connection; root: Lab; wire: RecordingProxy; server: ThreadedServer }> {
  const server = await serve(LabService, { dispatch: LAB_DISPATCH, ...serverOptions });
  const wire = await proxy(server.port);
  const conn = track(await connect("127.0.0.1", wire.port, { schemas: [LAB_SCHEMA], ...options }));
  await conn.negotiated;
  const root = (await conn.getRoot()) as unknown as Lab;
  return { conn, root, wire, server };
}

describe("native calls of a compiled service", () => {
  it("only methods whose types are plain data have a native form", () => {
    expect(nativeSchema(LAB_SCHEMA).nativeMethods.sort()).toEqual(["echo", "fail", "nothing", "slow", "wrong"]);
    expect(schemaFingerprint(LAB_SCHEMA)).toMatch(/^[0-9a-f]{16}$/);
    expect(schemaFingerprint({ ...LAB_SCHEMA, name: "OTHER" })).not.toBe(schemaFingerprint(LAB_SCHEMA));
  });

  it("rest arguments, optional fields, records, bigints, bytes and nullable unions round-trip", async () => {
    const { conn, root, wire } = await lab();
    expect(conn.codec).toBe("native");
    const a: Item = { name: "a", qty: 1.5, meta: { x: 1 }, id: -(2n ** 80n), kind: null };
    const b: Item = { name: "", qty: 0, tags: [], meta: {}, id: 0n, blob: Uint8Array.of(), kind: "b" };
    const c: Item = { name: "c", qty: -3, tags: ["t", ""], meta: { "": 0, y: -1 }, id: 7n, blob: Uint8Array.of(0, 255), kind: "a" };
    const before = wire.taps[0]!.up.length;
    const echoed = (await root["echo"]!(a, b, c)) as Item[];
    expect(wire.taps[0]!.up.slice(before)).toEqual(["native"]);
    expect(echoed).toEqual([a, b, c]);
    expect(Object.keys(echoed[0]!)).not.toContain("tags");
    expect(echoed[1]!.tags).toEqual([]);
    expect(echoed[2]!.blob).toEqual(Uint8Array.of(0, 255));
    expect(await root["echo"]!(a)).toEqual([a]);
    expect(await root["nothing"]!()).toBeNull();
  });

  it("exceptions propagate: raised by the service, a result breaking its schema, bad arguments", async () => {
    const { root, conn } = await lab();
    const raised = await root["fail"]!("boom").catch((err: unknown) => err);
    expect(raised).toBeInstanceOf(PythonException);
    expect(raised).toMatchObject({ name: "RangeError" });
    expect(String((raised as Error).message)).toContain("boom");
    await expect(root["wrong"]!()).rejects.toThrow("wrong() result.name: expected string");
    // Checked on the client before anything is sent (as with brine).
    await expect(root["echo"]!({ name: 1 })).rejects.toThrow("echo() argument 'item'.name: expected string");
    await expect(root["echo"]!({ name: "x", qty: 1, meta: {}, id: 1, kind: null })).rejects.toThrow("echo() argument 'item'.id: expected bigint");
    const good: Item = { name: "x", qty: 1, meta: {}, id: 1n, kind: null };
    await expect(root["echo"]!(good, good, { ...good, qty: "1" })).rejects.toThrow("echo() argument 'more[1]'.qty: expected number");
    // Too few arguments: no native form for the call; the server's brine check answers.
    await expect(root["echo"]!()).rejects.toThrow("echo() takes at least 1 argument");
    expect(conn.codec).toBe("native");
    expect(await root["slow"]!(1)).toBe(1); // the connection is still fine
  });

  it("timeouts, aborts, stats and events work for native calls", async () => {
    const { root, conn } = await lab();
    const events: RequestEvent[] = [];
    conn.on("request", (e) => events.push(e));
    const sent = conn.stats().requestsSent;
    await expect(withOptions(root, { timeout: 0.05 })["slow"]!(500)).rejects.toBeInstanceOf(AsyncResultTimeout);
    const ac = new AbortController();
    const call = withOptions(root, { signal: ac.signal })["slow"]!(500);
    await eventually(() => events.length === 2, 2000, "the second call sent");
    ac.abort(new Error("stop"));
    await expect(call).rejects.toThrow("stop");
    expect(await root["slow"]!(2)).toBe(2);
    expect(conn.stats().requestsSent).toBe(sent + 3);
    expect(events.map((e) => [e.handlerName, e.name, e.direction])).toEqual([
      ["HANDLE_CALLATTR", "slow", "out"],
      ["HANDLE_CALLATTR", "slow", "out"],
      ["HANDLE_CALLATTR", "slow", "out"],
    ]);
    expect(conn.stats().pendingRequests).toBe(0);
  });

  it("dynamic values still go as netrefs: callbacks, unknown results, untyped calls", async () => {
    const { root, wire, conn } = await lab();
    expect(conn.codec).toBe("native");
    const before = wire.taps[0]!.up.length;
    expect(await root["run"]!(async (x: number) => x * 10, 4)).toBe(40);
    const holder = (await root["holder"]!()) as unknown as { secret: PromiseLike<unknown> };
    expect(typeof holder).toBe("function"); // a netref
    expect(wire.taps[0]!.up.slice(before)).not.toContain("native");
  });

  it("callbacks fixture: function parameters and netrefs stay brine; calls on a returned compiled netref go native", async () => {
    const server = await serve(CallbackService, { dispatch: [CallbackServiceDispatch, CounterServiceDispatch] });
    const wire = await proxy(server.port);
    const conn = track(await connectCallback("127.0.0.1", wire.port, { schemas: [COUNTER_SERVICE_SCHEMA] }));
    expect((await conn.negotiated).codec).toBe("native");
    const root = conn.root;
    expect(await root.apply(async (x) => x * 3, 7)).toBe(21);
    const add5 = await root.make_adder(5);
    expect(await add5(1)).toBe(6);
    const counter = await root.counter(10);
    const before = wire.taps[0]!.up.length;
    expect(await counter.increment()).toBe(11);
    expect(wire.taps[0]!.up.slice(before)).toEqual(["native"]);
    expect(await counter.value).toBe(11);
  });

  it("large values (compressed frames) and requests queued under maxConcurrentRequests", async () => {
    const { root, wire } = await lab({}, { protocolConfig: { maxConcurrentRequests: 1 } });
    const many: Item[] = Array.from({ length: 2000 }, (_, i) => ({
      name: `item ${i}`,
      qty: i / 7,
      meta: { [`k${i}`]: i },
      id: BigInt(i) ** 5n,
      kind: i % 2 ? "a" : null,
    }));
    const before = wire.taps[0]!.up.length;
    const [first, ...rest] = many;
    expect(await root["echo"]!(first, ...rest)).toEqual(many);
    expect(wire.taps[0]!.up.slice(before)).toEqual(["native"]);
    // One slot: the others wait in the queue as raw native payloads, then are served in order.
    const results = await Promise.all([30, 1, 2, 3, 4].map((ms) => root["slow"]!(ms)));
    expect(results).toEqual([30, 1, 2, 3, 4]);
  });

  it("proxy chaining: a native call on a forwarded netref is passed on to its own connection", async () => {
    const upstreamServer = await serve(LabService, { dispatch: LAB_DISPATCH });
    const upstream = track(await connect("127.0.0.1", upstreamServer.port, { schemas: [LAB_SCHEMA] }));
    expect((await upstream.negotiated).codec).toBe("native");
    const upstreamRoot = await upstream.getRoot();
    class Middle extends Service {
      exposed_lab(): unknown {
        return upstreamRoot;
      }
    }
    const middle = await serve(Middle, { dispatch: LAB_DISPATCH });
    const wire = await proxy(middle.port);
    const conn = track(await connect("127.0.0.1", wire.port, { schemas: [LAB_SCHEMA] }));
    expect((await conn.negotiated).codec).toBe("native");
    const root = (await conn.getRoot()) as unknown as Lab;
    const forwarded = (await root["lab"]!()) as unknown as Lab;
    const item: Item = { name: "via", qty: 2, meta: {}, id: 3n, kind: "b" };
    const before = wire.taps[0]!.up.length;
    expect(await forwarded["echo"]!(item)).toEqual([item]);
    expect(wire.taps[0]!.up.slice(before)).toEqual(["native"]);
  });

  it("a native frame from a peer that did not agree is refused: the connection is closed", async () => {
    const server = await serve(LabService, { dispatch: LAB_DISPATCH });
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const method = nativeSchema(LAB_SCHEMA).method("slow")!;
    const frame = Buffer.concat(encodeNativeRequest(0, 0, method, ["rpyc_ts.LabService", 1, 1], [1], false));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("data", () => {});
    socket.write(frame);
    await closed;
    await eventually(() => server.connections.size === 0, 2000, "the server side closed");
  });

  it("a request naming a class id the server never announced closes that connection; the server serves others", async () => {
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (message: string) => void warnings.push(message) };
    const { conn, root, server } = await lab({}, { protocolConfig: { logger } });
    expect(await root["slow"]!(1)).toBe(1);
    // A broken peer: LabService's entry names id 9 (the server announced one class, id 0).
    const peer = peerClasses(conn);
    peer.set("LabService", new PeerClass(9, peer.get("LabService")!.fingerprint));
    await expect(root["slow"]!(1)).rejects.toBeInstanceOf(Error);
    await eventually(() => conn.closed, 2000, "the client side closed");
    await eventually(() => server.connections.size === 0, 2000, "the server side closed");
    expect(warnings.join("\n")).toMatch(/native request names class id 9, but only 1 classes were announced on this connection/);
    const other = track(await connect("127.0.0.1", server.port, { schemas: [LAB_SCHEMA] }));
    expect((await other.negotiated).codec).toBe("native");
    expect(await ((await other.getRoot()) as unknown as Lab)["slow"]!(2)).toBe(2);
    expect(other.stats()).toMatchObject({ errors: 0 });
  });

  it("a class id announced for another class than the target's is answered with an error; the connection stays", async () => {
    const { conn, root } = await lab({}, { dispatch: [LAB_DISPATCH, MyServiceDispatch] });
    const peer = peerClasses(conn);
    expect([...peer].map(([name, c]) => [name, c.id])).toEqual([
      ["LabService", 0],
      ["MyService", 1],
    ]);
    peer.set("LabService", new PeerClass(1, peer.get("LabService")!.fingerprint));
    await expect(root["slow"]!(1)).rejects.toThrow(/not served as MyService, the class the caller named/);
    peer.set("LabService", new PeerClass(0, peer.get("LabService")!.fingerprint));
    expect(await root["slow"]!(3)).toBe(3);
    expect(conn.closed).toBe(false);
  });

  it("a native call to a closed connection rejects as brine calls do", async () => {
    const { root, conn, wire } = await lab();
    expect(conn.codec).toBe("native");
    await conn.close();
    const before = wire.taps[0]!.up.length;
    // A native call (slow) and a brine call on the same closed connection (holder has no
    // native form) fail alike: ConnectionClosedError, at once, not a timeout; nothing is sent.
    const native = await root["slow"]!(1).catch((err: unknown) => err);
    const brine = await root["holder"]!().catch((err: unknown) => err);
    expect(native).toBeInstanceOf(ConnectionClosedError);
    expect(native).not.toBeInstanceOf(AsyncResultTimeout);
    expect(brine).toBeInstanceOf(ConnectionClosedError);
    expect((native as Error).message).toBe((brine as Error).message);
    expect(wire.taps[0]!.up.slice(before)).toEqual([]);
  });
});

// ---- Python RPyC peers ------------------------------------------------------------------------

describe.runIf(WITH_PYTHON)("with Python RPyC 5.3 the connection stays brine", () => {
  it("rpyc-ts client (with schemas) -> Python server: the offer is refused, calls work", async () => {
    const py = await startPython("seed_server.py");
    try {
      const conn = await connectMy("127.0.0.1", py.port);
      try {
        expect(await conn.negotiated).toMatchObject({ codec: "brine", reason: "peer-not-rpyc-ts" });
        expect(conn.codec).toBe("brine");
        expect(await conn.root.get_answer()).toBe(42);
        expect(await conn.root.the_real_answer_though).toBe(43);
        expect(conn.stats()).toMatchObject({ errors: 0, pendingRequests: 0 });
      } finally {
        await conn.close();
      }
    } finally {
      await py.stop();
    }
  });

  it("Python client -> rpyc-ts server (which offers too, having schemas): Python refuses, everything works", async () => {
    const seen: Connection[] = [];
    class Recorded extends MyService {
      override on_connect(conn: Connection): void {
        seen.push(conn);
      }
    }
    const offering = await serve(Recorded, { dispatch: MyServiceDispatch, protocolConfig: { schemas: [MY_SERVICE_SCHEMA] } });
    const out = await runPythonClient("seed_client.py", [String(offering.port)]);
    expect(out).toMatchObject({ get_answer: 42, the_real_answer_though: 43 });
    // The same client against a server that does not offer: the same outcome, the same counters.
    const plain = await serve(Recorded, { dispatch: MyServiceDispatch });
    expect(await runPythonClient("seed_client.py", [String(plain.port)])).toEqual(out);
    expect(seen).toHaveLength(2);
    // Python answers the offer (KeyError) when it next reads, unless it closed first.
    expect(["peer-not-rpyc-ts", "closed"]).toContain((await seen[0]!.negotiated).reason);
    expect((await seen[0]!.negotiated).codec).toBe("brine");
    expect(seen[0]!.codec).toBe("brine");
    const counters = (c: Connection): object => {
      const { errors, requestsSent, requestsServed, pendingRequests } = c.stats();
      return { errors, requestsSent, requestsServed, pendingRequests };
    };
    expect(counters(seen[0]!)).toEqual(counters(seen[1]!));
  });

  it("Python client -> rpyc-ts server without schemas: no offer, plain RPyC", async () => {
    const server = await serve(MyService, { dispatch: MyServiceDispatch });
    const out = await runPythonClient("seed_client.py", [String(server.port)]);
    expect(out).toMatchObject({ get_answer: 42, the_real_answer_though: 43 });
  });
});
