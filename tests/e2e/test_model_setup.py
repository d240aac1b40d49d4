"""Real editor, model set-up: from the .vsix to an answer written by a model obtained through the tool.

The Python side is the wheel inside the .vsix, installed into a fresh virtual environment (its
dependencies come from this test's environment through a path file, as in tests/models/test_wheel.py,
so it takes seconds rather than minutes of pip). No answer model is configured: the first answer
quotes passages and the editor offers **Set Up Answer Model**; its quick pick downloads a GGUF from
the hub, here a local stand-in (HF_ENDPOINT, tests/models/standins.py FakeHub) serving
SmolLM2-135M-Instruct slowly enough to watch the progress notification; the answer model is then
that file, run in-process by llama.cpp: **Ask the Docs** streams its answer with sources and a
verdict, and a follow-up joins the thread (drive.mjs, MODE=setup). The user's config, models folder
and hub cache are never touched (ALPACA_CONFIG, ALPACA_MODELS_DIR, HF_HOME are throwaway folders)
and nothing leaves the machine (the hub and Ollama addresses are on the loopback).

ALPACA_E2E_SETUP_GGUF=/path/to/model.gguf runs the same scenario with that instruct GGUF instead (e.g. one
strong enough to judge the claim check by): served under its own file name, fast enough to arrive in
~25 s, and with the answer timeouts of a model that needs minutes on two cores. Unset (CI): SmolLM2.
ALPACA_E2E_MODEL_QUESTION replaces the first question put to the model (one that model answers, so the
panel shows checked sentences and the ones held back).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.answer.instruct_model import Unavailable, instruct_gguf
from tests.e2e.test_editor import (
    _free_port,
    _required,
    _step,
    drive,
    launch_editor,
)
from tests.models.standins import FakeHub
from tests.models.wheel_env import clean_env, venv_with_wheel

# Another instruct GGUF than SmolLM2 (opt-in, never in CI): see the module's docstring.
SETUP_GGUF = Path(os.environ["ALPACA_E2E_SETUP_GGUF"]) if os.environ.get("ALPACA_E2E_SETUP_GGUF") else None
# The stand-in hub's repository: named for what it serves, not for a real one (nothing is fetched from a hub).
HUB_FILE = SETUP_GGUF.name if SETUP_GGUF else "SmolLM2-135M-Instruct.Q4_1.gguf"
HUB_REPO = f"alpaca-test/{Path(HUB_FILE).stem}-GGUF" if SETUP_GGUF else "alpaca-test/SmolLM2-135M-Instruct-GGUF"
HUB_RATE = 10_000_000  # bytes a second: the 98 MB download takes ~10 s, long enough to see its progress
SLOW_MODEL_DOWNLOAD_SECONDS = 25  # a larger file comes at size/25 bytes a second (still slow enough to watch)
# a 1.5B model on two cores reads ~65 prompt tokens a second and writes ~8: minutes per answer, not seconds
ANSWER_TIMEOUT_MS = 900_000 if SETUP_GGUF else 180_000
DRIVE_TIMEOUT = 2400 if SETUP_GGUF else 1200
if SETUP_GGUF:
    pytestmark = pytest.mark.timeout(DRIVE_TIMEOUT + 600)  # the run fixture runs inside the first test
QUESTION = "How do I create an asynchronous inference endpoint?"
MODEL_QUESTION = os.environ.get("ALPACA_E2E_MODEL_QUESTION") or "How do I invoke an asynchronous inference endpoint?"
FOLLOW_UP = "and how do I check its predictions?"
# answer-model settings of the environment the test runs in: the editor must start with none
ANSWER_ENV = ("ALPACA_MODEL", "ALPACA_ENDPOINT", "ALPACA_ENDPOINT_MODEL", "ALPACA_ENDPOINT_CTX", "ALPACA_API_KEY",
              "ALPACA_ALLOW_REMOTE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE")


@pytest.fixture(scope="module")
def python_from_vsix(vsix: Path, tmp_path_factory) -> str:
    """A fresh venv with the wheel the .vsix carries (extension/python/*.whl) and nothing else of this checkout."""
    base = tmp_path_factory.mktemp("vsix-python")
    with zipfile.ZipFile(vsix) as package:
        members = [n for n in package.namelist() if re.fullmatch(r"extension/python/alpaca_docs-[^/]+\.whl", n)]
        assert len(members) == 1, f"the .vsix should carry one wheel: {members}"
        wheel = base / Path(members[0]).name
        wheel.write_bytes(package.read(members[0]))
    python, site = venv_with_wheel(wheel, base / "venv")
    clean = clean_env()
    where = subprocess.run([str(python), "-c", "import alpaca_server, llama_cpp; print(alpaca_server.__file__)"],
                           capture_output=True, text=True, env=clean, cwd=base, timeout=120)
    assert where.returncode == 0 and where.stdout.startswith(str(site)), where.stderr or where.stdout
    return str(python)


@pytest.fixture(scope="module")
def gguf() -> Path:
    if SETUP_GGUF:
        assert SETUP_GGUF.is_file(), f"ALPACA_E2E_SETUP_GGUF={SETUP_GGUF} is not a file"
        return SETUP_GGUF
    try:
        return instruct_gguf()
    except Unavailable as exc:
        if _required():
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def hub(gguf: Path):
    rate = max(HUB_RATE, gguf.stat().st_size / SLOW_MODEL_DOWNLOAD_SECONDS)
    with FakeHub({(HUB_REPO, HUB_FILE): gguf.read_bytes()}, rate=rate) as server:
        yield server


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("model-setup-user")
    return {"config": base / "config" / "config.json", "models": base / "models", "hf_home": base / "hf-home"}


@pytest.fixture(scope="module")
def run(vsix, python_from_vsix, hub, folders, tmp_path_factory) -> dict:
    env_vars = {key: None for key in ANSWER_ENV}
    env_vars.update(HF_ENDPOINT=hub.url, HF_HOME=str(folders["hf_home"]), HF_HUB_DISABLE_TELEMETRY="1",
                    ALPACA_CONFIG=str(folders["config"]), ALPACA_MODELS_DIR=str(folders["models"]),
                    OLLAMA_HOST=f"http://127.0.0.1:{_free_port()}")  # no Ollama there: the pick says so
    base = tmp_path_factory.mktemp("setup-editor")
    with launch_editor(vsix, base, python_from_vsix, clean_env=True, env_vars=env_vars) as editor:
        return drive(editor, timeout=DRIVE_TIMEOUT, MODE="setup", QUESTION=QUESTION, MODEL_QUESTION=MODEL_QUESTION,
                     FOLLOW_UP=FOLLOW_UP, HUB_MODEL=f"{HUB_REPO} {HUB_FILE}", ANSWER_TIMEOUT_MS=str(ANSWER_TIMEOUT_MS))


def test_without_a_model_the_answer_quotes_passages_and_the_editor_offers_the_set_up(run):
    first = _step(run, "askWithoutModel")
    assert first["badge"] == "no model" and "without a model" in first["notice"], first
    assert first["meta"].startswith("no model"), first
    assert "no answer model is set up" in first["offer"]["message"], first
    assert "Set Up Answer Model" in first["offer"]["buttons"], first


def test_the_set_up_quick_pick_lists_the_ways_to_get_a_model(run):
    pick = _step(run, "setupQuickPick")
    items = " | ".join(pick["items"])
    for entry in ("Mistral 7B Instruct", "Download another model from the hub", "Use Ollama",
                  "OpenAI-compatible server", "Choose a GGUF file", "No model"):
        assert entry in items, items
    assert "not running at http://127.0.0.1:" in items, items  # the Ollama row says why it can't be used
    assert "none (quoted passages)" in pick["placeholder"], pick
    assert "another model from the hub" in pick["chose"]
    assert Path(run["screenshots"]["13-setup-quick-pick"]).stat().st_size > 10_000


def test_the_download_shows_its_size_first_then_progress_and_the_model_is_used(run, hub, gguf, folders):
    done = _step(run, "download")
    size = gguf.stat().st_size  # shown as the extension's humanSize does: 98.23 MB, 1.12 GB
    shown = f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.2f} MB"
    assert HUB_FILE in done["confirm"] and shown in done["confirm"], done
    assert str(folders["models"]) in done["confirm"], done  # where it goes
    assert HUB_FILE in done["progressShown"] and "MB of" in done["progressShown"], done
    assert len(done["percents"]) >= 3 and done["percents"] == sorted(done["percents"]), done
    assert HUB_FILE in done["used"] and "local, in-process" in done["used"], done
    assert Path(run["screenshots"]["14-download-progress"]).stat().st_size > 10_000
    # the real file, verified and stored in the models folder; remembered in the (throwaway) config file
    stored = folders["models"] / HUB_REPO.replace("/", "--") / HUB_FILE
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hub.shas[(HUB_REPO, HUB_FILE)]
    remembered = json.loads(folders["config"].read_text())["answer"]
    assert Path(remembered["model_path"]) == stored.resolve(), remembered
    assert any(r["method"] == "GET" and HUB_FILE in r["path"] for r in hub.requests), hub.requests


def _model_turn(turn: dict) -> None:
    """Written by the downloaded model through llama.cpp, with sources and a verdict. The 135M model is
    weak: a cited answer, a flagged one, a withheld draft or a refusal are all honest outcomes. An answer
    streams its checked sentences; a withheld draft or a refusal never reaches the panel's answer."""
    assert turn["meta"].startswith("local model (llama.cpp)"), turn
    assert turn["rendered"][-1] == "done" and turn["updates"] >= 2, turn
    shown = turn["verdictKind"] != "refused" and "withheld" not in turn["verdict"]
    assert "streaming" in turn["rendered"] or not shown, turn
    assert turn["verdict"] and turn["verdictKind"] in ("ok", "warn", "info", "refused"), turn
    if turn["verdictKind"] == "refused":
        assert turn["badge"] == "not in docs" and turn["citations"] == 0, turn
    else:
        assert turn["badge"] == "done" and turn["sources"], turn
        assert turn["citations"] >= 1 or "withheld" in turn["verdict"] or turn["verdictKind"] in ("warn", "info"), turn


def test_ask_streams_an_answer_from_the_downloaded_model(run):
    answer = _step(run, "askWithModel")
    assert answer["question"] == MODEL_QUESTION and answer["turns"] == 1, answer
    _model_turn(answer)


def test_a_follow_up_is_answered_by_the_model_in_the_thread(run):
    follow = _step(run, "followUpWithModel")
    assert follow["turns"] == 2 and follow["history"] == 1, follow
    assert follow["earlierQuestion"] == MODEL_QUESTION and follow["question"] == FOLLOW_UP, follow
    assert follow["query"].startswith("Searched for:"), follow  # the follow-up was searched with its context
    _model_turn(follow)
    assert Path(run["screenshots"]["15-follow-up-with-model"]).stat().st_size > 10_000


def test_status_names_the_model_and_the_run_is_clean(run):
    status = _step(run, "showStatus")
    assert any(item.startswith("Answers") and "llama.cpp" in item for item in status["items"]), status
    assert not run["errors"], run["errors"]
