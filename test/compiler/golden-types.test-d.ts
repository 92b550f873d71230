// Type tests on the checked-in golden stubs (fixtures/*/expected): what `conn.root.x()`
// resolves to for a user of the generated client, and which mistakes are compile errors.
// Checked by `tsc --noEmit -p .` (part of `npm test`), never executed: each
// `@ts-expect-error` line fails the type check if it compiles.

import { describe, expectTypeOf, it } from "vitest";
import { type CompiledRemote, connect, type Connection, type NetrefBase, type Remote, type RemoteAttribute, type RemoteValue } from "../../runtime/index.js";

import { connectFloop, type FloopRemote } from "../../fixtures/aliases/expected/index.js";
import type { FloopService as RealFloopService } from "../../fixtures/aliases/floop-service.js";
import type { CallbackService as RealCallbackService } from "../../fixtures/callbacks/callback-service.js";
import type { CallbackRemote, CounterRemote } from "../../fixtures/callbacks/expected/index.js";
import type { BaseRemote, InventoryRemote } from "../../fixtures/inheritance/expected/index.js";
import type { BaseService as RealBaseService } from "../../fixtures/inheritance/base-service.js";
import type { InventoryService as RealInventoryService } from "../../fixtures/inheritance/inventory-service.js";
import { type Color, connectGeo, type GeoRemote, type Point } from "../../fixtures/package/expected/dist/index.js";
import type { DirectoryService as RealDirectoryService } from "../../fixtures/rich-types/directory-service.js";
import {
  Priority,
  type Role,
  type Address,
  type Attachment,
  type DirectoryRemote,
  type Page_User,
  type ParsedPath,
  type SearchResult,
  type Status,
  type Ticket,
  type User,
} from "../../fixtures/rich-types/expected/index.js";
import { connectMy, type MyRemote, type MyService as MyShape } from "../../fixtures/seed/expected/index.js";
import type { MyService } from "../../fixtures/seed/my-service.js";

/**
 * The stub's XxxRemote interface and the runtime's mapped Remote<Xxx> have the same members
 * (each extends the other); an interface and a mapped type are never *identical* types.
 */
function expectSameMembers<A, B>(
  ..._proof: [A] extends [B] ? ([B] extends [A] ? [] : ["the second has members the first lacks"]) : ["the first has members the second lacks"]
): void {}

declare const my: MyRemote;
declare const floop: FloopRemote;
declare const cb: CallbackRemote;
declare const dir: DirectoryRemote;
declare const inv: InventoryRemote;
declare const geo: GeoRemote;
declare const someUser: User;
const someTicket: Ticket = { id: 1, title: "t", priority: Priority.Low, assignee: null, labels: [], watchers: new Map() };

describe("seed: MyService's stub", () => {
  it("MyRemote has the members of Remote<MyService> of the real class, which connect<MyService>() gives", async () => {
    expectSameMembers<CompiledRemote<MyService>, MyRemote>();
    const viaConnect = await connect<MyService>("127.0.0.1", 18861);
    expectTypeOf(viaConnect.root).toEqualTypeOf<Remote<MyService>>();
    const viaStub = await connectMy("127.0.0.1", 18861);
    expectTypeOf(viaStub).toEqualTypeOf<Connection<MyRemote>>();
    expectTypeOf(viaStub.root).toEqualTypeOf<MyRemote>();
    expectSameMembers<CompiledRemote<MyShape>, MyRemote>();
  });

  it("types results and attributes", async () => {
    expectTypeOf(await my.get_answer()).toEqualTypeOf<number>();
    expectTypeOf(my.the_real_answer_though).toEqualTypeOf<RemoteAttribute<number>>();
    expectTypeOf(await my.the_real_answer_though).toEqualTypeOf<number>();
    expectTypeOf(await my.get_service_name()).toEqualTypeOf<string>();
    expectTypeOf(await my.get_service_aliases()).toEqualTypeOf<string[]>();
  });

  it("rejects what the service does not expose, misspellings, extra arguments and wrong result types", async () => {
    // @ts-expect-error get_question is not exposed
    void my.get_question();
    // @ts-expect-error the prefixed name is not part of the remote surface
    void my.exposed_get_answer();
    // @ts-expect-error misspelled attribute
    void my.the_real_answer_thogh;
    // @ts-expect-error get_answer takes no arguments
    void my.get_answer(1);
    // @ts-expect-error the result is a number
    const answer: string = await my.get_answer();
    void answer;
  });
});

describe("aliases: FloopService's stub", () => {
  it("equals Remote<FloopService> and exports the names as a literal tuple", async () => {
    expectSameMembers<CompiledRemote<RealFloopService>, FloopRemote>();
    expectTypeOf(await floop.floop(2)).toEqualTypeOf<string>();
    const conn = await connectFloop("127.0.0.1", 18861);
    expectTypeOf(await conn.root.floops).toEqualTypeOf<number>();
  });

  it("rejects a wrong argument type and a missing argument", () => {
    // @ts-expect-error times is a number
    void floop.floop("twice");
    // @ts-expect-error times is required
    void floop.floop();
  });
});

