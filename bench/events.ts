// What a bench client (bench/node_client.ts, bench/python_roundtrip.py) prints on stdout:
// one JSON object per line. The orchestrator (bench/roundtrip.ts) reads them to drive the
// progress bar, to sample CPU time at the edges of the measured phase, and to collect the
// result.

/** Per-call wire traffic, from the untimed probe calls after the measured phase. */
export interface WireCounts {
  readonly msgs_out: number;
  readonly bytes_out: number;
  readonly msgs_in: number | null;
  readonly bytes_in: number;
}

export type ClientEvent =
  | { readonly event: "phase"; readonly phase: "warmup" | "measure" | "measured" }
  | { readonly event: "progress"; readonly phase: "warmup" | "measure"; readonly calls: number; readonly elapsed: number }
  | {
      readonly event: "result";
      readonly client: string;
      readonly calls: number;
      readonly warmup_calls: number;
      readonly wall_seconds: number;
      readonly wire: WireCounts | null;
      readonly runtime: string;
      readonly samples_out?: string;
    };

/** Parses one stdout line of a client; undefined for anything that is not an event. */
export function parseEvent(line: string): ClientEvent | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(line) as { event?: unknown };
    return typeof value.event === "string" ? (value as ClientEvent) : undefined;
  } catch {
    return undefined;
  }
}
