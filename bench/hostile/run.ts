// Hostile-client bench (`npm run bench:hostile`; bench/README.md lists the attacks): nine attacks, each against a fresh
// rpyc-ts server and a Python RPyC control (bench/suite/python_server.py), while a healthy client calls every 20 ms and the server's RSS
// is sampled. A dead server is a result, not an error. 127.0.0.1 only. This file is also the processes the bench starts:
//
//   node --import tsx bench/hostile/run.ts --role server [--tls DIR]     # the seed MyService plus call_back, default limits
//   node --import tsx bench/hostile/run.ts --role attacker --attack 1 --port N [--quick]
//
// The attacker is a process of its own so that building and sending an attack takes no CPU or memory from the bench's
// healthy client. One TCP connection to 127.0.0.1. It prints JSON lines: {"event":"start"} as the attack's first byte goes
// out, then {"event":"done","detail":..}. Both leave when their stdin reaches EOF (the bench is gone); the attacker also
// after its own time bound.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net, { type Socket } from "node:net";
import path from "node:path";
import tls from "node:tls";
import { deflateSync } from "node:zlib";
import { MyService } from "../../examples/seed-service.js";
import { connect, ThreadedServer, tlsConnect, type Connection, type PyValue, type PyValueIn } from "../../runtime/index.js";
import { TAG_EMPTY_STR, TAG_EMPTY_TUPLE, TAG_FSET, TAG_STR1, TAG_STR_L4, TAG_TUP_L4 } from "../../runtime/wire/brine.js";
import * as C from "../../runtime/wire/consts.js";
import { dump, FrameDecoder, load } from "../../runtime/wire/index.js";
import * as h from "../harness.js";

/** The attacks: their label in the table, and what the attacker process does (below). */
const ATTACKS: readonly { readonly id: number; readonly label: string; run(): Promise<void> }[] = [
  { id: 1, label: "10 MB frame: tuple of 10M b''", run: () => bigTuple(10_000_000, [TAG_EMPTY_STR], 'b""') },
  { id: 2, label: "3 MB frame: tuple of 3M b''", run: () => bigTuple(3_000_000, [TAG_EMPTY_STR], 'b""') },
  { id: 3, label: "60 MB frame: tuple of 30M frozenset()", run: () => bigTuple(30_000_000, [TAG_FSET, TAG_EMPTY_TUPLE], "frozenset()") },
  { id: 4, label: "~7 MB frame: 250k remote refs", run: remoteRefs },
  { id: 5, label: "8 zlib bombs: ~60 KB → 63 MB", run: zlibBombs },
  { id: 6, label: "1k unanswered callbacks + 4.2M pings, unread", run: neverAnswer },
  { id: 7, label: "TLS 1.2 renegotiation every 5 ms, 2.5 s", run: renegotiate },
  { id: 8, label: "5 s of frames at the item budget: 99k b'A' each", run: itemBudget },
  { id: 9, label: "5 s of zlib frames: ~60 KB → 63 MB each", run: zlibStream },
];
const ATTACK_IDS = ATTACKS.map((a) => a.id);

const SERVERS = ["rpyc-ts", "python"] as const;
const PYTHON = "/usr/bin/python3"; // with RPyC 5.3
type ServerKind = (typeof SERVERS)[number];

const HEALTHY_INTERVAL_MS = 20;
const CALL_TIMEOUT_MS = 5_000;
const RSS_INTERVAL_MS = 50;
/** Upper bound of one attack, whatever the attacker does (it bounds itself well below). */
const ATTACK_BOUND_MS = 240_000;

