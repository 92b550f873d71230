// Agreeing on the native codec (runtime/compiled/native.ts) when a connection opens. The side
// with compiled schemas sends HANDLE_NATIVE_OFFER(version, codecs, served classes); an rpyc-ts
// peer answers with its own served classes (and "native+pipeline" when both take promise
// pipelining's frames), or "brine" and why; Python RPyC answers KeyError (an unknown handler),
// which means brine. A side that would offer but cannot load protobufjs sends a notice instead
// (an offer that offers nothing and says why), so its rpyc-ts peer knows too. Only messages
// are built and read here, and the outcome described (Negotiation): the connection sends them
// and keeps the agreement.

import { NATIVE_VERSION, schemaFingerprint } from "./native.js";
import type { DispatchTable } from "./dispatch.js";
import { schemaNeedsTable, type ServiceSchema } from "./schema.js";

/**
 * Handler code of the native-codec offer: outside RPyC's handler range, so a Python peer
 * answers it with an exception (KeyError), which means "brine only".
 */
export const HANDLE_NATIVE_OFFER = 0x7254;

/** The codec a connection uses for typed calls: "native" only when both rpyc-ts peers agreed. */
export type Codec = "native" | "brine";

/**
 * Why a connection's codec is what it is (`conn.negotiated`'s `reason`), from this side's
 * point of view. With codec "native":
 * - "agreed": both peers agreed; typed calls of compiled methods travel as protobuf.
 * - "schema-mismatch": agreed, but the peer serves some of our compiled classes under another
 *   rpyc-gen schema (stubs generated from another version of the service): their typed calls
 *   stay brine. Regenerate the stubs from the peer's current source.
 * - "peer-has-no-dispatch": agreed (promise pipelining works), but the peer serves none of our
 *   compiled classes through an rpyc-gen dispatch table: typed calls stay brine. Pass the
 *   generated dispatch tables to the peer's server (`dispatch`).
 * - "local-has-no-dispatch": agreed, but this side has neither dispatch tables nor schemas, so
 *   the peer's typed calls stay brine. Pass the generated dispatch tables (`dispatch`).
 *
 * With codec "brine":
 * - "codec-brine": this side is configured with `codec: "brine"`.
 * - "peer-codec-brine": the peer (rpyc-ts) is configured with `codec: "brine"`.
 * - "local-lacks-protobufjs": this process cannot load protobufjs (an optional peer
 *   dependency): `npm install protobufjs` here.
 * - "peer-lacks-protobufjs": the peer cannot load protobufjs: `npm install protobufjs` there.
 * - "incompatible-version": the peers speak different versions of the native codec: run the
 *   same rpyc-ts version on both sides.
 * - "peer-declined": the peer (an rpyc-ts from before reasons were sent) declined without
 *   saying why; most likely it cannot load protobufjs.
 * - "peer-not-rpyc-ts": the peer does not know the offer: Python RPyC (expected), or an older
 *   rpyc-ts configured with `codec: "brine"`.
 * - "no-answer": the peer did not answer the offer within `sync_request_timeout`.
 * - "not-offered": the connection closed and neither side had offered (the side with rpyc-gen
 *   `schemas` offers; a plain client or server does not).
 * - "closed": the connection closed before the negotiation ended.
 *
 * The connection warns once per process per reason (to its logger, else one line on stderr)
 * for those a user can fix: both "lacks-protobufjs", "incompatible-version", "peer-declined",
 * "schema-mismatch" and both "has-no-dispatch". The others are logged at debug level only.
 */
export type NegotiationReason =
  | "agreed"
  | "schema-mismatch"
  | "peer-has-no-dispatch"
  | "local-has-no-dispatch"
  | "codec-brine"
  | "peer-codec-brine"
  | "local-lacks-protobufjs"
  | "peer-lacks-protobufjs"
  | "incompatible-version"
  | "peer-declined"
  | "peer-not-rpyc-ts"
  | "no-answer"
  | "not-offered"
  | "closed";

