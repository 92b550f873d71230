// Every error class rpyc-ts exports has a guard, so `catch (err: unknown)` can narrow without
// instanceof (which fails across two copies of the package); every code names a class that
// produces it. Adding an error class without a guard, or a code no class uses, fails here.

import { describe, expect, it } from "vitest";
import * as api from "../../runtime/index.js";
import type { RpycError, RpycErrorCode } from "../../runtime/index.js";

/** One instance per code, as the runtime makes it, with the guard for its class. */
const BY_CODE: Record<RpycErrorCode, { readonly error: RpycError; readonly guard: (value: unknown) => boolean }> = {
  PROTOCOL: { error: new api.ProtocolError("bad frame"), guard: api.isProtocolError },
  FRAME_TOO_LARGE: { error: new api.FrameTooLargeError(10, 5), guard: api.isFrameTooLargeError },
  CONNECTION_CLOSED: { error: new api.ConnectionClosedError(), guard: api.isConnectionClosedError },
  TIMEOUT: { error: new api.AsyncResultTimeout("no reply"), guard: api.isTimeoutError },
  NETREF_RELEASED: { error: new api.NetrefReleasedError("released"), guard: api.isNetrefReleasedError },
  PING: { error: new api.PingError("wrong payload"), guard: api.isPingError },
  DISCOVERY: { error: new api.DiscoveryError("no server"), guard: api.isDiscoveryError },
  FORBIDDEN: { error: new api.ForbiddenError("listing refused"), guard: api.isForbiddenError },
  LIMIT: { error: new api.LimitExceededError("maxNetrefs", 10), guard: api.isLimitExceededError },
  AUTHENTICATION: { error: new api.AuthenticationError("refused"), guard: api.isAuthenticationError },
  CONNECT: { error: new api.ConnectError("127.0.0.1:1", Object.assign(new Error("refused"), { code: "ECONNREFUSED" })), guard: api.isConnectError },
  LISTEN: { error: new api.ListenError("127.0.0.1:1", Object.assign(new Error("in use"), { code: "EADDRINUSE" })), guard: api.isListenError },
};

describe("error guards", () => {
  it("each guard accepts its own class's errors and no other", () => {
    for (const [code, { error, guard }] of Object.entries(BY_CODE)) {
      expect(error.code).toBe(code);
      expect(api.isRpycError(error)).toBe(true);
      for (const [otherCode, other] of Object.entries(BY_CODE)) expect(guard(other.error), `${code} guard on ${otherCode}`).toBe(code === otherCode);
      expect(guard(new Error(error.message))).toBe(false);
      expect(guard(undefined)).toBe(false);
    }
  });

  it("isSchemaError tells a value that did not match its declared type", () => {
    const error = new api.SchemaError("place() argument 1", "Item", "a netref");
    expect(api.isSchemaError(error)).toBe(true);
    expect(error.message).toBe("place() argument 1: expected Item, got a netref");
    expect(api.isSchemaError(new TypeError("x"))).toBe(false);
    expect(api.isSchemaError(BY_CODE.PROTOCOL.error)).toBe(false);
  });

  it("covers every RpycError class the package exports", () => {
    const exported = Object.entries(api).filter(([, value]) => typeof value === "function" && value.prototype instanceof api.RpycError);
    const covered = new Set(Object.values(BY_CODE).map(({ error }) => error.constructor));
    expect(exported.filter(([, value]) => !covered.has(value as never)).map(([name]) => name)).toEqual([]);
  });
});
