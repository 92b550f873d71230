// The gateway reads rpyc-gen's model.json itself (the runtime never imports the compiler):
// what it keeps, and the file it refuses, naming where.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ModelError, readGatewayModel } from "../../runtime/gateway/index.js";

const LIBRARY: unknown = JSON.parse(readFileSync(new URL("../../examples/python/generated/model.json", import.meta.url), "utf8"));

/** The library model with one method replaced by `method`. */
function withMethod(method: unknown): unknown {
  const model = structuredClone(LIBRARY) as { services: { methods: unknown[] }[] };
  model.services[0]!.methods = [method];
  return model;
}

const method = (name: string, returns: unknown = { kind: "string" }) => ({ name, member: `exposed_${name}`, params: [], returns });

describe("readGatewayModel", () => {
  it("keeps each service's schema (Python origin, keyword-only parameters as named ones) and the named types", () => {
    const model = readGatewayModel(LIBRARY);
    const library = model.services[0]!;
    expect(library.schema.className).toBe("LibraryService");
    expect(library.schema.origin).toBe("python");
    expect(Object.keys(library.schema.methods).sort()).toEqual(["count", "find", "fingerprint", "give_back", "lend", "search", "titles", "watch", "year_span"]);
    expect(library.schema.methods["lend"]!.params.map((p) => p.name)).toEqual(["isbn", "reader", "on_due"]);
    expect(library.positional["lend"]).toBe(3);
    expect(model.types["Book"]).toMatchObject({ kind: "object", fields: [{ name: "isbn" }, { name: "title" }, { name: "year" }] });
    const keywords = readGatewayModel(
      withMethod({
        ...method("tag"),
        params: [{ name: "a", type: { kind: "string" }, optional: false, rest: false }],
        keywordOnly: [{ name: "b", type: { kind: "number" }, optional: true, rest: false }],
      }),
    );
    expect(keywords.services[0]!.schema.methods["tag"]!.params.map((p) => p.name)).toEqual(["a", "b"]);
    expect(keywords.services[0]!.positional["tag"]).toBe(1);
  });

  it.each([
    ["not an object", 42, /model \(top level\): expected an object/],
    ["another version", { version: 2, services: [], types: [] }, /model version: expected 1/],
    ["no service", { version: 1, services: [], types: [] }, /model services: the model has no service/],
    ["an unknown kind", withMethod(method("x", { kind: "pointer" })), /services\[0\]\.methods\[0\]\.returns\.kind: unknown kind "pointer"/],
    ["a JavaScript name", withMethod(method("__proto__")), /methods\[0\]\.name: "__proto__" cannot be a member served through the gateway/],
    ["constructor", withMethod(method("constructor")), /"constructor" cannot be a member/],
    ["a lifecycle hook", withMethod(method("on_connect")), /"on_connect" cannot be a member/],
    ["a name that is not an identifier", withMethod(method("a.b")), /"a\.b" cannot be a member/],
    [
      "nesting past 64 levels",
      withMethod(method("deep", JSON.parse(`${'{"kind":"array","element":'.repeat(80)}{"kind":"string"}${"}".repeat(80)}`))),
      /nested deeper than 64/,
    ],
  ])("refuses %s, naming where", (_what, json, message) => {
    expect(() => readGatewayModel(json)).toThrow(ModelError);
    expect(() => readGatewayModel(json)).toThrow(message);
  });
});
