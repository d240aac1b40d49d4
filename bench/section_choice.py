"""Which section of each page the model reads: search's first (what it reads first) vs the one holding the sentence
closest to the question (`sections.closest`, what a retry after a withheld draft reads; stop 34), scored without a
model by how many of the reference answer's words (those the question doesn't already use) the k passages hold.
Dev and own set 2 have reference answers; own set 1 doesn't. The live run with the closest sections as the first
reading is `answers_stop34.json`.

    python bench/section_choice.py --db COPY_OF_FULL_INDEX [--out bench/results/section_choice.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.answer import answerer, grounding, sections  # noqa: E402
from alpaca_index.api import DocsIndex  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402
from retrieval_cv import OWN_QUESTIONS_2  # noqa: E402

K = 4
SENTENCES_PER_PAGE = (4, 8, 16, 1000)  # 1000: every sentence of the page's retrieved sections


def answer_words_held(question: dict, passages: list) -> float:
    wanted = grounding.words(question["answer"]) - grounding.words(question["question"])
    held = grounding.words(" ".join(h.text for h in passages))
    return len(wanted & held) / max(1, len(wanted))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/results/section_choice.json"))
    args = parser.parse_args()
    index = DocsIndex(args.db, read_only=True)
    rows = []
    for name, path in (("dev", DEV_QUESTIONS), ("own 2", OWN_QUESTIONS_2)):
        questions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        found = [index.search_pages(q["question"], K, chunks=max(K * 3, 20)) for q in questions]
        candidates = [answerer._page_sections(f.pages[:K], f.chunks) for f in found]
        first = [[sections[0] for sections in pages] for pages in candidates]
        rows.append({"set": name, "choice": "search's first section",
                     "answer_words_held": round(statistics.mean(map(answer_words_held, questions, first)), 3)})
        for per_page in SENTENCES_PER_PAGE:
            held, ms = [], []
            sections.PER_PAGE = per_page
            for q, pages in zip(questions, candidates):
                started = time.perf_counter()
                passages = sections.closest(q["question"], pages, index.embedder.encode_query, index.embedder.encode)
                ms.append((time.perf_counter() - started) * 1000)
                held.append(answer_words_held(q, passages))
            rows.append({"set": name, "choice": f"closest sentence, {per_page} per page by shared words",
                         "answer_words_held": round(statistics.mean(held), 3),
                         "median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1)})
            print(rows[-1], flush=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    for row in rows:
        print(f"{row['set']:6} {row['choice']:52} {row['answer_words_held']:.3f} {row.get('median_ms', '')}")


if __name__ == "__main__":
    main()
