// Type resolution: TypeScript types (from the checker) -> WireTypes, plus the named TypeDefs
// they refer to. Named types get an internal key while extraction runs (declaration file,
// position, type arguments), so two types that share a name never merge; `finish()` turns
// the keys into final, deterministic names and rewrites every ref.

import { ts } from "ts-morph";
import type { FieldDef, TypeDef, WireParam, WireType } from "../model.js";
import { compareStrings } from "../common.js";
import { type ExtractContext, HINT_UNSUPPORTED, docField } from "./context.js";
import { mapRefs, unionOf, withoutUndefined } from "./wire.js";

/** Where a type is used: diagnostics point at `node` and name `what`. */
export interface TypeSite {
  readonly node: ts.Node;
  /** What is being described, for messages: "MyService.exposed_add() parameter 'x'". */
  readonly what: string;
  /** In a return position `never` (the function always throws) describes as undefined. */
  readonly isReturn?: boolean;
  /**
   * The value travels into the service's code (a method's parameter, a field of one, a result
   * of a callback the client passed): what arrives there as a reference (a Set) is refused.
   */
  readonly input?: boolean;
}

/** A signature as the wire sees it. */
export interface ResolvedSignature {
  readonly params: readonly ResolvedParam[];
  readonly returns: WireType;
  /** The declared return type was a promise (or a union with one). */
  readonly returnsPromise: boolean;
}

export interface ResolvedParam extends WireParam {
  readonly doc?: string;
  readonly default?: string;
}

/** Deeper nesting than this is refused (it only happens with runaway generic instantiations). */
export const MAX_TYPE_DEPTH = 48;

const UNKNOWN: WireType = { kind: "unknown" };
const UNDEFINED: WireType = { kind: "undefined" };

const HINT_OPEN_GENERIC = "give the type parameter a concrete type argument, or declare the member with a concrete type (unknown for anything)";
const HINT_UNRESOLVED = "check that the import resolves (pass --project tsconfig.json so paths and packages resolve as they do for tsc)";

/** CheckFlags.Readonly (internal to TypeScript): set on properties of mapped types such as Readonly<T>. */
const CHECK_FLAGS_READONLY = 1 << 3;

interface PendingDef {
  /** The name before clash resolution: "User", "Page_User". */
  readonly baseName: string;
  def?: TypeDef;
}

/** The shape of an object (or intersection of objects) type, decided before describing it. */
type ObjectShape =
  | "array"
  | "tuple"
  | "date"
  | "bytes"
  | "map"
  | "set"
  | "weak"
  | "promise"
  | "global-function"
  | "untyped"
  | "function"
  | "netref"
  | "record"
  | "object";

/** Hints for the standard-library types that cannot cross the wire. */
const HINT_WEAK = "a weak collection or reference cannot be iterated or copied: use a Map (or a Set) and send its entries";
const HINT_PROMISE = "await the value in the service and send the result (a method may be async)";
const HINT_FUNCTION = "declare a function type with parameters, e.g. (x: number) => string";
const HINT_SET_INPUT = "a Set cannot travel by value: take an array (T[]) and build the Set in the method";

export class TypeResolver {
  private readonly checker: ts.TypeChecker;
  private readonly pending = new Map<string, PendingDef>();
  /** Anonymous and standard-library object types being described (a cycle guard). */
  private readonly inProgress = new Set<ts.Type>();
  /** Named types described where a value comes in (a Set is refused there, not in a result). */
  private readonly checkedAsInput = new Set<string>();
  private depth = 0;

  constructor(private readonly ctx: ExtractContext) {
    this.checker = ctx.checker;
  }

  /** Describes a type. Reports what cannot be described and returns `unknown` in its place. */
  resolve(type: ts.Type, site: TypeSite): WireType {
    if (this.depth >= MAX_TYPE_DEPTH) {
      return this.unsupported(site, `${site.what}: type '${this.text(type)}' nests too deeply`, "simplify the type (runaway generic instantiation?)");
    }
    this.depth++;
    try {
      this.ctx.noteSymbol(type.aliasSymbol);
      this.ctx.noteSymbol(type.symbol);
      return this.resolveType(type, site);
    } finally {
      this.depth--;
    }
  }

  /** Describes an optional value's type: the `undefined` that `?` adds is left out. */
  resolveOptional(type: ts.Type, site: TypeSite): WireType {
    return withoutUndefined(this.resolve(type, site));
  }

