// The compiler bench's input: a deterministic (seeded) TypeScript project of rpyc-ts services,
// written into a directory of its own. It looks like an application's services folder:
//
//   src/types/common.ts     enums, aliases and small shared interfaces (Id, Money, Address, ...)
//   src/types/generics.ts   generic types used with concrete arguments (Page<Order>, Result<T, E>, ...)
//   src/types/<domain>.ts   six domains of entity interfaces (nested, cross-domain references,
//                           optional and readonly fields, records, maps, dates, bytes, tuples)
//                           and one discriminated-union event type each
//   src/lib/backend.ts      the (non-exposed) helper every service delegates to
//   src/bases/*.ts          a concrete base service, an abstract one and a generic CRUD base
//   src/services/*.ts       N services, M exposed methods each (own methods; inherited ones
//                           come on top), with JSDoc, optional, default and rest parameters,
//                           callbacks, sync and async results, attributes, getters, a few
//                           explicit ALIASES and a few service-local types
//   tsconfig.json, package.json, node_modules/rpyc-ts -> this repository
//
// rpyc-gen reads it as `rpyc-gen --project tsconfig.json --out generated src/services`.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Random } from "./random.js";

export interface CorpusOptions {
  /** An empty directory to write into. */
  readonly dir: string;
  readonly services: number;
  /** Own exposed methods per service. */
  readonly methods: number;
  readonly seed: number;
  /** This repository: the corpus imports "rpyc-ts" from it. */
  readonly repoDir: string;
}

export interface CorpusStats {
  /** Every .ts file of the corpus. */
  readonly files: number;
  readonly serviceFiles: number;
  readonly typeFiles: number;
  readonly baseFiles: number;
  /** Service classes in src/services. */
  readonly services: number;
  /** Own exposed methods declared in src/services (inherited ones not counted). */
  readonly methods: number;
  readonly attributes: number;
  readonly getters: number;
  /** Exported interfaces, enums and type aliases (shared and service-local). */
  readonly typeDeclarations: number;
  readonly lines: number;
  readonly bytes: number;
  /** sha256 of every file's path and contents (first 12 hex digits): equal hashes, equal corpora. */
  readonly hash: string;
}

