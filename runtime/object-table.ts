// The local object table (RPyC's `_local_objects`): objects we sent by reference, keyed by
// id_pack, with RPyC's refcount rule. Contract: each box as LABEL_REMOTE_REF calls add()
// (first send stores count 0, later sends count += 1); the peer's HANDLE_DEL(count) calls
// release(), which drops the entry once the stored count is below `count`. The table holds
// objects strongly: that is what keeps them alive while the peer holds netrefs to them.

import { KeyError } from "./exceptions.js";
import { idPackKey, type IdPack } from "./id-pack.js";

interface Entry {
  readonly obj: object;
  readonly idPack: IdPack;
  count: number;
}

export class LocalObjectTable {
  private readonly entries = new Map<string, Entry>();

  /** Records one more send of `obj` under `idPack`. */
  add(obj: object, idPack: IdPack): void {
    const key = idPackKey(idPack);
    const entry = this.entries.get(key);
    if (entry) entry.count += 1;
    else this.entries.set(key, { obj, idPack, count: 0 });
  }

  /** The object behind an id_pack the peer sent back; KeyError (as Python) if unknown. */
  get(idPack: IdPack): object {
    const entry = this.entries.get(idPackKey(idPack));
    if (!entry) throw new KeyError(idPack as unknown as string);
    return entry.obj;
  }

  has(idPack: IdPack): boolean {
    return this.entries.has(idPackKey(idPack));
  }

  /** HANDLE_DEL: forget `count` sends; KeyError if the id_pack is unknown. */
  release(idPack: IdPack, count: number): void {
    const key = idPackKey(idPack);
    const entry = this.entries.get(key);
    if (!entry) throw new KeyError(idPack as unknown as string);
    if (entry.count < count) this.entries.delete(key);
    else entry.count -= count;
  }

  /** Stored count (sends - 1) of an id_pack, or undefined; for tests and diagnostics. */
  refcount(idPack: IdPack): number | undefined {
    return this.entries.get(idPackKey(idPack))?.count;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
