// Registry servers and clients against RPyC's recorded packets (test/vectors/registry.json),
// plus the registry's rules (case, order, sender IP, pruning, listing) and its handling of
// bad input and floods. Everything runs on 127.0.0.1 (one test on ::1).

import { readFileSync } from "node:fs";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Registrar } from "../../runtime/index.js";
import {
  DEFAULT_PRUNING_TIMEOUT,
  MAX_DGRAM_SIZE,
  REGISTRY_PORT,
  RegistryCore,
  TCPRegistryClient,
  type TCPRegistryServer,
  UDPRegistryClient,
} from "../../runtime/registry/index.js";
import { dump, load } from "../../runtime/wire/index.js";
import { encodeList, encodeQuery, encodeRegister, encodeUnregister } from "../../runtime/registry/messages.js";
import { eventually, sleep } from "../helpers/servers.js";
import { HOST, MODES, fakeRegistry, fakeRegistryClock, memoryLogger, registryClient, startRegistry, tcpExchange, udpExchange, type Mode } from "./helpers.js";

interface VectorStep {
  step: string;
  request_hex: string;
  request_decoded: string;
  reply_hex: string;
  reply_decoded: string;
}
const vectors = JSON.parse(readFileSync(new URL("../vectors/registry.json", import.meta.url), "utf8")) as { tcp: VectorStep[]; udp: VectorStep[] };
const hex = (h: string): Buffer => Buffer.from(h, "hex");

/** Sends raw request bytes to a registry of `mode` and returns the reply (undefined: none). */
async function exchange(mode: Mode, port: number, data: Uint8Array, waitMs = 300): Promise<Buffer | undefined> {
  if (mode === "UDP") return udpExchange(port, data, waitMs);
  const outcome = await tcpExchange(port, data, waitMs);
  return outcome.reply.length > 0 ? outcome.reply : undefined;
}

describe("replaying RPyC's recorded registry packets against our servers", () => {
  for (const mode of MODES) {
    const steps = mode === "TCP" ? vectors.tcp : vectors.udp;
    it(`${mode}: every reply is byte-identical to Python's registry`, async () => {
      const registry = await startRegistry(mode, { allowListing: true });
      // The last TCP step was recorded on a registry without listing.
      const listed = steps.filter((s) => !s.step.includes("allow_listing=False"));
      for (const step of listed) {
        const reply = await exchange(mode, registry.port, hex(step.request_hex));
        expect(reply?.toString("hex"), step.step).toBe(step.reply_hex);
      }
      const unlisted = steps.filter((s) => s.step.includes("allow_listing=False"));
      if (unlisted.length > 0) {
        const closed = await startRegistry(mode, { allowListing: false });
        for (const step of unlisted) expect((await exchange(mode, closed.port, hex(step.request_hex)))?.toString("hex")).toBe(step.reply_hex);
      }
    });
  }
});

describe("our clients send RPyC's request bytes and read RPyC's replies", () => {
  const calls: Record<Mode, ((r: Registrar) => Promise<unknown>)[]> = {
    TCP: [
      (r) => r.register(["MY"], 35735, HOST),
      (r) => r.discover("my"),
      (r) => r.discover("NOSUCH"),
      (r) => r.list(),
      (r) => r.list("127.0.0.1"),
      (r) => r.discover("MY"),
      (r) => r.unregister(35735, HOST),
      (r) => r.discover("MY"),
      (r) => r.list(),
    ],
    UDP: [
      (r) => r.register(["MY", "ALIAS2"], 18812, HOST),
      (r) => r.discover("alias2"),
      (r) => r.list(),
      (r) => r.unregister(18812, HOST),
      (r) => r.discover("MY"),
    ],
  };
  const expected: Record<Mode, unknown[]> = {
    TCP: [true, [[HOST, 35735]], [], ["MY"], ["MY"], [[HOST, 35735]], undefined, [], null],
    UDP: [true, [[HOST, 18812]], ["MY", "ALIAS2"], undefined, []],
  };
  for (const mode of MODES) {
    it(`${mode}: request bytes equal the recorded ones; results decode the recorded replies`, async () => {
      const steps = mode === "TCP" ? vectors.tcp : vectors.udp;
      let current = 0;
      // Answers each request with the reply recorded for the step being replayed.
      const fake = await fakeRegistry(mode, () => hex(steps[current]!.reply_hex));
      const client = registryClient(mode, fake.port);
      for (const [i, call] of calls[mode].entries()) {
        current = i;
        expect(await call(client), steps[i]!.step).toEqual(expected[mode][i]);
        await eventually(() => fake.requests.length === i + 1, 2000, `request ${i}`);
        expect(fake.requests[i]!.toString("hex"), steps[i]!.step).toBe(steps[i]!.request_hex);
      }
      await fake.close();
    });
  }

  it("encoders match the recorded bytes for every command", () => {
    expect(encodeRegister(["MY"], 35735).toString("hex")).toBe(vectors.tcp[0]!.request_hex);
    expect(encodeQuery("my").toString("hex")).toBe(vectors.tcp[1]!.request_hex);
    expect(encodeList(null).toString("hex")).toBe(vectors.tcp[3]!.request_hex);
    expect(encodeList("127.0.0.1").toString("hex")).toBe(vectors.tcp[4]!.request_hex);
    expect(encodeUnregister(35735).toString("hex")).toBe(vectors.tcp[6]!.request_hex);
  });
});

