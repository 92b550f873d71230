// A service with structured types for test/compiler/sdk-package.test.ts: rpyc-gen compiles it
// (with examples/seed-service.ts) into an SDK package that a consumer installs from a tarball.
import { Service } from "../../runtime/index.js";

/** Garment sizes. */
export enum Size {
  Small = "S",
  Large = "L",
}

/** A line of an order. */
export interface Item {
  readonly sku: string;
  qty: number;
  size: Size;
  tags: string[];
  note?: string;
}

/** What `place` answers. */
export interface Receipt {
  id: number;
  items: Item[];
  placed: Date;
  /** Quantities per size. */
  bySize: Map<Size, number>;
  total: bigint;
}

export class ShopService extends Service {
  private nextId = 1;

  /** The shop's currency. */
  exposed_currency = "EUR";

  /** Upper-cases a word. */
  exposed_shout(word: string): string {
    return word.toUpperCase();
  }

  /**
   * Places an order.
   * @param items The lines of the order.
   * @param placed When it was placed.
   * @param unitCents Price of one piece, in cents.
   */
  exposed_place(items: Item[], placed: Date, unitCents = 250): Receipt {
    const bySize = new Map<Size, number>();
    for (const item of items) bySize.set(item.size, (bySize.get(item.size) ?? 0) + item.qty);
    const pieces = items.reduce((sum, item) => sum + item.qty, 0);
    return { id: this.nextId++, items, placed, bySize, total: BigInt(pieces) * BigInt(unitCents) };
  }

  /** Counts tags; answers a record. */
  exposed_tagCounts(items: Item[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const item of items) for (const tag of item.tags) counts[tag] = (counts[tag] ?? 0) + 1;
    return counts;
  }

  /** Not exposed: clients cannot call it. */
  restock(): void {
    this.nextId = 1;
  }
}
