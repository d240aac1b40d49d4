"""Every format the index reads, from real files: titles, heading paths, and where each passage is
(lines, PDF pages, slides, Word paragraphs). PDF/Word/PowerPoint files are written here by the
libraries that make them (reportlab, python-docx, python-pptx)."""

from __future__ import annotations

import pytest

from alpaca_index.ingest.formats import EXTENSIONS, Deadline, place, read
from tests.index.sample_files import make_docx, make_pdf, make_pptx


def outline(docs):
    """[(heading path, first location, text)] of every block, for compact assertions."""
    return [(" › ".join([d.title, *s.headings]), b.start_line, b.text) for d in docs for s in d.sections
            for b in s.blocks]


def block_with(docs, word):
    return next(item for item in outline(docs) if word in item[2])


def test_markdown_front_matter_gives_the_title_and_is_not_text():
    page = b"---\ntitle: Deploying the Gateway\ntags: [ops, gateway]\nowner: platform-team\n---\n\n" \
           b"Intro about the gateway.\n\n## Rollback\n\nRoll back with the wombat switch.\n"
    docs = read("deploy.md", page)
    assert docs[0].title == "Deploying the Gateway"
    assert block_with(docs, "wombat") == ("Deploying the Gateway › Rollback", 11, "Roll back with the wombat switch.")
    assert not any("platform-team" in text or "tags" in text for _, _, text in outline(docs))


def test_toml_front_matter_and_a_repeated_h1_title():
    docs = read("a.md", b"+++\ntitle = \"Release Process\"\n+++\n# Release Process\n\nTag the release.\n")
    assert docs[0].title == "Release Process"
    assert outline(docs) == [("Release Process", 6, "Tag the release.")]


def test_mdx_drops_imports_exports_and_jsx_but_keeps_the_text_between_tags():
    page = (b"---\ntitle: Install\n---\nimport Tabs from '@theme/Tabs';\nimport TabItem from '@theme/TabItem';\n\n"
            b"## Steps\n\n<Tabs>\n<TabItem value=\"pip\" label=\"pip\">\n\nInstall the numbat package.\n\n"
            b"</TabItem>\n</Tabs>\n\nUse <Badge text=\"new\"/> mode {props.mode}.\n\n```js\nimport x from 'y'\n```\n\n"
            b"export const meta = {\n  secret: 'zzzexport'\n}\n")
    docs = read("install.mdx", page)
    assert docs[0].title == "Install"
    texts = [text for _, _, text in outline(docs)]
    assert block_with(docs, "numbat") == ("Install › Steps", 12, "Install the numbat package.")
    assert "Use mode ." in texts
    assert "import x from 'y'" in "\n".join(texts)  # code keeps its imports
    assert not any("Tabs" in t or "TabItem" in t or "zzzexport" in t or "@theme" in t for t in texts)


def test_asciidoc_sections_anchors_and_listings():
    page = (b"= Operations Guide\n:toc:\n:author: Ops\n\nPreamble text.\n\n[[restart]]\n== Restarting\n\n"
            b"Restart the quokka service.\n\n[source,bash]\n----\nsystemctl restart quokka\n\nsleep 2\n----\n\n"
            b"=== Checks\n\nCheck the logs.\n\n////\ncomment zzzhidden\n////\n")
    docs = read("ops.adoc", page)
    assert docs[0].title == "Operations Guide"
    assert block_with(docs, "quokka service") == ("Operations Guide › Restarting", 10, "Restart the quokka service.")
    code = block_with(docs, "systemctl")
    assert code[:2] == ("Operations Guide › Restarting", 14) and "sleep 2" in code[2]
    assert block_with(docs, "logs")[0] == "Operations Guide › Restarting › Checks"
    assert [s.anchor for s in docs[0].sections if s.headings == ["Restarting"]] == ["restart"]
    assert not any("zzzhidden" in t or ":author:" in t for _, _, t in outline(docs))


def test_rst_through_docutils_sections_labels_and_lines():
    page = (b"Admin Guide\n===========\n\nIntro paragraph\non two lines.\n\n.. _backups:\n\nBackups\n-------\n\n"
            b"Take a backup of the kiwi store.\n\n.. code-block:: bash\n\n   kiwi backup --all\n\nRestore\n~~~~~~~\n\n"
            b"See :ref:`backups` first.\n\n.. note:: Restores are slow.\n\nUpgrades\n--------\n\nUpgrade last.\n")
    docs = read("admin.rst", page)
    assert docs[0].title == "Admin Guide"
    assert block_with(docs, "kiwi store") == ("Admin Guide › Backups", 12, "Take a backup of the kiwi store.")
    assert block_with(docs, "kiwi backup")[0] == "Admin Guide › Backups"
    assert block_with(docs, "Restores are slow") == ("Admin Guide › Backups › Restore", 23, "Note: Restores are slow.")
    assert block_with(docs, "Upgrade last")[0] == "Admin Guide › Upgrades"
    assert [s.anchor for s in docs[0].sections if s.headings == ["Backups"]] == ["backups"]
    assert block_with(docs, "Intro")[1] == 4


