"""The Python side as the .vsix ships it: the wheel that `npm run package` bundles installs into a fresh
environment and runs from outside the repository (the editor's "Create Environment and Install").

Dependencies come from the shared environment (a path file) rather than from an index, so the test
takes seconds; pip resolving them from an index is what `make demo`'s measured install exercises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.models.wheel_env import clean_env, venv_with_wheel

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not shutil.which("node"):
        pytest.skip("node is needed to run the extension's packaging step")
    out = REPO / "extension" / "python"
    subprocess.run(["node", str(REPO / "extension" / "scripts" / "build-wheel.mjs")], check=True, timeout=300,
                   env={**os.environ, "PYTHON": sys.executable}, capture_output=True)
    wheels = list(out.glob("alpaca_docs-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_the_bundled_wheel_installs_and_runs_without_the_repository(wheel, tmp_path):
    python, site = venv_with_wheel(wheel, tmp_path / "venv")
    clean = clean_env()
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def run(*args):
        return subprocess.run(args, cwd=outside, env=clean, capture_output=True, text=True, timeout=120)

    where = run(str(python), "-c", "import alpaca_index, alpaca_server; print(alpaca_index.__file__); "
                                   "print(alpaca_server.__file__)")
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(site)) for line in where.stdout.split()), where.stdout  # the wheel's copy
    probe = run(str(python), "-c", "import importlib.util as u, sys; sys.exit(0 if u.find_spec('alpaca_server') else 3)")
    assert probe.returncode == 0  # what the extension's interpreter probe checks
    listed = run(str(python.parent / "alpaca"), "model", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["catalog"]["mistral-7b-instruct"]["file"] == "mistral-7b-instruct-v0.2.Q4_K_M.gguf"
    server = subprocess.Popen([str(python), "-m", "alpaca_server"], cwd=outside, env=clean, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
    out, _ = server.communicate(b"Content-Length: %d\r\n\r\n%s" % (len(body), body), timeout=120)
    assert b'"executeCommandProvider"' in out and b"alpaca.models.pull" in out  # the set-up commands are served
