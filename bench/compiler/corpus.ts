// The compiler bench's input: a deterministic (seeded) TypeScript project of rpyc-ts services,
// like an application's services folder (bench/README.md, "The corpus", lists what is in it).
// rpyc-gen reads it as `rpyc-gen --project tsconfig.json --out generated src/services`.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

export type Corpus = ReturnType<typeof generateCorpus>;

// ---- a small seeded PRNG (mulberry32): the same seed gives the same corpus, byte for byte, on every machine ----

type Random = ReturnType<typeof random>;

function random(seed: number) {
  let state = seed >>> 0 || 0x9e3779b9;
  /** A float in [0, 1). */
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  /** A key of `weights` chosen with its weight. */
  const weighted = <K extends string>(weights: Readonly<Record<K, number>>): K => {
    const choices = Object.entries(weights) as [K, number][];
    let r = next() * choices.reduce((sum, [, w]) => sum + w, 0);
    for (const [item, weight] of choices) {
      r -= weight;
      if (r < 0) return item;
    }
    return choices.at(-1)![0];
  };
  /** int: in [min, max] (both included); sample: `count` distinct items (or all of them), in random order. */
  return {
    int: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number): boolean => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    sample: <T>(items: readonly T[], count: number): T[] => shuffle(items).slice(0, count),
    shuffle,
    weighted,
  };
}

// ---- names -------------------------------------------------------------------------------------

const DOMAINS: readonly { readonly module: string; readonly pascal: string; readonly entities: readonly string[] }[] = [
  { module: "accounts", pascal: "Account", entities: ["Customer", "Account", "Contact", "Subscription", "Session", "Team", "Invitation", "Preference"] },
  { module: "orders", pascal: "Order", entities: ["Order", "OrderLine", "Cart", "ReturnRequest", "Discount", "Quote", "Fulfilment", "Refund"] },
  { module: "catalog", pascal: "Catalog", entities: ["Product", "Variant", "Category", "PriceList", "Bundle", "Review", "Supplier", "MediaAsset"] },
  { module: "shipping", pascal: "Shipping", entities: ["Shipment", "Parcel", "Carrier", "Route", "Depot", "TrackingEvent", "ShippingLabel", "Pickup"] },
  { module: "billing", pascal: "Billing", entities: ["Invoice", "Payment", "LedgerEntry", "TaxRate", "CreditNote", "PaymentMethod", "Payout", "Dispute"] },
  { module: "analytics", pascal: "Analytics", entities: ["Metric", "Report", "Dashboard", "Alert", "Segment", "Experiment", "Forecast", "Anomaly"] },
];

const SERVICE_NOUNS = `Account Invoice Ledger Catalog Inventory Shipment Billing Pricing Checkout Customer Order Payment Refund Tax Warehouse Carrier
  Route Review Supplier Report Metric Alert Segment Forecast Session Identity Consent Notification Search Media Promotion Loyalty Subscription
  Quote Dispute Payout Fulfilment Returns Dashboard Experiment`.split(/\s+/);
const SERVICE_QUALIFIERS = ["Query", "Admin", "Sync", "Report", "Gateway", "Registry", "Import", "Audit", "Portal", "Scheduler"];

/** What a service talks to. */
const WORDS = `records, entries, the current tenant, a batch, the cache, pending work, the archive, the remote store, the nightly job, the audit trail,
  the primary region, a snapshot, the read replica, the queue`.split(/,\s+/);

const snake = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
/** "OrderLine" -> "order line". */
const words = (name: string): string => snake(name).replace(/_/g, " ");
const camel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);
const kebab = (name: string): string => snake(name).replace(/_/g, "-");
/** "order" -> "an order". */
const article = (words: string): string => `${/^[aeiou]/i.test(words) ? "an" : "a"} ${words}`;
const plural = (word: string): string => (/(s|x|ch|sh)$/.test(word) ? `${word}es` : /[^aeiou]y$/.test(word) ? `${word.slice(0, -1)}ies` : `${word}s`);