def test_rst_does_not_read_other_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("zzzsecret")
    docs = read("a.rst", f"Title\n=====\n\n.. include:: {secret}\n\n.. raw:: html\n\n   <b>zzzraw</b>\n\nBody.\n".encode())
    assert not any("zzzsecret" in t or "zzzraw" in t for _, _, t in outline(docs))


def test_pdf_pages_and_outline_sections(tmp_path):
    path = make_pdf(tmp_path / "runbook.pdf", [
        "Intro to the runbook.",
        "Restart the wombat service.\n\nThen check the logs.",
        "Appendix about the numbat cache.",
    ], title="Ops Runbook", outline=[(0, "Restarting", 2), (1, "Checks", 2), (0, "Appendix", 3)])
    docs = read("runbook.pdf", path.read_bytes())
    assert docs[0].title == "Ops Runbook"
    assert block_with(docs, "wombat")[:2] == ("Ops Runbook › Restarting › Checks", 2)
    assert block_with(docs, "numbat")[:2] == ("Ops Runbook › Appendix", 3)
    assert block_with(docs, "Intro")[:2] == ("Ops Runbook", 1)
    assert place("runbook.pdf", 2, 2) == "p. 2" and place("runbook.pdf", 2, 3) == "pp. 2-3"


def test_pdf_without_metadata_or_outline_uses_the_file_name(tmp_path):
    path = make_pdf(tmp_path / "x.pdf", ["Only page, about the bilby."])
    docs = read("incident-review.pdf", path.read_bytes())
    assert docs[0].title == "incident review"
    assert outline(docs) == [("incident review", 1, "Only page, about the bilby.")]


def test_docx_headings_lists_tables_and_paragraph_numbers(tmp_path):
    path = make_docx(tmp_path / "design.docx", "Cache Design", [
        ("p", "Why we need a cache."), ("h1", "Goals"), ("p", "Serve the quoll pages fast."),
        ("bullet", "p95 under 50 ms"), ("h2", "Non-goals"), ("table", "Item | Owner\nEviction | Ana"),
    ])
    docs = read("design.docx", path.read_bytes())
    assert docs[0].title == "Cache Design"
    assert block_with(docs, "quoll") == ("Cache Design › Goals", 3, "Serve the quoll pages fast.")
    assert block_with(docs, "p95")[0] == "Cache Design › Goals"
    assert block_with(docs, "Eviction") == ("Cache Design › Goals › Non-goals", 6, "Item | Owner\nEviction | Ana")
    assert place("design.docx", 3, 3) == "¶ 3"


def test_pptx_slides_are_sections_with_notes(tmp_path):
    path = make_pptx(tmp_path / "review.pptx", [
        ("Quarterly Review", ["Q3 2026"], ""),
        ("Revenue", ["Up 10 percent", "Bilby sales lead"], "Mention the pangolin deal."),
        ("Risks", ["Supply of kiwis"], ""),
    ])
    docs = read("review.pptx", path.read_bytes())
    assert docs[0].title == "Quarterly Review"
    assert block_with(docs, "Bilby") == ("Quarterly Review › Revenue", 2, "Up 10 percent\nBilby sales lead")
    assert block_with(docs, "pangolin") == ("Quarterly Review › Revenue", 2, "Notes: Mention the pangolin deal.")
    assert block_with(docs, "kiwis")[:2] == ("Quarterly Review › Risks", 3)
    assert place("review.pptx", 3, 3) == "slide 3"


@pytest.mark.parametrize("name, data, reason", [
    ("corrupt.pdf", b"%PDF-1.7\n1 0 obj garbage", "not a readable PDF"),
    ("corrupt.docx", b"PK\x03\x04 not really a zip", "not a readable Word file"),
    ("corrupt.pptx", b"just text", "not a readable PowerPoint file"),
    ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024, "password-protected"),
    ("old.ppt.pptx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024, "save it as .pptx"),
])
def test_unreadable_documents_say_why(name, data, reason):
    with pytest.raises(ValueError, match=reason):
        read(name, data)


def test_a_word_file_named_pptx_says_what_it_is(tmp_path):
    path = make_docx(tmp_path / "d.docx", "T", [("p", "x")])
    with pytest.raises(ValueError, match="not a PowerPoint file"):
        read("d.pptx", path.read_bytes())


def test_the_time_limit_stops_a_long_pdf_between_pages(tmp_path):
    path = make_pdf(tmp_path / "long.pdf", [f"Page {n} text." for n in range(1, 41)])
    ticks = iter(range(10_000))  # a clock that advances one second per look
    with pytest.raises(ValueError, match=r"took over 5 s .*page \d+ of 40"):
        read("long.pdf", path.read_bytes(), Deadline(5, clock=lambda: next(ticks)))


