// The etcd registrar: RPyC's registry contract (registrar.ts) over a replicated etcd store,
// for fleets that outgrow one broadcast domain. A server's registration is one key per alias,
// `${prefix}${ALIAS}/${host}:${port}`, bound to a lease this client keeps alive, so a server
// that dies disappears by itself once its lease expires.

import os from "node:os";
// Types only: the etcd3 package (and gRPC under it) loads when an EtcdRegistryClient first
// talks to etcd, so importing rpyc-ts costs nothing to those who never use etcd.
import type { Etcd3, IKeyValue, IRequestOp, Lease, Watcher } from "etcd3";
import type { Logger } from "../connection/config.js";
import type { Registrar, ServiceAddress } from "./registrar.js";

export interface EtcdRegistryOptions {
  /** etcd endpoints, e.g. "http://127.0.0.1:2379". Required unless `client` is given. */
  hosts?: string | readonly string[];
  /** An existing etcd client to use instead; the registrar never closes it. */
  client?: Etcd3;
  /** Key prefix of every registration ("/" is appended when missing). Default: "/rpyc/services/". */
  prefix?: string;
  /**
   * Seconds a registration outlives its server: the lease TTL, kept alive by this client
   * (a keepalive every ttl/3). Default: 30. etcd raises TTLs below its minimum (2 s by default).
   */
  ttl?: number;
  /**
   * The address to advertise when register() gets no interfaceHost or a wildcard one
   * (0.0.0.0, ::). Default: this machine's first non-internal IPv4 address, else 127.0.0.1.
   */
  host?: string;
  /** Seconds each etcd request may take before it fails. Default: 5. */
  timeout?: number;
  logger?: Logger;
}

/** The JSON value stored under each registration key. */
export interface EtcdRegistration {
  host: string;
  port: number;
  /** Every alias of the registration, upper-cased. */
  aliases: string[];
  /** Milliseconds since the epoch when this lease's registration was first made. */
  registeredAt: number;
}

/** A live watch on one service name; see EtcdRegistryClient.watch(). */
export interface EtcdServiceWatch {
  /** The address list last reported, oldest registration first. */
  readonly current: readonly ServiceAddress[];
  /** Stops watching; no report is made after it resolves. */
  close(): Promise<void>;
}

export const DEFAULT_ETCD_PREFIX = "/rpyc/services/";
export const DEFAULT_ETCD_TTL = 30;

const WILDCARD_HOSTS = new Set(["", "0.0.0.0", "::", "::0", "0:0:0:0:0:0:0:0"]);
/** Seconds between attempts to restore a registration whose lease was lost. */
const RESTORE_DELAYS = [1, 2, 5, 10];

/** What this client has registered for one host:port, and the lease that holds it. */
interface Registration {
  readonly host: string;
  readonly port: number;
  aliases: string[];
  registeredAt: number;
  lease: Lease | undefined;
  leaseId: string;
  restoreTimer: NodeJS.Timeout | undefined;
  restoreAttempts: number;
}

interface Entry extends EtcdRegistration {
  readonly alias: string;
  readonly createRevision: bigint;
}

/**
 * A registrar backed by etcd. register() is idempotent: re-registering (every 60 s, as
 * servers do) rewrites the same keys under the same lease. A lease that etcd reports lost
 * (etcd unreachable for longer than the TTL) is re-granted and the keys re-written.
 */
