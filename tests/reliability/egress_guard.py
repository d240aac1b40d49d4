"""A socket guard: every connection, datagram or name lookup that would leave the machine fails
loudly and is recorded (also to ALPACA_EGRESS_LOG when set), so a library that swallows the error
still fails the test. Loopback and unix sockets pass. `install()` for a whole process
(guard_site/sitecustomize.py), `guarded()` for a block of a test."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket

ATTEMPTS: list[str] = []
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_REAL: dict = {}


class EgressBlocked(ConnectionRefusedError):
    pass


def is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
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


def _outbound(sock, address) -> bool:
    return sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and not is_local(address[0])


def _patches() -> dict:
    real = _REAL

    def connect(self, address):
        if _outbound(self, address):
            _block(f"connect {address[0]}:{address[1]}")
        return real["connect"](self, address)

    def connect_ex(self, address):
        if _outbound(self, address):
            _block(f"connect {address[0]}:{address[1]}")
        return real["connect_ex"](self, address)

    def sendto(self, data, *args):
        address = args[-1]
        if _outbound(self, address):
            _block(f"sendto {address[0]}:{address[1]}")
        return real["sendto"](self, data, *args)

    def lookup(name):
        def checked(host, *args, **kwargs):
            if not is_local(host):
                _block(f"lookup {host.decode() if isinstance(host, bytes) else host}")
            return real[name](host, *args, **kwargs)
        return checked

    def create_connection(address, *args, **kwargs):  # resolves first: recorded as the lookup it starts with
        if not is_local(address[0]):
            _block(f"lookup {address[0]}")
        return real["create_connection"](address, *args, **kwargs)

    return {"connect": connect, "connect_ex": connect_ex, "sendto": sendto, "getaddrinfo": lookup("getaddrinfo"),
            "gethostbyname": lookup("gethostbyname"), "gethostbyname_ex": lookup("gethostbyname_ex"),
            "create_connection": create_connection}


_METHODS = ("connect", "connect_ex", "sendto")


def install() -> None:
    if _REAL:
        return
    for name in _METHODS:
        _REAL[name] = getattr(socket.socket, name)
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        _REAL[name] = getattr(socket, name)
    for name, patch in _patches().items():
        setattr(socket.socket if name in _METHODS else socket, name, patch)
    _log(f"installed pid={os.getpid()}")


def uninstall() -> None:
    for name, original in _REAL.items():
        setattr(socket.socket if name in _METHODS else socket, name, original)
    _REAL.clear()


@contextlib.contextmanager
def guarded():
    """Guard a block of this process; yields the attempts recorded inside it."""
    was_installed = bool(_REAL)
    install()
    start = len(ATTEMPTS)
    seen: list[str] = []
    try:
        yield seen
    finally:
        seen.extend(ATTEMPTS[start:])
        if not was_installed:
            uninstall()