// ---- what is exported where ---------------------------------------------------------------------

/** Exported type names -> module (relative to src/, no extension). */
type Registry = Map<string, string>;

/** Collects the names a file uses (`use`); renders its import declarations (`render`). */
function importsOf(registry: Registry, fromModule: string) {
  const [types, values] = [new Set<string>(), new Set<string>()];
  /** Notes every registered name of another module in a piece of code: a value where it is followed by "." (an enum member), else a type. */
  const use = (text: string): void => {
    for (const [name, dot] of text.matchAll(/\b[A-Z][A-Za-z0-9]*\b(\.)?/g)) {
      const bare = dot ? name.slice(0, -1) : name;
      const module = registry.get(bare);
      if (module === undefined || module === fromModule) continue;
      types.add(bare);
      if (dot) values.add(bare);
    }
  };
  const render = (): string[] => {
    const byModule = new Map<string, string[]>();
    for (const name of types) byModule.set(registry.get(name)!, [...(byModule.get(registry.get(name)!) ?? []), name]);
    return [...byModule.keys()].sort().map((module) => {
      const rel = path.posix.relative(path.posix.dirname(fromModule), module);
      const names = byModule.get(module)!.sort((a, b) => a.localeCompare(b, "en"));
      const allTypes = names.every((n) => !values.has(n));
      const list = allTypes ? names : names.map((n) => (values.has(n) ? n : `type ${n}`));
      return `import ${allTypes ? "type " : ""}{ ${list.join(", ")} } from "${rel.startsWith(".") ? rel : `./${rel}`}.js";`;
    });
  };
  return { use, render };
}

// ---- fixed files: the shared types, the backend and the base services (corpus-static/*.ts.txt) ----

const STATIC_FILES = ["src/types/common.ts", "src/types/generics.ts", "src/lib/backend.ts", "src/bases/health.ts", "src/bases/audited.ts", "src/bases/crud.ts"];
const COMMON_ENUMS = ["Status", "Priority", "Region", "Currency"];
const COMMON_TYPES = ["Id", "SortOrder", "Timestamp", "Money", "Address", "Audit", "Range", "Paging", "GeoPoint"];
const GENERIC_TYPES = ["Page", "ProblemDetail", "Result", "Envelope", "TreeNode", "Pair", "Keyed", "Diff"];
/** Exported declarations of the fixed files: the lists above and HealthReport. */
const STATIC_DECLARATIONS = COMMON_ENUMS.length + COMMON_TYPES.length + GENERIC_TYPES.length + 1;

/** A fixed file's text: corpus-static/<its name>.txt. */
const staticFile = (file: string): string => readFileSync(new URL(`./corpus-static/${path.posix.basename(file)}.txt`, import.meta.url), "utf8");

// ---- entities -------------------------------------------------------------------------------

type Entity = { readonly name: string; readonly domainIndex: number };

/** What the generated files can refer to: every exported name, every entity. */
type World = { readonly registry: Registry; readonly entities: readonly Entity[] };

/** Fields of the entities besides id and status: "[readonly ]name[?]: type[ // doc]", as their declarations read. */
const FIELD_POOL = [
  "name: string // Display name.",
  "title: string",
  "description?: string",
  "priority?: Priority",
  "region: Region",
  "price: Money // Price including tax.",
  "readonly balance: Money",
  "address?: Address",
  "readonly audit: Audit",
  "tags: string[]",
  "labels: Record<string, string> // Free-form labels.",
  "counters: Map<string, number>",
  "readonly createdAt: Date",
  "updatedAt?: Timestamp",
  "score: number | null",
  "position?: GeoPoint",
  "bounds: { min: number; max: number; unit?: string } // Valid range.",
  "window?: Range<Date>",
  "readonly version: number",
  "flags: boolean[]",
  "checksum?: Uint8Array",
  "quantity: number",
  `mode: "manual" | "automatic" | "scheduled"`,
  "sequence: bigint",
  "enabled: boolean",
  "coordinates: [number, number]",
  "attachments: { name: string; size: number; data?: Uint8Array }[]",
];

