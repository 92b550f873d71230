// Types only: netrefs of Python's builtin containers as a Python RPyC peer sends them (lists,
// dicts and sets are never by value: see rpyc-wire.md 3.4). rpyc-gen's stubs for Python
// services type results with them; each member is one HANDLE_CALLATTR of a name in RPyC's
// safe_attrs, so it works under the default config.

import type { NetrefBase, RemoteAttribute } from "./types.js";

/** A Python `list` held by the peer (name_pack "builtins.list"). `for await` iterates it. */
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

/** A Python `dict` (or a TypedDict, which is one) held by the peer (name_pack "builtins.dict"). `for await` iterates its keys. */
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

/** A Python `set` held by the peer (name_pack "builtins.set"). `for await` iterates it. */
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
