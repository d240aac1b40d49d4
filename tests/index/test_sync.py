import shutil

import pytest

from alpaca_index.api import DocsIndex


@pytest.fixture()
def index(tmp_path, embedder):
    return DocsIndex(tmp_path / "db", embedder=embedder)


def table_state(index):
    """(path, text hash) rows of the chunks table: what the index holds, independent of versions."""
    table = index.store.chunks.to_lance().to_table(columns=["path", "text_hash", "file_sha"])
    return sorted(zip(*(table.column(c).to_pylist() for c in ["path", "text_hash"])))


def fresh_state(tmp_path, embedder, root):
    other = DocsIndex(tmp_path / "fresh-db", embedder=embedder)
    other.sync([root])
    return table_state(other)


def test_add_modify_delete_rename_and_no_change(index, docs_dir, embedder, tmp_path):
    report = index.sync([docs_dir])
    assert len(report.added) == 4 and report.chunks_encoded > 0

    before = embedder.encoded_count
    report = index.sync([docs_dir])
    assert not report.changed and report.unchanged == 4
    assert embedder.encoded_count == before, "nothing changed: nothing may be encoded"

    page = docs_dir / "model-ab-testing.md"
    page.write_text(page.read_text() + "\n## Zebra canary rollout\n\nPurple zebra canaries shift traffic slowly.\n")
    report = index.sync([docs_dir])
    assert report.modified == ["model-ab-testing.md"]
    assert 0 < report.chunks_encoded <= 3, "only the edited section is re-encoded"
    assert index.search_files("purple zebra canaries", 1)[0].path == "model-ab-testing.md"

    (docs_dir / "serverless-endpoints.md").unlink()
    report = index.sync([docs_dir])
    assert report.deleted == ["serverless-endpoints.md"]
    assert all(h.path != "serverless-endpoints.md" for h in index.search("serverless endpoint", 20))

    before = embedder.encoded_count
    (docs_dir / "inference-pipelines.md").rename(docs_dir / "pipelines-renamed.md")
    report = index.sync([docs_dir])
    assert report.renamed == [("inference-pipelines.md", "pipelines-renamed.md")]
    assert embedder.encoded_count == before, "a rename reuses its vectors"
    assert table_state(index) == fresh_state(tmp_path, embedder, docs_dir)