function domainFile(rng: Random, domainIndex: number, { registry, entities }: World): { text: string; declarations: number } {
  const domain = DOMAINS[domainIndex]!;
  const imports = importsOf(registry, `types/${domain.module}`);
  const body: string[] = [];
  const mine = entities.filter((e) => e.domainIndex === domainIndex);
  // References go to entities of earlier domains and to earlier entities of this one (and to itself).
  const referable = (entity: Entity): Entity[] =>
    entities.filter((e) => e.domainIndex < domainIndex || (e.domainIndex === domainIndex && mine.indexOf(e) <= mine.indexOf(entity)));
  for (const entity of mine) {
    const fields = ["readonly id: Id", "status: Status", ...rng.sample(FIELD_POOL, rng.int(3, 8))];
    const refs = referable(entity);
    for (let i = rng.int(0, 2); i > 0; i--) {
      const target = rng.pick(refs);
      const kind = rng.weighted({ one: 2, many: 2, id: 1 });
      const base = camel(target.name);
      if (target === entity) fields.push(`parent?: ${entity.name}`);
      else if (kind === "one") fields.push(`${base}${rng.chance(0.4) ? "?" : ""}: ${target.name}`);
      else if (kind === "many") fields.push(`${plural(base)}: ${target.name}[]`);
      else fields.push(`${base}Id: Id`);
    }
    const seen = new Set<string>();
    const lines = fields.flatMap((field) => {
      const [decl, doc] = field.split(" // ") as [string, string?];
      const name = /^(?:readonly )?(\w+)/.exec(decl)![1]!;
      if (seen.has(name)) return [];
      seen.add(name);
      imports.use(decl);
      return [...(doc ? [`  /** ${doc} */`] : []), `  ${decl};`];
    });
    body.push(`/** ${article(words(entity.name))} of the ${domain.module} domain. */`, `export interface ${entity.name} {`, ...lines, "}", "");
  }
  // One discriminated union of events per domain, and a summary type using the generics.
  imports.use("Id Page Keyed");
  body.push(
    `/** Something that happened to ${article(domain.module)} record. */`,
    `export type ${domain.pascal}Event =`,
    `  | { kind: "created"; id: Id; at: Date; record: ${mine[0]!.name} }`,
    `  | { kind: "changed"; id: Id; at: Date; fields: string[] }`,
    `  | { kind: "removed"; id: Id; at: Date; reason?: string };`,
    "",
    `/** Totals of the ${domain.module} domain. */`,
    `export interface ${domain.pascal}Summary {`,
    `  counts: Record<string, number>;`,
    `  latest: Page<${rng.pick(mine).name}>;`,
    `  hot: Keyed<${rng.pick(mine).name}>[];`,
    "}",
    "",
  );
  const header = [`// The ${domain.module} domain: entities, events and summaries.`, ...imports.render(), ""];
  return { text: [...header, ...body].join("\n"), declarations: mine.length + 2 };
}

// ---- services -------------------------------------------------------------------------------------

/**
 * The exposed methods' templates: "verb: result type // doc", then the parameters as their declarations read. In them,
 * {E} is the entity, {one}, {many} and {an} its name in words ("order line", "order lines", "an order line"); {O} and
 * {anO} another entity; {D} and {domain} the service's domain ("Order", "orders"); {query} its local query type or string.
 */
