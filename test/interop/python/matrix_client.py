"""A Python RPyC client of the matrix service (test/compiled/matrix.test.ts), run against
rpyc-ts servers (plain and with the dispatch table). Usage: matrix_client.py PORT.
Prints "RESULT {json}": for each method, how its result arrived: {"value": ...} by value,
{"netref": what it reads as} by reference, or {"error": [type, message]}."""

import sys

import rpyc

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import HOST, result, watchdog  # noqa: E402


def is_netref(value):
    return isinstance(value, rpyc.core.netref.BaseNetref)


def plain(value):
    """JSON for a by-value result (bytes as a list of ints, tuples as lists)."""
    if isinstance(value, bytes):
        return {"bytes": list(value)}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return {"int": str(value)}
    return value


def arrived(call, read=None):
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - report whatever arrived
        return {"error": [type(exc).__name__, str(exc).split("\n")[0]]}
    if not is_netref(value):
        return {"value": plain(value)}
    try:
        return {"netref": read(value) if read else "opaque"}
    except Exception as exc:  # noqa: BLE001
        return {"netref": {"error": [type(exc).__name__, str(exc).split("\n")[0]]}}


if __name__ == "__main__":
    watchdog(30)
    conn = rpyc.connect(HOST, int(sys.argv[1]))
    root = conn.root
    out = {
        "number": arrived(lambda: root.number()),
        "bigint": arrived(lambda: root.bigint()),
        "few": arrived(lambda: root.few()),
        "text": arrived(lambda: root.text()),
        "bytes": arrived(lambda: root.bytes()),
        "flag": arrived(lambda: root.flag()),
        "nothing": arrived(lambda: root.nothing()),
        "person": arrived(lambda: root.person(), lambda p: {"name": p["name"], "len": len(p), "keys": sorted(p)}),
        "numbers": arrived(lambda: root.numbers()),
        "pair": arrived(lambda: root.pair()),
        "scores": arrived(lambda: root.scores(), lambda m: {"ada": m["ada"], "len": len(m)}),
        "record": arrived(lambda: root.record(), lambda r: {"ada": r["ada"], "len": len(r)}),
        "when": arrived(lambda: root.when()),
        "letters": arrived(lambda: root.letters(), lambda s: {"has_a": "a" in s, "len": len(s)}),
        "color": arrived(lambda: root.color()),
        "either": arrived(lambda: root.either()),
        "apply": arrived(lambda: root.apply(lambda x: x + 1, 41)),
        "greet": arrived(lambda: root.greet({"name": "Ada", "age": 36, "tags": ["math"]})),
        "greet_tuple": arrived(lambda: root.greet(("Ada", 36, None, ("math",)))),
        "counter": arrived(lambda: root.counter(), lambda c: c.increment()),
        "child": arrived(lambda: root.child(), lambda c: c.hello()),
    }
    conn.close()
    result(out)
