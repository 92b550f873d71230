"""Shared by the registry fixtures: reuse the interop fixtures' watchdog and RESULT line,
and pick RPyC's registry classes by mode ("UDP" or "TCP"). Everything binds 127.0.0.1."""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interop", "python"))

from rpyc.utils.registry import TCPRegistryClient, TCPRegistryServer, UDPRegistryClient, UDPRegistryServer  # noqa: E402

from interop_common import HOST, result, serve, watchdog  # noqa: E402,F401


def registry_client(mode, port, timeout=5):
    # 5 s: every request of the fixtures expects a reply (a loopback reply takes a few ms);
    # the margin is for a loaded machine, where 1 s could run out.
    cls = UDPRegistryClient if mode == "UDP" else TCPRegistryClient
    return cls(ip=HOST, port=port, timeout=timeout)


def registry_server(mode, pruning_timeout, allow_listing):
    cls = UDPRegistryServer if mode == "UDP" else TCPRegistryServer
    return cls(host=HOST, port=0, pruning_timeout=pruning_timeout, allow_listing=allow_listing)
