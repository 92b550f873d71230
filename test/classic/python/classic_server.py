"""A Python classic-mode server for rpyc-ts's connectClassic.
Usage: classic_server.py slave|classic
  slave:   rpyc_classic's service (rpyc.core.SlaveService): the server only serves.
  classic: rpyc.classic.ClassicService (Master + Slave): on connect the server also installs
           the client's modules and evaluates code ON THE CLIENT, storing what it got in its
           own namespace as peer_probe / peer_platform / peer_sum.
Binds 127.0.0.1 port 0, prints "PORT <n>"; exits when the parent dies or after the
watchdog's limit."""

import sys

import rpyc  # noqa: F401
from rpyc.core.service import ClassicService, SlaveService
from rpyc.utils.server import ThreadedServer

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from classic_common import HOST, serve, watchdog  # noqa: E402 - after dont_write_bytecode


class ProbingClassicService(ClassicService):
    """Full duplex: the server reaches into the client the moment it connects."""

    def on_connect(self, conn):
        super().on_connect(conn)  # installs conn.modules / conn.eval ... of the CLIENT
        self.namespace["peer_probe"] = conn.eval("6 * 7")
        self.namespace["peer_platform"] = conn.modules["node:os"].platform()
        conn.execute("peerSum = 40 + 2")
        self.namespace["peer_sum"] = conn.namespace.peerSum


def main():
    watchdog()
    mode = sys.argv[1] if len(sys.argv) > 1 else "slave"
    service = {"slave": SlaveService, "classic": ProbingClassicService}[mode]
    serve(ThreadedServer(service, hostname=HOST, port=0, protocol_config={"sync_request_timeout": 10}))


if __name__ == "__main__":
    main()
