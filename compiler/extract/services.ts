// Service discovery: the classes that extend the runtime's Service (directly or through other
// classes, across files and packages), their names (serviceAliases' rule, read statically),
// how their module exports them, and their exposed members with wire types.

import { ts } from "ts-morph";
import type { AttributeDef, MethodDef, ServiceDef } from "../model.js";
import { compareStrings } from "../common.js";
import { type ExtractContext, HINT_UNSUPPORTED, docField } from "./context.js";
import type { TypeResolver, TypeSite } from "./types.js";
import { unionOf } from "./wire.js";

/** Prefix of the members a peer may reach (RPyC's `exposed_`). */
export const EXPOSED_PREFIX = "exposed_";

/** A class that extends Service, with its chain of base classes. */
export interface ServiceClass {
  readonly declaration: ts.ClassDeclaration;
  readonly symbol: ts.Symbol;
  readonly className: string;
  /** From the direct base up to (excluding) Service. */
  readonly bases: readonly ts.ClassLikeDeclaration[];
}

/** The runtime's Service: a class named Service in rpyc-ts (this repository's runtime/, or the package). */
export function isRuntimeService(declaration: ts.ClassLikeDeclaration): boolean {
  if (declaration.name?.text !== "Service") return false;
  const file = declaration.getSourceFile().fileName;
  return /(^|\/)runtime\/(serve\/service|serve\/index|index)\.(d\.)?[cm]?ts$/.test(file) || /(^|\/)node_modules\/rpyc-ts\//.test(file);
}

function isRpycModule(specifier: string): boolean {
  return specifier === "rpyc-ts" || /(^|\/)runtime\/(index|serve\/service|serve\/index)(\.[cm]?[jt]s)?$/.test(specifier);
}

/** `Service` imported by name (or through a namespace) from rpyc-ts: recognised even when the import does not resolve. */
function importsRuntimeService(ctx: ExtractContext, expression: ts.Expression): boolean {
  if (ts.isIdentifier(expression)) {
    const declaration = ctx.checker.getSymbolAtLocation(expression)?.declarations?.[0];
    if (!declaration || !ts.isImportSpecifier(declaration)) return false;
    const imported = (declaration.propertyName ?? declaration.name).text;
    const specifier = declaration.parent.parent.parent.moduleSpecifier;
    return imported === "Service" && ts.isStringLiteral(specifier) && isRpycModule(specifier.text);
  }
  if (ts.isPropertyAccessExpression(expression) && expression.name.text === "Service" && ts.isIdentifier(expression.expression)) {
    const declaration = ctx.checker.getSymbolAtLocation(expression.expression)?.declarations?.[0];
    if (!declaration || !ts.isNamespaceImport(declaration)) return false;
    const specifier = declaration.parent.parent.moduleSpecifier;
    return ts.isStringLiteral(specifier) && isRpycModule(specifier.text);
  }
  return false;
}

