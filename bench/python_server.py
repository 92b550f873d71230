"""The seed MyService served by Python RPyC 5.3's ThreadedServer, for the round-trip bench.

Binds 127.0.0.1 on a free port, prints "PORT <n>" and serves until it is killed (SIGTERM
from the bench); with --watch-stdin (as the bench starts it) also when its stdin reaches
EOF, which is what happens when the bench dies: no leftovers.

    /usr/bin/python3 bench/python_server.py
"""

import os
import sys
import threading

import rpyc
from rpyc.utils.server import ThreadedServer


class MyService(rpyc.Service):
    """Exactly the seed service of RPyC's tutorial (and of examples/seed-service.ts)."""

    def on_connect(self, conn):
        # code that runs when a connection is created (init stuff)
        pass

    def on_disconnect(self, conn):
        # code that runs after the connection has already closed (finalization)
        pass

    def exposed_get_answer(self):  # this is an exposed method
        return 42

    exposed_the_real_answer_though = 43  # an exposed attribute

    def get_question(self):  # while this method is not exposed
        return "what is the airspeed velocity of an unladen swallow?"


def exit_when_parent_is_gone():
    """The bench keeps our stdin open; EOF means it is gone, so we go too."""
    try:
        # os.read on the raw descriptor: a daemon thread blocked in sys.stdin's buffered
        # reader would hold its lock and make interpreter shutdown abort.
        while os.read(0, 4096):
            pass
    finally:
        os._exit(0)


def main():
    server = ThreadedServer(MyService, hostname="127.0.0.1", port=0)
    if "--watch-stdin" in sys.argv:
        threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()
    print("PORT", server.port, flush=True)
    server.start()


if __name__ == "__main__":
    main()
