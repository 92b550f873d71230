// Type tests: what `conn.root.x()` resolves to in the IDE. Checked by `tsc --noEmit`
// (part of `npm test`), never executed; the @ts-expect-error lines fail the type check
// if they compile.

import { describe, expectTypeOf, it } from "vitest";
import type {
  Connection,
  DynamicAttribute,
  NetrefBase,
  Remote,
  RemoteAttribute,
  RemoteData,
  RemoteDict,
  RemoteList,
  RemoteValue,
} from "../../runtime/index.js";
import { Service, kwargs } from "../../runtime/index.js";

interface Point {
  x: number;
  y: number;
  norm(): number;
  _hidden: string;
}

class TypedService extends Service {
  exposed_get_answer(): number {
    return 42;
  }
  exposed_the_real_answer_though = 43;
  get_question(): string {
    return "?";
  }
  async exposed_slow(ms: number): Promise<string> {
    return String(ms);
  }
  exposed_tuple(): [number, string] {
    return [1, "a"];
  }
  exposed_bytes(): Buffer {
    return Buffer.alloc(1);
  }
  exposed_nothing(): void {}
  exposed_callback(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return fn(x);
  }
  exposed_point(): Point {
    return { x: 1, y: 2, norm: () => 3, _hidden: "" };
  }
  exposed_child(): ChildService {
    return new ChildService();
  }
  exposed_data(): { a: number; when: Date; tags: Map<string, number>; nested: { deep: bigint }[] } {
    return { a: 1, when: new Date(), tags: new Map(), nested: [] };
  }
  exposed_adopt(child: ChildService): string {
    return child.exposed_name;
  }
  exposed_profile(): { name: string; email?: string; nick: string | undefined } {
    return { name: "n", nick: undefined };
  }
  exposed_optional(a: number, b?: string): string {
    return `${a}${b ?? ""}`;
  }
}

class ChildService extends Service {
  exposed_name = "child";
  secret = 1;
}

declare const conn: Connection<TypedService>;
declare const dynamic: Connection;

