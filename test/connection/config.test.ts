// DEFAULT_CONFIG: RPyC's keys and defaults, and the keys that change behaviour at run time.

import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type PythonException, SAFE_ATTRS, Service, ValueError, type Connection } from "../../runtime/index.js";
import { resolveConfig } from "../../runtime/connection/config.js";
import { connectTo, eventually, serve } from "../helpers/servers.js";

describe("DEFAULT_CONFIG", () => {
  it("has every RPyC 5.3 key with RPyC's default", () => {
    expect(DEFAULT_CONFIG).toMatchObject({
      allow_safe_attrs: true,
      allow_exposed_attrs: true,
      allow_public_attrs: false,
      allow_all_attrs: false,
      exposed_prefix: "exposed_",
      allow_getattr: true,
      allow_setattr: false,
      allow_delattr: false,
      include_local_traceback: true,
      include_local_version: true,
      instantiate_custom_exceptions: false,
      import_custom_exceptions: false,
      instantiate_oldstyle_exceptions: false,
      propagate_SystemExit_locally: false,
      propagate_KeyboardInterrupt_locally: true,
      log_exceptions: true,
      allow_pickle: false,
      connid: null,
      credentials: null,
      endpoints: null,
      logger: null,
      sync_request_timeout: 30,
      before_closed: null,
      close_catchall: false,
      bind_threads: false,
    });
    expect(SAFE_ATTRS.size).toBe(80);
    expect(DEFAULT_CONFIG.safe_attrs).toBe(SAFE_ATTRS);
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
  });

  it("refuses settings it cannot honour", () => {
    expect(() => resolveConfig({ bind_threads: true })).toThrow(/bind_threads/);
    expect(() => resolveConfig({ maxFrameSize: 0 })).toThrow(/maxFrameSize/);
    expect(() => resolveConfig({ sync_request_timeout: -1 })).toThrow(/sync_request_timeout/);
  });

  it("numbers connections conn1, conn2, ... unless connid is given", () => {
    const a = resolveConfig().connid!;
    const b = resolveConfig().connid!;
    expect(a).toMatch(/^conn\d+$/);
    expect(Number(b.slice(4))).toBe(Number(a.slice(4)) + 1);
    expect(resolveConfig({ connid: "mine" }).connid).toBe("mine");
  });
});

describe("config at run time", () => {
  class Probe extends Service {
    conn!: Connection;
    override on_connect(conn: Connection): void {
      this.conn = conn;
    }
    exposed_endpoints(): unknown {
      return this.conn.config.endpoints;
    }
    exposed_fail(): never {
      const err = new ValueError("bad") as ValueError & { code?: number };
      err.code = 17;
      throw err;
    }
  }

  it("servers set endpoints to [local, peer] addresses", async () => {
    const server = await serve(Probe);
    const conn = await connectTo<Probe>(server.port);
    const [local, peer] = (await conn.root.endpoints()) as [string, string];
    expect(local).toBe(`127.0.0.1:${server.port}`);
    expect(peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(conn.config.endpoints?.[1]).toBe(local);
  });

  it("runs before_closed with the remote root just before CLOSE", async () => {
    const server = await serve(Probe);
    const seen: string[] = [];
    const conn = await connectTo<Probe>(server.port, {
      config: {
        before_closed: async (root) => {
          seen.push(await (root as Connection<Probe>["root"]).get_service_name());
        },
      },
    });
    await conn.close();
    expect(seen).toEqual(["PROBE"]);
  });

  it("sends attributes of errors, and hides the version when include_local_version is off", async () => {
    const server = await serve(Probe, { protocolConfig: { include_local_version: false } });
    const conn = await connectTo<Probe>(server.port);
    const err = (await conn.root.fail().catch((e: unknown) => e)) as PythonException;
    expect(err.attrs).toMatchObject({ code: 17 });
    expect(err.remoteVersion).toBe("<version denied>");
  });

  it("instantiates registered custom exception classes only with instantiate_custom_exceptions", async () => {
    class CustomError extends Error {}
    class Thrower extends Service {
      exposed_fail(): never {
        const err = new Error("custom");
        err.name = "CustomError";
        throw err;
      }
    }
    const server = await serve(Thrower);
    const exceptionClasses = new Map([["rpyc_ts.CustomError", CustomError]]);
    const plain = await connectTo<Thrower>(server.port, { config: { exceptionClasses } });
    const generic = await plain.root.fail().catch((e: unknown) => e);
    expect(generic).not.toBeInstanceOf(CustomError);
    expect((generic as Error).name).toBe("CustomError");
    const custom = await connectTo<Thrower>(server.port, { config: { exceptionClasses, instantiate_custom_exceptions: true } });
    const typed = await custom.root.fail().catch((e: unknown) => e);
    expect(typed).toBeInstanceOf(CustomError);
    expect((typed as Error).message).toBe("custom");
  });

  it("logs handler exceptions through the configured logger", async () => {
    const lines: string[] = [];
    const logger = { debug: (m: string) => lines.push(m), info: () => {}, warn: () => {}, error: () => {} };
    const server = await serve(Probe, { logger });
    const conn = await connectTo<Probe>(server.port);
    await conn.root.fail().catch(() => undefined);
    await eventually(() => lines.some((l) => l.includes("exception in callattr") && l.includes("ValueError")), 2000, "a log line");
  });
});
