// Load: 500 concurrent connections to one ThreadedServer, each making calls for a bounded
// time, in both directions: plain calls, callbacks from the server to the client, calls
// from the server to the client's root, and nested calls (client -> server -> client
// callback -> server). Every call carries a unique token and checks its own answer, so a
// lost, duplicated or crossed reply shows; sent and answered calls are counted exactly, on
// both sides. Then every connection is closed and the server must forget all of them.
//
// Client and server share this process (1,000 sockets; `ulimit -n` must allow that: the
// test says so when it does not).

import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { Service, type Connection } from "../runtime/index.js";
import { connectTo, eventually, serve } from "./helpers/servers.js";

const CONNECTIONS = 500;
const LOAD_MS = 3000;
/** How long the calls in flight when the load ends may take to finish. */
const DRAIN_MS = 8000;
/** Connections opened at once while setting up (the listen backlog is 511). */
const CONNECT_BATCH = 50;

type Counts = Record<"echo" | "callback" | "ask" | "nested", number>;
const zero = (): Counts => ({ echo: 0, callback: 0, ask: 0, nested: 0 });

/** What the server saw, over all connections. */
const served = { ...zero(), nestedEcho: 0, callbacksMade: 0, clientCalls: 0 };

class LoadService extends Service {
  private conn: Connection<ClientSide> | undefined;

  override on_connect(conn: Connection): void {
    this.conn = conn as Connection<ClientSide>;
  }

  exposed_echo(token: string): string {
    if (token.endsWith("/n")) served.nestedEcho++;
    else served.echo++;
    return `echo:${token}`;
  }

  /** Calls the client's callback (a netref to a fresh function of the client). */
  async exposed_with_callback(token: string, cb: (token: string) => Promise<string>): Promise<string> {
    served.callback++;
    served.callbacksMade++;
    return `srv:${await cb(token)}`;
  }

  /** Calls a method of the client's own root service. */
  async exposed_ask_client(token: string): Promise<string> {
    served.ask++;
    served.clientCalls++;
    return `asked:${await this.conn!.root.client_echo(token)}`;
  }

  /** Calls the client's callback, which calls this server again before it answers. */
  async exposed_nested(token: string, cb: (token: string) => Promise<string>): Promise<string> {
    served.nested++;
    served.callbacksMade++;
    return `nested:${await cb(token)}`;
  }
}

/** What the client side counted, over all connections. */
const client = { sent: zero(), answered: zero(), callbacksRun: 0, clientEchoes: 0, mismatches: [] as string[] };

function check(kind: keyof Counts, token: string, got: unknown, expected: string): void {
  if (got === expected) client.answered[kind]++;
  else if (client.mismatches.length < 10) client.mismatches.push(`${kind} ${token}: got ${String(got)}, expected ${expected}`);
}

class ClientSide extends Service {
  exposed_client_echo(token: string): string {
    client.clientEchoes++;
    return `client:${token}`;
  }
}

/** One connection's sequential loop: the four kinds of call in turn, each with a unique token. */
async function drive(index: number, conn: Connection<LoadService>, deadline: number): Promise<number> {
  const root = conn.root;
  let seq = 0;
  // Until the deadline, and at least once through the four kinds (on a busy machine a
  // connection may get few turns; a connection that gets none shows as a timeout below).
  for (; performance.now() < deadline || seq < 4; seq++) {
    const token = `c${index}s${seq}`;
    switch (seq % 4) {
      case 0:
        client.sent.echo++;
        check("echo", token, await root.echo(token), `echo:${token}`);
        break;
      case 1:
        client.sent.callback++;
        check(
          "callback",
          token,
          await root.with_callback(token, (got: string) => {
            client.callbacksRun++;
            return `cb:${got === token ? got : `WRONG(${got})`}`;
          }),
          `srv:cb:${token}`,
        );
        break;
      case 2:
        client.sent.ask++;
        check("ask", token, await root.ask_client(token), `asked:client:${token}`);
        break;
      case 3:
        client.sent.nested++;
        check(
          "nested",
          token,
          await root.nested(token, async (got: string) => {
            client.callbacksRun++;
            return `cb:${await root.echo(`${got}/n`)}`;
          }),
          `nested:cb:echo:${token}/n`,
        );
        break;
    }
  }
  return seq;
}

function fdLimit(): string {
  try {
    return execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

describe("load", () => {
  it(`${CONNECTIONS} connections, calls and callbacks both ways for ${LOAD_MS / 1000} s: every call answered, then all closed`, async () => {
    const problems: string[] = [];
    const note = (message: string): void => void problems.push(message);
    const server = await serve(LoadService, { logger: { debug: () => {}, info: () => {}, warn: note, error: note } });
    const conns: Connection<LoadService>[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i += CONNECT_BATCH) {
        const batch = Array.from({ length: Math.min(CONNECT_BATCH, CONNECTIONS - i) }, () => connectTo<LoadService>(server.port, { service: ClientSide }));
        conns.push(...(await Promise.all(batch)));
      }
    } catch (err) {
      throw new Error(`opening ${CONNECTIONS} connections (1 fd each side) failed with ulimit -n = ${fdLimit()}: ${(err as Error).message}`);
    }
    await Promise.all(conns.map((conn) => conn.getRoot()));
    await eventually(() => server.connections.size === CONNECTIONS, 5000, `${CONNECTIONS} server-side connections`);

    const deadline = performance.now() + LOAD_MS;
    const driving = Promise.all(conns.map((conn, i) => drive(i, conn, deadline)));
    // A lost reply would leave its connection waiting forever: say so, with what is pending.
    let watchdog: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      watchdog = setTimeout(() => {
        const pending = conns.reduce((n, conn) => n + conn.stats().pendingRequests, 0);
        const serverPending = [...server.connections].reduce((n, conn) => n + conn.stats().pendingRequests, 0);
        reject(
          new Error(`calls still unanswered ${DRAIN_MS / 1000} s after the load ended: ${pending} pending on the clients, ${serverPending} on the server`),
        );
      }, LOAD_MS + DRAIN_MS);
    });
    const perConnection = await Promise.race([driving, stuck]).finally(() => clearTimeout(watchdog));

    expect(client.mismatches).toEqual([]);
    // Every call sent was answered, correctly, and the server served each exactly once.
    expect(client.answered).toEqual(client.sent);
    expect({ echo: served.echo, callback: served.callback, ask: served.ask, nested: served.nested }).toEqual(client.sent);
    expect(served.nestedEcho).toBe(client.sent.nested);
    expect(client.callbacksRun).toBe(served.callbacksMade);
    expect(client.clientEchoes).toBe(served.clientCalls);
    // Nothing left waiting on either side.
    for (const conn of [...conns, ...server.connections]) expect(conn.stats().pendingRequests).toBe(0);
    // Every connection made each kind of call at least once.
    expect(Math.min(...perConnection)).toBeGreaterThanOrEqual(4);

    await Promise.all(conns.map((conn) => conn.close()));
    for (const conn of conns) expect(conn.closed).toBe(true);
    await eventually(() => server.connections.size === 0, 10_000, "the server to drop every connection");
    expect(problems).toEqual([]);
  }, 60_000); // 3.4 s quiet (3 s of load); room for a slow setup, and for the watchdog (load + 8 s) to name a lost reply first
});
