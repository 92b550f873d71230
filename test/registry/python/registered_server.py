"""A Python ThreadedServer that auto-registers with a registry on 127.0.0.1.
Usage: registered_server.py MODE REGISTRY_PORT REREGISTER_INTERVAL
Serves PyCalcService (aliases PYCALC, PYADDER); prints "PORT <n>". Killed by the test
(SIGTERM ends it without unregistering: a server that stops re-registering)."""

import sys

import rpyc
from rpyc.utils.server import ThreadedServer

from registry_common import HOST, registry_client, serve, watchdog


class PyCalcService(rpyc.Service):
    ALIASES = ["pycalc", "pyadder"]

    def exposed_add(self, a, b):
        return a + b

    def exposed_language(self):
        return "python"


if __name__ == "__main__":
    watchdog()
    mode, registry_port, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    registrar = registry_client(mode, registry_port)
    registrar.REREGISTER_INTERVAL = interval
    server = ThreadedServer(PyCalcService, hostname=HOST, port=0, registrar=registrar, auto_register=True)
    serve(server)
