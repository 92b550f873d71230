// The serving side's attribute rules (RPyC's _check_attr/_access_attr) on in-memory objects,
// plus the JavaScript-only rule: the language's own machinery is never reachable.

import { describe, expect, it } from "vitest";
import { accessAttribute, checkAttribute, FORBIDDEN_NAMES } from "../../runtime/serve/access.js";
import { DEFAULT_CONFIG, type ProtocolConfig } from "../../runtime/connection/config.js";
import { AttributeError, Service } from "../../runtime/index.js";

const config = (overrides: Partial<ProtocolConfig> = {}): ProtocolConfig => ({ ...DEFAULT_CONFIG, ...overrides });

class Sample extends Service {
  exposed_answer = 42;
  plain = "plain";
  _private = "private";
  exposed_method(): string {
    return "exposed";
  }
  method(): string {
    return "public";
  }
  // Both names exist: the plain one wins when it is itself allowed (RPyC's rule).
  both = "plain twin";
  exposed_both = "exposed twin";
}

describe("checkAttribute (RPyC's _check_attr)", () => {
  const obj = new Sample();

  it("maps a bare name to its exposed_ twin", () => {
    expect(checkAttribute(obj, "answer", "allow_getattr", config())).toBe("exposed_answer");
    expect(checkAttribute(obj, "exposed_answer", "allow_getattr", config())).toBe("exposed_answer");
  });

  it("refuses public names unless allow_public_attrs", () => {
    expect(() => checkAttribute(obj, "plain", "allow_getattr", config())).toThrow("cannot access 'plain'");
    expect(checkAttribute(obj, "plain", "allow_getattr", config({ allow_public_attrs: true }))).toBe("plain");
    expect(() => checkAttribute(obj, "_private", "allow_getattr", config({ allow_public_attrs: true }))).toThrow("cannot access '_private'");
    expect(checkAttribute(obj, "_private", "allow_getattr", config({ allow_all_attrs: true }))).toBe("_private");
  });

  it("prefers the plain name when it is allowed and exists, else the exposed twin", () => {
    expect(checkAttribute(obj, "both", "allow_getattr", config())).toBe("exposed_both");
    expect(checkAttribute(obj, "both", "allow_getattr", config({ allow_public_attrs: true }))).toBe("both");
  });

  it("allows safe dunders on any object, unless allow_safe_attrs is off", () => {
    expect(checkAttribute(new Map(), "__len__", "allow_getattr", config())).toBe("__len__");
    expect(() => checkAttribute(new Map(), "__len__", "allow_getattr", config({ allow_safe_attrs: false }))).toThrow(AttributeError);
  });

  it("ignores the exposed_ prefix when allow_exposed_attrs is off", () => {
    expect(() => checkAttribute(obj, "answer", "allow_getattr", config({ allow_exposed_attrs: false }))).toThrow("cannot access 'answer'");
  });

  it("honours a custom exposed_prefix", () => {
    const custom = { remote_x: 1 };
    expect(checkAttribute(custom, "x", "allow_getattr", config({ exposed_prefix: "remote_" }))).toBe("remote_x");
  });

  it("uses the master switches for get, set and delete", () => {
    expect(() => checkAttribute(obj, "answer", "allow_getattr", config({ allow_getattr: false }))).toThrow(AttributeError);
    expect(() => checkAttribute(obj, "answer", "allow_setattr", config())).toThrow(AttributeError);
    expect(checkAttribute(obj, "answer", "allow_setattr", config({ allow_setattr: true }))).toBe("exposed_answer");
    expect(() => checkAttribute(obj, "answer", "allow_delattr", config())).toThrow(AttributeError);
  });

  it("quotes the name the way Python's repr does", () => {
    expect(() => checkAttribute(obj, "it's", "allow_getattr", config())).toThrow(`cannot access "it's"`);
  });
});

