// Fuzzes the two decoders of untrusted bytes directly: brine's `load` with over a million
// inputs, and FrameDecoder with tens of thousands of byte streams fed in random chunks.
// Every input must give a value or the documented error, quickly; see decoders.ts.
// Replay a failure with the printed seed: RPYC_FUZZ_SEED=0x... npx vitest run test/fuzz

import { describe, expect, it } from "vitest";
import {
  BRINE_DECODERS,
  BRINE_VARIANTS,
  checkBrineInput,
  confirmedOverrun,
  FRAME_DECODERS,
  fuzzBrine,
  fuzzFrames,
  largeBrineInputs,
  loadBudgetMs,
  withoutStacks,
  type BrineFuzzStats,
} from "./decoders.js";
import { DEFAULT_BRINE_LIMITS, ProtocolError } from "../../runtime/index.js";
import { fuzzScale, fuzzSeed, seedHex } from "./seed.js";

const seed = fuzzSeed();
const scale = fuzzScale();
/** Brine inputs per decoder: generated inputs times (1 + their one-byte variants). */
const BRINE_INPUTS = Math.ceil(1_000_000 * scale);
const FRAME_STREAMS = Math.ceil(20_000 * scale);
/** Generated inputs per slice (each slice is one bounded, timed loop). */
const SLICE = 25_000;

describe.each(BRINE_DECODERS)("fuzz $name", (decoder) => {
  it(`gives a value or a ProtocolError for ${BRINE_INPUTS.toLocaleString("en")} inputs`, () => {
    const generated = Math.ceil(BRINE_INPUTS / (1 + BRINE_VARIANTS));
    const total: BrineFuzzStats = { inputs: 0, accepted: 0, refused: 0, byKind: {}, slowestMs: 0, slowestHex: "", elapsedMs: 0 };
    for (let from = 0; from < generated; from += SLICE) {
      const stats = withoutStacks(() => fuzzBrine(decoder, seed, Math.min(SLICE, generated - from), from));
      total.inputs += stats.inputs;
      total.accepted += stats.accepted;
      total.refused += stats.refused;
      total.elapsedMs += stats.elapsedMs;
      for (const [kind, n] of Object.entries(stats.byKind)) total.byKind[kind] = (total.byKind[kind] ?? 0) + n;
      if (stats.slowestMs > total.slowestMs) {
        total.slowestMs = stats.slowestMs;
        total.slowestHex = stats.slowestHex;
      }
    }
    console.log(
      `fuzz brine [${decoder.name}] seed ${seedHex(seed)}: ${total.inputs} inputs, ${total.accepted} values, ${total.refused} ProtocolErrors, ` +
        `0 other outcomes, slowest ${total.slowestMs.toFixed(1)} ms, ${(total.elapsedMs / 1000).toFixed(1)} s; by kind ${JSON.stringify(total.byKind)}`,
    );
    expect(total.inputs).toBeGreaterThanOrEqual(BRINE_INPUTS);
    // The generators must reach both outcomes often: a fuzzer that only makes garbage (or
    // only valid values) tests little.
    expect(total.accepted).toBeGreaterThan(total.inputs / 20);
    expect(total.refused).toBeGreaterThan(total.inputs / 20);
  }, 180_000);

  it.each(largeBrineInputs())("handles $what within its time budget", ({ bytes }) => {
    // One load is timed (the fastest of up to three, so a GC pause is not a hang); the
    // round trip of checkBrineInput (dump, load, dump) is not.
    try {
      decoder.load(bytes, DEFAULT_BRINE_LIMITS.maxDepth);
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
    }
    const { ms } = confirmedOverrun(() => decoder.load(bytes, DEFAULT_BRINE_LIMITS.maxDepth), loadBudgetMs(bytes.length));
    expect(ms).toBeLessThan(loadBudgetMs(bytes.length));
    checkBrineInput(decoder, bytes, seed);
  });
});

describe.each(FRAME_DECODERS)("fuzz $name", (impl) => {
  it(`matches the reference framing or fails with the same error on ${FRAME_STREAMS.toLocaleString("en")} streams`, () => {
    const stats = withoutStacks(() => fuzzFrames(impl, seed, FRAME_STREAMS));
    console.log(
      `fuzz frames [${impl.name}] seed ${seedHex(seed)}: ${stats.inputs} streams, ${stats.frames} frames decoded, ${stats.refused} streams refused ` +
        `(ProtocolError/FrameTooLargeError), slowest ${stats.slowestMs.toFixed(1)} ms, ${(stats.elapsedMs / 1000).toFixed(1)} s`,
    );
    expect(stats.inputs).toBe(FRAME_STREAMS);
    expect(stats.frames).toBeGreaterThan(stats.inputs / 2);
    expect(stats.refused).toBeGreaterThan(stats.inputs / 20);
  }, 180_000);
});
