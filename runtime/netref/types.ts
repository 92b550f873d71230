// Static types of netrefs: `Remote<MyService>` is what `conn.root` looks like to the IDE.
// Exposed members appear without their prefix (`exposed_get_answer` -> `get_answer()`),
// every method returns a promise, every attribute is awaitable, and members that are not
// exposed are absent, so calling them is a compile error.

import type { Complex, Ellipsis, Float, FrozenSet, NotImplemented, Slice } from "../wire/values.js";
import type { netrefBrand, NetrefBase, RemoteAttribute } from "./base-types.js";
import type { RemoteData, RemoteDict, RemoteList, RemoteSet } from "./remote-python.js";

export type { NetrefBase, RemoteAttribute } from "./base-types.js";

/** Values that cross the wire by value, unchanged. */
type ByValue = null | boolean | number | bigint | string | Complex | Slice | FrozenSet<unknown> | typeof NotImplemented | typeof Ellipsis;

/**
 * How a call's arguments travel: "reference" from a client without the compiled schema (the
 * class and interface forms: RPyC's rules), "compiled" from rpyc-gen's stubs (their schema
 * encodes plain data by value).
 */
type ArgMode = "reference" | "compiled";

/**
 * The type of a parameter that cannot travel as declared from a client without the schema:
 * passing anything to it is a compile error that says why. Plain data would reach the server
 * by reference, where its code expects the object itself.
 */
export type PlainDataNeedsTheGeneratedClient =
  "plain data (an object without methods, a Map, Set or Date) travels to a server by value only through the client rpyc-gen generates; connect<Class>() would send it by reference";

/** A callback receives its arguments as they cross the wire: the peer calls it through a netref. */
type CallbackArg<A extends readonly unknown[], R> = (...args: { [K in keyof A]: RemoteValue<A[K]> }) => Awaited<R> | PromiseLike<Awaited<R>>;

/**
 * What a caller may pass for a parameter: callbacks may answer synchronously or not, and a
 * netref the caller holds may go where the service declared the object itself. A parameter
 * declared as a netref type already (a stub's RemoteList) takes just that: mapping it through
 * Remote<> would leave only NetrefBase, so any netref would pass.
 */
type LocalArg<P, M extends ArgMode> = 0 extends 1 & P
  ? P
  : [P] extends [(...args: infer A) => infer R]
    ? CallbackArg<A, R>
    : M extends "compiled"
      ? P | (P extends NetrefBase ? never : P extends object ? (IsNetrefType<P> extends true ? Remote<P> : never) : never)
      : ReferenceArg<P>;

/** An argument from a client without the schema, member by member of a union: values by value, objects with behaviour by reference, plain data refused. */
type ReferenceArg<P> = P extends ByValue | Float | Uint8Array | undefined | void
  ? P
  : P extends NetrefBase
    ? P
    : P extends (...args: never[]) => unknown
      ? P
      : P extends readonly unknown[]
        ? { -readonly [K in keyof P]: ReferenceArg<P[K]> }
        : P extends Date | ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
          ? PlainDataNeedsTheGeneratedClient
          : P extends object
            ? IsNetrefType<P> extends true
              ? P | Remote<P>
              : PlainDataNeedsTheGeneratedClient
            : P;

type LocalArgs<A extends readonly unknown[], M extends ArgMode> = { -readonly [K in keyof A]: LocalArg<A[K], M> };

/** Arguments of a remote call from a client without the schema (keyword arguments go through untyped calls: `kwargs()`). */
export type RemoteArgs<A extends readonly unknown[]> = LocalArgs<A, "reference">;

/**
 * Promise pipelining: what a pending call result offers before it resolves when it will be a
 * netref: the netref's members (`root.get_db().query(x)`, `await root.get_db().name`). With
 * the native codec these uses travel with the call (one round trip); otherwise they wait for
 * it. Members named like a Promise's own (`then`, `catch`, `finally`) are not offered.
 * Remote methods return RemoteResult, and so do generated stubs' methods whose result is a
 * netref of a compiled service.
 */
