// Agreeing on the native codec (runtime/compiled/native.ts) when a connection opens. The side
// with compiled schemas sends HANDLE_NATIVE_OFFER(version, codecs, served classes); an rpyc-ts
// peer answers with its own served classes (and "native+pipeline" when both take promise
// pipelining's frames), or "brine"; Python RPyC answers KeyError (an unknown handler), which
// means brine. Only messages are built and read here: the connection sends them and keeps
// the agreement.

import { NATIVE_VERSION, schemaFingerprint } from "./native.js";
import type { DispatchTable } from "./dispatch.js";
import type { ServiceSchema } from "./schema.js";

/**
 * Handler code of the native-codec offer: outside RPyC's handler range, so a Python peer
 * answers it with an exception (KeyError), which means "brine only".
 */
export const HANDLE_NATIVE_OFFER = 0x7254;

/** The codec a connection uses for typed calls: "native" only when both rpyc-ts peers agreed. */
export type Codec = "native" | "brine";

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
export function nativeOffer(dispatch: readonly DispatchTable[]): unknown[] {
  return [NATIVE_VERSION, ["native", "pipeline"], servedClasses(dispatch)];
}

/** The offerer reads the peer's answer: the agreement, or undefined (brine). */
export function readOfferAnswer(answer: unknown): NativeAgreement | undefined {
  const codec = Array.isArray(answer) && answer.length === 2 ? answer[0] : undefined;
  if (codec !== "native" && codec !== NATIVE_PIPELINING) return undefined;
  const classes = classMap((answer as unknown[])[1]);
  return classes ? { classes, pipelining: codec === NATIVE_PIPELINING } : undefined;
}

/** The other side reads an offer (already unboxed): the agreement it can take, or undefined (brine). */
export function readOffer(offer: unknown, available: boolean): NativeAgreement | undefined {
  if (!available || !Array.isArray(offer) || offer.length !== 3 || offer[0] !== NATIVE_VERSION || !Array.isArray(offer[1]) || !offer[1].includes("native"))
    return undefined;
  const classes = classMap(offer[2]);
  return classes ? { classes, pipelining: offer[1].includes("pipeline") } : undefined;
}

/** The reply to an offer. An offerer from before pipelining did not ask for it and gets the plain answer it knows. */
export function offerAnswer(agreement: NativeAgreement | undefined, dispatch: readonly DispatchTable[]): unknown[] {
  if (!agreement) return ["brine", []];
  return [agreement.pipelining ? NATIVE_PIPELINING : "native", servedClasses(dispatch)];
}
