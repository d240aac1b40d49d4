"""Real editor, second scenario: a two-folder workspace (each folder with its own docs settings,
one index) holding a PDF. Search lists both folders' same-named pages and the PDF by page; an
answer cites the PDF by page and clicking the citation opens the PDF (drive.mjs, MODE=workspace)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_editor import PYTHON, drive, launch_editor
from tests.index.sample_files import FILLER, make_pdf, wrap

QUESTION = "How do I restart the wombat service?"


def write_two_folders(base):
    """team-a: default docs/ folder with a PDF; team-b: its own folder setting (handbook + docs)."""
    a, b = base / "team-a", base / "team-b"
    (a / "docs").mkdir(parents=True)
    (b / "docs").mkdir(parents=True)
    (b / "handbook").mkdir()
    (b / ".vscode").mkdir()
    overview = "The catalog team owns this runbook; it lists contacts, dashboards and escalation paths. " + FILLER
    restart = ("To restart the wombat service, drain the node from the load balancer first, then stop the wombat "
               "daemon, wait for open connections to close, start it again and check the health endpoint. " + FILLER)
    make_pdf(a / "docs" / "runbook.pdf", [wrap(overview), wrap(restart)], title="Wombat Runbook",
             outline=[(0, "Overview", 1), (0, "Restarting the service", 2)])
    for team, folder in (("A", a), ("B", b)):
        (folder / "docs" / "index.md").write_text(
            f"# Team {team} numbat onboarding\n\nNumbat onboarding for team {team}: request access, read the "
            f"numbat handbook and pair with a team {team} engineer in the first week. {FILLER}\n")
    (b / "handbook" / "guide.md").write_text(
        f"# Kiwi rotation handbook\n\nThe kiwi rotation moves on-call duty every Tuesday. {FILLER}\n")
    (b / ".vscode" / "settings.json").write_text(json.dumps({"alpaca.docsPaths": ["handbook", "docs"]}))
    workspace_file = base / "two-teams.code-workspace"
    workspace_file.write_text(json.dumps({"folders": [{"path": "team-a"}, {"path": "team-b"}],
                                          "settings": {"alpaca.pythonPath": PYTHON}}, indent=2))
    return workspace_file


@pytest.fixture(scope="module")
def run(vsix, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("workspace-editor")
    workspace_file = write_two_folders(base / "multi")
    searches = [["wombat restart drain", "team-a/docs/runbook.pdf · p. 2"],
                ["kiwi rotation on-call", "handbook/guide.md"],
                ["numbat onboarding", "team-a/docs/index.md"],
                ["numbat onboarding", "team-b/docs/index.md"]]
    with launch_editor(vsix, base, PYTHON, open_path=workspace_file) as editor:
        return drive(editor, MODE="workspace", WORKSPACE_FILE=str(workspace_file), QUESTION=QUESTION,
                     SEARCHES=json.dumps(searches))


def _step(result: dict, name: str):
    value = result["steps"].get(name)
    assert value, f"step {name} failed: {result['errors']}"
    return value


def test_two_folder_workspace_reaches_ready(run):
    assert "Alpaca: ready" in _step(run, "statusReady")["text"]


def test_each_folder_uses_its_own_docs_setting_and_same_names_do_not_collide(run):
    rows = _step(run, "searches")
    assert [r["query"] for r in rows] == ["wombat restart drain", "kiwi rotation on-call", "numbat onboarding",
                                         "numbat onboarding"]


def test_an_answer_cites_the_pdf_by_page(run):
    answer = _step(run, "askPdf")
    assert any(c["title"].endswith("runbook.pdf · p. 2") for c in answer["citations"])


def test_the_pdf_citation_opens_the_pdf_at_its_page(run):
    opened = _step(run, "pdfCitationOpens")
    # no PDF viewer extension here: revealed in the Explorer, the page named, raw PDF never shown as text
    assert "runbook.pdf" in opened["revealed"] and opened["page"] == "p. 2" and opened["textTab"] == 0
    assert "Open Anyway" in opened["buttons"] and "no viewer for .pdf files" in opened["message"]
