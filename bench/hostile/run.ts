// Hostile-client bench (`npm run bench:hostile`): nine attacks (bench/hostile/attacker.ts), each
// against a fresh rpyc-ts server (ts_server.ts) and a Python RPyC control (python_server.py),
// while a healthy client calls every 20 ms and the server's RSS is sampled. A dead server is a
// result, not an error. 127.0.0.1 only. See bench/README.md and --help.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { connect, tlsConnect, type Connection } from "../../runtime/index.js";
import type { MyService } from "../../examples/seed-service.js";
import * as h from "../harness.js";

const ATTACKS = [
  { id: 1, label: "10 MB frame: tuple of 10M b''" },
  { id: 2, label: "3 MB frame: tuple of 3M b''" },
  { id: 3, label: "60 MB frame: tuple of 30M frozenset()" },
  { id: 4, label: "~7 MB frame: 250k remote refs" },
  { id: 5, label: "8 zlib bombs: ~60 KB → 63 MB" },
  { id: 6, label: "1k unanswered callbacks + 4.2M pings, unread" },
  { id: 7, label: "TLS 1.2 renegotiation every 5 ms, 2.5 s" },
  { id: 8, label: "5 s of frames at the item budget: 99k b'A' each" },
  { id: 9, label: "5 s of zlib frames: ~60 KB → 63 MB each" },
] as const;
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
});
const only: number[] = h.listOf("--only", values.only, ATTACK_IDS);
const servers: string[] = h.listOf("--servers", values.servers, SERVERS);
const attacks = ATTACKS.filter((a) => only.length === 0 || only.includes(a.id));
const kinds = SERVERS.filter((s) => servers.length === 0 || servers.includes(s));
const maxRss = h.num("--max-rss-gb", values["max-rss-gb"], 12, 0.1) * 1e9;

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
  const python: h.Command = [PYTHON, ["-u", path.join(h.BENCH_DIR, "hostile", "python_server.py"), ...tlsArgs]];
  const server = await h.startServer(kind === "rpyc-ts" ? h.nodeScript("hostile/ts_server.ts", tlsArgs) : python);
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
    const child = h.startJsonChild(h.nodeScript("hostile/attacker.ts", h.flags({ attack, port: server.port, quick: values.quick })), (event) => {
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
    const has = healthy.latencies.length > 0;
    return {
      attack,
      server: kind,
      survived: why === "",
      why,
      calls: healthy.latencies.length + healthy.failed,
      failed: healthy.failed,
      p50_ms: has ? stats.median : null,
      p99_ms: has ? stats.p99 : null,
      max_ms: has ? stats.max : null,
      rss_before_mb: rssBefore === undefined ? null : rssBefore / 1e6,
      rss_growth_mb: rssBefore === undefined ? null : (peak - rssBefore) / 1e6,
      server_cpu_s: cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore,
      duration_s: duration,
      attack_detail: detail,
    };
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

async function main(): Promise<number> {
  let certDir: string | undefined;
  if (attacks.some((a) => a.id === 7)) {
    certDir = h.tempDir("rpyc-ts-hostile-");
    const [key, cert] = [path.join(certDir, "key.pem"), path.join(certDir, "cert.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert], {
      stdio: "ignore",
    });
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
  process.stdout.write(
    `hostile clients, 127.0.0.1${values.quick ? ", --quick (sizes ÷ 10)" : ""}; healthy client: get_answer() every ${HEALTHY_INTERVAL_MS} ms during the attack (latencies of answered calls; failed: error or no answer in ${CALL_TIMEOUT_MS / 1000} s)\n`,
  );
  printTable(rows);
  h.writeJson(values.json, { quick: values.quick, rows });
  return 0;
}

h.runMain(main);
