// Classic mode (rpyc/core/service.py SlaveService/MasterService, rpyc/utils/classic.py):
// the peer runs arbitrary JavaScript here, imports any module and reaches every attribute.
//
// SECURITY: ClassicService grants ARBITRARY CODE EXECUTION to anyone who can connect. It
// is never a default; serve it only on loopback or inside a network you fully trust.
//
// Server side: `ClassicService` is SlaveService for Node — `namespace`, `execute(code)`,
// `eval(code)`, `getmodule(name)`, `builtins`, `getconn()` — and on connect it opens up
// every attribute of every object on that connection (as SlaveService does). JavaScript
// internals (`__proto__`, `constructor`, `prototype`, ...; access.ts's FORBIDDEN_NAMES) stay
// unreachable even then.
//
// Client side: `connectClassic()` is rpyc.classic.connect: the returned connection has
// `modules`, `eval`, `execute`, `namespace` and `builtins` (what MasterService installs).
// As in RPyC, the client also serves a ClassicService to the server unless
// `exposeLocal: false`.

import { existsSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import path from "node:path";
import { inspect } from "node:util";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import { FORBIDDEN_NAMES } from "../serve/access.js";
import type { ProtocolConfig } from "../connection/config.js";
import { KeyError, PythonException } from "../errors/python-exceptions.js";
import { connect, type ConnectOptions } from "../server/connect.js";
import type { Connection } from "../connection/connection.js";
import { pyRepr } from "../wire/pyrepr.js";
import { Service, VoidService } from "../serve/service.js";
import type { DynamicNetref, NetrefBase } from "../netref/types.js";
import { isPromiseLike } from "../netref/brand.js";

/** Port of classic-mode servers (RPyC's DEFAULT_SERVER_PORT). */
export const DEFAULT_CLASSIC_PORT = 18812;

/** What SlaveService.on_connect sets on its connection (allow_pickle stays off: JavaScript cannot pickle). */
const CLASSIC_CONFIG = {
  allow_all_attrs: true,
  allow_getattr: true,
  allow_setattr: true,
  allow_delattr: true,
  allow_exposed_attrs: false,
  import_custom_exceptions: true,
  instantiate_custom_exceptions: true,
  instantiate_oldstyle_exceptions: true,
} as const satisfies Partial<ProtocolConfig>;

/** Python's ModuleNotFoundError (a builtin there, so a Python peer gets the real class). */
class ModuleNotFoundError extends PythonException {}

// ---- modules ------------------------------------------------------------------------

const SOURCE_NAME = "<rpyc-classic>";

/** `require` resolving from the working directory, where the user's packages are installed. */
function cwdRequire(): NodeJS.Require {
  return createRequire(path.join(process.cwd(), SOURCE_NAME));
}

const ownRequire = createRequire(import.meta.url);

function isPathSpecifier(spec: string): boolean {
  return spec.startsWith("../") || spec.startsWith("../") || spec === "." || spec === ".." || path.isAbsolute(spec);
}

/** Where a bare package name resolves: the working directory first, then rpyc-ts's own location. */
function resolvePackage(spec: string): string | undefined {
  for (const require of [cwdRequire(), ownRequire]) {
    try {
      return pathToFileURL(require.resolve(spec)).href;
    } catch {
      // try the next base
    }
  }
  return undefined;
}

/** True when `spec` names something importModule can find (Python's `find_spec(...) is not None`). */
export function canImport(spec: string): boolean {
  if (isBuiltin(spec)) return true;
  if (spec.startsWith("file:")) {
    try {
      return existsSync(new URL(spec));
    } catch {
      return false;
    }
  }
  if (isPathSpecifier(spec)) return existsSync(path.resolve(process.cwd(), spec));
  for (const require of [cwdRequire(), ownRequire]) {
    try {
      require.resolve(spec);
      return true;
    } catch (err) {
      // An ESM-only package exists even though require cannot resolve it.
      if ((err as { code?: string }).code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return true;
    }
  }
  return false;
}

const NOT_FOUND_CODES = new Set([
  "ERR_MODULE_NOT_FOUND",
  "MODULE_NOT_FOUND",
  "ERR_UNSUPPORTED_DIR_IMPORT",
  "ERR_PACKAGE_PATH_NOT_EXPORTED",
  "ERR_UNKNOWN_BUILTIN_MODULE",
  "ERR_INVALID_MODULE_SPECIFIER",
]);

/**
 * Dynamic import() of a module by name, returning its namespace object: node builtins
 * ("node:os", "os"), paths (relative to the working directory) and installed packages
 * (resolved from the working directory, then from rpyc-ts's own location). A module that
 * cannot be found fails with Python's ModuleNotFoundError.
 */
export async function importModule(spec: string): Promise<object> {
  if (typeof spec !== "string" || spec === "") throw new TypeError("module name must be a non-empty string");
  let target = spec;
  if (!isBuiltin(spec) && !spec.startsWith("file:") && !spec.startsWith("data:")) {
    target = isPathSpecifier(spec) ? pathToFileURL(path.resolve(process.cwd(), spec)).href : (resolvePackage(spec) ?? spec);
  }
  try {
    return (await import(/* @vite-ignore */ target)) as object;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if ((typeof code === "string" && NOT_FOUND_CODES.has(code)) || !canImport(spec)) {
      const missing = new ModuleNotFoundError(`No module named ${pyRepr(spec)}`);
      missing.cause = err;
      throw missing;
    }
    throw err;
  }
}

/**
 * What `getmodule("importlib.util")` returns: Python's MasterService (rpyc.classic.connect)
 * fetches that module when it connects and asks its `_find_spec_from_path(name)` for
 * `name in conn.modules`.
 */
class ImportlibUtil {
  _find_spec_from_path(name: string): string | null {
    return typeof name === "string" && canImport(name) ? name : null;
  }
  find_spec(name: string): string | null {
    return this._find_spec_from_path(name);
  }
}

const IMPORTLIB_UTIL = new ImportlibUtil();

// ---- the namespace ------------------------------------------------------------------

/**
 * Python dict behaviour for the namespace, so a Python peer's `conn.namespace["x"]`,
 * `"x" in conn.namespace`, `len(...)` and iteration work. Own properties are the entries.
 */
const NAMESPACE_METHODS: object = Object.create(Object.prototype, {
  __getitem__: {
    value(this: Record<string, unknown>, key: unknown): unknown {
      if (typeof key !== "string" || !Object.hasOwn(this, key)) throw new KeyError(key as string);
      return this[key];
    },
  },
  __setitem__: {
    value(this: Record<string, unknown>, key: unknown, value: unknown): void {
      if (typeof key !== "string") throw new TypeError("namespace keys must be strings");
      if (FORBIDDEN_NAMES.has(key)) throw new KeyError(key);
      Object.defineProperty(this, key, { value, writable: true, enumerable: true, configurable: true });
    },
  },
  __delitem__: {
    value(this: Record<string, unknown>, key: unknown): void {
      if (typeof key !== "string" || !Object.hasOwn(this, key)) throw new KeyError(key as string);
      delete this[key];
    },
  },
  __contains__: {
    value(this: object, key: unknown): boolean {
      return typeof key === "string" && Object.hasOwn(this, key);
    },
  },
  __len__: {
    value(this: object): number {
      return Object.keys(this).length;
    },
  },
  __iter__: {
    value(this: object): Iterator<string> {
      return Object.keys(this)[Symbol.iterator]();
    },
  },
});

/**
 * Node's own globals (process, Buffer, timers, URL, fetch, ...) are not part of a fresh
 * vm context; evaluated code gets them as Node's REPL does.
 */
let nodeGlobals: readonly string[] | undefined;
function nodeGlobalNames(): readonly string[] {
  // Computed on first use: importing rpyc-ts must not create a vm context.
  if (!nodeGlobals) {
    const fresh = new Set(vm.runInNewContext("Object.getOwnPropertyNames(globalThis)") as string[]);
    nodeGlobals = Object.getOwnPropertyNames(globalThis).filter((name) => !fresh.has(name) && name !== "global" && name !== "globalThis");
  }
  return nodeGlobals;
}

/**
 * Constructors without literal syntax are shared with this process, so what evaluated code
 * builds with them is an ordinary object here: a Uint8Array travels as bytes, a Map or Set
 * gets Python's len()/[]/in, and `instanceof` agrees with Buffer and module results.
 */
const SHARED_CONSTRUCTORS = [
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "FinalizationRegistry",
  "Date",
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;

function defineValue(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, writable: true, enumerable: false, configurable: true });
}

/** The prototype of one namespace: dict methods, then the globals evaluated code sees. */
function namespacePrototype(): object {
  const proto: object = Object.create(NAMESPACE_METHODS);
  for (const name of nodeGlobalNames()) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
    if (!descriptor) continue;
    if ("value" in descriptor) {
      defineValue(proto, name, descriptor.value);
    } else {
      // Node's lazy getters check their receiver: read them from the real global.
      Object.defineProperty(proto, name, {
        get: () => Reflect.get(globalThis, name),
        set(this: object, value: unknown) {
          Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
        },
        enumerable: false,
        configurable: true,
      });
    }
  }
  for (const name of SHARED_CONSTRUCTORS) {
    const ctor = (globalThis as Record<string, unknown>)[name];
    if (ctor !== undefined) defineValue(proto, name, ctor);
  }
  defineValue(proto, "console", console);
  defineValue(proto, "importModule", importModule);
  defineValue(proto, "require", cwdRequire());
  return proto;
}

