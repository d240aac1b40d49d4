"""The claim check against hand labels of sentences a model really wrote.

    python bench/claim_labels.py [--results bench/results/answers_stop23_k4_rule3.json]

`bench/claim_labels.jsonl`: every claim the check found in the drafts of one answer-bench run
(Qwen2.5-Coder-1.5B-Instruct, k = 4), labelled by reading the passages the model was given, without
seeing the check's scores: `yes` (a passage states it; every number and name as written), `partial`
(the core is there, a detail is not), `no`, `none` (not a claim). Positive = `yes`; `partial` and
`no` are negatives. Reports how often the check agrees, the hand-labelled share of supported claims
in the dev answers the product shows, and a two-fold sweep of the thresholds (fit on odd question
ids, score on even, and back) to see whether other values would hold on data they weren't fit on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.answer import grounding  # noqa: E402
from alpaca_index.answer.grounding import _MARKUP  # noqa: E402
from alpaca_index.embedding.embedder import Embedder  # noqa: E402
from answers import regrade  # noqa: E402

HERE = Path(__file__).resolve().parent
GRID = {"MIN_SIMILARITY": [0.65, 0.7, 0.75, 0.8, 0.85],
        "MIN_SIMILARITY_WITH_WORDS": [0.3, 0.4, 0.5, 0.6],
        "MIN_WORD_SHARE": [0.5, 0.6, 0.7, 0.8]}


def replay(rows: list[dict], labels: dict[tuple[str, str], str], encode, judge=None) -> list[dict]:
    """Each draft through today's check (`answers.regrade`): per claim, the check's status and the hand
    label (None when today's splitting found a sentence the labels don't have)."""
    out = []
    for row in rows:
        if not row.get("draft") or not row.get("passages") or row["refusal_reason"] == "retrieval":
            continue
        checked = regrade(dict(row), encode, judge)
        claims = [{"status": c["status"], "label": label(labels, row["id"], c["text"]),
                   "shown": c.get("shown", True) is not False}
                  for c in (checked["grounding"] or {}).get("claims", [])]
        out.append({"id": row["id"], "group": row["group"], "shown": not (checked["refused"] or checked["withheld"]),
                    "claims": claims})
    return out


def label(labels: dict[tuple[str, str], str], question: str, claim: str) -> str | None:
    """The hand label of a claim; labels written before stop 32 name claims whose inline code had lost its
    `_` and `*` to the markup strip ("`early stopping type`"), so that spelling is tried too."""
    return labels.get((question, claim)) or labels.get((question, " ".join(_MARKUP.sub(" ", claim).split())))


def agreement(replayed: list[dict]) -> dict:
    pairs = [(c["label"], c["status"] == grounding.SUPPORTED) for r in replayed for c in r["claims"]
             if c["label"] not in (None, "none")]
    tp = sum(label == "yes" and ok for label, ok in pairs)
    fp = sum(label != "yes" and ok for label, ok in pairs)
    pos = sum(label == "yes" for label, _ in pairs)
    neg = len(pairs) - pos
    # what the reader sees: the claims the gate released into shown answers
    shown = Counter(c["label"] for r in replayed if r["shown"] and r["group"] == "dev" for c in r["claims"]
                    if c["shown"])
    shown_claims = sum(v for k, v in shown.items() if k not in (None, "none"))
    return {"claims": len(pairs), "supported_kept": round(tp / max(pos, 1), 3),
            "unsupported_caught": round((neg - fp) / max(neg, 1), 3),
            "balanced": round((tp / max(pos, 1) + (neg - fp) / max(neg, 1)) / 2, 3),
            "precision": round(tp / max(tp + fp, 1), 3),
            "dev_answers_shown": sum(r["shown"] for r in replayed if r["group"] == "dev"),
            "dev_shown_claims_labelled_yes": round(shown["yes"] / max(shown_claims, 1), 3),
            "dev_shown_claims_yes_or_partial": round((shown["yes"] + shown["partial"]) / max(shown_claims, 1), 3),
            "unlabelled_claims": sum(c["label"] is None for r in replayed for c in r["claims"])}


def with_thresholds(params: dict, rows, labels, encode) -> dict:
    saved = {k: getattr(grounding, k) for k in params}
    try:
        for k, v in params.items():
            setattr(grounding, k, v)
        return agreement(replay(rows, labels, encode))
    finally:
        for k, v in saved.items():
            setattr(grounding, k, v)


def fit(rows, labels, encode) -> dict:
    best = None
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values))
        if params["MIN_SIMILARITY_WITH_WORDS"] > params["MIN_SIMILARITY"]:
            continue
        score = with_thresholds(params, rows, labels, encode)
        key = (0.4 * score["supported_kept"] + 0.6 * score["unsupported_caught"], score["balanced"])
        if best is None or key > best[0]:
            best = (key, params)
    assert best is not None
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=HERE / "results" / "answers_stop23_k4_rule3.json")
    parser.add_argument("--labels", type=Path, default=HERE / "claim_labels.jsonl")
    parser.add_argument("--no-sweep", action="store_true")
    args = parser.parse_args()
    rows = json.loads(args.results.read_text())["rows"]
    labels = {(r["question"], r["claim"]): r["label"] for r in map(json.loads, args.labels.read_text().splitlines())}
    encode = grounding.encoding_once(Embedder().encode)  # one vector per text across the sweep
    current = {k: getattr(grounding, k) for k in GRID}
    report: dict = {"labels": dict(Counter(labels.values())), "current": {**current, **agreement(
        replay(rows, labels, encode))}}
    if not args.no_sweep:
        def half(parity: int) -> list[dict]:
            return [r for r in rows if int("".join(filter(str.isdigit, r["id"])) or 0) % 2 == parity]
        for fold in (0, 1):
            params = fit(half(1 - fold), labels, encode)
            report[f"fold{fold}"] = {"fitted_on_other_half": params,
                                     "held_out": with_thresholds(params, half(fold), labels, encode),
                                     "current_on_same_half": with_thresholds(current, half(fold), labels, encode)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
