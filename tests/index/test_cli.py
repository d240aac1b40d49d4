"""The `alpaca` CLI as a user runs it: real subprocesses, JSON output, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DEV_QUESTIONS


def alpaca(*args: str, db=None, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, ALPACA_DB=str(db)) if db else dict(os.environ)
    cmd = [sys.executable, "-c", "from alpaca_index.cli import main; main()", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory):
    import shutil

    from tests.conftest import SAMPLE_DOCS

    docs = tmp_path_factory.mktemp("cli") / "docs"
    shutil.copytree(SAMPLE_DOCS / "sagemaker-dg", docs)
    (docs / "broken.md").write_bytes(b"\x00\x01binary\x00")
    db = docs.parent / "db"
    out = json.loads(alpaca("index", str(docs), "--json", db=db).stdout)
    return docs, db, out


def test_index_json_reports_counts_and_skips(cli_db):
    docs, _, out = cli_db
    assert out["status"]["files"] == len(list(docs.glob("*.md"))) - 1
    assert out["report"]["chunks_encoded"] > 0
    assert [s["path"] for s in out["report"]["skipped"]] == ["broken.md"]


def test_index_suggests_tune_only_for_a_large_index_on_the_packaged_model(cli_db):
    docs, db, out = cli_db
    assert out["suggest_tune"] is False  # the sample pages are too few to be worth an hour
    small_threshold = ("import alpaca_index.embedding.tune as tune; tune.WORTH_TUNING_CHUNKS = 1; "
                       "import alpaca_index.cli as cli; cli.main()")
    proc = subprocess.run([sys.executable, "-c", small_threshold, "index", str(docs)], capture_output=True, text=True,
                          env=dict(os.environ, ALPACA_DB=str(db)), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"alpaca tune --db {db}" in " ".join(proc.stdout.split())


def test_reindex_with_no_change_encodes_nothing(cli_db):
    docs, db, _ = cli_db
    report = json.loads(alpaca("index", str(docs), "--json", db=db).stdout)["report"]
    assert report["chunks_encoded"] == 0 and report["unchanged"] > 0


def test_search_related_status_json(cli_db):
    docs, db, _ = cli_db
    found = json.loads(alpaca("search", "traffic split between production variants", "--json", db=db).stdout)
    assert found["results"][0]["path"] == "model-ab-testing.md"
    assert {"title", "heading_path", "anchor", "start_line", "snippet"} <= set(found["results"][0])
    rel = json.loads(alpaca("related", str(docs / "model-ab-testing.md"), "--json", db=db).stdout)
    assert rel["results"] and all(r["path"] != "model-ab-testing.md" for r in rel["results"])
    status = json.loads(alpaca("status", "--json", db=db).stdout)
    assert status["files"] > 0 and status["model"] and status["dim"] == 384


@pytest.mark.skipif(not DEV_QUESTIONS.exists(), reason="dev questions not available")
def test_eval_json_has_metrics(cli_db, tmp_path):
    _, db, _ = cli_db
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"id": "x", "question": "A/B test two model variants on one endpoint",
                             "relevant": ["model-ab-testing.md"]}) + "\n")
    result = json.loads(alpaca("eval", str(q), "--json", db=db).stdout)
    assert result["hit@5"] == 1.0 and result["mrr@10"] > 0


@pytest.mark.parametrize("args, message", [
    (("search", "anything"), "no index at"),
    (("index", "/definitely/not/here"), "docs folder not found"),
    (("eval", "/no/such/questions.jsonl"), "questions file not found"),
])
def test_user_mistakes_are_one_line_without_traceback(tmp_path, args, message):
    proc = alpaca(*args, db=tmp_path / "empty-db", check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_malformed_questions_file_is_a_clear_error(cli_db, tmp_path):
    _, db, _ = cli_db
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    proc = alpaca("eval", str(bad), db=db, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
