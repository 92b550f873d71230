// The seed corpus of the fuzz tests: frames captured from real Python RPyC 5.3 sessions
// (test/vectors/session-*.json, both directions) and brine's golden vectors
// (test/vectors/brine.json). Mutators start from these valid inputs.

import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import type { PyValue } from "../../runtime/index.js";
import { load } from "../../runtime/wire/index.js";

const VECTORS_DIR = new URL("../vectors/", import.meta.url);

export const SESSION_FILES = [
  "session-a-seed.json",
  "session-b-callback.json",
  "session-c-large.json",
  "session-d-exception.json",
  "session-e-misc.json",
] as const;

interface SessionFile {
  frames: { dir: "c2s" | "s2c"; hex: string; compressed: number }[];
}

/** One captured frame: the exact bytes, the (decompressed) brine payload and its message. */
export interface CorpusFrame {
  readonly where: string;
  readonly dir: "c2s" | "s2c";
  /** The frame as it was on the wire: header, body, flush byte. */
  readonly frame: Buffer;
  /** The brine payload (decompressed if the frame was compressed). */
  readonly payload: Buffer;
  readonly compressed: boolean;
  /** The decoded `(msg, seq, args)` tuple. */
  readonly message: PyValue;
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, VECTORS_DIR), "utf8")) as T;
}

function loadSessions(): CorpusFrame[] {
  const frames: CorpusFrame[] = [];
  for (const file of SESSION_FILES) {
    const session = readJson<SessionFile>(file);
    session.frames.forEach((entry, index) => {
      const frame = Buffer.from(entry.hex, "hex");
      const body = frame.subarray(5, frame.length - 1);
      const compressed = frame[4] !== 0;
      const payload = compressed ? inflateSync(body) : Buffer.from(body);
      frames.push({ where: `${file}#${index}`, dir: entry.dir, frame, payload, compressed, message: load(payload) });
    });
  }
  return frames;
}

/** Every captured frame of every session, in order. */
export const SESSION_FRAMES: readonly CorpusFrame[] = loadSessions();
/** Client-to-server frames (requests, and replies to the server's callbacks). */
export const CLIENT_FRAMES: readonly CorpusFrame[] = SESSION_FRAMES.filter((f) => f.dir === "c2s");
/** Server-to-client frames (replies and exceptions, the server's requests). */
export const SERVER_FRAMES: readonly CorpusFrame[] = SESSION_FRAMES.filter((f) => f.dir === "s2c");
/** Small frames only (< 4 KiB): most mutations work on these, the large ones are rarer. */
export const SMALL_FRAMES: readonly CorpusFrame[] = SESSION_FRAMES.filter((f) => f.frame.length < 4096);

/** Every golden brine encoding of brine.json. */
export const BRINE_GOLDENS: readonly Buffer[] = readJson<{ vectors: { hex: string }[] }>("brine.json").vectors.map((v) => Buffer.from(v.hex, "hex"));

/** Golden encodings plus every session payload: the valid brine inputs the mutators start from. */
export const BRINE_SEEDS: readonly Buffer[] = [...BRINE_GOLDENS, ...SESSION_FRAMES.map((f) => f.payload)];
/** The same, without the 100 KB payloads (for the million-input loops). */
export const SMALL_BRINE_SEEDS: readonly Buffer[] = BRINE_SEEDS.filter((b) => b.length <= 4096);
