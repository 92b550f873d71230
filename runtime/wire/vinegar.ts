// Exception transport (rpyc/core/vinegar.py). An exception reply carries, unboxed:
// ((module, class), args, attrs, traceback_text), or the bare int 1 for StopIteration.
// One function turns any thrown value into that tuple; one turns the tuple back into a
// PythonException whose name is the Python class and whose stack shows the remote traceback.

import { dumpable } from "./brine.js";
import type { ProtocolConfig } from "../connection/config.js";
import { EXC_STOP_ITERATION, RPYC_PROTOCOL_VERSION } from "./consts.js";
import { BUILTIN_EXCEPTION_CLASSES, PYTHON_BUILTIN_EXCEPTIONS, PythonException, StopIteration, pythonMessage } from "../errors/python-exceptions.js";
import { pyRepr } from "./pyrepr.js";
import type { PyValue } from "./values.js";

export const REMOTE_LINE_START = "\n\n========= Remote Traceback (";
export const REMOTE_LINE = (n: number): string => `${REMOTE_LINE_START}${n}) =========\n`;

/** Own properties of JS errors that are not Python attributes. */
const NON_ATTRS = new Set(["name", "message", "stack", "args", "attrs", "module", "remoteTraceback", "remoteVersion", "cause"]);

type VinegarConfig = Pick<ProtocolConfig, "include_local_traceback" | "include_local_version">;
type LoadConfig = Pick<ProtocolConfig, "instantiate_custom_exceptions" | "exceptionClasses">;

function asBrine(value: unknown): PyValue {
  return dumpable(value) ? (value as PyValue) : pyRepr(value);
}

/** Module and class under which a thrown JavaScript value reaches Python. */
function pythonTypeOf(err: unknown): [string, string] {
  if (err instanceof PythonException) return [err.module, err.name];
  if (!(err instanceof Error)) return ["builtins", "Exception"];
  if (err.name === "Error") return ["builtins", "Exception"];
  // JS TypeError/SyntaxError/ReferenceError share their name with a Python builtin.
  if (PYTHON_BUILTIN_EXCEPTIONS.has(err.name)) return ["builtins", err.name];
  return ["rpyc_ts", err.name || err.constructor.name || "Error"];
}

/** Turns any thrown value into the wire form of an exception reply. */
export function dumpException(err: unknown, config: VinegarConfig): PyValue {
  if (err instanceof StopIteration) return EXC_STOP_ITERATION;
  const [module, name] = pythonTypeOf(err);
  let args: PyValue[];
  if (err instanceof PythonException) args = err.args.map(asBrine);
  else if (err instanceof Error) args = err.message === "" ? [] : [err.message];
  else args = [asBrine(err)];

  const attrs: [string, PyValue][] = [];
  if (err !== null && typeof err === "object") {
    const source = err instanceof PythonException ? { ...err.attrs, ...err } : err;
    for (const key of Object.keys(source).sort()) {
      if (key.startsWith("_") || NON_ATTRS.has(key)) continue;
      attrs.push([key, asBrine((source as Record<string, unknown>)[key])]);
    }
  }
  attrs.push(["_remote_version", config.include_local_version ? RPYC_PROTOCOL_VERSION : "<version denied>"]);

  let traceback = "<traceback denied>";
  if (config.include_local_traceback) {
    traceback = err instanceof Error && err.stack ? err.stack : `${name}: ${pythonMessage(name, args)}`;
  } else if (err instanceof PythonException && err.remoteTraceback) {
    // Passed on from another peer (a gateway forwarding its server's error): not a local traceback.
    traceback = err.remoteTraceback;
  }
  return [[module, name], args, attrs, traceback];
}

function fail(what: string): PythonException {
  const err = new PythonException(`malformed exception reply: ${what}`);
  err.name = "ProtocolError";
  return err;
}

function isStringPair(value: PyValue): value is readonly [string, string] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string";
}

/** Turns an exception reply back into a throwable error. */
export function loadException(raw: PyValue, config: LoadConfig): Error {
  if (raw === EXC_STOP_ITERATION) {
    const stop = new StopIteration();
    stop.remoteTraceback = "";
    return stop;
  }
  if (typeof raw === "string") {
    const legacy = new PythonException(raw);
    legacy.remoteTraceback = "";
    return legacy;
  }
  if (!Array.isArray(raw) || raw.length !== 4) return fail("not a 4-tuple");
  const [type, args, attrs, traceback] = raw as readonly PyValue[];
  if (!isStringPair(type!)) return fail("type is not a (module, class) pair");
  if (!Array.isArray(args)) return fail("args is not a tuple");
  if (!Array.isArray(attrs)) return fail("attrs is not a tuple");
  const [module, name] = type;

  let err: PythonException;
  const custom = config.instantiate_custom_exceptions ? config.exceptionClasses.get(`${module}.${name}`) : undefined;
  const builtin = module === "builtins" ? BUILTIN_EXCEPTION_CLASSES.get(name) : undefined;
  if (builtin) {
    err = new builtin(...(args as PyValue[]));
  } else {
    err = new PythonException(...(args as PyValue[]));
    err.name = name;
    err.message = pythonMessage(name, args as PyValue[]);
    if (custom) Object.setPrototypeOf(err, custom.prototype);
  }
  err.module = module;
  for (const pair of attrs as PyValue[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") continue;
    const [key, value] = pair as [string, PyValue];
    if (key === "_remote_version") err.remoteVersion = typeof value === "string" ? value : String(value);
    else err.attrs[key] = value;
  }
  const tb = typeof traceback === "string" ? traceback : "";
  err.remoteTraceback = tb;
  const marker = REMOTE_LINE(tb.split(REMOTE_LINE_START).length);
  err.stack = `${err.name}: ${err.message}${marker}${tb}`;
  return err;
}
