"""Grounded answers with numbered citations: llama.cpp, an OpenAI-compatible endpoint, or no model."""

from alpaca_index.answer.answerer import (
    AnswerResult,
    AnswerSettings,
    answer,
    destination,
    make_backend,
    where_answers_go,
)
from alpaca_index.answer.backends import BackendError

__all__ = ["AnswerResult", "AnswerSettings", "BackendError", "answer", "destination", "make_backend", "where_answers_go"]