const { values } = h.cli("Hostile-client bench (bench/README.md): npm run bench:hostile [-- options]", {
  only: { type: "string", arg: "LIST", help: "attacks, e.g. 1,3,7 (default all)" },
  servers: { type: "string", arg: "LIST", help: "rpyc-ts,python (default both)" },
  quick: { type: "boolean", default: false, help: "sizes and time bounds ÷ 10" },
  "max-rss-gb": { type: "string", arg: "G", help: "kill a server above G GB of RSS (default 12)" },
  json: { type: "string", arg: "FILE", help: "also write the rows as JSON" },
  role: { type: "string", arg: "R", help: "server or attacker: one of the processes the bench starts (see bench/hostile/run.ts)" },
  attack: { type: "string", arg: "N", help: "--role attacker: the attack" },
  port: { type: "string", arg: "N", help: "--role attacker: the server's port" },
  tls: { type: "string", arg: "DIR", help: "--role server: serve TLS with DIR/key.pem and DIR/cert.pem" },
});
const only: number[] = h.listOf("--only", values.only, ATTACK_IDS);
const servers: string[] = h.listOf("--servers", values.servers, SERVERS);
const attacks = ATTACKS.filter((a) => only.length === 0 || only.includes(a.id));
const kinds = SERVERS.filter((s) => servers.length === 0 || servers.includes(s));
const maxRss = h.num("--max-rss-gb", values["max-rss-gb"], 12, 0.1) * 1e9;

// ---- the server ---------------------------------------------------------------------------------------

/** The seed service, plus the call-back that attack 6 needs (as the Python control has). */
class HostileService extends MyService {
  async exposed_call_back(fn: (x: number) => Promise<number>): Promise<number> {
    return await fn(1);
  }
}

async function serve(dir: string | undefined): Promise<void> {
  const tls = dir === undefined ? undefined : { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) };
  const server = new ThreadedServer(HostileService, { hostname: "127.0.0.1", port: 0, ...(tls ? { tls } : {}) });
  await server.start();
  h.announce(server);
}

// ---- the attacker ---------------------------------------------------------------------------------

const port = Number(values.port);
const scale = values.quick ? 0.1 : 1;
const n = (full: number): number => Math.round(full * scale);
/** How long we wait for the server's replies to the attack before calling it stalled. */
const REPLY_TIMEOUT_MS = 120_000 * scale;