// ---- evaluation ---------------------------------------------------------------------

const LOCAL_ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
};

/**
 * Errors thrown by evaluated code belong to the vm context's realm (`instanceof Error` is
 * false here); rebuild them as this realm's errors so they reach the peer with their
 * class name, message, stack and extra properties.
 */
function localError(err: unknown): unknown {
  if (err instanceof Error || typeof err !== "object" || err === null) return err;
  if (Object.prototype.toString.call(err) !== "[object Error]") return err;
  const foreign = err as Record<string, unknown>;
  const name = typeof foreign.name === "string" && foreign.name !== "" ? foreign.name : "Error";
  const local = new (LOCAL_ERRORS[name] ?? Error)(String(foreign.message ?? ""));
  if (local.name !== name) defineValue(local, "name", name);
  if (typeof foreign.stack === "string") defineValue(local, "stack", foreign.stack);
  if ("cause" in foreign) defineValue(local, "cause", localError(foreign.cause));
  for (const key of Object.keys(foreign)) {
    if (key !== "name" && key !== "message" && key !== "stack" && !FORBIDDEN_NAMES.has(key)) {
      (local as unknown as Record<string, unknown>)[key] = foreign[key];
    }
  }
  return local;
}

/** A Uint8Array made with the context's own (unshared) intrinsics still travels as bytes. */
function localValue(value: unknown): unknown {
  if (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    ArrayBuffer.isView(value) &&
    Object.prototype.toString.call(value) === "[object Uint8Array]"
  ) {
    return Uint8Array.from(value as unknown as ArrayLike<number>);
  }
  return value;
}

