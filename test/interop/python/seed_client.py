"""The seed tutorial's client, run against an rpyc-ts server.
Usage: seed_client.py PORT. Prints "RESULT {json}" with what it observed."""

import sys

import rpyc

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import HOST, result, watchdog  # noqa: E402

if __name__ == "__main__":
    watchdog(30)
    conn = rpyc.connect(HOST, int(sys.argv[1]))
    out = {
        "get_answer": conn.root.get_answer(),
        "the_real_answer_though": conn.root.the_real_answer_though,
        "get_service_name": conn.root.get_service_name(),
        "get_service_aliases": list(conn.root.get_service_aliases()),
    }
    try:
        conn.root.get_question()
        out["get_question"] = "no error"
    except AttributeError as exc:
        out["get_question"] = {"type": "AttributeError", "args": list(exc.args)}
    except Exception as exc:  # noqa: BLE001 - report whatever arrived
        out["get_question"] = {"type": type(exc).__name__, "args": [repr(a) for a in exc.args]}
    conn.close()
    result(out)
