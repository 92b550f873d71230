// Dispatch tables and schemas (what rpyc-gen generates), written by hand here: a compiled
// server answers only compiled members and checks arguments before the service runs; a
// client with the schema sends structured values by value and gets them back typed.

import { describe, expect, it } from "vitest";
import { AttributeError, Service, dir, isNetref, kwargs, type CompiledRemote, type Connection, type RemoteData } from "../../runtime/index.js";
import { defineDispatch, type ServiceSchema } from "../../runtime/internal.js";
import { connectTo, serve } from "../helpers/servers.js";

interface Point {
  x: number;
  y: number;
  label?: string;
}

class GeoService extends Service {
  calls = 0;
  exposed_version = "1.0";
  secret = "not compiled";
  exposed_not_compiled(): string {
    return "exposed, but not in the table";
  }
  exposed_move(p: Point, dx: number, dy = 0): Point {
    this.calls++;
    return { ...p, x: p.x + dx, y: p.y + dy };
  }
  exposed_centroid(points: Point[]): Point {
    this.calls++;
    const n = points.length;
    return { x: points.reduce((s, p) => s + p.x, 0) / n, y: points.reduce((s, p) => s + p.y, 0) / n };
  }
  exposed_when(d: Date): Date {
    return new Date(d.getTime() + 1000);
  }
  exposed_tally(counts: Map<string, number>): Record<string, number> {
    return Object.fromEntries([...counts].map(([k, v]) => [k, v * 2]));
  }
  exposed_apply(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return fn(x);
  }
}

