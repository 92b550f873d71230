// What the leak soak (bench/soak.ts) reads on each side: the object tables of a connection
// and the process's memory, and how it collects garbage.

import type { Connection } from "../runtime/index.js";

/** One side's tables (summed over its connections) and memory, after a collection. */
export interface SideReport {
  /** Entries in this side's object table: its objects the peer holds netrefs to. */
  localObjects: number;
  /** Its live netrefs to the peer's objects, roots included. */
  netrefs: number;
  heapUsed: number;
  rss: number;
}

/** A SideReport as a tuple: what crosses the wire by value (a plain object would go by reference). */
export type SideTuple = [localObjects: number, netrefs: number, heapUsed: number, rss: number];

export const fromTuple = ([localObjects, netrefs, heapUsed, rss]: readonly number[]): SideReport => ({
  localObjects: localObjects!,
  netrefs: netrefs!,
  heapUsed: heapUsed!,
  rss: rss!,
});

/** This side's report now: the tables of `conns` summed, and the process's memory (no collection). */
export function sideReport(conns: Iterable<Pick<Connection, "stats">>): SideReport {
  const stats = [...conns].map((conn) => conn.stats());
  const { heapUsed, rss } = process.memoryUsage();
  return { localObjects: stats.reduce((n, s) => n + s.localObjects, 0), netrefs: stats.reduce((n, s) => n + s.remoteNetrefs, 0), heapUsed, rss };
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * A full collection, then a turn of the event loop so FinalizationRegistry callbacks run
 * (they send HANDLE_DEL for collected netrefs), then another collection for what those
 * released.
 */
export async function collectGarbage(): Promise<void> {
  if (!gc) throw new Error("the soak needs node --expose-gc");
  gc();
  await new Promise((resolve) => setTimeout(resolve, 1));
  gc();
  await new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * heapUsed and RSS once the heap is settled: one forced collection can leave megabytes of
 * dead young objects counted (V8 finishes them in the next one), so collect until two
 * readings agree within 64 KiB (at most 6 times).
 */
export async function settledMemory(): Promise<{ heapUsed: number; rss: number }> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    await collectGarbage();
    const heapUsed = process.memoryUsage().heapUsed;
    if (Math.abs(heapUsed - last) < 65536) break;
    last = heapUsed;
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}
