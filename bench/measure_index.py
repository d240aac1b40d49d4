"""Index speed: cold index vs encoding the same chunks alone, no-change re-sync, edit→searchable."""

from __future__ import annotations

from pathlib import Path

from alpaca_index.api import DocsIndex
from alpaca_index.embedding import Embedder
from common import Timer, median, percentile


def cold_index(docs: Path, db: Path, embedder: Embedder) -> tuple[DocsIndex, dict]:
    """Full pipeline from an empty index, then the lower bound: encoding the same distinct texts."""
    embedder.encode(["warm up, so model loading is not counted"])
    index = DocsIndex(db, embedder=embedder)
    with Timer() as cold:
        report = index.sync([docs])
    texts = list(dict.fromkeys(index.store.chunks.to_arrow().column("embed_text").to_pylist()))
    with Timer() as encode_only:
        embedder.encode(texts)
    return index, {
        "pages": len(report.added), "chunks": index.status()["chunks"], "distinct_texts": len(texts),
        "cold_index_s": round(cold.seconds, 1), "encode_only_s": round(encode_only.seconds, 1),
        "cold_vs_encode_only": round(cold.seconds / encode_only.seconds, 3),
        "chunks_per_s": round(len(texts) / cold.seconds, 1),
    }


EDIT_MARKERS = [
    "quokka telemetry lattice for orbital greenhouse irrigation",
    "walrus choir rehearsal schedule on the lighthouse ferry",
    "origami volcano insurance claims handled by the pastry guild",
    "saxophone glacier mapping with carrier pigeon relays",
    "tapestry weaving robots in the desert observatory cafeteria",
]


def freshness(index: DocsIndex, docs: Path, edits: int = len(EDIT_MARKERS)) -> dict:
    """Re-sync with nothing changed, and one edited page → re-synced → found by a search."""
    no_change = []
    for _ in range(3):
        with Timer() as t:
            report = index.sync([docs])
        assert report.chunks_encoded == 0, "a no-change sync encoded text"
        no_change.append(t.seconds)
    pages = sorted(docs.rglob("*.md"))
    edit_times, ranks = [], []
    for n in range(edits):
        page = pages[(n * 97) % len(pages)]
        marker = EDIT_MARKERS[n % len(EDIT_MARKERS)]
        with page.open("a", encoding="utf-8") as fh:
            fh.write(f"\n\n## Bench edit {n}\n\nThe {marker} applies here.\n")
        with Timer() as t:
            index.sync([docs])
            found = [docs / h.path for h in index.search_files(marker, k=5)]
        assert page in found, f"edited page {page} not in the top 5 after its sync"
        edit_times.append(t.seconds)
        ranks.append(found.index(page) + 1)
    return {
        "resync_no_change_s": round(median(no_change), 3),
        "edit_to_searchable_p50_s": round(percentile(edit_times, 0.5), 3),
        "edit_to_searchable_max_s": round(max(edit_times), 3), "edited_page_ranks": ranks,
    }
