// What every generator needs to know about the model beyond one service: resolved options,
// the names a service's generated files and exports get, which named types a service reaches
// (transitively), which stub declares a type shared by several services, and relative paths.

import * as path from "node:path";
import { compareStrings } from "../common.js";
import type { AttributeDef, MethodDef, ServiceDef, ServiceModel, TypeDef, WireType } from "../model.js";
import { constantCase, kebabCase, pascalCase } from "./names.js";

export interface GeneratedFile {
  /** Relative to outDir, posix separators. */
  readonly path: string;
  readonly contents: string;
}

export interface EmitOptions {
  /** Output directory (absolute, or relative to root); dispatch tables import service modules relative to it. */
  readonly outDir: string;
  /** Project root; the model's paths are relative to it. */
  readonly root: string;
  /** With a name, also emit a publishable SDK package in outDir. */
  readonly packageName?: string;
  /** Version of the SDK package (default "0.1.0"). */
  readonly packageVersion?: string;
  /** Also write model.json. */
  readonly emitModel?: boolean;
  /** Module specifier generated code imports the runtime from (default "rpyc-ts"; "/internal" appended for the internal entry). */
  readonly runtimeImport?: string;
}

export const DEFAULT_RUNTIME_IMPORT = "rpyc-ts";
export const DEFAULT_PACKAGE_VERSION = "0.1.0";

/** The names one service's generated files and exports use. */
export interface ServiceNames {
  /** Kebab-case file stem: "my-service". */
  readonly stem: string;
  readonly clientFile: string;
  readonly dispatchFile: string;
  readonly protoFile: string;
  /** How sibling generated files import the client stub: "./my-service.client.js". */
  readonly clientSpecifier: string;
  /** The shape interface (named after the class). */
  readonly shape: string;
  /** `Remote<Shape>`: "MyRemote". */
  readonly remote: string;
  /** "MY_SERVICE_SCHEMA". */
  readonly schemaConst: string;
  /** "MY_SERVICE_NAMES". */
  readonly namesConst: string;
  /** "connectMy". */
  readonly connectFn: string;
  /** "connectMyByService": discovery through a registrar, then connect. */
  readonly connectByServiceFn: string;
  /** "connectMyWebSocket": connect over WebSocket, by URL (browsers, Node). */
  readonly connectWebSocketFn: string;
  /** "MyServiceDispatch". */
  readonly dispatchConst: string;
}

export function serviceNames(service: ServiceDef): ServiceNames {
  const stem = kebabCase(service.className) || "service";
  const constant = constantCase(service.className) || "SERVICE";
  const pascal = pascalCase(service.name) || "Service";
  return {
    stem,
    clientFile: `${stem}.client.ts`,
    dispatchFile: `${stem}.dispatch.ts`,
    protoFile: `${stem}.proto`,
    clientSpecifier: `./${stem}.client.js`,
    shape: service.className,
    remote: `${pascal}Remote`,
    schemaConst: `${constant}_SCHEMA`,
    namesConst: `${constant}_NAMES`,
    connectFn: `connect${pascal}`,
    connectByServiceFn: `connect${pascal}ByService`,
    connectWebSocketFn: `connect${pascal}WebSocket`,
    dispatchConst: `${service.className}Dispatch`,
  };
}

/** The sub-types a WireType is made of (one level down). */
export function childTypes(type: WireType): readonly WireType[] {
  switch (type.kind) {
    case "array":
      return [type.element];
    case "tuple":
      return type.elements;
    case "map":
      return [type.key, type.value];
    case "object":
      return type.fields.map((f) => f.type);
    case "union":
      return type.members;
    case "function":
      return [...type.params.map((p) => p.type), type.returns];
    case "netref":
      return type.args ?? [];
    default:
      return [];
  }
}

/** Every WireType a service's members mention directly (parameters, results, attributes). */
export function memberTypes(service: ServiceDef): WireType[] {
  return [...service.methods.flatMap((m) => [...m.params.map((p) => p.type), m.returns]), ...service.attributes.map((a) => a.type)];
}

function typeDefChildren(def: TypeDef): readonly WireType[] {
  switch (def.kind) {
    case "object":
      return def.fields.map((f) => f.type);
    case "alias":
      return [def.type];
    case "enum":
      return [];
  }
}

/** Lookups over one model, with caches; emit shares one per model (see indexOf in emit.ts). Never mutates the model. */
export class ModelIndex {
  private readonly types = new Map<string, TypeDef>();
  private readonly services = new Map<string, ServiceDef>();
  private readonly closures = new Map<string, TypeDef[]>();
  private readonly nominal = new Map<string, boolean>();
  private sorted: readonly ServiceDef[] | undefined;
  /** owner(): the first service (in className order) reaching each type, for the services scanned so far. */
  private readonly owners = new Map<string, ServiceDef>();
  private ownersScanned = 0;

  constructor(readonly model: ServiceModel) {
    for (const def of model.types) this.types.set(def.name, def);
    for (const service of model.services) this.services.set(service.className, service);
  }

  /** Services in className order (the model's order, re-sorted defensively). */
  get sortedServices(): ServiceDef[] {
    return [...this.sortedOnce()];
  }

  private sortedOnce(): readonly ServiceDef[] {
    return (this.sorted ??= [...this.model.services].sort((a, b) => compareStrings(a.className, b.className)));
  }

