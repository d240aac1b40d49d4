"""Each test gets its own config file and models folder; a small GGUF stands in for a model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def alpaca(*args, env=None, check=True) -> subprocess.CompletedProcess:
    """The `alpaca` CLI as a user runs it (a subprocess), with extra environment."""
    cmd = [sys.executable, "-c", "from alpaca_index.cli import main; main()", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


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