const TEMPLATES: readonly (readonly string[])[] = [
  ["get: {E} | null // Looks up one {one} by id.", "id: Id // The {one}'s id.", "options?: { includeAudit?: boolean; fields?: string[] } // What to include."],
  [
    "list: Page<{E}> // Lists {many}, newest first.",
    "paging: Paging // Which page.",
    "status?: Status // Only records in this state.",
    "...tags: string[] // Only records with all these tags.",
  ],
  ["create: Result<{E}> // Creates {an}.", "input: {E} // The new record.", "dryRun: boolean = false // Validate only, store nothing."],
  [
    "update: Diff<{E}> // Changes some fields of {an}.",
    "id: Id // Which record.",
    "patch: Partial<{E}> // Fields to change.",
    "expectedVersion?: number // Fail if the stored version differs.",
  ],
  ["delete: boolean // Deletes {an}; false when there was none.", "id: Id // Which record.", "reason?: string // Kept in the audit trail."],
  [
    "search: Envelope<{E}[]> // Full-text search over {many}.",
    "query: {query} // What to look for.",
    "filters: Record<string, string> // Field filters.",
    "range?: Range<Date> // Creation time window.",
    'order: SortOrder = "desc" // Sort order.',
  ],
  ["count: number // Counts {many} by state.", "status: Status | Status[] // One state or several."],
  ["export: Uint8Array // Exports {many} as a file.", "ids: Id[] // Records to export.", 'format: "csv" | "json" | "parquet" // File format.'],
  [
    "import: Result<number> // Imports {many} from a file; returns how many were stored.",
    "data: Uint8Array // The file.",
    "onProgress?: (done: number, total: number) => void // Called as records are read.",
  ],
  ["stats: Map<string, number> // Statistics about {many}.", "range: Range<Date> // Time window.", "region?: Region // Only this region."],
  ["tree: TreeNode<{E}> // The {one} hierarchy below a record.", "rootId: Id // The root.", "depth: number = 3 // How many levels."],
  ["history: Keyed<{E}>[] // Every stored version of {an}.", "id: Id // Which record."],
  ["bulk_store: Pair<number, ProblemDetail[]> // Stores many {many}: how many were stored and what failed.", "...items: {E}[] // Records to store."],
  [
    "subscribe: () => void // Subscribes to changes; call the result to unsubscribe.",
    "listener: (event: {D}Event) => void // Called for every event.",
    'kinds?: ("created" | "changed" | "removed")[] // Only these kinds.',
  ],
  ["price: Money // The current price of {an}.", "id: Id // Which record.", "currency: Currency = Currency.EUR // Currency of the result."],
  ["locate: GeoPoint | null // Where {an} is.", "address: Address // A postal address."],
  [
    "assign: Envelope<Result<{O}>> // Assigns {an} to {anO}.",
    "id: Id // Which record.",
    "owner: {O} // The new owner.",
    "priority: Priority = Priority.Normal // How urgent.",
  ],
  ["summary: {D}Summary // Totals of the {domain} domain.", "region?: Region // Only this region."],
  [
    "sequence: [bigint, {E}[]] // Records changed after a sequence number, and the newest number.",
    "after: bigint // Last sequence number seen.",
    "limit?: number // At most this many.",
  ],
  ["validate: ProblemDetail[] // Checks {an} without storing it.", "input: {E} // The record to check."],
  ["touch: void // Marks {many} as updated.", "ids: Id[] // Which records.", "at?: Timestamp // When (default: now)."],
  [
    "rank: { id: Id; score: number; record?: {E} }[] // Ranks {many} by weight.",
    "weights: Map<Id, number> // Weight per record.",
    'mode: "linear" | "log" = "linear" // How weights combine.',
  ],
];

