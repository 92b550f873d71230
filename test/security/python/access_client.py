"""A Python RPyC 5.3 client probing what an rpyc-ts server refuses: JavaScript internals,
RPyC's private names, forged, stale and other-connection ids, wrong argument shapes.
Usage: access_client.py PORT. Prints "RESULT {json}": probe name -> outcome."""

import gc
import json
import os
import sys
import threading
import time

import rpyc
from rpyc.core import consts
from rpyc.core.netref import BaseNetref

HOST = "127.0.0.1"

JS_INTERNALS = [
    "__proto__", "constructor", "prototype", "__defineGetter__", "__defineSetter__",
    "__lookupGetter__", "__lookupSetter__", "hasOwnProperty", "isPrototypeOf",
    "propertyIsEnumerable", "toLocaleString", "toString", "valueOf", "call", "apply", "bind",
    "caller", "arguments",
]
RPYC_PRIVATE = ["_rpyc_getattr", "_rpyc_setattr", "_rpyc_delattr", "____conn__", "____id_pack__", "____refcount__", "on_connect", "on_disconnect"]


def watchdog(limit=30.0):
    parent = os.getppid()
    deadline = time.monotonic() + limit

    def run():
        while True:
            time.sleep(0.2)
            if os.getppid() != parent or time.monotonic() > deadline:
                os._exit(3)

    threading.Thread(target=run, daemon=True).start()


def outcome(fn):
    try:
        value = fn()
        return {"ok": repr(value)[:60]}
    except Exception as exc:  # the remote error type as Python sees it
        return {"error": type(exc).__name__}


def forged(conn, id_pack):
    """A netref for an id_pack the server never sent us (boxing sends it as LOCAL_REF)."""
    return BaseNetref(conn, id_pack)


def main():
    watchdog()
    port = int(sys.argv[1])
    conn = rpyc.connect(HOST, port, config={"sync_request_timeout": 10})
    req = conn.sync_request
    root = conn.root
    targets = {"root": root, "function": root.get_function(), "object": root.get_object()}
    report = {}
    for target_name, target in targets.items():
        for name in JS_INTERNALS + RPYC_PRIVATE:
            report[f"{target_name}.getattr.{name}"] = outcome(lambda: req(consts.HANDLE_GETATTR, target, name))
            report[f"{target_name}.callattr.{name}"] = outcome(lambda: req(consts.HANDLE_CALLATTR, target, name, (), ()))
            report[f"{target_name}.setattr.{name}"] = outcome(lambda: req(consts.HANDLE_SETATTR, target, name, 1))
            report[f"{target_name}.delattr.{name}"] = outcome(lambda: req(consts.HANDLE_DELATTR, target, name))

    # Forged id: never sent by the server.
    fake = forged(conn, ("rpyc_ts.MyService", 1, 999999))
    report["forged.getattr"] = outcome(lambda: req(consts.HANDLE_GETATTR, fake, "get_answer"))
    report["forged.call"] = outcome(lambda: req(consts.HANDLE_CALL, fake, (), ()))
    report["forged.del"] = outcome(lambda: req(consts.HANDLE_DEL, fake, 1))
    report["forged.inspect"] = outcome(lambda: req(consts.HANDLE_INSPECT, ("rpyc_ts.X", 1, 999999)))

    # Stale id: an object the server sent, then released by our DEL.
    obj = root.get_object()
    pack = obj.____id_pack__
    del obj
    gc.collect()
    time.sleep(0.3)  # the async DEL reaches the server
    stale = forged(conn, pack)
    report["stale.getattr"] = outcome(lambda: req(consts.HANDLE_GETATTR, stale, "value"))

    # Another connection's id: valid on conn, unknown on conn2.
    conn2 = rpyc.connect(HOST, port, config={"sync_request_timeout": 10})
    keep = root.get_object()
    other = forged(conn2, keep.____id_pack__)
    report["other_connection.getattr"] = outcome(lambda: conn2.sync_request(consts.HANDLE_GETATTR, other, "value"))

    # Wrong argument shapes for handlers.
    report["shape.getattr_one_arg"] = outcome(lambda: req(consts.HANDLE_GETATTR, root))
    report["shape.getattr_int_name"] = outcome(lambda: req(consts.HANDLE_GETATTR, root, 5))
    report["shape.call_args_not_tuple"] = outcome(lambda: req(consts.HANDLE_CALL, root.get_function(), 5, ()))
    report["shape.call_bad_kwargs"] = outcome(lambda: req(consts.HANDLE_CALL, root.get_function(), (), 7))
    report["shape.del_bad_count"] = outcome(lambda: req(consts.HANDLE_DEL, keep, "x"))
    report["shape.unknown_handler"] = outcome(lambda: req(99))

    # Still serving this connection afterwards.
    report["after.get_answer"] = outcome(lambda: root.get_answer())
    print("RESULT " + json.dumps(report), flush=True)
    conn2.close()
    conn.close()


if __name__ == "__main__":
    main()
