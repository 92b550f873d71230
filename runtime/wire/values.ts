// Python value types that JavaScript lacks, so brine can carry them both ways without loss.
// Mapping: None <-> null (undefined is sent as None), int <-> number when safe else bigint,
// float <-> number (Float forces float for integral numbers), str <-> string,
// bytes <-> Uint8Array, tuple <-> array, frozenset <-> FrozenSet, slice <-> Slice,
// complex <-> Complex, NotImplemented/Ellipsis <-> the singletons below.

/** Forces a number to travel as a Python `float` even when it is integral (`Float(3)` -> `3.0`). */
export class Float {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

/** Shorthand for `new Float(value)`. */
export function float(value: number): Float {
  return new Float(value);
}

/** Python `complex`. */
export class Complex {
  constructor(
    readonly real: number,
    readonly imag: number,
  ) {}
  toString(): string {
    return `(${this.real}${this.imag < 0 || Object.is(this.imag, -0) ? "-" : "+"}${Math.abs(this.imag)}j)`;
  }
}

/** Python `slice(start, stop, step)`; members are brine values (usually numbers or null). */
export class Slice {
  constructor(
    readonly start: PyValue,
    readonly stop: PyValue,
    readonly step: PyValue,
  ) {}
}

/** Python `frozenset`: an immutable Set. Element order from Python is not meaningful. */
export class FrozenSet<T = PyValue> extends Set<T> {
  #frozen = false;
  constructor(items?: Iterable<T>) {
    // Not super(items): Set's constructor would call the overridden add() before #frozen exists.
    super();
    if (items) for (const item of items) super.add(item);
    this.#frozen = true;
  }
  override add(value: T): this {
    if (this.#frozen) throw new TypeError("FrozenSet is immutable");
    return super.add(value);
  }
  override delete(): boolean {
    throw new TypeError("FrozenSet is immutable");
  }
  override clear(): void {
    throw new TypeError("FrozenSet is immutable");
  }
}

/** Python's `NotImplemented` singleton. */
export const NotImplemented: unique symbol = Symbol.for("rpyc.NotImplemented");
/** Python's `Ellipsis` (`...`) singleton. */
export const Ellipsis: unique symbol = Symbol.for("rpyc.Ellipsis");

/** A value brine can carry (what `load` returns). Arrays are Python tuples. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Complex
  | Slice
  | FrozenSet<PyValue>
  | typeof NotImplemented
  | typeof Ellipsis
  | readonly PyValue[];

/** What `dump` accepts: PyValue plus `undefined` (as None) and `Float`. */
export type PyValueIn = PyValue | undefined | Float | FrozenSet<PyValueIn> | readonly PyValueIn[];
