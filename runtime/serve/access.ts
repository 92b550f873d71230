// Attribute access on the serving side: RPyC's `_check_attr`/`_access_attr` rules
// (exposed_ prefix, safe/public/all switches, `_rpyc_getattr` overriders), plus the rule
// Python never needed: JavaScript's own machinery (`__proto__`, `constructor`,
// `prototype`, anything on Object.prototype or Function.prototype) is never reachable,
// whatever the configuration.

import type { ProtocolConfig } from "../connection/config.js";
import { AttributeError } from "../errors/python-exceptions.js";
import { emulatedDunder } from "./pyproto.js";
import { pyRepr } from "../wire/pyrepr.js";

/** Names refused on every object, even with allow_all_attrs. */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype", "caller", "arguments", "callee"]);

/** Service lifecycle hooks: the runtime calls them, a peer never does. */
const LIFECYCLE_NAMES: ReadonlySet<string> = new Set(["on_connect", "on_disconnect"]);

/**
 * Names a peer can never reach, whatever the config: JavaScript's machinery (FORBIDDEN_NAMES),
 * RPyC's private protocol names (`_rpyc_getattr`/`_rpyc_setattr`/`_rpyc_delattr` overriders,
 * `____conn__`-style netref internals) and the lifecycle hooks.
 */
export function isReservedName(name: string): boolean {
  return FORBIDDEN_NAMES.has(name) || name.startsWith("_rpyc_") || name.startsWith("____") || LIFECYCLE_NAMES.has(name);
}

/** Prototypes whose members belong to JavaScript, not to the served object. */
const LANGUAGE_ROOTS: ReadonlySet<object> = new Set([Object.prototype, Function.prototype]);

const owns = (o: object, name: string): boolean => Object.hasOwn(o, name);

/**
 * Object.prototype or Function.prototype of ANY realm: objects made in a node:vm context
 * (ClassicService's eval) inherit from that context's own copies, which must be as
 * unreachable as ours.
 */
export function isLanguageRoot(o: object): boolean {
  if (LANGUAGE_ROOTS.has(o)) return true;
  const proto: unknown = Object.getPrototypeOf(o);
  // Object.prototype: the end of every chain, owning the __proto__ accessor and hasOwnProperty.
  if (proto === null) return owns(o, "__proto__") && owns(o, "hasOwnProperty") && owns(o, "isPrototypeOf");
  // Function.prototype: a function owning call/apply/bind, whose constructor is Function.
  return (
    typeof o === "function" &&
    owns(o, "call") &&
    owns(o, "apply") &&
    owns(o, "bind") &&
    (o as { constructor?: { name?: unknown } }).constructor?.name === "Function"
  );
}

export type AccessPerm = "allow_getattr" | "allow_setattr" | "allow_delattr";

type AccessConfig = Pick<
  ProtocolConfig,
  | "allow_getattr"
  | "allow_setattr"
  | "allow_delattr"
  | "allow_all_attrs"
  | "allow_exposed_attrs"
  | "allow_safe_attrs"
  | "allow_public_attrs"
  | "safe_attrs"
  | "exposed_prefix"
>;

/** Bound methods handed out by getattr, mapped to their function and receiver (for kwargs and INSPECT). */
export const boundMethods = new WeakMap<Function, { fn: Function; self: object }>();

/** The object in `obj`'s chain that owns `name`, stopping before JavaScript's root prototypes. */
export function findOwner(obj: object, name: string): object | undefined {
  if (FORBIDDEN_NAMES.has(name)) return undefined;
  for (let o: object | null = obj; o !== null && !isLanguageRoot(o); o = Object.getPrototypeOf(o)) {
    if (Object.hasOwn(o, name)) return o;
  }
  return undefined;
}

/** Python's `hasattr` for a served object: own chain members and emulated dunders. */
export function hasAttribute(obj: object, name: string): boolean {
  return findOwner(obj, name) !== undefined || (!FORBIDDEN_NAMES.has(name) && emulatedDunder(obj, name) !== undefined);
}

function typeName(obj: object): string {
  if (typeof obj === "function") return "function";
  return Object.getPrototypeOf(obj)?.constructor?.name ?? "object";
}

function bindMethod(fn: Function, self: object): Function {
  const bound = fn.bind(self);
  boundMethods.set(bound, { fn, self });
  return bound;
}

/** Python's `getattr(obj, name)` on a served object (no access rules; see accessAttribute). */
export function getAttribute(obj: object, name: string): unknown {
  if (findOwner(obj, name) !== undefined) {
    const value: unknown = Reflect.get(obj, name, obj);
    return typeof value === "function" ? bindMethod(value, obj) : value;
  }
  if (!FORBIDDEN_NAMES.has(name)) {
    const dunder = emulatedDunder(obj, name);
    if (dunder) return dunder;
    if (name === "__doc__") return null;
  }
  throw new AttributeError(`'${typeName(obj)}' object has no attribute ${pyRepr(name)}`);
}

