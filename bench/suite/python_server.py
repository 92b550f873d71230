"""The suite's BenchService (bench/service/bench-service.ts) served by Python RPyC 5.3; also the
control server of the hostile-client bench (bench/hostile/run.ts), which calls get_answer().

ThreadedServer on 127.0.0.1, a free port; prints "PORT <n>". A line "mem" on stdin prints
'MEM {"rss": ..}' after a full gc.collect(). `--tls DIR`: SSLAuthenticator with DIR/key.pem and
DIR/cert.pem. SIGTERM stops it, and with --watch-stdin also stdin's EOF (the bench is gone).

    /usr/bin/python3 bench/suite/python_server.py [--tls DIR]
"""

import gc
import json
import os
import sys

import rpyc
from rpyc.utils.authenticators import SSLAuthenticator

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

    def exposed_get_answer(self):  # the seed service's call (examples/seed-service.ts)
        return 42


def on_line(line):
    if line == "mem":
        gc.collect()
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        print("MEM " + json.dumps({"rss": rss, "heap": None}), flush=True)


if __name__ == "__main__":
    tls = sys.argv[sys.argv.index("--tls") + 1] if "--tls" in sys.argv else None
    authenticator = SSLAuthenticator(os.path.join(tls, "key.pem"), os.path.join(tls, "cert.pem")) if tls else None
    serve(BenchService, on_line, exit_at_eof="--watch-stdin" in sys.argv, authenticator=authenticator)
