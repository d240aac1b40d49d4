"""Faults around the index: files lost from the index folder, garbage written inside one column of
a data file, a catalog that disagrees with the chunks, a full or read-only disk (while writing the rows
or while finishing a sync), docs that change between listing and reading. After each the index must be
readable, say what happened once, and end equal to a fresh index of the same files."""

from __future__ import annotations

import errno
import os
import random
import shutil

import numpy as np
import pytest
from lance.file import LanceFileReader

from alpaca_index import sync as sync_module
from alpaca_index.api import DocsIndex
from alpaca_index.storage.store import FTS_COLUMN, Store
from tests.conftest import SAMPLE_DOCS
from tests.index.test_sync import fresh_state, table_state

QUERY = "scale asynchronous endpoint to zero"


@pytest.fixture()
def built(tmp_path, embedder, docs_dir):
    """The four pages of `docs_dir` synced into a new index: a fresh one per test, to damage."""
    db = tmp_path / "db"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    return db


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder):
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


def chunk_vectors(index: DocsIndex) -> dict[str, np.ndarray]:
    rows = index.store.chunks.to_lance().to_table(columns=["text_hash", "vector"]).to_pylist()
    return {r["text_hash"]: np.array(r["vector"], dtype=np.float32) for r in rows}


def published(index: DocsIndex) -> bool:
    meta = index.store.meta()
    fts = any(i.index_type == "FTS" for i in index.store.chunks.list_indices())
    return fts and meta.get("chunks_version") == str(index.store.chunks.version) and bool(meta.get("last_sync"))


# -- files lost from the index folder ------------------------------------------------------------
def _first(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file())[0]


@pytest.mark.parametrize("lose", ["chunk data file", "full-text index file", "catalog data file"])
def test_a_file_lost_from_the_index_folder_is_detected_and_rebuilt(tmp_path, embedder, docs_dir, built, lose):
    target = {"chunk data file": built / "chunks.lance" / "data", "full-text index file": built / "chunks.lance" / "_indices",
              "catalog data file": built / "files.lance" / "data"}[lose]
    _first(target).unlink()
    index = DocsIndex(built, embedder=embedder)
    assert index.rebuilt and "rebuilt" in index.open_error
    index.sync([docs_dir])
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)
    assert index.search_files(QUERY, 1)[0].path == "async-inference-autoscale.md"


def test_a_file_lost_while_the_index_is_open_is_caught_by_the_next_sync(tmp_path, embedder, docs_dir, built):
    index = DocsIndex(built, embedder=embedder)
    _first(built / "chunks.lance" / "data").unlink()
    report = index.sync([docs_dir])
    assert report.rebuilt and "rebuilt" in index.open_error
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)
    assert index.search_files(QUERY, 1)[0].path == "async-inference-autoscale.md"


def test_a_lost_latest_version_rolls_back_and_is_repaired(tmp_path, embedder, docs_dir, built):
    page = docs_dir / "model-ab-testing.md"
    page.write_text(page.read_text() + "\n## Heron rollout\n\nHeron canaries shift traffic.\n")
    DocsIndex(built, embedder=embedder).sync([docs_dir])
    manifests = sorted((built / "chunks.lance" / "_versions").glob("*.manifest"))
    # lance names manifests so that the newest sorts first
    manifests[0].unlink()
    index = DocsIndex(built, embedder=embedder)
    index.sync([docs_dir])
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)
    assert index.search_files("heron canaries", 1)[0].path == "model-ab-testing.md"


# -- garbage inside a data file ------------------------------------------------------------------
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
def test_garbage_inside_a_data_file_is_found_on_open_and_repaired(pristine, tmp_path, embedder, column):
    base, docs, expected_state, fresh_vectors = pristine
    db = tmp_path / "db"
    shutil.copytree(base / "db", db)
    damage_column(db, column)
    index = DocsIndex(db, embedder=embedder)
    assert index.rebuilt or index.damaged, "damage went unnoticed"
    assert ("rebuilt" if index.rebuilt else "damaged") in index.open_error
    index.search(QUERY, 3)  # answers (maybe nothing until the sync), never raises
    report = index.sync([docs])
    assert report.rebuilt or report.repaired == index.damaged
    assert table_state(index) == expected_state
    vectors = chunk_vectors(index)
    assert vectors.keys() == fresh_vectors.keys()
    assert all(np.allclose(vectors[h], fresh_vectors[h], atol=1e-5) for h in vectors)
    rows = index.store.chunks.to_lance().to_table(columns=["text", "embed_text"]).to_pylist()
    assert all(r["embed_text"].endswith(r["text"]) for r in rows)
    assert index.search_files(QUERY, 1)[0].path == "async-inference-autoscale.md"
    assert not index.sync([docs]).changed


# -- a catalog that disagrees with the chunks ----------------------------------------------------
def test_a_catalog_that_disagrees_with_the_chunks_is_repaired(tmp_path, embedder, docs_dir, built):
    index = DocsIndex(built, embedder=embedder)
    store = index.store
    # one file's chunks vanish behind the catalog's back; another's catalog row claims a wrong sha
    store.chunks.delete("path = 'serverless-endpoints.md'")
    store.files_table.update(where="path = 'inference-pipelines.md'", values={"sha256": "0" * 64})
    report = index.sync([docs_dir])
    assert "serverless-endpoints.md" in report.repaired
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)
    assert not index.sync([docs_dir]).changed