  /** Describes a call signature: parameters (with names, optional, rest, defaults, docs) and the awaited result. */
  resolveSignature(signature: ts.Signature, site: TypeSite): ResolvedSignature {
    // A method's parameters come in, its result goes out; a callback's the other way round when the client passed it.
    const params = signature.parameters.map((symbol, index) => this.resolveParam(symbol, index, { ...site, input: !site.input }));
    const declared = this.checker.getReturnTypeOfSignature(signature);
    // A generic result (`T`) is left as it is: awaiting it would only wrap it in Awaited<T>.
    const awaited = this.isGenericType(declared) ? declared : (this.checker.getAwaitedType(declared) ?? declared);
    const returnSite: TypeSite = { node: site.node, what: `${site.what} return type`, isReturn: true, input: site.input ?? false };
    return { params, returns: this.resolve(awaited, returnSite), returnsPromise: this.isPromise(declared) };
  }

  private isPromise(type: ts.Type): boolean {
    if (type.isUnion()) return type.types.some((t) => this.isPromise(t));
    const name = type.symbol?.name;
    return (name === "Promise" || name === "PromiseLike") && this.ctx.isLibrarySymbol(type.symbol);
  }

  private resolveParam(symbol: ts.Symbol, index: number, site: TypeSite): ResolvedParam {
    const declaration = symbol.valueDeclaration && ts.isParameter(symbol.valueDeclaration) ? symbol.valueDeclaration : undefined;
    const name = declaration && !ts.isIdentifier(declaration.name) ? `arg${index}` : symbol.name;
    const rest = declaration?.dotDotDotToken !== undefined;
    const optional =
      !rest &&
      declaration !== undefined &&
      (declaration.questionToken !== undefined || declaration.initializer !== undefined || this.checker.isOptionalParameter(declaration));
    const paramSite: TypeSite = { node: declaration ?? site.node, what: `${site.what} parameter '${name}'`, input: site.input ?? false };
    const type = this.declaredType(declaration) ?? this.checker.getTypeOfSymbol(symbol);
    // An implicit any (no annotation, no JSDoc type, nothing to infer from) is not the author's choice: a warning.
    if (declaration && !declaration.type && !declaration.initializer && !ts.getJSDocType(declaration) && type.flags & ts.TypeFlags.Any) {
      this.ctx.report(
        "RPYC_UNTYPED_VALUE",
        declaration,
        `${paramSite.what} has no type, so it travels untyped (unknown in the stub)`,
        "annotate the parameter (unknown, if any value is meant)",
        "warning",
      );
    }
    const wire = optional ? this.resolveOptional(type, paramSite) : this.resolve(type, paramSite);
    const doc = this.ctx.paramDoc(symbol);
    const defaultText = declaration?.initializer?.getText();
    return { name, type: wire, optional, rest, ...docField(doc), ...(defaultText === undefined ? {} : { default: defaultText }) };
  }

  /**
   * The type as written on a declaration, when it has a type annotation that mentions no type
   * parameter (so it is the same in every instantiation). Written types keep their aliases
   * (`x?: Id` stays `Id`), where the symbol's type of an optional member is `Id | undefined`.
   */
  declaredType(declaration: ts.Node | undefined): ts.Type | undefined {
    if (!declaration || !("type" in declaration)) return undefined;
    const node = (declaration as { type?: ts.Node }).type;
    if (!node || !ts.isTypeNode(node) || this.mentionsTypeParameter(node)) return undefined;
    return this.checker.getTypeFromTypeNode(node);
  }

  private mentionsTypeParameter(node: ts.Node): boolean {
    if (ts.isThisTypeNode(node)) return true;
    if (ts.isTypeReferenceNode(node)) {
      const symbol = this.checker.getSymbolAtLocation(node.typeName);
      if (symbol && symbol.flags & ts.SymbolFlags.TypeParameter) return true;
    }
    if (ts.isTypeQueryNode(node)) return true;
    return ts.forEachChild(node, (child) => (this.mentionsTypeParameter(child) ? true : undefined)) ?? false;
  }

