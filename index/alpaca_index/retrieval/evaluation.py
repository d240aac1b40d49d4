"""File-level retrieval metrics on a questions file like ../shared/eval/dev_questions.jsonl."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Question:
    id: str
    question: str
    relevant: list[str]


def load_questions(path: str | Path) -> list[Question]:
    questions = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(Question(str(row.get("id", n)), row["question"], list(row["relevant"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a question row ({exc})") from None
    return questions


def score(questions: list[Question], ranked_paths: Callable[[str], list[str]], k: int = 5, mrr_depth: int = 10) -> dict:
    """hit@k, recall@k and MRR@depth over files; `ranked_paths(question)` returns distinct paths."""
    per_question: list[dict[str, Any]] = []
    for q in questions:
        ranked = ranked_paths(q.question)[:max(k, mrr_depth)]
        relevant = set(q.relevant)
        top = ranked[:k]
        found = relevant.intersection(top)
        first = next((i for i, p in enumerate(ranked[:mrr_depth], 1) if p in relevant), None)
        per_question.append({
            "id": q.id, "question": q.question, "relevant": q.relevant, "ranked": ranked[:k],
            "hit": bool(found), "recall": len(found) / len(relevant) if relevant else 0.0,
            "rr": 1.0 / first if first else 0.0,
        })
    n = max(1, len(per_question))
    return {
        "questions": len(per_question),
        f"hit@{k}": sum(q["hit"] for q in per_question) / n,
        f"recall@{k}": sum(q["recall"] for q in per_question) / n,
        f"mrr@{mrr_depth}": sum(q["rr"] for q in per_question) / n,
        "per_question": per_question,
    }
