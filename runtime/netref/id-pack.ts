// id_packs name objects on the wire: (name_pack, class_id, instance_id). Python uses
// "module.Class" and CPython addresses; we use "rpyc_ts.Class" and process-wide counters,
// stable for an object's lifetime (a WeakMap), so the same object is always the same id.

export type WireInt = number | bigint;
/** (name_pack, class_id, instance_id); instance_id 0 means "a class". */
export type IdPack = readonly [string, WireInt, WireInt];

/** Module part of the name_pack of JavaScript classes (Python finds no such module). */
export const JS_MODULE = "rpyc_ts";

let nextInstanceId = 1;
let nextClassId = 1;
const instanceIds = new WeakMap<object, number>();
const classIds = new WeakMap<object, number>();
const idPacks = new WeakMap<object, IdPack>();

/** Bound methods we create (getattr of a method) travel as "builtins.method" like Python's. */
export const BOUND_METHOD_NAME = "builtins.method";
export const FUNCTION_NAME = "builtins.function";

/** The map key of an id_pack (ints compared exactly, whatever their JS type). */
export function idPackKey(idPack: IdPack): string {
  return `${idPack[0]}\u0000${idPack[1]}\u0000${idPack[2]}`;
}

/** True if `value` has the shape of an id_pack. */
export function isIdPack(value: unknown): value is IdPack {
  return (
    Array.isArray(value) &&
    value.length === 3 &&
    (typeof value[0] === "string" || value[0] instanceof Uint8Array) &&
    (typeof value[1] === "number" || typeof value[1] === "bigint") &&
    (typeof value[2] === "number" || typeof value[2] === "bigint")
  );
}

function classIdOf(cls: object): number {
  let id = classIds.get(cls);
  if (id === undefined) classIds.set(cls, (id = nextClassId++));
  return id;
}

function isClass(fn: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** A fresh unique instance id (for objects we re-export under an id of our own). */
export function freshInstanceId(): number {
  return nextInstanceId++;
}

/** The id_pack under which `obj` (a local object) is sent to peers. */
export function localIdPack(obj: object, isBoundMethod: boolean): IdPack {
  let pack = idPacks.get(obj);
  if (pack) return pack;
  if (typeof obj === "function" && isClass(obj)) {
    pack = [`${JS_MODULE}.${obj.name || "anonymous"}`, classIdOf(obj), 0];
  } else {
    let instanceId = instanceIds.get(obj);
    if (instanceId === undefined) instanceIds.set(obj, (instanceId = nextInstanceId++));
    if (typeof obj === "function") {
      pack = [isBoundMethod ? BOUND_METHOD_NAME : FUNCTION_NAME, classIdOf(Function), instanceId];
    } else {
      const proto: object | null = Object.getPrototypeOf(obj);
      const ctor: unknown = proto === null ? undefined : (proto as { constructor?: unknown }).constructor;
      const name = typeof ctor === "function" && ctor.name ? ctor.name : "object";
      pack = [`${JS_MODULE}.${name}`, classIdOf(typeof ctor === "function" ? ctor : Object), instanceId];
    }
  }
  idPacks.set(obj, pack);
  return pack;
}

/** Python's hash() of a served object: its instance id (stable, an int). */
export function objectHash(obj: object): number {
  const pack = localIdPack(obj, false);
  return Number(pack[2] === 0 ? pack[1] : pack[2]);
}
