// The load benchmark (`npm run bench:load`): calls/s and latency of one rpyc-ts ThreadedServer
// (bench/load_server.ts) under 1, 10, 100 and 500 connections making sequential calls, from
// --client-procs client processes (bench/load_client.ts) started together; fresh processes per
// level, 127.0.0.1 only. See bench/README.md and --help.

import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import cliProgress from "cli-progress";
import {
  captureStderr,
  cli,
  cpuSeconds,
  describeExit,
  exited,
  fmtInt,
  fmtUs,
  interruption,
  isRunning,
  list,
  loadAverage,
  machine,
  machineBusySeconds,
  newTable,
  num,
  onJsonLines,
  plural,
  readSamples,
  runMain,
  sleep,
  startNode,
  startServer,
  stopAllChildren,
  stopChild,
  summarize,
  writeJson,
} from "./harness.js";

const HELP = `Load benchmark of an rpyc-ts ThreadedServer (see bench/README.md).

Usage: npm run bench:load [-- options]

  --quick              a smoke run (0.5 s warm-up + 1 s measured per level)
  --levels LIST        concurrent connections per level (default 1,10,100,500)
  --warmup S           warm-up seconds per level (default 2)
  --duration S         measured seconds per level (default 5)
  --client-procs K     client processes sharing the connections (default 1; at most one per
                       connection)
  --json FILE          also write the results as JSON
  --plain              no progress bar, one line per level (automatic when stderr is no TTY)
  -h, --help           this text
`;

type Options = ReturnType<typeof parseOptions>;

function parseOptions() {
  const { values } = cli(HELP, {
    quick: { type: "boolean", default: false },
    levels: { type: "string", default: "1,10,100,500" },
    warmup: { type: "string" },
    duration: { type: "string" },
    "client-procs": { type: "string" },
    json: { type: "string" },
    plain: { type: "boolean", default: false },
  });
  const quick = values.quick;
  const levels = list(values.levels).map((raw) => num("--levels", raw, NaN, 1, true));
  if (levels.length === 0) throw new RangeError("--levels lists no level");
  return {
    quick,
    levels,
    warmup: num("--warmup", values.warmup, quick ? 0.5 : 2, 0),
    duration: num("--duration", values.duration, quick ? 1 : 5, 0.1),
    clientProcs: num("--client-procs", values["client-procs"], 1, 1, true),
    json: values.json,
    plain: values.plain || !process.stderr.isTTY,
  };
}

// ---- one level ------------------------------------------------------------------------------

type LevelResult = Awaited<ReturnType<typeof runLevel>>;

interface ClientProc {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly stderr: () => string;
  readonly samplesFile: string;
  ready: boolean;
  calls: number;
  result: { measured: number; total: number; errors: number; firstError: string | null; windowSeconds: number } | undefined;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    const failure = failed();
    if (failure !== undefined) throw new Error(failure);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(20);
  }
}

type Phase = "connecting" | "warm-up" | "measured" | "closing";

