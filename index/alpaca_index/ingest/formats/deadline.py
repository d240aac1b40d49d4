"""The per-file time limit of reading a document (readers check it between pages and slides)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

FILE_TIME_LIMIT = 60.0  # seconds one file's extraction may take (a 500-page PDF takes about one); env ALPACA_FILE_TIME_LIMIT


class Deadline:
    """A per-file time limit checked between pages/slides (a library call itself is not interrupted)."""

    def __init__(self, seconds: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        seconds = _configured_limit() if seconds is None else seconds
        self.seconds = seconds
        self.until = clock() + seconds

    def check(self, done: int, total: int, unit: str) -> None:
        if self.clock() > self.until:
            raise ValueError(f"took over {self.seconds:g} s to read (stopped at {unit} {done} of {total}); "
                             "split the file or raise the time limit")


def _configured_limit() -> float:
    try:
        value = float(os.environ.get("ALPACA_FILE_TIME_LIMIT") or FILE_TIME_LIMIT)
    except ValueError:
        return FILE_TIME_LIMIT
    return value if value > 0 else FILE_TIME_LIMIT
