// Fails when modules of this repository import each other in a cycle (type-only imports
// count too: a cycle of types still ties modules together). `npm test` runs it.
//
//   npx tsx scripts/check-cycles.ts [folders...]   (default: every source folder)

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(import.meta.dirname, "..");
const FOLDERS = process.argv.length > 2 ? process.argv.slice(2) : ["runtime", "compiler", "bench", "scripts", "examples", "test"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === "node_modules" || name === "generated-tmp") return [];
    if (statSync(full).isDirectory()) return sources(full);
    return /\.[cm]?ts$/.test(name) && !name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The repository file a relative specifier names (".js" written for ".ts", as ESM TypeScript does), if any. */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, ".ts"), base.replace(/\.mjs$/, ".mts"), `${base}.ts`, path.join(base, "index.ts")];
  return candidates.find((file) => existsSync(file) && statSync(file).isFile() && /\.[cm]?ts$/.test(file));
}

const graph = new Map<string, string[]>();
for (const folder of FOLDERS) {
  for (const file of sources(path.join(ROOT, folder))) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const edges = info.importedFiles.map((ref) => resolve(file, ref.fileName)).filter((dep): dep is string => dep !== undefined);
    graph.set(file, [...new Set(edges)]);
  }
}

// Tarjan's strongly connected components: every component of more than one module (or a
// module importing itself) is a cycle.
let counter = 0;
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
const cycles: string[][] = [];
function visit(node: string): void {
  index.set(node, counter);
  low.set(node, counter++);
  stack.push(node);
  onStack.add(node);
  for (const next of graph.get(node) ?? []) {
    if (!index.has(next)) {
      visit(next);
      low.set(node, Math.min(low.get(node)!, low.get(next)!));
    } else if (onStack.has(next)) {
      low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
  }
  if (low.get(node) === index.get(node)) {
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component);
  }
}
for (const node of graph.keys()) if (!index.has(node)) visit(node);

const relative = (file: string): string => path.relative(ROOT, file);
if (cycles.length === 0) {
  console.log(`no import cycles among ${graph.size} modules (${FOLDERS.join(", ")})`);
} else {
  console.error(`${cycles.length} import cycle(s):`);
  for (const cycle of cycles) console.error(`  ${cycle.map(relative).sort().join(" <-> ")}`);
  process.exit(1);
}