describe("registry rules (both modes)", () => {
  for (const mode of MODES) {
    it(`${mode}: names are case-insensitive, oldest registration first, re-registration refreshes, unregister removes everywhere`, async () => {
      const registry = await startRegistry(mode, { allowListing: true });
      const client = registryClient(mode, registry.port);
      expect(await client.register(["calc", "Adder"], 2001, HOST)).toBe(true);
      expect(await client.register(["CALC"], 2002, HOST)).toBe(true);
      expect(await client.discover("cAlC")).toEqual([
        [HOST, 2001],
        [HOST, 2002],
      ]);
      // Renewing 2001 makes it the newest.
      expect(await client.register(["calc", "adder"], 2001, HOST)).toBe(true);
      expect(await client.discover("calc")).toEqual([
        [HOST, 2002],
        [HOST, 2001],
      ]);
      expect(await client.list()).toEqual(["CALC", "ADDER"]);
      expect(await client.list(HOST)).toEqual(["CALC", "ADDER"]);
      expect(await client.list("127.0.0.9")).toEqual([]);
      await client.unregister(2001, HOST);
      await eventually(() => registry.registry.size === 1, 2000, "unregister");
      expect(await client.discover("ADDER")).toEqual([]);
      expect(await client.discover("calc")).toEqual([[HOST, 2002]]);
    });

    it(`${mode}: registrations not renewed within pruningTimeout are dropped at query time`, async () => {
      // The registry's clock (performance.now) is faked, so "stale" and "fresh" do not depend on
      // how long the exchanges take: only the 250 ms we advance it by pass for the registry.
      const clock = fakeRegistryClock();
      try {
        const registry = await startRegistry(mode, { pruningTimeout: 0.2, allowListing: true });
        const client = registryClient(mode, registry.port);
        expect(await client.register(["stale"], 3001, HOST)).toBe(true);
        expect(await client.discover("stale")).toEqual([[HOST, 3001]]);
        clock.advance(250);
        expect(await client.register(["fresh"], 3002, HOST)).toBe(true);
        expect(await client.discover("stale")).toEqual([]);
        expect(await client.list()).toEqual(["FRESH"]);
        expect(await client.discover("fresh")).toEqual([[HOST, 3002]]);
      } finally {
        clock.restore();
      }
    });

    it(`${mode}: LIST answers None unless allowListing`, async () => {
      const registry = await startRegistry(mode);
      const client = registryClient(mode, registry.port);
      expect(await client.register(["hidden"], 4001, HOST)).toBe(true);
      expect(await client.list()).toBeNull();
      expect(await client.list(HOST)).toBeNull();
      expect(await client.discover("hidden")).toEqual([[HOST, 4001]]);
    });
  }

  it("records the sender's address, not anything in the payload (IPv6 loopback)", async () => {
    for (const mode of MODES) {
      const registry = await startRegistry(mode, { host: "::1" });
      const client =
        mode === "UDP"
          ? new UDPRegistryClient({ ip: "::1", port: registry.port, timeout: 5 })
          : new TCPRegistryClient({ ip: "::1", port: registry.port, timeout: 5 });
      expect(await client.register(["six"], 5001, "::1")).toBe(true);
      expect(await client.discover("six")).toEqual([["::1", 5001]]);
      await registry.close();
    }
  });

  it("clients return nothing, in time, when no registry answers", async () => {
    const fake = await fakeRegistry("UDP", () => undefined);
    const udp = new UDPRegistryClient({ ip: HOST, port: fake.port, timeout: 0.1 });
    expect(await udp.discover("x")).toEqual([]);
    expect(await udp.list()).toEqual([]);
    expect(await udp.register(["x"], 1, HOST)).toBe(false);
    const silentTcp = await fakeRegistry("TCP", () => undefined);
    const tcp = new TCPRegistryClient({ ip: HOST, port: silentTcp.port, timeout: 0.1 });
    expect(await tcp.discover("x")).toEqual([]);
    expect(await tcp.register(["x"], 1, HOST)).toBe(false);
    // A refused TCP connection: register is false, unregister is logged, discover rejects (as RPyC's raises).
    await silentTcp.close();
    expect(await tcp.register(["x"], 1, HOST)).toBe(false);
    await expect(tcp.unregister(1, HOST)).resolves.toBeUndefined();
    await expect(tcp.discover("x")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it('UDP register accepts only an "OK" sent from the registry\'s port', async () => {
    const ok = await fakeRegistry("UDP", () => dump("OK"));
    // 5 s: a reply that must come; 0.2 s where none counts (the client waits that long).
    expect(await new UDPRegistryClient({ ip: HOST, port: ok.port, timeout: 5 }).register(["x"], 1, HOST)).toBe(true);
    const nope = await fakeRegistry("UDP", () => dump("NOPE"));
    expect(await new UDPRegistryClient({ ip: HOST, port: nope.port, timeout: 0.2 }).register(["x"], 1, HOST)).toBe(false);
    // An "OK" from another port (a second socket answers for the registry) is not trusted.
    const dgram = await import("node:dgram");
    const bind = (socket: import("node:dgram").Socket): Promise<void> => new Promise((resolve) => socket.bind({ address: HOST, port: 0 }, () => resolve()));
    const registrySocket = dgram.createSocket("udp4");
    const otherSocket = dgram.createSocket("udp4");
    await Promise.all([bind(registrySocket), bind(otherSocket)]);
    registrySocket.on("message", (_msg, rinfo) => otherSocket.send(dump("OK"), rinfo.port, rinfo.address));
    const client = new UDPRegistryClient({ ip: HOST, port: registrySocket.address().port, timeout: 0.2 });
    expect(await client.register(["x"], 1, HOST)).toBe(false);
    registrySocket.close();
    otherSocket.close();
  });

  it("clients take RPyC's defaults, overridable by RPYC_REGISTRY_HOST / RPYC_REGISTRY_PORT", () => {
    const saved = { host: process.env["RPYC_REGISTRY_HOST"], port: process.env["RPYC_REGISTRY_PORT"] };
    try {
      delete process.env["RPYC_REGISTRY_HOST"];
      delete process.env["RPYC_REGISTRY_PORT"];
      const udp = new UDPRegistryClient();
      expect([udp.ip.split(".").every((part) => part === "255"), udp.port, udp.timeout, udp.bcast]).toEqual([true, REGISTRY_PORT, 2, true]);
      expect(new UDPRegistryClient({ ip: HOST }).bcast).toBe(false);
      expect(() => new TCPRegistryClient()).toThrow(/RPYC_REGISTRY_HOST/);
      process.env["RPYC_REGISTRY_HOST"] = HOST;
      process.env["RPYC_REGISTRY_PORT"] = "18999";
      expect([new UDPRegistryClient().ip, new UDPRegistryClient().port, new UDPRegistryClient().bcast]).toEqual([HOST, 18999, false]);
      expect([new TCPRegistryClient().ip, new TCPRegistryClient().port]).toEqual([HOST, 18999]);
      expect(new TCPRegistryClient({ ip: "::1", port: 1 }).ip).toBe("::1");
      process.env["RPYC_REGISTRY_PORT"] = "http";
      expect(() => new UDPRegistryClient()).toThrow(RangeError);
    } finally {
      for (const [key, value] of [
        ["RPYC_REGISTRY_HOST", saved.host],
        ["RPYC_REGISTRY_PORT", saved.port],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    expect(DEFAULT_PRUNING_TIMEOUT).toBe(240);
  });
});

describe("bad input is dropped with a log line; the registry keeps serving", () => {
  const valid = encodeRegister(["MY"], 35735);
  let nested = Buffer.alloc(0);
  for (let i = 0; i < 300; i++) nested = Buffer.concat([Buffer.from([0x10]), nested]);
  const bad: [string, Buffer][] = [
    ["garbage", Buffer.from("GET / HTTP/1.0\r\n\r\n")],
    ["truncated", valid.subarray(0, valid.length - 3)],
    ["trailing bytes", Buffer.concat([valid, Buffer.from([0])])],
    ["unknown tag", Buffer.from([0x07])],
    ["not a tuple", dump("RPYC")],
    ["wrong magic", dump(["RPYX", "QUERY", ["MY"]])],
    ["bytes magic", dump([new Uint8Array(Buffer.from("RPYC")), "QUERY", ["MY"]])],
    ["unknown command", dump(["RPYC", "DELETE", [1]])],
    ["args not a tuple", dump(["RPYC", "QUERY", "MY"])],
    ["too few args", dump(["RPYC", "REGISTER", [["MY"]]])],
    ["too many args", dump(["RPYC", "QUERY", ["MY", "X"]])],
    ["aliases a str", dump(["RPYC", "REGISTER", ["MY", 1]])],
    ["port a str", dump(["RPYC", "REGISTER", [["MY"], "80"]])],
    ["port 0", dump(["RPYC", "REGISTER", [["MY"], 0]])],
    ["port too large", dump(["RPYC", "REGISTER", [["MY"], 70000]])],
    ["name not a str", dump(["RPYC", "QUERY", [5]])],
    ["nested too deep", Buffer.concat([nested, Buffer.from([0x02])])],
    ["oversized", encodeRegister(["X".repeat(MAX_DGRAM_SIZE)], 1)],
  ];
  for (const mode of MODES) {
    it(`${mode}: ${bad.length} kinds of bad packets get no reply and register nothing`, async () => {
      const logger = memoryLogger();
      const registry = await startRegistry(mode, { logger, idleTimeout: 0.2, allowListing: true });
      const client = registryClient(mode, registry.port);
      expect(await client.register(["good"], 6001, HOST)).toBe(true);
      const replies = await Promise.all(bad.map(([, packet]) => exchange(mode, registry.port, packet, 150)));
      expect(Object.fromEntries(bad.map(([what], i) => [what, replies[i]]))).toEqual(Object.fromEntries(bad.map(([what]) => [what, undefined])));
      // One warning per bad packet.
      await eventually(() => logger.lines.filter((l) => l.startsWith("warn")).length >= bad.length, 2000, "a log line per packet").catch(() => {
        throw new Error(`expected ${bad.length} warnings, got:\n${logger.lines.join("\n")}`);
      });
      expect(logger.lines.some((l) => /larger than 1500 bytes/.test(l))).toBe(true);
      expect(logger.lines.some((l) => /invalid magic/.test(l))).toBe(true);
      expect(logger.lines.some((l) => /unknown command/.test(l))).toBe(true);
      expect(registry.registry.size).toBe(1);
      expect(await client.discover("good")).toEqual([[HOST, 6001]]);
      expect(await client.list()).toEqual(["GOOD"]);
    });
  }

  it("TCP: a connection closes right after its reply; an ignored or silent one after idleTimeout", async () => {
    // Answered: closed by the server although its idleTimeout (60 s) is far beyond our wait
    // (10 s), so the reply closed it, not the idle timer (no upper bound on the elapsed time).
    const patient = await startRegistry("TCP", { idleTimeout: 60 });
    const answered = await tcpExchange(patient.port, encodeQuery("x"), 10_000);
    expect([answered.reply.toString("hex"), answered.closedByServer]).toEqual(["02", true]);
    // Ignored or silent: no reply, and closed only by the idle timer (never before it).
    const registry = await startRegistry("TCP", { idleTimeout: 0.2 });
    for (const data of [dump(["RPYX", "QUERY", ["MY"]]), Buffer.alloc(0)]) {
      const ignored = await tcpExchange(registry.port, data, 10_000);
      expect([ignored.reply.length, ignored.closedByServer]).toEqual([0, true]);
      expect(ignored.elapsedMs).toBeGreaterThanOrEqual(150);
    }
  });

  it("TCP: answered connections are released as soon as the client closes, long before idleTimeout", async () => {
    const registry = (await startRegistry("TCP", { idleTimeout: 10 })) as TCPRegistryServer;
    const client = registryClient("TCP", registry.port);
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.register([`s${i}`], 8000 + i, HOST)));
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.discover(`s${i}`)));
    await eventually(() => registry.openConnections === 0, 1000, "the connections to close");
  });

  it("TCP: only the first read counts (RPyC's single recv)", async () => {
    const logger = memoryLogger();
    // idleTimeout bounds the wait for a reply that must not come (the test lasts that long);
    // 1 s leaves the server ample time for its first read on a loaded machine.
    const registry = await startRegistry("TCP", { idleTimeout: 1, logger });
    const { connect } = await import("node:net");
    const socket = connect({ host: HOST, port: registry.port });
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const query = encodeQuery("x");
    socket.write(query.subarray(0, 5));
    // The server has read (and dropped) the first segment before the rest is sent: two reads.
    await eventually(() => logger.lines.some((l) => /dropped a 5-byte packet/.test(l)), 5000, "the server to read the first segment");
    socket.write(query.subarray(5));
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    expect(chunks).toEqual([]); // the first segment alone is not a request: no reply, like RPyC
  });
});

describe("a flood of registrations stays bounded (maxEntries)", () => {
  it("UDP: 1000 registrations for distinct names keep at most maxEntries; stale entries make room later", async () => {
    // A faked registry clock: the flood stays fresh however long it takes to arrive, until we advance it.
    const clock = fakeRegistryClock();
    onTestFinished(() => clock.restore());
    const logger = memoryLogger();
    const registry = await startRegistry("UDP", { logger, maxEntries: 50, pruningTimeout: 1, allowListing: true });
    const dgram = await import("node:dgram");
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind({ address: HOST, port: 0 }, () => resolve()));
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, i) => new Promise<void>((resolve) => socket.send(encodeRegister([`flood${i}`], 7000), registry.port, HOST, () => resolve())),
      ),
    );
    // Datagrams from one socket arrive in order over loopback: once this query is answered,
    // every flood datagram was handled (or dropped by the kernel).
    // (The kernel may drop datagrams of the flood, the query included: ask until answered.)
    let answer: Buffer | undefined;
    socket.on("message", (msg) => void (Array.isArray(load(msg)) && (answer = msg)));
    for (let i = 0; i < 200 && !answer; i++) {
      socket.send(encodeQuery("flood0"), registry.port, HOST);
      await sleep(50);
    }
    expect(answer).toBeDefined();
    socket.close();
    expect(registry.registry.size).toBe(50);
    expect(logger.lines.filter((l) => /table is full/.test(l)).length).toBeGreaterThan(0);
    const client = registryClient("UDP", registry.port);
    // Full and nothing stale: refused (no "OK": the client waits out its short timeout), but a
    // renewal of a held entry still works.
    expect(await registryClient("UDP", registry.port, 0.2).register(["late"], 7001, HOST)).toBe(false);
    const held = (await client.list())!.find((name) => name.startsWith("FLOOD"))!;
    expect(await client.register([held], 7000, HOST)).toBe(true);
    // Once the flood is stale it is pruned to make room.
    clock.advance(1050);
    expect(await client.register(["late"], 7001, HOST)).toBe(true);
    expect(await client.list()).toEqual(["LATE"]); // LIST prunes the rest
    expect(registry.registry.size).toBe(1);
    expect(await client.discover("late")).toEqual([[HOST, 7001]]);
  });

  it("the bound counts services x addresses, and a request that does not fit is refused whole", () => {
    const logger = memoryLogger();
    const core = new RegistryCore({ maxEntries: 10, logger });
    for (let port = 1; port <= 10; port++) expect(core.register(HOST, ["one"], port)).toBe(true);
    expect(core.register(HOST, ["one"], 11)).toBe(false);
    expect(core.register(HOST, ["one"], 5)).toBe(true); // renewal
    core.unregister(HOST, 1);
    core.unregister(HOST, 2);
    expect(core.register(HOST, ["a", "b", "c"], 12)).toBe(false); // needs 3, 2 free
    expect(core.register(HOST, ["a", "b"], 12)).toBe(true);
    expect(core.size).toBe(10);
    expect(core.query("one")).toHaveLength(8);
    expect(logger.lines.filter((l) => /table is full/.test(l))).toHaveLength(2);
    // handle(): a refused REGISTER gets no reply at all.
    expect(core.handle(HOST, encodeRegister(["z"], 13))).toBeUndefined();
    expect(load(core.handle(HOST, encodeQuery("a"))!)).toEqual([[HOST, 12]]);
  });
});