/** The outcome of the native-codec negotiation: `conn.negotiated` resolves with it. */
export interface Negotiation {
  readonly codec: Codec;
  readonly reason: NegotiationReason;
  /** One line: what was decided and, when something can be done about it, what. */
  readonly message: string;
}

/** The reasons worth a warning: something a user can fix kept typed calls off the native codec. */
export const WARNED_REASONS: ReadonlySet<NegotiationReason> = new Set<NegotiationReason>([
  "schema-mismatch",
  "peer-has-no-dispatch",
  "local-has-no-dispatch",
  "local-lacks-protobufjs",
  "peer-lacks-protobufjs",
  "incompatible-version",
  "peer-declined",
]);

const INSTALL = 'run "npm install protobufjs"';

function describe(reason: NegotiationReason, classes: readonly string[]): string {
  const names = classes.join(", ");
  switch (reason) {
    case "agreed":
      return "native codec agreed: typed calls of compiled methods travel as protobuf";
    case "schema-mismatch":
      return `native codec agreed, but the peer serves ${names} under another rpyc-gen schema, so their typed calls stay brine; regenerate this side's stubs from the peer's current source`;
    case "peer-has-no-dispatch":
      return `native codec agreed, but the peer serves none of ${names} through an rpyc-gen dispatch table, so typed calls stay brine; pass the generated dispatch tables to the peer's server (option "dispatch")`;
    case "local-has-no-dispatch":
      return 'native codec agreed, but this side serves no class through an rpyc-gen dispatch table, so the peer\'s typed calls stay brine; pass the generated dispatch tables to the server (option "dispatch"), or set codec: "brine" to refuse the offer';
    case "codec-brine":
      return 'no native codec: codec "brine" is configured on this side';
    case "peer-codec-brine":
      return 'no native codec: the peer is configured with codec "brine"';
    case "local-lacks-protobufjs":
      return `no native codec: this process cannot load protobufjs (an optional peer dependency of rpyc-ts); ${INSTALL} here, or set codec: "brine" to stay on brine quietly`;
    case "peer-lacks-protobufjs":
      return `no native codec: the peer cannot load protobufjs (an optional peer dependency of rpyc-ts); ${INSTALL} where the peer runs`;
    case "incompatible-version":
      return "no native codec: the peer speaks another version of it; run the same rpyc-ts version on both sides";
    case "peer-declined":
      return `no native codec: the peer (an older rpyc-ts) declined the offer without saying why, most likely because it cannot load protobufjs; ${INSTALL} where the peer runs, or upgrade it`;
    case "peer-not-rpyc-ts":
      return 'no native codec: the peer does not know it (Python RPyC, or an older rpyc-ts with codec "brine"); expected with a Python peer (codec: "brine" here skips the offer)';
    case "no-answer":
      return "no native codec: the peer did not answer the offer within sync_request_timeout";
    case "not-offered":
      return "no native codec: the connection closed and neither side had offered it (the side with rpyc-gen schemas offers it)";
    case "closed":
      return "no native codec: the connection closed before it was agreed";
  }
}

/** The outcome for `reason`, its message naming `classes` (schema-mismatch, peer-has-no-dispatch). */
export function negotiation(reason: NegotiationReason, classes: readonly string[] = []): Negotiation {
  const codec: Codec =
    reason === "agreed" || reason === "schema-mismatch" || reason === "peer-has-no-dispatch" || reason === "local-has-no-dispatch" ? "native" : "brine";
  return Object.freeze({ codec, reason, message: describe(reason, classes) });
}

/**
 * Why a side cannot take the native codec, as it tells an rpyc-ts peer: the third item of a
 * "brine" answer, or the fourth of a notice. Never sent to a Python peer (it never offers).
 */
type Refusal = "codec-brine" | "lacks-protobufjs" | "incompatible-version";