const POINT = { kind: "ref", name: "Point" } as const;
const GEO_SCHEMA: ServiceSchema = {
  className: "GeoService",
  name: "GEO",
  aliases: ["GEO"],
  methods: {
    move: {
      params: [
        { name: "p", type: POINT, optional: false, rest: false },
        { name: "dx", type: { kind: "number" }, optional: false, rest: false },
        { name: "dy", type: { kind: "number" }, optional: true, rest: false },
      ],
      returns: POINT,
    },
    centroid: { params: [{ name: "points", type: { kind: "array", element: POINT }, optional: false, rest: false }], returns: POINT },
    when: { params: [{ name: "d", type: { kind: "date" }, optional: false, rest: false }], returns: { kind: "date" } },
    tally: {
      params: [{ name: "counts", type: { kind: "map", key: { kind: "string" }, value: { kind: "number" }, container: "map" }, optional: false, rest: false }],
      returns: { kind: "map", key: { kind: "string" }, value: { kind: "number" }, container: "record" },
    },
    apply: {
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
  },
  attributes: { version: { type: { kind: "string" }, readonly: false } },
  types: {
    Point: {
      kind: "object",
      name: "Point",
      fields: [
        { name: "x", type: { kind: "number" }, optional: false },
        { name: "y", type: { kind: "number" }, optional: false },
        { name: "label", type: { kind: "string" }, optional: true },
      ],
    },
  },
};

const GEO_DISPATCH = defineDispatch(
  GeoService,
  GEO_SCHEMA,
  {
    move: (s, a) => s.exposed_move(a[0] as Point, a[1] as number, a[2] as number | undefined),
    centroid: (s, a) => s.exposed_centroid(a[0] as Point[]),
    when: (s, a) => s.exposed_when(a[0] as Date),
    tally: (s, a) => s.exposed_tally(a[0] as Map<string, number>),
    apply: (s, a) => s.exposed_apply(a[0] as (x: number) => Promise<number>, a[1] as number),
  },
  { version: (s) => s.exposed_version },
);

describe("a server with a dispatch table", () => {
  it("answers compiled members, with structured values by value both ways", async () => {
    const server = await serve(GeoService, { dispatch: GEO_DISPATCH });
    const conn = await connectTo<CompiledRemote<GeoService>>(server.port, { schemas: [GEO_SCHEMA] });
    expect(await conn.root.move({ x: 1, y: 2, label: "a" }, 10)).toEqual({ x: 11, y: 2, label: "a" });
    // Keyword arguments go through an untyped call (typed methods are positional).
    const untyped = conn.root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    expect(await untyped["move"]!({ x: 1, y: 2 }, 1, kwargs({ dy: 5 }))).toEqual({ x: 2, y: 7 });
    expect(
      await conn.root.centroid([
        { x: 0, y: 0 },
        { x: 2, y: 4 },
      ]),
    ).toEqual({ x: 1, y: 2 });
    expect(await conn.root.when(new Date(5000))).toEqual(new Date(6000));
    expect(await conn.root.tally(new Map([["a", 1]]))).toEqual({ a: 2 });
    expect(await conn.root.apply(async (x) => x * 3, 7)).toBe(21);
    expect(await conn.root.version).toBe("1.0");
    expect(await conn.root.get_service_name()).toBe("GEO");
  });

  it("refuses members that were not compiled, even with allow_public_attrs and allow_all_attrs", async () => {
    const server = await serve(GeoService, { dispatch: GEO_DISPATCH, protocolConfig: { allow_public_attrs: true, allow_all_attrs: true } });
    const conn = await connectTo<CompiledRemote<GeoService>>(server.port, { schemas: [GEO_SCHEMA] });
    await expect(conn.root.not_compiled()).rejects.toThrow("cannot access 'not_compiled'");
    const untyped = conn.root as unknown as Record<string, () => Promise<unknown>>;
    await expect(untyped["secret"]!()).rejects.toBeInstanceOf(AttributeError);
    expect(await dir(conn.root)).toEqual([
      "exposed_apply",
      "exposed_centroid",
      "exposed_get_service_aliases",
      "exposed_get_service_name",
      "exposed_move",
      "exposed_tally",
      "exposed_version",
      "exposed_when",
    ]);
  });

  it("refuses a bad argument naming the parameter, before the service code runs", async () => {
    const service = new GeoService();
    const server = await serve(service, { dispatch: GEO_DISPATCH });
    // No schema on this client: it sends what it is given, as a Python client would.
    const conn = await connectTo(server.port);
    const root = conn.root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await expect(root["move"]!([1, 2, null], "ten")).rejects.toThrow("move() argument 'dx': expected number, got string \"ten\"");
    await expect(root["move"]!([1, 2, null])).rejects.toThrow("move() takes 2 to 3 arguments, got 1");
    await expect(root["move"]!([1, 2, null], 1, 2, 3)).rejects.toThrow("move() takes 2 to 3 arguments, got 4");
    await expect(root["centroid"]!([[1, "2", null]])).rejects.toThrow("centroid() argument 'points'[0].y: expected number");
    // A remote object where plain data was declared: refused, never read remotely.
    await expect(root["move"]!({ x: 1, y: 2 }, 1)).rejects.toThrow(
      "move() argument 'p': expected Point, got a netref (a remote object where a value was declared). Plain data travels by value only from a client compiled with rpyc-gen",
    );
    expect(service.calls).toBe(0);
    // The tuple form is the wire form of a Point: a schema-less (or Python) client may send it.
    // Its result comes back as RPyC sends objects to a client without the schema: by reference,
    // a read-only dict of the Point's fields.
    const moved = (await root["move"]!([1, 2, null], 1)) as unknown as RemoteData<{ x: number; y: number }>;
    expect(isNetref(moved)).toBe(true);
    expect([await moved.__getitem__("x"), await moved.__getitem__("y"), await moved.__len__()]).toEqual([2, 2, 2]);
  });

  it("encodes results by the schema only for a client that holds it", async () => {
    const server = await serve(new GeoService(), { dispatch: GEO_DISPATCH });
    const compiled = await connectTo<CompiledRemote<GeoService>>(server.port, { schemas: [GEO_SCHEMA] });
    const plain = await connectTo(server.port);
    const plainRoot = plain.root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    expect(await compiled.root.move({ x: 1, y: 2 }, 1)).toEqual({ x: 2, y: 2 });
    expect(isNetref(await plainRoot["move"]!([1, 2, null], 1))).toBe(true);
  });

  it("leaves services without a table to the dynamic rules", async () => {
    class Other extends Service {
      exposed_ping(): string {
        return "pong";
      }
    }
    const server = await serve(Other, { dispatch: GEO_DISPATCH });
    const conn = await connectTo<Other>(server.port);
    expect(await conn.root.ping()).toBe("pong");
  });

  it("a stale table that does not match its schema fails at once", () => {
    expect(() => defineDispatch(GeoService, GEO_SCHEMA, {}, {})).toThrow(/does not match its schema.*regenerate/);
  });

  it("the client refuses to send a value that does not fit the schema", async () => {
    const server = await serve(GeoService, { dispatch: GEO_DISPATCH });
    const conn: Connection<CompiledRemote<GeoService>> = await connectTo<CompiledRemote<GeoService>>(server.port, { schemas: [GEO_SCHEMA] });
    // @ts-expect-error the type checker catches it too
    await expect(conn.root.move({ x: "1", y: 2 }, 1)).rejects.toThrow("move() argument 'p'.x: expected number");
  });
});
