"""Shared helpers of the interop fixtures: a watchdog so no fixture outlives its parent
(or a bounded time), the RESULT line, the brine value every type test sends, and a type-exact
comparison. Fixtures bind and connect 127.0.0.1 only."""

import json
import math
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
                sys.stderr.write("interop fixture: time limit reached, exiting\n")
                sys.stderr.flush()
                os._exit(3)

    threading.Thread(target=run, name="watchdog", daemon=True).start()


def serve(server):
    """Listens, prints "PORT <n>" (only now can clients connect), then serves until killed."""
    server._listen()  # start() would listen too, but only after we printed the port
    print(f"PORT {server.port}", flush=True)
    server.start()


def result(obj):
    print("RESULT " + json.dumps(obj), flush=True)


class InteropError(Exception):
    """A custom exception class; it travels as (module 'interop_common', class 'InteropError')."""

    def __init__(self, message, code):
        super().__init__(message, code)
        self.code = code


# Every brine type, nested in one value. Rebuilt in TypeScript as the same value.
# The float 3.0 is integral: a JavaScript number cannot remember it was a float.
def all_types_value():
    return (
        None,
        True,
        False,
        (0, 1, -1, 159, -48, 160, -49, 255, 256, 2 ** 31, 2 ** 53 - 1, 2 ** 53 + 1, 2 ** 63, -(10 ** 30), 10 ** 300),
        (1.5, -0.0, math.inf, -math.inf, math.nan, 1e300, 5e-324),
        "h\u00e9llo w\u00f6rld \u2713 \U0001F40D",
        "",
        b"",
        b"\x00\xff\x10",
        bytes(range(256)),
        (1, (2, (3, ())), ("deep", (b"x",))),
        tuple(range(300)),
        frozenset({1, "a", (2, 3)}),
        frozenset(),
        slice(1, 10, 2),
        slice(None, 5, None),
        complex(1, 2),
        complex(-0.5, -1.5),
        NotImplemented,
        Ellipsis,
    )


def _same_float(a, b):
    if math.isnan(a):
        return math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def type_problems(got, expected, path="value"):
    """Every place where `got` differs from `expected` in type or value (exact types:
    bool is not int, int is not float, tuple is not list)."""
    problems = []
    if type(got) is not type(expected):
        return [f"{path}: expected {type(expected).__name__} {expected!r}, got {type(got).__name__} {got!r}"]
    if isinstance(expected, tuple):
        if len(got) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {len(got)}"]
        for i, (g, e) in enumerate(zip(got, expected)):
            problems += type_problems(g, e, f"{path}[{i}]")
    elif isinstance(expected, float):
        if not _same_float(got, expected):
            problems.append(f"{path}: expected {expected!r}, got {got!r}")
    elif isinstance(expected, complex):
        if not (_same_float(got.real, expected.real) and _same_float(got.imag, expected.imag)):
            problems.append(f"{path}: expected {expected!r}, got {got!r}")
    elif isinstance(expected, slice):
        for name in ("start", "stop", "step"):
            problems += type_problems(getattr(got, name), getattr(expected, name), f"{path}.{name}")
    elif got != expected:
        problems.append(f"{path}: expected {expected!r}, got {got!r}")
    return problems


def exception_report(exc):
    """What a peer's exception looks like once it arrived here, as JSON-friendly data."""
    real = [c for c in type(exc).__mro__[1:] if c.__module__ == "builtins"]
    return {
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "builtin": real[0].__name__ if real else None,
        "args": [a if isinstance(a, (str, int, float, bool, type(None))) else repr(a) for a in exc.args],
        "remote_tb": getattr(exc, "_remote_tb", None),
    }
