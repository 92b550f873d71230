// JSDoc on demand. TypeScript files other than the entries are parsed without their JSDoc
// (ts.JSDocParsingMode.ParseForTypeInfo: in a .ts or .d.ts file a doc comment never changes a
// type, which is why tsc itself skips them; JavaScript files keep theirs). The model still
// carries the docs of every member and named type, wherever it is declared: before TypeScript
// reads a symbol's documentation, the files it may read it from get their comments, parsed
// again from the same text and attached to the nodes the program already has. The result is
// what parsing everything would have given.

import { ts } from "ts-morph";

type WithJsDoc = ts.Node & { jsDoc?: ts.JSDoc[]; jsDocCache?: unknown };

type Owner = ts.ClassLikeDeclaration | ts.InterfaceDeclaration;

export class LazyJsDoc {
  /** Files whose nodes carry their JSDoc (parsed with it, or completed). */
  private readonly complete = new WeakSet<ts.SourceFile>();
  /** The bases of each owner (null: not all named in place), as the current checker resolves them. */
  private bases = new WeakMap<Owner, readonly Owner[] | null>();
  private basesChecker: ts.TypeChecker | undefined;

  markComplete(sourceFile: ts.SourceFile): void {
    this.complete.add(sourceFile);
  }

  /**
   * Makes sure TypeScript finds every comment `symbol.getDocumentationComment()` may read: those
   * of the symbol's declarations and, because a member without a doc inherits the doc of the
   * member it overrides or implements, those of every class and interface its declarations'
   * owners extend or implement (followed by name, through imports, up the whole chain).
   */
  prepare(program: ts.Program, checker: ts.TypeChecker, symbol: ts.Symbol): void {
    const declarations = symbol.declarations ?? [];
    // A parameter of a signature spread from a labelled tuple is documented at the label (TypeScript's rule for symbols without declarations).
    const label = (symbol as { links?: { target?: { links?: { tupleLabelDeclaration?: ts.Node } } } }).links?.target?.links?.tupleLabelDeclaration;
    if (label) this.completeFile(label.getSourceFile());
    if (checker !== this.basesChecker) {
      this.bases = new WeakMap();
      this.basesChecker = checker;
    }
    const seen = new Set<ts.Node>();
    const owners: Owner[] = [];
    for (const declaration of declarations) {
      this.completeFile(declaration.getSourceFile());
      const parent = declaration.parent;
      const owner = parent && ts.isConstructorDeclaration(parent) ? parent.parent : parent;
      if (owner && (ts.isClassLike(owner) || ts.isInterfaceDeclaration(owner))) owners.push(owner);
    }
    while (owners.length > 0) {
      const owner = owners.pop()!;
      if (seen.has(owner)) continue;
      seen.add(owner);
      const bases = this.basesOf(checker, owner);
      // A base that is not a class or interface named in place (a mixin call, a type alias): any file may declare its members.
      if (bases === null) return this.completeAll(program);
      for (const base of bases) {
        this.completeFile(base.getSourceFile());
        owners.push(base);
      }
    }
  }

  private basesOf(checker: ts.TypeChecker, owner: Owner): readonly Owner[] | null {
    let bases = this.bases.get(owner);
    if (bases === undefined) {
      const found: Owner[] = [];
      bases = found;
      for (const heritage of (owner.heritageClauses ?? []).flatMap((c) => c.types)) {
        const declarations = this.baseDeclarations(checker, heritage);
        if (declarations === undefined) {
          bases = null;
          break;
        }
        found.push(...declarations);
      }
      this.bases.set(owner, bases);
    }
    return bases;
  }

  /** The class and interface declarations a heritage clause names (by symbol: no type is computed), or undefined. */
  private baseDeclarations(checker: ts.TypeChecker, heritage: ts.ExpressionWithTypeArguments): Owner[] | undefined {
    const expression = heritage.expression;
    if (!ts.isIdentifier(expression) && !ts.isPropertyAccessExpression(expression)) return undefined;
    let symbol = checker.getSymbolAtLocation(expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const declarations = symbol?.declarations ?? [];
    if (declarations.length === 0 || declarations.some((d) => !ts.isClassLike(d) && !ts.isInterfaceDeclaration(d))) return undefined;
    return declarations as Owner[];
  }

  private completeAll(program: ts.Program): void {
    for (const sourceFile of program.getSourceFiles()) this.completeFile(sourceFile);
  }

  /** Parses the file's text again with its JSDoc and attaches each comment to the node the program has at the same place. */
  private completeFile(sourceFile: ts.SourceFile): void {
    if (this.complete.has(sourceFile)) return;
    this.complete.add(sourceFile);
    const withDocs = ts.createSourceFile(
      sourceFile.fileName,
      sourceFile.text,
      { languageVersion: sourceFile.languageVersion, jsDocParsingMode: ts.JSDocParsingMode.ParseAll },
      true,
      (sourceFile as { scriptKind?: ts.ScriptKind }).scriptKind,
    );
    attach(sourceFile, withDocs);
  }
}

/** Walks two parses of one text side by side (JSDoc never changes the tree) and moves the comments of `from` onto `to`. */
function attach(to: ts.SourceFile, from: ts.SourceFile): void {
  const pending: [ts.Node, ts.Node][] = [[to, from]];
  for (let pair = pending.pop(); pair !== undefined; pair = pending.pop()) {
    const [a, b] = pair;
    const docs = (b as WithJsDoc).jsDoc;
    if (docs) {
      for (const doc of docs) (doc as { parent: ts.Node }).parent = a;
      (a as WithJsDoc).jsDoc = docs;
      (a as WithJsDoc).jsDocCache = undefined;
    }
    const aChildren = children(a);
    const bChildren = children(b);
    if (aChildren.length !== bChildren.length) throw new Error(`JSDoc of ${to.fileName}: the parse with comments differs at offset ${a.pos}`);
    for (let i = 0; i < aChildren.length; i++) {
      const [x, y] = [aChildren[i]!, bChildren[i]!];
      if (x.kind !== y.kind || x.pos !== y.pos || x.end !== y.end)
        throw new Error(`JSDoc of ${to.fileName}: the parse with comments differs at offset ${x.pos}`);
      pending.push([x, y]);
    }
  }
}

function children(node: ts.Node): ts.Node[] {
  const out: ts.Node[] = [];
  ts.forEachChild(node, (child) => {
    out.push(child);
  });
  return out;
}
