"""A Python RPyC server exercising everything an rpyc-ts client relies on.
Usage: interop_server.py [--public-attrs]   (--public-attrs sets allow_public_attrs=True)
Binds 127.0.0.1 port 0, prints "PORT <n>"; exits when the parent dies or after the
watchdog's limit."""

import gc
import sys
import threading
import time
import weakref

import rpyc
from rpyc.utils.server import ThreadedServer

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import (  # noqa: E402 - after dont_write_bytecode
    HOST,
    InteropError,
    all_types_value,
    exception_report,
    serve,
    type_problems,
    watchdog,
)

_lock = threading.Lock()
_disconnects = 0


class Thing:
    """A plain object returned by reference: public members are reachable only with
    allow_public_attrs, exposed_ ones always."""

    def __init__(self, name):
        self.name = name
        self.public_value = 7
        self._private_value = 8

    def public_method(self, x):
        return f"{self.name}:{x}"

    def exposed_hello(self):
        return f"hello from {self.name}"

    def __len__(self):
        return 3

    def __iter__(self):
        return iter(("a", "b", "c"))

    def __getitem__(self, key):
        return f"item {key}"

    def __repr__(self):
        return f"Thing({self.name!r})"

    def __str__(self):
        return f"thing {self.name}"


class Tracked:
    """An object whose lifetime the client controls through its netref."""


class InteropService(rpyc.Service):
    def on_connect(self, conn):
        self._conn = conn
        self._held = None
        self._tracked = None
        self._client_name = None
        # The server calls the client's root while the connection is being set up. While it
        # waits for the answer, Python serves the client's own first requests (nested).
        self._client_name = conn.root.get_service_name()

    def on_disconnect(self, conn):
        global _disconnects
        with _lock:
            _disconnects += 1

    # -- plain values ---------------------------------------------------------------------
    def exposed_get_answer(self):
        return 42

    def exposed_echo(self, value):
        return value

    def exposed_check_all_types(self, value):
        """Type-exact comparison with interop_common.all_types_value(); returns the problems."""
        return tuple(type_problems(value, all_types_value()))

    def exposed_all_types(self):
        return all_types_value()

    def exposed_type_names(self, *values):
        return tuple(type(v).__name__ for v in values)

    def exposed_describe_big(self, data, text):
        """Checks a big payload sent by the client without echoing it."""
        return (
            type(data).__name__,
            len(data),
            data == bytes(range(256)) * (len(data) // 256),
            type(text).__name__,
            len(text),
            text == "\u00fc\u20ac" * (len(text) // 2),
        )

    def exposed_make_big(self, n):
        return bytes(range(256)) * n, "\u00fc\u20ac" * (n * 64)

    def exposed_add(self, a, b=10, *, c=0):
        return a + b + c

    def exposed_describe_args(self, *args, **kwargs):
        return (args, tuple(sorted(kwargs.items())))

    # -- references, attributes --------------------------------------------------------
    def exposed_get_thing(self, name):
        return Thing(name)

    # -- callbacks -----------------------------------------------------------------------
    def exposed_call(self, fn, *args):
        """The client passes a function; the server calls it while the client's call is pending."""
        return fn(*args)

    def exposed_pingpong(self, n, fn):
        """server -> client -> server -> ...: the client's fn calls pingpong(n - 1, fn) back."""
        if n <= 0:
            return ("py0",)
        return (f"py{n}",) + tuple(fn(n - 1))

    def exposed_give_function_to_client(self, x):
        """The server passes its own function to the client's exposed service, which calls it."""
        return self._conn.root.apply(lambda y: ("py-lambda", y * 3), x)

    def exposed_notify_later(self, fn, value):
        """Calls the client back from another thread after this call has returned."""

        def run():
            time.sleep(0.05)
            fn(value)

        threading.Thread(target=run, daemon=True).start()

    def exposed_client_service_name(self):
        return self._client_name

    def exposed_ask_client(self, x):
        return self._conn.root.client_method(x)

    def exposed_client_hidden(self):
        """Reaches for a member the client does not expose."""
        try:
            self._conn.root.hidden_method()
            return None
        except Exception as exc:  # noqa: BLE001
            return exception_report_tuple(exc)

    def exposed_call_and_report(self, fn, *args):
        """Calls a client function expected to throw; reports the exception as it arrived."""
        try:
            fn(*args)
            return None
        except Exception as exc:  # noqa: BLE001
            return exception_report_tuple(exc)

    # -- exceptions ----------------------------------------------------------------------
    def exposed_raise_value_error(self):
        raise ValueError("bad value", 7)

    def exposed_raise_key_error(self):
        raise KeyError("missing")

    def exposed_raise_custom(self):
        raise InteropError("custom failure", 17)

    # -- timeouts ------------------------------------------------------------------------
    def exposed_sleep(self, seconds):
        time.sleep(seconds)
        return seconds

    # -- close ---------------------------------------------------------------------------
    def exposed_disconnect_count(self):
        with _lock:
            return _disconnects

    def exposed_get_containers(self):
        """A list and a dict: not brine, so they travel by reference."""
        return [10, 20, 30], {"k": "v", "j": "w"}

    # -- Python protocol on the client's objects ----------------------------------------
    def exposed_probe(self, obj, key):
        """Python's protocol operations on a netref to a client object."""
        return (
            len(obj),
            tuple(x for x in obj),
            obj[key],
            key in obj,
            repr(obj),
            str(obj),
            tuple(dir(obj)),
            hash(obj) == hash(obj),
            isinstance(hash(obj), int),
            obj == obj,
            obj != obj,
        )

    def exposed_iterate(self, obj):
        return tuple(x for x in obj)

    def exposed_call_with_kwargs(self, fn):
        return fn(1, b=2)

    # -- netref lifetime -----------------------------------------------------------------
    def exposed_hold(self, obj):
        self._held = obj

    def exposed_drop_held(self):
        self._held = None
        gc.collect()

    def exposed_make_tracked(self):
        obj = Tracked()
        self._tracked = weakref.ref(obj)
        return obj

    def exposed_get_tracked(self):
        return self._tracked()

    def exposed_tracked_alive(self):
        gc.collect()
        return self._tracked is not None and self._tracked() is not None

    def exposed_local_object_count(self):
        gc.collect()
        return len(self._conn._local_objects._dict)


def exception_report_tuple(exc):
    report = exception_report(exc)
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in report.items()))


if __name__ == "__main__":
    watchdog()
    config = {"allow_public_attrs": "--public-attrs" in sys.argv[1:]}
    server = ThreadedServer(InteropService, hostname=HOST, port=0, protocol_config=config)
    serve(server)
