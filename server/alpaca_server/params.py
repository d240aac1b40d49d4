"""Command parameters and the errors a command answers with, shared by the features.

Bad params → JSON-RPC InvalidParams (-32602) with a clear message; an index that could not be
opened → RequestFailed (-32803) with the reason. Never a dead server.
"""

from __future__ import annotations

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from alpaca_server import queries
from alpaca_server.engine import NotReady
from alpaca_server.settings import as_plain

REQUEST_FAILED = -32803


def invalid(message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=message)


def arguments(args: tuple, primary: str | None = None) -> dict:
    """The single object argument of a command (or `{primary: value}` for a bare string)."""
    if not args:
        return {}
    first = as_plain(args[0])
    if isinstance(first, dict):
        return first
    if primary and isinstance(first, str):
        return {primary: first}
    raise invalid(f"expected one object argument, got {type(first).__name__}")


async def guarded(coro):
    """Map query failures onto JSON-RPC errors."""
    try:
        return await coro
    except queries.QueryError as exc:
        raise invalid(str(exc)) from None
    except NotReady as exc:
        raise JsonRpcException(message=f"index not available: {exc}", code=REQUEST_FAILED) from None