/** A template of TEMPLATES for an entity, another entity, a domain and the service's local query type; params: [declaration, doc]. */
function method(template: readonly string[], e: Entity, other: Entity, domain: (typeof DOMAINS)[number], local: string | undefined) {
  const vars: Record<string, string> = {
    E: e.name,
    one: words(e.name),
    many: plural(words(e.name)),
    an: article(words(e.name)),
    O: other.name,
    anO: article(words(other.name)),
    D: domain.pascal,
    domain: domain.module,
    query: local ?? "string",
  };
  const [head, ...params] = template.map((text) => text.replace(/\{(\w+)\}/g, (_, key: string) => vars[key]!).split(" // ") as [string, string]);
  const [, verb, returns] = /^(\w+): (.+)$/.exec(head![0])!;
  return { verb: verb!, returns: returns! /* without Promise */, doc: head![1], params };
}

/** Members besides the exposed methods, each in a share of the services: its chance, what it counts as, its text (drawn right after the chance). */
const MEMBERS: readonly (readonly [number, "attributes" | "getters" | null, (rng: Random) => string])[] = [
  [0.6, "attributes", (rng) => `  /** Version of this service's interface. */\n  readonly exposed_api_version = "${rng.int(1, 4)}.${rng.int(0, 9)}";`],
  [0.3, "attributes", () => "  exposed_enabled = true;"],
  [
    0.3,
    "attributes",
    (rng) => {
      const limits = `{ maxPage: ${rng.pick([50, 100, 500])} }`;
      return `  /** Limits that apply to every caller. */\n  readonly exposed_limits: { maxPage: number; region?: Region } = ${limits};`;
    },
  ],
  [0.5, "getters", () => "  /** Calls served by this instance. */\n  get exposed_call_count(): number {\n    return this.calls;\n  }"],
  [0.25, "getters", () => "  get exposed_status(): Status {\n    return this.calls >= 0 ? Status.Active : Status.Suspended;\n  }"],
  [0.3, null, () => "  override on_connect(_conn: Connection): void {\n    this.calls = 0;\n  }"],
];

type ServicePlan = { readonly className: string; readonly file: string; readonly base: "Service" | "HealthService" | "AuditedService" | "CrudService" };

