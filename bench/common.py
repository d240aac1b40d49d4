"""Shared bench helpers: corpus subsets, timing, percentiles, JSON output."""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# the shared corpus sits beside the checkout; ALPACA_SHARED points elsewhere (e.g. a CI clone in /tmp)
SHARED = next((d for d in (Path(os.environ.get("ALPACA_SHARED", "")), REPO.parent / "shared", Path("/work/shared"))
               if str(d) not in ("", ".") and (d / "corpus").is_dir()), REPO.parent / "shared")
CORPUS = SHARED / "corpus"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"
PAGE_FOLDERS = ("sagemaker-dg", "cfn-sagemaker")  # faq/ is left out: the labels list pages only


def corpus_pages(corpus: Path) -> list[str]:
    return sorted(p.relative_to(corpus).as_posix() for folder in PAGE_FOLDERS for p in (corpus / folder).rglob("*.md"))


def subset(corpus: Path, questions: list, distractors: int, seed: int = 7) -> list[str]:
    """Every page the questions name plus `distractors` other pages chosen at random (seeded)."""
    relevant = {p for q in questions for p in q.relevant}
    others = [p for p in corpus_pages(corpus) if p not in relevant]
    return sorted(relevant | set(random.Random(seed).sample(others, min(distractors, len(others)))))


def copy_pages(corpus: Path, pages: list[str], dest: Path) -> Path:
    """A writable copy (the benches edit pages) holding exactly `pages`."""
    for rel in pages:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus / rel, target)
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


def latency_ms(call, inputs: list, repeats: int = 3) -> dict:
    """p50/p95 in ms of `call(x)` over the inputs, after one warm-up call."""
    call(inputs[0])
    times = []
    for _ in range(repeats):
        for item in inputs:
            with Timer() as t:
                call(item)
            times.append(t.seconds * 1000)
    return {"p50_ms": round(percentile(times, 0.5), 1), "p95_ms": round(percentile(times, 0.95), 1), "n": len(times)}


def median(values: list[float]) -> float:
    return statistics.median(values)


def save(results: dict, out: Path | None) -> None:
    text = json.dumps(results, indent=2)
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
