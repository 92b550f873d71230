"""Python RPyC's discovery functions against a registry on 127.0.0.1.
Usage: registry_client.py MODE PORT NAME [PORT_WITHOUT_LISTING]
Reports discover(NAME), connect_by_service(NAME) -> root.add(20, 22) and
get_service_name(), list_services() (or its error), discover of an unknown name, and
list_services() on the second registry (expected: ForbiddenError)."""

import sys

import rpyc
from rpyc.utils.factory import DiscoveryError, ForbiddenError

from registry_common import registry_client, result, watchdog


def listing(registrar):
    try:
        return {"names": sorted(rpyc.list_services(registrar=registrar))}
    except ForbiddenError as e:
        return {"error": type(e).__name__, "message": str(e)}


if __name__ == "__main__":
    watchdog(30)
    mode, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    registrar = registry_client(mode, port)
    out = {"discover": [list(a) for a in rpyc.discover(name, registrar=registrar)]}
    conn = rpyc.connect_by_service(name, registrar=registrar)
    out["add"] = conn.root.add(20, 22)
    out["service_name"] = conn.root.get_service_name()
    conn.close()
    out["list"] = listing(registrar)
    try:
        rpyc.discover("nosuch", registrar=registrar)
    except DiscoveryError as e:
        out["missing"] = str(e)
    if len(sys.argv) > 4:
        out["list_without_listing"] = listing(registry_client(mode, int(sys.argv[4])))
    result(out)