/** Members of Object.prototype and Function.prototype (`toString`, `call`, `__defineGetter__`, ...). */
const LANGUAGE_MEMBERS: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Function.prototype)]);

function setAttribute(obj: object, name: string, value: unknown): void {
  // A peer never writes a name JavaScript itself defines on its root prototypes, on any
  // object: it would shadow (or, on a function, replace) the language's own member.
  if (FORBIDDEN_NAMES.has(name) || LANGUAGE_MEMBERS.has(name)) throw new AttributeError(`cannot set ${pyRepr(name)}`);
  (obj as Record<string, unknown>)[name] = value;
}

function deleteAttribute(obj: object, name: string): void {
  if (LANGUAGE_MEMBERS.has(name)) throw new AttributeError(`cannot delete ${pyRepr(name)}`);
  if (findOwner(obj, name) !== obj) throw new AttributeError(`'${typeName(obj)}' object has no attribute ${pyRepr(name)}`);
  delete (obj as Record<string, unknown>)[name];
}

function denied(name: string): AttributeError {
  return new AttributeError(`cannot access ${pyRepr(name)}`);
}

/** RPyC's `_check_attr`: which name (plain or prefixed) a peer may reach, or AttributeError. */
export function checkAttribute(obj: object, name: string, perm: AccessPerm, config: AccessConfig): string {
  if (!config[perm] || isReservedName(name)) throw denied(name);
  const prefix = config.allow_exposed_attrs ? config.exposed_prefix : "";
  const plain =
    config.allow_all_attrs ||
    (config.allow_exposed_attrs && name.startsWith(prefix)) ||
    (config.allow_safe_attrs && config.safe_attrs.has(name)) ||
    (config.allow_public_attrs && !name.startsWith("_"));
  const hasExposed = prefix !== "" && hasAttribute(obj, prefix + name);
  if (plain && (!hasExposed || hasAttribute(obj, name))) return name;
  if (hasExposed) return prefix + name;
  if (plain) return name;
  // The one refusal a user meets by design (a returned object's method or field): say what opens it.
  // (Not on a service: its hidden members are hidden by design.)
  if (!config.allow_public_attrs && !config.allow_all_attrs && !name.startsWith("_") && !isServiceLike(obj)) {
    return throwWithHint(name, "public attributes of served objects need allow_public_attrs on the server; exposed_ members are always reachable");
  }
  throw denied(name);
}

/** A Service (every one exposes get_service_name), told apart without importing the class. */
function isServiceLike(obj: object): boolean {
  return typeof (obj as { exposed_get_service_name?: unknown }).exposed_get_service_name === "function";
}

function throwWithHint(name: string, hint: string): never {
  throw new AttributeError(`cannot access ${pyRepr(name)} (${hint})`);
}

/** Normalises an attribute name from the wire: str, or bytes decoded as UTF-8. */
export function attributeName(name: unknown): string {
  if (typeof name === "string") return name;
  if (name instanceof Uint8Array) return new TextDecoder("utf-8", { fatal: true }).decode(name);
  throw new TypeError("name must be a string");
}

const OVERRIDERS: Readonly<Record<AccessPerm, string>> = {
  allow_getattr: "_rpyc_getattr",
  allow_setattr: "_rpyc_setattr",
  allow_delattr: "_rpyc_delattr",
};

/**
 * RPyC's `_access_attr`: an `_rpyc_getattr`/`_rpyc_setattr`/`_rpyc_delattr` method on the
 * object decides alone; otherwise the config rules pick the name and the default acts.
 */
export function accessAttribute(obj: object, rawName: unknown, perm: "allow_getattr", config: AccessConfig): unknown;
export function accessAttribute(obj: object, rawName: unknown, perm: "allow_setattr", config: AccessConfig, value: unknown): unknown;
export function accessAttribute(obj: object, rawName: unknown, perm: "allow_delattr", config: AccessConfig): unknown;
export function accessAttribute(obj: object, rawName: unknown, perm: AccessPerm, config: AccessConfig, value?: unknown): unknown {
  const name = attributeName(rawName);
  if (isReservedName(name)) throw denied(name);
  const overriderName = OVERRIDERS[perm];
  if (findOwner(obj, overriderName) !== undefined) {
    const overrider = (obj as Record<string, unknown>)[overriderName];
    if (typeof overrider === "function") {
      return perm === "allow_setattr" ? overrider.call(obj, name, value) : overrider.call(obj, name);
    }
  }
  const resolved = checkAttribute(obj, name, perm, config);
  switch (perm) {
    case "allow_getattr":
      return getAttribute(obj, resolved);
    case "allow_setattr":
      return setAttribute(obj, resolved, value);
    case "allow_delattr":
      return deleteAttribute(obj, resolved);
  }
}