  typeDef(name: string): TypeDef {
    const def = this.types.get(name);
    if (!def) throw new Error(`rpyc-gen: the model refers to type '${name}', which is not in model.types`);
    return def;
  }

  service(className: string): ServiceDef | undefined {
    return this.services.get(className);
  }

  /** Names of the named types a list of WireTypes reaches, transitively, sorted. */
  reachableTypes(roots: readonly WireType[]): TypeDef[] {
    const seen = new Set<string>();
    const visit = (type: WireType): void => {
      if (type.kind === "ref") {
        if (seen.has(type.name)) return;
        seen.add(type.name);
        typeDefChildren(this.typeDef(type.name)).forEach(visit);
        return;
      }
      // A netref's type arguments describe the remote object: nothing of it travels by value.
      if (type.kind === "netref") return;
      childTypes(type).forEach(visit);
    };
    roots.forEach(visit);
    return [...seen].sort(compareStrings).map((name) => this.typeDef(name));
  }

  /** The named types a service's members reach, sorted by name (what its schema's `types` holds). */
  closure(service: ServiceDef): TypeDef[] {
    let types = this.closures.get(service.className);
    if (!types) {
      types = this.reachableTypes(memberTypes(service));
      this.closures.set(service.className, types);
    }
    return types;
  }

  /**
   * The service whose client stub declares a named type: the first service (by className)
   * that reaches it. Other stubs import it from there, so a shared enum stays one type.
   */
  owner(typeName: string): ServiceDef {
    // Services are scanned in order, each once, only as far as needed: the same answer as
    // searching them all for every type, without the quadratic cost over many services.
    const sorted = this.sortedOnce();
    let owner = this.owners.get(typeName);
    while (!owner && this.ownersScanned < sorted.length) {
      const service = sorted[this.ownersScanned++]!;
      for (const def of this.closure(service)) if (!this.owners.has(def.name)) this.owners.set(def.name, service);
      owner = this.owners.get(typeName);
    }
    if (!owner) throw new Error(`rpyc-gen: no service reaches type '${typeName}'`);
    return owner;
  }

  /**
   * True for named types TypeScript compares by identity rather than structure: enums, and
   * anything that contains one. A stub's copy of such a type is not assignable to the source's.
   */
  isNominal(typeName: string, visiting: Set<string> = new Set()): boolean {
    const known = this.nominal.get(typeName);
    if (known !== undefined) return known;
    if (visiting.has(typeName)) return false;
    visiting.add(typeName);
    const def = this.typeDef(typeName);
    const result = def.kind === "enum" || this.reachableTypes(typeDefChildren(def)).some((t) => t.name !== typeName && this.isNominal(t.name, visiting));
    visiting.delete(typeName);
    this.nominal.set(typeName, result);
    return result;
  }

  /** Source files a service's generated files come from: its module, inherited members' and types' files. */
  sources(service: ServiceDef): string[] {
    const members: (MethodDef | AttributeDef)[] = [...service.methods, ...service.attributes];
    return unique([service.module, ...members.map((m) => m.location.file), ...this.closure(service).map((t) => t.location.file)]);
  }

  /** Every service module (and what they draw on) in the model. */
  allSources(): string[] {
    return unique(this.model.services.flatMap((s) => this.sources(s)));
  }
}

export function unique(items: readonly string[]): string[] {
  return [...new Set(items)].sort(compareStrings);
}

/** The absolute output directory. */
export function outDirOf(options: EmitOptions): string {
  return path.resolve(options.root, options.outDir);
}

/**
 * The specifier a generated file in outDir uses to import a project file (a path relative to
 * root, as the model writes it): relative, posix, with the extension nodenext resolution wants.
 */
export function importSpecifier(options: EmitOptions, projectFile: string): string {
  const target = path.resolve(options.root, projectFile);
  let rel = path.relative(outDirOf(options), target).split(path.sep).join("/");
  rel = rel.replace(/(\.d)?\.(m|c)?tsx?$/, (_match, _d: string | undefined, kind: string | undefined) => (kind ? `.${kind}js` : ".js"));
  return rel.startsWith("../") || rel.startsWith("./") ? rel : `./${rel}`;
}

/**
 * Named types (`ref`) and netref classes a list of types mentions by name, without following
 * refs. A `ref` among a netref's type arguments (a TypedDict's keys) is `described`, not a
 * ref: it names what the remote object holds, which the schema does not carry.
 */
export function mentionedNames(types: readonly WireType[]): { refs: string[]; netrefs: string[]; described: string[] } {
  const refs = new Set<string>();
  const netrefs = new Set<string>();
  const described = new Set<string>();
  const visit = (type: WireType, inNetref: boolean): void => {
    if (type.kind === "ref") (inNetref ? described : refs).add(type.name);
    else if (type.kind === "netref") netrefs.add(type.name);
    childTypes(type).forEach((t) => visit(t, inNetref || type.kind === "netref"));
  };
  types.forEach((t) => visit(t, false));
  return { refs: unique([...refs]), netrefs: unique([...netrefs]), described: unique([...described]) };
}

/** The WireTypes a named type's definition is made of. */
export function typeDefBodies(defs: readonly TypeDef[]): WireType[] {
  return defs.flatMap(typeDefChildren);
}
