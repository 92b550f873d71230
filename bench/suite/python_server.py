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
import threading

import rpyc
from rpyc.utils.server import ThreadedServer


class BenchService(rpyc.Service):
    def exposed_ping(self):
        return 1

    def exposed_echo(self, data):
        return data

    def exposed_add(self, a, b):
        return a + b

    def exposed_call_back(self, fn):
        return fn(1)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def serve_stdin(watch):
    """'mem' lines ask for our memory; with --watch-stdin, EOF means the suite is gone, so we go too."""
    rest = b""
    try:
        # os.read on the raw descriptor: a daemon thread blocked in sys.stdin's buffered
        # reader would hold its lock and make interpreter shutdown abort.
        while True:
            chunk = os.read(0, 4096)
            if not chunk:
                break
            rest += chunk
            while b"\n" in rest:
                line, rest = rest.split(b"\n", 1)
                if line.strip() == b"mem":
                    gc.collect()
                    sys.stdout.write("MEM " + json.dumps({"rss": rss_bytes(), "heap": None}) + "\n")
                    sys.stdout.flush()
    finally:
        if watch:
            os._exit(0)


def main():
    server = ThreadedServer(BenchService, hostname="127.0.0.1", port=0)
    threading.Thread(target=serve_stdin, args=("--watch-stdin" in sys.argv,), daemon=True).start()
    print("PORT", server.port, flush=True)
    server.start()


if __name__ == "__main__":
    main()
