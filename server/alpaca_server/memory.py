"""Give freed heap back to the system after big steps (opening the index, a sync pass).

Reading the chunks table, encoding and merging allocate and free tens of MB at a time; glibc keeps
the freed pages (and Arrow's allocator its own), so a server that stays up all day would hold its
peak forever. `malloc_trim` and Arrow's `release_unused` return them (~60–100 MB on the full corpus)
in a few milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

import pyarrow as pa

log = logging.getLogger(__name__)
_libc: ctypes.CDLL | bool | None = None  # False: not glibc, nothing to trim


def release_memory() -> None:
    global _libc
    pa.default_memory_pool().release_unused()  # Arrow's allocator (mimalloc) keeps its own free pages
    if _libc is False or not sys.platform.startswith("linux"):
        return
    try:
        if _libc is None:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        assert isinstance(_libc, ctypes.CDLL)
        _libc.malloc_trim(0)
    except (OSError, AttributeError) as exc:  # not glibc (e.g. musl): nothing to trim
        log.debug("malloc_trim unavailable: %s", exc)
        _libc = False