def test_one_list_of_extensions():
    assert {".md", ".mdx", ".rst", ".adoc", ".html", ".csv", ".txt", ".pdf", ".docx", ".pptx"} <= set(EXTENSIONS)
    from alpaca_index.ingest.loading import DOC_EXTENSIONS

    assert DOC_EXTENSIONS == frozenset(EXTENSIONS)


def prose(topic: str, words: int = 70) -> str:
    """A paragraph long enough to be its own chunk (tiny sections merge into their neighbours)."""
    filler = ("this section explains the procedure in detail with the usual caveats about timing "
              "ownership escalation and verification steps that operators follow").split()
    return f"{topic}. " + " ".join(filler[i % len(filler)] for i in range(words)) + "."


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, embedder):
    """One docs folder with every format, indexed for real (LanceDB on disk, the real model)."""
    from alpaca_index.api import DocsIndex
    from tests.index.sample_files import make_scanned_pdf

    base = tmp_path_factory.mktemp("mixed")
    docs = base / "docs"
    docs.mkdir()
    intro = prose("An overview of the service and who runs it")
    (docs / "guide.md").write_text(f"---\ntitle: Gateway Guide\n---\n\n{intro}\n\n## Timeouts\n\n"
                                   f"{prose('The gateway timeout is 30 s')}\n")
    (docs / "admin.rst").write_text(f"Admin Guide\n===========\n\n{intro}\n\nBackups\n-------\n\n"
                                    f"{prose('Back up the kiwi store nightly')}\n")
    (docs / "page.html").write_text(f"<html><head><title>Portal</title></head><body><p>{intro}</p><h2>Login</h2>"
                                    f"<p>{prose('The portal login uses the echidna badge')}</p></body></html>")
    (docs / "ops.adoc").write_text(f"= Operations\n\n{intro}\n\n== Restarting\n\n"
                                   f"{prose('Restart the quokka daemon with care')}\n")
    (docs / "install.mdx").write_text(f"import X from 'x';\n\n# Install\n\n{intro}\n\n## Agent\n\n"
                                      f"<Note>{prose('Install the numbat agent first')}</Note>\n")
    wrap = lambda text: "\n".join(text[i:i + 90] for i in range(0, len(text), 90))  # noqa: E731 (PDF lines)
    make_pdf(docs / "runbook.pdf", [wrap(intro), wrap(prose("To restart the wombat service, drain it first"))],
             title="Ops Runbook", outline=[(0, "Restarting", 2)])
    make_docx(docs / "design.docx", "Cache Design", [("p", intro), ("h1", "Goals"),
                                                     ("p", prose("Serve the quoll pages fast"))])
    make_pptx(docs / "review.pptx", [("Quarterly Review", [intro], ""),
                                     ("Revenue", [prose("Bilby sales doubled this quarter")], "")])
    make_scanned_pdf(docs / "scan.pdf")
    (docs / "locked.pdf").write_bytes(make_pdf(base / "l.pdf", ["secret"], password="pw").read_bytes())
    index = DocsIndex(base / "db", embedder=embedder)
    return index, index.sync([docs])


def test_a_mixed_folder_indexes_every_format(mixed):
    index, report = mixed
    assert sorted(report.added) == ["admin.rst", "design.docx", "guide.md", "install.mdx", "ops.adoc", "page.html",
                                    "review.pptx", "runbook.pdf"]
    why = {s.path: s.reason for s in report.skipped}
    assert "no text layer" in why["scan.pdf"] and "password-protected" in why["locked.pdf"]


@pytest.mark.parametrize("query, path, heading_path, where", [
    ("how do I restart the wombat service", "runbook.pdf", "Ops Runbook › Restarting", "p. 2"),
    ("bilby sales", "review.pptx", "Quarterly Review › Revenue", "slide 2"),
    ("quoll pages", "design.docx", "Cache Design › Goals", "¶ 3"),
    ("kiwi store backups", "admin.rst", "Admin Guide › Backups", "line 9"),
    ("quokka daemon restart", "ops.adoc", "Operations › Restarting", "line 7"),
    ("numbat agent install", "install.mdx", "Install › Agent", "line 9"),
    ("gateway timeout", "guide.md", "Gateway Guide › Timeouts", "line 9"),
    ("echidna badge login", "page.html", "Portal › Login", "line 1"),
])
def test_search_finds_each_format_with_its_place(mixed, query, path, heading_path, where):
    index, _ = mixed
    hit = index.search_files(query, 3)[0]
    assert (hit.path, hit.heading_path, place(hit.path, hit.start_line, hit.end_line)) == (path, heading_path, where)


def test_an_answer_cites_the_pdf_page(mixed):
    from alpaca_index.answer import AnswerSettings, answer

    index, _ = mixed
    result = answer(index, "How do I restart the wombat service?", AnswerSettings(k=3))
    cited = [s for s in result.sources if s["path"] == "runbook.pdf"]
    assert cited and place(cited[0]["path"], cited[0]["start_line"], cited[0]["end_line"]) == "p. 2"
