"""The benchmark code must not rot: run its --quick mode end to end and check the report it writes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import DEV_QUESTIONS, REPO, SHARED_CORPUS

pytest.importorskip("langchain_text_splitters", reason="bench extra not installed")


@pytest.mark.skipif(not (SHARED_CORPUS.exists() and DEV_QUESTIONS.exists()), reason="shared corpus not available")
def test_quick_bench_writes_results_and_charts(tmp_path):
    cmd = [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--only", "indexing", "quality", "ablations",
           "search", "--results", str(tmp_path / "results"), "--report", str(tmp_path / "RESULTS.md"),
           "--work", str(tmp_path / "work")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    indexing = json.loads((tmp_path / "results" / "indexing-quick.json").read_text())
    assert indexing["alpaca"]["chunks"] > 0 and indexing["original"]["chunks"] > 0
    assert 0 <= indexing["quality"]["hybrid"]["recall@5"] <= 1
    assert indexing["alpaca"]["resync_no_change_s"] < indexing["alpaca"]["cold_index_s"]
    ablations = json.loads((tmp_path / "results" / "ablations-quick.json").read_text())
    assert set(ablations["chunking"]) >= {"no heading context", "128-token chunks"}
    push = json.loads((tmp_path / "results" / "quality-quick.json").read_text())
    assert push["index_reused"] and "fusion: RRF k=20" in push["variants"] and push["keyword_queries"]
    search = json.loads((tmp_path / "results" / "search-quick.json").read_text())
    assert search["index_reused"] and search["search_files"]["n"] > 0 and search["stage_encode_query"]["p50_ms"] > 0
    report = (tmp_path / "RESULTS.md").read_text()
    assert "| cold index (s) |" in report and "Ablations" in report and "Quality push" in report
    assert "Query latency by stage" in report
    assert (tmp_path / "indexing-quick.png").stat().st_size > 1000
