// Services (rpyc/core/service.py): the root object each side exposes. Members named
// `exposed_*` are what the peer can reach; the name is the class name minus "Service",
// upper-cased, unless `static ALIASES` says otherwise.

import { AttributeError } from "../errors/python-exceptions.js";
import type { Connection } from "../connection/connection.js";

/** Python's `get_service_aliases` rule, for any class. */
export function serviceAliases(cls: { readonly name: string; readonly ALIASES?: readonly string[] }): string[] {
  if (cls.ALIASES && cls.ALIASES.length > 0) return cls.ALIASES.map((alias) => String(alias).toUpperCase());
  let name = cls.name.toUpperCase();
  if (name.endsWith("SERVICE")) name = name.slice(0, -"SERVICE".length);
  return [name];
}

export class Service {
  /** Names this service registers under; the first is its formal name. */
  static ALIASES?: readonly string[];

  static get_service_aliases(): string[] {
    return serviceAliases(this);
  }

  static get_service_name(): string {
    return this.get_service_aliases()[0]!;
  }

  /** Called when the connection is created, before it returns to the caller. May be async. */
  on_connect(_conn: Connection): void | Promise<void> {}

  /** Called after the connection closed (no I/O possible any more). May be async. */
  on_disconnect(_conn: Connection): void | Promise<void> {}

  exposed_get_service_aliases(): string[] {
    return (this.constructor as typeof Service).get_service_aliases();
  }

  exposed_get_service_name(): string {
    return (this.constructor as typeof Service).get_service_name();
  }

  /** Services refuse remote attribute writes, whatever the config (as in RPyC). */
  _rpyc_setattr(_name: string, _value: unknown): never {
    throw new AttributeError("access denied");
  }

  /** Services refuse remote attribute deletion, whatever the config (as in RPyC). */
  _rpyc_delattr(_name: string): never {
    throw new AttributeError("access denied");
  }
}

/** The empty service: what a client exposes by default. Its name is "VOID". */
export class VoidService extends Service {}

/** A service class bound to constructor arguments: each connection gets `new cls(...args)`. */
export interface ServiceFactory<S extends object = object> {
  readonly serviceClass: new (...args: never[]) => S;
  create(): S;
}

/** RPyC's `classpartial`: per-connection instances of `cls` built with `args`. */
export function classpartial<S extends object, A extends unknown[]>(cls: new (...args: A) => S, ...args: A): ServiceFactory<S> {
  return { serviceClass: cls as unknown as new (...args: never[]) => S, create: () => new cls(...args) };
}

/** What servers and connect accept as a service: a class, an instance, or a classpartial. */
export type ServiceSpec = (new () => object) | ServiceFactory | object;

function isFactory(spec: ServiceSpec): spec is ServiceFactory {
  return typeof spec === "object" && spec !== null && "serviceClass" in spec && typeof (spec as ServiceFactory).create === "function";
}

/** The root object for one new connection: class -> a new instance; instance -> itself (shared). */
export function instantiateService(spec: ServiceSpec): object {
  if (isFactory(spec)) return spec.create();
  if (typeof spec === "function") return new (spec as new () => object)();
  return spec;
}

/** The class behind a service spec (for its name and aliases). */
export function serviceClassOf(spec: ServiceSpec): { readonly name: string; readonly ALIASES?: readonly string[] } {
  if (isFactory(spec)) return spec.serviceClass;
  if (typeof spec === "function") return spec;
  return (spec as object).constructor as { readonly name: string };
}