function extendsClause(declaration: ts.ClassLikeDeclaration): ts.ExpressionWithTypeArguments | undefined {
  return declaration.heritageClauses?.find((c) => c.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
}

/** The class a heritage clause names (through imports and re-exports). */
function baseClassOf(ctx: ExtractContext, heritage: ts.ExpressionWithTypeArguments): ts.ClassLikeDeclaration | undefined {
  let symbol = ctx.checker.getSymbolAtLocation(heritage.expression);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = ctx.checker.getAliasedSymbol(symbol);
  const direct = symbol?.declarations?.find(ts.isClassLike);
  if (direct) return direct;
  return ctx.checker.getTypeAtLocation(heritage).symbol?.declarations?.find(ts.isClassLike);
}

/** The class as a service, when it extends Service (directly or not); undefined otherwise. */
export function findServiceClass(ctx: ExtractContext, declaration: ts.ClassDeclaration): ServiceClass | undefined {
  const symbol = declaration.name ? ctx.checker.getSymbolAtLocation(declaration.name) : (declaration as { symbol?: ts.Symbol }).symbol;
  if (!symbol) return undefined;
  const bases: ts.ClassLikeDeclaration[] = [];
  const seen = new Set<ts.Node>([declaration]);
  let current: ts.ClassLikeDeclaration = declaration;
  for (;;) {
    const heritage = extendsClause(current);
    if (!heritage) return undefined;
    if (importsRuntimeService(ctx, heritage.expression)) break;
    const base = baseClassOf(ctx, heritage);
    if (!base || seen.has(base)) return undefined;
    if (isRuntimeService(base)) break;
    seen.add(base);
    bases.push(base);
    current = base;
  }
  return { declaration, symbol, className: declaration.name?.text ?? "default", bases };
}

/** Builds the ServiceDef; undefined (with a diagnostic) when the class is not exported. */
export function describeService(ctx: ExtractContext, resolver: TypeResolver, service: ServiceClass): ServiceDef | undefined {
  const { declaration, className } = service;
  const exportName = exportNameOf(ctx, service);
  if (exportName === undefined) {
    ctx.report(
      "RPYC_SERVICE_NOT_EXPORTED",
      declaration,
      `service class ${className} is not exported, so generated dispatch tables cannot import it`,
      `export it: \`export class ${className} ...\``,
    );
    return undefined;
  }
  ctx.noteFile(declaration.getSourceFile());
  for (const base of service.bases) ctx.noteFile(base.getSourceFile());
  const { aliases, explicit } = aliasesOf(ctx, service);
  const { methods, attributes } = exposedMembers(ctx, resolver, service);
  return {
    className,
    name: aliases[0]!,
    aliases,
    explicitAliases: explicit,
    module: ctx.relativePath(declaration.getSourceFile().fileName),
    exportName,
    bases: service.bases.map((b) => b.name?.text ?? "default"),
    location: ctx.location(declaration),
    ...docField(ctx.doc(service.symbol)),
    methods,
    attributes,
  };
}

/** How the class's module exports it: its own name when exported under it, else another name, "default" last. */
function exportNameOf(ctx: ExtractContext, service: ServiceClass): string | undefined {
  const moduleSymbol = ctx.checker.getSymbolAtLocation(service.declaration.getSourceFile());
  if (!moduleSymbol) return undefined;
  const names: string[] = [];
  for (const exported of ctx.checker.getExportsOfModule(moduleSymbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? ctx.checker.getAliasedSymbol(exported) : exported;
    if (target.declarations?.includes(service.declaration)) names.push(exported.name);
  }
  const rank = (name: string): number => (name === service.className ? 0 : name === "default" ? 2 : 1);
  names.sort((a, b) => rank(a) - rank(b) || compareStrings(a, b));
  return names[0];
}

// --- names ---------------------------------------------------------------------------------

/** Python's rule (runtime serviceAliases): the class name upper-cased, a trailing "SERVICE" stripped. */
export function derivedServiceName(className: string): string {
  const name = className.toUpperCase();
  return name.endsWith("SERVICE") ? name.slice(0, -"SERVICE".length) : name;
}

function staticMember(declaration: ts.ClassLikeDeclaration, name: string): ts.ClassElement | undefined {
  return declaration.members.find(
    (m) =>
      m.name !== undefined &&
      (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) &&
      m.name.text === name &&
      (ts.getCombinedModifierFlags(m as ts.Declaration) & ts.ModifierFlags.Static) !== 0,
  );
}

/** `["a", "b"]`, `["a"] as const`, `(["a"]) satisfies ...`: the strings; anything else: undefined. */
function literalStrings(expression: ts.Expression): string[] | undefined {
  let e = expression;
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e) || ts.isNonNullExpression(e))
    e = e.expression;
  if (!ts.isArrayLiteralExpression(e)) return undefined;
  const out: string[] = [];
  for (const element of e.elements) {
    if (!ts.isStringLiteral(element) && !ts.isNoSubstitutionTemplateLiteral(element)) return undefined;
    out.push(element.text);
  }
  return out;
}

