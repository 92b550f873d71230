// End to end against real Python RPyC 5.3: each Python fixture (fixtures/python-*) is served
// by Python itself (test/interop/python/serve_service_file.py imports the very file rpyc-gen
// compiled) and called through the stub rpyc-gen generated from it (fixtures/python-*/expected).
// The calls compile without casts, so each assertion also checks that the stub types a value
// the way Python RPyC actually sends it.

import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AttributeError, FrozenSet, KeyError, isNetref, kwargs, len } from "../../runtime/index.js";
import { AUDITED_NAMES, connectAudited, connectInventory } from "../../fixtures/python-inheritance/expected/index.js";
import { MY_SERVICE_NAMES, connectMy } from "../../fixtures/python-seed/expected/index.js";
import { SHOP_SERVICE_NAMES, connectShop } from "../../fixtures/python-typed/expected/index.js";
import { startPython, type PythonProcess } from "../helpers/python.js";

const REPO = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
const HOST = "127.0.0.1";

/** Serves `className` from a fixture's Python source with Python RPyC. */
function servePython(source: string, className: string, ...flags: string[]): Promise<PythonProcess> {
  return startPython("serve_service_file.py", [path.join(REPO, "fixtures", source), className, ...flags]);
}

const servers: PythonProcess[] = [];
const connections: { close(): Promise<void> }[] = [];

async function track<C extends { close(): Promise<void> }>(conn: Promise<C>): Promise<C> {
  const opened = await conn;
  connections.push(opened);
  return opened;
}

