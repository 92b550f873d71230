// Which classes are RPyC services (also indirectly), what kind of class a hint names, and a
// service's ServiceDef: RPyC's naming rule and members merged along Python's MRO.

import type { AttributeDef, MethodDef, ServiceDef, SourceLocation } from "../model.js";
import type { ClassKind } from "./hints.js";
import { ownMembers, type MemberContext, type OwnMembers } from "./members.js";
import type { PyClass, PyProgram } from "./modules.js";
import { named, type PyNode } from "./parser.js";

/** rpyc's service classes by every module path they are importable from. */
const RPYC_SERVICES = new Set(["Service", "VoidService"].flatMap((name) => [`rpyc.${name}`, `rpyc.core.${name}`, `rpyc.core.service.${name}`]));
const TYPED_DICTS = new Set(["typing.TypedDict", "typing_extensions.TypedDict"]);
const DATACLASS_DECORATORS = new Set(["dataclasses.dataclass", "pydantic.dataclasses.dataclass"]);

/** Class hierarchies are followed at most this deep (a cycle of bases ends). */
const MAX_BASES_DEPTH = 64;

export class ClassIndex {
  private readonly kinds = new Map<PyNode, ClassKind>();
  private readonly own = new Map<PyNode, OwnMembers>();

  constructor(private readonly program: PyProgram) {}

  /** The base classes written in a class statement (keyword arguments such as metaclass= dropped). */
  baseNodes(cls: PyClass): PyNode[] {
    const list = cls.node.childForFieldName("superclasses");
    return list ? named(list).filter((n) => n.type !== "keyword_argument" && n.type !== "list_splat" && n.type !== "dictionary_splat") : [];
  }

  /** The bases that are classes of the given files. */
  localBases(cls: PyClass): PyClass[] {
    return this.baseNodes(cls).flatMap((node) => {
      const resolved = this.program.resolveNode(cls.file, node);
      return resolved?.kind === "class" ? [resolved.cls] : [];
    });
  }

  /** Derives from rpyc's Service through its bases (cycles and depth bounded). */
  isService(cls: PyClass, depth = 0, seen: Set<PyClass> = new Set()): boolean {
    if (depth > MAX_BASES_DEPTH || seen.has(cls)) return false;
    seen.add(cls);
    return this.baseNodes(cls).some((node) => {
      const resolved = this.program.resolveNode(cls.file, node);
      if (!resolved) return false;
      if (resolved.kind === "external") return RPYC_SERVICES.has(resolved.qualified);
      return resolved.kind === "class" && this.isService(resolved.cls, depth + 1, seen);
    });
  }

  kind(cls: PyClass): ClassKind {
    let kind = this.kinds.get(cls.node);
    if (kind === undefined) {
      kind = this.computeKind(cls);
      this.kinds.set(cls.node, kind);
    }
    return kind;
  }

  private computeKind(cls: PyClass): ClassKind {
    if (this.isService(cls)) return "service";
    if (this.isTypedDict(cls, 0)) return "typeddict";
    const decorated = cls.node.parent?.type === "decorated_definition" ? cls.node.parent : undefined;
    for (const decorator of decorated ? named(decorated).filter((n) => n.type === "decorator") : []) {
      const expression = named(decorator)[0];
      const target = expression?.type === "call" ? expression.childForFieldName("function") : expression;
      const resolved = target ? this.program.resolveNode(cls.file, target) : undefined;
      if (resolved?.kind === "external" && DATACLASS_DECORATORS.has(resolved.qualified)) return "dataclass";
    }
    return "class";
  }

  private isTypedDict(cls: PyClass, depth: number): boolean {
    if (depth > MAX_BASES_DEPTH) return false;
    return this.baseNodes(cls).some((node) => {
      const resolved = this.program.resolveNode(cls.file, node);
      if (resolved?.kind === "external") return TYPED_DICTS.has(resolved.qualified);
      return resolved?.kind === "class" && this.isTypedDict(resolved.cls, depth + 1);
    });
  }

  /** Python's C3 linearisation over the classes of the given files (external bases contribute no exposed members). */
  mro(cls: PyClass, depth = 0): PyClass[] {
    if (depth > MAX_BASES_DEPTH) return [cls];
    const sequences = [...this.localBases(cls).map((base) => this.mro(base, depth + 1)), this.localBases(cls)];
    const result: PyClass[] = [cls];
    // Bounded: every round removes at least one class from the sequences, or stops.
    for (let round = 0; round < 10_000; round++) {
      const remaining = sequences.filter((s) => s.length > 0);
      if (remaining.length === 0) break;
      const head = remaining.map((s) => s[0]!).find((candidate) => !remaining.some((s) => s.indexOf(candidate) > 0));
      // Not linearisable (Python would raise TypeError): fall back to depth-first order.
      const next = head ?? remaining[0]![0]!;
      result.push(next);
      for (const s of sequences) {
        const at = s.indexOf(next);
        if (at >= 0) s.splice(at, 1);
      }
    }
    return result.filter((c, i) => result.indexOf(c) === i);
  }

  ownMembers(ctx: MemberContext, cls: PyClass): OwnMembers {
    let members = this.own.get(cls.node);
    if (!members) {
      members = ownMembers(ctx, cls.file, cls.node, cls.name);
      this.own.set(cls.node, members);
    }
    return members;
  }
}

/** RPyC's rule: ALIASES upper-cased, else the class name upper-cased without a trailing "SERVICE". */
export function serviceAliases(className: string, aliases: readonly string[] | undefined): string[] {
  if (aliases && aliases.length > 0) return aliases.map((a) => a.toUpperCase());
  const upper = className.toUpperCase();
  return [upper.endsWith("SERVICE") ? upper.slice(0, -"SERVICE".length) : upper];
}

export function describeService(ctx: MemberContext, classes: ClassIndex, cls: PyClass, location: SourceLocation): ServiceDef {
  const mro = classes.mro(cls);
  const methods = new Map<string, MethodDef>();
  const attributes = new Map<string, AttributeDef>();
  let aliases: readonly string[] | "non-literal" | undefined;
  // Most derived first: the first class that defines a name wins, as attribute lookup does.
  for (const owner of mro) {
    const own = classes.ownMembers(ctx, owner);
    for (const method of own.methods) if (!methods.has(method.member) && !attributes.has(method.member)) methods.set(method.member, method);
    for (const attribute of own.attributes)
      if (!methods.has(attribute.member) && !attributes.has(attribute.member)) attributes.set(attribute.member, attribute);
    aliases ??= own.aliases;
  }
  const literal = Array.isArray(aliases) ? (aliases as readonly string[]) : undefined;
  const names = serviceAliases(cls.name, literal);
  const doc = classes.ownMembers(ctx, cls).doc;
  const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    origin: "python",
    className: cls.name,
    name: names[0]!,
    aliases: names,
    explicitAliases: literal !== undefined && literal.length > 0,
    module: cls.file.relative,
    exportName: cls.name,
    bases: mro
      .slice(1)
      .filter((c) => classes.isService(c))
      .map((c) => c.name),
    location,
    methods: [...methods.values()].sort(byName),
    attributes: [...attributes.values()].sort(byName),
    ...(doc ? { doc } : {}),
  };
}
