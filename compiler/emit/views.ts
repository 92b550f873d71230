// ServiceModel -> views: the plain data each TypeScript template renders. Views decide what
// goes in a file (which types, which imports, which names); templates decide how it reads.

import { compareStrings } from "../common.js";
import type { AttributeDef, MethodDef, ServiceDef, TypeDef, WireType } from "../model.js";
import {
  childTypes,
  importSpecifier,
  memberTypes,
  mentionedNames,
  type ModelIndex,
  serviceNames,
  typeDefBodies,
  type EmitOptions,
  type ServiceNames,
} from "./context.js";
import { keywordsType, PYTHON_RUNTIME_TYPES, pythonFieldTypes, pythonNaming, pythonRuntimeTypes, type PythonRuntimeType } from "./python-views.js";
import { cleanParam, cleanWireType, type RuntimeNames, type TsNaming } from "./ts-types.js";

/** One import declaration; `typeOnly` makes the whole declaration `import type`. */
export interface ImportView {
  readonly specifier: string;
  readonly typeOnly: boolean;
  readonly defaultName?: string;
  readonly names: readonly { readonly name: string; readonly alias?: string; readonly typeOnly: boolean }[];
}

interface ImportName {
  readonly name: string;
  readonly alias?: string;
  readonly typeOnly: boolean;
}

/** Collects imports by specifier; renders them sorted by specifier, names sorted. */
class Imports {
  private readonly bySpecifier = new Map<string, { defaultName?: string; names: Map<string, ImportName> }>();

  add(specifier: string, name: ImportName | { readonly defaultName: string }): void {
    let entry = this.bySpecifier.get(specifier);
    if (!entry) this.bySpecifier.set(specifier, (entry = { names: new Map() }));
    if ("defaultName" in name) {
      entry.defaultName = name.defaultName;
      return;
    }
    const key = name.alias ?? name.name;
    const existing = entry.names.get(key);
    // A value import covers the type use too.
    if (!existing || (existing.typeOnly && !name.typeOnly)) entry.names.set(key, name);
  }

  views(): ImportView[] {
    return [...this.bySpecifier]
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([specifier, entry]) => {
        const names = [...entry.names.values()].sort((a, b) => compareStrings(a.alias ?? a.name, b.alias ?? b.name));
        const typeOnly = entry.defaultName === undefined && names.every((n) => n.typeOnly);
        return {
          specifier,
          typeOnly,
          ...(entry.defaultName !== undefined ? { defaultName: entry.defaultName } : {}),
          names: names.map((n) => ({ name: n.name, ...(n.alias !== undefined ? { alias: n.alias } : {}), typeOnly: n.typeOnly && !typeOnly })),
        };
      });
  }
}

/**
 * Client stubs of TypeScript services write a netref of a compiled service as `service(other)`
 * says (its shape interface by default); a Set as a RemoteSet of its items; any other object
 * (an instance of a class that is not a service) as `other`: in the shape interface, whose
 * parameters the client passes, `object` (a local object travels by reference, as does a netref
 * the client holds); in results (remoteType), a NetrefBase the client can hold and pass back.
 */
export function clientNaming(
  index: ModelIndex,
  rt: Pick<RuntimeNames, "RemoteSet"> = { RemoteSet: "RemoteSet" },
  service: (other: ServiceDef) => string = (other) => other.className,
  other = "object",
): TsNaming {
  return {
    ref: (name) => name,
    netref: (name, args, render) => {
      const compiled = index.service(name);
      if (compiled) return service(compiled);
      if (name === SET_NETREF) return `${rt.RemoteSet}<${args.length === 1 ? render(args[0]!) : "unknown"}>`;
      return other;
    },
  };
}

/** The netref name the TypeScript extractor gives a standard-library Set (its items as `args`). */
const SET_NETREF = "Set";

/** Whether a TypeScript service's values include a Set netref (the stub then imports RemoteSet). */
function mentionsSetNetref(index: ModelIndex, types: readonly WireType[]): boolean {
  const visit = (type: WireType): boolean => (type.kind === "netref" && type.name === SET_NETREF && !index.service(type.name)) || childTypes(type).some(visit);
  return types.some(visit);
}

/**
 * Dispatch tables cast decoded arguments to the declared types. A netref of a compiled
 * service is cast to the real class; a netref of any other class to `never` (the runtime
 * checked it is an object; its class is not in the model).
 */
function dispatchNaming(index: ModelIndex): TsNaming {
  return { ref: (name) => name, netref: (name) => (index.service(name) ? name : "never") };
}

