// emit: ServiceModel -> generated files, through templates/ only. One `generateX` per output
// kind; each builds a view (plain data, compiler/emit/views.ts and proto.ts) and renders a
// template. Output is deterministic: the same model and options give the same bytes.
//
// Layout in outDir, per service (stem = kebab-case class name, "my-service"):
//   my-service.client.ts    typed client stub: types, shape interface, Remote type, schema, connect helper
//   my-service.dispatch.ts  dispatch table for servers (imports the service's source)
//   my-service.proto        protobuf description of the members and types
// and index.ts (client stubs re-exported), model.json (emitModel), and with packageName an
// SDK package: package.json, README.md, dist/*.js + dist/*.d.ts.

import { compareStrings } from "./common.js";
import type { ServiceDef, ServiceModel, WireType } from "./model.js";
import { childTypes, DEFAULT_RUNTIME_IMPORT, memberTypes, ModelIndex, serviceNames, type EmitOptions, type GeneratedFile } from "./emit/context.js";
import { packageFiles } from "./emit/package.js";
import { protoView } from "./emit/proto.js";
import { render } from "./emit/templates.js";
import { clientView, dispatchView, indexView } from "./emit/views.js";

export type { EmitOptions, GeneratedFile } from "./emit/context.js";
export { kebabCase, pascalCase } from "./emit/names.js";

/**
 * One ModelIndex per model, shared by every generator: its caches (closures, type owners) are
 * what keeps emitting many services linear. Models are plain data and never mutated.
 */
const indexes = new WeakMap<ServiceModel, ModelIndex>();

function indexOf(model: ServiceModel): ModelIndex {
  let index = indexes.get(model);
  if (!index) indexes.set(model, (index = new ModelIndex(model)));
  return index;
}

function runtimeImportOf(options: EmitOptions): string {
  return options.runtimeImport ?? DEFAULT_RUNTIME_IMPORT;
}

/** The typed client stub of one service: imports only the runtime (and sibling stubs). */
export function generateClientStub(service: ServiceDef, model: ServiceModel, options: EmitOptions): GeneratedFile {
  const view = clientView(indexOf(model), service, runtimeImportOf(options));
  return { path: serviceNames(service).clientFile, contents: render("client.ts", view) };
}

/** The dispatch table of one service: explicit calls into the real class, no reflection. */
export function generateDispatchTable(service: ServiceDef, model: ServiceModel, options: EmitOptions): GeneratedFile {
  const view = dispatchView(indexOf(model), service, options, runtimeImportOf(options));
  return { path: serviceNames(service).dispatchFile, contents: render("dispatch.ts", view) };
}

/** The proto3 description of one service. */
export function generateProto(service: ServiceDef, model: ServiceModel, _options: EmitOptions): GeneratedFile {
  const index = indexOf(model);
  return {
    path: serviceNames(service).protoFile,
    contents: render("service.proto", { ...protoView(index, service), sources: index.sources(service).join(", ") }),
  };
}

/** index.ts: every client stub's exports, by name (not the dispatch tables). */
export function generateIndex(model: ServiceModel, _options: EmitOptions): GeneratedFile {
  return { path: "index.ts", contents: render("index.ts", indexView(indexOf(model))) };
}

/** The SDK package: package.json, README.md, dist/*.js and dist/*.d.ts (runtime import "rpyc-ts"). */
export function generatePackage(model: ServiceModel, options: EmitOptions): GeneratedFile[] {
  // The package peer-depends on rpyc-ts, so its code imports "rpyc-ts" whatever the stubs in outDir use.
  const packaged: EmitOptions = { ...options, runtimeImport: DEFAULT_RUNTIME_IMPORT };
  const sourceFiles = [...model.services.map((s) => generateClientStub(s, model, packaged)), generateIndex(model, packaged)];
  const sources = indexOf(model).allSources().join(", ");
  return packageFiles({ model, options: packaged, sourceFiles, sources });
}

/** model.json: the model as extraction produced it. */
export function generateModelJson(model: ServiceModel): GeneratedFile {
  return { path: "model.json", contents: `${JSON.stringify(model, null, 2)}\n` };
}

/** Every file for a model, sorted by path. */
export function emitAll(model: ServiceModel, options: EmitOptions): GeneratedFile[] {
  return createEmitter()(model, options);
}

/** Renders one service's own files (stub, dispatch table, .proto). */
type ServiceFiles = readonly GeneratedFile[];

/**
 * An emitter that remembers each service's files between calls (watch mode): a service whose
 * definition, the model's types, the set of services and the options are all unchanged is
 * not rendered again. The result is byte for byte what emitAll would produce.
 */
export function createEmitter(onService: (done: number, total: number) => void = () => {}): (model: ServiceModel, options: EmitOptions) => GeneratedFile[] {
  let context = "";
  let cache = new Map<string, { readonly key: string; readonly files: ServiceFiles }>();
  return (model, options) => {
    // What every service's files also depend on: the shared types, the other services' names
    // and which services their values reach (imports, schemas, type ownership), the options.
    const shared = JSON.stringify([model.types, model.services.map(outline), options]);
    if (shared !== context) {
      cache = new Map();
      context = shared;
    }
    const next = new Map<string, { key: string; files: ServiceFiles }>();
    const perService = (service: ServiceDef): ServiceFiles => {
      const key = JSON.stringify(service);
      const cached = cache.get(service.className);
      const files =
        cached && cached.key === key
          ? cached.files
          : [
              generateClientStub(service, model, options),
              // Python and live services are served by their own servers: no dispatch table to import them.
              ...(service.origin ? [] : [generateDispatchTable(service, model, options)]),
              generateProto(service, model, options),
            ];
      next.set(service.className, { key, files });
      onService(next.size, model.services.length);
      return files;
    };
    const files = emitWith(model, options, perService);
    cache = next;
    return files;
  };
}

/**
 * A service as other services' files see it: its names, the named types it reaches (which
 * stub owns a shared type) and the services its values reach (imports, schemas).
 */
function outline(service: ServiceDef): unknown {
  const names = new Set<string>();
  const visit = (type: WireType): void => {
    if (type.kind === "netref" || type.kind === "ref") names.add(`${type.kind}:${type.name}`);
    childTypes(type).forEach(visit);
  };
  memberTypes(service).forEach(visit);
  return [service.className, service.name, service.aliases, [...names].sort()];
}

function emitWith(model: ServiceModel, options: EmitOptions, perService: (service: ServiceDef) => ServiceFiles): GeneratedFile[] {
  const stems = new Map<string, string>();
  for (const service of model.services) {
    const { stem } = serviceNames(service);
    const other = stems.get(stem);
    if (other) throw new Error(`rpyc-gen: services ${other} and ${service.className} would both be written to ${stem}.*; rename one of them`);
    stems.set(stem, service.className);
  }
  const files: GeneratedFile[] = [];
  for (const service of model.services) files.push(...perService(service));
  files.push(generateIndex(model, options));
  if (options.emitModel) files.push(generateModelJson(model));
  if (options.packageName) files.push(...generatePackage(model, options));
  const paths = new Set<string>();
  for (const file of files) {
    if (paths.has(file.path)) throw new Error(`rpyc-gen: two outputs would be written to ${file.path}; rename one of the services`);
    paths.add(file.path);
  }
  return files.sort((a, b) => compareStrings(a.path, b.path));
}
