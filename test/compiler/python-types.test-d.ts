// Type tests on the checked-in stubs of the Python fixtures (fixtures/python-*/expected): what
// `conn.root.x()` resolves to for a client of a Python RPyC server, matching what Python RPyC
// sends (ints as number | bigint, bytes as Uint8Array, tuples by value, lists, dicts, sets and
// objects as netrefs), and which mistakes are compile errors. Checked by `npm run typecheck`,
// never executed: each `@ts-expect-error` line fails the type check if it compiles.

import { describe, expectTypeOf, it } from "vitest";
import {
  FrozenSet,
  kwargs,
  type Connection,
  type NetrefBase,
  type RemoteAttribute,
  type RemoteDict,
  type RemoteFunction,
  type RemoteInstance,
  type RemoteList,
  type RemoteSet,
  type RemoteTypedDict,
} from "../../runtime/index.js";
import { connectInventory, type AuditedRemote, type BaseRemote, type InventoryRemote } from "../../fixtures/python-inheritance/expected/index.js";
import { connectMy, type MyRemote } from "../../fixtures/python-seed/expected/index.js";
import { connectShop, type Delivery, type Item, type Shelf, type ShopRemote, type Stock } from "../../fixtures/python-typed/expected/index.js";

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
    expectTypeOf(await shop.log("a", "b")).toEqualTypeOf<string>();
  });

  it("frozenset[T] arrives by value as the runtime's FrozenSet<T>, and goes as one", async () => {
    expectTypeOf(await shop.flags()).toEqualTypeOf<FrozenSet<string>>();
    expectTypeOf(await shop.common(new FrozenSet(["a"]), new FrozenSet<string>())).toEqualTypeOf<FrozenSet<string>>();
    // @ts-expect-error a frozenset of str holds strings
    void shop.common(new FrozenSet([1]), new FrozenSet<string>());
    // @ts-expect-error a frozenset argument is a FrozenSet (a plain Set would arrive as a netref)
    void shop.common(new Set(["a"]), new FrozenSet<string>());
  });

  it("list, dict, TypedDict and set results are netrefs with len/getitem/contains/iteration; a dataclass instance a netref with its fields", async () => {
    const names = await shop.item_names();
    expectTypeOf(names).toEqualTypeOf<RemoteList<string>>();
    expectTypeOf(names).toMatchTypeOf<NetrefBase & AsyncIterable<string>>();
    expectTypeOf(await names.__len__()).toEqualTypeOf<number>();
    expectTypeOf(await names.__getitem__(0)).toEqualTypeOf<string>();
    expectTypeOf(await shop.prices()).toEqualTypeOf<RemoteDict<string, number>>();
    expectTypeOf(await (await shop.prices()).__getitem__("pear")).toEqualTypeOf<number>();
    expectTypeOf(await shop.tags()).toEqualTypeOf<RemoteSet<string>>();
    const item = await shop.get_item("apple");
    expectTypeOf(item).toEqualTypeOf<RemoteInstance<Item> | null>();
    if (item) {
      expectTypeOf(await item.name).toEqualTypeOf<string>();
      expectTypeOf(await item.price).toEqualTypeOf<number>();
      expectTypeOf(await item.tags).toEqualTypeOf<RemoteList<string>>();
      // @ts-expect-error Item declares no field `weight`
      void item.weight;
    }
    // @ts-expect-error a list netref is not an array: no .length, no [0]
    void names.length;
    // @ts-expect-error a set netref has no __getitem__ (Python sets are not subscriptable)
    void (await shop.tags()).__getitem__;
    // @ts-expect-error a dict[str, float] is indexed by strings
    void (await shop.prices()).__getitem__(1);
    // @ts-expect-error a list[str] holds strings
    void names.__contains__(1);
  });

  it("container items are typed as Python sends them: nested lists are netrefs, ints number | bigint", async () => {
    const crates = await shop.crates();
    expectTypeOf(crates).toEqualTypeOf<RemoteList<RemoteList<number | bigint>>>();
    const first = await crates.__getitem__(0);
    expectTypeOf(first).toEqualTypeOf<RemoteList<number | bigint>>();
    expectTypeOf(await first.__getitem__(0)).toEqualTypeOf<number | bigint>();
    for await (const crate of crates) expectTypeOf(crate).toEqualTypeOf<RemoteList<number | bigint>>();
    const bySize = await shop.by_size();
    expectTypeOf(bySize).toEqualTypeOf<RemoteDict<number | bigint, RemoteList<string>>>();
    for await (const size of bySize) expectTypeOf(size).toEqualTypeOf<number | bigint>();
    for await (const tag of await shop.tags()) expectTypeOf(tag).toEqualTypeOf<string>();
    // A list argument takes an array (a tuple for Python) or a list netref.
    void shop.sum_all(first);
  });

  it("a TypedDict is a dict netref typed by its keys: getitem of a declared key is typed, an undeclared key a compile error", async () => {
    const stock = await shop.stock("apple");
    expectTypeOf(stock).toEqualTypeOf<RemoteTypedDict<Stock>>();
    expectTypeOf(await stock.__getitem__("count")).toEqualTypeOf<number | bigint>();
    expectTypeOf(await stock.__getitem__("name")).toEqualTypeOf<string>();
    // @ts-expect-error Stock has no key `weight`
    void stock.__getitem__("weight");
    // @ts-expect-error count is an int
    void stock.__setitem__("count", "many");
    // @ts-expect-error a required key cannot be deleted
    void stock.__delitem__("count");
    expectTypeOf(await stock.__contains__("weight")).toEqualTypeOf<boolean>();
    for await (const key of stock) expectTypeOf(key).toEqualTypeOf<"name" | "count">();
    expectTypeOf<Stock>().toEqualTypeOf<{ name: string; count: number | bigint }>();
    // total=False and NotRequired keys are optional in the interface; getitem still gives the value type (absent: KeyError).
    expectTypeOf<Shelf>().toEqualTypeOf<{ aisle: number | bigint; row?: number | bigint; labels?: RemoteList<string> }>();
    expectTypeOf<Delivery>().toEqualTypeOf<{ item: string; crates: RemoteList<RemoteList<number | bigint>>; note?: string }>();
    const shelf = await shop.shelf("apple");
    expectTypeOf(await shelf.__getitem__("row")).toEqualTypeOf<number | bigint>();
    void shelf.__delitem__("row");
    expectTypeOf(await (await shop.delivery()).__getitem__("crates")).toEqualTypeOf<RemoteList<RemoteList<number | bigint>>>();
  });

  it("arguments: what compiles is what Python can use (arrays for tuples and lists, Maps for dicts, netrefs it sent)", async () => {
    const names = await shop.item_names();
    const prices = await shop.prices();
    void shop.sum_all([1, 2n]);
    // @ts-expect-error a list of str is not a list of int (sum() would raise TypeError in Python)
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
    // @ts-expect-error a set netref is not a list netref either
    void shop.sum_all(await shop.tags());
    // @ts-expect-error tuple[int, str] takes exactly two items
    void shop.pair(1);
    // @ts-expect-error keyword-only `level` is not positional: it goes in kwargs()
    void shop.log("a", 1);
    // @ts-expect-error restock is not exposed
    void shop.restock;
  });

  it("keyword-only parameters: a second overload takes them in a last kwargs({ ... }), typed by name", async () => {
    // kwargs() keeps its values' names and types, so the stub checks them.
    expectTypeOf(await shop.log("a", "b", kwargs({ level: 2 }))).toEqualTypeOf<string>();
    expectTypeOf(await shop.greet("Bo", kwargs({ greeting: "Hi" }))).toEqualTypeOf<string>();
    void shop.greet("Bo", "?", kwargs({ greeting: "Hi", times: 2 }));
    void shop.log(kwargs({ level: 2n }));
    // **extra: any other name is accepted, as Python accepts it.
    void shop.log("a", kwargs({ level: 2, who: "me" }));
    // @ts-expect-error level is an int
    void shop.log("a", kwargs({ level: "high" }));
    // @ts-expect-error greet takes no **kwargs: an unknown name fails
    void shop.greet("Bo", kwargs({ greting: "Hi" }));
    // @ts-expect-error greeting is required (it has no default)
    void shop.greet("Bo", kwargs({ times: 2 }));
    // @ts-expect-error times is an int
    void shop.greet("Bo", kwargs({ greeting: "Hi", times: "twice" }));
    // @ts-expect-error the positional parameters come first and keep their types
    void shop.greet(1, kwargs({ greeting: "Hi" }));
    // Only keyword parameters: no positional argument before them.
    expectTypeOf(await shop.search(kwargs({ prefix: "a", limit: null }))).toEqualTypeOf<RemoteList<string>>();
    // @ts-expect-error search takes no positional argument
    void shop.search("a", kwargs({ limit: 1 }));
    // @ts-expect-error greet takes at most two positional arguments before its keywords
    void shop.greet("Bo", "!", "?", kwargs({ greeting: "Hi" }));
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
    // An intermediate class between rpyc.Service and the served one gets a stub named as RPyC would name it.
    expectTypeOf(await ({} as AuditedRemote).get_service_name()).toEqualTypeOf<string>();
    // @ts-expect-error audit is not exposed
    void inv.audit;
  });
});
