"""The Python RPyC 5.3 client of the benchmark suite: the same workloads and events as
bench/suite/node_client.ts (see bench/suite/events.ts), written the way an RPyC user writes them
(bench/README.md, "Peers"): conn.root.ping() each time; for the calls in flight rpyc.async_ on
the bound method's netref, fetched once, and a sliding window of AsyncResults.

    /usr/bin/python3 bench/suite/python_client.py --port N
"""

import argparse
import array
import collections
import os
import random
import sys
import threading
import time

import rpyc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyharness import WireCounter, emit, watch_stdin  # noqa: E402


def sequential(args, workload, call, warmup, minimum, nbytes=0, wire=None):
    """Untimed calls for `warmup` s (and at least `minimum`), then timed ones for --duration; checks every answer."""
    keep = nbytes == 0  # latency rows; the echo rows report MB/s
    start = time.perf_counter()
    n = 0
    while n < minimum or time.perf_counter() - start < warmup:
        if not call():
            raise RuntimeError(workload + ": wrong answer")
        n += 1
    emit(event="begin", workload=workload)
    before = wire.snapshot() if wire else None
    samples = array.array("d")
    start = now = time.perf_counter()  # perf_counter() and perf_counter_ns() share one clock
    while now < start + args.duration or len(samples) < 3:
        t = time.perf_counter_ns()
        ok = call()
        t2 = time.perf_counter_ns()
        now = t2 / 1e9
        if not ok:
            raise RuntimeError(workload + ": wrong answer")
        samples.append((t2 - t) / 1000.0)
    fields = dict(event="result", workload=workload, calls=len(samples), wall_seconds=now - start, bytes=nbytes)
    if wire:
        fields["wire"] = {k: v - before[k] for k, v in wire.snapshot().items()}
    if keep and args.samples_dir:
        fields["samples_out"] = os.path.join(args.samples_dir, workload + ".f64")
        if sys.byteorder != "little":
            samples.byteswap()
        with open(fields["samples_out"], "wb") as f:
            samples.tofile(f)
    emit(**fields)


def concurrent(args, conn):
    ping = rpyc.async_(conn.root.ping)

    def run(seconds):
        window = collections.deque()
        calls = 0
        start = time.perf_counter()
        while calls == 0 or time.perf_counter() < start + seconds:
            while len(window) < args.inflight:
                window.append(ping())
            if window.popleft().value != 1:
                raise RuntimeError("inflight: wrong answer")
            calls += 1
        for res in window:
            res.wait()
        return calls, time.perf_counter() - start

    run(min(args.warmup, 1.0))
    emit(event="begin", workload="inflight")
    calls, wall = run(args.duration)
    emit(event="result", workload="inflight", calls=calls, wall_seconds=wall, bytes=0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    for name, default in (("warmup", 2.0), ("duration", 1.5), ("inflight", 32), ("idle", 500)):
        parser.add_argument("--" + name, type=type(default), default=default)
    parser.add_argument("--only", default="")
    parser.add_argument("--samples-dir")
    parser.add_argument("--watch-stdin", action="store_true")
    args = parser.parse_args()
    only = set(w for w in args.only.split(",") if w)

    def wanted(w):
        return not only or w in only

    # "ok" lines from the suite on stdin (its EOF means it is gone, so we go too)
    acks = threading.Semaphore(0)
    watch_stdin(lambda line: acks.release() if line == "ok" else None, exit_code=3)

    def ask(**event):
        emit(**event)
        acks.acquire()

    conn = rpyc.connect("127.0.0.1", args.port)
    wire = WireCounter(conn)
    if conn.root.ping() != 1:
        raise RuntimeError("ping: wrong answer")

    if wanted("mem") and args.idle > 0:
        ask(event="mem", stage="before", count=0)
        conns = [rpyc.connect("127.0.0.1", args.port) for _ in range(args.idle)]
        if any(c.root.ping() != 1 for c in conns):
            raise RuntimeError("idle: wrong answer")
        time.sleep(0.3)
        ask(event="mem", stage="after", count=len(conns))
        for c in conns:
            c.close()

    short = min(args.warmup, 0.5)
    if wanted("seq"):
        sequential(args, "seq", lambda: conn.root.ping() == 1, args.warmup, 200, wire=wire)
    if wanted("inflight"):
        concurrent(args, conn)
    if wanted("callback"):
        plus_one = lambda x: x + 1  # noqa: E731
        sequential(args, "callback", lambda: conn.root.call_back(plus_one) == 2, short, 100, wire=wire)
    for workload, size in (("echo1k", 1024), ("echo1m", 1 << 20)):
        if wanted(workload):
            # Pseudo-random (incompressible) bytes: RPyC compresses frames above 3000 bytes.
            data = random.Random(size).randbytes(size)

            def check(data=data, size=size):
                back = conn.root.echo(data)
                return len(back) == size and back[0] == data[0] and back[-1] == data[-1] and back[size >> 1] == data[size >> 1]

            sequential(args, workload, check, short, 3 if size > 65536 else 50, size)
    conn.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001
        sys.stderr.write("suite client (python): %r\n" % (exc,))
        raise
    sys.stdout.flush()
    os._exit(0)
