"""`alpaca status` from the summary a local index keeps of itself: equal to the full status, used
only while provably current, and never importing LanceDB when it is."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from alpaca_index.api import DocsIndex
from alpaca_index.opening import index_status, open_index
from alpaca_index.storage import summary

REPO = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in (REPO / "index", REPO / "server", REPO)))
PROBE = """
import json, sys
from alpaca_index.cli import app
app(["status", "--json", "--db", sys.argv[1]], standalone_mode=False)
print("LOADED " + json.dumps([m for m in ("lancedb", "lance", "pyarrow", "numpy", "onnxruntime") if m in sys.modules]))
"""


@pytest.fixture()
def synced(tmp_path, embedder, docs_dir):
    index = DocsIndex(tmp_path / "db", embedder=embedder)
    index.sync([docs_dir])
    return index


def full_status(db: Path) -> dict:
    """What opening the index says (and the summary it records on the way)."""
    return open_index(db).status()


def cli_status(db: Path) -> tuple[dict, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(db)], capture_output=True, text=True, env=ENV,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out, _, loaded = done.stdout.rpartition("LOADED ")
    return json.loads(out), json.loads(loaded)


def test_a_sync_records_the_status_it_leaves(synced, docs_dir):
    db = Path(synced.db)
    recorded = summary.load(db)
    assert recorded is not None and recorded["files"] == 4 and recorded["version"] == synced.store.chunks.version
    assert index_status(db) == synced.status() == full_status(db)
    assert index_status(db)["roots"] == [str(docs_dir.resolve())]
    assert summary.folder_state(db.parent / "no-index", synced.embedder.path / "model.safetensors") is None


def test_cli_status_from_the_summary_imports_no_lancedb_and_says_what_the_full_open_says(synced, docs_dir):
    db = Path(synced.db)
    data, loaded = cli_status(db)
    assert loaded == [], "a current summary: no LanceDB, Arrow, numpy or model"
    assert {k: data[k] for k in synced.status()} == full_status(db)
    assert data["backend"] == "none" and data["egress"]

    (docs_dir / "model-ab-testing.md").unlink()  # a commit that records no summary: the store directly
    synced.store.delete_files(["model-ab-testing.md"])
    data, loaded = cli_status(db)
    assert "lancedb" in loaded and data["files"] == 3, "a stale summary is not used"
    data, loaded = cli_status(db)
    assert loaded == [] and data["files"] == 3, "the full open recorded the new state"


def test_any_change_to_tables_or_summary_is_detected(synced, docs_dir):
    db = Path(synced.db)
    assert summary.load(db) is not None

    synced.store.set_meta(note="written behind the summary's back")  # a meta-only commit
    assert summary.load(db) is None
    assert index_status(db) == full_status(db) and summary.load(db) is not None

    (db / summary.FILE).unlink()
    assert index_status(db) == full_status(db) and summary.load(db) is not None

    edited = json.loads((db / summary.FILE).read_text())
    edited["status"]["files"] = 99
    (db / summary.FILE).write_text(json.dumps(edited))
    assert summary.load(db) is None and index_status(db)["files"] == 4

    data_dir = db / "files.lance" / "data"
    lost = sorted(data_dir.iterdir())[0]
    moved = db.parent / "lost.lance-file"
    shutil.move(lost, moved)  # a data file lost from the folder: no new manifest, still not current
    assert summary.load(db) is None
    shutil.move(moved, lost)
    assert summary.load(db) is not None


def test_summary_of_another_index_is_not_taken(synced, tmp_path, embedder, docs_dir):
    other = DocsIndex(tmp_path / "other", embedder=embedder)
    (docs_dir / "serverless-endpoints.md").unlink()
    other.sync([docs_dir])
    shutil.copy(tmp_path / "other" / summary.FILE, Path(synced.db) / summary.FILE)
    assert summary.load(Path(synced.db)) is None
    assert index_status(synced.db)["files"] == 4


def test_a_crash_between_commit_and_summary_leaves_status_correct(synced, docs_dir):
    """kill -9 after the sync's writes, before it records the summary: the old summary no longer
    matches the tables, and status reads the tables."""
    db = Path(synced.db)
    old = summary.load(db)
    for n in range(2):
        (docs_dir / f"new-{n}.md").write_text(f"# New page {n}\n\nAbout zebra canaries number {n}.\n")
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("crash_sync.py")), str(db), str(docs_dir)],
                            stdout=subprocess.PIPE, text=True, env=dict(ENV, CRASH_SYNC_PAUSE_AT="optimize"))
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.split()[0] == "optimize":  # every row is committed; it waits before finish and the summary
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert summary.load(db) is None
    status = index_status(db)
    assert status["files"] == 6 != old["files"]
    assert status == full_status(db)
