"""Shared helpers of the classic-mode fixtures (the pattern of
test/interop/python/interop_common.py): a watchdog so no fixture outlives its parent (or a
bounded time), the PORT line and the RESULT line. Fixtures bind and connect 127.0.0.1 only."""

import json
import os
import sys
import threading
import time

HOST = "127.0.0.1"


def watchdog(limit_seconds=120.0):
    """Exit when the parent process dies (we get re-parented) or after limit_seconds."""
    parent = os.getppid()
    deadline = time.monotonic() + limit_seconds

    def run():
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(0)
            if time.monotonic() > deadline:
                sys.stderr.write("classic fixture: time limit reached, exiting\n")
                sys.stderr.flush()
                os._exit(3)

    threading.Thread(target=run, name="watchdog", daemon=True).start()


def serve(server):
    """Listens, prints "PORT <n>" (only now can clients connect), then serves until killed."""
    server._listen()
    print(f"PORT {server.port}", flush=True)
    server.start()


def result(obj):
    print("RESULT " + json.dumps(obj), flush=True)


def failure(fn):
    """Runs fn; returns None if it succeeded, else what the exception looks like here."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - we report whatever arrived
        return {"type": type(exc).__name__, "args": [a if isinstance(a, (str, int, float, bool, type(None))) else repr(a) for a in exc.args]}
    return None
