"""The suite's BenchService (bench/service/bench-service.ts) served by Python RPyC 5.3.

ThreadedServer on 127.0.0.1, a free port; prints "PORT <n>". A line "mem" on stdin prints
'MEM {"rss": ..}' after a full gc.collect(); SIGTERM stops it, and with --watch-stdin
(as the suite starts it) also stdin's EOF: the suite is gone.

    /usr/bin/python3 bench/suite/python_server.py
"""

import gc
import json
import os
import sys

import rpyc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyharness import serve  # noqa: E402


class BenchService(rpyc.Service):
    def exposed_ping(self):
        return 1

    def exposed_echo(self, data):
        return data

    def exposed_add(self, a, b):
        return a + b

    def exposed_call_back(self, fn):
        return fn(1)


def on_line(line):
    if line == "mem":
        gc.collect()
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        print("MEM " + json.dumps({"rss": rss, "heap": None}), flush=True)


if __name__ == "__main__":
    serve(BenchService, on_line, exit_at_eof="--watch-stdin" in sys.argv)