async function runLevel(connections: number, options: Options, workDir: string, progress: (phase: Phase, calls: number) => void) {
  let serverState = { connections: 0, served: 0 };
  const server = await startServer("load_server.ts", [], [], (event) => {
    if (event.event === "server") serverState = { connections: Number(event.connections), served: Number(event.served) };
  });
  const procs: ClientProc[] = [];
  try {
    const count = Math.min(options.clientProcs, connections);
    for (let i = 0; i < count; i++) {
      // Connections split as evenly as possible.
      const share = Math.floor(connections / count) + (i < connections % count ? 1 : 0);
      const samplesFile = path.join(workDir, `level${connections}-client${i}.f64`);
      const proc = startNode("load_client.ts", [
        "--port",
        String(server.port),
        "--connections",
        String(share),
        "--warmup",
        String(options.warmup),
        "--duration",
        String(options.duration),
        "--samples-out",
        samplesFile,
        "--watch-stdin",
      ]);
      const client: ClientProc = { proc, stderr: captureStderr(proc), samplesFile, ready: false, calls: 0, result: undefined };
      void onJsonLines(proc, (event) => {
        if (event.event === "ready") client.ready = true;
        else if (event.event === "progress") client.calls = Number(event.calls);
        else if (event.event === "result") client.result = event as unknown as ClientProc["result"];
      });
      procs.push(client);
    }
    const failure = (): string | undefined => {
      if (!isRunning(server.proc)) return `the server died, ${describeExit(server.proc, server.stderr())}`;
      const dead = procs.find((c) => !isRunning(c.proc) && !c.result);
      return dead ? `a client died, ${describeExit(dead.proc, dead.stderr())}` : undefined;
    };
    progress("connecting", 0);
    await waitFor(() => procs.every((c) => c.ready), 60_000, `${connections} connections`, failure);

    // All clients start together; CPU is sampled at the edges of the measured window.
    const go = Date.now();
    for (const c of procs) c.proc.stdin.write("go\n");
    const ticker = setInterval(() => {
      const calls = procs.reduce((n, c) => n + c.calls, 0);
      progress(Date.now() - go < options.warmup * 1000 ? "warm-up" : "measured", calls);
    }, 100);
    const snapshot = (): (number | undefined)[] => [cpuSeconds(server.proc.pid), ...procs.map((c) => cpuSeconds(c.proc.pid)), machineBusySeconds()];
    try {
      await sleep(options.warmup * 1000);
      const before = snapshot();
      await sleep(options.duration * 1000);
      const after = snapshot();
      clearInterval(ticker);
      progress(
        "closing",
        procs.reduce((n, c) => n + c.calls, 0),
      );
      await waitFor(() => procs.every((c) => c.result !== undefined), 60_000, "the clients' results", failure);
      await Promise.all(procs.map((c) => exited(c.proc)));

      const results = procs.map((c) => c.result!);
      const errors = results.reduce((n, r) => n + r.errors, 0);
      if (errors > 0) throw new Error(`${errors} calls failed or were answered wrongly; first: ${results.find((r) => r.firstError)?.firstError}`);
      // Every call a client counted was served exactly once, and every connection is gone.
      const total = results.reduce((n, r) => n + r.total, 0);
      await waitFor(
        () => serverState.connections === 0 && serverState.served === total,
        10_000,
        `the server to report 0 connections and ${total} calls served (it reports ${serverState.connections} and ${serverState.served})`,
        failure,
      );

      const parts = procs.map((c) => readSamples(c.samplesFile));
      const latencyUs = summarize(...parts);
      const measured = results.reduce((n, r) => n + r.measured, 0);
      if (latencyUs.count !== measured) throw new Error(`${latencyUs.count} samples for ${measured} measured calls`);
      const seconds = options.duration;
      const delta = (i: number): number | undefined => {
        const [a, b] = [before[i], after[i]];
        return a === undefined || b === undefined ? undefined : b - a;
      };
      const serverCpu = delta(0);
      const clientCpus = procs.map((_, i) => delta(i + 1));
      const clientCpu = clientCpus.some((v) => v === undefined) ? undefined : (clientCpus as number[]).reduce((a, b) => a + b, 0);
      const machine = delta(procs.length + 1);
      return {
        connections,
        clientProcs: procs.length,
        calls: measured,
        seconds,
        callsPerSecond: measured / seconds,
        latencyUs,
        // CPU in cores (1.00 = one core busy) during the measured window: the server, all clients together, and the rest of
        // the machine (this bench, the kernel's other work, other programs).
        serverCores: serverCpu === undefined ? null : serverCpu / seconds,
        clientCores: clientCpu === undefined ? null : clientCpu / seconds,
        otherCores: serverCpu === undefined || clientCpu === undefined || machine === undefined ? null : Math.max(0, machine - serverCpu - clientCpu) / seconds,
      };
    } finally {
      clearInterval(ticker);
    }
  } finally {
    await Promise.all(procs.map((c) => stopChild(c.proc)));
    await stopChild(server.proc);
  }
}

// ---- main -------------------------------------------------------------------------------------

const fmtCores = (v: number | null): string => (v === null ? "–" : v.toFixed(2));

