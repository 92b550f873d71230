"""A Python RPyC client exercising an rpyc-ts server (the service in
test/interop/python-client.test.ts). Usage: interop_client.py PORT SCENARIO.
Connects to 127.0.0.1 with its own service, runs one scenario, prints "RESULT {json}"."""

import gc
import sys
import threading
import time
import weakref

import rpyc

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import (  # noqa: E402 - after dont_write_bytecode
    HOST,
    InteropError,
    all_types_value,
    exception_report,
    result,
    type_problems,
    watchdog,
)


class ClientService(rpyc.Service):
    """What this client exposes to the server."""

    ALIASES = ["py-client", "pyc"]

    def exposed_client_method(self, x):
        return ("client got", x * 2)

    def exposed_apply(self, fn, x):
        # The server passed its own function: call it back (a nested request).
        return fn(x)

    def hidden_method(self):
        return "not reachable"


class Tracked:
    pass


def attempt(fn):
    """{"ok": value} or the exception as it arrived."""
    try:
        return {"ok": fn()}
    except Exception as exc:  # noqa: BLE001 - the tests assert on whatever arrived
        return {"error": exception_report(exc)}


def jsonable(value):
    if isinstance(value, tuple) or isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    return value


def scenario_public_attrs(conn):
    thing = conn.root.get_thing("x")
    return {
        "exposed": attempt(lambda: thing.hello()),
        "public_method": attempt(lambda: thing.public_method(5)),
        "public_value": attempt(lambda: thing.public_value),
        "private_value": attempt(lambda: thing._private_value),
    }


def scenario_callbacks(conn):
    root = conn.root
    calls = []

    def double_plus_two(x):
        calls.append(x)
        return x * 2 + 2

    def pong(n):
        # client -> server -> client ...: every level is a nested request on one connection.
        if n <= 0:
            return ("py0",)
        return (f"py{n}",) + tuple(root.pingpong(n - 1, pong))

    return {
        "call": root.call(double_plus_two, 20),
        "calls_seen": calls,
        "pingpong": list(root.pingpong(5, pong)),
        "server_function_via_client": jsonable(root.give_function_to_client(5)),
    }


def scenario_client_root(conn):
    # The server calls back after our call returned: a background thread serves it.
    bg = rpyc.BgServingThread(conn)
    got = []
    event = threading.Event()

    def notified(value):
        got.append(value)
        event.set()

    conn.root.notify_later(notified, "ping")
    event.wait(10)
    bg.stop()
    return {
        "notified": got,
        "name_seen_by_on_connect": conn.root.client_service_name(),
        "ask_client": jsonable(conn.root.ask_client(21)),
        "hidden": attempt(lambda: conn.root.client_hidden()),
    }


def scenario_types(conn):
    root = conn.root
    d = {"not": "brine"}
    echoed = root.echo(all_types_value())
    ts_built = root.all_types()
    typed = root.typed_values()
    return {
        "echo_problems": type_problems(echoed, all_types_value()),
        "ts_built_problems": type_problems(ts_built, all_types_value()),
        "typed": [[type(v).__name__, repr(v)] for v in typed],
        "netref_comes_back_as_itself": root.echo(d) is d,
        "integral_float_echo": [type(root.echo(3.0)).__name__, repr(root.echo(3.0))],
    }


def scenario_big(conn):
    data = bytes(range(256)) * 800
    text = "\u00fc\u20ac" * 50000
    back_data, back_text = conn.root.echo((data, text))
    made_data, made_text = conn.root.make_big(800)
    return {
        "sent_sizes": [len(data), len(text)],
        "echo_intact": back_data == data and type(back_data) is bytes and back_text == text,
        "made_sizes": [len(made_data), len(made_text)],
        "made_intact": made_data == data and made_text == "\u00fc\u20ac" * (800 * 64),
    }


def scenario_exceptions(conn):
    root = conn.root

    def raise_value():
        raise ValueError("bad value", 7)

    def raise_key():
        raise KeyError("missing")

    def raise_custom():
        raise InteropError("custom failure", 17)

    return {
        "not_exposed": attempt(lambda: root.get_question()),
        "ts_value_error": attempt(lambda: root.fail_value()),
        "ts_plain_error": attempt(lambda: root.fail_plain()),
        "ts_type_error": attempt(lambda: root.fail_type()),
        "ts_custom_error": attempt(lambda: root.fail_custom()),
        "ts_value_error_is_value_error": isinstance(attempt_exc(root.fail_value), ValueError),
        "py_value_error_in_ts": jsonable(root.call_and_report(raise_value)),
        "py_key_error_in_ts": jsonable(root.call_and_report(raise_key)),
        "py_custom_error_in_ts": jsonable(root.call_and_report(raise_custom)),
        "after": root.get_answer(),
    }


