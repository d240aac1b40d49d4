"""The base of the server's features (esbonio's pattern): a feature is a class that owns its state
(flags, caches, tasks) and hooks its LSP methods and commands onto the server in `register`.

`alpaca_server.factory.create_language_server` builds the server and loads the features; a
feature reaches the shared parts (engine, settings, messaging, `run_task`, `run_query`) through
`self.server`. It imports the server class for type checking only, so the server never sits in an
import cycle with its features.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alpaca_server.server import AlpacaServer


class Feature:
    def __init__(self, server: AlpacaServer) -> None:
        self.server = server

    def register(self) -> None:
        """Hook this feature's handlers onto the server (the one place that lists them)."""
        raise NotImplementedError

    def close(self) -> None:
        """The server is shutting down: stop what this feature started."""

    def on(self, method: str, handler: Callable[..., Any]) -> None:
        """Handle an LSP request or notification (`textDocument/hover`, `alpaca/activeDocument`…)."""
        self.server.feature(method)(_plain(handler))

    def command(self, name: str, handler: Callable[..., Any]) -> None:
        """Handle `workspace/executeCommand` for `name`; the handler gets the arguments as `*args`."""
        self.server.command(name)(_plain(handler))


def _plain(method: Callable[..., Any]) -> Callable[..., Any]:
    """pygls tags every handler with attributes, which a bound method cannot carry: wrap it in a
    function. Its `*args` signature also tells pygls not to pass the server as first argument."""
    async def call_async(*args: Any) -> Any:
        return await method(*args)

    def call(*args: Any) -> Any:
        return method(*args)

    handler = call_async if inspect.iscoroutinefunction(method) else call
    handler.__name__ = handler.__qualname__ = getattr(method, "__qualname__", "handler")
    return handler
