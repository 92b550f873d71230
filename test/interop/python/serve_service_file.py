"""Serves one service class of a Python source file on 127.0.0.1, port 0, and prints "PORT n".

    serve_service_file.py PATH CLASS [--public-attrs] [--record]

The module is imported by path (its directory goes on sys.path, so `import base` next to it
works), exactly as the file rpyc-gen compiled. --public-attrs sets allow_public_attrs, so
attributes of returned objects (dataclass fields) are readable. --record prints every request
the server dispatches, before it runs, as one line "SEEN {json}" (handler name, and for
attribute requests the name asked): what a gateway let through. Exits when the parent dies
(interop_common's watchdog) or on SIGTERM.
"""

import importlib.util
import json
import os
import sys

from rpyc.core import consts
from rpyc.core.protocol import Connection
from rpyc.utils.server import ThreadedServer

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import HOST, serve, watchdog  # noqa: E402


HANDLER_NAMES = {value: name[len("HANDLE_"):].lower() for name, value in vars(consts).items() if name.startswith("HANDLE_")}


def record_requests():
    """Prints each request before Connection._dispatch_request runs it."""
    dispatch = Connection._dispatch_request

    def recorded(self, seq, raw_args):
        try:
            handler, args = raw_args
            seen = {"handler": HANDLER_NAMES.get(handler, handler)}
            # The arguments arrive boxed: (LABEL_VALUE, plain tuple) or (LABEL_TUPLE, boxed items).
            label, items = args
            if label == consts.LABEL_TUPLE:
                items = tuple(value if item_label == consts.LABEL_VALUE else None for item_label, value in items)
            if handler in (consts.HANDLE_GETATTR, consts.HANDLE_CALLATTR, consts.HANDLE_SETATTR, consts.HANDLE_DELATTR) and len(items) > 1:
                seen["name"] = items[1] if isinstance(items[1], str) else repr(items[1])
            print("SEEN " + json.dumps(seen), flush=True)
        except Exception as err:  # a malformed request is recorded as such
            print("SEEN " + json.dumps({"malformed": repr(err)}), flush=True)
        return dispatch(self, seq, raw_args)

    Connection._dispatch_request = recorded


def main():
    path, class_name = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    service = getattr(module, class_name)
    config = {"allow_public_attrs": "--public-attrs" in sys.argv[3:]}
    if "--record" in sys.argv[3:]:
        record_requests()
    watchdog()
    serve(ThreadedServer(service, hostname=HOST, port=0, protocol_config=config))


if __name__ == "__main__":
    main()