def attempt_exc(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    return None


def scenario_timeout(conn):
    root = conn.root
    out = {}
    try:
        # The reply is due 2.5 s after the call, 1.5 s after our 1 s timeout: a reply read
        # before the timeout is noticed (a stalled process on a loaded machine) would be
        # accepted, so the margin is wide.
        root.slow(2.5)
        out["slow"] = "no timeout"
    except rpyc.AsyncResultTimeout as exc:
        # rpyc.AsyncResultTimeout is the builtin TimeoutError in RPyC 5.3.
        out["slow"] = {"caught": "rpyc.AsyncResultTimeout", "type": type(exc).__name__, "args": [str(a) for a in exc.args]}
    out["after_timeout"] = root.get_answer()
    # Once the late reply has come (and been dropped), the connection still works. The
    # server sends that reply before slow_settled() turns true; the watchdog bounds the wait.
    while not root.slow_settled():
        time.sleep(0.05)
    out["after_late_reply"] = root.get_answer()
    return out


def scenario_disconnect(conn):
    connid = conn.root.connection_id()
    conn.close()
    return {"connid": connid, "closed": conn.closed}


def scenario_protocol(conn):
    root = conn.root
    m = root.get_map()
    s = root.get_set()
    t = root.get_thing("t")
    same = root.get_thing("t")  # the server returns the same object again
    return {
        "map_len": len(m),
        "map_getitem": m["a"],
        "map_missing": attempt(lambda: m["zzz"]),
        "map_contains": ["a" in m, "zzz" in m],
        "map_iter": jsonable(list(m)),
        "set_len": len(s),
        "set_iter": sorted(s),
        "generator": list(root.get_generator(4)),
        "async_generator": list(root.get_async_generator(3)),
        "custom_iterable": list(root.get_countdown(3)),
        "array_by_value": [type(root.get_array()).__name__, list(root.get_array())],
        "repr": repr(t),
        "str": str(t),
        "dir_has": [name in dir(t) for name in ("exposed_hello", "label", "_secret")],
        "hash_stable": hash(t) == hash(t) and isinstance(hash(t), int),
        "hash_differs": hash(t) != hash(root.get_thing("u")),
        "eq_self": t == t,
        "eq_same_object": t == same,
        "eq_other": t == root.get_thing("other"),
        "ne_self": t != t,
        "kwargs_only": root.add(a=1, b=2),
        "kwargs_mixed": root.add(1, b=2),
        "kwargs_reordered": root.pair(b="B", a="A"),
        "kwargs_unknown": attempt(lambda: root.add(1, zzz=3)),
    }


def scenario_lifetime(conn):
    root = conn.root
    before = root.local_object_count()
    thing = root.get_thing("held by python")
    # The same object again: one table entry on the server, one proxy here (refcount 2).
    again = root.get_thing("held by python")
    during = root.local_object_count()
    same_proxy = again is thing
    del thing, again
    gc.collect()
    after = root.local_object_count()

    tracked = Tracked()
    ref = weakref.ref(tracked)
    table_before = len(conn._local_objects._dict)
    root.hold(tracked)
    del tracked
    gc.collect()
    table_held = len(conn._local_objects._dict)
    alive_held = ref() is not None
    root.release_held()
    gc.collect()
    table_after = len(conn._local_objects._dict)
    alive_after = ref() is not None
    return {
        "ts_table": [before, during, after],
        "same_proxy": same_proxy,
        "py_table": [table_before, table_held, table_after],
        "py_alive": [alive_held, alive_after],
    }


if __name__ == "__main__":
    watchdog(30)
    port, scenario = int(sys.argv[1]), sys.argv[2]
    config = {"sync_request_timeout": 1} if scenario == "timeout" else {}
    conn = rpyc.connect(HOST, port, service=ClientService, config=config)
    out = globals()[f"scenario_{scenario}"](conn)
    if not conn.closed:
        conn.close()
    result(out)
