import os

import pytest

from alpaca_index.loading import decode, list_files


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
    with pytest.raises(ValueError, match="UTF-8"):
        decode(b"# caf\xe9 \xff\n")
    with pytest.raises(ValueError, match="empty"):
        decode(b"  \n\n")


def test_a_fifo_named_like_a_doc_is_skipped_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.md")  # opening it for reading would block the sync forever
    (tmp_path / "real.md").write_text("# Real\n\ntext\n")
    listing = list_files([tmp_path])
    assert [f.rel for f in listing.files] == ["real.md"]
    assert [(s.path, s.reason) for s in listing.skipped] == [("pipe.md", "not a regular file")]
