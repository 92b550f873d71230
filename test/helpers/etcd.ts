// A real, single-member etcd (Debian's etcd-server, /usr/bin/etcd) for the registry tests:
// on 127.0.0.1 with free client and peer ports and a temporary data directory. Every etcd
// started here is stopped (SIGTERM, then SIGKILL) and its directory removed when the test
// file ends, or earlier by stop().

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

export const ETCD = "/usr/bin/etcd";

export interface EtcdServer {
  /** The client URL, e.g. "http://127.0.0.1:40123". */
  readonly endpoint: string;
  readonly proc: ChildProcess;
  /** Everything etcd printed (for failure messages). */
  output(): string;
  /** Stops etcd and removes its data directory. */
  stop(): Promise<void>;
}

const running = new Set<EtcdServer>();
afterAll(async () => {
  await Promise.all([...running].map((server) => server.stop()));
});

/** Fails with a clear instruction when etcd is not installed. */
export function requireEtcd(): void {
  if (!existsSync(ETCD)) {
    throw new Error(`the etcd registry tests need etcd at ${ETCD}: run 'apt-get install -y etcd-server' (bash .ci/run does it)`);
  }
}

/** Starts etcd and resolves once it reports itself healthy (a few attempts if a port was taken meanwhile). */
export async function startEtcd(): Promise<EtcdServer> {
  requireEtcd();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(): Promise<EtcdServer> {
  const [clientPort, peerPort] = await freePorts(2);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "rpyc-etcd-"));
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = spawn(
    ETCD,
    [
      "--name=rpyc-test",
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=rpyc-test=${peer}`,
      "--initial-cluster-state=new",
      "--logger=zap",
      "--log-level=error",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  proc.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  proc.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  // A test runner that dies must not leave etcd behind.
  const killOnExit = (): void => void proc.kill("SIGKILL");
  process.once("exit", killOnExit);

  let stopping: Promise<void> | undefined;
  const server: EtcdServer = {
    endpoint: client,
    proc,
    output: () => text,
    stop: () =>
      (stopping ??= (async () => {
        running.delete(server);
        process.off("exit", killOnExit);
        if (proc.exitCode === null && proc.signalCode === null) {
          const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
          proc.kill("SIGTERM");
          await exited;
          clearTimeout(timer);
        }
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
  running.add(server);

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await server.stop();
      throw new Error(`etcd exited during startup (${proc.exitCode ?? proc.signalCode}):\n${text}`);
    }
    if (await healthy(client)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`etcd did not become healthy within 15 s:\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** etcd's own health endpoint: {"health":"true"} once it has a leader and serves requests. */
async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: unknown };
    return response.ok && body.health === "true";
  } catch {
    return false;
  }
}

/** Ports free on 127.0.0.1 right now (held open together so they differ). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen({ host: "127.0.0.1", port: 0 }, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
