"""Pure pieces of the server, no process: settings, symbols, URIs, extractive answers' shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpaca_server import queries, settings


def test_settings_wrapped_flat_and_bad_values():
    s = settings.parse({"alpaca": {"docsPaths": ["docs"], "resultsCount": 7, "hover": False, "indexPath": ""}})
    assert s.docs_paths == ("docs",) and s.results_count == 7 and s.hover is False and s.index_path == ""
    flat = settings.parse({"docsPaths": "guide", "endpointUrl": "http://localhost:8080/v1"})
    assert flat.docs_paths == ("guide",) and flat.backend == "openai" and flat.egress.startswith("none")
    bad = settings.parse({"alpaca": {"resultsCount": "many", "hover": "yes", "docsPaths": [1]}}, s)
    assert bad.results_count == 7 and bad.hover is False and bad.docs_paths == ("docs",)
    assert len(bad.warnings) == 3
    remote = settings.parse({"alpaca": {"endpointUrl": "https://api.example.com/v1"}})
    assert "blocked" in remote.egress
    assert "sent to" in settings.parse({"alpaca": {"allowRemote": True}}, remote).egress
    assert settings.parse(None) == settings.Settings()


def test_docs_roots_and_index_defaults(tmp_path):
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    s = settings.Settings()
    assert settings.resolve_docs_roots(s, [ws, other]) == [ws / "docs", other]
    assert settings.resolve_docs_roots(settings.parse({"docsPaths": ["docs", str(other)]}), [ws]) == [ws / "docs", other]
    assert settings.resolve_index_path(s, [ws], []) == ws / ".alpaca"
    assert settings.resolve_index_path(settings.parse({"indexPath": "/x/idx"}), [ws], []) == Path("/x/idx")


@pytest.mark.parametrize("line, col, symbol", [
    ("    KmsKeyId=key_id,", 6, "KmsKeyId"), ("sm.create_endpoint(Name=x)", 5, "sm.create_endpoint"),
    ("use async inference", 6, "async"), ("x = 1", 4, ""),
])
def test_symbol_at(line, col, symbol):
    assert queries.symbol_at(line, col)[0] == symbol


def test_symbol_terms_and_noise():
    assert queries.symbol_terms("KmsKeyId") == ["KmsKeyId", "Kms", "Key", "Id"]
    assert queries.symbol_terms("create_endpoint") == ["create_endpoint", "create", "endpoint"]
    assert not queries.hoverable("def") and not queries.hoverable("x1"[:1]) and queries.hoverable("KmsKeyId")


def test_uri_to_path():
    assert queries.uri_to_path("file:///tmp/a%20b.md") == "/tmp/a b.md"
    assert queries.uri_to_path("/tmp/x.md") == "/tmp/x.md"
    with pytest.raises(queries.QueryError):
        queries.uri_to_path("untitled:Untitled-1")
    with pytest.raises(queries.QueryError):
        queries.uri_to_path("")