/** A declared type that is a tuple of string literals (a .d.ts of `ALIASES = [...] as const`). */
function literalTupleType(ctx: ExtractContext, member: ts.PropertyDeclaration): string[] | undefined {
  if (!member.type) return undefined;
  const type = ctx.checker.getTypeFromTypeNode(member.type);
  if (!ctx.checker.isTupleType(type)) return undefined;
  const out: string[] = [];
  for (const element of ctx.checker.getTypeArguments(type as ts.TypeReference)) {
    if (!element.isStringLiteral()) return undefined;
    out.push(element.value);
  }
  return out;
}

/** The service's names: the nearest `static ALIASES` in the class chain (it is inherited), else the derived name. */
function aliasesOf(ctx: ExtractContext, service: ServiceClass): { aliases: string[]; explicit: boolean } {
  const derived = { aliases: [derivedServiceName(service.className)], explicit: false };
  for (const declaration of [service.declaration, ...service.bases]) {
    const member = staticMember(declaration, "ALIASES");
    if (!member) continue;
    const literal = ts.isPropertyDeclaration(member) ? (member.initializer ? literalStrings(member.initializer) : literalTupleType(ctx, member)) : undefined;
    if (literal === undefined) {
      const where = ts.isPropertyDeclaration(member) && member.initializer ? member.initializer : member;
      const owner = declaration.name?.text ?? "default";
      ctx.report(
        "RPYC_NON_LITERAL_ALIASES",
        where,
        `${owner}.ALIASES is not an array literal of string literals, so rpyc-gen cannot read the service's names`,
        `write the names out: static ALIASES = ["name", "other"]`,
      );
      return derived;
    }
    if (literal.length === 0) return derived; // as at run time: an empty ALIASES falls back to the class name
    return { aliases: literal.map((a) => a.toUpperCase()), explicit: true };
  }
  return derived;
}

// --- members -------------------------------------------------------------------------------

function ownerOf(declaration: ts.Node): ts.ClassLikeDeclaration | ts.InterfaceDeclaration | undefined {
  return ts.findAncestor(declaration.parent, (n) => ts.isClassLike(n) || ts.isInterfaceDeclaration(n)) as
    | ts.ClassLikeDeclaration
    | ts.InterfaceDeclaration
    | undefined;
}

