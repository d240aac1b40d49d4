"""Faults beyond test_fault_injection.py (which loses whole files): garbage written inside one
column of a LanceDB data file, and a full disk while a sync finishes. After each the index must be
readable, say what happened once, and end equal to a fresh index of the same files."""

from __future__ import annotations

import errno
import os
import random
import shutil

import numpy as np
import pytest
from lance.file import LanceFileReader

from alpaca_index.api import DocsIndex
from alpaca_index.store import FTS_COLUMN, Store
from tests.conftest import SAMPLE_DOCS
from tests.index.test_sync import table_state

QUERY = "scale asynchronous endpoint to zero"


def chunk_vectors(index: DocsIndex) -> dict[str, np.ndarray]:
    rows = index.store.chunks.to_lance().to_table(columns=["text_hash", "vector"]).to_pylist()
    return {r["text_hash"]: np.array(r["vector"], dtype=np.float32) for r in rows}


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    """One synced index of four pages, and a fresh one to compare with; tests work on copies."""
    base = tmp_path_factory.mktemp("faults")
    docs = base / "docs"
    docs.mkdir()
    for name in ["async-inference-autoscale.md", "model-ab-testing.md", "inference-pipelines.md",
                 "serverless-endpoints.md"]:
        shutil.copy(SAMPLE_DOCS / "sagemaker-dg" / name, docs / name)
    DocsIndex(base / "db", embedder=embedder).sync([docs])
    fresh = DocsIndex(base / "fresh", embedder=embedder)
    fresh.sync([docs])
    return base, docs, table_state(fresh), chunk_vectors(fresh)


def damage_column(db, column: str, seed: int = 7) -> None:
    """Overwrite 32 bytes in the middle of `column`'s largest page buffer in the chunks data file."""
    path = sorted((db / "chunks.lance" / "data").glob("*.lance"))[0]
    meta = LanceFileReader(str(path)).metadata()
    pages = meta.columns[meta.schema.names.index(column)].pages
    position, size = max(((b.position, b.size) for page in pages for b in page.buffers), key=lambda b: b[1])
    data = bytearray(path.read_bytes())
    middle = position + size // 2
    data[middle:middle + 32] = random.Random(seed).randbytes(32)
    path.write_bytes(bytes(data))


# before: id/title/heading_path → every search failed; text_hash/file_sha → every sync failed;
# text/embed_text/vector → wrong text or a garbage vector served silently, never repaired
@pytest.mark.timeout(300)
@pytest.mark.parametrize("column", ["id", "title", "heading_path", "text", "embed_text", "text_hash", "file_sha",
                                    "vector"])
def test_garbage_inside_a_data_file_is_found_on_open_and_repaired(built, tmp_path, embedder, column):
    base, docs, fresh_state, fresh_vectors = built
    db = tmp_path / "db"
    shutil.copytree(base / "db", db)
    damage_column(db, column)
    index = DocsIndex(db, embedder=embedder)
    assert index.rebuilt or index.damaged, "damage went unnoticed"
    assert ("rebuilt" if index.rebuilt else "damaged") in index.open_error
    index.search(QUERY, 3)  # answers (maybe nothing until the sync), never raises
    report = index.sync([docs])
    assert report.rebuilt or report.repaired == index.damaged
    assert table_state(index) == fresh_state
    vectors = chunk_vectors(index)
    assert vectors.keys() == fresh_vectors.keys()
    assert all(np.allclose(vectors[h], fresh_vectors[h], atol=1e-5) for h in vectors)
    rows = index.store.chunks.to_lance().to_table(columns=["text", "embed_text"]).to_pylist()
    assert all(r["embed_text"].endswith(r["text"]) for r in rows)
    assert index.search_files(QUERY, 1)[0].path == "async-inference-autoscale.md"
    assert not index.sync([docs]).changed


def published(index: DocsIndex) -> bool:
    meta = index.store.meta()
    fts = any(i.index_type == "FTS" for i in index.store.chunks.list_indices())
    return fts and meta.get("chunks_version") == str(index.store.chunks.version) and bool(meta.get("last_sync"))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("first_sync", [True, False], ids=["first sync", "incremental sync"])
def test_a_full_disk_while_finishing_is_completed_by_the_next_sync(built, tmp_path, embedder, monkeypatch,
                                                                  first_sync):
    """The rows and catalog were written, then the full-text index / published versions failed:
    the next sync (no file changed) must still finish the job. It used to skip it for good."""
    base, docs, fresh_state, _ = built
    work = tmp_path / "docs"
    shutil.copytree(docs, work)
    db = tmp_path / "db"
    if not first_sync:
        shutil.copytree(base / "db", db)
        page = work / "model-ab-testing.md"
        page.write_text(page.read_text() + "\n## Heron rollout\n\nHeron canaries shift traffic.\n")
    index = DocsIndex(db, embedder=embedder)

    def full_disk(self):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(Store, "finish", full_disk)
        with pytest.raises(OSError) as raised:
            index.sync([work])
    assert raised.value.errno == errno.ENOSPC and "No space left" in str(raised.value)
    assert index.search_files(QUERY, 1)[0].path == "async-inference-autoscale.md"  # still answers
    assert not published(index)
    index.sync([work])  # space is back; nothing changed on disk since
    assert published(index) and index.status()["last_sync"]
    hits = index.store.chunks.search("heron canaries", query_type="fts", fts_columns=FTS_COLUMN).limit(1).to_list()
    assert bool(hits) != first_sync
    assert not index.sync([work]).changed
    if first_sync:
        assert table_state(index) == fresh_state
