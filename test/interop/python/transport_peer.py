"""Large values across the channel (1-8 MB bytes and str, random and compressible) with
Python RPyC 5.3 on the other side.
Usage: transport_peer.py server          serves BigService, prints "PORT <n>"
       transport_peer.py client <port>   calls an rpyc-ts server's echo/make, prints "RESULT {json}"
Each side checks content by sha256 ("type:length:hex", see digest), so no copy is shipped back."""

import hashlib
import random
import sys

import rpyc
from rpyc.utils.server import ThreadedServer

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import HOST, result, serve, watchdog  # noqa: E402

SENTENCE = "lorem ipsum dolor sit amet, consectetur adipiscing elit, \u00e9t\u00e9 \u4e16\u754c. "
KINDS = ("bytes-random", "bytes-text", "str-random", "str-text")


def make_value(kind, size, seed=1):
    """About `size` bytes (UTF-8 for str): random (incompressible) or text (compressible)."""
    rng = random.Random(seed)
    if kind == "bytes-random":
        return rng.randbytes(size)
    if kind == "bytes-text":
        return (SENTENCE.encode("utf-8") * (size // 60 + 1))[:size]
    if kind == "str-text":
        return SENTENCE * (size // len(SENTENCE.encode("utf-8")) + 1)
    if kind == "str-random":
        # Random code points below the surrogates: mostly 3 UTF-8 bytes each.
        return "".join(map(chr, rng.choices(range(0x20, 0xD800), k=size // 3)))
    raise ValueError(kind)


def digest(value):
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return f"{type(value).__name__}:{len(data)}:{hashlib.sha256(data).hexdigest()}"


class BigService(rpyc.Service):
    def __init__(self):
        self.last = None

    def exposed_echo(self, value):
        return value

    def exposed_digest(self, value):
        return digest(value)

    def exposed_make(self, kind, size):
        self.last = make_value(kind, size)
        return self.last

    def exposed_last_digest(self):
        return digest(self.last)


def run_client(port):
    """Against an rpyc-ts server with the same four exposed methods."""
    conn = rpyc.connect(HOST, port, config={"sync_request_timeout": 60})
    checks = []
    for kind in KINDS:
        for size in (1 << 20, 8 << 20):
            value = make_value(kind, size)
            expected = digest(value)
            echoed = conn.root.echo(value)
            made = conn.root.make(kind, size)
            checks.append({
                "kind": kind,
                "size": size,
                "echo_ok": digest(echoed) == expected,
                "ts_digest_ok": conn.root.digest(value) == expected,
                "made_ok": digest(made) == conn.root.last_digest(),
                "made_type": type(made).__name__,
            })
    conn.close()
    result({"checks": checks})


if __name__ == "__main__":
    watchdog(120)
    if sys.argv[1] == "server":
        serve(ThreadedServer(BigService, hostname=HOST, port=0, protocol_config={"allow_public_attrs": False}))
    else:
        run_client(int(sys.argv[2]))
