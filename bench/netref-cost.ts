// What one netref costs to create and to hold (issue 16: a peer sending 250,000 references
// in one message made the server allocate ~520 MB). Creates N netrefs the way
// Connection.netrefFor does (a fresh NetrefState, an `iterate` closure, createNetref), keeps
// them all, and reports heap bytes and microseconds per netref; then the first and a cached
// attribute access (`ref.name`: an AttrRef, cached per netref). No network, no connection:
// the owner is a stub that is never called. Bounded: a few rounds of N netrefs.
//
//   node --expose-gc --import tsx bench/netref-cost.ts [--n 100000] [--rounds 5] [--module path/to/netref]
//
// Under tsx every module (even a compiled .js one) is transformed, and every named closure
// gets a `__name` defineProperty. What a deployed server pays is the compiled build, run by
// plain node (bench and runtime compiled together to a temporary directory):
//
//   npx tsc --ignoreConfig bench/netref-cost.ts --outDir /tmp/netref-dist --rootDir . --target es2023 \
//     --module nodenext --lib es2023,es2024.string,esnext.disposable --types node --skipLibCheck --strict
//   echo '{"type":"module"}' > /tmp/netref-dist/package.json
//   node --expose-gc /tmp/netref-dist/bench/netref-cost.js
//
// `--module` measures another copy of runtime/netref (e.g. an older one, for before/after).

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cli, median, num } from "./harness.js";
import type { NetrefOwner, NetrefState } from "../runtime/netref/netref.js";

type NetrefModule = typeof import("../runtime/netref/netref.js");

const { values: opts } = cli("node --expose-gc --import tsx bench/netref-cost.ts [--n 100000] [--rounds 5] [--module path/to/netref.js]", {
  n: { type: "string" },
  rounds: { type: "string" },
  module: { type: "string" },
});
const N = Math.min(num("--n", opts.n, 100_000, 1000, true), 1_000_000);
const ROUNDS = Math.min(num("--rounds", opts.rounds, 5, 1, true), 20);
/** Attribute accesses: fewer, an AttrRef costs more than a netref. */
const N_ATTR = Math.min(N, 20_000);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("run with node --expose-gc (heap figures need a full collection)");
  process.exit(2);
}

const mod: NetrefModule = opts.module
  ? ((await import(pathToFileURL(resolve(opts.module)).href)) as NetrefModule)
  : await import("../runtime/netref/netref.js");
const runtime = import.meta.url.endsWith(".ts") ? "tsx" : "compiled";
const moduleLabel = `${opts.module ?? "runtime/netref"} (${runtime})`;

const fail = (what: string): never => {
  throw new Error(`the stub owner was used: ${what}`);
};

/** Stands for a Connection; the bench never calls through a netref. */
const owner: NetrefOwner = {
  closed: false,
  connid: "bench",
  request: () => fail("request"),
  netrefReleased: () => fail("netrefReleased"),
  resolveRoot: () => fail("resolveRoot"),
  schemaFor: () => undefined,
};
/** What `(ref) => this.iterate(ref)` closes over in Connection.netrefFor. */
const conn = { iterate: (_ref: unknown): AsyncIterator<unknown> => fail("iterate") };

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

type Sample = ReturnType<typeof round>;

function round(n: number, nAttr: number, roundNo: number) {
  const h0 = heapUsed();
  const states = new Array<NetrefState>(n);
  for (let i = 0; i < n; i++) states[i] = { owner, idPack: ["builtins.object", roundNo, i], refcount: 1, released: false };
  const iterators = new Array<(ref: unknown) => AsyncIterator<unknown>>(n);
  for (let i = 0; i < n; i++) iterators[i] = (ref) => conn.iterate(ref);
  const refs = new Array<unknown>(n);
  const h1 = heapUsed();

  let t = performance.now();
  for (let i = 0; i < n; i++) refs[i] = mod.createNetref(states[i]!, iterators[i]!);
  const netrefUs = ((performance.now() - t) * 1000) / n;
  const h2 = heapUsed();

  const attrs = new Array<unknown>(nAttr);
  t = performance.now();
  for (let i = 0; i < nAttr; i++) attrs[i] = (refs[i] as Record<string, unknown>)["name"];
  const attrUs = ((performance.now() - t) * 1000) / nAttr;
  const h3 = heapUsed();

  let same = 0;
  t = performance.now();
  for (let i = 0; i < nAttr; i++) if ((refs[i] as Record<string, unknown>)["name"] === attrs[i]) same++;
  const cachedAttrUs = ((performance.now() - t) * 1000) / nAttr;
  if (same !== nAttr) throw new Error("attribute references are not cached per netref");
  if (!mod.isNetref(refs[n - 1]) || mod.netrefState(refs[0]) !== states[0]) throw new Error("not netrefs");

  // Keep everything reachable until every figure is taken.
  if ((states.length + iterators.length + refs.length + attrs.length) % 7 === 99) console.log("");
  return { stateBytes: (h1 - h0) / n, netrefBytes: (h2 - h1) / n, netrefUs, attrBytes: (h3 - h2) / nAttr, attrUs, cachedAttrUs };
}

// Warm up (JIT, inline caches, map transitions), then measure.
for (let i = 0; i < 3; i++) round(Math.min(N, 10_000), Math.min(N_ATTR, 2_000), -1 - i);
const samples: Sample[] = Array.from({ length: ROUNDS }, (_, r) => round(N, N_ATTR, r));

const m = (key: keyof Sample): number => median(samples.map((s) => s[key])) ?? Number.NaN;
const rows: [string, string, string][] = [
  ["netref (createNetref)", `${m("netrefBytes").toFixed(0)}`, m("netrefUs").toFixed(2)],
  ["  + its NetrefState and iterate closure", `${(m("netrefBytes") + m("stateBytes")).toFixed(0)}`, ""],
  ["first attribute access (ref.name)", `${m("attrBytes").toFixed(0)}`, m("attrUs").toFixed(2)],
  ["cached attribute access", "0", m("cachedAttrUs").toFixed(3)],
];
console.log(`netref cost: ${moduleLabel}; node ${process.version}; ${N} netrefs (${N_ATTR} attribute accesses); median of ${ROUNDS} rounds`);
const w0 = Math.max(...rows.map((r) => r[0].length));
console.log(`| ${"what".padEnd(w0)} | bytes each | µs each |`);
console.log(`| ${"-".repeat(w0)} | ---------: | ------: |`);
for (const [what, bytes, us] of rows) console.log(`| ${what.padEnd(w0)} | ${bytes.padStart(10)} | ${us.padStart(7)} |`);