function serviceFile(rng: Random, index: number, plan: ServicePlan, methods: number, { registry, entities }: World) {
  const imports = importsOf(registry, `services/${path.posix.basename(plan.file, ".ts")}`);
  const homeDomain = rng.int(0, DOMAINS.length - 1);
  const domain = DOMAINS[homeDomain]!;
  const home = entities.filter((e) => e.domainIndex === homeDomain);
  const foreign = entities.filter((e) => e.domainIndex !== homeDomain);
  const others = rng.sample(foreign, 3);
  const main = rng.pick(home);
  const stem = plan.className.replace(/Service$/, "");
  const lines: string[] = [];

  // A service-local query type in about a third of the services.
  const local = rng.chance(0.35) ? `${stem}Query` : undefined;
  if (local) {
    lines.push(`/** What ${plan.className} searches for. */`, `export interface ${local} {`, `  text: string;`, `  status?: Status[];`, `  order?: SortOrder;`);
    lines.push(`  /** Extra criteria by field name. */`, `  where: Record<string, string | number | boolean>;`, `}`, "");
    imports.use("SortOrder Status");
  }

  const baseType = plan.base === "CrudService" ? `CrudService<${main.name}>` : plan.base;
  if (plan.base === "CrudService") imports.use(main.name);
  const aliases = rng.chance(0.1);
  const what = rng.pick(WORDS);
  lines.push(
    `/**`,
    ` * ${stem}: ${plural(words(main.name))} and related records of the ${domain.module} domain.`,
    ` * Talks to ${what}; every call is counted.`,
  );
  lines.push(` */`, `export class ${plan.className} extends ${baseType} {`);
  if (aliases) lines.push(`  static ALIASES = ["${kebab(stem)}", "svc${index}"];`, "");
  lines.push(`  private readonly backend = new Backend("${kebab(plan.className)}");`, `  private calls = 0;`);
  if (plan.base === "AuditedService" || plan.base === "CrudService") lines.push(`  protected readonly area = "${domain.module}";`);
  lines.push("");

  // Attributes, getters, on_connect (MEMBERS).
  const counts = { attributes: 0, getters: 0 };
  for (const [chance, kind, text] of MEMBERS) {
    if (!rng.chance(chance)) continue;
    const member = text(rng);
    imports.use(member);
    lines.push(member, "");
    if (kind) counts[kind]++;
  }

  // Methods: templates in a shuffled order, entities mostly from the home domain.
  const used = new Set<string>();
  const order = rng.shuffle(TEMPLATES.map((_, i) => i));
  for (let count = 0; count < methods; count++) {
    const entity = rng.chance(0.7) ? rng.pick(home) : rng.pick(others);
    const spec = method(TEMPLATES[order[count % order.length]!]!, entity, rng.pick(others), domain, local);
    let name = spec.verb === "summary" || spec.verb === "subscribe" ? spec.verb : `${spec.verb}_${snake(entity.name)}`;
    if (used.has(name)) name = `${name}_${count}`;
    used.add(name);
    for (const text of [spec.returns, ...spec.params.map(([decl]) => decl)]) imports.use(text);
    const style = rng.weighted({ sync: 5, async: 3, promise: 1 });
    const names = spec.params.map(([decl]) => /^(?:\.\.\.)?(\w+)/.exec(decl)![1]!);
    // JSDoc: most methods have one, with @param lines about half of the time.
    if (rng.chance(0.85)) {
      lines.push(`  /**`, `   * ${spec.doc}`);
      if (rng.chance(0.5) && spec.params.length > 0) lines.push(`   *`, ...spec.params.map(([, doc], i) => `   * @param ${names[i]} ${doc}`));
      lines.push(`   */`);
    }
    const params = spec.params.map(([decl]) => decl).join(", ");
    const [result, call] = style === "sync" ? [spec.returns, "call"] : [`Promise<${spec.returns}>`, "callAsync"];
    lines.push(`  ${style === "async" ? "async " : ""}exposed_${name}(${params}): ${result} {`, `    this.calls++;`);
    lines.push(`    return this.backend.${call}<${spec.returns}>("${name}", [${names.join(", ")}]);`, `  }`, "");
  }

  // A helper that is not exposed.
  lines.push(`  /** Not exposed: internal bookkeeping. */`, `  reset_counters(): void {`, `    this.calls = 0;`, `  }`, "}", "");

  const baseFile = { Service: "", HealthService: "health", AuditedService: "audited", CrudService: "crud" }[plan.base];
  const header = [
    `// ${plan.className}: generated by the rpyc-ts compiler bench (bench/compiler/corpus.ts).`,
    baseFile === ""
      ? `import { type Connection, Service } from "rpyc-ts";`
      : `import type { Connection } from "rpyc-ts";\nimport { ${plan.base} } from "../bases/${baseFile}.js";`,
    `import { Backend } from "../lib/backend.js";`,
    ...imports.render(),
    "",
  ];
  return { text: [...header, ...lines].join("\n"), methods, ...counts, declarations: local ? 1 : 0 };
}

// ---- the corpus --------------------------------------------------------------------------------

/**
 * Writes the corpus into `dir` (an empty directory): `services` service files of `methods` own exposed methods each. It
 * imports "rpyc-ts" from `repoDir`, this repository.
 */
