// A callable, awaitable reference to a path of names (`ref.a.b`): the attribute references
// of netrefs (AttrRef) and the pipelined uses of pending calls share this proxy. Awaiting it
// reads the path, calling it calls the last name, a further name extends the path.

/**
 * Node's `util.inspect.custom` (a registered symbol, the same in every realm): the proxies
 * answer it with their label without importing node:util (the runtime also runs in browsers).
 */
export const INSPECT_CUSTOM: unique symbol = Symbol.for("nodejs.util.inspect.custom");

export interface PathRefBehaviour {
  /** What inspect(), String() and error messages show. */
  label(): string;
  /** `await ref`: reads the path afresh each time (an attribute is not a cached value). */
  read(): Promise<unknown>;
  /** `ref(...args)`. */
  call(args: unknown[]): unknown;
  /** `ref.name`: the longer path. */
  child(name: string): unknown;
  /** One private symbol member answered by the proxy (e.g. what withOptions() needs). */
  hidden?: { readonly key: symbol; readonly value: unknown };
  /** Appended to the TypeError an assignment throws. */
  assignHint?: string;
}

export function pathRef(name: string, behaviour: PathRefBehaviour): unknown {
  const { label, read, call, child, hidden, assignHint } = behaviour;
  // A named function target: the proxy must be callable, and inspect() shows the label.
  const target = { [name]: function (): void {} }[name]!;
  Object.defineProperty(target, INSPECT_CUSTOM, { value: label });
  return new Proxy(target, {
    apply: (_t, _this, args: unknown[]) => call(args),
    get: (_t, prop) => {
      if (hidden && prop === hidden.key) return hidden.value;
      switch (prop) {
        case "then":
          return (resolve?: (v: unknown) => unknown, reject?: (e: unknown) => unknown) => read().then(resolve, reject);
        case "catch":
          return (reject?: (e: unknown) => unknown) => read().catch(reject);
        case "finally":
          return (fn?: () => void) => read().finally(fn);
        case Symbol.toPrimitive:
        case "toString":
        case INSPECT_CUSTOM:
          return label;
      }
      if (typeof prop === "symbol") return undefined;
      return child(prop);
    },
    set: () => {
      throw new TypeError(`cannot assign through ${label()}${assignHint ?? ""}`);
    },
  });
}