function exposedMembers(ctx: ExtractContext, resolver: TypeResolver, service: ServiceClass): { methods: MethodDef[]; attributes: AttributeDef[] } {
  const { checker } = ctx;
  const methods: MethodDef[] = [];
  const attributes: AttributeDef[] = [];
  const instanceType = checker.getDeclaredTypeOfSymbol(service.symbol);
  for (const property of checker.getPropertiesOfType(instanceType)) {
    const member = property.name;
    if (!member.startsWith(EXPOSED_PREFIX)) continue;
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    if (!declaration) continue;
    const owner = ownerOf(declaration);
    // The runtime's Service answers get_service_name/get_service_aliases itself.
    if (owner && ts.isClassLike(owner) && isRuntimeService(owner)) continue;
    // private/protected members are not part of the class's public type, so stubs and dispatch could not name them.
    const hidden = ts.getCombinedModifierFlags(declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected);
    if (hidden) {
      const modifier = hidden & ts.ModifierFlags.Private ? "private" : "protected";
      ctx.report(
        "RPYC_PRIVATE_MEMBER",
        declaration,
        `${owner?.name?.text ?? service.className}.${member} is ${modifier}: it is left out of the client stub and the dispatch table`,
        `drop the ${EXPOSED_PREFIX} prefix to keep it to the service, or make it public to expose it`,
        "warning",
      );
      continue;
    }
    ctx.noteTypeReferences(declaration);
    const declaredIn = owner?.name?.text ?? service.className;
    const name = member.slice(EXPOSED_PREFIX.length);
    const location = ctx.location(declaration);
    const doc = docField(ctx.doc(property));
    const isAccessor = (property.flags & ts.SymbolFlags.Accessor) !== 0;
    const written = resolver.declaredType(declaration);
    const type = isAccessor || property.flags & ts.SymbolFlags.Method ? checker.getTypeOfSymbol(property) : (written ?? checker.getTypeOfSymbol(property));
    const callable = !isAccessor ? callSignature(ctx, property, type) : undefined;
    if (callable) {
      const site: TypeSite = { node: declaration, what: `${declaredIn}.${member}()` };
      const resolved = resolver.resolveSignature(callable, site);
      const isAsync = ts.canHaveModifiers(declaration) && (ts.getModifiers(declaration) ?? []).some((m) => m.kind === ts.SyntaxKind.AsyncKeyword);
      methods.push({
        name,
        member,
        params: resolved.params,
        returns: resolved.returns,
        async: isAsync || resolved.returnsPromise,
        declaredIn,
        location,
        ...doc,
      });
      continue;
    }
    if (property.flags & ts.SymbolFlags.Method) {
      ctx.report("RPYC_UNSUPPORTED_TYPE", declaration, `${declaredIn}.${member}() has no call signature`, HINT_UNSUPPORTED);
      continue;
    }
    const site: TypeSite = { node: declaration, what: `${declaredIn}.${member}` };
    let wire = resolver.resolve(type, site);
    if (written && property.flags & ts.SymbolFlags.Optional) wire = unionOf([wire, { kind: "undefined" }]);
    attributes.push({
      name,
      member,
      type: wire,
      readonly: resolver.isReadonly(property),
      kind: isAccessor ? "getter" : "property",
      declaredIn,
      location,
      ...doc,
    });
  }
  methods.sort((a, b) => compareStrings(a.name, b.name));
  attributes.sort((a, b) => compareStrings(a.name, b.name));
  reportStaticMembers(ctx, service);
  return { methods, attributes };
}

/** RPYC_STATIC_MEMBER for each `static exposed_` member of the class or its bases: peers reach instances only. */
function reportStaticMembers(ctx: ExtractContext, service: ServiceClass): void {
  for (const declaration of [service.declaration, ...service.bases]) {
    const owner = declaration.name?.text ?? "default";
    for (const member of declaration.members) {
      const name = member.name && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name)) ? member.name.text : undefined;
      if (name === undefined || !name.startsWith(EXPOSED_PREFIX)) continue;
      if (!(ts.getCombinedModifierFlags(member as ts.Declaration) & ts.ModifierFlags.Static)) continue;
      const kind = ts.isMethodDeclaration(member) ? "method" : ts.isPropertyDeclaration(member) ? "property" : "member";
      ctx.report(
        "RPYC_STATIC_MEMBER",
        member,
        `${owner}.${name} is a static ${kind}: rpyc-ts serves a service's instance, so a peer cannot reach it`,
        "a peer reaches a service through its instance: make it an instance member",
      );
    }
  }
}

/**
 * The signature of a method, or of a property holding a function (`exposed_f = (x: number) => ...`,
 * which Remote<T> also shows as a method). Overloads: the last signature.
 */
function callSignature(ctx: ExtractContext, property: ts.Symbol, type: ts.Type): ts.Signature | undefined {
  if (!(property.flags & ts.SymbolFlags.Method)) {
    // An optional or union-typed property may hold something else than a function: an attribute.
    if (property.flags & ts.SymbolFlags.Optional || type.isUnion()) return undefined;
    if (ctx.checker.getPropertiesOfType(type).length > 0) return undefined;
  }
  // An optional method (`exposed_m?(): void`) is still a method.
  const signatures = ctx.checker.getSignaturesOfType(ctx.checker.getNonNullableType(type), ts.SignatureKind.Call);
  return signatures[signatures.length - 1];
}