/** The service's header line: which sources its files come from. */
function sourcesText(sources: readonly string[]): string {
  return sources.join(", ");
}

type MemberView =
  | (MethodDef & { readonly isMethod: true; readonly key: string; readonly keywords?: string; readonly pipelined: boolean })
  | (AttributeDef & { readonly isMethod: false; readonly key: string });

const RUNTIME_VALUES = ["connect", "connectByService", "connectWebSocket"] as const;
const RUNTIME_TYPES = [
  "Connection",
  "ConnectOptions",
  "ConnectByServiceOptions",
  "WebSocketConnectOptions",
  "NetrefBase",
  "CompiledRemote",
  "RemoteAttribute",
  "RemoteFunction",
  "RemoteResult",
  "ServiceSchema",
  "ServiceShape",
] as const;

export interface ClientView {
  readonly sources: string;
  readonly naming: TsNaming;
  /** How `remoteType` names netrefs of compiled services: their Remote interfaces. */
  readonly remoteNaming: TsNaming;
  /** The schemas the connect helpers pass: this service's and every compiled service its values reach. */
  readonly schemas: readonly string[];
  readonly rt: RuntimeNames;
  /** The runtime import first, then sibling stubs. */
  readonly imports: readonly ImportView[];
  readonly declarations: readonly TypeDef[];
  readonly service: ServiceDef;
  readonly names: ServiceNames;
  readonly members: readonly MemberView[];
  readonly schema: unknown;
  /** Compiled from a Python service: the schema says so (origin: "python"). */
  readonly pythonOrigin: boolean;
}

/** The wire schema of a service as plain data (docs, defaults and locations stripped). */
export function schemaData(
  index: ModelIndex,
  service: ServiceDef,
): {
  className: string;
  name: string;
  aliases: string[];
  methods: { name: string; params: unknown[]; returns: WireType }[];
  attributes: { name: string; type: WireType; readonly: boolean }[];
  types: unknown[];
} {
  return {
    className: service.className,
    name: service.name,
    aliases: [...service.aliases],
    methods: service.methods.map((m) => ({ name: m.name, params: m.params.map(cleanParam), returns: cleanWireType(m.returns) })),
    attributes: service.attributes.map((a) => ({ name: a.name, type: cleanWireType(a.type), readonly: a.readonly })),
    types: index.closure(service).map((def) => {
      switch (def.kind) {
        case "object":
          return { kind: "object", name: def.name, fields: def.fields.map((f) => ({ name: f.name, type: cleanWireType(f.type), optional: f.optional })) };
        case "enum":
          return { kind: "enum", name: def.name, members: def.members.map((m) => ({ name: m.name, value: m.value })) };
        case "alias":
          return { kind: "alias", name: def.name, type: cleanWireType(def.type) };
      }
    }),
  };
}

/**
 * A result that is a netref of a compiled service is pipelinable: the stub declares it as
 * RemoteResult, so `root.get_db().query(x)` type-checks (one round trip on the native codec).
 */
function isPipelined(index: ModelIndex, method: MethodDef): boolean {
  return method.returns.kind === "netref" && index.service(method.returns.name) !== undefined;
}

function sortedMembers(index: ModelIndex, service: ServiceDef, naming: TsNaming): MemberView[] {
  const members: MemberView[] = [
    ...service.methods.map((m) => {
      const keywords = keywordsType(m, naming);
      return { ...m, isMethod: true as const, key: m.name, pipelined: isPipelined(index, m), ...(keywords !== undefined ? { keywords } : {}) };
    }),
    ...service.attributes.map((a) => ({ ...a, isMethod: false as const, key: a.name })),
  ];
  return members.sort((a, b) => compareStrings(a.member, b.member));
}

/** A function type written out in place (not behind a named type): `remoteType` writes it as RemoteFunction. */
function mentionsFunction(type: WireType): boolean {
  return type.kind === "function" || childTypes(type).some(mentionsFunction);
}

/** Other compiled services whose netrefs this service's values may carry, transitively, in className order. */
function reachableServices(index: ModelIndex, service: ServiceDef): ServiceDef[] {
  const seen = new Map<string, ServiceDef>([[service.className, service]]);
  const queue = [service];
  while (queue.length > 0) {
    const current = queue.shift()!;
    const types = [...memberTypes(current), ...typeDefBodies(index.closure(current))];
    for (const className of mentionedNames(types).netrefs) {
      const other = index.service(className);
      if (other && !seen.has(other.className)) {
        seen.set(other.className, other);
        queue.push(other);
      }
    }
  }
  seen.delete(service.className);
  return [...seen.values()].sort((a, b) => compareStrings(a.className, b.className));
}

