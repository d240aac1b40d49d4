"""kill -9 the indexer at several points; the next sync must repair the index to match the files."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from alpaca_index.api import DocsIndex
from tests.index.test_sync import fresh_state, table_state

SCRIPT = Path(__file__).with_name("crash_sync.py")


def run_and_kill(db, docs, stage, nth):
    """Start a sync and SIGKILL it when it reports `stage` for the nth time. True if it was killed."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(db), str(docs)], stdout=subprocess.PIPE, text=True, env=env)
    seen = 0
    for line in proc.stdout:
        if line.split()[0] == stage:
            seen += 1
            if seen == nth:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
    proc.wait()
    return False


@pytest.mark.parametrize("stage,nth", [("embed", 1), ("embed", 3), ("optimize", 1)])
def test_kill_during_full_sync_then_repair(tmp_path, embedder, docs_dir, stage, nth):
    db = tmp_path / "db"
    assert run_and_kill(db, docs_dir, stage, nth)
    index = DocsIndex(db, embedder=embedder)
    before = embedder.encoded_count
    index.sync([docs_dir])
    encoded = embedder.encoded_count - before
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)
    if stage != "embed" or nth > 1:  # some files were committed: they are not redone
        assert encoded < index.status()["chunks"]
    assert not index.sync([docs_dir]).changed


def test_kill_during_incremental_sync_then_repair(tmp_path, embedder, docs_dir):
    db = tmp_path / "db"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    for name in ["model-ab-testing.md", "inference-pipelines.md"]:
        page = docs_dir / name
        page.write_text(page.read_text().replace("endpoint", "endpoint (edited)") + "\nNew closing line.\n")
    (docs_dir / "serverless-endpoints.md").unlink()
    assert run_and_kill(db, docs_dir, "embed", 2)
    index = DocsIndex(db, embedder=embedder)
    index.sync([docs_dir])
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)
    assert index.status()["files"] == 3
