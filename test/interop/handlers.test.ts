// Every RPyC 5.3 request handler, sent by a real Python client to an rpyc-ts server, and
// the rpyc-ts client's explicit operations against a real Python server.

import { describe, expect, it } from "vitest";
import { Service, compare, delattr, dir, getattr, getitem, hash, isinstance, len, repr, setattr, setitem, str, type Connection } from "../../runtime/index.js";
import { requirePythonRpyc, runPythonClient, startPython } from "../helpers/python.js";
import { connectTo, serve } from "../helpers/servers.js";

class Box {
  constructor(public exposed_value: number) {}
  __repr__(): string {
    return `Box(${this.exposed_value})`;
  }
  __str__(): string {
    return `a box of ${this.exposed_value}`;
  }
  __lt__(other: Box): boolean {
    return this.exposed_value < other.exposed_value;
  }
}

class Resource {
  open = false;
  exposed_is_open(): boolean {
    return this.open;
  }
  __enter__(): this {
    this.open = true;
    return this;
  }
  __exit__(): boolean {
    this.open = false;
    return false;
  }
}

class HandlerService extends Service {
  conn!: Connection;
  override on_connect(conn: Connection): void {
    this.conn = conn;
  }
  exposed_make_box(n: number): Box {
    return new Box(n);
  }
  exposed_box_class(): typeof Box {
    return Box;
  }
  exposed_has_value(box: Box): boolean {
    return "exposed_value" in box;
  }
  exposed_get_adder(n: number): (x: number) => number {
    return (x) => x + n;
  }
  exposed_twice(x: number): number {
    return 2 * x;
  }
  *exposed_numbers(n: number): Generator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
  exposed_sliceable(): { __getitem__(s: unknown): unknown } {
    return {
      __getitem__: (s: unknown) => {
        const slice = s as { start: number; stop: number };
        return ["a", "b", "c", "d"].slice(slice.start, slice.stop);
      },
    };
  }
  exposed_resource(): Resource {
    return new Resource();
  }
  exposed_table_size(): number {
    return this.conn.stats().localObjects;
  }
}

describe("every request handler, Python client -> rpyc-ts server", () => {
  it("answers each of the 20 handler codes as RPyC 5.3 does", async () => {
    requirePythonRpyc();
    const server = await serve(HandlerService, { protocolConfig: { allow_setattr: true, allow_delattr: true } });
    const out = (await runPythonClient("handlers_client.py", [String(server.port)])) as Record<string, { ok?: unknown; error?: string; message?: string }>;
    expect(out.ping).toEqual({ ok: true });
    expect(out.getroot).toEqual({ ok: true });
    expect(out.getattr).toEqual({ ok: 5 });
    expect(out.setattr_service).toEqual({ error: "AttributeError", message: "access denied" });
    expect(out.setattr_box).toEqual({ ok: 6 });
    expect(out.delattr_box).toEqual({ ok: false });
    expect(out.call).toEqual({ ok: 5 });
    expect(out.callattr).toEqual({ ok: 42 });
    expect(out.repr).toEqual({ ok: "Box(5)" });
    expect(out.str).toEqual({ ok: "a box of 5" });
    expect(out.cmp_eq_self).toEqual({ ok: true });
    expect(out.cmp_eq_other).toEqual({ ok: false });
    expect(out.cmp_lt).toEqual({ ok: true });
    expect(out.hash).toEqual({ ok: true });
    expect(out.dir).toEqual({ ok: true });
    expect(out.pickle).toEqual({ error: "ValueError", message: "pickling is disabled" });
    expect(out.inspect!.ok).toEqual(expect.arrayContaining(["__lt__"]));
    expect(out.buffiter).toEqual({ ok: Array.from({ length: 25 }, (_, i) => i) });
    expect(out.oldslicing).toEqual({ ok: ["b", "c"] });
    expect(out.ctxexit).toEqual({ ok: [true, false] });
    expect(out.instancecheck_true).toEqual({ ok: true });
    expect(out.instancecheck_false).toEqual({ ok: false });
    expect(out.del_sent).toEqual({ ok: true });
    expect(out.del_done).toEqual({ ok: true });
  });
});

interface PyHandlers {
  exposed_make_box(n: number): { exposed_value: number };
  exposed_box_class(): object;
  exposed_dict_class(): object;
  exposed_numbers(): number[];
  exposed_mapping(): Map<string, number>;
}

describe("explicit operations, rpyc-ts client -> Python server", () => {
  it("sends GETATTR, SETATTR, DELATTR, DIR, REPR, STR, HASH, CMP, INSTANCECHECK and friends", async () => {
    const py = await startPython("handlers_server.py");
    const conn = await connectTo<PyHandlers>(py.port);
    const box = await conn.root.make_box(5);
    const other = await conn.root.make_box(9);
    expect(await getattr(box, "value")).toBe(5);
    await setattr(box, "value", 6);
    expect(await box.value).toBe(6);
    expect(await dir(box)).toContain("exposed_value");
    expect(await repr(box)).toBe("Box(6)");
    expect(await str(box)).toBe("a box of 6");
    expect(typeof (await hash(box))).toMatch(/number|bigint/);
    expect(await compare(box, box, "__eq__")).toBe(true);
    expect(await compare(box, other, "__lt__")).toBe(true);
    expect(await isinstance(box, await conn.root.box_class())).toBe(true); // same class id: answered locally
    expect(await isinstance(box, await conn.root.dict_class())).toBe(false); // asked with HANDLE_INSTANCECHECK
    await delattr(box, "value");
    await expect(Promise.resolve(box.value)).rejects.toThrow("cannot access 'value'");
    const numbers = await conn.root.numbers();
    expect(await len(numbers)).toBe(3);
    await setitem(numbers, 0, 10);
    expect(await getitem(numbers, 0)).toBe(10);
    const seen: unknown[] = [];
    for await (const n of numbers as unknown as AsyncIterable<unknown>) seen.push(n);
    expect(seen).toEqual([10, 2, 3]);
    const mapping = await conn.root.mapping();
    expect(await getitem(mapping, "a")).toBe(1);
    await conn.ping();
  });
});
