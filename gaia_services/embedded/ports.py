"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import socket

__all__ = ["STANDARD_PORTS", "free_port", "free_ports", "port_is_free"]

# Ports the machine's own servers may hold (Postgres, Redis, NATS client and monitoring): never handed out.
STANDARD_PORTS = frozenset({4222, 5432, 6222, 6379, 8222})


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel reports free right now: bind ``host:0``, read the port, close.

    Another process may take it before the server binds it; the servers retry with a new port then.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        if port not in STANDARD_PORTS:
            return port


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different free ports: all bound at once before any is released, so no two are the same."""
    sockets: list[socket.socket] = []
    try:
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            if sock.getsockname()[1] in STANDARD_PORTS:
                sock.close()
                continue
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now (bound the way servers bind, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