export class EtcdRegistryClient implements Registrar {
  readonly prefix: string;
  readonly ttl: number;
  /** The client given in the options, or the one this registrar creates on first use (and closes). */
  private clientPromise: Promise<Etcd3> | undefined;
  private readonly ownsClient: boolean;
  private readonly hosts: string[];
  private readonly defaultHost: string;
  private readonly timeoutMs: number;
  private readonly logger: Logger | undefined;
  /** By endpoint ("host:port"). */
  private readonly registrations = new Map<string, Registration>();
  private readonly watches = new Set<EtcdServiceWatch>();
  /** register/unregister/restore run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(options: EtcdRegistryOptions) {
    const ttl = options.ttl ?? DEFAULT_ETCD_TTL;
    if (!Number.isInteger(ttl) || ttl < 1) throw new RangeError(`ttl must be a whole number of seconds >= 1, got ${ttl}`);
    const timeout = options.timeout ?? 5;
    if (!(timeout > 0)) throw new RangeError(`timeout must be a positive number of seconds, got ${timeout}`);
    const prefix = options.prefix ?? DEFAULT_ETCD_PREFIX;
    if (prefix === "" || prefix === "/") throw new RangeError("prefix must name a key directory, e.g. /rpyc/services/");
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
    this.ttl = ttl;
    this.timeoutMs = timeout * 1000;
    this.logger = options.logger;
    this.defaultHost = options.host !== undefined ? normalizeHost(options.host) : primaryAddress();
    this.ownsClient = options.client === undefined;
    this.hosts = options.hosts === undefined ? [] : typeof options.hosts === "string" ? [options.hosts] : [...options.hosts];
    if (options.client !== undefined) this.clientPromise = Promise.resolve(options.client);
    else if (this.hosts.length === 0) throw new TypeError("EtcdRegistryClient needs `hosts` or `client`");
  }

  /**
   * Registers `aliases` (upper-cased) on `port` at `interfaceHost` (or the advertised host
   * for none or a wildcard). Resolves true once etcd holds every key, false when etcd could
   * not be reached in time or the registrar is closed.
   */
  register(aliases: readonly string[], port: number, interfaceHost?: string): Promise<boolean> {
    checkPort(port);
    const host = this.hostFor(interfaceHost);
    const names = [...new Set(aliases.map((alias) => alias.toUpperCase()))];
    const endpoint = endpointOf(host, port);
    return this.serialize(async () => {
      if (this.closing) return false;
      let reg = this.registrations.get(endpoint);
      if (names.length === 0) {
        // Nothing left to serve under: the registration goes, like an alias dropped below.
        if (reg) await this.withdraw(reg);
        return true;
      }
      if (reg === undefined) {
        reg = { host, port, aliases: [], registeredAt: 0, lease: undefined, leaseId: "", restoreTimer: undefined, restoreAttempts: 0 };
        this.registrations.set(endpoint, reg);
      }
      try {
        await this.publish(reg, names);
        return true;
      } catch (err) {
        this.logger?.warn(`etcd registry: cannot register ${names.join(", ")} at ${endpoint}: ${message(err)}`);
        if (reg.lease === undefined) {
          // Never registered: nothing to restore (the caller retries, as servers do every 60 s).
          // Registered before: its keys expired with the lease; bring them back when etcd is back.
          if (reg.aliases.length === 0) this.registrations.delete(endpoint);
          else this.scheduleRestore(reg);
        }
        return false;
      }
    });
  }

  /**
   * Withdraws this client's registrations on `port` (at `interfaceHost` when it is given and
   * not a wildcard): their lease is revoked, which deletes their keys at once. If etcd cannot
   * be reached the keepalive has stopped anyway, so the keys expire after the TTL.
   */
  unregister(port: number, interfaceHost?: string): Promise<void> {
    const host = interfaceHost === undefined || isWildcard(interfaceHost) ? undefined : normalizeHost(interfaceHost);
    return this.serialize(async () => {
      const matching = [...this.registrations.values()].filter((reg) => reg.port === port && (host === undefined || reg.host === host));
      await Promise.all(matching.map((reg) => this.withdraw(reg)));
    });
  }

