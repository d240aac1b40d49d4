"""The E2E modules' one shared fixture. It lives here, not in a test module: a session fixture imported
into several modules is a separate fixture in each (pytest registers it per module), so the .vsix step
ran once per module and each run wiped the artifacts of the modules before it."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.test_editor import ARTIFACTS, CHROMIUM, HERE, PYTHON, _required


@pytest.fixture(scope="session")
def vsix() -> Path:
    """The packaged extension (tests/e2e/setup.sh: tooling on first use, a repackage when sources changed)."""
    if not Path(CHROMIUM).exists():
        msg = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if _required():
            pytest.fail(msg)
        pytest.skip(msg)
    probe = subprocess.run([PYTHON, "-c", "import alpaca_server"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail(f"{PYTHON} cannot import alpaca_server (install the package): {probe.stderr.strip()[-300:]}")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # artifacts always describe the last run
    ARTIFACTS.mkdir(parents=True)
    started = time.monotonic()
    out = subprocess.run(["bash", str(HERE / "setup.sh")], capture_output=True, text=True, timeout=1500)
    if out.returncode != 0:
        pytest.fail(f"tests/e2e/setup.sh failed:\n{out.stderr[-4000:]}")
    print(f"e2e setup took {time.monotonic() - started:.0f} s")
    return Path(out.stdout.strip().splitlines()[-1])