function printTable(results: readonly LevelResult[], failures: readonly string[], header: readonly string[]): void {
  const table = newTable([
    "connections",
    "client procs",
    "calls measured",
    "calls/s",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
    "server CPU",
    "clients CPU",
    "other CPU",
  ]);
  for (const r of results) {
    const s = r.latencyUs;
    table.push([
      fmtInt(r.connections),
      String(r.clientProcs),
      fmtInt(r.calls),
      fmtInt(r.callsPerSecond),
      fmtUs(s.median),
      fmtUs(s.p99),
      fmtUs(s.p999),
      fmtUs(s.max),
      fmtCores(r.serverCores),
      fmtCores(r.clientCores),
      fmtCores(r.otherCores),
    ]);
  }
  const out = [
    "",
    "rpyc-ts load benchmark: N connections, each making sequential `await conn.root.next(n)` calls (one in flight per connection)",
    ...header,
    "",
    table.toString(),
    ...failures.map((f) => `FAILED: ${f}`),
    "",
    "Reading it: calls/s = calls completed in the measured window (all connections) ÷ its length; p50/p99 = latency of one",
    "  call as its connection sees it (send to answer, queueing in both processes included). With N connections in flight,",
    "  latency ≈ N ÷ calls/s. server / clients / other CPU = CPU time over the measured window in cores (1.00 = one core",
    "  busy all the time): the server is one event loop, so it cannot use more than about 1.00 (plus GC threads); when it",
    '  is near that, the server is the bottleneck. "other" is the rest of the machine (this bench, kernel work, other',
    "  programs); well above 0.1 means the run was disturbed.",
    "",
  ];
  process.stdout.write(out.join("\n"));
}

async function main(): Promise<number> {
  const options = parseOptions();
  const header = [
    `${machine()} (rpyc-ts via tsx); 127.0.0.1`,
    `setup: per level, fresh processes: 1 server process (ThreadedServer, one event loop) and ${plural(options.clientProcs, "client process", "es")}`,
    `  (fewer when there are fewer connections) sharing the connections evenly; all processes share the machine's cores.`,
    `  ${options.warmup} s warm-up, then ${options.duration} s measured, all clients started together; every answer checked (n + 1),`,
    `  and the server's count of calls served must equal the clients' count of calls made.${options.quick ? " (--quick: a smoke run)" : ""}`,
  ];
  const workDir = mkdtempSync(path.join(tmpdir(), "rpyc-ts-load-"));
  let bar: cliProgress.SingleBar | undefined;
  cleanup = async (): Promise<void> => {
    bar?.stop();
    await stopAllChildren();
    rmSync(workDir, { recursive: true, force: true });
  };

  const loadAtStart = loadAverage();
  const results: LevelResult[] = [];
  const failures: string[] = [];
  process.stderr.write(`rpyc-ts load bench: levels ${options.levels.join(", ")} connections, ${options.warmup} s warm-up + ${options.duration} s each\n`);
  for (const [index, connections] of options.levels.entries()) {
    if (interruption.interrupted) return 130;
    const name = `[${index + 1}/${options.levels.length}] ${connections} connection${connections === 1 ? "" : "s"}`;
    const units = 1000;
    const span = options.warmup + options.duration;
    let started = 0;
    if (!options.plain) {
      bar = new cliProgress.SingleBar(
        { format: `${name.padEnd(24)} {bar} {percentage}% | {phase} | {calls} calls`, hideCursor: true, clearOnComplete: true, fps: 10, barsize: 24 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(units, 0, { phase: "starting  ", calls: 0 });
    } else {
      process.stderr.write(`${name} ...\n`);
    }
    const progress = (phase: Phase, calls: number): void => {
      if (phase === "connecting") started = 0;
      else if (started === 0) started = Date.now();
      const fraction = phase === "connecting" ? 0 : phase === "closing" ? 1 : Math.min(1, (Date.now() - started) / 1000 / span);
      bar?.update(Math.round(fraction * units), { phase: phase.padEnd(10), calls: calls.toLocaleString("en-US") });
    };
    try {
      const result = await runLevel(connections, options, workDir, progress);
      results.push(result);
      bar?.stop();
      bar = undefined;
      process.stderr.write(
        `${name.padEnd(24)} ${fmtInt(result.callsPerSecond)} calls/s, p50 ${fmtUs(result.latencyUs.median)} µs, p99 ${fmtUs(result.latencyUs.p99)} µs\n`,
      );
    } catch (err) {
      bar?.stop();
      bar = undefined;
      if (interruption.interrupted) return 130;
      const message = err instanceof Error ? err.message : String(err);
      failures.push(`${connections} connections: ${message}`);
      process.stderr.write(`${name} FAILED: ${message}\n`);
    }
  }
  header.push(`load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${loadAverage()}`);
  printTable(results, failures, header);
  writeJson(options.json, { header, options, results, failures });
  return failures.length > 0 ? 1 : 0;
}

let cleanup: () => Promise<void> = stopAllChildren;
runMain(main, () => cleanup());
