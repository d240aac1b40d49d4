"""Each test gets its own config file and models folder; a small GGUF stands in for a model."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPACA_CONFIG", str(tmp_path / "config" / "config.json"))
    monkeypatch.setenv("ALPACA_MODELS_DIR", str(tmp_path / "models"))
    for name in ("ALPACA_MODEL", "ALPACA_ENDPOINT", "ALPACA_ENDPOINT_MODEL", "ALPACA_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def gguf_bytes() -> bytes:
    """A GGUF header (magic, version 3, no tensors, no metadata) and 3 MB of payload: three
    download chunks, so a broken-off download leaves a partial file to resume."""
    return b"GGUF" + (3).to_bytes(4, "little") + bytes(16) + os.urandom(3_000_000)
