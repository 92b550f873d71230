"""A Python RPyC 5.3 client connecting with rpyc.ssl_connect to a TLS server.
Usage: ssl_client.py PORT CA_FILE [CERT_FILE KEY_FILE]
Calls root.echo and root.whoami (the client certificate's CN as the server saw it) and
prints "RESULT {json}"; a failure prints {"error": type name, "message": ...} instead."""

import json
import os
import sys
import threading
import time

import rpyc

HOST = "127.0.0.1"


def watchdog(limit=20.0):
    parent = os.getppid()
    deadline = time.monotonic() + limit

    def run():
        while True:
            time.sleep(0.2)
            if os.getppid() != parent or time.monotonic() > deadline:
                os._exit(3)

    threading.Thread(target=run, daemon=True).start()


def main():
    watchdog()
    port = int(sys.argv[1])
    ca = sys.argv[2]
    cert = sys.argv[3] if len(sys.argv) > 3 else None
    key = sys.argv[4] if len(sys.argv) > 4 else None
    result = {}
    try:
        conn = rpyc.ssl_connect(HOST, port, keyfile=key, certfile=cert, ca_certs=ca, config={"sync_request_timeout": 5})
        try:
            result["tls_version"] = conn._channel.stream.sock.version()
            result["echo"] = conn.root.echo("hello over TLS")
            result["whoami"] = conn.root.whoami()
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - the test asserts on the type
        result["error"] = type(exc).__name__
        result["message"] = str(exc)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
