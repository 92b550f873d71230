"""Control server of the hostile-client bench (bench/hostile/run.ts): Python RPyC 5.3's
ThreadedServer on 127.0.0.1, a free port; prints "PORT <n>". `--tls DIR`: SSLAuthenticator
with DIR/key.pem and DIR/cert.pem. Leaves when stdin reaches EOF (the bench is gone).
"""

import os
import sys

import rpyc
from rpyc.utils.authenticators import SSLAuthenticator

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pyharness import serve  # noqa: E402


class MyService(rpyc.Service):
    def exposed_get_answer(self):
        return 42

    def exposed_call_back(self, fn):
        return fn(1)


if __name__ == "__main__":
    tls = sys.argv[sys.argv.index("--tls") + 1] if "--tls" in sys.argv else None
    serve(MyService, authenticator=SSLAuthenticator(os.path.join(tls, "key.pem"), os.path.join(tls, "cert.pem")) if tls else None)