/** What the peer's refusal means on this side. */
const REFUSED: Readonly<Record<Refusal, NegotiationReason>> = {
  "codec-brine": "peer-codec-brine",
  "lacks-protobufjs": "peer-lacks-protobufjs",
  "incompatible-version": "incompatible-version",
};

function refusalReason(value: unknown): NegotiationReason {
  return typeof value === "string" && Object.hasOwn(REFUSED, value) ? REFUSED[value as Refusal] : "peer-declined";
}

/** The answer to an offer listing "pipeline": the native codec, and promise pipelining's frames too. */
const NATIVE_PIPELINING = "native+pipeline";

/**
 * One class the peer serves natively. Its id is its index in the peer's announced list: a
 * native request names the class by that number (agreed once, here) instead of by strings.
 */
export class PeerClass {
  /** The last local schema found to have this fingerprint (a call then skips the comparison). */
  private matched: ServiceSchema | undefined;

  constructor(
    readonly id: number,
    readonly fingerprint: string,
  ) {}

  /** Whether `schema` is the peer's schema of this class (same fingerprint). */
  agrees(schema: ServiceSchema): boolean {
    if (schema === this.matched) return true;
    if (schemaFingerprint(schema) !== this.fingerprint) return false;
    this.matched = schema;
    return true;
  }
}

/** What two peers agreed on. */
export interface NativeAgreement {
  /** The peer's compiled classes (by className) it serves natively, with their numeric ids. */
  readonly classes: ReadonlyMap<string, PeerClass>;
  /** Both peers take promise pipelining's frames. */
  readonly pipelining: boolean;
}

/** The compiled classes we serve, as the peer may call them natively: (className, fingerprint) pairs; a class's id is its index here (the index of its dispatch table). */
function servedClasses(dispatch: readonly DispatchTable[]): [string, string][] {
  return dispatch.map((table) => [table.schema.className, schemaFingerprint(table.schema)]);
}

function classMap(value: unknown): Map<string, PeerClass> | undefined {
  if (!Array.isArray(value)) return undefined;
  const classes = new Map<string, PeerClass>();
  for (const [id, pair] of value.entries()) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") return undefined;
    // A class listed twice: the first entry wins (its table is the one tableFor finds first).
    if (!classes.has(pair[0])) classes.set(pair[0], new PeerClass(id, pair[1]));
  }
  return classes;
}

/** The offer's arguments: (version, codecs, our served classes). "pipeline": we take pipelining's frames. */
export function nativeOffer(dispatch: readonly DispatchTable[], schemas: readonly ServiceSchema[]): unknown[] {
  return [NATIVE_VERSION, ["native", "pipeline"], servedClasses(dispatch), schemaClasses(schemas)];
}

/**
 * The classes whose compiled schemas a side holds and whose plain data it sends by value (its
 * stubs' of TypeScript services that carry plain data): the peer must serve those with their
 * dispatch tables.
 */
function schemaClasses(schemas: readonly ServiceSchema[]): string[] {
  return [...new Set(schemas.filter((schema) => schema.origin !== "python" && schemaNeedsTable(schema)).map((schema) => schema.className))].sort();
}

/** The schema classes an offer (4th item) or a notice (5th item) announces; none from a peer that predates them. */
export function announcedSchemaClasses(offer: unknown): string[] {
  if (!Array.isArray(offer)) return [];
  const names: unknown = isNotice(offer) ? offer[4] : offer[3];
  return Array.isArray(names) ? names.filter((name): name is string => typeof name === "string") : [];
}

/**
 * The notice of a side that would offer but cannot load protobufjs: an offer of no codec
 * that says why, (version, (), (), "lacks-protobufjs"). An rpyc-ts peer from before notices
 * reads it as a malformed offer and answers "brine"; Python refuses it as it refuses offers.
 */
export function nativeNotice(refusal: Refusal, schemas: readonly ServiceSchema[]): unknown[] {
  return [NATIVE_VERSION, [], [], refusal, schemaClasses(schemas)];
}