describe("callbacks: CallbackService's stub", () => {
  it("matches Remote<CallbackService> of the real class member by member", () => {
    type Real = CompiledRemote<RealCallbackService>;
    expectTypeOf<keyof Real>().toEqualTypeOf<keyof CallbackRemote>();
    expectSameMembers<Real["apply"], CallbackRemote["apply"]>();
    expectSameMembers<Real["each"], CallbackRemote["each"]>();
    expectSameMembers<Real["make_adder"], CallbackRemote["make_adder"]>();
    expectSameMembers<Real["counter"], CallbackRemote["counter"]>();
    // read() declares a CounterService parameter: the real class (with its non-exposed `step`)
    // there, the stub's CounterService interface here, so the two signatures differ.
    expectTypeOf<Real["read"]>().not.toEqualTypeOf<CallbackRemote["read"]>();
  });

  it("a result that is a compiled service's netref is pipelinable: its members before it resolves", () => {
    // One round trip between rpyc-ts peers on the native codec; awaited first with a Python peer.
    expectTypeOf(cb.counter(1).increment()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cb.counter(1).value).toEqualTypeOf<RemoteAttribute<number>>();
    expectTypeOf(cb.counter(1)).toMatchTypeOf<Promise<CounterRemote>>();
    // @ts-expect-error a plain result offers nothing before it resolves
    void cb.apply((x) => x, 1).toFixed;
    // @ts-expect-error members the counter does not expose are absent from the pipeline too
    void cb.counter(1).step;
  });

  it("takes local callbacks, returns remote functions and typed service netrefs", async () => {
    expectTypeOf(await cb.apply((x) => x * 2, 1)).toEqualTypeOf<number>();
    expectTypeOf(await cb.apply(async (x) => x * 2, 1)).toEqualTypeOf<number>();
    const add = await cb.make_adder(1);
    expectTypeOf(await add(2)).toEqualTypeOf<number>();
    const counter = await cb.counter(0);
    expectTypeOf(counter).toEqualTypeOf<CounterRemote>();
    expectTypeOf(await counter.increment()).toEqualTypeOf<number>();
    expectTypeOf(await counter.value).toEqualTypeOf<number>();
  });

  it("a netref can be passed back where the service declares the service's class", async () => {
    const counter = await cb.counter(0);
    expectTypeOf(cb.read).toBeCallableWith(counter);
  });

  it("rejects a callback of the wrong type and members the counter does not expose", async () => {
    // @ts-expect-error fn takes a number
    void cb.apply((x: string) => x.length, 1);
    // @ts-expect-error fn must be a function
    void cb.apply(5, 1);
    const counter = await cb.counter(0);
    // @ts-expect-error step is not exposed
    void counter.step;
    // @ts-expect-error read() takes a counter netref, not a number
    void cb.read(1);
  });
});

