// Pairs the entries of two positional lists (parameters, object fields) by name, falling back to
// position for an entry renamed in place, so the rules can tell removal, insertion, reordering
// and renaming apart. Pure; shared by the parameter and the field rules.

export interface Pair {
  readonly oldIndex: number;
  readonly newIndex: number;
  /** Paired by position because neither name exists on the other side. */
  readonly renamed: boolean;
}

export interface Pairing {
  /** In old order. */
  readonly pairs: readonly Pair[];
  /** Old indices with no counterpart. */
  readonly removed: readonly number[];
  /** New indices with no counterpart. */
  readonly added: readonly number[];
  /** Paired entries do not keep their relative order. */
  readonly reordered: boolean;
}

export function pairByName(oldNames: readonly string[], newNames: readonly string[]): Pairing {
  const newIndexOf = new Map(newNames.map((name, i) => [name, i]));
  const oldSet = new Set(oldNames);
  const taken = new Set<number>();
  const pairs: Pair[] = [];
  const removed: number[] = [];
  oldNames.forEach((name, oldIndex) => {
    const byName = newIndexOf.get(name);
    if (byName !== undefined) {
      pairs.push({ oldIndex, newIndex: byName, renamed: false });
      taken.add(byName);
      return;
    }
    // Renamed in place: the new entry at the same position is new as well.
    const atSamePosition = newNames[oldIndex];
    if (atSamePosition !== undefined && !oldSet.has(atSamePosition) && !newIndexOf.has(name)) {
      pairs.push({ oldIndex, newIndex: oldIndex, renamed: true });
      taken.add(oldIndex);
      return;
    }
    removed.push(oldIndex);
  });
  const added = newNames.map((_, i) => i).filter((i) => !taken.has(i));
  const reordered = pairs.some((pair, i) => i > 0 && pair.newIndex < pairs[i - 1]!.newIndex);
  return { pairs, removed, added, reordered };
}
