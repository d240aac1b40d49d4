"""Bad and odd input, each with a clear skip reason or a sensible result — never a crash or a hang:
through the index API, then the same folder through the language server."""

from __future__ import annotations

import time

import pytest
import pytest_lsp
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from alpaca_index.answer import AnswerSettings, answer
from alpaca_index.api import DocsIndex
from tests.answer.conftest import tiny_gguf  # noqa: F401 - fixture
from tests.server.conftest import SERVER, command, paths, wait_ready, open_session

pytestmark = pytest.mark.timeout(300)
ODD_NAMES = ["name with spaces.md", "ünïcødé 名前.md", "new\nline.md"]
LONG_QUESTION = "how do I scale an endpoint " * 4000  # ~100 KB
QUESTIONS = ["", "   ", LONG_QUESTION, "?!?... ;;; ---", "\x00\x01"]


def make_odd_docs(root):
    root.mkdir()
    (root / "good.md").write_text("# Good page\n\nThe osprey configuration guide.\n")
    (root / "binary.md").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    (root / "latin1.md").write_bytes("# Caf\xe9\n\nna\xefve text\n".encode("latin-1"))
    (root / "utf16.md").write_bytes("# Ibis page\n\nThe ibisword lives in UTF-16.\n".encode("utf-16"))
    with (root / "huge.md").open("wb") as f:  # 100 MB, sparse
        f.truncate(100 * 1024 * 1024)
    (root / "one-line.md").write_text(" ".join(f"pelican{i}" for i in range(6000)))  # ~60,000 chars, no newline
    # 50,000 lines, mostly blank (as in generated or badly converted files): cheap to embed, hard on line logic
    (root / "many-lines.txt").write_text("".join(f"line {i} of the cormorant log\n" if i % 100 == 99 else "\n"
                                                 for i in range(50_000)))
    (root / "nested.md").write_text("".join(f"{'#' * (1 + i % 6)} Level {i}\n\nheron {i}\n\n" for i in range(300)))
    (root / "deep.html").write_text("<html><body>" + "<div>" * 5000 + "<p>The grebe sits deep.</p>" + "</div>" * 5000
                                    + "</body></html>")
    (root / "script.html").write_text("<html><head><script>var kiwiscript = 1;</script><style>.x{}</style></head>"
                                      "<body><h1>Scripted</h1><p>Visible puffin text.</p>"
                                      "<script>alert('kiwiscript')</script></body></html>")
    for name in ODD_NAMES:
        (root / name).write_text(f"# Odd name\n\nThe file {name!r} talks about albatross storage.\n")
    make_odd_documents(root)
    (root / "loop").symlink_to(root)
    outside = root.parent / "outside.md"
    outside.write_text("# Outside\n\nThe skua secret lives outside.\n")
    (root / "escape.md").symlink_to(outside)
    return root


