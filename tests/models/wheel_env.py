"""A fresh virtual environment with Alpaca's wheel installed the way the .vsix's does it, offline: the
wheel itself with --no-deps, the dependencies taken from this test run's environment (a path file),
so it takes seconds instead of minutes of pip."""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv
from pathlib import Path


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def venv_with_wheel(wheel: Path, env_dir: Path) -> tuple[Path, Path]:
    """(python, site-packages) of a new venv at `env_dir` holding `wheel`."""
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        text=True).strip())
    # the dependencies (llama-cpp-python, onnxruntime, lancedb…), not the package: this environment's
    # site-packages (its editable alpaca install is a .pth finder there, which a plain path entry does not run)
    (site / "shared-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   env=clean_env(), timeout=300)
    return python, site