export type PipelineOf<R> = [R] extends [NetrefBase]
  ? { readonly [K in Exclude<keyof R, keyof Promise<unknown> | typeof netrefBrand | typeof Symbol.asyncIterator>]: R[K] }
  : unknown;

/** The result of a remote call: a Promise, pipelinable (PipelineOf) when it will be a netref. */
export type RemoteResult<R> = [R] extends [NetrefBase] ? Promise<R> & PipelineOf<R> : Promise<R>;

/** A remote method: called with the declared parameters (their names show in the IDE); its promise is pipelinable when the result will be a netref. */
export type RemoteMethod<A extends readonly unknown[], R, M extends ArgMode = "reference"> = (...args: LocalArgs<A, M>) => RemoteResult<R>;

/** A remote callable: returns a promise of what the function returns on the peer. */
export type RemoteFunction<A extends readonly unknown[], R> = RemoteMethod<A, RemoteValue<Awaited<R>>> & NetrefBase;

/** True when some member of T is a function: T is an object with behaviour, not plain data. */
type HasMethods<T> = true extends { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? true : false }[keyof T] ? true : false;

/**
 * How a value of type V looks once it has crossed the wire to a peer without its compiled
 * schema: what `connect<MyService>()` and `connect<MyInterface>()` see, and callbacks'
 * parameters. As RPyC sends them: scalars, bytes and tuples by value; a bigint as
 * `number | bigint` (an int on the wire: a small one decodes as a number); an array as
 * `T[] | RemoteList<T>` (an rpyc-ts peer sends a tuple, a Python peer its list by reference:
 * `toArray()` gives the items either way); every other
 * object by reference: a Map as a RemoteDict, a Set as a RemoteSet, a plain-data object as a
 * RemoteData (a read-only dict of its fields), a Date as an opaque netref, objects with
 * methods or exposed_ members as Remote<T>, functions as RemoteFunction. (Plain data travels
 * by value only between a generated client and a server with its dispatch table; generated
 * stubs spell their own types out. README: "How values travel".)
 */
export type RemoteValue<V> = Traveled<V, "reference">;

/**
 * A value after the wire, in either pairing (M): the two differ in plain data, which a
 * compiled pairing carries by value and any other by reference, and in what only a schema can
 * restore (a bigint's type, an array that a Python peer sends as a list).
 */
type Traveled<V, M extends ArgMode> = V extends undefined | void
  ? null
  : V extends bigint
    ? M extends "compiled"
      ? bigint
      : number | bigint
    : V extends ByValue
      ? V
      : V extends Float
        ? number
        : V extends Uint8Array
          ? Uint8Array
          : V extends Date
            ? M extends "compiled"
              ? Date
              : NetrefBase
            : V extends PromiseLike<infer U>
              ? Traveled<U, M>
              : V extends readonly unknown[]
                ? number extends V["length"]
                  ? M extends "compiled"
                    ? Traveled<V[number], M>[]
                    : Traveled<V[number], M>[] | RemoteList<Traveled<V[number], M>>
                  : { -readonly [K in keyof V]: Traveled<K extends OptionalKeys<V> ? Exclude<V[K], undefined> : V[K], M> }
                : V extends ReadonlyMap<infer K, infer W>
                  ? M extends "compiled"
                    ? Map<Traveled<K, M>, Traveled<W, M>>
                    : RemoteDict<Traveled<K, M>, Traveled<W, M>>
                  : V extends ReadonlySet<infer T>
                    ? RemoteSet<RemoteValue<T>>
                    : V extends (...args: infer A) => infer R
                      ? RemoteFunction<A, R>
                      : V extends object
                        ? IsNetrefType<V> extends true
                          ? RemoteShape<V, M>
                          : M extends "compiled"
                            ? { -readonly [K in keyof V]: Traveled<K extends OptionalKeys<V> ? Exclude<V[K], undefined> : V[K], M> }
                            : RemoteData<{ [K in keyof V]: Traveled<K extends OptionalKeys<V> ? Exclude<V[K], undefined> : V[K], M> }>
                        : unknown;

