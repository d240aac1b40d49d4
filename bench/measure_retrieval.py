"""Retrieval quality on the dev questions: Alpaca's search modes, recall@k, and chunking ablations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from alpaca_index.api import DocsIndex
from alpaca_index.embedding import Embedder
from alpaca_index.ingest.chunking import ChunkSettings
from alpaca_index.retrieval.evaluation import score


def metrics(questions, ranked) -> dict:
    result = score(questions, ranked)
    out = {k: round(v, 3) for k, v in result.items() if k.startswith(("hit@", "recall@", "mrr@"))}
    out["misses@5"] = [q["id"] for q in result["per_question"] if not q["hit"]]
    return out


def files_of(index: DocsIndex):
    return lambda question: [h.path for h in index.search_files(question, 10)]


def search_modes(index: DocsIndex, questions) -> dict:
    """Hybrid (the default) next to its vector-only and full-text-only halves."""
    default = index.searching
    modes = {"hybrid": default, "vector only": replace(default, text_weight=0.0),
             "full-text only": replace(default, vector_weight=0.0)}
    results = {}
    for name, settings in modes.items():
        index.searching = settings
        results[name] = metrics(questions, files_of(index))
    index.searching = default
    return results


def recall_at(questions, ranked, ks=(1, 3, 5, 10)) -> dict:
    """recall@k for several k, from one ranking per question."""
    rankings = {q.id: ranked(q.question) for q in questions}
    return {k: round(sum(len(set(q.relevant) & set(rankings[q.id][:k])) / len(q.relevant) for q in questions)
                     / len(questions), 3) for k in ks}


CHUNKING_VARIANTS = {
    "default (256 tokens, heading context, title chunks)": ChunkSettings(),
    "no heading context": ChunkSettings(heading_context=False),
    "no title chunks": ChunkSettings(title_chunks=False),
    "128-token chunks": ChunkSettings(max_tokens=128, overlap_tokens=16, min_tokens=24),
    "192-token chunks": ChunkSettings(max_tokens=192, overlap_tokens=24, min_tokens=36),
}


def chunking_ablations(docs: Path, db: Path, questions, embedder: Embedder) -> dict:
    """One index re-synced under each setting (unchanged texts reuse their vectors)."""
    results = {}
    for name, settings in CHUNKING_VARIANTS.items():
        index = DocsIndex(db, embedder=embedder, chunking=settings)
        report = index.sync([docs])
        results[name] = metrics(questions, files_of(index)) | {"chunks": index.status()["chunks"],
                                                                "encoded": report.chunks_encoded}
    return results