export interface Corpus {
  readonly dir: string;
  /** Relative to dir. */
  readonly tsconfig: string;
  /** What to pass to rpyc-gen as its sources (relative to dir). */
  readonly sources: string;
  /** Service files (relative to dir), in generation order: the watch bench edits these. */
  readonly serviceFiles: readonly string[];
  /** How the corpus imports "rpyc-ts": the package's .d.ts (symlink) or its sources (paths). */
  readonly runtime: "dist" | "sources";
  readonly stats: CorpusStats;
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

const SERVICE_NOUNS = [
  "Account", "Invoice", "Ledger", "Catalog", "Inventory", "Shipment", "Billing", "Pricing", "Checkout", "Customer",
  "Order", "Payment", "Refund", "Tax", "Warehouse", "Carrier", "Route", "Review", "Supplier", "Report",
  "Metric", "Alert", "Segment", "Forecast", "Session", "Identity", "Consent", "Notification", "Search", "Media",
  "Promotion", "Loyalty", "Subscription", "Quote", "Dispute", "Payout", "Fulfilment", "Returns", "Dashboard", "Experiment",
];
const SERVICE_QUALIFIERS = ["Query", "Admin", "Sync", "Report", "Gateway", "Registry", "Import", "Audit", "Portal", "Scheduler"];

const WORDS = [
  "records", "entries", "the current tenant", "a batch", "the cache", "pending work", "the archive", "the remote store",
  "the nightly job", "the audit trail", "the primary region", "a snapshot", "the read replica", "the queue",
];

function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

/** "OrderLine" -> "order line". */
function words(name: string): string {
  return snake(name).replace(/_/g, " ");
}

function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function kebab(name: string): string {
  return snake(name).replace(/_/g, "-");
}

/** "a order" -> "an order". */
function article(words: string): string {
  return `${/^[aeiou]/i.test(words) ? "an" : "a"} ${words}`;
}

function plural(word: string): string {
  if (/(s|x|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

// ---- what is exported where ---------------------------------------------------------------------

/** Exported type names -> module (relative to src/, no extension) and whether it is an enum (a value). */
class Registry {
  private readonly entries = new Map<string, { readonly module: string; readonly isValue: boolean }>();

  add(name: string, module: string, isValue = false): void {
    if (this.entries.has(name)) throw new Error(`corpus: ${name} declared twice`);
    this.entries.set(name, { module, isValue });
  }

  get(name: string): { readonly module: string; readonly isValue: boolean } | undefined {
    return this.entries.get(name);
  }
}

/** Collects the names a file uses; renders its import declarations. */
class Imports {
  private readonly types = new Set<string>();
  private readonly values = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly fromModule: string,
  ) {}

  /** Notes every registered name in a piece of type text. */
  useTypes(text: string): void {
    for (const match of text.matchAll(/\b[A-Z][A-Za-z0-9]*\b/g)) {
      const name = match[0];
      const entry = this.registry.get(name);
      if (entry && entry.module !== this.fromModule) this.types.add(name);
    }
  }

  /** Notes a name used as a value (an enum member in a default). */
  useValue(name: string): void {
    const entry = this.registry.get(name);
    if (entry && entry.module !== this.fromModule) this.values.add(name);
  }

  render(): string[] {
    const byModule = new Map<string, string[]>();
    for (const name of new Set([...this.types, ...this.values])) {
      const module = this.registry.get(name)!.module;
      const spec = this.values.has(name) ? name : `type ${name}`;
      byModule.set(module, [...(byModule.get(module) ?? []), spec]);
    }
    const from = path.posix.dirname(this.fromModule);
    return [...byModule.keys()].sort().map((module) => {
      let rel = path.posix.relative(from, module);
      if (!rel.startsWith(".")) rel = `./${rel}`;
      const names = byModule.get(module)!.sort((a, b) => a.replace(/^type /, "").localeCompare(b.replace(/^type /, ""), "en"));
      const allTypes = names.every((n) => n.startsWith("type "));
      const list = allTypes ? names.map((n) => n.slice(5)) : names;
      return `import ${allTypes ? "type " : ""}{ ${list.join(", ")} } from "${rel}.js";`;
    });
  }
}

// ---- shared type files --------------------------------------------------------------------------

const COMMON = `// Shared vocabulary of every domain.

/** Lifecycle state of a record. */
export enum Status {
  Draft = "draft",
  Active = "active",
  Suspended = "suspended",
  Archived = "archived",
}

/** How urgent something is. */
export enum Priority {
  Low = 1,
  Normal = 2,
  High = 3,
  Critical = 4,
}

/** Where data lives. */
export enum Region {
  EuWest = "eu-west",
  EuCentral = "eu-central",
  UsEast = "us-east",
  UsWest = "us-west",
  ApSouth = "ap-south",
}

export enum Currency {
  EUR = "EUR",
  USD = "USD",
  GBP = "GBP",
  JPY = "JPY",
}

/** An identifier: numeric for legacy records, a UUID string otherwise. */
export type Id = string | number;

export type SortOrder = "asc" | "desc";

/** A point in time. */
export type Timestamp = Date;

/** An amount of money in a currency. */
export interface Money {
  /** In minor units (cents). */
  readonly amount: number;
  readonly currency: Currency;
}

/** A postal address. */
export interface Address {
  street: string;
  city: string;
  postalCode: string;
  country: string;
  region?: Region;
}

/** Who did what when. */
export interface Audit {
  readonly createdAt: Timestamp;
  updatedAt?: Timestamp;
  createdBy: Id;
  tags: string[];
}

/** A closed interval. */
export interface Range<T> {
  from: T;
  to: T;
}

/** Which slice of a listing to return. */
export interface Paging {
  offset: number;
  limit: number;
  order?: SortOrder;
}

/** A geographic position. */
export interface GeoPoint {
  lat: number;
  lng: number;
  accuracy?: number;
}
`;

const GENERICS = `// Generic containers; services use them with concrete type arguments only.
import type { Id, Paging, Region } from "./common.js";

/** One page of a listing. */
export interface Page<T> {
  readonly items: T[];
  total: number;
  /** Cursor of the next page; null on the last one. */
  next?: string | null;
  paging: Paging;
}

/** What went wrong, for humans and machines. */
export interface ProblemDetail {
  code: string;
  message: string;
  details?: Record<string, string>;
}

/** Success with a value, or failure with an error. */
export type Result<T, E = ProblemDetail> = { ok: true; value: T } | { ok: false; error: E };

/** A payload with request metadata. */
export interface Envelope<T> {
  meta: { requestId: string; receivedAt: Date; region: Region };
  payload: T;
}

/** A tree of values. */
export interface TreeNode<T> {
  value: T;
  children: TreeNode<T>[];
}

export type Pair<A, B> = [A, B];

/** A versioned value under a key. */
export interface Keyed<V> {
  key: string;
  value: V;
  version: number;
  ownerId?: Id;
}

/** Changes between two versions of a value. */
export interface Diff<T> {
  before: T | null;
  after: T | null;
  changedFields: string[];
}
`;

const BACKEND = `// What the services delegate to (not exposed, not part of the model).

export class Backend {
  private calls = 0;

  constructor(readonly area: string) {}

  /** Performs a call synchronously. */
  call<T>(method: string, args: readonly unknown[]): T {
    this.calls++;
    void method;
    void args;
    return undefined as T;
  }

  /** Performs a call asynchronously. */
  async callAsync<T>(method: string, args: readonly unknown[]): Promise<T> {
    return this.call<T>(method, args);
  }

  get callCount(): number {
    return this.calls;
  }
}
`;

const HEALTH_BASE = `// A concrete base service: health and version, inherited by many services.
import { Service } from "rpyc-ts";
import type { Region } from "../types/common.js";

/** Health of a service instance. */
export interface HealthReport {
  healthy: boolean;
  uptimeSeconds: number;
  region?: Region;
  checks: Record<string, boolean>;
}

export class HealthService extends Service {
  protected readonly startedAt = Date.now();

  /** The deployed version. */
  readonly exposed_build = "2024.11.3";

  /** Reports whether this instance can take work. */
  exposed_health(): HealthReport {
    return { healthy: true, uptimeSeconds: (Date.now() - this.startedAt) / 1000, checks: {} };
  }

  /**
   * Answers with the same value, for latency probes.
   * @param payload Anything small.
   */
  exposed_echo(payload: string): string {
    return payload;
  }
}
`;

const AUDITED_BASE = `// An abstract base service: an audit trail on top of health.
import type { Audit, Id } from "../types/common.js";
import type { Page } from "../types/generics.js";
import { HealthService } from "./health.js";

export abstract class AuditedService extends HealthService {
  protected readonly trail: Audit[] = [];
  protected abstract readonly area: string;

  /**
   * The most recent audit entries.
   * @param limit How many entries, newest first.
   */
  exposed_audit_log(limit = 50): Audit[] {
    return this.trail.slice(-limit);
  }

  /** Audit entries by author. */
  async exposed_audit_by(author: Id, page?: number): Promise<Page<Audit>> {
    const items = this.trail.filter((a) => a.createdBy === author);
    return { items, total: items.length, paging: { offset: (page ?? 0) * 50, limit: 50 } };
  }

  /** Seconds since this instance started. */
  get exposed_uptime(): number {
    return (Date.now() - this.startedAt) / 1000;
  }
}
`;

const CRUD_BASE = `// A generic base service: subclasses bind T to one entity type.
import type { Id } from "../types/common.js";
import { AuditedService } from "./audited.js";

export abstract class CrudService<T extends { readonly id: Id }> extends AuditedService {
  protected readonly records = new Map<string, T>();

  /**
   * One record, or null when there is none.
   * @param id The record's id.
   */
  exposed_fetch(id: Id): T | null {
    return this.records.get(String(id)) ?? null;
  }

  /** Stores a record and returns its id. */
  exposed_store(record: T): Id {
    this.records.set(String(record.id), record);
    return record.id;
  }

  /** Several records at once (missing ones are left out). */
  exposed_fetch_many(...ids: Id[]): T[] {
    return ids.flatMap((id) => this.records.get(String(id)) ?? []);
  }

  /** How many records are stored. */
  get exposed_record_count(): number {
    return this.records.size;
  }
}
`;

// ---- entities -------------------------------------------------------------------------------

interface Entity {
  readonly name: string;
  readonly domainIndex: number;
  readonly module: string;
}

interface Field {
  readonly name: string;
  readonly type: string;
  readonly optional?: boolean;
  readonly readonly?: boolean;
  readonly doc?: string;
}

const FIELD_POOL: readonly Field[] = [
  { name: "name", type: "string", doc: "Display name." },
  { name: "title", type: "string" },
  { name: "description", type: "string", optional: true },
  { name: "priority", type: "Priority", optional: true },
  { name: "region", type: "Region" },
  { name: "price", type: "Money", doc: "Price including tax." },
  { name: "balance", type: "Money", readonly: true },
  { name: "address", type: "Address", optional: true },
  { name: "audit", type: "Audit", readonly: true },
  { name: "tags", type: "string[]" },
  { name: "labels", type: "Record<string, string>", doc: "Free-form labels." },
  { name: "counters", type: "Map<string, number>" },
  { name: "createdAt", type: "Date", readonly: true },
  { name: "updatedAt", type: "Timestamp", optional: true },
  { name: "score", type: "number | null" },
  { name: "position", type: "GeoPoint", optional: true },
  { name: "bounds", type: "{ min: number; max: number; unit?: string }", doc: "Valid range." },
  { name: "window", type: "Range<Date>", optional: true },
  { name: "version", type: "number", readonly: true },
  { name: "flags", type: "boolean[]" },
  { name: "checksum", type: "Uint8Array", optional: true },
  { name: "quantity", type: "number" },
  { name: "mode", type: `"manual" | "automatic" | "scheduled"` },
  { name: "sequence", type: "bigint" },
  { name: "enabled", type: "boolean" },
  { name: "coordinates", type: "[number, number]" },
  { name: "attachments", type: "{ name: string; size: number; data?: Uint8Array }[]" },
];

function domainFile(rng: Random, domainIndex: number, registry: Registry, entities: readonly Entity[]): { text: string; declarations: number } {
  const domain = DOMAINS[domainIndex]!;
  const module = `types/${domain.module}`;
  const imports = new Imports(registry, module);
  const body: string[] = [];
  let declarations = 0;
  const mine = entities.filter((e) => e.domainIndex === domainIndex);
  // References go to entities of earlier domains and to earlier entities of this one (and to itself).
  const referable = (entity: Entity): Entity[] => entities.filter((e) => e.domainIndex < domainIndex || (e.domainIndex === domainIndex && mine.indexOf(e) <= mine.indexOf(entity)));
  for (const entity of mine) {
    const fields: Field[] = [
      { name: "id", type: "Id", readonly: true },
      { name: "status", type: "Status" },
      ...rng.sample(FIELD_POOL, rng.int(3, 8)),
    ];
    const refs = referable(entity);
    for (let i = rng.int(0, 2); i > 0; i--) {
      const target = rng.pick(refs);
      const kind = rng.weighted<"one" | "many" | "id">([["one", 2], ["many", 2], ["id", 1]]);
      const base = camel(target.name);
      if (target === entity) fields.push({ name: "parent", type: entity.name, optional: true });
      else if (kind === "one") fields.push({ name: base, type: target.name, optional: rng.chance(0.4) });
      else if (kind === "many") fields.push({ name: plural(base), type: `${target.name}[]` });
      else fields.push({ name: `${base}Id`, type: "Id" });
    }
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const field of fields) {
      if (seen.has(field.name)) continue;
      seen.add(field.name);
      imports.useTypes(field.type);
      if (field.doc) lines.push(`  /** ${field.doc} */`);
      lines.push(`  ${field.readonly ? "readonly " : ""}${field.name}${field.optional ? "?" : ""}: ${field.type};`);
    }
    body.push(`/** ${article(snake(entity.name).replace(/_/g, " "))} of the ${domain.module} domain. */`, `export interface ${entity.name} {`, ...lines, "}", "");
    declarations++;
  }
  // One discriminated union of events per domain, and a summary type using the generics.
  const first = mine[0]!;
  imports.useTypes("Id Page Keyed");
  body.push(
    `/** Something that happened to ${article(domain.module)} record. */`,
    `export type ${domain.pascal}Event =`,
    `  | { kind: "created"; id: Id; at: Date; record: ${first.name} }`,
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
  declarations += 2;
  const header = [`// The ${domain.module} domain: entities, events and summaries.`, ...imports.render(), ""];
  return { text: [...header, ...body].join("\n"), declarations };
}

// ---- services -------------------------------------------------------------------------------------

interface Param {
  readonly name: string;
  readonly type: string;
  readonly optional?: boolean;
  readonly default?: string;
  /** An enum member used in the default (needs a value import). */
  readonly defaultValue?: string;
  readonly rest?: boolean;
  readonly doc: string;
}

interface MethodSpec {
  readonly verb: string;
  readonly params: readonly Param[];
  /** Result type (without Promise). */
  readonly returns: string;
  readonly doc: string;
}

type Template = (e: Entity, other: Entity, domain: (typeof DOMAINS)[number], local: string | undefined) => MethodSpec;

const TEMPLATES: readonly Template[] = [
  (e) => ({
    verb: "get",
    params: [
      { name: "id", type: "Id", doc: `The ${words(e.name)}'s id.` },
      { name: "options", type: "{ includeAudit?: boolean; fields?: string[] }", optional: true, doc: "What to include." },
    ],
    returns: `${e.name} | null`,
    doc: `Looks up one ${words(e.name)} by id.`,
  }),
  (e) => ({
    verb: "list",
    params: [
      { name: "paging", type: "Paging", doc: "Which page." },
      { name: "status", type: "Status", optional: true, doc: "Only records in this state." },
      { name: "tags", type: "string[]", rest: true, doc: "Only records with all these tags." },
    ],
    returns: `Page<${e.name}>`,
    doc: `Lists ${plural(words(e.name))}, newest first.`,
  }),
  (e) => ({
    verb: "create",
    params: [
      { name: "input", type: e.name, doc: "The new record." },
      { name: "dryRun", type: "boolean", default: "false", doc: "Validate only, store nothing." },
    ],
    returns: `Result<${e.name}>`,
    doc: `Creates ${article(words(e.name))}.`,
  }),
  (e) => ({
    verb: "update",
    params: [
      { name: "id", type: "Id", doc: "Which record." },
      { name: "patch", type: `Partial<${e.name}>`, doc: "Fields to change." },
      { name: "expectedVersion", type: "number", optional: true, doc: "Fail if the stored version differs." },
    ],
    returns: `Diff<${e.name}>`,
    doc: `Changes some fields of ${article(words(e.name))}.`,
  }),
  (e) => ({
    verb: "delete",
    params: [
      { name: "id", type: "Id", doc: "Which record." },
      { name: "reason", type: "string", optional: true, doc: "Kept in the audit trail." },
    ],
    returns: "boolean",
    doc: `Deletes ${article(words(e.name))}; false when there was none.`,
  }),
  (e, _o, _d, local) => ({
    verb: "search",
    params: [
      { name: "query", type: local ?? "string", doc: "What to look for." },
      { name: "filters", type: "Record<string, string>", doc: "Field filters." },
      { name: "range", type: "Range<Date>", optional: true, doc: "Creation time window." },
      { name: "order", type: "SortOrder", default: `"desc"`, doc: "Sort order." },
    ],
    returns: `Envelope<${e.name}[]>`,
    doc: `Full-text search over ${plural(words(e.name))}.`,
  }),
  (e) => ({
    verb: "count",
    params: [{ name: "status", type: "Status | Status[]", doc: "One state or several." }],
    returns: "number",
    doc: `Counts ${plural(words(e.name))} by state.`,
  }),
  (e) => ({
    verb: "export",
    params: [
      { name: "ids", type: "Id[]", doc: "Records to export." },
      { name: "format", type: `"csv" | "json" | "parquet"`, doc: "File format." },
    ],
    returns: "Uint8Array",
    doc: `Exports ${plural(words(e.name))} as a file.`,
  }),
  (e) => ({
    verb: "import",
    params: [
      { name: "data", type: "Uint8Array", doc: "The file." },
      { name: "onProgress", type: "(done: number, total: number) => void", optional: true, doc: "Called as records are read." },
    ],
    returns: `Result<number>`,
    doc: `Imports ${plural(words(e.name))} from a file; returns how many were stored.`,
  }),
  (e) => ({
    verb: "stats",
    params: [
      { name: "range", type: "Range<Date>", doc: "Time window." },
      { name: "region", type: "Region", optional: true, doc: "Only this region." },
    ],
    returns: "Map<string, number>",
    doc: `Statistics about ${plural(words(e.name))}.`,
  }),
  (e) => ({
    verb: "tree",
    params: [
      { name: "rootId", type: "Id", doc: "The root." },
      { name: "depth", type: "number", default: "3", doc: "How many levels." },
    ],
    returns: `TreeNode<${e.name}>`,
    doc: `The ${words(e.name)} hierarchy below a record.`,
  }),
  (e) => ({
    verb: "history",
    params: [{ name: "id", type: "Id", doc: "Which record." }],
    returns: `Keyed<${e.name}>[]`,
    doc: `Every stored version of ${article(words(e.name))}.`,
  }),
  (e) => ({
    verb: "bulk_store",
    params: [{ name: "items", type: `${e.name}[]`, rest: true, doc: "Records to store." }],
    returns: "Pair<number, ProblemDetail[]>",
    doc: `Stores many ${plural(words(e.name))}: how many were stored and what failed.`,
  }),
  (_e, _o, domain) => ({
    verb: "subscribe",
    params: [
      { name: "listener", type: `(event: ${domain.pascal}Event) => void`, doc: "Called for every event." },
      { name: "kinds", type: `("created" | "changed" | "removed")[]`, optional: true, doc: "Only these kinds." },
    ],
    returns: "() => void",
    doc: "Subscribes to changes; call the result to unsubscribe.",
  }),
  (e) => ({
    verb: "price",
    params: [
      { name: "id", type: "Id", doc: "Which record." },
      { name: "currency", type: "Currency", default: "Currency.EUR", defaultValue: "Currency", doc: "Currency of the result." },
    ],
    returns: "Money",
    doc: `The current price of ${article(words(e.name))}.`,
  }),
  (e) => ({
    verb: "locate",
    params: [{ name: "address", type: "Address", doc: "A postal address." }],
    returns: "GeoPoint | null",
    doc: `Where ${article(words(e.name))} is.`,
  }),
  (e, other) => ({
    verb: "assign",
    params: [
      { name: "id", type: "Id", doc: "Which record." },
      { name: "owner", type: other.name, doc: "The new owner." },
      { name: "priority", type: "Priority", default: "Priority.Normal", defaultValue: "Priority", doc: "How urgent." },
    ],
    returns: `Envelope<Result<${other.name}>>`,
    doc: `Assigns ${article(words(e.name))} to ${article(words(other.name))}.`,
  }),
  (_e, _o, domain) => ({
    verb: "summary",
    params: [{ name: "region", type: "Region", optional: true, doc: "Only this region." }],
    returns: `${domain.pascal}Summary`,
    doc: `Totals of the ${domain.module} domain.`,
  }),
  (e) => ({
    verb: "sequence",
    params: [
      { name: "after", type: "bigint", doc: "Last sequence number seen." },
      { name: "limit", type: "number", optional: true, doc: "At most this many." },
    ],
    returns: `[bigint, ${e.name}[]]`,
    doc: `Records changed after a sequence number, and the newest number.`,
  }),
  (e) => ({
    verb: "validate",
    params: [{ name: "input", type: e.name, doc: "The record to check." }],
    returns: `ProblemDetail[]`,
    doc: `Checks ${article(words(e.name))} without storing it.`,
  }),
  (e) => ({
    verb: "touch",
    params: [
      { name: "ids", type: "Id[]", doc: "Which records." },
      { name: "at", type: "Timestamp", optional: true, doc: "When (default: now)." },
    ],
    returns: "void",
    doc: `Marks ${plural(words(e.name))} as updated.`,
  }),
  (e) => ({
    verb: "rank",
    params: [
      { name: "weights", type: "Map<Id, number>", doc: "Weight per record." },
      { name: "mode", type: `"linear" | "log"`, default: `"linear"`, doc: "How weights combine." },
    ],
    returns: `{ id: Id; score: number; record?: ${e.name} }[]`,
    doc: `Ranks ${plural(words(e.name))} by weight.`,
  }),
];

interface ServicePlan {
  readonly className: string;
  readonly file: string;
  readonly base: "Service" | "HealthService" | "AuditedService" | "CrudService";
}

function serviceFile(rng: Random, index: number, plan: ServicePlan, methods: number, registry: Registry, entities: readonly Entity[]): { text: string; methods: number; attributes: number; getters: number; declarations: number } {
  const module = `services/${path.posix.basename(plan.file, ".ts")}`;
  const imports = new Imports(registry, module);
  const homeDomain = rng.int(0, DOMAINS.length - 1);
  const domain = DOMAINS[homeDomain]!;
  const home = entities.filter((e) => e.domainIndex === homeDomain);
  const others = rng.sample(
    entities.filter((e) => e.domainIndex !== homeDomain),
    3,
  );
  const main = rng.pick(home);
  const lines: string[] = [];
  let declarations = 0;

  // A service-local query type in about a third of the services.
  let local: string | undefined;
  const localLines: string[] = [];
  if (rng.chance(0.35)) {
    local = `${plan.className.replace(/Service$/, "")}Query`;
    imports.useTypes("SortOrder Status");
    localLines.push(
      `/** What ${plan.className} searches for. */`,
      `export interface ${local} {`,
      `  text: string;`,
      `  status?: Status[];`,
      `  order?: SortOrder;`,
      `  /** Extra criteria by field name. */`,
      `  where: Record<string, string | number | boolean>;`,
      `}`,
      "",
    );
    declarations++;
  }

  const baseType = plan.base === "CrudService" ? `CrudService<${main.name}>` : plan.base;
  if (plan.base === "CrudService") imports.useTypes(main.name);
  const aliases = rng.chance(0.1) ? `  static ALIASES = ["${kebab(plan.className.replace(/Service$/, ""))}", "svc${index}"];\n\n` : "";
  const what = rng.pick(WORDS);
  lines.push(
    `/**`,
    ` * ${plan.className.replace(/Service$/, "")}: ${plural(words(main.name))} and related records of the ${domain.module} domain.`,
    ` * Talks to ${what}; every call is counted.`,
    ` */`,
    `export class ${plan.className} extends ${baseType} {`,
  );
  if (aliases) lines.push(aliases.trimEnd(), "");
  lines.push(`  private readonly backend = new Backend("${kebab(plan.className)}");`, `  private calls = 0;`);
  if (plan.base === "AuditedService" || plan.base === "CrudService") lines.push(`  protected readonly area = "${domain.module}";`);
  lines.push("");

  // Attributes and getters.
  let attributes = 0;
  let getters = 0;
  if (rng.chance(0.6)) {
    lines.push(`  /** Version of this service's interface. */`, `  readonly exposed_api_version = "${rng.int(1, 4)}.${rng.int(0, 9)}";`, "");
    attributes++;
  }
  if (rng.chance(0.3)) {
    lines.push(`  exposed_enabled = true;`, "");
    attributes++;
  }
  if (rng.chance(0.3)) {
    imports.useTypes("Region");
    lines.push(`  /** Limits that apply to every caller. */`, `  readonly exposed_limits: { maxPage: number; region?: Region } = { maxPage: ${rng.pick([50, 100, 500])} };`, "");
    attributes++;
  }
  if (rng.chance(0.5)) {
    lines.push(`  /** Calls served by this instance. */`, `  get exposed_call_count(): number {`, `    return this.calls;`, `  }`, "");
    getters++;
  }
  if (rng.chance(0.25)) {
    imports.useTypes("Status");
    imports.useValue("Status");
    lines.push(`  get exposed_status(): Status {`, `    return this.calls >= 0 ? Status.Active : Status.Suspended;`, `  }`, "");
    getters++;
  }
  if (rng.chance(0.3)) {
    lines.push(`  override on_connect(_conn: Connection): void {`, `    this.calls = 0;`, `  }`, "");
  }

  // Methods: templates in a shuffled order, entities mostly from the home domain.
  const used = new Set<string>();
  let count = 0;
  let attempt = 0;
  const order = rng.shuffle(TEMPLATES.map((_, i) => i));
  while (count < methods) {
    const template = TEMPLATES[order[attempt % order.length]!]!;
    attempt++;
    const entity = rng.chance(0.7) ? rng.pick(home) : rng.pick(others);
    const other = rng.pick(others);
    const spec = template(entity, other, domain, local);
    let name = spec.verb === "summary" || spec.verb === "subscribe" ? spec.verb : `${spec.verb}_${snake(entity.name)}`;
    if (used.has(name)) name = `${name}_${count}`;
    used.add(name);
    count++;
    for (const p of spec.params) {
      imports.useTypes(p.type);
      if (p.defaultValue) imports.useValue(p.defaultValue);
    }
    imports.useTypes(spec.returns);
    const style = rng.weighted<"sync" | "async" | "promise">([["sync", 5], ["async", 3], ["promise", 1]]);
    // JSDoc: most methods have one, with @param lines about half of the time.
    if (rng.chance(0.85)) {
      lines.push(`  /**`, `   * ${spec.doc}`);
      if (rng.chance(0.5) && spec.params.length > 0) {
        lines.push(`   *`);
        for (const p of spec.params) lines.push(`   * @param ${p.name} ${p.doc}`);
      }
      lines.push(`   */`);
    }
    const params = spec.params
      .map((p) => (p.rest ? `...${p.name}: ${p.type.includes("=>") || p.type.includes("|") ? `(${p.type})` : p.type}` : p.default !== undefined ? `${p.name}: ${p.type} = ${p.default}` : `${p.name}${p.optional ? "?" : ""}: ${p.type}`))
      .join(", ");
    const args = spec.params.map((p) => p.name).join(", ");
    const result = style === "sync" ? spec.returns : `Promise<${spec.returns}>`;
    const call = style === "sync" ? `this.backend.call<${spec.returns}>` : `this.backend.callAsync<${spec.returns}>`;
    lines.push(`  ${style === "async" ? "async " : ""}exposed_${name}(${params}): ${result} {`, `    this.calls++;`, `    return ${call}("${name}", [${args}]);`, `  }`, "");
  }

  // A helper that is not exposed.
  lines.push(`  /** Not exposed: internal bookkeeping. */`, `  reset_counters(): void {`, `    this.calls = 0;`, `  }`, "}", "");

  const baseImport =
    plan.base === "Service"
      ? `import { type Connection, Service } from "rpyc-ts";`
      : `import type { Connection } from "rpyc-ts";\nimport { ${plan.base} } from "../bases/${plan.base === "HealthService" ? "health" : plan.base === "AuditedService" ? "audited" : "crud"}.js";`;
  const header = [`// ${plan.className}: generated by the rpyc-ts compiler bench (bench/compiler/corpus.ts).`, baseImport, `import { Backend } from "../lib/backend.js";`, ...imports.render(), ""];
  return { text: [...header, ...localLines, ...lines].join("\n"), methods: count, attributes, getters, declarations };
}

// ---- the corpus --------------------------------------------------------------------------------

export function generateCorpus(options: CorpusOptions): Corpus {
  const rng = new Random(options.seed);
  const { dir } = options;
  const files = new Map<string, string>();
  const registry = new Registry();
  let typeDeclarations = 0;

  for (const name of ["Status", "Priority", "Region", "Currency"]) registry.add(name, "types/common", true);
  for (const name of ["Id", "SortOrder", "Timestamp", "Money", "Address", "Audit", "Range", "Paging", "GeoPoint"]) registry.add(name, "types/common");
  for (const name of ["Page", "ProblemDetail", "Result", "Envelope", "TreeNode", "Pair", "Keyed", "Diff"]) registry.add(name, "types/generics");
  typeDeclarations += 13 + 8;
  const entities: Entity[] = [];
  DOMAINS.forEach((domain, domainIndex) => {
    for (const name of domain.entities) {
      registry.add(name, `types/${domain.module}`);
      entities.push({ name, domainIndex, module: `types/${domain.module}` });
    }
    registry.add(`${domain.pascal}Event`, `types/${domain.module}`);
    registry.add(`${domain.pascal}Summary`, `types/${domain.module}`);
  });

  files.set("src/types/common.ts", COMMON);
  files.set("src/types/generics.ts", GENERICS);
  DOMAINS.forEach((domain, i) => {
    const { text, declarations } = domainFile(rng, i, registry, entities);
    files.set(`src/types/${domain.module}.ts`, text);
    typeDeclarations += declarations;
  });
  files.set("src/lib/backend.ts", BACKEND);
  files.set("src/bases/health.ts", HEALTH_BASE);
  files.set("src/bases/audited.ts", AUDITED_BASE);
  files.set("src/bases/crud.ts", CRUD_BASE);
  typeDeclarations += 1; // HealthReport

  // Service names: distinct noun + qualifier pairs in seeded order (a number once they run out).
  const combos = rng.shuffle(SERVICE_NOUNS.flatMap((noun) => SERVICE_QUALIFIERS.map((q) => `${noun}${q}`)));
  const serviceFiles: string[] = [];
  let methods = 0;
  let attributes = 0;
  let getters = 0;
  for (let i = 0; i < options.services; i++) {
    const stem = i < combos.length ? combos[i]! : `${combos[i % combos.length]!}${Math.floor(i / combos.length) + 1}`;
    const className = `${stem}Service`;
    const file = `src/services/${kebab(stem)}.ts`;
    const base = rng.weighted<ServicePlan["base"]>([["Service", 50], ["HealthService", 15], ["AuditedService", 15], ["CrudService", 20]]);
    const generated = serviceFile(rng, i, { className, file, base }, options.methods, registry, entities);
    files.set(file, generated.text);
    serviceFiles.push(file);
    methods += generated.methods;
    attributes += generated.attributes;
    getters += generated.getters;
    typeDeclarations += generated.declarations;
  }

  // Project files: how "rpyc-ts" resolves. The built package's .d.ts when there is one (what
  // an application sees), else the repository's sources through `paths`.
  const hasDist = existsSync(path.join(options.repoDir, "dist/runtime/index.d.ts"));
  const compilerOptions: Record<string, unknown> = {
    target: "ES2022",
    // A Node application's library (as @tsconfig/node20 has it): no DOM.
    lib: ["ES2022"],
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
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
    symlinkSync(options.repoDir, path.join(dir, "node_modules/rpyc-ts"), "dir");
  }

  const tsFiles = [...files.keys()];
  return {
    dir,
    tsconfig: "tsconfig.json",
    sources: "src/services",
    serviceFiles,
    runtime: hasDist ? "dist" : "sources",
    stats: {
      files: tsFiles.length,
      serviceFiles: serviceFiles.length,
      typeFiles: tsFiles.filter((f) => f.startsWith("src/types/")).length,
      baseFiles: tsFiles.filter((f) => f.startsWith("src/bases/")).length,
      services: options.services,
      methods,
      attributes,
      getters,
      typeDeclarations,
      lines,
      bytes,
      hash: hash.digest("hex").slice(0, 12),
    },
  };
}
