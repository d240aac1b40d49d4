"""Real editor, first run without the server package: **Create Environment and Install**, clicked.

code-server starts with alpaca.pythonPath = a bare venv (no alpaca, no pip). The notification says
the package is missing and offers "Create Environment and Install"; drive.mjs (MODE=install) clicks
it and the extension (extension/src/common/setup.ts createEnvironment) creates <globalStorage>/venv,
pip-installs the wheel carried inside the .vsix with its dependencies from the package index (PyPI,
or what this machine's pip is configured with; pip's cache makes a repeat faster, as for a user),
llama-cpp-python from `alpaca.server.llamaCppIndex` (a local "simple" index holding this
environment's copy, repacked: tests/e2e/prebuilt_index.py) and the embedding weights. The server
then starts from that venv: the status bar reaches ready, the index is built and Ask the Docs
answers with sources. The new environment has no path into this checkout and no torch (the
embeddings run on ONNX Runtime). No answer model is configured (the answer quotes passages) and
the user's config is never read (ALPACA_CONFIG etc. are throwaway).
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.e2e.prebuilt_index import llama_cpp_index
from tests.e2e.test_editor import (
    ARTIFACTS,
    ROOT,
    _required,
    _step,
    drive,
    launch_editor,
)
from tests.e2e.test_model_setup import ANSWER_ENV
from tests.models.wheel_env import clean_env

QUESTION = "How do I create an asynchronous inference endpoint?"
INSTALL = "Create Environment and Install"
# what the new environment's Python says about itself, run outside the checkout with no PYTHONPATH
PROBE = r"""
import importlib.metadata, importlib.util, json, sys, sysconfig, pathlib
import alpaca_index, alpaca_server, llama_cpp
site = pathlib.Path(sysconfig.get_path("purelib"))
print(json.dumps({
    "prefix": sys.prefix, "path": sys.path,
    "files": {m.__name__: m.__file__ for m in (alpaca_index, alpaca_server, llama_cpp)},
    "llama_cpp_version": importlib.metadata.version("llama-cpp-python"),
    "torch": importlib.util.find_spec("torch") is not None,
    "onnxruntime": importlib.util.find_spec("onnxruntime") is not None,
    "pth": {p.name: p.read_text() for p in site.glob("*.pth")},
}))
"""


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """A Python without the package (and without pip): what a user's interpreter looks like before the install."""
    bare = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    return str(bare / "bin" / "python")


