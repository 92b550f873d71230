// Small helpers every part of the compiler shares (extractors, emitters, diff, CLI), written
// once: a deterministic string order, posix paths, and the message of anything thrown.
// Imports nothing, so any module may use it without risking an import cycle.

/** Code-unit order: deterministic whatever the locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A path with posix separators (model paths and messages are the same on every platform). */
export function toPosix(p: string): string {
  return p.split("\\").join("/");
}

/** The message of a thrown value: an Error's message, or the value as text. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
