"""A Python RPyC 5.3 ThreadedServer behind rpyc's SSLAuthenticator (client certificates
required when CA_FILE is given). Usage: ssl_server.py CA_FILE CERT_FILE KEY_FILE
Binds 127.0.0.1 port 0, prints "PORT <n>"; exits when the parent dies or after 30 s."""

import os
import threading
import time
import sys

import rpyc
from rpyc.utils.authenticators import SSLAuthenticator
from rpyc.utils.server import ThreadedServer

HOST = "127.0.0.1"


def watchdog(limit=30.0):
    parent = os.getppid()
    deadline = time.monotonic() + limit

    def run():
        while True:
            time.sleep(0.2)
            if os.getppid() != parent or time.monotonic() > deadline:
                os._exit(3)

    threading.Thread(target=run, daemon=True).start()


class SecureService(rpyc.Service):
    def on_connect(self, conn):
        self._conn = conn

    def exposed_echo(self, value):
        return value

    def exposed_whoami(self):
        # credentials is ssl getpeercert(): {"subject": ((("commonName", "client"),),), ...}
        cert = self._conn._config["credentials"]
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return None


def main():
    watchdog()
    ca, cert, key = sys.argv[1:4]
    server = ThreadedServer(
        SecureService,
        hostname=HOST,
        port=0,
        authenticator=SSLAuthenticator(key, cert, ca_certs=ca),
        protocol_config={"allow_public_attrs": False},
    )
    server._listen()  # start() would listen too, but only after we printed the port
    print(f"PORT {server.port}", flush=True)
    server.start()


if __name__ == "__main__":
    main()