/** Objects with behaviour (methods or exposed_ members) travel as netrefs; plain data by value. */
type IsNetrefType<T> = HasMethods<T> extends true ? true : HasExposed<T>;

/** Keys declared with `?`: an absent field stays absent on the wire (it never becomes null). */
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];

/**
 * How a value of type V looks to a client with its compiled schema, from a server with its
 * dispatch table (rpyc-gen's pairing): plain data by value (objects, Maps, Dates, records),
 * as the schema encodes it; a Set (no wire type yet) and objects with behaviour by reference.
 */
export type CompiledValue<V> = Traveled<V, "compiled">;

type Member<V, M extends ArgMode> = [V] extends [(...args: infer A) => infer R] ? RemoteMethod<A, Traveled<Awaited<R>, M>, M> : RemoteAttribute<Traveled<V, M>>;

type ExposedName<K> = K extends `exposed_${infer Name}` ? Name : never;
type PublicName<K> = K extends `_${string}` ? never : K extends string ? K : never;
type HasExposed<T> = [Extract<keyof T, `exposed_${string}`>] extends [never] ? false : true;

type Iteration<T> = T extends Iterable<infer E> ? AsyncIterable<RemoteValue<E>> : unknown;

/**
 * A netref to a T living on the peer. For services (types with `exposed_` members) only the
 * exposed members appear, unprefixed; for plain objects the public members appear (reachable
 * when the peer allows public attributes).
 */
export type Remote<T> = RemoteShape<T, "reference">;

/**
 * Remote<T> between compiled peers: a client with T's schema (rpyc-gen's stub, or `connect`
 * given `schemas`) and a server with T's dispatch table. Plain data travels by value both ways
 * (CompiledValue). Stubs write `Parameters<CompiledRemote<Shape>["name"]>`; a hand-made
 * compiled connection is `connect<CompiledRemote<MyService>>(host, port, { schemas })`.
 */
export type CompiledRemote<T> = RemoteShape<T, "compiled">;

type RemoteShape<T, M extends ArgMode> = (HasExposed<T> extends true
  ? { readonly [K in keyof T as ExposedName<K>]: Member<T[K], M> }
  : { readonly [K in keyof T as PublicName<K>]: Member<T[K], M> }) &
  NetrefBase &
  Iteration<T>;

/** An attribute of an untyped netref: awaitable, callable. */
export interface DynamicAttribute extends PromiseLike<unknown> {
  (...args: unknown[]): Promise<unknown>;
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<unknown>;
  finally(onfinally?: (() => void) | null): Promise<unknown>;
}

/** An untyped netref (for example a value an untyped call returned): any attribute, callable, iterable. */
export type DynamicNetref = { readonly [name: string]: DynamicAttribute } & NetrefBase & ((...args: unknown[]) => Promise<unknown>) & AsyncIterable<unknown>;

/**
 * The root of `connect()` without a type argument: any attribute, awaitable and callable. Not
 * itself callable (a service is not), so the editor does not offer Function's `apply`, `bind`,
 * `call`, `length`, `name` or `prototype` as if they were the service's members. (An
 * attribute, being callable, still lists them: TypeScript gives every callable type
 * Function's members.)
 */
export type DynamicRoot = { readonly [name: string]: DynamicAttribute } & NetrefBase & AsyncIterable<unknown>;

/** The members every service exposes (RPyC's Service); generated service shapes extend it. */
export interface ServiceShape {
  exposed_get_service_name(): string;
  exposed_get_service_aliases(): string[];
}

/**
 * The type of `conn.root`: dynamic when the service type is unknown, `Remote<T>` for a
 * service type, and T itself when T is already a netref interface (generated stubs' XxxRemote).
 */
export type RootType<T> = unknown extends T ? DynamicRoot : T extends NetrefBase ? T : Remote<T>;