describe("accessAttribute (RPyC's _access_attr)", () => {
  it("binds methods to their object", () => {
    const method = accessAttribute(new Sample(), "method", "allow_getattr", config({ allow_public_attrs: true })) as () => string;
    expect(method()).toBe("public");
  });

  it("lets an _rpyc_getattr overrider decide alone", () => {
    const seen: string[] = [];
    const obj = {
      _rpyc_getattr(name: string): string {
        seen.push(name);
        return `virtual ${name}`;
      },
    };
    expect(accessAttribute(obj, "anything", "allow_getattr", config())).toBe("virtual anything");
    expect(seen).toEqual(["anything"]);
  });

  it("refuses attribute writes and deletes on a Service whatever the config", () => {
    const all = config({ allow_setattr: true, allow_delattr: true, allow_all_attrs: true });
    expect(() => accessAttribute(new Sample(), "plain", "allow_setattr", all, 1)).toThrow("access denied");
    expect(() => accessAttribute(new Sample(), "plain", "allow_delattr", all)).toThrow("access denied");
  });

  it("decodes bytes names and refuses other types", () => {
    expect(accessAttribute(new Sample(), new TextEncoder().encode("answer"), "allow_getattr", config())).toBe(42);
    expect(() => accessAttribute(new Sample(), 5, "allow_getattr", config())).toThrow("name must be a string");
  });

  it("reports a missing allowed name as Python's no-attribute error", () => {
    expect(() => accessAttribute({}, "missing", "allow_getattr", config({ allow_public_attrs: true }))).toThrow("'Object' object has no attribute 'missing'");
  });
});

describe("JavaScript internals are never reachable", () => {
  const everything = config({ allow_all_attrs: true, allow_public_attrs: true, allow_setattr: true, allow_delattr: true });
  const targets: [string, object][] = [
    ["a service", new Sample()],
    ["a plain object", { exposed_x: 1 }],
    ["a function", function named(): void {}],
    ["a class", Sample],
    ["a null-prototype object", Object.create(null) as object],
  ];
  const inherited = [
    "toString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "__defineGetter__",
    "__lookupGetter__",
    "call",
    "apply",
    "bind",
    "toLocaleString",
  ];

  for (const [label, target] of targets) {
    it(`refuses ${[...FORBIDDEN_NAMES].join(", ")} and Object/Function prototype members on ${label}`, () => {
      for (const name of [...FORBIDDEN_NAMES, ...inherited]) {
        expect(() => accessAttribute(target, name, "allow_getattr", everything), name).toThrow(AttributeError);
      }
    });
  }

  it("cannot pollute prototypes through setattr", () => {
    const target: Record<string, unknown> = {};
    expect(() => accessAttribute(target, "__proto__", "allow_setattr", everything, { polluted: true })).toThrow(AttributeError);
    expect(() => accessAttribute(target, "constructor", "allow_setattr", everything, { prototype: { polluted: true } })).toThrow(AttributeError);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
  });

  it("still reaches a class's own toString when the class defines one and the config allows it", () => {
    class Custom {
      toString(): string {
        return "custom";
      }
    }
    const method = accessAttribute(new Custom(), "toString", "allow_getattr", everything) as () => string;
    expect(method()).toBe("custom");
    expect(() => accessAttribute(new Custom(), "toString", "allow_getattr", config())).toThrow("cannot access 'toString'");
  });
});

describe("JavaScript internals of other realms", () => {
  it("treats a node:vm context's Object.prototype and Function.prototype as off-limits too", async () => {
    const { runInNewContext } = await import("node:vm");
    const foreign = runInNewContext("({ own: 1, method() { return 2; } })") as object;
    const foreignFn = runInNewContext("(function f() {})") as object;
    const everything = config({ allow_all_attrs: true });
    expect(accessAttribute(foreign, "own", "allow_getattr", everything)).toBe(1);
    for (const name of ["toString", "hasOwnProperty", "__defineGetter__", "valueOf"]) {
      expect(() => accessAttribute(foreign, name, "allow_getattr", everything), name).toThrow(AttributeError);
    }
    for (const name of ["call", "apply", "bind", "toString"]) {
      expect(() => accessAttribute(foreignFn, name, "allow_getattr", everything), name).toThrow(AttributeError);
    }
  });
});
