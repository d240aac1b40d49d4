"""Loaded by every Python process started with this folder on PYTHONPATH: installs the egress guard."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
try:
    import egress_guard
finally:
    del sys.path[0]  # only the guard: the test folder's other modules stay out of the server's path

egress_guard.install()
