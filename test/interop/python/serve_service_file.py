"""Serves one service class of a Python source file on 127.0.0.1, port 0, and prints "PORT n".

    serve_service_file.py PATH CLASS [--public-attrs]

The module is imported by path (its directory goes on sys.path, so `import base` next to it
works), exactly as the file rpyc-gen compiled. --public-attrs sets allow_public_attrs, so
attributes of returned objects (dataclass fields) are readable. Exits when the parent dies
(interop_common's watchdog) or on SIGTERM.
"""

import importlib.util
import os
import sys

from rpyc.utils.server import ThreadedServer

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import HOST, serve, watchdog  # noqa: E402


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
    watchdog()
    serve(ThreadedServer(service, hostname=HOST, port=0, protocol_config=config))


if __name__ == "__main__":
    main()