function settle(result: unknown): unknown {
  if (!isPromiseLike(result)) return localValue(result);
  return Promise.resolve(result).then(localValue, (err: unknown) => {
    throw localError(err);
  });
}

function sourceOf(code: unknown): string {
  if (typeof code === "string") return code;
  if (code instanceof Uint8Array) return new TextDecoder().decode(code);
  throw new TypeError(`code must be a string, got ${pyRepr(code)}`);
}

function compile(source: string): vm.Script {
  return new vm.Script(source, { filename: SOURCE_NAME });
}

/** The first form of `variants` that compiles; otherwise the error of the `primary` form. */
function compileFirst(variants: readonly string[], primary: number): vm.Script {
  const errors: unknown[] = [];
  for (const variant of variants) {
    try {
      return compile(variant);
    } catch (err) {
      errors.push(err);
    }
  }
  throw errors[primary];
}

const USES_AWAIT = /\bawait\b/;

// ---- the service --------------------------------------------------------------------

/**
 * Classic mode, the counterpart of RPyC's SlaveService for Node.
 *
 * **Grants arbitrary code execution to anyone who can connect**: the peer can run any
 * JavaScript in this process (`eval`, `execute`), import any module (`getmodule`: node:fs,
 * node:child_process, ...), and read, write and delete every attribute of every object it
 * reaches. Never expose it to an untrusted network; it is never used unless you choose it
 * (a server with this service, `connectClassic`, or the `rpyc-classic` CLI).
 *
 * On connect it turns on full attribute access for its connection exactly as SlaveService
 * does (`allow_all_attrs`, `allow_getattr/setattr/delattr`, no `exposed_` prefix;
 * `allow_pickle` stays false, as JavaScript objects cannot be pickled). JavaScript internals
 * (`__proto__`, `constructor`, `prototype`, `caller`, `arguments`, and members of this
 * process's Object.prototype/Function.prototype) stay unreachable. Objects created by
 * evaluated code inherit the vm context's own Object.prototype/Function.prototype, whose
 * members (`toString`, `hasOwnProperty`, `call`, ...) a peer can reach by name; that grants
 * nothing the peer's `eval` does not already have.
 *
 * It registers as "SLAVE", as Python's `rpyc_classic` server does. Each connection gets its
 * own instance (when served as a class), so its own namespace.
 *
 * Evaluated code runs in a node:vm context whose global object is `namespace`: plain
 * assignments, `var` and `function` declarations become namespace entries; top-level
 * `let`/`const`/`class` persist between calls but are not entries. It sees Node's globals
 * (process, Buffer, timers, fetch, ...), `importModule(name)` (the same as `getmodule`) and a
 * `require` resolving from the working directory. `await` may be used at the top level
 * (then `execute` runs the code in an async function, so declarations stay local: assign
 * to bare names to keep values). The vm context is NOT a sandbox.
 */
