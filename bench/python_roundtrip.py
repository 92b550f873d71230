"""Python RPyC 5.3 client side of the round-trip bench: sequential `conn.root.get_answer()`.

Connects to an RPyC server serving the seed MyService (Python's bench/python_server.py or
rpyc-ts's bench/ts_server.ts), warms up, then times N sequential calls, exactly as
bench/node_client.ts does for rpyc-ts:

  * warm-up: calls for --warmup seconds (and at least --min-warmup-calls calls);
  * measured: --duration seconds of calls, or exactly --calls calls when given (> 0);
    each call is timed alone with time.perf_counter_ns (CLOCK_MONOTONIC);
  * probe: --probe-calls more calls, untimed, with RPyC's Channel.send/recv wrapped to
    count the messages and bytes one `conn.root.get_answer()` puts on the wire.

Output: one JSON object per line on stdout ("event": "phase" | "progress" | "result").
The per-call latencies (microseconds, float64 little-endian) go to --samples-out when
given; the bench computes its statistics from those files for every pair alike. Run by
hand, the "result" line carries its own summary (same nearest-rank percentiles):

    /usr/bin/python3 bench/python_roundtrip.py --port 18861 --duration 3
"""

import argparse
import array
import json
import math
import os
import platform
import sys
import threading
import time

import rpyc
from rpyc.core.channel import Channel

EXPECTED = 42
FRAMING_BYTES = 6  # RPyC frame: 4-byte length + 1-byte compressed flag + "\n" flusher


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def percentile(sorted_values, p):
    """Nearest-rank percentile, as bench/stats.ts computes it."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def exit_when_parent_is_gone():
    """The bench keeps our stdin open; EOF means it is gone, so we go too."""
    try:
        # os.read on the raw descriptor: a daemon thread blocked in sys.stdin's buffered
        # reader would hold its lock and make interpreter shutdown abort.
        while os.read(0, 4096):
            pass
    finally:
        os._exit(3)


def probe(conn, calls):
    """Counts what `conn.root.get_answer()` sends and receives (untimed)."""
    counts = {"msgs_out": 0, "bytes_out": 0, "msgs_in": 0, "bytes_in": 0}
    conn.ping()  # settle: replies to earlier async DELs arrive before this one's reply
    original_send, original_recv = Channel.send, Channel.recv

    def send(self, data):
        counts["msgs_out"] += 1
        counts["bytes_out"] += len(data) + FRAMING_BYTES
        return original_send(self, data)

    def recv(self):
        data = original_recv(self)
        counts["msgs_in"] += 1
        counts["bytes_in"] += len(data) + FRAMING_BYTES
        return data

    Channel.send, Channel.recv = send, recv
    try:
        for _ in range(calls):
            if conn.root.get_answer() != EXPECTED:
                raise AssertionError("get_answer() did not return 42")
        # A netref released by the last call sends its async DEL now at the latest.
        conn.ping()
        counts["msgs_out"] -= 1  # the ping itself
        counts["msgs_in"] -= 1   # its reply
    finally:
        Channel.send, Channel.recv = original_send, original_recv
    return {key: value / calls for key, value in counts.items()} if calls else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds (default 1)")
    parser.add_argument("--min-warmup-calls", type=int, default=200)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds (default 5)")
    parser.add_argument("--calls", type=int, default=0, help="measure exactly this many calls instead of --duration")
    parser.add_argument("--max-calls", type=int, default=2_000_000, help="cap on measured calls in --duration mode")
    parser.add_argument("--probe-calls", type=int, default=200)
    parser.add_argument("--samples-out", help="write the latencies (float64 LE, microseconds) here")
    parser.add_argument("--progress-interval", type=float, default=0.1, help="seconds between progress lines")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin reaches EOF (the bench passes this)")
    args = parser.parse_args()

    if args.watch_stdin:
        threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()

    pc = time.perf_counter_ns
    interval = int(args.progress_interval * 1e9)
    conn = rpyc.connect(args.host, args.port)
    try:
        # ---- warm-up
        emit("phase", phase="warmup")
        start = pc()
        warm_end = start + int(args.warmup * 1e9)
        last = start
        warm_calls = 0
        while True:
            if conn.root.get_answer() != EXPECTED:
                raise AssertionError("get_answer() did not return 42")
            warm_calls += 1
            now = pc()
            if now >= warm_end and warm_calls >= args.min_warmup_calls:
                break
            if now - last >= interval:
                last = now
                emit("progress", phase="warmup", calls=warm_calls, elapsed=(now - start) / 1e9)

        # ---- measured
        limit = args.calls if args.calls > 0 else args.max_calls
        timed = args.calls <= 0
        samples = array.array("d")
        append = samples.append
        emit("phase", phase="measure")
        t0 = pc()
        end = t0 + int(args.duration * 1e9)
        last = t0
        calls = 0
        while calls < limit:
            s = pc()
            value = conn.root.get_answer()
            e = pc()
            append((e - s) / 1000.0)
            calls += 1
            if value != EXPECTED:
                raise AssertionError("get_answer() returned %r, not 42" % (value,))
            if timed and e >= end:
                break
            if e - last >= interval:
                last = e
                emit("progress", phase="measure", calls=calls, elapsed=(e - t0) / 1e9)
        t1 = pc()
        emit("phase", phase="measured")

        # ---- probe (untimed)
        wire = probe(conn, args.probe_calls)
    finally:
        conn.close()

    result = {
        "client": "python",
        "calls": calls,
        "warmup_calls": warm_calls,
        "wall_seconds": (t1 - t0) / 1e9,
        "wire": wire,
        "runtime": "Python %s, RPyC %s" % (platform.python_version(), rpyc.__version__),
    }
    if args.samples_out:
        with open(args.samples_out, "wb") as out:
            if sys.byteorder != "little":
                samples.byteswap()
            samples.tofile(out)
        result["samples_out"] = args.samples_out
    else:
        ordered = sorted(samples)
        result["summary_us"] = {
            "median": percentile(ordered, 50),
            "p99": percentile(ordered, 99),
            "min": ordered[0],
            "max": ordered[-1],
            "mean": sum(ordered) / len(ordered),
        }
        result["calls_per_second"] = calls / result["wall_seconds"]
    emit("result", **result)


if __name__ == "__main__":
    main()
