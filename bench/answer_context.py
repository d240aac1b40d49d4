"""What the model reads: how often a labelled page is among the k passages an answer is written from,
on dev and on our own question set (pages are the labels: no model, no reference answers needed).

    python bench/answer_context.py --db COPY_OF_FULL_INDEX [--out bench/results/answer_context.json]

Compares the shipped choice (`answerer._passages`: the best section of each of the k best pages, in
search's page order) with the one before it (`answerer._distinct_chunks`: the k best chunks, at most
two per page), under the shipped search settings and under stop 24's (rank fusion).
A passage set without a labelled page can still hold the answer (another page may say it too), and
one with it may miss the section that answers: this is a proxy, measured for both choices alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.answer.answerer import _distinct_chunks, _passages  # noqa: E402
from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.retrieval.evaluation import load_questions  # noqa: E402
from alpaca_index.retrieval.search import SearchSettings  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402
from retrieval_cv import OWN_QUESTIONS, STOP_24, labelled  # noqa: E402


def choices(index: DocsIndex, question: str, k: int) -> dict[str, list]:
    hits = index.search(question, k=max(k * 3, 20))  # what the answer path retrieves
    return {"pages (shipped)": _passages(hits, index.search_files(question, k), k),
            "best chunks (before)": _distinct_chunks(hits, k)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/results/answer_context.json"))
    args = parser.parse_args()
    index = DocsIndex(args.db, read_only=True)
    sets = {"dev": load_questions(DEV_QUESTIONS), "own": load_questions(OWN_QUESTIONS)}
    rows = []
    for settings_name, settings in (("shipped", SearchSettings()), ("stop 24", STOP_24)):
        index.searching = settings
        for group, questions in sets.items():
            for k in (3, 4):
                found: dict[str, list[str]] = {}
                for q in questions:
                    for name, passages in choices(index, q.question, k).items():
                        if {labelled(h) for h in passages} & set(q.relevant):
                            found.setdefault(name, []).append(q.id)
                for name in ("pages (shipped)", "best chunks (before)"):
                    ids = found.get(name, [])
                    rows.append({"search": settings_name, "set": group, "k": k, "passages": name,
                                 "with_labelled_page": len(ids), "questions": len(questions), "ids": ids})
                    print(f"{settings_name:8} {group} k={k} {name:22} {len(ids)}/{len(questions)}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"db": str(args.db), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