  private resolveType(type: ts.Type, site: TypeSite): WireType {
    const flags = type.flags;
    const F = ts.TypeFlags;
    if (flags & F.Any) {
      if ((type as { intrinsicName?: string }).intrinsicName === "error") {
        return this.unsupported(site, `${site.what}: the type does not resolve`, HINT_UNRESOLVED);
      }
      return UNKNOWN;
    }
    if (flags & F.Unknown) return UNKNOWN;
    if (flags & F.Never) {
      if (site.isReturn) return UNDEFINED;
      return this.unsupported(site, `${site.what}: type 'never' has no values to send`, HINT_UNSUPPORTED);
    }
    if (flags & F.TypeParameter) return this.typeParameter(type as ts.TypeParameter, site);
    if (flags & F.Boolean) return { kind: "boolean" };
    const enumRef = this.enumType(type, site);
    if (enumRef) return enumRef;
    if (flags & F.BooleanLiteral) return { kind: "literal", value: (type as { intrinsicName?: string }).intrinsicName === "true" };
    if (flags & (F.StringLiteral | F.NumberLiteral)) return { kind: "literal", value: (type as ts.LiteralType).value as string | number };
    if (flags & F.BigIntLiteral) return { kind: "bigint" };
    if (flags & (F.String | F.TemplateLiteral | F.StringMapping)) return { kind: "string" };
    if (flags & F.Number) return { kind: "number" };
    if (flags & F.BigInt) return { kind: "bigint" };
    if (flags & F.Null) return { kind: "null" };
    if (flags & (F.Undefined | F.Void)) return UNDEFINED;
    if (flags & F.ESSymbolLike) return this.unsupported(site, `${site.what}: type '${this.text(type)}' (a symbol) cannot cross the wire`, HINT_UNSUPPORTED);
    if (flags & F.NonPrimitive) return this.untyped(site, "object"); // anything non-primitive
    if (flags & (F.Union | F.Intersection | F.Object)) {
      const alias = this.userAlias(type);
      if (alias) return this.aliased(type, alias, site);
      if (type.isUnion()) return this.union(type, site);
      if (type.isIntersection()) return this.intersection(type, site);
      return this.object(type as ts.ObjectType, site);
    }
    if (flags & (F.Conditional | F.Substitution | F.IndexedAccess | F.Index)) {
      const parameter = this.typeParameterIn(type);
      if (parameter) return this.openGeneric(site, parameter.symbol?.name ?? this.text(parameter));
      return this.unsupported(site, `${site.what}: type '${this.text(type)}' does not resolve to a concrete type`, "write the type it should resolve to");
    }
    return this.unsupported(site, `${site.what}: type '${this.text(type)}' cannot cross the wire`, HINT_UNSUPPORTED);
  }

  private typeParameter(type: ts.TypeParameter, site: TypeSite): WireType {
    if ((type as { isThisType?: boolean }).isThisType) {
      // `this` in a class: the instance itself, which travels as a netref.
      const constraint = type.getConstraint();
      return { kind: "netref", name: constraint?.symbol?.name ?? type.symbol?.name ?? "object" };
    }
    return this.openGeneric(site, type.symbol?.name ?? this.text(type));
  }

  private openGeneric(site: TypeSite, name: string): WireType {
    this.ctx.report("RPYC_OPEN_GENERIC", site.node, `${site.what}: type parameter '${name}' is left open`, HINT_OPEN_GENERIC);
    return UNKNOWN;
  }

  /** `object`, `{}`, `Object`: anything at all travels, typed `unknown`, with a warning (explicit `unknown`/`any` get none). */
  private untyped(site: TypeSite, written: string): WireType {
    this.ctx.report(
      "RPYC_UNTYPED_VALUE",
      site.node,
      `${site.what}: type '${written}' says nothing about the value, so it travels untyped (unknown in the stub)`,
      "declare the value's type (an interface, a union, ...), or write unknown to say that any value is meant",
      "warning",
    );
    return UNKNOWN;
  }

  private unsupported(site: TypeSite, message: string, hint: string): WireType {
    this.ctx.report("RPYC_UNSUPPORTED_TYPE", site.node, message, hint);
    return UNKNOWN;
  }

  private isGenericType(type: ts.Type): boolean {
    return this.typeParameterIn(type) !== undefined;
  }

  /** The first type parameter inside a deferred type (`T`, `Awaited<T>`, `T[K]`, `T | null`). */
  private typeParameterIn(type: ts.Type, depth = 0): ts.Type | undefined {
    if (type.flags & ts.TypeFlags.TypeParameter) return type;
    if (depth > 8) return undefined;
    const inner = type.isUnionOrIntersection()
      ? type.types
      : [
          ...(type.aliasTypeArguments ?? []),
          ...[(type as { checkType?: ts.Type }).checkType, (type as { objectType?: ts.Type }).objectType, (type as { indexType?: ts.Type }).indexType]
            .concat((type as { baseType?: ts.Type }).baseType, (type as { type?: ts.Type }).type)
            .filter((t): t is ts.Type => t !== undefined && t !== type),
        ];
    for (const t of inner) {
      const found = this.typeParameterIn(t, depth + 1);
      if (found) return found;
    }
    return undefined;
  }

