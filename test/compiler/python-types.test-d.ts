// Type tests on the checked-in stubs of the Python fixtures (fixtures/python-*/expected): what
// `conn.root.x()` resolves to for a client of a Python RPyC server, matching what Python RPyC
// sends (ints as number | bigint, bytes as Uint8Array, tuples by value, lists, dicts, sets and
// objects as netrefs), and which mistakes are compile errors. Checked by `npm run typecheck`,
// never executed: each `@ts-expect-error` line fails the type check if it compiles.

import { describe, expectTypeOf, it } from "vitest";
import type { Connection, NetrefBase, RemoteAttribute, RemoteDict, RemoteFunction, RemoteInstance, RemoteList, RemoteSet } from "../../runtime/index.js";
import { connectInventory, type AuditedRemote, type BaseRemote, type InventoryRemote } from "../../fixtures/python-inheritance/expected/index.js";
import { connectMy, type MyRemote } from "../../fixtures/python-seed/expected/index.js";
import { connectShop, type ShopRemote } from "../../fixtures/python-typed/expected/index.js";
import type { Item } from "../../fixtures/python-typed/expected/shop-service.client.js";

declare const my: MyRemote;
declare const shop: ShopRemote;
declare const inv: InventoryRemote;

describe("python-seed: the tutorial's MyService (no hints)", () => {
  it("members without hints are unknown, never guessed; unexposed members are absent", async () => {
    expectTypeOf(connectMy).returns.resolves.toEqualTypeOf<Connection<MyRemote>>();
    expectTypeOf(await my.get_answer()).toBeUnknown();
    expectTypeOf(my.the_real_answer_though).toEqualTypeOf<RemoteAttribute<unknown>>();
    expectTypeOf(await my.get_service_name()).toEqualTypeOf<string>();
    // @ts-expect-error get_question is not exposed
    void my.get_question;
    // @ts-expect-error on_connect is not exposed
    void my.on_connect;
  });
});

describe("python-typed: ShopService", () => {
  it("brine values: int is number | bigint, float number, bytes Uint8Array, tuples by value, None null", async () => {
    expectTypeOf(connectShop).returns.resolves.toEqualTypeOf<Connection<ShopRemote>>();
    expectTypeOf(await shop.checksum(new Uint8Array())).toEqualTypeOf<number | bigint>();
    expectTypeOf(await shop.max_order).toEqualTypeOf<number | bigint>();
    expectTypeOf(await shop.currency).toEqualTypeOf<string>();
    expectTypeOf(await shop.open).toEqualTypeOf<boolean>();
    expectTypeOf(await shop.total([1, 2n])).toEqualTypeOf<number>();
    expectTypeOf(await shop.pair(1, "a")).toEqualTypeOf<[number | bigint, string]>();
    expectTypeOf(await shop.version()).toEqualTypeOf<[number | bigint, number | bigint]>();
    expectTypeOf(await shop.describe()).toEqualTypeOf<string | null>();
    expectTypeOf(await shop.log("a", "b")).toEqualTypeOf<null>();
    // frozenset travels by value but has no WireType: unknown.
    expectTypeOf(await shop.flags()).toBeUnknown();
  });

  it("list, dict, TypedDict and set results are netrefs with len/getitem/contains/iteration; a dataclass instance a netref with its fields", async () => {
    const names = await shop.item_names();
    expectTypeOf(names).toEqualTypeOf<RemoteList>();
    expectTypeOf(names).toMatchTypeOf<NetrefBase & AsyncIterable<unknown>>();
    expectTypeOf(await names.__len__()).toEqualTypeOf<number>();
    expectTypeOf(await shop.prices()).toEqualTypeOf<RemoteDict>();
    expectTypeOf(await shop.stock("apple")).toEqualTypeOf<RemoteDict>();
    expectTypeOf(await shop.tags()).toEqualTypeOf<RemoteSet>();
    const item = await shop.get_item("apple");
    expectTypeOf(item).toEqualTypeOf<RemoteInstance<Item> | null>();
    if (item) {
      expectTypeOf(await item.name).toEqualTypeOf<string>();
      expectTypeOf(await item.price).toEqualTypeOf<number>();
      expectTypeOf(await item.tags).toEqualTypeOf<RemoteList>();
      // @ts-expect-error Item declares no field `weight`
      void item.weight;
    }
    // @ts-expect-error a list netref is not an array: no .length, no [0]
    void names.length;
    // @ts-expect-error a set netref has no __getitem__ (Python sets are not subscriptable)
    void (await shop.tags()).__getitem__;
  });

  it("arguments: what compiles is what Python can use (arrays for tuples and lists, Maps for dicts, netrefs it sent)", async () => {
    const names = await shop.item_names();
    const prices = await shop.prices();
    void shop.sum_all([1, 2n]);
    void shop.sum_all(names);
    void shop.lookup(new Map([["a", 1]]), "a");
    void shop.lookup(prices, "a");
    void shop.total([1, 2, 3], 0.5);
    void shop.checksum(Uint8Array.of(1));
    // @ts-expect-error a string is not bytes
    void shop.checksum("ab");
    // @ts-expect-error a plain object would arrive as a netref to a JavaScript object, not a dict
    void shop.lookup({ a: 1 }, "a");
    // @ts-expect-error a Set is not a list
    void shop.sum_all(new Set([1]));
    // @ts-expect-error tuple[int, str] takes exactly two items
    void shop.pair(1);
    // @ts-expect-error keyword-only `level` is not positional: it goes with kwargs() on an untyped call
    void shop.log("a", 1);
    // @ts-expect-error restock is not exposed
    void shop.restock;
  });

  it("Callable: a callback may answer synchronously or not; a returned function is a RemoteFunction", async () => {
    void shop.watch("pear", (name, price) => {
      expectTypeOf(name).toEqualTypeOf<string>();
      expectTypeOf(price).toEqualTypeOf<number>();
    });
    void shop.watch("pear", async () => {});
    // @ts-expect-error the callback gets (str, float)
    void shop.watch("pear", (name: number) => name);
    expectTypeOf(await shop.price_of()).toEqualTypeOf<RemoteFunction<[arg0: string], number>>();
    expectTypeOf(await (await shop.price_of())("pear")).toEqualTypeOf<number>();
  });
});

describe("python-inheritance: services across two files", () => {
  it("the derived stub has inherited, overridden and added members; the base's stub only its own", async () => {
    expectTypeOf(connectInventory).returns.resolves.toEqualTypeOf<Connection<InventoryRemote>>();
    expectTypeOf(await inv.ping()).toEqualTypeOf<string>();
    expectTypeOf(await inv.version).toEqualTypeOf<string>();
    expectTypeOf(await inv.restock("apple")).toEqualTypeOf<number | bigint>();
    expectTypeOf(await inv.audit_log()).toEqualTypeOf<string[]>();
    expectTypeOf<AuditedRemote["audit_log"]>().toEqualTypeOf<InventoryRemote["audit_log"]>();
    expectTypeOf<BaseRemote>().not.toHaveProperty("count");
    // @ts-expect-error audit is not exposed
    void inv.audit;
  });
});