  /** Servers exposing `name` (case-insensitive), oldest registration first. Rejects when etcd cannot be read. */
  async discover(name: string): Promise<ServiceAddress[]> {
    const alias = name.toUpperCase();
    const entries = (await this.read(`${this.prefix}${alias}/`)).filter((entry) => entry.alias === alias);
    entries.sort((a, b) => a.registeredAt - b.registeredAt || (a.createRevision < b.createRevision ? -1 : a.createRevision > b.createRevision ? 1 : 0));
    return entries.map((entry) => [entry.host, entry.port] as const);
  }

  /** Every registered service name, sorted; with `filterHost`, only names served at that host. Never null. */
  async list(filterHost?: string | null): Promise<string[]> {
    const host = filterHost === undefined || filterHost === null || filterHost === "" ? undefined : normalizeHost(filterHost);
    const names = new Set<string>();
    for (const entry of await this.read(this.prefix)) {
      if (host === undefined || entry.host === host) names.add(entry.alias);
    }
    return [...names].sort();
  }

  /**
   * Watches the servers of `name`: `onChange` gets the current address list (oldest first)
   * once the watch is live, then again whenever the list changes (a server registered,
   * unregistered or expired). Resolves once the first list was reported; rejects (watching
   * nothing) when etcd cannot be read. Later read errors are logged and retried on the next
   * change or reconnection.
   */
  async watch(name: string, onChange: (servers: readonly ServiceAddress[]) => void): Promise<EtcdServiceWatch> {
    this.checkOpen();
    const keyPrefix = `${this.prefix}${name.toUpperCase()}/`;
    const client = await this.client();
    let current: readonly ServiceAddress[] = [];
    let reported: string | undefined;
    let live = false;
    let stopped = false;
    let refreshing: Promise<void> | undefined;
    let again = false;

    /** Reads the list and reports it if it changed. */
    const update = async (): Promise<void> => {
      const servers = await this.discover(name);
      const key = JSON.stringify(servers);
      if (stopped || key === reported) return;
      reported = key;
      current = servers;
      try {
        onChange(servers);
      } catch (err) {
        this.logger?.error(`etcd registry: a watch callback of ${name} threw: ${message(err)}`);
      }
    };
    // One read at a time; events during a read cause one more read after it.
    const refresh = (initial = false): Promise<void> => {
      if (stopped) return Promise.resolve();
      if (refreshing) {
        again = true;
        return refreshing;
      }
      refreshing = (async () => {
        try {
          do {
            again = false;
            try {
              await update();
            } catch (err) {
              if (initial) throw err;
              if (!stopped) this.logger?.warn(`etcd registry: watch of ${name}: ${message(err)}`);
            }
            initial = false;
          } while (again && !stopped);
        } finally {
          refreshing = undefined;
        }
      })();
      return refreshing;
    };

    // Listeners go on before the watcher can emit anything (an unheard "error" would throw).
    let connected!: () => void;
    let failed!: (err: Error) => void;
    const connecting = new Promise<void>((resolve, reject) => ((connected = resolve), (failed = reject)));
    const watcher = client.watch().prefix(keyPrefix).watcher();
    watcher
      .on("put", () => void (live && refresh()))
      .on("delete", () => void (live && refresh()))
      // Connected again after a disconnection: events may have been compacted away, so read afresh.
      .on("connected", () => void (live ? refresh() : connected()))
      .on("error", (err) => {
        if (!live) failed(err);
        else if (!stopped) this.logger?.warn(`etcd registry: watch of ${name}: ${message(err)}`);
      });
    const handle: EtcdServiceWatch = {
      get current() {
        return current;
      },
      close: async () => {
        if (stopped) return;
        stopped = true;
        this.watches.delete(handle);
        await cancelWatcher(watcher);
        await refreshing?.catch(() => undefined);
      },
    };
    this.watches.add(handle);
    try {
      await withTimeout(connecting, this.timeoutMs, `watching ${keyPrefix}`);
      live = true;
      await refresh(true);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return handle;
  }

  /** Stops every watch, revokes every lease (deleting this client's keys) and closes the etcd client it created. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.watches].map((watch) => watch.close()));
      await this.serialize(async () => {
        await Promise.all([...this.registrations.values()].map((reg) => this.withdraw(reg)));
      });
      if (this.ownsClient && this.clientPromise) (await this.clientPromise.catch(() => undefined))?.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private client(): Promise<Etcd3> {
    this.clientPromise ??= import("etcd3").then(
      ({ Etcd3 }) => new Etcd3({ hosts: this.hosts }),
      (err: unknown) => {
        throw new Error(`EtcdRegistryClient needs the etcd3 package (npm install etcd3): ${message(err)}`, { cause: err });
      },
    );
    return this.clientPromise;
  }

  /** The address advertised for `interfaceHost`. */
  private hostFor(interfaceHost: string | undefined): string {
    return interfaceHost === undefined || isWildcard(interfaceHost) ? this.defaultHost : normalizeHost(interfaceHost);
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private deadline(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.timeoutMs) };
  }

