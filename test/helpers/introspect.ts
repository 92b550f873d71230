// Shared by the introspection tests: scratch directories, a captured CliIO, the shapes live
// members take in a model, and rpyc-gen --introspect runs. Scratch directories go when the file ends.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect } from "vitest";
import { EXIT } from "../../compiler/cli/index.js";
import { runIntrospect } from "../../compiler/cli/introspect.js";
import { isIntrospectError, type IntrospectErrorCode } from "../../compiler/introspect.js";
import type { AttributeDef, MethodDef, ServiceDef, ServiceModel } from "../../compiler/model.js";
import { captureIO as capture, type CapturedIO } from "./cli-io.js";

export const REPO = path.resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** The seed fixture's checked-in stub, generated from TypeScript with --emit-model. */
export const SEED_STUB = path.join(REPO, "fixtures", "seed", "expected");

const scratchDirs: string[] = [];
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new directory under the OS tmpdir (outside the tsconfig), removed after the file. */
export function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "rpyc-introspect-"));
  scratchDirs.push(dir);
  return dir;
}

export { capture, type CapturedIO };

/** What a live method looks like in the model: one rest parameter of unknown, unknown result. */
export function liveMethod(where: string, className: string, name: string, doc?: string): MethodDef {
  return {
    name,
    member: `exposed_${name}`,
    params: [{ name: "args", type: { kind: "array", element: { kind: "unknown" } }, optional: false, rest: true }],
    returns: { kind: "unknown" },
    async: false,
    declaredIn: className,
    location: { file: where, line: 1, column: 1 },
    ...(doc === undefined ? {} : { doc }),
  };
}

export function liveAttribute(where: string, className: string, name: string): AttributeDef {
  return {
    name,
    member: `exposed_${name}`,
    type: { kind: "unknown" },
    readonly: true,
    kind: "property",
    declaredIn: className,
    location: { file: where, line: 1, column: 1 },
  };
}

export function only(model: ServiceModel): ServiceDef {
  expect(model.services).toHaveLength(1);
  return model.services[0]!;
}

export async function expectIntrospectError(promise: Promise<unknown>, code: IntrospectErrorCode): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isIntrospectError(err), `expected an IntrospectError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  return err as Error;
}

/** rpyc-gen --introspect ADDRESS -o (new scratch dir)/out; expects exit 0. */
export async function generateStub(address: string): Promise<{ out: string; io: CapturedIO }> {
  const out = path.join(scratch(), "out");
  const io = capture();
  const code = await runIntrospect({ address, outDir: out, check: false }, io);
  expect(code, io.err).toBe(EXIT.OK);
  return { out, io };
}

/** rpyc-gen --check --introspect ADDRESS -o outDir. */
export async function checkStub(address: string, outDir: string): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await runIntrospect({ address, outDir, check: true }, io);
  return { code, out: io.out, err: io.err };
}
