"""Calibrates the claim check (answer/grounding.py) on data no model wrote.

    python bench/calibrate_grounding.py --db INDEX_OF_THE_CORPUS

Claims: each sentence of the dev set's reference answers. Positive pair: the sentence and the chunk
of its labelled page that matches it best (the passage a correct answer would cite). Negative pair:
the sentence and the best-matching chunk of *another* dev question's labelled pages (a real passage,
cited for the wrong thing — what the KMS failure looked like). Also a number-swap test: positives
with one number changed must fail on key terms.

Thresholds are swept on one half of the dev questions (odd / even ids) and scored on the other
(two-fold); the reported accuracy is the held-out one. The final thresholds are those chosen on all
questions, which the held-out scores estimate.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.answer import grounding  # noqa: E402
from alpaca_index.api import DocsIndex  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402

GRID = {"min_similarity": [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8],
        "min_with_words": [0.3, 0.35, 0.4, 0.45, 0.5, 0.55],
        "min_word_share": [0.4, 0.5, 0.6, 0.7, 0.8]}


def best_chunk(index: DocsIndex, sentence: str, pages: list[str]) -> str | None:
    """The two chunks of `pages` closest to the sentence (an answer gets up to two chunks per page)."""
    hits = [h for page in pages for h in index.search(sentence, k=3, path_prefix=page.split("/", 1)[-1])]
    hits = sorted((h for h in hits if h.similarity is not None), key=lambda h: -h.similarity)[:2]
    return "\n\n".join(h.text for h in hits) if hits else None


def features(sentence: str, passage: str, encode) -> dict:
    g = grounding.check(f"{sentence} [1]", {1: passage}, encode)
    if not g.claims:
        return {}
    c = g.claims[0]
    return {"similarity": c.similarity, "word_share": c.word_share, "missing": c.missing}


def pairs(index: DocsIndex, rows: list[dict]) -> list[dict]:
    out = []
    encode = index.embedder.encode
    for row in rows:
        others = [p for r in rows if r["id"] != row["id"] for p in r["relevant"] if p not in row["relevant"]]
        for sentence in re.split(r"(?<=[.;])\s+|,\s+(?=(?:and |or |then )?(?:set|give|define|invoke|use|call|register|enable|create|check)\b)",
                                 row["answer"]):
            if len(sentence.split()) < 5:
                continue
            positive = best_chunk(index, sentence, row["relevant"])
            negative = best_chunk(index, sentence, sorted(set(others)))
            for label, passage in ((True, positive), (False, negative)):
                f = features(sentence, passage, encode) if passage else {}
                if f:
                    out.append({"id": row["id"], "label": label, "sentence": sentence, **f})
            numbers = re.findall(r"(?<![\w.])\d+(?![\w.])", sentence)
            if positive and numbers:  # the same sentence with one number changed
                swapped = re.sub(rf"(?<![\w.]){numbers[0]}(?![\w.])", str(int(numbers[0]) + 7), sentence, count=1)
                f = features(swapped, positive, encode)
                if f:
                    out.append({"id": row["id"], "label": False, "swap": True, "sentence": swapped, **f})
    return out


def accuracy(data: list[dict], params: dict, key_terms: bool = False) -> dict:
    """The meaning thresholds alone by default: the reference answers draw names from all over their
    page (e.g. MinCapacity in another section), so their key terms say more about the reference than
    about the rule, which has no threshold to tune (its effect is reported separately)."""
    def ok(d):
        return grounding.supported(d["similarity"], d["word_share"], d["missing"] if key_terms else [], **params)
    tp = sum(ok(d) for d in data if d["label"])
    tn = sum(not ok(d) for d in data if not d["label"])
    pos = sum(d["label"] for d in data)
    neg = len(data) - pos
    return {"supported_kept": round(tp / max(pos, 1), 3), "unsupported_caught": round(tn / max(neg, 1), 3),
            "balanced": round((tp / max(pos, 1) + tn / max(neg, 1)) / 2, 3)}


def fit(data: list[dict]) -> dict:
    best = None
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values))
        if params["min_with_words"] > params["min_similarity"]:
            continue
        score = accuracy(data, params)
        # catching invented claims matters more than keeping every true one: weight it
        key = (0.4 * score["supported_kept"] + 0.6 * score["unsupported_caught"], score["balanced"])
        if best is None or key > best[0]:
            best = (key, params)
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    args = parser.parse_args()
    index = DocsIndex(args.db, read_only=True)
    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    data = pairs(index, rows)
    swaps = [d for d in data if d.get("swap")]
    data = [d for d in data if not d.get("swap")]
    folds = {0: [d for d in data if int(re.sub(r"\D", "", d["id"]) or 0) % 2 == 0],
             1: [d for d in data if int(re.sub(r"\D", "", d["id"]) or 0) % 2 == 1]}
    held_out = {}
    for fold in (0, 1):
        params = fit(folds[1 - fold])
        held_out[f"fold{fold}"] = {"fitted_on_other_half": params, **accuracy(folds[fold], params)}
    final = fit(data)
    current = {"min_similarity": grounding.MIN_SIMILARITY, "min_with_words": grounding.MIN_SIMILARITY_WITH_WORDS,
               "min_word_share": grounding.MIN_WORD_SHARE}
    print(json.dumps({"pairs": len(data), "positives": sum(d["label"] for d in data),
                      "negatives": sum(not d["label"] for d in data), "number_swaps": len(swaps),
                      "number_swaps_caught": sum(bool(d["missing"]) for d in swaps),
                      "held_out": held_out, "fitted_on_all": final,
                      "current_thresholds": {**current, **accuracy(data, current)},
                      "current_with_key_terms": accuracy(data, current, key_terms=True),
                      "positives_with_a_missing_key_term": sum(bool(d["missing"]) for d in data if d["label"])},
                     indent=1))


if __name__ == "__main__":
    main()
