"""The seed tutorial's MyService, served by Python RPyC on 127.0.0.1 (port 0).
Usage: seed_server.py [--aliases]   (--aliases serves it as ALIASES = ["floop", "bloop"])
Prints "PORT <n>"; exits when the parent dies or after the watchdog's limit."""

import sys

import rpyc
from rpyc.utils.server import ThreadedServer

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import HOST, serve, watchdog  # noqa: E402


class MyService(rpyc.Service):
    def on_connect(self, conn):
        # code that runs when a connection is created
        # (to init the service, if needed)
        pass

    def on_disconnect(self, conn):
        # code that runs after the connection has already closed
        # (to finalize the service, if needed)
        pass

    def exposed_get_answer(self):  # this is an exposed method
        return 42

    exposed_the_real_answer_though = 43  # an exposed attribute

    def get_question(self):  # while this method is not exposed
        return "what is the airspeed velocity of an unladen swallow?"


class FloopService(MyService):
    ALIASES = ["floop", "bloop"]


if __name__ == "__main__":
    watchdog()
    service = FloopService if "--aliases" in sys.argv[1:] else MyService
    server = ThreadedServer(service, hostname=HOST, port=0)
    serve(server)
