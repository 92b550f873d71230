// Telling values apart without the netref Proxy: a tiny module with no imports, so that code
// which only needs to know whether a value is a netref (compiled/schema.ts) or a promise
// does not depend on netref.ts.

/** On a netref (answered by its Proxy): its NetrefState. */
export const STATE = Symbol("rpyc.netref.state");

/** Whether `value` is a netref (a remote object's proxy). */
export function isNetref(value: unknown): boolean {
  return typeof value === "function" && (value as unknown as { [STATE]?: unknown })[STATE] !== undefined;
}

/** Whether `value` is thenable (a netref never is: its Proxy hides `then`). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}