describe("Remote<T> (types only)", () => {
  it("strips exposed_ and makes methods promise-returning", () => {
    expectTypeOf(conn.root.get_answer).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(conn.root.slow).toBeCallableWith(1);
    // @ts-expect-error the declared parameter type is enforced
    void conn.root.slow("1");
    expectTypeOf(conn.root.slow(1)).toEqualTypeOf<Promise<string>>();
    expectTypeOf(conn.root.get_service_name()).toEqualTypeOf<Promise<string>>();
    // An array may be a Python list, which arrives by reference: without a schema, either.
    expectTypeOf(conn.root.get_service_aliases()).toEqualTypeOf<Promise<string[] | RemoteList<string>>>();
  });

  it("makes exposed attributes awaitable", async () => {
    expectTypeOf(conn.root.the_real_answer_though).toEqualTypeOf<RemoteAttribute<number>>();
    expectTypeOf(await conn.root.the_real_answer_though).toEqualTypeOf<number>();
  });

  it("leaves non-exposed members out of the type", () => {
    // @ts-expect-error get_question is not exposed
    void conn.root.get_question;
    // @ts-expect-error the prefixed name is not part of the typed surface
    void conn.root.exposed_get_answer;
    // @ts-expect-error lifecycle hooks are not remote
    void conn.root.on_connect;
  });

  it("types values as they arrive", () => {
    expectTypeOf<Awaited<ReturnType<typeof conn.root.tuple>>>().toEqualTypeOf<[number, string]>();
    expectTypeOf<Awaited<ReturnType<typeof conn.root.bytes>>>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<Awaited<ReturnType<typeof conn.root.nothing>>>().toEqualTypeOf<null>();
    expectTypeOf<RemoteValue<number | undefined>>().toEqualTypeOf<number | null>();
  });

  it("accepts plain local callbacks where the service declares remote ones", () => {
    expectTypeOf(conn.root.callback).toBeCallableWith((x: number) => x + 1, 2);
    expectTypeOf(conn.root.callback).toBeCallableWith(async (x: number) => x + 1, 2);
    expectTypeOf(conn.root.optional).toBeCallableWith(1);
    expectTypeOf(conn.root.optional).toBeCallableWith(1, "b");
  });

  it("types returned objects as netrefs: services by exposed members, plain objects by public ones", async () => {
    const child = await conn.root.child();
    expectTypeOf(child.name).toEqualTypeOf<RemoteAttribute<string>>();
    // @ts-expect-error not exposed on the child service
    void child.secret;
    const point = await conn.root.point();
    expectTypeOf(point.x).toEqualTypeOf<RemoteAttribute<number>>();
    expectTypeOf(point.norm()).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error private by convention
    void point._hidden;
  });

  it("plain data (no methods, no exposed_ members) arrives by reference without the compiled schema: a read-only dict, as RPyC sends objects", async () => {
    type Data = RemoteData<{
      a: number;
      when: NetrefBase;
      tags: RemoteDict<string, number>;
      nested: RemoteData<{ deep: number | bigint }>[] | RemoteList<RemoteData<{ deep: number | bigint }>>;
    }>;
    const data = await conn.root.data();
    expectTypeOf(data).toEqualTypeOf<Data>();
    expectTypeOf(data.__getitem__("a")).toEqualTypeOf<Promise<number>>();
    expectTypeOf(data.__getitem__("tags")).toEqualTypeOf<Promise<RemoteDict<string, number>>>();
    // @ts-expect-error not a field
    void data.__getitem__("nope");
    // @ts-expect-error fields are not attributes of the netref
    void data.a;
  });

  it("a netref is not thenable, so awaiting it yields the netref itself", () => {
    expectTypeOf<Awaited<Remote<ChildService>>>().toEqualTypeOf<Remote<ChildService>>();
  });

  it("an untyped root takes any name (an index signature: `| undefined` under noUncheckedIndexedAccess)", () => {
    expectTypeOf(dynamic.root.anything).toEqualTypeOf<DynamicAttribute | undefined>();
    expectTypeOf(dynamic.root.anything!(1, "two")).toEqualTypeOf<Promise<unknown>>();
  });

  it("typed methods are positional; keyword arguments go through untyped calls", () => {
    // @ts-expect-error kwargs() is not part of a typed signature
    void conn.root.optional(1, kwargs({ b: "b" }));
    expectTypeOf(dynamic.root.optional!).toBeCallableWith(1, kwargs({ b: "b" }));
  });

  it("a netref the caller holds may go where the service declared the object", async () => {
    const child = await conn.root.child();
    expectTypeOf(conn.root.adopt).toBeCallableWith(child);
    expectTypeOf(conn.root.adopt).toBeCallableWith(new ChildService());
  });

  it("optional fields of returned data stay optional, never null", async () => {
    expectTypeOf(await conn.root.profile()).toEqualTypeOf<RemoteData<{ name: string; email?: string; nick: string | null }>>();
  });
});

describe("promise pipelining (types only)", () => {
  it("RemoteResult of a netref offers its members before it resolves; of plain data, nothing more", () => {
    type Child = Remote<ChildService>;
    type Pending = import("../../runtime/index.js").RemoteResult<Child>;
    expectTypeOf<Pending>().toMatchTypeOf<Promise<Child>>();
    expectTypeOf<Pending["name"]>().toEqualTypeOf<RemoteAttribute<string>>();
    expectTypeOf<Awaited<Pending>>().toEqualTypeOf<Child>();
    // @ts-expect-error not exposed on the child service, so not pipelinable either
    void ({} as Pending).secret;
    expectTypeOf<import("../../runtime/index.js").RemoteResult<number>>().toEqualTypeOf<Promise<number>>();
    // A nullable netref result is not pipelinable: it may be None.
    expectTypeOf<import("../../runtime/index.js").RemoteResult<Child | null>>().toEqualTypeOf<Promise<Child | null>>();
  });

  it("a pipelined method keeps its typed signature", () => {
    type Pending = import("../../runtime/index.js").RemoteResult<Remote<TypedService>>;
    expectTypeOf<ReturnType<Pending["slow"]>>().toEqualTypeOf<Promise<string>>();
    expectTypeOf<Pending["slow"]>().parameters.toEqualTypeOf<[ms: number]>();
  });
});
