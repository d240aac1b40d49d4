"""The in-memory vector matrix follows the table through edits, deletes, renames and compaction by
reading only what changed, and always equals what a fresh read of the table gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from alpaca_index.api import DocsIndex
from alpaca_index.retrieval.search import _COLUMNS
from alpaca_index.storage.store import COMPACT_FRAGMENTS, fragment_count, scan
from alpaca_index.storage.vector_cache import VectorCache

REPO = Path(__file__).resolve().parents[2]


def cached_rows(index: DocsIndex) -> dict[str, tuple]:
    data, _, _, matrix = index.vectors._snapshot(index.store.chunks)
    rows = data.to_pylist() if data is not None else []
    return {r["id"]: (r["path"], r["text"], r["start_line"], tuple(np.round(v, 5))) for r, v in zip(rows, matrix)}


def table_rows(index: DocsIndex) -> dict[str, tuple]:
    table = scan(index.store.chunks, ["id", "path", "text", "start_line", "vector"]).to_arrow()
    return {r["id"]: (r["path"], r["text"], r["start_line"], tuple(np.round(np.asarray(r["vector"], dtype=np.float32), 5)))
            for r in table.to_pylist()}


def test_the_cache_follows_edits_by_deltas_and_equals_the_table(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(8):
        (docs / f"p{i}.md").write_text(f"# Osprey {i}\n\nOsprey nests {i}.\n\n## More\n\nWing span {i}.\n")
    index = DocsIndex(tmp_path / "db", embedder=embedder)
    index.sync([docs])
    assert cached_rows(index) == table_rows(index)
    loads = index.vectors.full_loads

    steps = 0
    def edit(action) -> None:
        nonlocal steps
        action()
        index.sync([docs])
        steps += 1
        assert cached_rows(index) == table_rows(index), steps

    edit(lambda: (docs / "p1.md").write_text("# Osprey 1\n\nOsprey dives for fish.\n"))
    edit(lambda: (docs / "p2.md").unlink())
    edit(lambda: (docs / "p3.md").rename(docs / "p3-renamed.md"))
    edit(lambda: (docs / "p9.md").write_text("# Osprey 9\n\nA new page about talons.\n"))
    assert index.vectors.full_loads == loads, "small edits must not re-read the whole table"
    assert index.search_files("osprey dives for fish", 1)[0].path == "p1.md"
    assert all(h.path != "p2.md" for h in index.search_files("osprey nests 2", 10))

    for n in range(COMPACT_FRAGMENTS + 2):  # enough syncs to trigger a compaction
        edit(lambda n=n: (docs / "p4.md").write_text(f"# Osprey 4\n\nRevision {n} of the page.\n"))
    assert fragment_count(index.store.chunks) <= COMPACT_FRAGMENTS
    assert index.search_files("revision", 1)[0].path == "p4.md"


def test_a_cache_opened_on_a_rebuilt_table_starts_over(tmp_path, embedder, docs_dir):
    index = DocsIndex(tmp_path / "db", embedder=embedder)
    index.sync([docs_dir])
    cache = VectorCache(_COLUMNS)
    assert len(cache.search(index.store.chunks, embedder.encode_query("autoscaling"), 5)) == 5
    index.store.drop_all()
    rebuilt = DocsIndex(tmp_path / "db", embedder=embedder)
    cache.reset()
    assert cache.search(rebuilt.store.chunks, embedder.encode_query("autoscaling"), 5) == []


def test_vectors_of_returns_the_stored_vectors_in_order(tmp_path, embedder, docs_dir):
    index = DocsIndex(tmp_path / "db", embedder=embedder)
    index.sync([docs_dir])
    hits = index.search("autoscaling an asynchronous endpoint", 3)
    got = index.vectors.vectors_of(index.store.chunks, [h.id for h in reversed(hits)] + ["no-such-id"])
    stored = table_rows(index)
    assert got.shape == (3, embedder.dim)
    for vector, hit in zip(got, reversed(hits)):
        assert tuple(np.round(vector, 5)) == stored[hit.id][3]


_READS = """
import sys
from alpaca_index.api import DocsIndex
index = DocsIndex(sys.argv[1])
index.sync([sys.argv[2]])
index.search_files("autoscaling an asynchronous endpoint", 5)
index.related(path=sys.argv[3], k=3)
print("LOADED" if "lance" in sys.modules else "NOT LOADED")
"""


def test_sync_search_and_related_never_load_pylance(tmp_path, docs_dir):
    """Every read goes through LanceDB's own engine: pylance is a second copy of Lance, ~110 MB
    resident in the language server (issue 20)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(REPO / d) for d in ("index", "server", "")))
    done = subprocess.run([sys.executable, "-c", _READS, str(tmp_path / "db"), str(docs_dir),
                           str(docs_dir / "model-ab-testing.md")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("NOT LOADED")
