// The static side of test/compiled/matrix.test.ts: what each client form declares for each
// kind of value, pinned. The run-time test checks that what arrives is exactly this.
import { describe, expectTypeOf, it } from "vitest";
import type { Connection, NetrefBase, PlainDataNeedsTheGeneratedClient, Remote, RemoteData, RemoteDict, RemoteList, RemoteSet } from "../../runtime/index.js";
import type { ChildService, Color as SourceColor, Counter, MatrixService } from "../../fixtures/matrix/matrix-service.js";
import type { Color, MatrixRemote, Person } from "../../fixtures/matrix/expected/index.js";
import type { MatrixRemote as PythonMatrixRemote } from "../../fixtures/matrix-python/expected/index.js";
import type { MatrixApi } from "./matrix-api.js";

declare const stub: Connection<MatrixRemote>;
declare const byClass: Connection<MatrixService>;
declare const byInterface: Connection<MatrixApi>;
declare const fromPython: Connection<PythonMatrixRemote>;

type Result<R, K extends keyof R> = R[K] extends (...args: never[]) => infer P ? Awaited<P> : never;
// Without the schema an array may be a Python list (by reference), a bigint a small int (a number).
type PersonData = RemoteData<{ name: string; age: number; nickname?: string; tags: string[] | RemoteList<string> }>;

describe("the generated stub (with a server that has the dispatch table): plain data by value", () => {
  type R = typeof stub.root;
  it("values", () => {
    expectTypeOf<Result<R, "number">>().toEqualTypeOf<number>();
    expectTypeOf<Result<R, "bigint">>().toEqualTypeOf<bigint>();
    expectTypeOf<Result<R, "few">>().toEqualTypeOf<bigint>();
    expectTypeOf<Result<R, "text">>().toEqualTypeOf<string>();
    expectTypeOf<Result<R, "bytes">>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<Result<R, "flag">>().toEqualTypeOf<boolean>();
    expectTypeOf<Result<R, "nothing">>().toEqualTypeOf<null>();
    expectTypeOf<Result<R, "person">>().toEqualTypeOf<Person>();
    expectTypeOf<Result<R, "numbers">>().toEqualTypeOf<number[]>();
    expectTypeOf<Result<R, "pair">>().toEqualTypeOf<[string, number]>();
    expectTypeOf<Result<R, "scores">>().toEqualTypeOf<Map<string, number>>();
    expectTypeOf<Result<R, "record">>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<Result<R, "when">>().toEqualTypeOf<Date>();
    expectTypeOf<Result<R, "color">>().toEqualTypeOf<Color>();
    expectTypeOf<Result<R, "either">>().toEqualTypeOf<string | number>();
    expectTypeOf<Result<R, "apply">>().toEqualTypeOf<number>();
    expectTypeOf<Result<R, "greet">>().toEqualTypeOf<string>();
  });
  it("what travels by reference is typed as a netref (a Set as a RemoteSet, a class with methods as a NetrefBase)", () => {
    expectTypeOf<Result<R, "letters">>().toEqualTypeOf<RemoteSet<string>>();
    expectTypeOf<Result<R, "counter">>().toEqualTypeOf<NetrefBase>();
  });
  it("takes plain data as arguments", () => {
    expectTypeOf(stub.root.greet).toBeCallableWith({ name: "Ada", age: 36, tags: [] });
  });
});

for (const [form, conn] of [
  ["connect<Class>()", byClass],
  ["connect<Interface>()", byInterface],
] as const) {
  describe(`${form}: plain data by reference, as RPyC sends objects`, () => {
    type R = typeof conn.root;
    it("values and references", () => {
      expectTypeOf<Result<R, "number">>().toEqualTypeOf<number>();
      expectTypeOf<Result<R, "bigint">>().toEqualTypeOf<number | bigint>();
      expectTypeOf<Result<R, "few">>().toEqualTypeOf<number | bigint>();
      expectTypeOf<Result<R, "bytes">>().toEqualTypeOf<Uint8Array>();
      expectTypeOf<Result<R, "nothing">>().toEqualTypeOf<null>();
      expectTypeOf<Result<R, "person">>().toEqualTypeOf<PersonData>();
      expectTypeOf<Result<R, "numbers">>().toEqualTypeOf<number[] | RemoteList<number>>();
      expectTypeOf<Result<R, "pair">>().toEqualTypeOf<[string, number]>();
      expectTypeOf<Result<R, "scores">>().toEqualTypeOf<RemoteDict<string, number>>();
      expectTypeOf<Result<R, "record">>().toEqualTypeOf<RemoteData<{ [x: string]: number }>>();
      expectTypeOf<Result<R, "when">>().toEqualTypeOf<NetrefBase>();
      expectTypeOf<Result<R, "letters">>().toEqualTypeOf<RemoteSet<string>>();
      expectTypeOf<Result<R, "color">>().toEqualTypeOf<SourceColor>();
      expectTypeOf<Result<R, "either">>().toEqualTypeOf<string | number>();
      expectTypeOf<Result<R, "counter">>().toEqualTypeOf<Remote<Counter>>();
      expectTypeOf<Result<R, "child">>().toEqualTypeOf<Remote<ChildService>>();
    });
    it("a plain-data argument is a compile error that says why", () => {
      expectTypeOf(conn.root.greet).parameter(0).toEqualTypeOf<PlainDataNeedsTheGeneratedClient>();
      // @ts-expect-error plain data would reach the server by reference
      void conn.root.greet({ name: "Ada", age: 36, tags: [] });
    });
    it("a callback receives its arguments as they cross the wire", () => {
      expectTypeOf(conn.root.apply).toBeCallableWith((x: number) => x + 1, 41);
    });
  });
}

describe("the stub compiled from the Python source: Python's containers by reference", () => {
  type R = typeof fromPython.root;
  it("values and references", () => {
    expectTypeOf<Result<R, "bigint">>().toEqualTypeOf<number | bigint>();
    expectTypeOf<Result<R, "few">>().toEqualTypeOf<number | bigint>();
    expectTypeOf<Result<R, "numbers">>().toMatchTypeOf<NetrefBase>();
    expectTypeOf<Result<R, "scores">>().toEqualTypeOf<RemoteDict<string, number | bigint>>();
    expectTypeOf<Result<R, "letters">>().toEqualTypeOf<RemoteSet<string>>();
    expectTypeOf<Result<R, "when">>().toEqualTypeOf<unknown>();
  });
});