const emit = h.emitJson<Record<string, unknown>>;
const mb = (bytes: number): string => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} KB` : `${(bytes / 1e6).toFixed(1)} MB`);

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

/** Stands for a big value in a dumped message; the hand-built brine bytes go there. */
const MARK = Buffer.from("<hostile-bench-mark>");

/** CALLATTR get_answer(*body) (`body`: a tuple's brine) or, `one`, get_answer(body) (one value's brine). */
function getAnswer(seq: number, root: PyValue, body: Buffer, one = false): Buffer {
  const [payload, mark] = [callattr(seq, root, "get_answer", [C.LABEL_VALUE, one ? [MARK] : MARK]), dump(MARK)];
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

/**
 * Attacks 1-5, 8, 9: sends the frames `build` makes, then waits for every reply (or the socket's close, or the bound).
 * With `seconds` (8, 9): one kind of request over and over for that long, as fast as the server reads them: the load a
 * server must carry without starving its other clients, since each such frame is within every limit.
 */
async function send(build: (root: PyValue, seq: number) => Uint8Array[][], what: string, seconds?: number): Promise<void> {
  const wire = await open();
  const deadline = performance.now() + (seconds ?? 0) * 1000 * scale;
  const once = seconds === undefined ? build(wire.root!, 1) : [];
  const bytes = once.flat().reduce((sum, chunk) => sum + chunk.length, 0);
  emit({ event: "start" });
  let sent = once.length;
  await wire.write(once.flat());
  while (performance.now() < deadline && (await wire.write(build(wire.root!, sent + 1).flat(), deadline))) sent++;
  const outcome = await wire.until(() => wire.answered >= sent, REPLY_TIMEOUT_MS);
  const answered = seconds === undefined ? "answered" : "all answered";
  const how = outcome === "done" ? answered : outcome === "closed" ? "connection closed" : `no reply in ${REPLY_TIMEOUT_MS / 1000} s`;
  const detail =
    seconds === undefined
      ? `${what}, ${mb(bytes)} sent; ${how} (${wire.answered}/${sent} replies)`
      : `${sent} × ${what} in ${(seconds * scale).toFixed(1)} s; ${how} (${wire.answered}/${sent})`;
  emit({ event: "done", detail });
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
  const written = `${Math.min(sent, pings).toLocaleString("en-US")} of ${pings.toLocaleString("en-US")} pings written`;
  emit({ event: "done", detail: `${callbacks} call_back + ${written} (${why})` });
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
    const done = await Promise.race([result, gone.then(() => false), h.sleep(end - t).then(() => false)]);
    if (done) ok++;
    else failed++;
    await h.sleep(Math.max(0, t + 5 - performance.now()));
  }
  emit({ event: "done", detail: `${ok} renegotiations ok, ${failed} failed${closed ? `; connection closed (${why || "by the server"})` : ""}` });
  socket.destroy();
}

/** Attacks 1-3: get_answer(*t), t a tuple of `full` (÷ 10 with --quick) empty values; `item` is one in brine: b"" (0x01) or frozenset() (0x1a 0x02). */
function bigTuple(full: number, item: readonly number[], name: string): Promise<void> {
  const body = repeated(TAG_TUP_L4, n(full), item);
  return send((root) => [frame(getAnswer(1, root, body))], `get_answer(*${n(full).toLocaleString("en-US")} × ${name})`);
}

function remoteRefs(): Promise<void> {
  const count = n(250_000);
  const refs = Array.from({ length: count }, (_, i) => [C.LABEL_REMOTE_REF, ["builtins.object", 1, i + 1]]);
  return send((root) => [frame(callattr(1, root, "get_answer", [C.LABEL_TUPLE, refs]))], `get_answer(*${count.toLocaleString("en-US")} remote refs)`);
}

function zlibBombs(): Promise<void> {
  const size = n(63_000_000);
  const build = (root: PyValue): Uint8Array[][] =>
    Array.from({ length: 8 }, (_, i) => frame(deflateSync(getAnswer(i + 1, root, repeated(TAG_STR_L4, size, [0]), true), { level: 9 }), 1));
  return send(build, `8 pipelined zlib frames, each get_answer(<${mb(size)} of zeros>)`);
}

/**
 * 99,000 one-byte bytes values (the costliest kind to decode) keep the message under the server's default item
 * budget (maxBrineItems 100,000), so every frame is decoded.
 */
function itemBudget(): Promise<void> {
  const body = repeated(TAG_TUP_L4, 99_000, [TAG_STR1, 0x41]);
  return send((root, seq) => [frame(getAnswer(seq, root, body))], `get_answer(*99,000 × b"A")`, 5);
}

function zlibStream(): Promise<void> {
  const size = n(63_000_000);
  const body = repeated(TAG_STR_L4, size, [0]);
  return send((root, seq) => [frame(deflateSync(getAnswer(seq, root, body, true)), 1)], `zlib get_answer(<${mb(size)} of zeros>)`, 5);
}

async function attack(id: number): Promise<void> {
  h.exitWithParent(async () => {});
  try {
    const chosen = ATTACKS.find((a) => a.id === id);
    if (!chosen) throw new RangeError(`--attack must be 1-9, got ${values.attack}`);
    await chosen.run();
    process.exit(0);
  } catch (err) {
    emit({ event: "done", detail: `attacker failed: ${err instanceof Error ? err.message : String(err)}` });
    process.exit(1);
  }
}

// ---- the healthy client, the table ----------------------------------------------------------------

type Row = Awaited<ReturnType<typeof runOne>>;

/** VmRSS of a process in bytes (undefined once it is gone). */
function rssBytes(pid: number | undefined): number | undefined {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(h.attempt(() => readFileSync(`/proc/${pid}/status`, "utf8"), ""));
  return match ? Number(match[1]) * 1024 : undefined;
}

/** A timer that does not keep the bench alive once everything else is done (bounds, timeouts). */
const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([promise, later(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)))]);

/** Calls get_answer() every 20 ms (or right after a slower call), one call at a time, until stopped. */
function healthyClient(call: () => Promise<number>): { latencies: number[]; failed: number; stop(): Promise<void> } {
  let running = true;
  const state = { latencies: [] as number[], failed: 0, stop: () => ((running = false), loop) };
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      try {
        if ((await withTimeout(call(), CALL_TIMEOUT_MS)) !== 42) throw new Error("get_answer() did not return 42");
        state.latencies.push(performance.now() - t);
      } catch {
        state.failed++;
      }
      await h.sleep(Math.max(0, t + HEALTHY_INTERVAL_MS - performance.now()));
    }
  })();
  return state;
}

async function runOne(attack: number, kind: ServerKind, certDir: string | undefined) {
  const tlsArgs = certDir === undefined ? [] : ["--tls", certDir];
  const python: h.Command = [PYTHON, ["-u", path.join(h.BENCH_DIR, "suite", "python_server.py"), ...tlsArgs, "--watch-stdin"]];
  const server = await h.startServer(kind === "rpyc-ts" ? h.nodeScript("hostile/run.ts", ["--role", "server", ...tlsArgs]) : python);
  const pid = server.proc.pid;
  let conn: Connection<MyService> | undefined;
  let attacker: h.JsonChild | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    conn =
      certDir === undefined
        ? await connect<MyService>("127.0.0.1", server.port)
        : await tlsConnect<MyService>("127.0.0.1", server.port, { tls: { rejectUnauthorized: false } });
    const client = conn;
    const call = (): Promise<number> => client.root.get_answer();
    for (let i = 0; i < 50; i++) await call(); // the first calls are slow (JIT): not the attack's doing
    const rssBefore = rssBytes(pid);
    const cpuBefore = h.cpuSeconds(pid);

    let started = (): void => {};
    let finished: (detail: string) => void = () => {};
    const start = new Promise<void>((resolve) => (started = resolve));
    const done = new Promise<string>((resolve) => (finished = resolve));
    const child = h.startJsonChild(h.nodeScript("hostile/run.ts", h.flags({ role: "attacker", attack, port: server.port, quick: values.quick })), (event) => {
      if (event.event === "start") started();
      if (event.event === "done") finished(String(event.detail));
    });
    attacker = child;
    // Once its stdout is closed, a "done" line would have been read: the fallback comes second.
    void child.done.then(() => {
      started();
      finished(`attacker ended without a result, ${child.describe()}`);
    });
    await Promise.race([start, later(60_000)]);

    const t0 = performance.now();
    const healthy = healthyClient(call);
    let peak = rssBefore ?? 0;
    let killed = false;
    sampler = setInterval(() => {
      const rss = rssBytes(pid) ?? 0;
      peak = Math.max(peak, rss);
      if (rss > maxRss && !killed) {
        killed = true;
        server.proc.kill("SIGKILL");
      }
    }, RSS_INTERVAL_MS);
    const detail = await Promise.race([done, later(ATTACK_BOUND_MS).then(() => `no result within ${ATTACK_BOUND_MS / 1000} s`)]);
    const duration = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    await healthy.stop();
    const cpuAfter = h.cpuSeconds(pid);

    // Survived: the server process is alive and the healthy client still gets its answer.
    let why = "";
    if (killed) why = `killed by the bench: RSS above ${(maxRss / 1e9).toFixed(1)} GB`;
    else if (!h.isRunning(server.proc)) why = `server died: ${server.describe().split("\n")[0]}`;
    else {
      try {
        await withTimeout(call(), 10_000);
      } catch (err) {
        why = `healthy client unanswered after the attack: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const stats = h.summarize(Float64Array.from(healthy.latencies));
    const latencies =
      healthy.latencies.length > 0 ? { p50_ms: stats.median, p99_ms: stats.p99, max_ms: stats.max } : { p50_ms: null, p99_ms: null, max_ms: null };
    const rss =
      rssBefore === undefined ? { rss_before_mb: null, rss_growth_mb: null } : { rss_before_mb: rssBefore / 1e6, rss_growth_mb: (peak - rssBefore) / 1e6 };
    const server_cpu_s = cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore;
    const calls = { calls: healthy.latencies.length + healthy.failed, failed: healthy.failed };
    return { attack, server: kind, survived: why === "", why, ...calls, ...latencies, ...rss, server_cpu_s, duration_s: duration, attack_detail: detail };
  } finally {
    clearInterval(sampler);
    if (conn) await Promise.race([conn.close().catch(() => {}), later(2000)]);
    if (attacker) await h.stopChild(attacker.proc);
    await h.stopChild(server.proc);
  }
}