export function clientView(index: ModelIndex, service: ServiceDef, runtimeImport: string): ClientView {
  const names = serviceNames(service);
  const fieldTypes = pythonFieldTypes(index, service);
  const instances = fieldTypes.all;
  const owned = index.closure(service).filter((def) => index.owner(def.name).className === service.className);
  const imports = new Imports();
  const mentioned = mentionedNames([...memberTypes(service), ...typeDefBodies([...owned, ...instances])]);
  // A dataclass or TypedDict another Python stub declares is imported from it.
  for (const { def, owner } of fieldTypes.imported) imports.add(serviceNames(owner).clientSpecifier, { name: def.name, typeOnly: true });
  for (const ref of mentioned.refs) {
    const owner = index.owner(ref);
    if (owner.className !== service.className) imports.add(serviceNames(owner).clientSpecifier, { name: ref, typeOnly: true });
  }
  for (const className of mentioned.netrefs) {
    const other = index.service(className);
    if (!other || other.className === service.className) continue;
    const otherNames = serviceNames(other);
    imports.add(otherNames.clientSpecifier, { name: otherNames.shape, typeOnly: true });
    imports.add(otherNames.clientSpecifier, { name: otherNames.remote, typeOnly: true });
  }
  // Values of this service may be netrefs to other compiled services: their schemas go along.
  const reached = reachableServices(index, service);
  for (const other of reached) imports.add(serviceNames(other).clientSpecifier, { name: serviceNames(other).schemaConst, typeOnly: false });
  // Names the stub declares or imports itself win; a runtime name they take is imported under an alias.
  const taken = new Set([
    ...owned.map((d) => d.name),
    ...instances.map((d) => d.name),
    ...mentioned.refs,
    ...mentioned.netrefs,
    ...mentioned.netrefs.map((c) => (index.service(c) ? serviceNames(index.service(c)!).remote : c)),
    ...reached.map((o) => serviceNames(o).schemaConst),
    names.shape,
    names.remote,
    names.schemaConst,
    names.namesConst,
    names.connectFn,
    names.connectByServiceFn,
    names.connectWebSocketFn,
  ]);
  const local = (name: string, alias: string): string => (taken.has(name) ? alias : name);
  const runtime = new Imports();
  const rt: Record<string, string> = {};
  // Import only what the stub writes (it must compile under noUnusedLocals).
  const used = new Set<string>([...RUNTIME_VALUES, ...RUNTIME_TYPES]);
  // The keyword overload of a method without positional parameters writes `[]`, not Parameters<CompiledRemote<...>>.
  if (!service.methods.some((m) => m.params.length > 0)) used.delete("CompiledRemote");
  if (service.attributes.length === 0) used.delete("RemoteAttribute");
  if (![...service.methods.map((m) => m.returns), ...service.attributes.map((a) => a.type)].some(mentionsFunction)) used.delete("RemoteFunction");
  if (!service.methods.some((m) => isPipelined(index, m))) used.delete("RemoteResult");
  for (const name of RUNTIME_VALUES) {
    rt[name] = local(name, `rpyc${name.charAt(0).toUpperCase()}${name.slice(1)}`);
    if (used.has(name)) runtime.add(runtimeImport, { name, ...(rt[name] !== name ? { alias: rt[name] } : {}), typeOnly: false });
  }
  const pythonTypes = pythonRuntimeTypes(index, service, instances);
  if (service.origin !== "python" && mentionsSetNetref(index, [...memberTypes(service), ...typeDefBodies(owned)])) pythonTypes.add("RemoteSet");
  for (const name of [...RUNTIME_TYPES, ...PYTHON_RUNTIME_TYPES]) {
    rt[name] = local(name, `Rpyc${name}`);
    const wanted = (RUNTIME_TYPES as readonly string[]).includes(name) ? used.has(name) : pythonTypes.has(name as PythonRuntimeType);
    if (wanted) runtime.add(runtimeImport, { name, ...(rt[name] !== name ? { alias: rt[name] } : {}), typeOnly: true });
  }
  const runtimeNames = rt as unknown as RuntimeNames;
  const python = service.origin === "python";
  const naming = python ? pythonNaming(index, runtimeNames, instances, (other) => serviceNames(other).shape) : clientNaming(index, runtimeNames);
  return {
    sources: sourcesText(index.sources(service)),
    naming,
    remoteNaming: python
      ? pythonNaming(index, runtimeNames, instances, (other) => serviceNames(other).remote)
      : clientNaming(index, runtimeNames, (other) => serviceNames(other).remote, runtimeNames.NetrefBase),
    schemas: [names.schemaConst, ...reached.map((o) => serviceNames(o).schemaConst)],
    rt: runtimeNames,
    imports: [...runtime.views(), ...imports.views()],
    declarations: [...owned, ...fieldTypes.owned],
    service,
    names,
    members: sortedMembers(index, service, naming),
    schema: schemaData(index, service),
    pythonOrigin: python,
  };
}

