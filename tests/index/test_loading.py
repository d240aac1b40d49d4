import os

import pytest

from alpaca_index.ingest.formats.text import decode
from alpaca_index.ingest.loading import list_files


def reasons(listing):
    return {s.path.rsplit("/", 1)[-1]: s.reason for s in listing.skipped}


def test_bad_files_are_skipped_with_a_reason(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "good.md").write_text("# Good\n\ntext\n")
    (root / "empty.md").write_text("")
    (root / "huge.md").write_text("x" * 2000)
    (root / "image.png").write_bytes(b"\x89PNG")  # not a doc extension: silently ignored
    (root / "loop").symlink_to(root)
    outside = tmp_path / "outside.md"
    outside.write_text("# Outside\n")
    (root / "escape.md").symlink_to(outside)
    listing = list_files([root], max_bytes=1000)
    assert [f.rel for f in listing.files] == ["good.md"]
    why = reasons(listing)
    assert why["empty.md"] == "empty file"
    assert why["huge.md"].startswith("too large")
    assert "outside" in why["escape.md"]
    assert "loop" in why["loop"]


def test_gitignore_nested_gitignore_and_user_ignore(tmp_path):
    root = tmp_path / "docs"
    (root / "drafts").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / ".gitignore").write_text("drafts/\n")
    (root / "sub" / ".gitignore").write_text("secret.md\n")
    for rel in ["a.md", "drafts/d.md", "sub/secret.md", "sub/ok.md", "sub/tmp.txt"]:
        (root / rel).write_text("# T\n\nbody\n")
    listing = list_files([root], ignore=["*.txt"])
    assert [f.rel for f in listing.files] == ["a.md", "sub/ok.md"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file_is_reported(tmp_path):
    (tmp_path / "locked.md").write_text("# x\n")
    (tmp_path / "locked.md").chmod(0)
    listing = list_files([tmp_path])
    assert "permission" in reasons(listing)["locked.md"]


def test_decode_handles_encodings_and_rejects_binary():
    assert decode("# Tëst\n".encode("utf-16")) == "# Tëst\n"
    assert decode(b"\xef\xbb\xbf# BOM\n") == "# BOM\n"
    with pytest.raises(ValueError, match="binary"):
        decode(b"\x00\x01\x02PK")
    # legacy code pages are detected (charset-normalizer), not refused
    assert decode("# Café\n\nLe café est très bon.\n".encode("cp1252")) == "# Café\n\nLe café est très bon.\n"
    assert decode("Привет, это документация о развёртывании сервиса.\n".encode("cp1251")).startswith("Привет")
    assert decode("Grüße aus Köln.\n".encode("latin-1")) == "Grüße aus Köln.\n"
    with pytest.raises(ValueError, match="UTF-16"):
        decode(b"\xff\xfe" + "odd".encode("utf-16-le") + b"\x00")
    with pytest.raises(ValueError, match="empty"):
        decode(b"  \n\n")


def test_a_fifo_named_like_a_doc_is_skipped_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.md")  # opening it for reading would block the sync forever
    (tmp_path / "real.md").write_text("# Real\n\ntext\n")
    listing = list_files([tmp_path])
    assert [f.rel for f in listing.files] == ["real.md"]
    assert [(s.path, s.reason) for s in listing.skipped] == [("pipe.md", "not a regular file")]


def test_two_roots_with_the_same_file_names_both_index(tmp_path):
    """A multi-root workspace: /ws/a/docs/index.md and /ws/b/docs/index.md must not hide each other."""
    a, b = tmp_path / "a" / "docs", tmp_path / "b" / "docs"
    for root in (a, b):
        root.mkdir(parents=True)
        (root / "index.md").write_text(f"# {root.parent.name}\n\ntext\n")
    listing = list_files([a, b])
    assert [f.rel for f in listing.files] == ["a/docs/index.md", "b/docs/index.md"]
    assert not listing.skipped
    for f in listing.files:  # stored root + rel is the file
        assert f.stored_root / f.rel == f.path
    single = list_files([a])  # one root: paths as before
    assert [f.rel for f in single.files] == ["index.md"] and single.files[0].stored_root == a


def test_pdf_and_office_files_get_a_larger_size_cap(tmp_path):
    (tmp_path / "deck.pptx").write_bytes(b"PK" + b"x" * 3000)
    (tmp_path / "notes.md").write_text("x" * 3000)
    listing = list_files([tmp_path], max_bytes=1000)
    assert [f.rel for f in listing.files] == ["deck.pptx"]
    assert reasons(listing)["notes.md"].startswith("too large")
