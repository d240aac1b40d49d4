"""Answer settings and where answers would go: what `alpaca status` and the editor's status show,
without loading the answer path (grounding, backends, prompt packing)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from alpaca_index.team.residency import is_loopback, is_remote_uri

# Calibrated on the full corpus (bench/calibrate_refusal.py): every dev question's best cosine
# similarity is ≥ 0.49; everyday off-topic questions stay ≤ 0.35. Tech-adjacent ones (Kubernetes,
# BigQuery: 0.46-0.51) pass on to the model, whose rules make it say the docs don't cover them.
MIN_SIMILARITY = 0.42


@dataclass
class AnswerSettings:
    model_path: str | None = None
    endpoint: str | None = None
    endpoint_model: str = "mistral"
    endpoint_timeout: float = 120.0  # seconds without a byte from the endpoint before giving up
    endpoint_ctx: int = 2048  # the endpoint's context size (Ollama's default); prompts are packed to fit
    allow_remote: bool = False
    api_key: str | None = field(default=None, repr=False)  # the endpoint's key (ALPACA_API_KEY): never printed
    n_ctx: int = 4096
    max_answer_tokens: int = 512
    k: int = 4  # passages given to the model: bench/answers.py k=4 vs 8 (RESULTS "Packing")
    min_similarity: float = MIN_SIMILARITY
    threads: int | None = None  # llama.cpp threads (ALPACA_THREADS); default: all cores for the prompt, one fewer to generate

    @classmethod
    def from_env(cls, **overrides: Any) -> AnswerSettings:
        env: dict[str, Any] = {"model_path": os.environ.get("ALPACA_MODEL") or None,
               "endpoint": os.environ.get("ALPACA_ENDPOINT") or None,
               "endpoint_model": os.environ.get("ALPACA_ENDPOINT_MODEL") or "mistral",
               "allow_remote": os.environ.get("ALPACA_ALLOW_REMOTE", "").lower() in ("1", "true", "yes")}
        if os.environ.get("ALPACA_THREADS", "").isdigit():
            env["threads"] = int(os.environ["ALPACA_THREADS"]) or None
        if os.environ.get("ALPACA_ENDPOINT_CTX", "").isdigit():
            env["endpoint_ctx"] = int(os.environ["ALPACA_ENDPOINT_CTX"])
        env["api_key"] = os.environ.get("ALPACA_API_KEY") or None
        env.update({k: v for k, v in overrides.items() if v is not None})
        if not env["model_path"] and not env["endpoint"]:  # nothing explicit: the model chosen with `alpaca model`
            from alpaca_index.models.config import answer_model

            env.update({k: v for k, v in answer_model().items() if overrides.get(k) is None})
        return cls(**env)


def destination(settings: AnswerSettings) -> tuple[str, str]:
    """(backend, where questions and passages go) by make_backend's rule, without connecting:
    what `status` shows, so the user sees where data goes before asking."""
    url = settings.endpoint
    if url:
        if urlparse(url).scheme not in ("http", "https"):
            return "none", f"none (endpoint {url} is not an http(s) URL)"
        if is_loopback(url):
            return "endpoint", f"none (model server on this machine: {url})"
        if not settings.allow_remote:
            return "none", f"none (remote endpoint {url} blocked: allow_remote is off)"
        return "endpoint", f"questions and passages are sent to {url}"
    if settings.model_path:
        return "llama.cpp", "none (local model)"
    return "none", "none (no model: passages only)"


def where_answers_go(status: dict) -> dict:
    """`backend` and `egress` beside an index status (CLI `status`, MCP `index_status`): what answers
    would use by default, and what would leave the machine."""
    backend, answers = destination(AnswerSettings.from_env())
    db = str(status.get("db", ""))
    if is_remote_uri(db):
        answers = f"index read from {db} ({'local cache' if 'cache' in status else 'direct'}); answers: {answers}"
    return {"backend": backend, "egress": answers}
