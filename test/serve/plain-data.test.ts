// A plain-data object (an object literal) sent by reference is a read-only dict of its own
// data fields, as RPyC's peers read a dict: indexing, len, `in`, iteration over the keys.
// Its functions, getters, prototype and absent fields stay unreachable, and it cannot be
// written, under the default config.

import { afterEach, describe, expect, it } from "vitest";
import { isNetref, Service, type Connection, type RemoteData } from "../../runtime/index.js";
import { connectTo, serve } from "../helpers/servers.js";

let secretReads = 0;

class DataService extends Service {
  exposed_person(): object {
    return {
      name: "Ada",
      age: 36,
      tags: ["math"],
      nickname: undefined,
      greet: () => "hello",
      get secret() {
        secretReads++;
        return "hidden";
      },
      nested: { city: "London" },
    };
  }
  exposed_bare(): object {
    const bare = Object.create(null) as Record<string, unknown>;
    bare["k"] = 1;
    return bare;
  }
}

const opened: Connection[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((conn) => conn.close()));
});

async function person(): Promise<RemoteData<Record<string, unknown>>> {
  const server = await serve(DataService);
  const conn = await connectTo(server.port);
  opened.push(conn);
  const root = conn.root as unknown as Record<string, () => Promise<unknown>>;
  const value = await root["person"]!();
  expect(isNetref(value)).toBe(true);
  return value as RemoteData<Record<string, unknown>>;
}

describe("a plain-data object held by the peer", () => {
  it("reads as a dict of its data fields", async () => {
    const p = await person();
    expect(await p.__getitem__("name")).toBe("Ada");
    expect(await p.__getitem__("tags")).toEqual(["math"]);
    expect(await p.__len__()).toBe(4); // name, age, tags, nested: not the undefined nickname, the function or the getter
  });

  it("counts and iterates only data fields: not undefined ones, functions or getters", async () => {
    const p = await person();
    const keys: string[] = [];
    for await (const key of p) keys.push(key);
    expect(keys).toEqual(["name", "age", "tags", "nested"]);
    expect(await p.__contains__("name")).toBe(true);
    for (const hidden of ["nickname", "greet", "secret", "__proto__", "constructor", "toString", "missing"]) {
      expect(await p.__contains__(hidden)).toBe(false);
      await expect(p.__getitem__(hidden)).rejects.toMatchObject({ name: "KeyError" });
    }
    expect(secretReads).toBe(0);
  });

  it("its nested plain data is a dict again", async () => {
    const nested = (await (await person()).__getitem__("nested")) as RemoteData<{ city: string }>;
    expect(isNetref(nested)).toBe(true);
    expect(await nested.__getitem__("city")).toBe("London");
  });

  it("is read-only, and its fields are not attributes", async () => {
    const p = (await person()) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>> & { name: PromiseLike<unknown> };
    await expect(p["__setitem__"]!("name", "Eve")).rejects.toMatchObject({ name: "AttributeError" });
    await expect(p["__delitem__"]!("name")).rejects.toMatchObject({ name: "AttributeError" });
    await expect(Promise.resolve(p.name)).rejects.toMatchObject({ name: "AttributeError" });
  });

  it("an Object.create(null) record reads the same way", async () => {
    const server = await serve(DataService);
    const conn = await connectTo(server.port);
    opened.push(conn);
    const bare = (await (conn.root as unknown as Record<string, () => Promise<unknown>>)["bare"]!()) as RemoteData<{ k: number }>;
    expect(await bare.__getitem__("k")).toBe(1);
    expect(await bare.__len__()).toBe(1);
  });
});
