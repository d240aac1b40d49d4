"""Shared bench helpers: corpus copies, timing, JSON results (benchmarks print ratios from one run)."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
DEV_QUESTIONS = REPO.parent / "shared" / "eval" / "dev_questions.jsonl"


def copy_corpus(src: Path, dest: Path, ignore: tuple[str, ...] = ("faq",), limit: int | None = None) -> Path:
    """A writable copy of the docs (the bench edits pages); `limit` keeps the first N pages per folder."""
    for folder in sorted(p for p in src.iterdir() if p.is_dir() and p.name not in ignore):
        pages = sorted(folder.rglob("*.md"))[:limit]
        for page in pages:
            target = dest / page.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(page, target)
    return dest


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def save(results: dict, out: Path | None) -> None:
    text = json.dumps(results, indent=2)
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
