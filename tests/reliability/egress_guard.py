"""A socket guard: every connection or name lookup that would leave the machine fails loudly and
is recorded (to ALPACA_EGRESS_LOG when set), so a library that swallows the error still fails the
test. Loopback and unix sockets pass."""

from __future__ import annotations

import ipaddress
import os
import socket

ATTEMPTS: list[str] = []
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class EgressBlocked(ConnectionRefusedError):
    pass


def is_local(host) -> bool:
    if host is None or str(host).lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _log(line: str) -> None:
    path = os.environ.get("ALPACA_EGRESS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def _block(what: str):
    ATTEMPTS.append(what)
    _log(f"blocked {what}")
    raise EgressBlocked(f"egress blocked by the test guard: {what}")


def install() -> None:
    if getattr(socket, "_alpaca_guarded", False):
        return
    real_connect, real_connect_ex, real_getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def outbound(sock, address) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0])

    def connect(self, address):
        if outbound(self, address):
            _block(f"connect {address[0]}:{address[1]}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if outbound(self, address):
            _block(f"connect {address[0]}:{address[1]}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not is_local(host.decode() if isinstance(host, bytes) else host):
            _block(f"lookup {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
    socket._alpaca_guarded = True
    _log(f"installed pid={os.getpid()}")