# -- a full or read-only disk --------------------------------------------------------------------
@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk_fails_clearly_and_keeps_the_old_index(tmp_path, embedder, docs_dir, built,
                                                                       monkeypatch, err):
    index = DocsIndex(built, embedder=embedder)
    before = table_state(index)
    page = docs_dir / "serverless-endpoints.md"
    page.write_text(page.read_text() + "\n## Osprey section\n\nOsprey buffers hold requests.\n")

    def refuse(self, *args, **kwargs):
        raise OSError(err, os.strerror(err))

    with monkeypatch.context() as patch:
        patch.setattr(Store, "replace_files", refuse)
        with pytest.raises(OSError) as raised:
            index.sync([docs_dir])
    assert raised.value.errno == err and os.strerror(err) in str(raised.value)
    # the previous index still answers, unchanged
    assert table_state(index) == before
    assert index.search_files(QUERY, 1)[0].path == "async-inference-autoscale.md"
    # once the disk is back the next sync completes exactly
    index.sync([docs_dir])
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_a_read_only_index_folder_fails_clearly(tmp_path, embedder, docs_dir, built):
    index = DocsIndex(built, embedder=embedder)
    (docs_dir / "new.md").write_text("# New page\n\nA kestrel page.\n")
    for folder in [built, *[p for p in built.rglob("*") if p.is_dir()]]:
        folder.chmod(0o500)
    try:
        with pytest.raises(OSError):
            index.sync([docs_dir])
        assert index.search_files(QUERY, 1)[0].path == "async-inference-autoscale.md"
    finally:
        for folder in [built, *[p for p in built.rglob("*") if p.is_dir()]]:
            folder.chmod(0o700)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("first_sync", [True, False], ids=["first sync", "incremental sync"])
def test_a_full_disk_while_finishing_is_completed_by_the_next_sync(pristine, tmp_path, embedder, monkeypatch,
                                                                  first_sync):
    """The rows and catalog were written, then the full-text index / published versions failed:
    the next sync (no file changed) must still finish the job. It used to skip it for good."""
    base, docs, expected_state, _ = pristine
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
        assert table_state(index) == expected_state


# -- docs that change between listing and reading ------------------------------------------------
def test_docs_that_change_between_listing_and_reading(tmp_path, embedder, docs_dir, monkeypatch):
    outside = tmp_path / "outside.md"
    outside.write_text("# Secret outside the root\n\nNot for the index.\n")
    real_list = sync_module.list_files

    def list_then_mutate(*args, **kwargs):
        listing = real_list(*args, **kwargs)
        (docs_dir / "serverless-endpoints.md").unlink()
        (docs_dir / "inference-pipelines.md").write_bytes(b"")
        page = docs_dir / "model-ab-testing.md"
        page.write_text("# Replaced page\n\nA gannet replaced this page after it was listed.\n")
        big = docs_dir / "async-inference-autoscale.md"
        with big.open("r+b") as f:
            f.truncate(60_000_000)  # grew past the size cap after it was listed (sparse: fast)
        return listing

    index = DocsIndex(tmp_path / "db", embedder=embedder, max_bytes=50_000_000)
    with monkeypatch.context() as patch:
        patch.setattr(sync_module, "list_files", list_then_mutate)
        report = index.sync([docs_dir])
    reasons = {s.path: s.reason for s in report.skipped}
    assert "No such file" in reasons["serverless-endpoints.md"]
    assert "empty" in reasons["inference-pipelines.md"]
    assert "too large" in reasons["async-inference-autoscale.md"]
    assert index.search_files("gannet replaced", 1)[0].path == "model-ab-testing.md"
    # a later sync (same cap) sees the same files and ends exactly like a fresh index
    index.sync([docs_dir])
    other = DocsIndex(tmp_path / "fresh-db", embedder=embedder, max_bytes=50_000_000)
    other.sync([docs_dir])
    assert table_state(index) == table_state(other)
    assert not index.sync([docs_dir]).changed


def test_a_doc_swapped_for_a_link_out_of_the_root_after_listing_is_not_read(tmp_path, embedder, docs_dir,
                                                                             monkeypatch):
    secret = tmp_path / "secret.md"
    secret.write_text("# Payroll\n\nThe albatross payroll secret.\n")
    real_list = sync_module.list_files

    def list_then_swap(*args, **kwargs):
        listing = real_list(*args, **kwargs)
        page = docs_dir / "model-ab-testing.md"
        page.unlink()
        page.symlink_to(secret)
        return listing

    index = DocsIndex(tmp_path / "db", embedder=embedder)
    with monkeypatch.context() as patch:
        patch.setattr(sync_module, "list_files", list_then_swap)
        report = index.sync([docs_dir])
    assert {s.path: s.reason for s in report.skipped}["model-ab-testing.md"] == "symlink points outside the docs root"
    assert all("albatross" not in h.text for h in index.search("albatross payroll secret", 5))
