// The pending-request table (runtime/connection/pending-requests.ts): ring slots by seq with an overflow
// for long-lived requests, one deadline timer per connection.

import { describe, expect, it, vi } from "vitest";
import { Pending, PendingRequests } from "../../runtime/connection/pending-requests.js";

function pending(seq: number, deadline = Infinity, internal = false): Pending {
  const p = new Pending(seq, 1, deadline, null, undefined, internal);
  p.promise.catch(() => {});
  return p;
}

describe("PendingRequests", () => {
  it("finds every request by seq while long-lived ones keep their slot and newer ones overflow, through growth", () => {
    const table = new PendingRequests(() => {});
    const live = new Map<number, Pending>();
    // Seq 0 and every 100th stay pending (long calls); the rest are answered 5 requests later.
    for (let seq = 0; seq < 20_000; seq++) {
      const p = pending(seq, Infinity, seq === 3);
      table.add(seq, p);
      live.set(seq, p);
      const done = seq - 5;
      if (done >= 0 && done % 100 !== 0 && live.has(done)) {
        expect(table.get(done)).toBe(live.get(done));
        table.delete(done, live.get(done)!);
        live.delete(done);
        expect(table.get(done)).toBeUndefined();
      }
    }
    expect(table.size).toBe(live.size);
    expect(table.userCount).toBe(live.size - (live.has(3) ? 1 : 0));
    for (const [seq, p] of live) expect(table.get(seq)).toBe(p);
    expect(table.get(20_001)).toBeUndefined();
    expect(table.get(-1)).toBeUndefined();
    const all = table.takeAll();
    expect(new Set(all)).toEqual(new Set(live.values()));
    expect(table.size).toBe(0);
    expect(table.get(0)).toBeUndefined();
  });

  it("one timer expires requests at their deadlines, the earliest first, later ones re-armed", () => {
    // Fake timers and clock (setTimeout and performance.now, what the table uses): time passes
    // only as the test says, so a slow machine cannot expire 3 before the first look.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const expired: number[] = [];
      const table = new PendingRequests((seq, p) => {
        expired.push(seq);
        table.delete(seq, p);
      });
      const now = performance.now();
      table.add(0, pending(0, now + 400));
      table.add(1, pending(1, now + 20)); // earlier than the armed one: re-armed
      table.add(2, pending(2, Infinity));
      table.add(3, pending(3, now + 250));
      vi.advanceTimersByTime(19);
      expect(expired).toEqual([]);
      vi.advanceTimersByTime(101); // 120
      expect(expired).toEqual([1]);
      vi.advanceTimersByTime(400); // 520
      expect(expired).toEqual([1, 3, 0]);
      expect(table.size).toBe(1);
      table.takeAll();
    } finally {
      vi.useRealTimers();
    }
  });
});