@pytest.fixture(scope="module")
def llama_index(tmp_path_factory) -> tuple[str, Path]:
    try:
        importlib.metadata.distribution("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        msg = "llama-cpp-python is not installed here (the llm extra): nothing to serve as a prebuilt wheel"
        if _required():
            pytest.fail(msg)
        pytest.skip(msg)
    return llama_cpp_index(tmp_path_factory.mktemp("llama-index"))


@pytest.fixture(scope="module")
def run(vsix, bare_python, llama_index, tmp_path_factory) -> dict:
    index_url, _ = llama_index
    user = tmp_path_factory.mktemp("install-user")
    env_vars: dict[str, str | None] = {key: None for key in ANSWER_ENV}
    env_vars.update(ALPACA_CONFIG=str(user / "config.json"), ALPACA_MODELS_DIR=str(user / "models"),
                    HF_HOME=str(user / "hf-home"))
    base = tmp_path_factory.mktemp("install-editor")
    with launch_editor(vsix, base, bare_python, clean_env=True, env_vars=env_vars,
                       machine_settings={"alpaca.server.llamaCppIndex": index_url}) as editor:
        result = drive(editor, MODE="install", QUESTION=QUESTION)
    venvs = list(editor["user_data"].glob("**/globalStorage/alpaca.alpaca-docs/venv"))
    logs = sorted((ARTIFACTS / f"editor-logs-{base.name}").glob("**/alpaca.alpaca-docs/Alpaca.log"))
    return {**result, "venv": venvs[0] if len(venvs) == 1 else None, "venvs": venvs,
            "log": "\n".join(p.read_text(errors="replace") for p in logs),
            "workspace_settings": json.loads((editor["workspace"] / ".vscode" / "settings.json").read_text()),
            "extensions": base / "extensions", "bare_python": bare_python}


@pytest.fixture(scope="module")
def probe(run, tmp_path_factory) -> dict:
    assert run["venv"], f"expected one <globalStorage>/venv, found {run['venvs']}"
    out = subprocess.run([str(run["venv"] / "bin" / "python"), "-c", PROBE], capture_output=True, text=True,
                         env=clean_env(), cwd=tmp_path_factory.mktemp("elsewhere"), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_the_missing_package_is_explained_with_a_one_click_install(run, bare_python):
    offer = _step(run, "offer")
    assert "server not running" in offer["status"], offer
    assert f"is not installed for {bare_python}" in offer["message"], offer
    assert INSTALL in offer["buttons"], offer
    assert Path(run["screenshots"]["16-create-environment-offer"]).stat().st_size > 10_000


def test_the_click_installs_the_wheel_inside_the_vsix_with_prebuilt_llama_cpp(run, llama_index):
    index_url, wheel = llama_index
    install = _step(run, "install")
    venv = run["venv"]
    shown = " | ".join(install["shown"])
    print(f"Create Environment and Install: {install['seconds']} s (whole drive {run['seconds']} s)")
    for message in (f"creating a Python environment in {venv}", "installing alpaca_docs-", "installing llama-cpp-python (prebuilt)",
                    "installing the embedding model"):
        assert message in shown, shown
    assert "installing torch" not in shown and "from source" not in shown, shown
    assert re.match(rf"Alpaca: installed alpaca_docs-[^ ]+\.whl in {re.escape(str(venv))}; alpaca.pythonPath "
                    r"\(this workspace's setting\) now points there\.$", install["done"]), install  # nothing skipped
    assert Path(run["screenshots"]["17-install-progress"]).stat().st_size > 10_000
    # pip was given the wheel shipped inside the installed extension, and the prebuilt index for llama.cpp
    pip_runs = re.findall(r"pip: \S+ -m pip (install .*)", run["log"])
    wheel_runs = [r for r in pip_runs if re.search(r"/python/alpaca_docs-[^/ ]+\.whl", r)]
    assert wheel_runs and all(str(run["extensions"]) in r for r in wheel_runs), pip_runs
    assert any(f"--extra-index-url {index_url} --prefer-binary" in r for r in pip_runs), pip_runs
    assert wheel.name in run["log"], "pip did not take llama-cpp-python from the prebuilt index"
    assert "Building wheel for llama-cpp-python" not in run["log"]


def test_the_new_environment_stands_alone(run, probe, llama_index):
    """Its own packages, none of this checkout (no path file, no PYTHONPATH), and no torch."""
    venv = run["venv"]
    for module, file in probe["files"].items():
        assert Path(file).is_relative_to(venv), (module, file)
    checkout, test_site = str(ROOT), sysconfig.get_path("purelib")
    assert not [p for p in probe["path"] if p.startswith((checkout, test_site))], probe["path"]
    assert not [name for name, text in probe["pth"].items() if checkout in text or test_site in text], probe["pth"]
    assert probe["onnxruntime"] and not probe["torch"], probe
    assert probe["llama_cpp_version"] == importlib.metadata.version("llama-cpp-python"), probe
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    # the interpreter setting now names the new environment, where it was set (this workspace's settings)
    assert run["workspace_settings"]["alpaca.pythonPath"] == str(venv / "bin" / "python"), run["workspace_settings"]


def test_the_server_starts_from_it_and_builds_the_index(run):
    ready = _step(run, "statusReady")
    assert "Alpaca: ready" in ready["text"] and "(10 docs)" in ready["text"], ready
    starts = re.findall(r"Python: (\S+) \(from the alpaca.pythonPath setting\)", run["log"])
    # the bare one, then the new one, once: a second start would have killed the first mid-index
    assert starts == [run["bare_python"], str(run["venv"] / "bin" / "python")], starts
    assert Path(run["screenshots"]["18-ready-after-install"]).stat().st_size > 10_000
    status = _step(run, "showStatus")
    assert any(item.startswith("State") and "ready" in item for item in status["items"]), status


def test_ask_the_docs_answers_with_sources(run):
    ask = _step(run, "ask")
    assert ask["question"] == QUESTION, ask
    assert ask["citations"] >= 1 and ask["sources"], ask
    assert any("async-inference-create-endpoint.md" in s for s in ask["sources"]), ask
    assert Path(run["screenshots"]["19-answer-after-install"]).stat().st_size > 10_000
    assert not run["errors"], run["errors"]