function printTable(rows: readonly Row[]): void {
  const head = ["attack", "server", "survived", "healthy calls\n(failed)", "healthy ms\np50 / p99 / max", "server RSS\n+MB (before)"];
  const options = { colAligns: [], colWidths: [24, 9, 20, null, null, null, null, null, 46], wordWrap: true };
  const table = h.newTable([...head, "server\nCPU s", "attack\ns", "attack outcome"], [], options);
  for (const r of rows) {
    const latency = `${h.fix(r.p50_ms, 2)} / ${h.fix(r.p99_ms)} / ${h.fix(r.max_ms)}`;
    const rss = `${h.fix(r.rss_growth_mb, 0)} (${h.fix(r.rss_before_mb, 0)})`;
    const label = ATTACKS.find((a) => a.id === r.attack)!.label;
    const survived = r.survived ? "yes" : `NO: ${r.why}`;
    table.push([label, r.server, survived, `${r.calls} (${r.failed})`, latency, rss, h.fix(r.server_cpu_s, 2), h.fix(r.duration_s), r.attack_detail]);
  }
  process.stdout.write(`${table.toString()}\n`);
}

// ---- the bench --------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let certDir: string | undefined;
  if (attacks.some((a) => a.id === 7)) {
    certDir = h.tempDir("rpyc-ts-hostile-");
    const [key, cert] = [path.join(certDir, "key.pem"), path.join(certDir, "cert.pem")];
    const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert];
    execFileSync("openssl", args, { stdio: "ignore" });
  }
  const rows: Row[] = [];
  for (const attack of attacks) {
    for (const kind of kinds) {
      if (h.interruption.interrupted) return 130;
      process.stderr.write(`attack ${attack.id} (${attack.label}) on ${kind} ...`);
      try {
        const row = await runOne(attack.id, kind, attack.id === 7 ? certDir : undefined);
        rows.push(row);
        process.stderr.write(` ${row.survived ? "survived" : "did NOT survive"}, ${row.duration_s.toFixed(1)} s\n`);
      } catch (err) {
        if (h.interruption.interrupted) return 130;
        process.stderr.write(` bench error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }
  const failed = `failed: error or no answer in ${CALL_TIMEOUT_MS / 1000} s`;
  const healthy = `get_answer() every ${HEALTHY_INTERVAL_MS} ms during the attack (latencies of answered calls; ${failed})`;
  process.stdout.write(`hostile clients, 127.0.0.1${values.quick ? ", --quick (sizes ÷ 10)" : ""}; healthy client: ${healthy}\n`);
  printTable(rows);
  h.writeJson(values.json, { quick: values.quick, rows });
  return 0;
}

if (values.role === "server") await serve(values.tls);
else if (values.role === "attacker") await attack(Number(values.attack));
else h.runMain(main);
