"""Grounded answers with numbered citations: llama.cpp, an OpenAI-compatible endpoint, or no model.

The names below load on first use: `alpaca status`, `alpaca --help` and the editor's settings need
`AnswerSettings` or `where_answers_go` (answer/settings.py), not the answer path (grounding,
backends, prompt packing), which `alpaca` would otherwise import with every command.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alpaca_index.answer.answerer import AnswerResult, answer, make_backend
    from alpaca_index.answer.backends import BackendError
    from alpaca_index.answer.settings import AnswerSettings, destination, where_answers_go

_HOMES = {"AnswerResult": "answerer", "answer": "answerer", "make_backend": "answerer", "BackendError": "backends",
          "AnswerSettings": "settings", "destination": "settings", "where_answers_go": "settings"}

__all__ = ["AnswerResult", "AnswerSettings", "BackendError", "answer", "destination", "make_backend", "where_answers_go"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(f"{__name__}.{home}"), name)
    return value
