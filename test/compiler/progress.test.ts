// The progress bar rpyc-gen shows on large inputs: only in a terminal, only from 20 services.

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress } from "../../compiler/cli/progress.js";

function terminal(): PassThrough & { text: string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100, text: "", cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  stream.on("data", (chunk: Buffer) => (stream.text += chunk.toString()));
  return stream;
}

describe("createProgress", () => {
  it("draws a bar per phase in a terminal for large inputs", () => {
    const stream = terminal();
    const progress = createProgress({ interactive: true }, stream);
    for (let i = 1; i <= 40; i++) progress.update("extracting", i, 40);
    for (let i = 1; i <= 40; i++) progress.update("emitting", i, 40);
    progress.finish();
    expect(stream.text).toContain("rpyc-gen extracting");
    expect(stream.text).toContain("rpyc-gen emitting");
    expect(stream.text).toMatch(/\d+\/40 services/);
  });

  it("stays silent outside a terminal and for small inputs", () => {
    const quiet = terminal();
    const notTty = createProgress({ interactive: false }, quiet);
    for (let i = 1; i <= 40; i++) notTty.update("extracting", i, 40);
    notTty.finish();
    const small = createProgress({ interactive: true }, quiet);
    for (let i = 1; i <= 5; i++) small.update("extracting", i, 5);
    small.finish();
    expect(quiet.text).toBe("");
  });
});
