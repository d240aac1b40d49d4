"""Machine facts printed at the top of every result: cores, memory, library versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def facts() -> dict:
    versions = {}
    for package in ["alpaca-docs", "torch", "sentence-transformers", "lancedb", "llama-cpp-python",
                    "pygls", "langchain-text-splitters", "chromadb"]:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "memory_gib": round(memory, 1), "python": platform.python_version(),
            "platform": platform.platform(), "cpu": _cpu_model(), "versions": versions}


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
