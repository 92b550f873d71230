// What a client of the benchmark suite (bench/suite/node_client.ts, python_client.py) prints on
// stdout, one JSON object per line (SuiteEvent), and the interface of the Node peers' connections
// (bench/suite/peers.ts). On a "mem" event the suite reads the server's memory, then writes "ok" to
// the client's stdin.

export const WORKLOADS = ["seq", "inflight", "callback", "echo1k", "echo1m"] as const;
export type Workload = (typeof WORKLOADS)[number];

export type SuiteEvent =
  /** rpyc-ts: the codec both ends agreed on. */
  | { readonly event: "info"; readonly codec: string | null }
  | { readonly event: "mem"; readonly stage: "before" | "after"; readonly count: number }
  /** A measured phase starts (after its warm-up); "result" when it ended. */
  | { readonly event: "begin"; readonly workload: Workload }
  | {
      readonly event: "result";
      readonly workload: Workload;
      readonly calls: number;
      readonly wall_seconds: number;
      /** Payload bytes of one call, one way (echo rows), else 0. */
      readonly bytes: number;
      /** Per-call latencies, microseconds, float64 little-endian (sequential rows). */
      readonly samples_out?: string;
      /** Sequential rows, where the client counts them: bytes and frames (headers included) over the measured calls. */
      readonly wire?: { readonly bytes_out: number; readonly bytes_in: number; readonly frames_out: number; readonly frames_in: number };
    }
  /** This peer cannot do it (gRPC: callbacks). */
  | { readonly event: "skip"; readonly workload: Workload; readonly reason: string };

/** One connection of a Node peer's client: the suite's calls. */
export interface PeerConnection {
  /** The small call; resolves with 1. */
  ping(): Promise<number>;
  /** Resolves with the bytes sent. */
  echo(data: Uint8Array): Promise<Uint8Array>;
  /** The callback round trip: the server calls a client function (x => x + 1) with 1; resolves with 2. Absent: the peer has none. */
  callBack?(): Promise<number>;
  /** rpyc-ts: the codec the two ends agreed on ("native" or "brine"); null for other peers. */
  readonly codec: string | null;
  /** What went on the wire so far (bytes and frames, frame headers included); null: not counted. */
  wire(): { readonly bytesOut: number; readonly bytesIn: number; readonly framesOut: number; readonly framesIn: number } | null;
  close(): Promise<void>;
}
