"""Python client asking HANDLE_INSPECT and HANDLE_DIR of a server's root: what a Python netref
class is built from. Usage: inspect_client.py PORT. Prints "RESULT {json}": the exposed_ names
each answer lists, sorted."""

import sys

import rpyc
from rpyc.core import consts

from interop_common import HOST, result, watchdog


def main():
    watchdog(30)
    conn = rpyc.connect(HOST, int(sys.argv[1]), config={"sync_request_timeout": 10})
    root = conn.root
    inspected = conn.sync_request(consts.HANDLE_INSPECT, root.____id_pack__)
    listed = conn.sync_request(consts.HANDLE_DIR, root)
    result({
        "inspect": sorted(name for name, _doc in inspected if name.startswith("exposed_")),
        "dir": sorted(name for name in listed if name.startswith("exposed_")),
    })
    conn.close()


if __name__ == "__main__":
    main()
