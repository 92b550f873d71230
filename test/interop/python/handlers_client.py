"""Python client that sends every RPyC 5.3 request handler to an rpyc-ts server and reports
what came back. Usage: handlers_client.py PORT. Prints "RESULT {json}"."""

import gc
import pickle
import sys

import rpyc
from rpyc.core import consts
from rpyc.utils.helpers import buffiter

from interop_common import HOST, result, watchdog


def outcome(fn):
    try:
        return {"ok": fn()}
    except Exception as exc:  # the remote error, as Python sees it
        return {"error": type(exc).__name__, "message": str(exc).split("\n")[0]}


def main():
    watchdog(30)
    conn = rpyc.connect(HOST, int(sys.argv[1]), config={"sync_request_timeout": 10})
    root = conn.root
    req = conn.sync_request
    box = root.make_box(5)
    scratch = root.make_box(0)  # the one setattr/delattr change
    cls = root.box_class()
    report = {
        "ping": outcome(lambda: conn.ping() is None),                                    # HANDLE_PING
        "getroot": outcome(lambda: req(consts.HANDLE_GETROOT) is not None),              # HANDLE_GETROOT
        "getattr": outcome(lambda: box.value),                                            # HANDLE_GETATTR
        "setattr_service": outcome(lambda: setattr(root, "x", 1)),                       # HANDLE_SETATTR
        "setattr_box": outcome(lambda: (setattr(scratch, "value", 6), scratch.value)[1]),
        "delattr_box": outcome(lambda: (delattr(scratch, "value"), root.has_value(scratch))[1]),  # HANDLE_DELATTR
        "call": outcome(lambda: root.get_adder(2)(3)),                                   # HANDLE_CALL
        "callattr": outcome(lambda: req(consts.HANDLE_CALLATTR, root, "twice", (21,), ())),  # HANDLE_CALLATTR
        "repr": outcome(lambda: repr(box)),                                               # HANDLE_REPR
        "str": outcome(lambda: str(box)),                                                 # HANDLE_STR
        "cmp_eq_self": outcome(lambda: box == box),                                       # HANDLE_CMP
        "cmp_eq_other": outcome(lambda: box == root.make_box(5)),
        "cmp_lt": outcome(lambda: req(consts.HANDLE_CMP, box, root.make_box(9), "__lt__")),
        "hash": outcome(lambda: isinstance(hash(box), int) and hash(box) == hash(box)),  # HANDLE_HASH
        "dir": outcome(lambda: "exposed_value" in dir(box) or "value" in dir(box)),      # HANDLE_DIR
        "pickle": outcome(lambda: pickle.dumps(box)),                                     # HANDLE_PICKLE
        "inspect": outcome(lambda: sorted(n for n, _ in req(consts.HANDLE_INSPECT, box.____id_pack__))[:3]),  # HANDLE_INSPECT
        "buffiter": outcome(lambda: list(buffiter(root.numbers(25), chunk=4))),          # HANDLE_BUFFITER
        "oldslicing": outcome(lambda: req(consts.HANDLE_OLDSLICING, root.sliceable(), "__getitem__", "__getslice__", 1, 3, ())),  # HANDLE_OLDSLICING
        "ctxexit": outcome(lambda: _with(root)),                                          # HANDLE_CTXEXIT
        "instancecheck_true": outcome(lambda: req(consts.HANDLE_INSTANCECHECK, cls, box.____id_pack__)),  # HANDLE_INSTANCECHECK
        "instancecheck_false": outcome(lambda: req(consts.HANDLE_INSTANCECHECK, cls, root.get_adder(1).____id_pack__)),
    }
    before = root.table_size()
    extra = root.make_box(1)
    report["del_sent"] = outcome(lambda: root.table_size() == before + 1)
    del extra
    gc.collect()                                                                          # HANDLE_DEL
    report["del_done"] = outcome(lambda: root.table_size() == before)
    result(report)
    conn.close()                                                                          # HANDLE_CLOSE


def _with(root):
    resource = root.resource()
    with resource as entered:
        inside = entered.is_open()
    return [inside, resource.is_open()]


if __name__ == "__main__":
    main()