export class ClassicService extends Service {
  static override ALIASES: readonly string[] = ["SLAVE"];

  /** The globals of evaluated code, persisting across execute/eval on this connection. */
  readonly namespace: Record<string, unknown>;
  /** This process's global object (RPyC's `builtins` module). */
  readonly builtins: typeof globalThis = globalThis;
  #conn: Connection | null = null;
  readonly #globals: object;

  constructor() {
    super();
    this.#globals = namespacePrototype();
    this.namespace = Object.create(this.#globals) as Record<string, unknown>;
  }

  override on_connect(conn: Connection): void {
    this.#conn = conn;
    Object.assign(conn.config, CLASSIC_CONFIG);
  }

  /** The namespace, contextified on first use (a connection that never evaluates pays nothing). */
  #context(): vm.Context {
    if (!vm.isContext(this.namespace)) {
      vm.createContext(this.namespace, { name: `rpyc-classic ${this.#conn?.connid ?? ""}`.trim() });
      defineValue(this.#globals, "global", vm.runInContext("globalThis", this.namespace));
    }
    return this.namespace;
  }

  #run(script: vm.Script): unknown {
    try {
      return script.runInContext(this.#context());
    } catch (err) {
      throw localError(err);
    }
  }

  /**
   * Runs JavaScript statements with `namespace` as the global object (Python's `exec`).
   * Resolves to null once done (also after top-level `await`).
   */
  execute(code: string): null | Promise<null> {
    const source = sourceOf(code);
    let script: vm.Script;
    try {
      script = compile(source);
    } catch (err) {
      if (!USES_AWAIT.test(source)) throw err;
      try {
        script = compile(`(async () => {\n${source}\n})()`);
      } catch {
        throw err; // not a top-level await problem: report the code as written
      }
      return Promise.resolve(settle(this.#run(script))).then(() => null);
    }
    this.#run(script);
    return null;
  }

  /**
   * Evaluates JavaScript and returns its value (Python's `eval`): an expression, or else
   * statements whose completion value is returned. Plain values travel by value, objects
   * and functions as netrefs; a promise is awaited.
   */
  eval(code: string): unknown {
    const source = sourceOf(code);
    const variants = [`(${source}\n)`, source];
    if (USES_AWAIT.test(source)) variants.push(`(async () => (${source}\n))()`);
    return settle(this.#run(compileFirst(variants, 1)));
  }

  /**
   * Imports a module and returns its namespace object: "node:os", "os", "./file.js" or an
   * installed package. "builtins" is this process's global object; "importlib.util" is a
   * small stand-in Python's rpyc.classic clients use. A tuple of names is joined with ".".
   */
  getmodule(name: string | readonly string[]): Promise<object> | object {
    const spec = Array.isArray(name) ? name.join(".") : name;
    if (spec === "builtins") return globalThis;
    if (spec === "importlib.util") return IMPORTLIB_UTIL;
    return importModule(spec as string);
  }

  /** The connection this service serves. */
  getconn(): Connection {
    if (!this.#conn) throw new TypeError("not connected");
    return this.#conn;
  }

  /** Python's Service answers these under their plain names too (no exposed_ prefix in classic mode). */
  get_service_name(): string {
    return (this.constructor as typeof Service).get_service_name();
  }

  get_service_aliases(): string[] {
    return (this.constructor as typeof Service).get_service_aliases();
  }
}

// ---- the client side ----------------------------------------------------------------

/**
 * A remote module, or a path into it, before anything was fetched: `await` it for the value
 * (`await conn.modules.sys.version_info.major`), call it for a remote call
 * (`await conn.modules.os.getpid()`).
 */
export type RemotePath = PromiseLike<unknown> &
  ((...args: unknown[]) => Promise<unknown>) & {
    catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<unknown>;
    finally(onfinally?: (() => void) | null): Promise<unknown>;
  } & { readonly [name: string]: RemotePath };

/** `conn.modules`: every property is a module of the peer, imported on first use and cached. */
export type ModuleNamespace = { readonly [name: string]: RemotePath };

/** A netref of a classic peer, typed for free exploration: every member is a RemotePath. */
export type RemoteObject = NetrefBase & ((...args: unknown[]) => Promise<unknown>) & { readonly [name: string]: RemotePath } & AsyncIterable<unknown>;

/** The root of a classic server (SlaveService / ClassicService), as a netref. */
export interface ClassicRoot extends NetrefBase {
  eval(code: string): Promise<unknown>;
  execute(code: string): Promise<unknown>;
  getmodule(name: string | readonly string[]): Promise<RemoteObject>;
  getconn(): Promise<RemoteObject>;
  readonly namespace: RemotePath;
  /** rpyc-ts peers only (Python's SlaveService has no `builtins`; use `conn.builtins`). */
  readonly builtins: RemotePath;
  get_service_name(): Promise<string>;
  get_service_aliases(): Promise<string[]>;
  readonly [name: string]: unknown;
}

/** A connection to a classic server, with what RPyC's MasterService installs. */
export interface ClassicConnection extends Connection<ClassicRoot> {
  /** The peer's modules: `await conn.modules.os.getpid()`, `await conn.modules["node:path"].join("a", "b")`. */
  readonly modules: ModuleNamespace;
  /** The peer's builtins module (Python's `builtins`, JavaScript's globalThis). */
  readonly builtins: RemoteObject;
  /** The peer's namespace (a dict on Python peers: use getitem; an object on rpyc-ts peers). */
  readonly namespace: RemoteObject;
  /** Evaluates code on the peer and returns the value. */
  eval(code: string): Promise<unknown>;
  /** Executes code on the peer in its namespace. */
  execute(code: string): Promise<void>;
  /** The peer's module `name` as a netref (cached, as `modules[name]`). */
  getmodule(name: string): Promise<RemoteObject>;
}

function lazyPath(load: () => Promise<unknown>, names: readonly string[], label: string): RemotePath {
  const resolve = async (): Promise<unknown> => {
    let value = await load();
    for (const name of names) value = await (value as Record<string, unknown>)[name];
    return value;
  };
  const call = async (...args: unknown[]): Promise<unknown> => {
    const base = await load();
    if (names.length === 0) {
      if (typeof base !== "function") throw new TypeError(`${label} is not callable`);
      return base(...args);
    }
    let receiver = base;
    for (const name of names.slice(0, -1)) receiver = await (receiver as Record<string, unknown>)[name];
    const method = (receiver as Record<string, unknown>)[names[names.length - 1]!];
    if (typeof method !== "function") throw new TypeError(`${label} is not callable`);
    // Reflect.apply: `.apply` on a netref attribute would be a remote attribute itself.
    return Reflect.apply(method, receiver, args);
  };
  const describe = (): string => `<remote ${label}>`;
  const target = function remotePath(): void {};
  return new Proxy(target, {
    apply: (_t, _this, args: unknown[]) => call(...args),
    get: (_t, prop) => {
      switch (prop) {
        case "then":
          return (onfulfilled?: (v: unknown) => unknown, onrejected?: (e: unknown) => unknown) => resolve().then(onfulfilled, onrejected);
        case "catch":
          return (onrejected?: (e: unknown) => unknown) => resolve().catch(onrejected);
        case "finally":
          return (onfinally?: () => void) => resolve().finally(onfinally);
        case "toString":
        case Symbol.toPrimitive:
        case inspect.custom:
          return describe;
      }
      if (typeof prop === "symbol") return undefined;
      return lazyPath(load, [...names, prop], `${label}.${prop}`);
    },
    set: () => {
      throw new TypeError(`cannot assign through ${describe()}; use await setattr(ref, name, value)`);
    },
  }) as unknown as RemotePath;
}

function moduleNamespace(getmodule: (name: string) => Promise<unknown>): ModuleNamespace {
  const describe = (): string => "<remote modules>";
  return new Proxy(Object.create(null) as object, {
    get: (_t, prop) => {
      if (prop === inspect.custom || prop === Symbol.toPrimitive || prop === "toString") return describe;
      if (typeof prop === "symbol" || prop === "then") return undefined;
      return lazyPath(() => getmodule(prop), [], `module ${pyRepr(prop)}`);
    },
    set: () => {
      throw new TypeError("conn.modules is read-only");
    },
  }) as ModuleNamespace;
}

/**
 * RPyC's `MasterService._install`: fetches the peer's root and installs `modules`, `eval`,
 * `execute`, `namespace` and `builtins` on `conn`. connectClassic calls it; use it directly
 * for other transports (`installClassic(await unixConnect(path, { service: ... }))`).
 */
export async function installClassic(conn: Connection): Promise<ClassicConnection> {
  const root = (await conn.getRoot()) as unknown as DynamicNetref;
  const cache = new Map<string, Promise<unknown>>();
  const getmodule = (name: string): Promise<unknown> => {
    let pending = cache.get(name);
    if (!pending) {
      pending = root.getmodule!(name);
      cache.set(name, pending);
      pending.catch(() => cache.delete(name));
    }
    return pending;
  };
  const builtins = await getmodule("builtins");
  const namespace = await root.namespace!;
  const members: Record<string, unknown> = {
    modules: moduleNamespace(getmodule),
    builtins,
    namespace,
    eval: (code: string): Promise<unknown> => root.eval!(code),
    execute: async (code: string): Promise<void> => {
      await root.execute!(code);
    },
    getmodule,
  };
  for (const [name, value] of Object.entries(members)) {
    Object.defineProperty(conn, name, { value, enumerable: true, configurable: true, writable: false });
  }
  return conn as unknown as ClassicConnection;
}

export interface ClassicConnectOptions extends Omit<ConnectOptions, "service"> {
  /**
   * Serve a ClassicService to the server, as rpyc.classic.connect does (default: true).
   * That grants the SERVER arbitrary code execution in this process; pass false to give it
   * only a VoidService. Python servers running the full-duplex `rpyc.classic.ClassicService`
   * (not `rpyc_classic`'s SlaveService) need true: they import our modules on connect.
   */
  exposeLocal?: boolean;
}

/**
 * Connects to a classic-mode server (rpyc.classic.connect): an rpyc-ts ClassicService, a
 * Python `rpyc_classic` server, or any server of SlaveService/ClassicService. The peer
 * server grants this client arbitrary code execution; by default (as in RPyC) this client
 * grants the same to the server — see `exposeLocal`.
 */
export async function connectClassic(host = "127.0.0.1", port = DEFAULT_CLASSIC_PORT, options: ClassicConnectOptions = {}): Promise<ClassicConnection> {
  const { exposeLocal = true, ...rest } = options;
  const conn = await connect(host, port, { ...rest, service: exposeLocal ? ClassicService : VoidService });
  try {
    return await installClassic(conn);
  } catch (err) {
    await conn.close();
    throw err;
  }
}
