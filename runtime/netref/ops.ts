// Explicit operations on netrefs, for what JavaScript syntax cannot express
// asynchronously: Python's setattr/delattr/dir/repr/str/hash/==/len/[] and release.
// Each sends one request on the netref's own connection.

import * as C from "../wire/consts.js";
import { requestOptionsOf } from "./netref.js";
import { netrefState, releaseState, type NetrefState } from "./state.js";
import { ready } from "./calls.js";
import type { RemoteList } from "./remote-python.js";

function stateOf(ref: unknown): NetrefState {
  const state = netrefState(ref);
  if (!state) throw new TypeError("expected a netref");
  return state;
}

async function send(ref: unknown, handler: number, args: readonly unknown[]): Promise<unknown> {
  const state = stateOf(ref);
  const options = requestOptionsOf(ref); // a withOptions() view: its deadline and signal
  await ready(state, options);
  return state.owner.request(handler, [ref, ...args], options);
}

/** Reads an attribute, including names JavaScript treats specially (`then`, `constructor`). */
export function getattr(ref: unknown, name: string): Promise<unknown> {
  return send(ref, C.HANDLE_GETATTR, [name]);
}

/** Python's `setattr(ref, name, value)`: needs `allow_setattr` on the peer. */
export async function setattr(ref: unknown, name: string, value: unknown): Promise<void> {
  await send(ref, C.HANDLE_SETATTR, [name, value]);
}

/** Python's `delattr(ref, name)`: needs `allow_delattr` on the peer. */
export async function delattr(ref: unknown, name: string): Promise<void> {
  await send(ref, C.HANDLE_DELATTR, [name]);
}

/** Python's `dir(ref)`: every attribute name, unfiltered (as RPyC's HANDLE_DIR). */
export async function dir(ref: unknown): Promise<string[]> {
  return (await send(ref, C.HANDLE_DIR, [])) as string[];
}

/** Python's `repr(ref)`, computed by the peer. */
export async function repr(ref: unknown): Promise<string> {
  return (await send(ref, C.HANDLE_REPR, [])) as string;
}

/** Python's `str(ref)`, computed by the peer. */
export async function str(ref: unknown): Promise<string> {
  return (await send(ref, C.HANDLE_STR, [])) as string;
}

/** Python's `hash(ref)`, computed by the peer. */
export async function hash(ref: unknown): Promise<number | bigint> {
  return (await send(ref, C.HANDLE_HASH, [])) as number | bigint;
}

/** Rich comparison on the peer: `compare(a, b, "__eq__")` is Python's `a == b`. */
export function compare(ref: unknown, other: unknown, op: "__eq__" | "__ne__" | "__lt__" | "__le__" | "__gt__" | "__ge__"): Promise<unknown> {
  return send(ref, C.HANDLE_CMP, [other, op]);
}

/** Python's `len(ref)`. */
export async function len(ref: unknown): Promise<number> {
  return Number(await send(ref, C.HANDLE_CALLATTR, ["__len__", [], []]));
}

/** Python's `ref[key]`. */
export function getitem(ref: unknown, key: unknown): Promise<unknown> {
  return send(ref, C.HANDLE_CALLATTR, ["__getitem__", [key], []]);
}

/** How many `__getitem__` requests toArray() keeps in flight: one round trip per slice, not per item. */
const TO_ARRAY_WINDOW = 256;

/**
 * The items of an array, or of a Python list the peer holds (a RemoteList): what a client
 * without the compiled schema gets where a method declares an array (an rpyc-ts peer sends a
 * tuple, a Python peer its list by reference). A list is read with `__len__` and then
 * `__getitem__`, up to 256 at a time; the items stay as they arrived (a nested list is a
 * RemoteList again).
 */
export async function toArray<T>(value: readonly T[] | RemoteList<T>): Promise<T[]> {
  if (Array.isArray(value)) return [...(value as readonly T[])];
  const list = value as RemoteList<T>;
  const items: T[] = [];
  const length = await len(list);
  for (let start = 0; start < length; start += TO_ARRAY_WINDOW) {
    const slice = Array.from({ length: Math.min(TO_ARRAY_WINDOW, length - start) }, (_, i) => getitem(list, start + i) as Promise<T>);
    items.push(...(await Promise.all(slice)));
  }
  return items;
}

/** Python's `ref[key] = value`. */
export async function setitem(ref: unknown, key: unknown, value: unknown): Promise<void> {
  await send(ref, C.HANDLE_CALLATTR, ["__setitem__", [key, value], []]);
}

/**
 * Python's `isinstance(other, cls)` for a netref `other` and a remote class `cls`. As a
 * Python netref does, it answers locally when `other`'s class id is `cls`'s own id (the
 * peer's direct instances), and otherwise asks the peer with HANDLE_INSTANCECHECK.
 */
export async function isinstance(other: unknown, cls: unknown): Promise<boolean> {
  const otherState = stateOf(other);
  const clsState = stateOf(cls);
  await Promise.all([ready(otherState), ready(clsState)]);
  const [otherPack, clsPack] = [otherState.idPack!, clsState.idPack!];
  if (clsPack[2] !== 0 && clsPack[2] !== 0n) throw new TypeError("isinstance() arg 2 must be a remote class");
  if (otherState.owner === clsState.owner && String(otherPack[1]) === String(clsPack[1])) return otherPack[2] !== 0 && otherPack[2] !== 0n;
  return (await send(cls, C.HANDLE_INSTANCECHECK, [otherPack])) === true;
}

/**
 * Releases a netref now: one HANDLE_DEL tells the peer to drop its reference. Later use
 * of the netref fails with NetrefReleasedError. Idempotent; garbage collection does the
 * same for netrefs never released explicitly.
 */
export function release(ref: unknown): void {
  releaseState(stateOf(ref));
}

/** The (name_pack, class_id, instance_id) of a netref, or null for an unfetched root. */
export function idPackOf(ref: unknown): readonly [string, number | bigint, number | bigint] | null {
  return stateOf(ref).idPack;
}
