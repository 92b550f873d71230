// Python-style exceptions. Service code throws them to send a specific Python type
// (`throw new ValueError("bad")` reaches a Python client as ValueError), and exceptions
// from the peer arrive as them: `name` is the Python class name, `args` the exception args,
// `remoteTraceback` the peer's traceback text.

import type { PyValue } from "../wire/values.js";
import { pyRepr, pyStr } from "../wire/pyrepr.js";

/** Builtin exception names Python instantiates as the real class when it loads them. */
export const PYTHON_BUILTIN_EXCEPTIONS: ReadonlySet<string> = new Set([
  "BaseException",
  "Exception",
  "ArithmeticError",
  "AssertionError",
  "AttributeError",
  "BlockingIOError",
  "BrokenPipeError",
  "BufferError",
  "ChildProcessError",
  "ConnectionAbortedError",
  "ConnectionError",
  "ConnectionRefusedError",
  "ConnectionResetError",
  "EOFError",
  "FileExistsError",
  "FileNotFoundError",
  "FloatingPointError",
  "GeneratorExit",
  "ImportError",
  "IndentationError",
  "IndexError",
  "InterruptedError",
  "IsADirectoryError",
  "KeyError",
  "KeyboardInterrupt",
  "LookupError",
  "MemoryError",
  "ModuleNotFoundError",
  "NameError",
  "NotADirectoryError",
  "NotImplementedError",
  "OSError",
  "OverflowError",
  "PermissionError",
  "ProcessLookupError",
  "RecursionError",
  "ReferenceError",
  "RuntimeError",
  "StopAsyncIteration",
  "StopIteration",
  "SyntaxError",
  "SystemError",
  "SystemExit",
  "TabError",
  "TimeoutError",
  "TypeError",
  "UnboundLocalError",
  "UnicodeDecodeError",
  "UnicodeEncodeError",
  "UnicodeError",
  "UnicodeTranslateError",
  "ValueError",
  "ZeroDivisionError",
]);

/** Python's `str(exc)`: no args -> "", one arg -> str(arg), several -> repr of the tuple. */
export function pythonMessage(type: string, args: readonly PyValue[]): string {
  if (args.length === 0) return "";
  if (args.length === 1) return type === "KeyError" ? pyRepr(args[0]) : pyStr(args[0]);
  return pyRepr(args);
}

/** A Python exception in JavaScript; subclasses exist for the common builtins. */
export class PythonException extends Error {
  /** Python module of the exception class ("builtins" for builtins). */
  module: string;
  /** The exception's `args` tuple. */
  args: PyValue[];
  /** Extra attributes Python sent (e.g. `code` of a custom exception), minus `_remote_version`. */
  attrs: Record<string, PyValue> = {};
  /** The peer's traceback text when this exception came over the wire; undefined if local. */
  remoteTraceback?: string;
  /** RPyC version the peer reported, when it came over the wire. */
  remoteVersion?: string;

  constructor(...args: PyValue[]) {
    const type = OWN_NAMES.get(new.target) ?? new.target.name;
    super(pythonMessage(type, args));
    this.name = type;
    this.module = "builtins";
    this.args = args;
  }

  /** "module.Class" as Python names it. */
  get pythonType(): string {
    return `${this.module}.${this.name}`;
  }
}

export class AttributeError extends PythonException {}
export class KeyError extends PythonException {}
export class IndexError extends PythonException {}
export class ValueError extends PythonException {}
export class NotImplementedError extends PythonException {}
export class RuntimeError extends PythonException {}
export class ZeroDivisionError extends PythonException {}
/** Raised by a served iterator when it is exhausted; sent as the bare int 1. */
export class StopIteration extends PythonException {}

/** Local classes used for remote builtin exceptions, so `instanceof AttributeError` works. */
export const BUILTIN_EXCEPTION_CLASSES: ReadonlyMap<string, typeof PythonException> = new Map<string, typeof PythonException>([
  ["AttributeError", AttributeError],
  ["KeyError", KeyError],
  ["IndexError", IndexError],
  ["ValueError", ValueError],
  ["NotImplementedError", NotImplementedError],
  ["RuntimeError", RuntimeError],
  ["ZeroDivisionError", ZeroDivisionError],
  ["StopIteration", StopIteration],
]);

/**
 * The names of these classes as data: a minifier (a web app's bundler) renames classes, and
 * the name is the Python type a thrown ValueError reaches Python as. Other subclasses (users')
 * are named by their class.
 */
const OWN_NAMES: ReadonlyMap<typeof PythonException, string> = new Map([
  ...[...BUILTIN_EXCEPTION_CLASSES].map(([name, cls]) => [cls, name] as const),
  [PythonException, "PythonException"],
]);

/** True when `value` is an exception that came from the peer. */
export function isRemoteException(value: unknown, pythonName?: string): value is PythonException {
  return (
    value instanceof PythonException &&
    value.remoteTraceback !== undefined &&
    (pythonName === undefined || value.name === pythonName || value.pythonType === pythonName)
  );
}
