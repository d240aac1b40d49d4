"""Faults around the index: files lost from the index folder, a catalog that disagrees with the
chunks, a full or read-only disk, docs that change between listing and reading. After each the
index must match the files exactly (compared with a fresh index of the same files)."""

from __future__ import annotations

import errno
import os
import shutil

import pytest

from alpaca_index import sync as sync_module
from alpaca_index.api import DocsIndex
from alpaca_index.store import Store
from tests.index.test_sync import fresh_state, table_state

QUERY = "scale asynchronous endpoint to zero"


@pytest.fixture()
def built(tmp_path, embedder, docs_dir):
    db = tmp_path / "db"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    return db


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
