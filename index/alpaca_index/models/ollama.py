"""A local Ollama as the answer model: detected, its models listed and pulled with the official `ollama`
client. Answers then go through Ollama's OpenAI-compatible API (`<host>/v1`) with the existing endpoint
backend, so the egress and residency rules for endpoints apply unchanged."""

from __future__ import annotations

import os
from collections.abc import Callable

from alpaca_index.models.hub import Cancelled, ModelError

DEFAULT_HOST = "http://127.0.0.1:11434"


def host() -> str:
    value = os.environ.get("OLLAMA_HOST") or DEFAULT_HOST
    return value if "://" in value else f"http://{value}"


def _client(url: str | None, timeout: float | None = 5.0):
    try:
        import ollama
    except ImportError:
        raise ModelError("the `ollama` package is not installed: pip install ollama") from None
    from alpaca_index.team.residency import is_loopback

    url = url or host()
    # a loopback Ollama is reached directly: an http_proxy setting must not carry requests away
    return ollama.Client(host=url, timeout=timeout, trust_env=not is_loopback(url)), url


def _fail(exc: Exception, url: str) -> ModelError:
    return ModelError(f"Ollama at {url}: {' '.join(str(exc).split())[:200] or type(exc).__name__}")


def detect(url: str | None = None) -> bool:
    """Whether an Ollama answers at `url` (its model list, the official client's cheapest call)."""
    client, url = _client(url, timeout=2.0)
    try:
        client.list()
    except Exception:  # noqa: BLE001 - not running, not Ollama, refused: all mean "no Ollama here"
        return False
    return True


def models(url: str | None = None) -> list[dict]:
    client, url = _client(url)
    try:
        listed = client.list().models
    except Exception as exc:  # noqa: BLE001
        raise _fail(exc, url) from None
    return [{"name": m.model, "size": int(m.size or 0),
             "parameters": getattr(m.details, "parameter_size", None) if m.details else None,
             "quantization": getattr(m.details, "quantization_level", None) if m.details else None}
            for m in listed]


def pull(name: str, url: str | None = None, on_progress: Callable[[str, int, int | None], None] | None = None,
         cancelled: Callable[[], bool] = lambda: False) -> str:
    """Pull `name` into Ollama, reporting (status, completed, total) per layer; returns the model name."""
    client, url = _client(url, timeout=None)  # a pull takes as long as it takes; the stream shows it is alive
    try:
        for part in client.pull(name, stream=True):
            if cancelled():
                raise Cancelled()
            if on_progress:
                on_progress(part.status or "", int(part.completed or 0), int(part.total) if part.total else None)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - ResponseError (unknown model, disk full), connection errors
        raise _fail(exc, url) from None
    return name


def endpoint(url: str | None = None) -> str:
    """The OpenAI-compatible URL answers use."""
    return (url or host()).rstrip("/") + "/v1"
