"""Listening sockets made before the server that serves on them.

The gateway binds its own socket (uvicorn then serves on it), and `serve
--workers N` binds the ports once in the supervising process, for every
worker (annotation_api/workers.py).
"""

from __future__ import annotations

import socket


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (0 picks a free port), for uvicorn to serve on."""
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets
    # whose protocol says TCP, and the accepted connections inherit it from here.
    # Without it a keep-alive response written in two parts (headers, body)
    # waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def reserved_port(host: str, port: int) -> socket.socket:
    """A bound, never listening, SO_REUSEPORT socket on host:port.

    Port 0 is picked once, here; servers that bind the port with SO_REUSEPORT
    (grpcio does by default on Linux) then share it, and the kernel spreads
    new connections over those that listen. A socket that only binds receives
    none, and keeps the port for a server that binds it again later.
    """
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock
