// The watch-mode emitter: same bytes as emitAll, without rendering unchanged services again.

import { describe, expect, it } from "vitest";
import { createEmitter, emitAll } from "../../compiler/emit.js";
import type { ServiceModel } from "../../compiler/model.js";
import { FULL_MODEL, T } from "./emit-fixtures/models.js";

const options = { root: "/p", outDir: "out" };

describe("createEmitter", () => {
  it("produces exactly emitAll's files, and reuses a service's files while nothing it depends on changed", () => {
    const emit = createEmitter();
    const first = emit(FULL_MODEL, options);
    expect(first).toEqual(emitAll(FULL_MODEL, options));

    // A typical edit: one service gets a new method with plain types.
    const [changed, ...rest] = FULL_MODEL.services;
    const extra = { ...changed!.methods[0]!, name: "extra", member: "exposed_extra", params: [], returns: T.number, doc: "A new method." };
    const edited: ServiceModel = {
      ...FULL_MODEL,
      services: [{ ...changed!, methods: [...changed!.methods, extra].sort((a, b) => (a.name < b.name ? -1 : 1)) }, ...rest],
    };
    const second = emit(edited, options);
    expect(second).toEqual(emitAll(edited, options));
    const byPath = (files: typeof first) => new Map(files.map((f) => [f.path, f]));
    const before = byPath(first);
    const after = byPath(second);
    for (const service of rest) {
      const stem = service.className.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
      // The very same objects: not rendered again.
      expect(after.get(`${stem}.client.ts`)).toBe(before.get(`${stem}.client.ts`));
      expect(after.get(`${stem}.dispatch.ts`)).toBe(before.get(`${stem}.dispatch.ts`));
    }
    const changedStem = changed!.className.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
    expect(after.get(`${changedStem}.client.ts`)).not.toBe(before.get(`${changedStem}.client.ts`));
  });

  it("renders everything again when the shared types or the options change", () => {
    const emit = createEmitter();
    const first = emit(FULL_MODEL, options);
    const second = emit(FULL_MODEL, { ...options, runtimeImport: "@vendor/rpyc" });
    expect(second).toEqual(emitAll(FULL_MODEL, { ...options, runtimeImport: "@vendor/rpyc" }));
    expect(second.find((f) => f.path.endsWith(".client.ts"))).not.toBe(first.find((f) => f.path.endsWith(".client.ts")));
  });
});