describe("rich-types: DirectoryService's stub", () => {
  it("results come back as the declared types: interfaces, enums, Date, Map, Record, Uint8Array, bigint, tuples", async () => {
    expectTypeOf(await dir.attach("/a.txt", new Uint8Array(1))).toEqualTypeOf<Attachment>();
    expectTypeOf((await dir.attach("/a.txt", new Uint8Array(1))).path).toEqualTypeOf<ParsedPath>();
    expectTypeOf(await dir.shift(new Date(), 1)).toEqualTypeOf<Date>();
    expectTypeOf(await dir.checksum(new Uint8Array(1))).toEqualTypeOf<bigint>();
    expectTypeOf(await dir.distance([1, 2])).toEqualTypeOf<number>();
    expectTypeOf(await dir.word_counts({ a: "b" })).toEqualTypeOf<Record<string, number>>();
    expectTypeOf(await dir.role_counts).toEqualTypeOf<Map<Role, number>>();
    expectTypeOf(await dir.status).toEqualTypeOf<Status>();
    expectTypeOf(await dir.version).toEqualTypeOf<string>();

    const user = (await dir.get_user("u-1"))!;
    expectTypeOf(user.id).toEqualTypeOf<string>();
    expectTypeOf(user.name).toEqualTypeOf<string>();
    expectTypeOf(user.roles).toEqualTypeOf<Role[]>();
    expectTypeOf(user.address.country).toEqualTypeOf<"DE" | "FR" | "US">();
    expectTypeOf(user.joined).toEqualTypeOf<Date>();
    expectTypeOf(user.tags).toEqualTypeOf<Record<string, string>>();
    expectTypeOf(user.balance).toEqualTypeOf<bigint>();

    const ticket = await dir.escalate(someTicket, Priority.High);
    expectTypeOf(ticket.priority).toEqualTypeOf<Priority>();
    expectTypeOf(ticket.labels).toEqualTypeOf<string[]>();
    expectTypeOf(ticket.watchers).toEqualTypeOf<Map<string, Role>>();
    expectTypeOf(ticket.id).toEqualTypeOf<number>();

    const page = await dir.list_users(10);
    expectTypeOf(page.total).toEqualTypeOf<number>();
    expectTypeOf(page.items[0]!.joined).toEqualTypeOf<Date>();
    const found = await dir.search("Ada");
    if (found.kind === "user") expectTypeOf(found.user.balance).toEqualTypeOf<bigint>();
    else expectTypeOf(found.query).toEqualTypeOf<string>();
  });

  it("optional fields of results stay optional (absent, never null), so a User result is a User", async () => {
    const user = (await dir.get_user("u-1"))!;
    expectTypeOf(user.email).toEqualTypeOf<string | undefined>();
    const asUser: User = user;
    const asAddress: Address = await dir.relocate({ street: "s", city: "c", country: "DE" }, "Paris");
    const asPage: Page_User = await dir.list_users(10);
    const asTicket: Ticket = await dir.escalate(someTicket);
    const asResult: SearchResult = await dir.search("Ada");
    void [asUser, asAddress, asPage, asTicket, asResult];
  });

  it("has Remote<DirectoryService>'s members; plain data comes by value here, by reference through the class form", () => {
    // The stub is the compiled pairing (its schema decodes plain data); Remote<> is what a
    // client without the schema gets (README: "How values travel"). Members that carry only
    // scalars agree; members with plain data differ exactly there.
    type Real = Remote<RealDirectoryService>;
    expectTypeOf<keyof Real>().toEqualTypeOf<keyof DirectoryRemote>();
    expectTypeOf<Real["distance"]>().toEqualTypeOf<DirectoryRemote["distance"]>();
    expectTypeOf<Real["status"]>().toEqualTypeOf<DirectoryRemote["status"]>();
    expectTypeOf<Awaited<ReturnType<DirectoryRemote["shift"]>>>().toEqualTypeOf<Date>();
    expectTypeOf<Awaited<ReturnType<Real["shift"]>>>().toEqualTypeOf<NetrefBase>();
    expectTypeOf<Awaited<ReturnType<DirectoryRemote["relocate"]>>>().toEqualTypeOf<Address>();
    expectTypeOf<Awaited<ReturnType<Real["relocate"]>>>().toEqualTypeOf<RemoteValue<Address>>();
    expectTypeOf<RemoteValue<Address>["__getitem__"]>().parameter(0).toEqualTypeOf<"street" | "city" | "country" | "zip">();
    expectTypeOf<Real["get_user"]>().not.toEqualTypeOf<DirectoryRemote["get_user"]>();
  });

  it("rejects wrong arguments, missing fields and wrong enum values", () => {
    // @ts-expect-error id is a string
    void dir.get_user(1);
    // @ts-expect-error days is required
    void dir.shift(new Date());
    // @ts-expect-error a Date is declared, not a string
    void dir.shift("2024-01-01", 1);
    // @ts-expect-error country is one of "DE" | "FR" | "US"
    void dir.relocate({ street: "s", city: "c", country: "UK" }, "Paris");
    // @ts-expect-error city is missing
    void dir.relocate({ street: "s", country: "DE" }, "Paris");
    // @ts-expect-error a string is not a Role (string enums are nominal)
    void dir.put_user({ ...someUser, roles: ["admin"] });
    // @ts-expect-error joined is a Date
    void dir.put_user({ ...someUser, joined: "2024-01-01" });
    // @ts-expect-error the tuple needs at least two numbers
    void dir.distance([1]);
    // @ts-expect-error the data is bytes
    void dir.checksum([1, 2]);
    // @ts-expect-error users is private, not exposed
    void dir.users;
  });
});

describe("inheritance: InventoryService's stub", () => {
  it("equals Remote<InventoryService>: inherited, overridden, abstract-implemented and added members", async () => {
    expectSameMembers<CompiledRemote<RealInventoryService>, InventoryRemote>();
    expectSameMembers<CompiledRemote<RealBaseService>, BaseRemote>();
    expectTypeOf(await inv.ping()).toEqualTypeOf<string>();
    expectTypeOf(await inv.audit_log()).toEqualTypeOf<string[]>();
    expectTypeOf(await inv.restock("apple")).toEqualTypeOf<number>();
    expectTypeOf(await inv.version).toEqualTypeOf<string>();
  });

  it("rejects private and protected state and a wrong optional argument", () => {
    // @ts-expect-error stock is private
    void inv.stock;
    // @ts-expect-error entries is protected
    void inv.entries;
    // @ts-expect-error quantity is a number
    void inv.restock("apple", "2");
  });
});

describe("package: the SDK's dist/*.d.ts", () => {
  it("types the connect helper, results and enums for a consumer", async () => {
    const conn = await connectGeo("127.0.0.1", 18861);
    expectTypeOf(conn.root).toEqualTypeOf<GeoRemote>();
    expectTypeOf((await geo.move({ x: 1, y: 2 }, 3)).x).toEqualTypeOf<number>();
    expectTypeOf(await geo.distance({ x: 1, y: 2 }, { x: 2, y: 2 } satisfies Point)).toEqualTypeOf<number>();
    expectTypeOf(await geo.palette).toEqualTypeOf<Color[]>();
    // @ts-expect-error dx is required
    void geo.move({ x: 1, y: 2 });
    // @ts-expect-error y is missing
    void geo.distance({ x: 1 }, { x: 2, y: 2 });
  });
});