afterAll(async () => {
  for (const conn of connections.splice(0)) await conn.close();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** Reads every item of an async iterable (a remote container), at most `limit` of them. */
async function collect<T>(items: AsyncIterable<T>, limit = 100): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

describe("python-seed: the tutorial's MyService served by Python, called through its generated stub", () => {
  let port = 0;
  beforeAll(async () => {
    const server = await servePython("python-seed/my_service.py", "MyService");
    servers.push(server);
    port = server.port;
  });

  it("answers 42 and 43 (typed unknown: the source has no hints), its names, and refuses get_question", async () => {
    const conn = await track(connectMy(HOST, port));
    const answer: unknown = await conn.root.get_answer();
    expect(answer).toBe(42);
    expect(await conn.root.the_real_answer_though).toBe(43);
    expect(await conn.root.get_service_name()).toBe("MY");
    expect(await conn.root.get_service_aliases()).toEqual([...MY_SERVICE_NAMES]);
    const untyped = conn.root as unknown as Record<string, () => Promise<unknown>>;
    await expect(untyped["get_question"]!()).rejects.toBeInstanceOf(AttributeError);
    await expect(untyped["get_question"]!()).rejects.toThrow("cannot access 'get_question'");
  });
});

describe("python-typed: ShopService served by Python, called through its generated stub", () => {
  let port = 0;
  let privatePort = 0;
  beforeAll(async () => {
    // Dataclass fields are plain attributes: readable only with allow_public_attrs.
    const open = await servePython("python-typed/shop_service.py", "ShopService", "--public-attrs");
    const strict = await servePython("python-typed/shop_service.py", "ShopService");
    servers.push(open, strict);
    port = open.port;
    privatePort = strict.port;
  });

  it("ALIASES name the service; attributes arrive typed (a 2^70 int as bigint, a @property as boolean)", async () => {
    const { root } = await track(connectShop(HOST, port));
    expect(await root.get_service_name()).toBe("SHOP");
    expect(await root.get_service_aliases()).toEqual([...SHOP_SERVICE_NAMES]);
    expect(await root.currency).toBe("EUR");
    const maxOrder: number | bigint = await root.max_order;
    expect(maxOrder).toBe(2n ** 70n);
    const open: boolean = await root.open;
    expect(open).toBe(true);
  });

  it("ints, big ints, floats, bytes, tuples and None cross by value as typed", async () => {
    const { root } = await track(connectShop(HOST, port));
    const sum: bigint | number = await root.checksum(Uint8Array.of(1, 2));
    expect(sum).toBe(258n * 2n ** 64n + 2n);
    expect(await root.checksum(new Uint8Array())).toBe(0);
    const pair: [number | bigint, string] = await root.pair(7, "seven");
    expect(pair).toEqual([7, "seven"]);
    expect(await root.pair(2n ** 60n, "big")).toEqual([2n ** 60n, "big"]);
    expect(await root.version()).toEqual([1, 2]);
    expect(await root.kind()).toBe("ShopService");
    expect(await root.total([1, 2, 3], 0.5)).toBe(5.5);
    expect(await root.total([])).toBe(0);
    expect(await root.describe()).toBeNull();
    expect(await root.describe(5)).toBe("<5>");
    expect(await root.describe("x")).toBe("<x>");
    expect(await root.log("a", "b")).toBe("0 a b");
    expect(await root.raw(["t", 1])).toEqual(["t", 1]);
    expect(await root.untyped(3)).toBe(6);
    expect(await root.untyped("ab", 3)).toBe("ababab");
  });

  it("frozensets cross by value both ways, typed FrozenSet<T>", async () => {
    const { root } = await track(connectShop(HOST, port));
    const flags: FrozenSet<string> = await root.flags();
    expect(flags).toBeInstanceOf(FrozenSet);
    expect([...flags]).toEqual(["open"]);
    const common: FrozenSet<string> = await root.common(new FrozenSet(["a", "b"]), new FrozenSet(["b", "c"]));
    expect(common).toBeInstanceOf(FrozenSet);
    expect([...common]).toEqual(["b"]);
  });

  it("keyword-only parameters go in a last kwargs({ ... }) through the typed overload", async () => {
    const { root } = await track(connectShop(HOST, port));
    const line: string = await root.log("a", "b", kwargs({ level: 2 }));
    expect(line).toBe("2 a b");
    // **extra takes other names.
    expect(await root.log("a", kwargs({ level: 1, who: "me" }))).toBe("1 a who='me'");
    expect(await root.log(kwargs({}))).toBe("0");
    expect(await collect(await root.search(kwargs({ prefix: "p" })))).toEqual(["pear"]);
    expect(await collect(await root.search(kwargs({ limit: 1 })))).toEqual(["apple"]);
    expect(await collect(await root.search())).toEqual(["apple", "pear"]);
    // A required keyword needs kwargs' values typed (today's kwargs() returns an untyped Kwargs).
    const greeting = kwargs({ greeting: "Hi" });
    expect(await root.greet("Bo", greeting)).toBe("Hi, Bo!");
    expect(await root.greet("Bo", "?", kwargs({ greeting: "Hey", times: 2 }))).toBe("Hey, Bo? Hey, Bo?");
    // Python still checks: without the required keyword it raises TypeError.
    const untyped = root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await expect(untyped["greet"]!("Bo")).rejects.toThrow("greeting");
  });

  it("lists, dicts, TypedDicts and sets arrive as netrefs: len, getitem, contains and iteration work", async () => {
    const { root } = await track(connectShop(HOST, port));
    const names = await root.item_names();
    expect(isNetref(names)).toBe(true);
    expect(await names.__len__()).toBe(2);
    expect(await names.__getitem__(-1)).toBe("pear");
    expect(await names.__contains__("apple")).toBe(true);
    expect(await collect(names)).toEqual(["apple", "pear"]);

    const first: string = await names.__getitem__(0);
    expect(first).toBe("apple");
    expect(await len(names)).toBe(2);

    const prices = await root.prices();
    expect(isNetref(prices)).toBe(true);
    const pear: number = await prices.__getitem__("pear");
    expect(pear).toBe(0.75);
    expect(await prices.__contains__("kiwi")).toBe(false);
    expect((await collect(prices)).sort()).toEqual(["apple", "pear"]);

    const tags = await root.tags();
    expect(await tags.__len__()).toBe(1);
    expect(await tags.__contains__("fruit")).toBe(true);
    const tagList: string[] = await collect(tags);
    expect(tagList).toEqual(["fruit"]);
  });

  it("container items arrive as typed: a nested list is a netref, a big int a bigint, a dict's values netrefs", async () => {
    const { root } = await track(connectShop(HOST, port));
    const crates = await root.crates();
    const inner = await crates.__getitem__(1);
    expect(isNetref(inner)).toBe(true);
    const small: number | bigint = await inner.__getitem__(0);
    expect(small).toBe(3);
    expect(await inner.__getitem__(1)).toBe(2n ** 64n);
    const all: (number | bigint)[][] = [];
    for await (const crate of crates) all.push(await collect(crate));
    expect(all).toEqual([
      [1, 2],
      [3, 2n ** 64n],
    ]);
    // A list netref Python sent goes back to it as the list itself.
    expect(await root.sum_all(await crates.__getitem__(0))).toBe(3);

    const bySize = await root.by_size();
    const sizes: (number | bigint)[] = await collect(bySize);
    expect(sizes).toEqual([1, 2]);
    const two = await bySize.__getitem__(2);
    expect(isNetref(two)).toBe(true);
    expect(await collect(two)).toEqual(["pear", "plum"]);
  });

  it("a TypedDict is a dict netref read by its declared keys; an absent optional key raises KeyError", async () => {
    const { root } = await track(connectShop(HOST, port));
    const stock = await root.stock("apple");
    expect(isNetref(stock)).toBe(true);
    const count: number | bigint = await stock.__getitem__("count");
    expect(count).toBe(3);
    const name: string = await stock.__getitem__("name");
    expect(name).toBe("apple");
    expect(await stock.__len__()).toBe(2);
    const keys: ("name" | "count")[] = await collect(stock);
    expect(keys).toEqual(["name", "count"]);

    const shelf = await root.shelf("apple");
    expect(await shelf.__getitem__("aisle")).toBe(3);
    expect(await shelf.__contains__("row")).toBe(false);
    await expect(shelf.__getitem__("row")).rejects.toBeInstanceOf(KeyError);
    expect(await collect(await shelf.__getitem__("labels"))).toEqual(["apple"]);
    await shelf.__setitem__("row", 7);
    expect(await shelf.__getitem__("row")).toBe(7);
    await shelf.__delitem__("row");
    expect(await shelf.__contains__("row")).toBe(false);

    const delivery = await root.delivery();
    const crates = await delivery.__getitem__("crates");
    expect(await collect(await crates.__getitem__(0))).toEqual([1, 2]);
  });

  it("arguments: an array reaches a list parameter as a tuple, a Map or a dict netref a dict parameter", async () => {
    const { root } = await track(connectShop(HOST, port));
    expect(await root.sum_all([1, 2, 3])).toBe(6);
    expect(await root.sum_all([2n ** 60n, 1])).toBe(2n ** 60n + 1n);
    expect(await root.lookup(new Map([["a", 1]]), "a")).toBe(1);
    expect(await root.lookup(new Map<string, number>(), "a")).toBeNull();
    // A netref goes back to its owner as the original dict.
    expect(await root.lookup(await root.prices(), "apple")).toBe(0.5);
  });

  it("a dataclass instance arrives as a netref whose fields need allow_public_attrs on the server", async () => {
    const { root } = await track(connectShop(HOST, port));
    const item = await root.get_item("apple");
    expect(item).not.toBeNull();
    expect(isNetref(item)).toBe(true);
    const name: string = await item!.name;
    expect(name).toBe("apple");
    expect(await item!.price).toBe(0.5);
    const tags = await item!.tags;
    expect(isNetref(tags)).toBe(true);
    expect(await tags.__getitem__(0)).toBe("fruit");
    expect(await root.get_item("kiwi")).toBeNull();

    const strict = await track(connectShop(HOST, privatePort));
    const hidden = await strict.root.get_item("apple");
    await expect(Promise.resolve(hidden!.name)).rejects.toBeInstanceOf(AttributeError);
  });

  it("a Callable parameter is called back by Python; a Callable result is callable here", async () => {
    const { root } = await track(connectShop(HOST, port));
    const calls: [string, number][] = [];
    const count = await root.watch("pear", (name, price) => {
      calls.push([name, price]);
    });
    expect(count).toBe(1);
    expect(calls).toEqual([["pear", 0.75]]);
    // An async callback is awaited before Python's call returns.
    await root.watch("apple", async (name, price) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      calls.push([name, price]);
    });
    expect(calls).toEqual([
      ["pear", 0.75],
      ["apple", 0.5],
    ]);
    const priceOf = await root.price_of();
    expect(await priceOf("pear")).toBe(0.75);
  });

  it("a member that is not exposed is refused with AttributeError (under RPyC's default config)", async () => {
    const { root } = await track(connectShop(HOST, privatePort));
    const untyped = root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await expect(untyped["restock"]!("apple", 1)).rejects.toBeInstanceOf(AttributeError);
    await expect(untyped["restock"]!("apple", 1)).rejects.toThrow("cannot access 'restock'");
  });
});

describe("python-inheritance: a derived Python service from another file, called through its stub", () => {
  let port = 0;
  let auditedPort = 0;
  beforeAll(async () => {
    const [server, audited] = await Promise.all([
      servePython("python-inheritance/inventory.py", "InventoryService"),
      servePython("python-inheritance/inventory.py", "Audited"),
    ]);
    servers.push(server, audited);
    port = server.port;
    auditedPort = audited.port;
  });

  it("an intermediate class gets its own stub, named as Python RPyC names the class when it is served", async () => {
    const { root } = await track(connectAudited(HOST, auditedPort));
    expect(AUDITED_NAMES).toEqual(["AUDITED"]);
    expect(await root.get_service_name()).toBe(AUDITED_NAMES[0]);
    expect(await root.get_service_aliases()).toEqual([...AUDITED_NAMES]);
    expect(await root.ping()).toBe("pong");
    expect(await root.audit_log()).toEqual([]);
  });

  it("inherited, overridden and added members answer; the audit log is a tuple by value", async () => {
    const { root } = await track(connectInventory(HOST, port));
    expect(await root.get_service_name()).toBe("INVENTORY");
    expect(await root.ping()).toBe("pong");
    expect(await root.version).toBe("1.0");
    expect(await root.describe()).toBe("inventory of 1 item(s)");
    expect(await root.count("apple")).toBe(3);
    expect(await root.restock("apple")).toBe(4);
    expect(await root.restock("pear", 2)).toBe(2);
    const log: string[] = await root.audit_log();
    expect(log).toEqual(["count apple", "restock apple 1", "restock pear 2"]);
    const untyped = root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    await expect(untyped["audit"]!("x")).rejects.toBeInstanceOf(AttributeError);
  });
});
