"""Python RPyC's registry (what `rpyc_registry` runs) on 127.0.0.1, port 0: two of them,
one with listing allowed and one without.
Usage: registry_server.py MODE PRUNING_TIMEOUT
Prints "NOLIST <port>" (the registry without listing), then "PORT <port>" (with listing)."""

import sys
import threading

from registry_common import registry_server, watchdog

if __name__ == "__main__":
    watchdog()
    mode, pruning = sys.argv[1], float(sys.argv[2])
    unlisted = registry_server(mode, pruning, allow_listing=False)
    listed = registry_server(mode, pruning, allow_listing=True)
    threading.Thread(target=unlisted.start, daemon=True).start()
    print(f"NOLIST {unlisted.port}", flush=True)
    print(f"PORT {listed.port}", flush=True)
    listed.start()
