"""Control server of the hostile-client bench (bench/hostile/run.ts): Python RPyC 5.3's
ThreadedServer on 127.0.0.1, a free port; prints "PORT <n>". `--tls DIR`: SSLAuthenticator
with DIR/key.pem and DIR/cert.pem. Leaves when stdin reaches EOF (the bench is gone).
"""

import os
import sys
import threading

import rpyc
from rpyc.utils.authenticators import SSLAuthenticator
from rpyc.utils.server import ThreadedServer


class MyService(rpyc.Service):
    def exposed_get_answer(self):
        return 42

    def exposed_call_back(self, fn):
        return fn(1)


def exit_when_parent_is_gone():
    # os.read on the raw descriptor: a thread blocked in sys.stdin's buffered reader would
    # hold its lock and make interpreter shutdown abort.
    try:
        while os.read(0, 4096):
            pass
    finally:
        os._exit(0)


def main():
    authenticator = None
    if "--tls" in sys.argv:
        folder = sys.argv[sys.argv.index("--tls") + 1]
        authenticator = SSLAuthenticator(os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem"))
    server = ThreadedServer(MyService, hostname="127.0.0.1", port=0, authenticator=authenticator)
    threading.Thread(target=exit_when_parent_is_gone, daemon=True).start()
    server._listen()  # start() would listen only after we print the port: clients would be refused
    print("PORT", server.port, flush=True)
    server.start()


if __name__ == "__main__":
    main()