  private text(type: ts.Type): string {
    return this.checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation);
  }

  // --- enums ---------------------------------------------------------------------------

  /** An enum type (all its members), or a one-member enum's member: a ref to the enum's TypeDef. */
  private enumType(type: ts.Type, site: TypeSite): WireType | undefined {
    const symbol = type.symbol;
    if (!symbol) return undefined;
    if (symbol.flags & ts.SymbolFlags.Enum && type.flags & (ts.TypeFlags.EnumLike | ts.TypeFlags.Union)) return this.enumRef(symbol, site);
    if (symbol.flags & ts.SymbolFlags.EnumMember) {
      const enumSymbol = this.parentEnum(symbol);
      if (enumSymbol && this.checker.getDeclaredTypeOfSymbol(enumSymbol) === type) return this.enumRef(enumSymbol, site);
    }
    return undefined;
  }

  private parentEnum(member: ts.Symbol): ts.Symbol | undefined {
    const declaration = member.valueDeclaration;
    if (!declaration || !ts.isEnumMember(declaration)) return undefined;
    return this.checker.getSymbolAtLocation(declaration.parent.name);
  }

  private enumRef(symbol: ts.Symbol, site: TypeSite): WireType {
    const declarations = (symbol.declarations ?? []).filter(ts.isEnumDeclaration);
    const first = declarations[0];
    if (!first) return this.unsupported(site, `${site.what}: enum '${symbol.name}' has no declaration`, HINT_UNSUPPORTED);
    const key = this.key(first, symbol.name, []);
    if (this.pending.has(key)) return { kind: "ref", name: key };
    const entry: PendingDef = { baseName: symbol.name };
    this.pending.set(key, entry);
    const members: { name: string; value: string | number }[] = [];
    for (const declaration of declarations) {
      this.ctx.noteFile(declaration.getSourceFile());
      for (const member of declaration.members) {
        const value = this.checker.getConstantValue(member);
        const name = member.name.getText().replace(/^["'](.*)["']$/, "$1");
        if (value === undefined) {
          this.ctx.report("RPYC_UNSUPPORTED_TYPE", member, `enum member ${symbol.name}.${name} has a computed value`, "give the enum member a literal value");
          continue;
        }
        members.push({ name, value });
      }
    }
    entry.def = { kind: "enum", name: key, members, location: this.ctx.location(first), ...docField(this.ctx.doc(symbol)) };
    return { kind: "ref", name: key };
  }

  // --- unions and intersections --------------------------------------------------------

  private union(type: ts.UnionType, site: TypeSite): WireType {
    // `origin` (internal) keeps the union as written (`Id | undefined`, not `string | number | undefined`).
    const origin = (type as { origin?: ts.Type }).origin;
    const parts = origin && origin.flags & ts.TypeFlags.Union ? (origin as ts.UnionType).types : type.types;
    const members: WireType[] = [];
    const literals = parts.filter((p) => p.flags & ts.TypeFlags.BooleanLiteral);
    const hasBoolean = literals.length === 2;
    if (hasBoolean) members.push({ kind: "boolean" });
    // Enum members arrive one by one when the union was flattened: an enum whose every member is present is the enum.
    const enumGroups = new Map<ts.Symbol, ts.Type[]>();
    for (const part of parts) {
      if (hasBoolean && part.flags & ts.TypeFlags.BooleanLiteral) continue;
      const enumSymbol =
        part.flags & ts.TypeFlags.EnumLiteral && part.symbol && part.symbol.flags & ts.SymbolFlags.EnumMember ? this.parentEnum(part.symbol) : undefined;
      if (enumSymbol) {
        enumGroups.set(enumSymbol, [...(enumGroups.get(enumSymbol) ?? []), part]);
        continue;
      }
      members.push(this.resolve(part, site));
    }
    for (const [enumSymbol, present] of enumGroups) {
      const all = this.checker.getDeclaredTypeOfSymbol(enumSymbol);
      const count = all.isUnion() ? all.types.length : 1;
      if (present.length === count) members.push(this.enumRef(enumSymbol, site));
      else for (const part of present) members.push(this.resolve(part, site));
    }
    return unionOf(members);
  }

  private intersection(type: ts.IntersectionType, site: TypeSite): WireType {
    const F = ts.TypeFlags;
    const primitive = F.StringLike | F.NumberLike | F.BigIntLike | F.BooleanLike | F.EnumLike;
    const primitives = type.types.filter((t) => t.flags & primitive);
    const objects = type.types.filter((t) => t.flags & F.Object);
    // A branded primitive (`string & { __brand: "Id" }`) travels as the primitive.
    if (primitives.length === 1 && primitives.length + objects.length === type.types.length) return this.resolve(primitives[0]!, site);
    if (objects.length === type.types.length) return this.object(type, site);
    const parameter = this.typeParameterIn(type);
    if (parameter) return this.openGeneric(site, parameter.symbol?.name ?? this.text(parameter));
    return this.unsupported(site, `${site.what}: intersection '${this.text(type)}' cannot cross the wire`, HINT_UNSUPPORTED);
  }

  // --- objects ---------------------------------------------------------------------------

  private shape(type: ts.Type): ObjectShape {
    if (this.checker.isTupleType(type)) return "tuple";
    if (this.checker.isArrayType(type)) return "array";
    const symbol = type.symbol;
    if (symbol && type.flags & ts.TypeFlags.Object) {
      const name = symbol.name;
      const inDeclarationFile = (symbol.declarations ?? []).some((d) => d.getSourceFile().isDeclarationFile);
      if (inDeclarationFile && (name === "Uint8Array" || name === "Buffer")) return "bytes";
      if (this.ctx.isLibrarySymbol(symbol)) {
        if (name === "Date") return "date";
        if (name === "Map" || name === "ReadonlyMap") return "map";
        if (name === "Set" || name === "ReadonlySet") return "set";
        if (name === "WeakMap" || name === "WeakSet" || name === "WeakRef") return "weak";
        if (name === "Promise" || name === "PromiseLike") return "promise";
        if (name === "Function" || name === "CallableFunction" || name === "NewableFunction") return "global-function";
        if (name === "Object") return "untyped";
      }
    }
    const calls = this.checker.getSignaturesOfType(type, ts.SignatureKind.Call);
    const properties = this.checker.getPropertiesOfType(type);
    if (calls.length > 0 && properties.length === 0) return "function";
    if (symbol && symbol.flags & ts.SymbolFlags.Class) return "netref";
    if (calls.length > 0 || this.checker.getSignaturesOfType(type, ts.SignatureKind.Construct).length > 0) return "netref";
    if (properties.some((p) => this.isBehaviour(p))) return "netref";
    // An index signature makes it a record, also beside named properties (which the signature covers).
    if (this.checker.getIndexInfosOfType(type).some((i) => !(i.keyType.flags & ts.TypeFlags.ESSymbolLike))) return "record";
    return "object";
  }

  /** Methods, function-valued properties and exposed_ members make an object a netref (as in Remote<T>). */
  private isBehaviour(property: ts.Symbol): boolean {
    if (property.flags & ts.SymbolFlags.Method) return true;
    if (property.name.startsWith("exposed_")) return true;
    const type = this.checker.getNonNullableType(this.checker.getTypeOfSymbol(property));
    return this.checker.getSignaturesOfType(type, ts.SignatureKind.Call).length > 0;
  }

  private object(type: ts.Type, site: TypeSite): WireType {
    const shape = this.shape(type);
    switch (shape) {
      case "tuple":
        return this.tuple(type as ts.TupleTypeReference, site);
      case "array":
        return { kind: "array", element: this.resolve(this.typeArguments(type)[0] ?? this.checker.getAnyType(), site) };
      case "date":
        return { kind: "date" };
      case "bytes":
        return { kind: "bytes" };
      case "map": {
        const [key, value] = this.typeArguments(type);
        return { kind: "map", key: key ? this.resolve(key, site) : UNKNOWN, value: value ? this.resolve(value, site) : UNKNOWN, container: "map" };
      }
      case "set":
        return this.set(type, site);
      case "weak":
        return this.unsupported(site, `${site.what}: type '${this.text(type)}' cannot cross the wire`, HINT_WEAK);
      case "promise":
        return this.unsupported(
          site,
          `${site.what}: type '${this.text(type)}' is a promise, which only a method's result may be (it is awaited)`,
          HINT_PROMISE,
        );
      case "global-function":
        return this.unsupported(site, `${site.what}: type '${this.text(type)}' does not say how to call it`, HINT_FUNCTION);
      case "untyped":
        return this.untyped(site, this.text(type));
      case "function":
        return this.functionType(type, site);
      case "netref":
        return { kind: "netref", name: type.symbol && !isAnonymousName(type.symbol.name) ? type.symbol.name : "object" };
      case "record":
        return this.record(type, site);
      case "object":
        break;
    }
    const symbol = type.symbol;
    if (symbol && symbol.flags & ts.SymbolFlags.Interface && !this.ctx.isLibrarySymbol(symbol)) {
      const declaration = (symbol.declarations ?? []).find(ts.isInterfaceDeclaration);
      if (declaration) {
        const reference = (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference ? (type as ts.TypeReference) : undefined;
        const parameterCount = reference ? (reference.target.typeParameters?.length ?? 0) : 0;
        const args = reference ? this.checker.getTypeArguments(reference).slice(0, parameterCount) : [];
        return this.namedObject(type, symbol, declaration, args, site);
      }
    }
    const properties = this.checker.getPropertiesOfType(type);
    if (properties.length === 0) return this.untyped(site, this.text(type)); // `{}`: anything but null and undefined
    // Inline objects carry WireFields (name, type, optional), as the runtime's schema has them.
    return this.inline(type, site, () => ({
      kind: "object",
      fields: this.fields(type, site, undefined).map(({ name, type: t, optional }) => ({ name, type: t, optional })),
    }));
  }

  /** Describes an anonymous (or standard-library) object type, refusing to loop on a recursive one. */
  private inline(type: ts.Type, site: TypeSite, describe: () => WireType): WireType {
    if (this.inProgress.has(type)) {
      return this.unsupported(
        site,
        `${site.what}: anonymous type '${this.text(type)}' refers to itself`,
        "give the recursive type a name (an interface or a type alias)",
      );
    }
    this.inProgress.add(type);
    try {
      return describe();
    } finally {
      this.inProgress.delete(type);
    }
  }

  private typeArguments(type: ts.Type): readonly ts.Type[] {
    return (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference ? this.checker.getTypeArguments(type as ts.TypeReference) : [];
  }

  private tuple(type: ts.TupleTypeReference, site: TypeSite): WireType {
    const target = type.target;
    if (target.combinedFlags & ts.ElementFlags.Variable) {
      return this.unsupported(
        site,
        `${site.what}: tuple '${this.text(type)}' has a rest element`,
        "use a fixed-length tuple (optional elements are fine) or an array",
      );
    }
    const args = this.checker.getTypeArguments(type).slice(0, target.elementFlags.length);
    const elements = args.map((arg, i) => (target.elementFlags[i]! & ts.ElementFlags.Optional ? this.resolveOptional(arg, site) : this.resolve(arg, site)));
    return { kind: "tuple", elements, minLength: target.minLength };
  }

  /**
   * A Set the service sends arrives as a netref (RemoteSet<T> in the stub; items typed when they
   * are scalars, which a netref's items arrive as). One the service takes would arrive as a
   * reference too, which its code cannot use as a Set: refused.
   */
  private set(type: ts.Type, site: TypeSite): WireType {
    if (site.input) return this.unsupported(site, `${site.what}: type '${this.text(type)}' would arrive as a reference, not a Set`, HINT_SET_INPUT);
    const element = this.typeArguments(type)[0];
    const item = element ? this.resolve(element, site) : UNKNOWN;
    if (isScalar(item)) return { kind: "netref", name: "Set", args: [item] };
    this.ctx.report(
      "RPYC_UNTYPED_VALUE",
      site.node,
      `${site.what}: the items of '${this.text(type)}' arrive as references, typed unknown in the stub (RemoteSet<unknown>)`,
      "return an array (T[]) to send the items by value",
      "warning",
    );
    return { kind: "netref", name: "Set", args: [UNKNOWN] };
  }

  private record(type: ts.Type, site: TypeSite): WireType {
    const infos = this.checker.getIndexInfosOfType(type);
    const info = infos.find((i) => i.keyType.flags & ts.TypeFlags.String) ?? infos.find((i) => !(i.keyType.flags & ts.TypeFlags.ESSymbolLike))!;
    const key = info.keyType.flags & ts.TypeFlags.Number ? ({ kind: "number" } as const) : ({ kind: "string" } as const);
    return { kind: "map", key, value: this.resolve(info.type, site), container: "record" };
  }

  private functionType(type: ts.Type, site: TypeSite): WireType {
    const signatures = this.checker.getSignaturesOfType(type, ts.SignatureKind.Call);
    const signature = signatures[signatures.length - 1]!; // overloads: the last is by convention the most general
    const resolved = this.resolveSignature(signature, { node: site.node, what: `${site.what} (callback)`, input: site.input ?? false });
    return {
      kind: "function",
      params: resolved.params.map(({ name, type: t, optional, rest }) => ({ name, type: t, optional, rest })),
      returns: resolved.returns,
    };
  }

  /** Fields in declaration order (objects travel as tuples in this order). */
  private fields(type: ts.Type, site: TypeSite, owner: string | undefined): FieldDef[] {
    const out: FieldDef[] = [];
    for (const property of this.checker.getPropertiesOfType(type)) {
      if (property.name.startsWith("__@")) continue; // symbol-keyed: not data
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
      // A named type's field is reported where it is declared (if that is the user's code), once.
      const fieldSite: TypeSite =
        owner !== undefined && declaration && !this.isThirdParty(declaration)
          ? { node: declaration, what: `field '${property.name}' of ${owner}`, input: site.input ?? false }
          : { node: site.node, what: `${site.what} field '${property.name}'`, input: site.input ?? false };
      if (declaration) this.ctx.noteTypeReferences(declaration);
      const written = declaration && !(property.flags & ts.SymbolFlags.Transient) ? this.declaredType(declaration) : undefined;
      const propertyType = written ?? this.checker.getTypeOfSymbol(property);
      const wire = optional ? this.resolveOptional(propertyType, fieldSite) : this.resolve(propertyType, fieldSite);
      out.push({ name: property.name, type: wire, optional, readonly: this.isReadonly(property), ...docField(this.ctx.doc(property)) });
    }
    return out;
  }

  private isThirdParty(node: ts.Node): boolean {
    const sourceFile = node.getSourceFile();
    return sourceFile.isDeclarationFile && (this.ctx.isDefaultLibrary(sourceFile) || /\/node_modules\//.test(sourceFile.fileName));
  }

  /** `readonly` modifier, a getter without setter, or a mapped `Readonly<T>` property. */
  isReadonly(property: ts.Symbol): boolean {
    if (property.flags & ts.SymbolFlags.GetAccessor && !(property.flags & ts.SymbolFlags.SetAccessor)) return true;
    const checkFlags = (property as { links?: { checkFlags?: number } }).links?.checkFlags ?? 0;
    if (checkFlags & CHECK_FLAGS_READONLY) return true;
    return (property.declarations ?? []).some((d) => (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Readonly) !== 0);
  }

  // --- named types -----------------------------------------------------------------------

  /** The user-declared type alias naming this type (standard-library aliases such as Partial are transparent). */
  private userAlias(type: ts.Type): { symbol: ts.Symbol; declaration: ts.TypeAliasDeclaration } | undefined {
    const symbol = type.aliasSymbol;
    if (!symbol || this.ctx.isLibrarySymbol(symbol)) return undefined;
    const declaration = (symbol.declarations ?? []).find(ts.isTypeAliasDeclaration);
    return declaration ? { symbol, declaration } : undefined;
  }

  private aliased(type: ts.Type, alias: { symbol: ts.Symbol; declaration: ts.TypeAliasDeclaration }, site: TypeSite): WireType {
    const args = type.aliasTypeArguments ?? [];
    const isObject = type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection) && !type.isUnion();
    const shape = isObject && !(type.isIntersection() && type.types.some((t) => !(t.flags & ts.TypeFlags.Object))) ? this.shape(type) : undefined;
    if (shape === "netref") return { kind: "netref", name: alias.symbol.name };
    if (shape === "object") return this.namedObject(type, alias.symbol, alias.declaration, args, site);
    if (shape === "array" || shape === "tuple" || shape === "date" || shape === "bytes") return this.object(type, site);
    return this.named(alias.symbol, alias.declaration, args, site, (key) => ({
      kind: "alias",
      name: key,
      type: type.isUnion() ? this.union(type, site) : type.isIntersection() ? this.intersection(type, site) : this.object(type, site),
      location: this.ctx.location(alias.declaration),
      ...docField(this.ctx.doc(alias.symbol)),
    }));
  }

  private namedObject(type: ts.Type, symbol: ts.Symbol, declaration: ts.Declaration, args: readonly ts.Type[], site: TypeSite): WireType {
    return this.named(symbol, declaration, args, site, (key, baseName) => ({
      kind: "object",
      name: key,
      fields: this.fields(type, site, baseName),
      location: this.ctx.location(declaration),
      ...docField(this.ctx.doc(symbol)),
    }));
  }

  /**
   * A ref to the TypeDef of a named type (with its type arguments), describing it on first
   * use. The entry is registered before the body is described, so recursive types end in a ref.
   */
  private named(
    symbol: ts.Symbol,
    declaration: ts.Declaration,
    args: readonly ts.Type[],
    site: TypeSite,
    describe: (key: string, baseName: string) => TypeDef,
  ): WireType {
    const argTypes = args.map((arg) => this.resolve(arg, site));
    const key = this.key(declaration, symbol.name, argTypes);
    const baseName = [symbol.name, ...argTypes.map((t) => this.argumentName(t))].join("_");
    if (this.pending.has(key)) {
      // Described for a result first: described again (for its diagnostics only) where it comes in.
      if (site.input && !this.checkedAsInput.has(key)) {
        this.checkedAsInput.add(key);
        describe(key, baseName);
      }
      return { kind: "ref", name: key };
    }
    if (site.input) this.checkedAsInput.add(key);
    const entry: PendingDef = { baseName };
    this.pending.set(key, entry);
    this.ctx.noteFile(declaration.getSourceFile());
    entry.def = describe(key, baseName);
    return { kind: "ref", name: key };
  }

  private key(declaration: ts.Declaration, name: string, args: readonly WireType[]): string {
    const where = `${this.ctx.relativePath(declaration.getSourceFile().fileName)}:${declaration.getStart()}`;
    return `\u0000${where}:${name}${args.length > 0 ? `<${JSON.stringify(args)}>` : ""}`;
  }

  /** A type argument as part of a TypeDef name: Page<User> -> "Page_User", Page<string[]> -> "Page_stringArray". */
  private argumentName(type: WireType): string {
    switch (type.kind) {
      case "ref":
        return this.pending.get(type.name)?.baseName ?? "Type";
      case "literal":
        return String(type.value).replace(/[^A-Za-z0-9_]/g, "_") || "empty";
      case "array":
        return `${this.argumentName(type.element)}Array`;
      case "tuple":
        return `Tuple${type.elements.map((e) => this.argumentName(e)).join("")}`;
      case "map":
        return `${type.container === "map" ? "Map" : "Record"}${this.argumentName(type.key)}${this.argumentName(type.value)}`;
      case "union":
        return type.members.map((m) => this.argumentName(m)).join("Or");
      case "netref":
        return type.name;
      default:
        return type.kind;
    }
  }

  /**
   * The TypeDefs, sorted by name, and a function that rewrites internal refs to final names.
   * Names clash when two different declarations share one: the first (by file and position)
   * keeps the name, the others get "_2", "_3", ...
   */
  finish(): { readonly types: TypeDef[]; readonly rename: (type: WireType) => WireType } {
    const byBase = new Map<string, string[]>();
    for (const [key, entry] of this.pending) byBase.set(entry.baseName, [...(byBase.get(entry.baseName) ?? []), key]);
    const finalName = new Map<string, string>();
    const taken = new Set(byBase.keys());
    for (const [base, keys] of byBase) {
      keys.sort(compareStrings);
      keys.forEach((key, i) => {
        if (i === 0) return finalName.set(key, base);
        let n = i + 1;
        while (taken.has(`${base}_${n}`)) n++;
        taken.add(`${base}_${n}`);
        finalName.set(key, `${base}_${n}`);
      });
    }
    const rename = (type: WireType): WireType => mapRefs(type, (name) => finalName.get(name) ?? name);
    const types: TypeDef[] = [];
    for (const entry of this.pending.values()) {
      const def = entry.def;
      if (!def) continue;
      const name = finalName.get(def.name) ?? def.name;
      if (def.kind === "object") types.push({ ...def, name, fields: def.fields.map((f) => ({ ...f, type: rename(f.type) })) });
      else if (def.kind === "alias") types.push({ ...def, name, type: rename(def.type) });
      else types.push({ ...def, name });
    }
    types.sort((a, b) => compareStrings(a.name, b.name));
    return { types, rename };
  }
}

/** Values a netref's items arrive as they are (scalars travel by value everywhere). */
function isScalar(type: WireType): boolean {
  switch (type.kind) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
    case "literal":
    case "null":
    case "undefined":
      return true;
    case "union":
      return type.members.every(isScalar);
    default:
      return false;
  }
}

function isAnonymousName(name: string): boolean {
  return name.startsWith("__");
}
