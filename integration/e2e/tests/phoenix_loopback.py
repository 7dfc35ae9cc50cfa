"""Start the Phoenix server with its OTLP gRPC listener on loopback only.

Phoenix binds the HTTP server to PHOENIX_HOST but always binds gRPC to `[::]`
(phoenix/server/grpc_server.py: `server.add_insecure_port(f"[::]:{port}")`).
The suite must only listen on loopback, so this wrapper rewrites that address
to 127.0.0.1 and then runs `python -m phoenix.server.main serve` unchanged.

Usage: python phoenix_loopback.py serve
"""

import runpy
import sys

import grpc.aio._server as aio_server

_add_insecure_port = aio_server.Server.add_insecure_port


def _loopback_only(self, address):  # type: ignore[no-untyped-def]
    if address.startswith("[::]:"):
        address = "127.0.0.1:" + address[len("[::]:") :]
    return _add_insecure_port(self, address)


aio_server.Server.add_insecure_port = _loopback_only

if __name__ == "__main__":
    sys.argv = ["phoenix.server.main", *sys.argv[1:]]
    runpy.run_module("phoenix.server.main", run_name="__main__", alter_sys=True)