export function generateCorpus(options: { dir: string; services: number; methods: number; seed: number; repoDir: string }) {
  const rng = random(options.seed);
  const { dir } = options;
  const files = new Map<string, string>();
  const registry: Registry = new Map();
  const register = (module: string, names: readonly string[]): void => {
    for (const name of names) {
      if (registry.has(name)) throw new Error(`corpus: ${name} declared twice`);
      registry.set(name, module);
    }
  };
  register("types/common", [...COMMON_ENUMS, ...COMMON_TYPES]);
  register("types/generics", GENERIC_TYPES);
  const entities: Entity[] = [];
  DOMAINS.forEach((domain, domainIndex) => {
    register(`types/${domain.module}`, [...domain.entities, `${domain.pascal}Event`, `${domain.pascal}Summary`]);
    for (const name of domain.entities) entities.push({ name, domainIndex });
  });
  const totals = { methods: 0, attributes: 0, getters: 0, typeDeclarations: STATIC_DECLARATIONS };

  for (const file of STATIC_FILES.slice(0, 2)) files.set(file, staticFile(file));
  DOMAINS.forEach((domain, i) => {
    const { text, declarations } = domainFile(rng, i, { registry, entities });
    files.set(`src/types/${domain.module}.ts`, text);
    totals.typeDeclarations += declarations;
  });
  for (const file of STATIC_FILES.slice(2)) files.set(file, staticFile(file));

  // Service names: distinct noun + qualifier pairs in seeded order (a number once they run out).
  const combos = rng.shuffle(SERVICE_NOUNS.flatMap((noun) => SERVICE_QUALIFIERS.map((q) => `${noun}${q}`)));
  const serviceFiles: string[] = [];
  for (let i = 0; i < options.services; i++) {
    const stem = i < combos.length ? combos[i]! : `${combos[i % combos.length]!}${Math.floor(i / combos.length) + 1}`;
    const file = `src/services/${kebab(stem)}.ts`;
    const base = rng.weighted({ Service: 50, HealthService: 15, AuditedService: 15, CrudService: 20 });
    const service = serviceFile(rng, i, { className: `${stem}Service`, file, base }, options.methods, { registry, entities });
    files.set(file, service.text);
    serviceFiles.push(file);
    for (const key of ["methods", "attributes", "getters"] as const) totals[key] += service[key];
    totals.typeDeclarations += service.declarations;
  }

  // Project files: how "rpyc-ts" resolves. The built package's .d.ts when there is one (what
  // an application sees), else the repository's sources through `paths`.
  const hasDist = existsSync(path.join(options.repoDir, "packages/rpyc-ts/dist/index.d.ts"));
  // lib: a Node application's library (as @tsconfig/node20 has it): no DOM.
  const target = { target: "ES2022", lib: ["ES2022"], module: "nodenext", moduleResolution: "nodenext" };
  const compilerOptions: Record<string, unknown> = { ...target, strict: true, skipLibCheck: true, noEmit: true, types: [] };
  if (!hasDist) compilerOptions.paths = { "rpyc-ts": [path.join(options.repoDir, "runtime/index.ts")] };
  const meta = new Map<string, string>([
    ["tsconfig.json", `${JSON.stringify({ compilerOptions, include: ["src"] }, null, 2)}\n`],
    ["package.json", `${JSON.stringify({ name: "rpyc-bench-corpus", private: true, type: "module" }, null, 2)}\n`],
  ]);

  const hash = createHash("sha256");
  let lines = 0;
  let bytes = 0;
  for (const [rel, text] of [...files, ...meta].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const target = path.join(dir, rel);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    hash.update(`${rel}\0${text}\0`);
    if (rel.endsWith(".ts")) {
      lines += text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
      bytes += Buffer.byteLength(text);
    }
  }
  if (hasDist) {
    mkdirSync(path.join(dir, "node_modules"), { recursive: true });
    symlinkSync(path.join(options.repoDir, "packages/rpyc-ts"), path.join(dir, "node_modules/rpyc-ts"), "dir");
  }

  const tsFiles = [...files.keys()];
  return {
    dir,
    serviceFiles,
    runtime: hasDist ? "dist" : "sources",
    stats: {
      files: tsFiles.length,
      serviceFiles: serviceFiles.length,
      typeFiles: tsFiles.filter((f) => f.startsWith("src/types/")).length,
      baseFiles: tsFiles.filter((f) => f.startsWith("src/bases/")).length,
      services: options.services,
      ...totals,
      lines,
      bytes,
      hash: hash.digest("hex").slice(0, 12),
    },
  };
}
