// What a client of the benchmark suite (bench/suite/node_client.ts, python_client.py) prints
// on stdout, one JSON object per line, and what bench/suite.ts answers on its stdin.
//
//   {"event":"info","codec":c}                          rpyc-ts: the codec both ends agreed on
//   {"event":"mem","stage":"before"|"after","count":n}  the suite reads the server's memory,
//                                                       then writes "ok" to the client's stdin
//   {"event":"begin","workload":w}                      a measured phase starts (after its warm-up)
//   {"event":"result","workload":w,...}                 it ended
//   {"event":"skip","workload":w,"reason":...}          this peer cannot do it (gRPC: callbacks)

import { parseJsonLine } from "../harness.js";

export const WORKLOADS = ["seq", "inflight", "callback", "echo1k", "echo1m"] as const;
export type Workload = (typeof WORKLOADS)[number];

export type SuiteEvent =
  | { readonly event: "info"; readonly codec: string | null }
  | { readonly event: "mem"; readonly stage: "before" | "after"; readonly count: number }
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
  | { readonly event: "skip"; readonly workload: Workload; readonly reason: string };

export const parseSuiteEvent = (line: string): SuiteEvent | undefined => {
  const value = parseJsonLine(line);
  return typeof value?.event === "string" ? (value as SuiteEvent) : undefined;
};