  /** Writes every key of `reg` for `aliases` under its lease (granting one if needed) and deletes keys of dropped aliases, in one transaction. */
  private async publish(reg: Registration, aliases: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (reg.lease === undefined || reg.lease.revoked()) await this.grant(reg);
      const dropped = reg.aliases.filter((alias) => !aliases.includes(alias));
      const value: EtcdRegistration = { host: reg.host, port: reg.port, aliases, registeredAt: reg.registeredAt };
      const ops: IRequestOp[] = [
        ...aliases.map((alias) => ({
          request_put: { key: Buffer.from(this.keyOf(alias, reg)), value: Buffer.from(JSON.stringify(value)), lease: reg.leaseId },
        })),
        ...dropped.map((alias) => ({ request_delete_range: { key: Buffer.from(this.keyOf(alias, reg)) } })),
      ];
      try {
        await (await this.client()).kv.txn({ success: ops }, this.deadline());
        reg.aliases = aliases;
        reg.restoreAttempts = 0;
        return;
      } catch (err) {
        // The lease expired behind our back (etcd restarted, a long pause): start afresh once.
        if (!isLeaseInvalid(err) || attempt > 1) throw err;
        this.dropLease(reg);
      }
    }
  }

  private async grant(reg: Registration): Promise<void> {
    const lease = (await this.client()).lease(this.ttl, this.deadline());
    lease.on("lost", (err) => this.leaseLost(reg, lease, err));
    try {
      reg.leaseId = await lease.grant();
    } catch (err) {
      lease.release();
      throw err;
    }
    reg.lease = lease;
    reg.registeredAt = Date.now();
  }

  private dropLease(reg: Registration): void {
    reg.lease?.removeAllListeners("lost");
    reg.lease?.release();
    reg.lease = undefined;
    reg.leaseId = "";
  }

  /** etcd says the lease is gone (or could not be kept alive): re-register soon. */
  private leaseLost(reg: Registration, lease: Lease, err: Error): void {
    if (reg.lease !== lease || this.registrations.get(endpointOf(reg.host, reg.port)) !== reg) return;
    this.logger?.warn(`etcd registry: lease of ${endpointOf(reg.host, reg.port)} lost (${message(err)}); registering again`);
    this.dropLease(reg);
    this.scheduleRestore(reg);
  }

  private scheduleRestore(reg: Registration): void {
    if (reg.restoreTimer !== undefined || this.closing) return;
    const delay = RESTORE_DELAYS[Math.min(reg.restoreAttempts, RESTORE_DELAYS.length - 1)] ?? 10;
    reg.restoreAttempts++;
    reg.restoreTimer = setTimeout(() => {
      reg.restoreTimer = undefined;
      void this.serialize(async () => {
        if (this.closing || reg.lease !== undefined || this.registrations.get(endpointOf(reg.host, reg.port)) !== reg) return;
        try {
          await this.publish(reg, reg.aliases);
          this.logger?.info(`etcd registry: ${endpointOf(reg.host, reg.port)} registered again`);
        } catch (err) {
          this.logger?.warn(`etcd registry: cannot register ${endpointOf(reg.host, reg.port)} again: ${message(err)}`);
          this.scheduleRestore(reg);
        }
      });
    }, delay * 1000);
    // The server keeps the process alive, not its registration.
    reg.restoreTimer.unref();
  }

  /** Forgets `reg` and revokes its lease; etcd deletes its keys with it. */
  private async withdraw(reg: Registration): Promise<void> {
    const endpoint = endpointOf(reg.host, reg.port);
    if (this.registrations.get(endpoint) === reg) this.registrations.delete(endpoint);
    clearTimeout(reg.restoreTimer);
    reg.restoreTimer = undefined;
    const lease = reg.lease;
    if (lease === undefined) return;
    lease.removeAllListeners("lost");
    reg.lease = undefined;
    try {
      await lease.revoke(this.deadline());
    } catch (err) {
      this.logger?.warn(`etcd registry: cannot revoke the lease of ${endpoint} (its keys expire in ${this.ttl} s): ${message(err)}`);
    }
  }

  private keyOf(alias: string, reg: Registration): string {
    return `${this.prefix}${alias}/${endpointOf(reg.host, reg.port)}`;
  }

  /** Every well-formed registration under `keyPrefix`; malformed values are skipped. */
  private async read(keyPrefix: string): Promise<Entry[]> {
    this.checkOpen();
    let kvs: IKeyValue[];
    try {
      kvs = (await (await this.client()).getAll().prefix(keyPrefix).options(this.deadline()).exec()).kvs;
    } catch (err) {
      throw new Error(`etcd registry: cannot read ${keyPrefix}: ${message(err)}`, { cause: err });
    }
    const entries: Entry[] = [];
    for (const kv of kvs) {
      const entry = this.parse(kv);
      if (entry) entries.push(entry);
      else this.logger?.debug(`etcd registry: skipping malformed registration ${kv.key.toString()}`);
    }
    return entries;
  }

  private parse(kv: IKeyValue): Entry | undefined {
    const key = kv.key.toString();
    if (!key.startsWith(this.prefix)) return undefined;
    const rest = key.slice(this.prefix.length);
    const slash = rest.lastIndexOf("/");
    if (slash <= 0) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(kv.value.toString());
    } catch {
      return undefined;
    }
    if (typeof value !== "object" || value === null) return undefined;
    const { host, port, aliases, registeredAt } = value as Partial<Record<keyof EtcdRegistration, unknown>>;
    if (typeof host !== "string" || host === "" || typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
    return {
      alias: rest.slice(0, slash),
      host,
      port,
      aliases: Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === "string") : [],
      registeredAt: typeof registeredAt === "number" && Number.isFinite(registeredAt) ? registeredAt : 0,
      createRevision: BigInt(kv.create_revision),
    };
  }

  private checkOpen(): void {
    if (this.closing) throw new Error("etcd registry client is closed");
  }
}

/** etcd's "requested lease not found", from whichever copy of etcd3 made the client. */
function isLeaseInvalid(err: unknown): boolean {
  return err instanceof Error && err.constructor.name === "EtcdLeaseInvalidError";
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port must be an integer in 1..65535, got ${port}`);
}

function isWildcard(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/** IPv4-mapped IPv6 addresses (as a dual-stack socket reports them) become plain IPv4. */
function normalizeHost(host: string): string {
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice(7) : host;
}

function endpointOf(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The address other machines most likely reach this one at. */
function primaryAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === "IPv4" && !address.internal) return address.address;
    }
  }
  return "127.0.0.1";
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`etcd registry: ${what} timed out after ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function cancelWatcher(watcher: Watcher): Promise<void> {
  try {
    await withTimeout(watcher.cancel(), 2000, "cancelling a watch");
  } catch {
    // The watch stream is gone already; nothing is left to cancel.
  }
}