def test_bad_files_do_not_stop_the_run_and_vanish_when_they_turn_bad(index, docs_dir):
    (docs_dir / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    (docs_dir / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj truncated")
    (docs_dir / "latin1.md").write_bytes(b"# caf\xe9\n\nbody\n")  # a legacy encoding is detected, not refused
    report = index.sync([docs_dir])
    skipped = {s.path: s.reason for s in report.skipped}
    assert "binary" in skipped["binary.md"] and "not a readable PDF" in skipped["broken.pdf"]
    assert "latin1.md" in report.added and index.status()["files"] == 5

    (docs_dir / "model-ab-testing.md").write_bytes(b"\x00\x00")
    report = index.sync([docs_dir])
    assert "model-ab-testing.md" in report.deleted
    assert all(h.path != "model-ab-testing.md" for h in index.search("traffic between variants", 20))


def test_changing_the_model_rebuilds_instead_of_mixing(tmp_path, embedder, docs_dir):
    db = tmp_path / "db"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    index = DocsIndex(db, embedder=embedder)
    index.store.set_meta(model_id="sha256:0123456789abcdef mean fp32 onnx-export-1")  # other weights
    reopened = DocsIndex(db, embedder=embedder)
    assert reopened.rebuilt and reopened.status()["files"] == 0
    report = reopened.sync([docs_dir])
    assert report.rebuilt and len(report.added) == 4


def test_corrupt_index_is_rebuilt_with_a_message(tmp_path, embedder, docs_dir):
    db = tmp_path / "db"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    for data_file in (db / "chunks.lance").rglob("*.lance"):
        data_file.write_bytes(b"garbage")
    shutil.rmtree(db / "files.lance" / "_versions")
    index = DocsIndex(db, embedder=embedder)
    assert index.rebuilt and "rebuilt" in index.open_error
    index.sync([docs_dir])
    assert index.search_files("scale asynchronous endpoint to zero", 1)[0].path == "async-inference-autoscale.md"


def test_duplicate_content_in_two_files_is_encoded_once(index, docs_dir, embedder):
    shutil.copy(docs_dir / "model-ab-testing.md", docs_dir / "copy-of-ab.md")
    report = index.sync([docs_dir])
    copies = [h for h in index.search("production variants weights", 50) if "ab" in h.path]
    assert {h.path for h in copies} == {"model-ab-testing.md", "copy-of-ab.md"}
    assert report.chunks_encoded < report.chunks_written


def test_new_chunk_settings_rechunk_everything_but_reuse_vectors(tmp_path, embedder, docs_dir):
    from alpaca_index.ingest.chunking import ChunkSettings

    db = tmp_path / "db"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    before = embedder.encoded_count
    without_titles = DocsIndex(db, embedder=embedder, chunking=ChunkSettings(title_chunks=False))
    report = without_titles.sync([docs_dir])
    assert len(report.added) == 4 and report.chunks_encoded == 0 == embedder.encoded_count - before
    kinds = set(without_titles.store.chunks.to_lance().to_table(columns=["kind"]).column("kind").to_pylist())
    assert kinds == {"section"}
    fresh = DocsIndex(tmp_path / "fresh", embedder=embedder, chunking=ChunkSettings(title_chunks=False))
    fresh.sync([docs_dir])
    assert table_state(without_titles) == table_state(fresh)


def test_a_reader_never_sees_an_edited_file_missing(index, tmp_path):
    """Each file's old rows and new rows swap in one commit: a search during a sync that rewrites
    every file still finds each of them (a delete-then-add left a window with no rows at all)."""
    import threading

    docs = tmp_path / "docs"
    docs.mkdir()
    names = [f"page{i}.md" for i in range(12)]

    def write(version: int) -> None:
        for i, name in enumerate(names):
            (docs / name).write_text(f"# Kestrel page {i}\n\nKestrel notes, revision {version}.\n\n"
                                     f"## Detail\n\nSection {i} of revision {version}.\n")

    write(0)
    index.sync([docs])
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            table = index.store.chunks.to_lance().to_table(columns=["path"])
            seen.append(len(set(table.column("path").to_pylist())))
            seen.append(len(index.search_files("kestrel notes", 20)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(1, 6):
            write(version)
            assert sorted(index.sync([docs]).modified) == sorted(names)
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 10 and set(seen) == {len(names)}, sorted(set(seen))


def test_unchanged_size_and_mtime_skip_reading_but_a_racy_file_is_read_again(index, tmp_path, monkeypatch):
    """Like git: a file whose size and mtime match the catalog is not read again, unless it was
    modified so close to when it was read that a later same-size write could keep its mtime."""
    import os
    import time as clock

    from alpaca_index import sync as sync_module

    reads: list[str] = []
    real_read = sync_module._read_capped
    monkeypatch.setattr(sync_module, "_read_capped", lambda f, cap: reads.append(f.rel) or real_read(f, cap))
    docs = tmp_path / "docs"
    docs.mkdir()
    old = clock.time() - 600
    for name in ("aged.md", "fresh.md"):
        (docs / name).write_text(f"# {name}\n\nGannet colony v1.\n")
    os.utime(docs / "aged.md", (old, old))

    index.sync([docs])
    assert sorted(reads) == ["aged.md", "fresh.md"]
    reads.clear()
    assert not index.sync([docs]).changed and reads == ["fresh.md"], "only the racy file is read again"

    # same size, same mtime, new bytes: a fresh file is still caught (its mtime could not vouch)
    stamp = (docs / "fresh.md").stat().st_mtime
    (docs / "fresh.md").write_text("# fresh.md\n\nGannet colony v2.\n")
    os.utime(docs / "fresh.md", (stamp, stamp))
    assert index.sync([docs]).modified == ["fresh.md"]

    # once a file is old enough its mtime is recorded, and it is no longer read
    os.utime(docs / "fresh.md", (old, old))
    reads.clear()
    index.sync([docs])
    assert reads == ["fresh.md"]
    reads.clear()
    assert not index.sync([docs]).changed and reads == []

    # a same-size, same-mtime rewrite of an aged file is invisible to size+mtime; --rehash finds it
    (docs / "aged.md").write_text("# aged.md\n\nGannet colony v3.\n")
    os.utime(docs / "aged.md", (old, old))
    assert not index.sync([docs]).changed
    assert index.sync([docs], rehash=True).modified == ["aged.md"]
    assert index.search_files("gannet colony v3", 1)[0].path == "aged.md"
