// What introspecting a live server can go wrong with: fatal errors (IntrospectError, with a
// stable code callers branch on) and the per-member findings that do not stop it (LiveDiagnostic).

/** Stable codes of IntrospectError. */
export type IntrospectErrorCode =
  /** "HOST:PORT" could not be parsed. */
  | "BAD_ADDRESS"
  /** Nothing listens at the address (ECONNREFUSED). */
  | "CONNECTION_REFUSED"
  /** The TCP connection could not be made for another reason (unreachable host, DNS, ...). */
  | "CONNECT_FAILED"
  /** Connecting or the server's answers took longer than `timeoutMs`. */
  | "TIMEOUT"
  /** The server closed the connection before introspection was done. */
  | "CONNECTION_CLOSED"
  /** The server's answers are not RPyC (a ProtocolError): another protocol on that port. */
  | "NOT_RPYC"
  /** The root object answers no get_service_name()/get_service_aliases(): not an RPyC Service. */
  | "NOT_A_SERVICE"
  /** The server refused to list the root's members (HANDLE_DIR). */
  | "DIR_REFUSED"
  /** DIR lists more exposed members than MAX_LIVE_MEMBERS. */
  | "TOO_MANY_MEMBERS"
  /** The stub directory has no model.json (the stub was generated without --emit-model). */
  | "NO_STUB_MODEL"
  /** The stub's model has several services and none has the server's names. */
  | "NO_MATCHING_SERVICE"
  /** model.json exists but is not a ServiceModel this rpyc-gen reads. */
  | "BAD_STUB_MODEL";

/** Introspection could not be done at all; `code` says why. */
export class IntrospectError extends Error {
  readonly code: IntrospectErrorCode;
  constructor(code: IntrospectErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = "IntrospectError";
  }
}

export function isIntrospectError(value: unknown): value is IntrospectError {
  return value instanceof IntrospectError;
}

/** Stable codes of LiveDiagnostic. */
export const LIVE_DIAGNOSTIC_CODES = [
  /** DIR lists an exposed member, but reading it (HANDLE_GETATTR) raised AttributeError (refused): left out of the model. */
  "RPYC_LIVE_UNREADABLE_MEMBER",
  /** Reading an exposed member raised another exception (a property whose getter failed): kept as an attribute. */
  "RPYC_LIVE_MEMBER_RAISED",
  /** The server refused HANDLE_INSPECT on the root: no method docstrings. */
  "RPYC_LIVE_INSPECT_REFUSED",
  /** The server refused HANDLE_INSPECT on a member's value: classified by the root's INSPECT answer only. */
  "RPYC_LIVE_MEMBER_INSPECT_REFUSED",
  /** A DIR entry is the bare exposed prefix (no remote name): left out. */
  "RPYC_LIVE_EMPTY_NAME",
] as const;

export type LiveDiagnosticCode = (typeof LIVE_DIAGNOSTIC_CODES)[number];

/** Something introspection could not read; the model is still usable, without (or with less about) `member`. */
export interface LiveDiagnostic {
  readonly severity: "warning";
  readonly code: LiveDiagnosticCode;
  /** The member as the server names it ("exposed_secret"); absent for the service as a whole. */
  readonly member?: string;
  readonly message: string;
  readonly hint: string;
}

/** `HOST:PORT: warning CODE: message\n  hint: ...`, like the compiler's source diagnostics. */
export function formatLiveDiagnostic(where: string, d: LiveDiagnostic): string {
  return `${where}: ${d.severity} ${d.code}: ${d.message}\n  hint: ${d.hint}`;
}
