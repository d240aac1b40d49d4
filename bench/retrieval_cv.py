"""Retrieval levers scored on three question sets: our own two (bench/own_questions.jsonl and
bench/own_questions2.jsonl, each written from pages drawn at random before any ranking was run on it:
they decide) and dev (40 questions), with every setting chosen on dev cross-validated (5 folds: chosen
on 4/5, scored on the held 1/5). With --tuned, the adapted model is paired against the packaged one.

    python bench/retrieval_cv.py --db COPY_OF_FULL_INDEX [--tuned COPY_TUNED_BY_ALPACA_TUNE]

The index is `alpaca index CORPUS/sagemaker-dg CORPUS/cfn-sagemaker` (pages only, FAQ left out), like
/work/indexes/baseline.

The copies must be yours (the first open adds the identifier-aware full-text column; this script adds
a full-text index on the plain embedded text too, so both can be compared on one table). Candidates
(vector and full text, at the depth `search_files(q, 10)` uses) are computed once per question; each
configuration then runs the real `fuse` and `best_per_file` from alpaca_index.retrieval.search, and the shipped
defaults are checked against a real `DocsIndex.search_files` call.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import asdict, replace
from itertools import product
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lancedb.index import FTS  # noqa: E402

from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.retrieval.evaluation import load_questions, score  # noqa: E402
from alpaca_index.retrieval.search import SearchSettings, best_per_file, fuse, keyword_query  # noqa: E402
from alpaca_index.storage.store import FTS_COLUMN  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402

OWN_QUESTIONS = Path(__file__).resolve().parent / "own_questions.jsonl"
OWN_QUESTIONS_2 = Path(__file__).resolve().parent / "own_questions2.jsonl"  # written at stop 27, unseen before
RESULTS = Path(__file__).resolve().parent / "results" / "retrieval_cv.json"
K, MRR_DEPTH, FOLDS, SEED = 5, 10, 5, 2026
BASELINE = SearchSettings(fusion="ranks", candidates=50, identifiers=False, page_decay=0.0, nav_weight=1.0, family_weight=0.0)
STOP_24 = SearchSettings(fusion="ranks", page_decay=0.2, candidates=50)  # the defaults before score fusion
DECAY_GRID = {"page_decay": [0.0, 0.1, 0.2, 0.3, 0.5]}
PAGE_GRID = {**DECAY_GRID, "nav_weight": [1.0, 0.5, 0.25], "family_weight": [0.0, 0.25, 0.5]}
FUSION_GRID = {"text_weight": [0.5, 0.75, 1.0, 1.5]}


class Candidates:
    """Vector and full-text candidates of each question on one index, computed once."""

    def __init__(self, index: DocsIndex, questions: list[str], depth: int):
        self.index, self.depth = index, depth
        table = index.store.chunks
        names = {i.columns[0] for i in table.list_indices() if i.index_type == "FTS"}
        if "embed_text" not in names:  # the plain-text column, for the "identifiers off" comparison
            table.create_index("embed_text", config=FTS(with_position=False), replace=False)
        self.vectors = {q: index.vectors.search(table, index.embedder.encode_query(q), depth) for q in questions}
        self.text = {(q, column, ids): self._text(table, q, column, ids)
                     for q in questions for column, ids in (("embed_text", False), (FTS_COLUMN, True))}

    def _text(self, table, question: str, column: str, identifiers: bool) -> list[dict]:
        words = keyword_query(question, identifiers)
        return table.search(words, query_type="fts", fts_columns=column).limit(self.depth).to_list() if words else []

    def ranked(self, question: str, settings: SearchSettings) -> list[str]:
        """What DocsIndex.search_files(question, 10) returns under `settings`, from the cached candidates."""
        key = (FTS_COLUMN, True) if settings.identifiers else ("embed_text", False)
        depth = max(MRR_DEPTH * 8, settings.candidates)  # what search_files(q, 10) fetches per list
        assert depth <= self.depth, "candidates were computed too shallow for these settings"
        text_rows = self.text[(question, *key)][:depth] if settings.text_weight > 0 else []
        hits = fuse(self.vectors[question][:depth], text_rows, depth, depth, settings)
        return [labelled(h) for h in best_per_file(hits, MRR_DEPTH, settings)]


def labelled(hit) -> str:
    """Paths as the question files name them: the docs folder's name, then the path inside it. An
    index of the corpus folder has them already; one built from corpus/sagemaker-dg and
    corpus/cfn-sagemaker as two roots lacks the folder."""
    if hit.path.split("/", 1)[0] in ("sagemaker-dg", "cfn-sagemaker"):
        return hit.path
    root = hit.abspath[: -len(hit.path) - 1]
    return f"{Path(root).name}/{hit.path}"


def evaluate(cands: Candidates, questions, settings: SearchSettings) -> dict:
    return score(questions, lambda q: cands.ranked(q, settings), k=K, mrr_depth=MRR_DEPTH)


def summary(per_question: list[dict]) -> dict:
    n = max(1, len(per_question))
    return {"hit@5": sum(q["hit"] for q in per_question) / n, "recall@5": sum(q["recall"] for q in per_question) / n,
            "mrr@10": sum(q["rr"] for q in per_question) / n, "questions": len(per_question)}


def objective(per_question: list[dict]) -> float:
    s = summary(per_question)
    return s["recall@5"] + s["mrr@10"]


def grid(base: SearchSettings, axes: dict) -> list[SearchSettings]:
    """`base` first (ties go to it), then every combination of the axes."""
    combos = [replace(base, **dict(zip(axes, values))) for values in product(*axes.values())]
    return [base] + [c for c in combos if c != base]


def cross_validate(cands: Candidates, questions, configs: list[SearchSettings]) -> dict:
    """Choose on 4/5 of the questions, score the held 1/5; per-question results of all folds pooled."""
    per = {c: {r["id"]: r for r in evaluate(cands, questions, c)["per_question"]} for c in configs}
    ids = [q.id for q in questions]
    random.Random(SEED).shuffle(ids)
    held, chosen = [], []
    for fold in range(FOLDS):
        test = set(ids[fold::FOLDS])
        train = [i for i in ids if i not in test]
        best = max(configs, key=lambda c: objective([per[c][i] for i in train]))  # first wins ties
        chosen.append(best)
        held.extend(per[best][i] for i in ids if i in test)
    full = max(configs, key=lambda c: objective(list(per[c].values())))
    return {"cv": summary(held), "chosen_per_fold": [_diff(c) for c in chosen], "chosen_on_all_dev": full}


def _diff(settings: SearchSettings) -> dict:
    default = asdict(SearchSettings())
    return {k: v for k, v in asdict(settings).items() if k in ("fusion", "identifiers", "page_decay", "nav_weight", "family_weight", "text_weight")
            or v != default[k]}


def lever_rows(cands: Candidates, dev, own, own2, label: str, base: SearchSettings, axes: dict | None) -> dict:
    """One table row: dev (cross-validated if the lever has settings) and our two sets (with the setting
    chosen on all of dev: what would ship)."""
    if axes:
        cv = cross_validate(cands, dev, grid(base, axes))
        shipped = cv["chosen_on_all_dev"]
        dev_scores, folds = cv["cv"], cv["chosen_per_fold"]
    else:
        shipped = base
        dev_scores, folds = summary(evaluate(cands, dev, base)["per_question"]), []
    own_result = evaluate(cands, own, shipped)
    return {"lever": label, "dev_cv": dev_scores, "own": summary(own_result["per_question"]),
            "own2": summary(evaluate(cands, own2, shipped)["per_question"]),
            "settings": _diff(shipped), "chosen_per_fold": folds,
            "own_misses": [{"id": q["id"], "ranked": q["ranked"][:3], "relevant": q["relevant"]}
                           for q in own_result["per_question"] if q["rr"] < 1.0]}


def bootstrap_noise(cands: Candidates, dev, settings: SearchSettings, rounds: int = 2000) -> float:
    """Standard deviation of dev MRR@10 over resampled question sets: the noise of 40 questions."""
    rr = [q["rr"] for q in evaluate(cands, dev, settings)["per_question"]]
    rng = random.Random(SEED)
    return statistics.pstdev(statistics.fmean(rng.choices(rr, k=len(rr))) for _ in range(rounds))


def paired(cands: Candidates, questions, before: SearchSettings, after: SearchSettings, rounds: int = 4000) -> dict:
    """MRR@10 change per question, with a 95 % bootstrap interval, and questions moved in or out of the top 5."""
    return compare(evaluate(cands, questions, before)["per_question"],
                   evaluate(cands, questions, after)["per_question"], rounds)


def paired_models(packaged: Candidates, tuned: Candidates, questions, rounds: int = 4000) -> dict:
    """The adapted model against the packaged one, both with the shipped settings, per question."""
    a = evaluate(packaged, questions, SearchSettings())["per_question"]
    b = evaluate(tuned, questions, SearchSettings())["per_question"]
    return {"packaged": summary(a), "tuned": summary(b), **compare(a, b, rounds)}


def compare(a: list[dict], b: list[dict], rounds: int) -> dict:
    """Per-question results before (a) and after (b): MRR@10 change with a 95 % bootstrap interval."""
    diffs = [y["rr"] - x["rr"] for x, y in zip(a, b)]
    rng = random.Random(SEED)
    means = sorted(statistics.fmean(rng.choices(diffs, k=len(diffs))) for _ in range(rounds))
    return {"mrr_change": round(statistics.fmean(diffs), 3),
            "ci95": [round(means[int(rounds * 0.025)], 3), round(means[int(rounds * 0.975)], 3)],
            "ranked_higher": sum(d > 0 for d in diffs), "ranked_lower": sum(d < 0 for d in diffs),
            "recall_up": sum(y["recall"] > x["recall"] for x, y in zip(a, b)),
            "recall_down": sum(y["recall"] < x["recall"] for x, y in zip(a, b))}


def check_against_index(index: DocsIndex, cands: Candidates, questions, settings: SearchSettings) -> int:
    """Questions where the cached replay and a real search_files call disagree (must be 0)."""
    index.searching = settings
    return sum(cands.ranked(q.question, settings) != [labelled(h) for h in index.search_files(q.question, MRR_DEPTH)]
               for q in questions)


def table(rows: list[dict]) -> str:
    out = ["| lever | dev CV hit@5 | recall@5 | MRR@10 | own hit@5 | recall@5 | MRR@10 | own 2 hit@5 | recall@5 | "
           "MRR@10 | settings shipped |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        scores = " | ".join(f"{s['hit@5']:.3f} | {s['recall@5']:.3f} | {s['mrr@10']:.3f}"
                            for s in (r["dev_cv"], r["own"], r["own2"]))
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        out.append(f"| {r['lever']} | {scores} | {settings} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="your copy of the full-corpus index")
    parser.add_argument("--tuned", type=Path, help="your copy after `alpaca tune`")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    dev, own, own2 = load_questions(DEV_QUESTIONS), load_questions(OWN_QUESTIONS), load_questions(OWN_QUESTIONS_2)
    texts = sorted({q.question for q in dev + own + own2})
    depth = max(MRR_DEPTH * 8, SearchSettings().candidates)  # what search_files(q, 10) asks search() for
    started = time.perf_counter()
    rows, noise, candidates = [], {}, {}
    for name, db in (("packaged", args.db), ("tuned", args.tuned)):
        if db is None:
            continue
        index = DocsIndex(db)
        cands = candidates[name] = Candidates(index, texts, depth)
        tag = "" if name == "packaged" else "tuned model + "
        ident = replace(BASELINE, identifiers=True)
        rows.append(lever_rows(cands, dev, own, own2, (tag or "baseline (main) ") + "", BASELINE, None))
        rows.append(lever_rows(cands, dev, own, own2, tag + "identifier-aware full text", ident, None))
        rows.append(lever_rows(cands, dev, own, own2, tag + "page ranking (decay, nav weight; CV)", BASELINE, PAGE_GRID))
        rows.append(lever_rows(cands, dev, own, own2, tag + "fusion weight (CV)", BASELINE, FUSION_GRID))
        rows.append(lever_rows(cands, dev, own, own2, tag + "identifiers + page ranking (CV)", ident, PAGE_GRID))
        rows.append(lever_rows(cands, dev, own, own2, tag + "stop 24 defaults (identifiers, rank fusion, decay 0.2)",
                               STOP_24, None))
        rows.append(lever_rows(cands, dev, own, own2, tag + "identifiers + score fusion, page decay (CV)",
                               replace(SearchSettings(), page_decay=0.0), DECAY_GRID))
        shipped = SearchSettings()
        rows.append(lever_rows(cands, dev, own, own2, tag + "shipped defaults", shipped, None))
        rows[-1]["own_vs_stop_24"] = paired(cands, own, STOP_24, shipped)
        rows[-1]["own2_vs_stop_24"] = paired(cands, own2, STOP_24, shipped)
        rows[-1]["own2_vs_baseline"] = paired(cands, own2, BASELINE, shipped)
        noise[name] = bootstrap_noise(cands, dev, shipped)
        rows[-1]["replay_mismatches"] = check_against_index(index, cands, dev + own + own2, shipped)
    models = {}
    if len(candidates) == 2:
        models = {label: paired_models(candidates["packaged"], candidates["tuned"], qs)
                  for label, qs in (("dev", dev), ("own", own), ("own2", own2), ("both own sets", own + own2))}
    print(table(rows))
    for label, result in models.items():
        print(f"tuned vs packaged, shipped settings, {label}: {result}")
    print(f"\ndev MRR@10 bootstrap sd (40 questions): {noise}; {time.perf_counter() - started:.0f}s")
    for row in rows:
        if "own_vs_stop_24" in row:
            print(f"{row['lever']}: own set vs stop 24 defaults {row['own_vs_stop_24']}; "
                  f"replay mismatches {row['replay_mismatches']}")
            print(f"  own set 2 vs stop 24 defaults {row['own2_vs_stop_24']}; vs baseline {row['own2_vs_baseline']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "dev_mrr_sd": noise, "tuned_vs_packaged": models,
                                    "command": " ".join(sys.argv)}, indent=2, default=str))


if __name__ == "__main__":
    main()