/** What an answer, an offer or a notice says: an agreement, or why not. */
export type Reading = { readonly agreement: NativeAgreement } | { readonly reason: NegotiationReason; readonly refusal?: Refusal };

/** The offerer reads the peer's answer: the agreement, or why the peer refused. */
export function readOfferAnswer(answer: unknown): Reading {
  if (!Array.isArray(answer)) return { reason: "peer-declined" };
  const codec = answer[0];
  if ((codec === "native" || codec === NATIVE_PIPELINING) && answer.length === 2) {
    const classes = classMap(answer[1]);
    return classes ? { agreement: { classes, pipelining: codec === NATIVE_PIPELINING } } : { reason: "peer-declined" };
  }
  return { reason: refusalReason(answer[2]) };
}

/** A notice's sender reads the peer's answer: why the connection is brine. */
export function readNoticeAnswer(answer: unknown): NegotiationReason {
  return Array.isArray(answer) && answer[2] === ("codec-brine" satisfies Refusal) ? "peer-codec-brine" : "local-lacks-protobufjs";
}

/** Whether an offer (already unboxed) is a notice (see nativeNotice). */
export function isNotice(offer: unknown): boolean {
  return Array.isArray(offer) && offer.length >= 4 && typeof offer[3] === "string";
}

/**
 * The other side reads an offer or a notice (already unboxed; undefined: it could not be
 * unboxed): the agreement it can take, or why not (and the refusal to tell the peer).
 */
export function readOffer(offer: unknown, available: boolean): Reading {
  if (isNotice(offer)) return { reason: refusalReason((offer as unknown[])[3]) };
  if (!available) return { reason: "local-lacks-protobufjs", refusal: "lacks-protobufjs" };
  const incompatible = { reason: "incompatible-version", refusal: "incompatible-version" } as const;
  if (
    !Array.isArray(offer) ||
    (offer.length !== 3 && offer.length !== 4) ||
    offer[0] !== NATIVE_VERSION ||
    !Array.isArray(offer[1]) ||
    !offer[1].includes("native")
  )
    return incompatible;
  const classes = classMap(offer[2]);
  return classes ? { agreement: { classes, pipelining: offer[1].includes("pipeline") } } : incompatible;
}

/** A codec-"brine" side's answer to an offer. */
export const CODEC_BRINE_ANSWER: readonly unknown[] = ["brine", [], "codec-brine" satisfies Refusal];

/**
 * The reply to an offer or a notice: the agreement, or "brine" and the refusal if any. An
 * offerer from before pipelining did not ask for it and gets the plain answer it knows; one
 * from before refusals reads any "brine" answer as brine.
 */
export function offerAnswer(reading: Reading, dispatch: readonly DispatchTable[]): unknown[] {
  if ("agreement" in reading) return [reading.agreement.pipelining ? NATIVE_PIPELINING : "native", servedClasses(dispatch)];
  return reading.refusal === undefined ? ["brine", []] : ["brine", [], reading.refusal];
}

/**
 * Why an agreement is what it is, from the side's `schemas` (the classes it calls), the
 * peer's announced classes and whether the side serves nothing natively itself (it answered
 * an offer without dispatch tables): the reason and the classes its message names.
 */
export function agreedReason(schemas: readonly ServiceSchema[], peer: ReadonlyMap<string, PeerClass>, servesNothing: boolean): [NegotiationReason, string[]] {
  if (schemas.length > 0) {
    const names = new Set<string>();
    const mismatched = new Set<string>();
    let matched = false;
    for (const schema of schemas) {
      names.add(schema.className);
      const announced = peer.get(schema.className);
      if (announced === undefined) continue;
      if (announced.agrees(schema)) matched = true;
      else mismatched.add(schema.className);
    }
    if (mismatched.size > 0) return ["schema-mismatch", [...mismatched]];
    return matched ? ["agreed", []] : ["peer-has-no-dispatch", [...names]];
  }
  return [servesNothing ? "local-has-no-dispatch" : "agreed", []];
}