def make_odd_documents(root):
    """PDF and Office files gone wrong, and a long one (written by reportlab / python-docx)."""
    from tests.index.sample_files import make_docx, make_pdf, make_scanned_pdf

    make_pdf(root / "locked.pdf", ["The locked kestrel text."], password="secret")
    (root / "corrupt.pdf").write_bytes(make_pdf(root.parent / "whole.pdf", ["x"] * 3).read_bytes()[:700])
    make_scanned_pdf(root / "scanned.pdf", pages=3)
    make_pdf(root / "manual-500.pdf", [f"Page {n}: the lapwing setting {n} is described here." for n in range(1, 501)],
             title="Lapwing Manual")
    make_docx(root / "notes.docx", "Plover Notes", [("h1", "Plover"), ("p", "The plover notes live in Word.")])
    (root / "corrupt.docx").write_bytes((root / "notes.docx").read_bytes()[:300])
    (root / "encrypted.pptx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))


@pytest.fixture(scope="module")
def odd(tmp_path_factory, embedder):
    root = make_odd_docs(tmp_path_factory.mktemp("odd") / "docs")
    index = DocsIndex(tmp_path_factory.mktemp("odd-db"), embedder=embedder)
    started = time.perf_counter()
    report = index.sync([root])
    return index, report, time.perf_counter() - started


def test_every_odd_file_is_indexed_or_skipped_with_a_reason(odd):
    index, report, seconds = odd
    why = {s.path: s.reason for s in report.skipped}
    print(f"\nodd folder synced in {seconds:.1f} s; skipped: {why}")
    assert "binary" in why["binary.md"]
    assert why["huge.md"].startswith("too large")
    assert "password-protected" in why["locked.pdf"] and "not a readable PDF" in why["corrupt.pdf"]
    assert "no text layer in 3 page(s)" in why["scanned.pdf"]
    assert "not a readable Word file" in why["corrupt.docx"] and "password-protected" in why["encrypted.pptx"]
    assert "outside" in why["escape.md"] and "loop" in why["loop"]
    indexed = {row["path"] for row in index.store.catalog().values()}
    assert {"good.md", "utf16.md", "latin1.md", "one-line.md", "many-lines.txt", "nested.md", "deep.html",
            "script.html", "manual-500.pdf", "notes.docx", *ODD_NAMES} <= indexed
    assert not indexed & {"binary.md", "huge.md", "escape.md", "locked.pdf", "corrupt.pdf", "scanned.pdf",
                          "corrupt.docx", "encrypted.pptx"}


@pytest.mark.parametrize("query,expected", [
    ("ibisword", "utf16.md"), ("pelican5999", "one-line.md"), ("cormorant log line 49999", "many-lines.txt"),
    ("heron 299", "nested.md"), ("grebe sits deep", "deep.html"), ("puffin text", "script.html"),
    ("naïve café", "latin1.md"), ("lapwing setting 497", "manual-500.pdf"), ("plover notes", "notes.docx"),
    ("albatross storage", None),
])
def test_odd_files_are_searchable_by_their_content(odd, query, expected):
    index = odd[0]
    hits = index.search_files(query, 5)
    if expected:
        assert hits[0].path == expected
    else:
        assert set(ODD_NAMES) <= {h.path for h in index.search_files(query, 10)}


def test_the_500_page_pdf_keeps_its_page_numbers(odd):
    index = odd[0]
    hit = next(h for h in index.search("lapwing setting 497", 10) if h.path == "manual-500.pdf")
    assert hit.start_line <= 497 <= hit.end_line <= 500


def test_a_file_over_the_time_limit_is_skipped_and_nothing_else_is_lost(tmp_path, embedder, monkeypatch):
    from tests.index.sample_files import make_pdf

    root = tmp_path / "docs"
    root.mkdir()
    (root / "small.md").write_text("# Small\n\nThe dunlin page.\n")
    make_pdf(root / "slow.pdf", [f"Page {n} of the sandpiper manual." for n in range(1, 501)])
    monkeypatch.setenv("ALPACA_FILE_TIME_LIMIT", "0.01")  # the 500 pages take ~1 s: far over
    index = DocsIndex(tmp_path / "db", embedder=embedder)
    started = time.perf_counter()
    report = index.sync([root])
    why = {s.path: s.reason for s in report.skipped}
    assert "took over 0.01 s to read" in why["slow.pdf"] and "of 500" in why["slow.pdf"]
    assert report.added == ["small.md"] and time.perf_counter() - started < 60


def test_long_lines_are_split_within_the_model_window(odd):
    index = odd[0]
    rows = index.store.chunks.to_lance().to_table(columns=["path", "text"]).to_pylist()
    pieces = [r["text"] for r in rows if r["path"] == "one-line.md"]
    assert len(pieces) > 10
    assert max(index.embedder.count_tokens(pieces)) <= 300
    assert not any("kiwiscript" in r["text"] for r in rows)  # scripts are not content


def test_empty_docs_folder(tmp_path, embedder):
    (tmp_path / "empty").mkdir()
    index = DocsIndex(tmp_path / "db", embedder=embedder)
    report = index.sync([tmp_path / "empty"])
    assert not report.changed and index.status()["files"] == 0
    assert index.search_files("anything at all", 5) == []
    result = answer(index, "What is SageMaker?", AnswerSettings())
    assert result.refused and not result.sources


@pytest.mark.parametrize("question", QUESTIONS, ids=["empty", "blank", "100KB", "punctuation", "control"])
def test_odd_questions_through_the_api(odd, question):
    index = odd[0]
    words = " ".join(question.split())
    if not words:
        with pytest.raises(ValueError, match="empty"):
            answer(index, question, AnswerSettings())
        return
    assert isinstance(index.search(question, 5), list)
    result = answer(index, question, AnswerSettings())
    assert result.refused or result.sources


def test_a_100kb_question_fits_a_small_model_context(odd, tiny_gguf):
    result = answer(odd[0], LONG_QUESTION, AnswerSettings(model_path=tiny_gguf, n_ctx=768, max_answer_tokens=4))
    assert result.backend in ("llama.cpp", "none")
    if result.backend == "llama.cpp":
        assert result.timings["prompt_tokens"] + 4 <= 768


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    base = tmp_path_factory.mktemp("odd-server")
    await open_session(lsp_client, base, make_odd_docs(base / "docs"), watch=False)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
async def test_the_server_indexes_the_odd_folder_and_survives_odd_requests(client: LanguageClient):
    status = await wait_ready(client, timeout=180)
    assert status["last_report"]["skipped"] >= 5
    found = await command(client, "alpaca.search", {"query": "albatross storage"})
    assert set(ODD_NAMES) <= set(paths(found["results"]))
    assert all(r["uri"].startswith("file://") and "\n" not in r["uri"] for r in found["results"])
    pdf = (await command(client, "alpaca.search", {"query": "lapwing setting 497"}))["results"][0]
    assert pdf["path"] == "manual-500.pdf" and pdf["place"].startswith("p") and pdf["uri"].endswith(".pdf")
    assert {".pdf", ".docx", ".pptx", ".mdx", ".adoc"} <= set(status["extensions"])
    for question in QUESTIONS[2:]:
        await command(client, "alpaca.search", {"query": question})
        await command(client, "alpaca.ask", {"question": question})
    wrong = [("alpaca.search", None), ("alpaca.search", [1, 2]), ("alpaca.search", {"query": ["a"]}),
             ("alpaca.search", {"query": "x", "k": "five"}), ("alpaca.search", {"query": "x", "k": -3}),
             ("alpaca.related", {"uri": 7}), ("alpaca.related", {"text": {"a": 1}}), ("alpaca.ask", {}),
             ("alpaca.ask", {"question": ""}), ("alpaca.ask", {"question": "ok", "k": 10**9}),
             ("alpaca.addDocuments", {"paths": "not-a-list"}), ("alpaca.cancel", {"requestId": 5})]
    errors = 0
    for name, arg in wrong:
        try:
            await command(client, name, arg)
        except JsonRpcInvalidParams as exc:
            errors += 1
            assert str(exc).strip()
    print(f"\n{errors}/{len(wrong)} wrong-type requests answered with InvalidParams; the rest handled")
    assert errors >= len(wrong) - 2
    assert (await command(client, "alpaca.status"))["state"] == "ready"


def test_ten_thousand_tiny_files(tmp_path, embedder):
    """10,000 files through listing, catalog and writes. Each folder repeats the same 100 notes, so
    the encoder (which dedupes identical text) sees 100 texts: the file handling is what is tested."""
    root = tmp_path / "tiny"
    for d in range(100):
        folder = root / f"d{d:02d}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"n{f:02d}.md").write_text(f"# Note {f}\n\nThe kittiwake count is {f}.\n")
    index = DocsIndex(tmp_path / "db", embedder=embedder)
    started = time.perf_counter()
    report = index.sync([root])
    seconds = time.perf_counter() - started
    print(f"\n10,000 tiny files indexed in {seconds:.1f} s ({report.chunks_encoded} chunks encoded)")
    assert len(report.added) == 10_000 and not report.skipped
    assert index.status()["files"] == 10_000 and report.chunks_encoded <= 200
    started = time.perf_counter()
    again = index.sync([root])
    print(f"re-sync with nothing changed {time.perf_counter() - started:.2f} s")
    assert not again.changed
    (root / "d42" / "n17.md").write_text("# Note 17\n\nThe fulmar count changed here.\n")
    assert index.sync([root]).modified == ["d42/n17.md"]
    assert index.search_files("fulmar count", 1)[0].path == "d42/n17.md"
