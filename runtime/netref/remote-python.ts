// Types only: netrefs of Python's builtin containers as a Python RPyC peer sends them (lists,
// dicts and sets are never by value: see docs/protocol.md §5), typed by their items as Python
// sends those; and keyword arguments typed per method. rpyc-gen's stubs for Python services
// use them; each container member is one HANDLE_CALLATTR of a name in RPyC's safe_attrs, so it
// works under the default config.

import type { Kwargs } from "./calls.js";
import type { NetrefBase, RemoteAttribute } from "./base-types.js";

/**
 * A Python `list` held by the peer (name_pack "builtins.list"), of items T as Python sends them
 * (a nested list is a RemoteList again, an int `number | bigint`). `for await` iterates it.
 */
export interface RemoteList<T = unknown> extends NetrefBase, AsyncIterable<T> {
  /** `len(list)`. */
  __len__(): Promise<number>;
  /** `list[index]`; a negative index counts from the end; IndexError when out of range. */
  __getitem__(index: number | bigint): Promise<T>;
  /** `list[index] = value`. */
  __setitem__(index: number | bigint, value: T): Promise<null>;
  /** `del list[index]`. */
  __delitem__(index: number | bigint): Promise<null>;
  /** `value in list`. */
  __contains__(value: T): Promise<boolean>;
}

/** A Python `dict` held by the peer (name_pack "builtins.dict"), keys K to values V as Python sends them. `for await` iterates its keys. */
export interface RemoteDict<K = unknown, V = unknown> extends NetrefBase, AsyncIterable<K> {
  /** `len(dict)`. */
  __len__(): Promise<number>;
  /** `dict[key]`; KeyError when absent. */
  __getitem__(key: K): Promise<V>;
  /** `dict[key] = value`. */
  __setitem__(key: K, value: V): Promise<null>;
  /** `del dict[key]`. */
  __delitem__(key: K): Promise<null>;
  /** `key in dict`. */
  __contains__(key: K): Promise<boolean>;
}

/** The keys of F declared optional (a TypedDict's `total=False` and NotRequired keys). */
type OptionalKeys<F> = { [K in keyof F]-?: {} extends Pick<F, K> ? K : never }[keyof F];

/**
 * A TypedDict held by the peer: a Python dict (name_pack "builtins.dict") whose keys and value
 * types F declares (values as Python sends them). Reading an undeclared key is a compile error;
 * an optional key that is absent raises KeyError (test with `__contains__` first).
 * `for await` iterates its keys.
 */
export interface RemoteTypedDict<F extends object> extends NetrefBase, AsyncIterable<keyof F & string> {
  /** `len(dict)`: how many keys are present. */
  __len__(): Promise<number>;
  /** `dict[key]`; KeyError when an optional key is absent. */
  __getitem__<K extends keyof F & string>(key: K): Promise<Required<F>[K]>;
  /** `dict[key] = value`. */
  __setitem__<K extends keyof F & string>(key: K, value: Required<F>[K]): Promise<null>;
  /** `del dict[key]`: only optional keys, as type checkers allow. */
  __delitem__(key: OptionalKeys<F> & string): Promise<null>;
  /** `key in dict`: any string may be asked. */
  __contains__(key: string): Promise<boolean>;
}

/**
 * A plain-data object held by an rpyc-ts peer (an object literal it sent by reference: to a
 * client without the compiled schema, or from a server without its dispatch table), read as
 * a read-only dict of its fields F (values as they cross the wire). An optional field that is
 * absent raises KeyError (test with `__contains__` first). `for await` iterates its keys.
 */
export interface RemoteData<F extends object> extends NetrefBase, AsyncIterable<keyof F & string> {
  /** `len(obj)`: how many fields are present. */
  __len__(): Promise<number>;
  /** `obj[key]`; KeyError when an optional field is absent. */
  __getitem__<K extends keyof F & string>(key: K): Promise<Required<F>[K]>;
  /** `key in obj`: any string may be asked. */
  __contains__(key: string): Promise<boolean>;
}

/** A Python `set` held by the peer (name_pack "builtins.set"), of items T as Python sends them. `for await` iterates it. */
export interface RemoteSet<T = unknown> extends NetrefBase, AsyncIterable<T> {
  /** `len(set)`. */
  __len__(): Promise<number>;
  /** `value in set`. */
  __contains__(value: T): Promise<boolean>;
}

/**
 * An instance of a Python class held by the peer (a dataclass instance), with the fields its
 * class declares as awaitable attributes. Python RPyC serves plain attributes of returned
 * objects only with `allow_public_attrs` (else AttributeError).
 */
export type RemoteInstance<T> = NetrefBase & { readonly [K in keyof T]: RemoteAttribute<T[K]> };

/**
 * What `kwargs(values)` returns, with the values' type a method declares: its keyword-only
 * parameters (and, when it takes `**extra`, any other name). The runtime sends the values
 * as they are (brine, or a netref for anything else), not through the stub's schema.
 */
export type KeywordArguments<K> = Kwargs & { readonly values: K };

/**
 * Every positional prefix a call may pass before its keyword arguments: the required
 * parameters, then each optional one in turn (an optional one left out stays out: it is
 * never sent as None), or everything when the method takes `*args`.
 */
type PositionalPrefixes<A extends readonly unknown[]> = number extends A["length"]
  ? A
  : A extends readonly []
    ? []
    : A extends readonly [infer H, ...infer T]
      ? [H, ...PositionalPrefixes<T>]
      : A extends readonly [(infer H)?, ...infer T]
        ? [] | [Exclude<H, undefined>, ...PositionalPrefixes<T>]
        : A;

/**
 * The arguments of a call with keyword arguments last: `root.log("a", "b", kwargs({ level: 2 }))`
 * for `def log(self, *lines: str, level: int = 0)`. A is the positional parameter list.
 */
export type KeywordCall<A extends readonly unknown[], K> = [...PositionalPrefixes<A>, keywords: KeywordArguments<K>];