/** One argument of a dispatch invoker. */
export interface DispatchParamView {
  readonly type: WireType;
  readonly optional: boolean;
  readonly rest: boolean;
  /**
   * The type mentions an enum (directly or through named types). Enums are compared by
   * identity, so the stub's copy is not the source's: the argument is cast to the class's
   * own parameter type instead (`Parameters<Svc["exposed_x"]>[i]`).
   */
  readonly nominal: boolean;
}

export interface DispatchView {
  readonly sources: string;
  readonly internalImport: string;
  readonly naming: TsNaming;
  readonly imports: readonly ImportView[];
  readonly className: string;
  readonly names: ServiceNames;
  readonly methods: readonly (MethodDef & { readonly args: readonly DispatchParamView[] })[];
  readonly attributes: readonly AttributeDef[];
}

/** Adds the import of a service class (value or type) from its module. */
function importServiceClass(imports: Imports, options: EmitOptions, service: ServiceDef, typeOnly: boolean): void {
  const specifier = importSpecifier(options, service.module);
  if (service.exportName === "default") imports.add(specifier, { defaultName: service.className });
  else imports.add(specifier, { name: service.exportName, ...(service.exportName !== service.className ? { alias: service.className } : {}), typeOnly });
}

export function dispatchView(index: ModelIndex, service: ServiceDef, options: EmitOptions, runtimeImport: string): DispatchView {
  const names = serviceNames(service);
  const imports = new Imports();
  importServiceClass(imports, options, service, false);
  imports.add(names.clientSpecifier, { name: names.schemaConst, typeOnly: false });
  const isNominal = (type: WireType): boolean => mentionedNames([type]).refs.some((ref) => index.isNominal(ref));
  const methods = service.methods.map((method) => ({
    ...method,
    args: method.params.map((p) => ({ type: p.type, optional: p.optional, rest: p.rest, nominal: isNominal(p.type) })),
  }));
  // Casts name the stub's declarations; netrefs of compiled services name the real classes.
  const mentioned = mentionedNames(methods.flatMap((m) => m.args.filter((a) => !a.nominal).map((a) => a.type)));
  for (const ref of mentioned.refs) imports.add(serviceNames(index.owner(ref)).clientSpecifier, { name: ref, typeOnly: true });
  for (const className of mentioned.netrefs) {
    const other = index.service(className);
    if (other && other.className !== service.className) importServiceClass(imports, options, other, true);
  }
  return {
    sources: sourcesText(index.sources(service)),
    internalImport: `${runtimeImport}/internal`,
    naming: dispatchNaming(index),
    imports: imports.views(),
    className: service.className,
    names,
    methods,
    attributes: service.attributes,
  };
}

export interface IndexView {
  readonly sources: string;
  readonly exports: readonly { readonly specifier: string; readonly names: readonly { readonly name: string; readonly typeOnly: boolean }[] }[];
}

/** Every name the client stubs export, by stub; fails on a name two stubs would both export. */
export function indexView(index: ModelIndex): IndexView {
  const seen = new Map<string, string>();
  const exports = index.sortedServices.map((service) => {
    const names = serviceNames(service);
    const owned = [...index.closure(service).filter((def) => index.owner(def.name).className === service.className), ...pythonFieldTypes(index, service).owned];
    const list = [
      { name: names.shape, typeOnly: true },
      { name: names.remote, typeOnly: true },
      { name: names.namesConst, typeOnly: false },
      { name: names.schemaConst, typeOnly: false },
      { name: names.connectFn, typeOnly: false },
      { name: names.connectByServiceFn, typeOnly: false },
      { name: names.connectWebSocketFn, typeOnly: false },
      ...owned.map((def) => ({ name: def.name, typeOnly: def.kind !== "enum" })),
    ].sort((a, b) => compareStrings(a.name, b.name));
    for (const { name } of list) {
      const other = seen.get(name);
      if (other) throw new Error(`rpyc-gen: '${name}' would be exported by both ${other} and ${names.clientFile}; rename the type or the service`);
      seen.set(name, names.clientFile);
    }
    return { specifier: names.clientSpecifier, names: list };
  });
  return { sources: sourcesText(index.allSources()), exports };
}
