// The two types every netref type builds on, in a module of their own so that the container
// types (remote-python.ts) and the mapping types (types.ts) can both use them without a cycle.

export declare const netrefBrand: unique symbol;

/** Present on every netref type; lets helpers such as `release()` accept any netref. */
export interface NetrefBase {
  readonly [netrefBrand]: true;
}

/** An exposed attribute: awaiting it reads the attribute from the peer. */
export interface RemoteAttribute<V> extends PromiseLike<V> {
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<V | R>;
  finally(onfinally?: (() => void) | null): Promise<V>;
}
