// The local object table (RPyC's `_local_objects`): objects we sent by reference, keyed by
// id_pack, with RPyC's refcount rule. Contract: each box as LABEL_REMOTE_REF calls add()
// (first send stores count 0, later sends count += 1); the peer's HANDLE_DEL(count) calls
// release(), which drops the entry once the stored count is below `count`. The table holds
// objects strongly: that is what keeps them alive while the peer holds netrefs to them.

import { KeyError } from "../errors/python-exceptions.js";
import type { IdPack, WireInt } from "./id-pack.js";

interface Entry {
  readonly obj: object;
  readonly idPack: IdPack;
  count: number;
}

/** An id as a map key: ours are safe integers, so any other int (a huge bigint) matches nothing. */
function idKey(id: WireInt): number {
  if (typeof id === "number") return id;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : -1;
}

/**
 * Lookups cost no string building: the ids we hand out are unique numbers (an instance id
 * names one object, a class id with instance id 0 one class), so entries are found by that
 * number, then the rest of the id_pack the peer sent must match the entry's exactly (a
 * forged or stale pack is a KeyError, as Python's dict lookup of the whole tuple is).
 */
export class LocalObjectTable {
  /** By instance id (id_packs of instances and functions). */
  private readonly instances = new Map<number, Entry>();
  /** By class id (id_packs of classes: instance id 0). */
  private readonly classes = new Map<number, Entry>();

  private find(idPack: IdPack): Entry | undefined {
    const instance = idKey(idPack[2]);
    const entry = instance === 0 ? this.classes.get(idKey(idPack[1])) : this.instances.get(instance);
    if (entry === undefined || entry.idPack[0] !== idPack[0] || idKey(entry.idPack[1]) !== idKey(idPack[1])) return undefined;
    return entry;
  }

  /**
   * id_packs added since begin(), so a message that fails while it is boxed takes back the
   * sends it recorded (the peer never saw them, so it would never release them).
   */
  private journal: IdPack[] | undefined;

  /**
   * Records one more send of `obj` under `idPack` (a local id_pack: numbers). False, and
   * nothing recorded, when that would be a new entry while the table holds `limit` already.
   */
  add(obj: object, idPack: IdPack, limit = Infinity): boolean {
    const entry = this.find(idPack);
    if (entry) entry.count += 1;
    else {
      if (this.size >= limit) return false;
      const instance = idKey(idPack[2]);
      const fresh: Entry = { obj, idPack, count: 0 };
      if (instance === 0) this.classes.set(idKey(idPack[1]), fresh);
      else this.instances.set(instance, fresh);
    }
    this.journal?.push(idPack);
    return true;
  }

  /** Starts recording adds (see rollback); returns whether recording was already on (nested boxing). */
  begin(): boolean {
    if (this.journal) return true;
    this.journal = [];
    return false;
  }

  /** Keeps the adds since begin(). */
  commit(): void {
    this.journal = undefined;
  }

  /** Undoes the adds since begin(), newest first. */
  rollback(): void {
    const journal = this.journal;
    this.journal = undefined;
    if (journal) for (let i = journal.length - 1; i >= 0; i--) this.release(journal[i]!, 1);
  }

  /** The object behind an id_pack the peer sent back; KeyError (as Python) if unknown. */
  get(idPack: IdPack): object {
    const entry = this.find(idPack);
    if (!entry) throw new KeyError(idPack as unknown as string);
    return entry.obj;
  }

  has(idPack: IdPack): boolean {
    return this.find(idPack) !== undefined;
  }

  /** HANDLE_DEL: forget `count` sends; KeyError if the id_pack is unknown. */
  release(idPack: IdPack, count: number): void {
    const entry = this.find(idPack);
    if (!entry) throw new KeyError(idPack as unknown as string);
    if (entry.count >= count) {
      entry.count -= count;
      return;
    }
    const instance = idKey(idPack[2]);
    if (instance === 0) this.classes.delete(idKey(idPack[1]));
    else this.instances.delete(instance);
  }

  /** Stored count (sends - 1) of an id_pack, or undefined; for tests and diagnostics. */
  refcount(idPack: IdPack): number | undefined {
    return this.find(idPack)?.count;
  }

  get size(): number {
    return this.instances.size + this.classes.size;
  }

  clear(): void {
    this.instances.clear();
    this.classes.clear();
  }
}
