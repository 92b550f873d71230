"""What the benches' Python peers share (bench/suite/python_server.py, python_client.py): JSON
lines on stdout, lines from the bench on stdin (its EOF means the bench is gone, so we go too), a
ThreadedServer that prints "PORT <n>", and wire counts of a connection. Import it with bench/ on
sys.path (the scripts do).
"""

import json
import os
import sys
import threading

from rpyc.utils.server import ThreadedServer


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def watch_stdin(on_line=None, exit_code=0, exit_at_eof=True):
    """Calls on_line(line) for each line on stdin (a daemon thread); at EOF, os._exit(exit_code)."""

    def read():
        rest = b""
        try:
            # os.read on the raw descriptor: a thread blocked in sys.stdin's buffered reader
            # would hold its lock and make interpreter shutdown abort.
            while True:
                chunk = os.read(0, 4096)
                if not chunk:
                    break
                rest += chunk
                while b"\n" in rest:
                    line, rest = rest.split(b"\n", 1)
                    if on_line is not None:
                        on_line(line.decode().strip())
        finally:
            if exit_at_eof:
                os._exit(exit_code)

    threading.Thread(target=read, daemon=True).start()


def serve(service, on_line=None, exit_at_eof=True, **kwargs):
    """ThreadedServer(service) on 127.0.0.1, a free port; prints "PORT <n>" once listening."""
    server = ThreadedServer(service, hostname="127.0.0.1", port=0, **kwargs)
    watch_stdin(on_line, 0, exit_at_eof)
    server._listen()  # start() would listen only after we print the port: clients would be refused
    print("PORT", server.port, flush=True)
    server.start()


class _Wrap:
    """Delegates to `inner`, except for the methods given (RPyC's Channel has __slots__)."""

    def __init__(self, inner, **methods):
        self.__dict__.update(methods, _inner=inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class WireCounter:
    """Counts the bytes (frames included) and frames a connection sends and receives."""

    def __init__(self, conn):
        self.counts = dict(bytes_out=0, bytes_in=0, frames_out=0, frames_in=0)
        channel = conn._channel
        stream = channel.stream

        def count(key, n, value=None):
            self.counts[key] += n
            return value

        def read(n):
            data = stream.read(n)
            return count("bytes_in", len(data), data)

        channel.stream = _Wrap(stream, write=lambda data: count("bytes_out", len(data), stream.write(data)), read=read)
        conn._channel = _Wrap(channel, send=lambda data: count("frames_out", 1, channel.send(data)), recv=lambda: count("frames_in", 1, channel.recv()))

    def snapshot(self):
        return dict(self.counts)
