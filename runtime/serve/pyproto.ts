// Python's data-model dunders (`__len__`, `__getitem__`, `__iter__`, `__next__`, ...)
// emulated on JavaScript objects that have no method of that name, so a Python peer's
// len(), indexing, iteration and `with` work on Maps, Sets, arrays, iterators and
// disposables served by rpyc-ts. A plain-data object (an object literal: its prototype is
// Object.prototype or null) is a read-only dict of its own data properties, as RPyC's
// peers read a dict: `obj["name"]`, `len(obj)`, `"name" in obj`, iteration over its keys.
// Functions and getters on it stay unreachable (they are behaviour, not data).

import { IndexError, KeyError, StopIteration } from "../errors/python-exceptions.js";
import { NotImplemented, type PyValue } from "../wire/values.js";

type Method = (...args: unknown[]) => unknown;

function isIterator(obj: object): obj is Iterator<unknown> | AsyncIterator<unknown> {
  return typeof (obj as { next?: unknown }).next === "function";
}

function arrayIndex(list: readonly unknown[], key: unknown): number {
  if (typeof key !== "number" || !Number.isInteger(key)) throw new TypeError("list indices must be integers");
  const index = key < 0 ? list.length + key : key;
  if (index < 0 || index >= list.length) throw new IndexError("list index out of range");
  return index;
}

/** An object literal (or Object.create(null)), not an array: served as a read-only dict. */
function isPlainData(obj: object): obj is Record<string, unknown> {
  if (typeof obj !== "object" || Array.isArray(obj)) return false;
  const proto = Object.getPrototypeOf(obj);
  return proto === Object.prototype || proto === null;
}

/** Whether a peer may read `key` of a plain-data object: an own, enumerable data property, neither a function nor undefined (an absent optional field). */
function isDataField(obj: Record<string, unknown>, key: string): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(obj, key);
  return (
    descriptor !== undefined &&
    descriptor.enumerable === true &&
    "value" in descriptor &&
    typeof descriptor.value !== "function" &&
    descriptor.value !== undefined
  );
}

function dataKeys(obj: Record<string, unknown>): string[] {
  return Object.keys(obj).filter((key) => isDataField(obj, key));
}

function dataItem(obj: Record<string, unknown>, key: unknown): unknown {
  if (typeof key !== "string" || !isDataField(obj, key)) throw new KeyError(key as PyValue);
  return obj[key];
}

function len(obj: object): Method | undefined {
  if (obj instanceof Map || obj instanceof Set) return () => obj.size;
  if (isPlainData(obj)) return () => dataKeys(obj).length;
  if (Array.isArray(obj) || ArrayBuffer.isView(obj)) return () => (obj as { length: number }).length;
  return undefined;
}

function getitem(obj: object): Method | undefined {
  if (obj instanceof Map)
    return (key) => {
      if (!obj.has(key)) throw new KeyError(key as PyValue);
      return obj.get(key);
    };
  if (Array.isArray(obj)) return (key) => obj[arrayIndex(obj, key)];
  if (isPlainData(obj)) return (key) => dataItem(obj, key);
  return undefined;
}

function setitem(obj: object): Method | undefined {
  if (obj instanceof Map) return (key, value) => void obj.set(key, value);
  if (Array.isArray(obj))
    return (key, value) => {
      obj[arrayIndex(obj, key)] = value;
    };
  return undefined;
}

function delitem(obj: object): Method | undefined {
  if (obj instanceof Map)
    return (key) => {
      if (!obj.delete(key)) throw new KeyError(key as PyValue);
    };
  if (Array.isArray(obj)) return (key) => void obj.splice(arrayIndex(obj, key), 1);
  return undefined;
}

function contains(obj: object): Method | undefined {
  if (obj instanceof Map || obj instanceof Set) return (key) => obj.has(key);
  if (Array.isArray(obj)) return (key) => obj.includes(key);
  if (isPlainData(obj)) return (key) => typeof key === "string" && isDataField(obj, key);
  return undefined;
}

function iter(obj: object): Method | undefined {
  // A Map is Python's dict: iterating it yields keys, consistent with __getitem__ and __contains__.
  if (obj instanceof Map) return () => obj.keys();
  if (isPlainData(obj)) return () => dataKeys(obj)[Symbol.iterator]();
  const sync = (obj as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof sync === "function") return () => sync.call(obj);
  const async = (obj as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator];
  if (typeof async === "function") return () => async.call(obj);
  if (isIterator(obj)) return () => obj;
  return undefined;
}

function next(obj: object): Method | undefined {
  if (!isIterator(obj)) return undefined;
  return async () => {
    const step = await obj.next();
    if (step.done) throw new StopIteration();
    return step.value;
  };
}

function enter(obj: object): Method | undefined {
  if (Symbol.dispose in obj || Symbol.asyncDispose in obj) return () => obj;
  return undefined;
}

function exit(obj: object): Method | undefined {
  const dispose = (obj as { [Symbol.asyncDispose]?: unknown })[Symbol.asyncDispose] ?? (obj as { [Symbol.dispose]?: unknown })[Symbol.dispose];
  if (typeof dispose !== "function") return undefined;
  return async () => {
    await dispose.call(obj);
    return false; // do not swallow the exception
  };
}

const EMULATED: Readonly<Record<string, (obj: object) => Method | undefined>> = {
  __len__: len,
  __getitem__: getitem,
  __setitem__: setitem,
  __delitem__: delitem,
  __contains__: contains,
  __iter__: iter,
  __next__: next,
  __enter__: enter,
  __exit__: exit,
  __call__: (obj) => (typeof obj === "function" ? (obj as Method) : undefined),
  __eq__: (obj) => (other) => (other === obj ? true : NotImplemented),
  __ne__: (obj) => (other) => (other === obj ? false : NotImplemented),
};

/** The emulated dunder `name` for `obj`, or undefined when Python would not find one. */
export function emulatedDunder(obj: object, name: string): Method | undefined {
  const make = Object.hasOwn(EMULATED, name) ? EMULATED[name] : undefined;
  return make?.(obj);
}

/** Names of the dunders `obj` supports by emulation (for INSPECT and DIR). */
export function emulatedDunderNames(obj: object): string[] {
  return Object.keys(EMULATED).filter((name) => EMULATED[name]!(obj) !== undefined);
}
