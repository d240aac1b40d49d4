"""Loaded by every Python process started with this folder on PYTHONPATH: installs the egress guard."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import egress_guard  # noqa: E402

egress_guard.install()
