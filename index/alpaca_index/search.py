"""Hybrid retrieval: vector and full-text candidates fused with weighted reciprocal rank fusion."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from alpaca_index.store import FTS_COLUMN, sql_quote

RRF_K = 60
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
_COLUMNS = ["id", "path", "root", "title", "heading_path", "anchor", "start_line", "end_line",
            "text", "kind", "mtime"]


@dataclass
class Hit:
    id: str
    path: str
    abspath: str
    title: str
    heading_path: str
    anchor: str
    start_line: int
    end_line: int
    text: str
    kind: str
    score: float
    similarity: float | None
    mtime: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SearchSettings:
    candidates: int = 50
    vector_weight: float = 1.0
    text_weight: float = 1.0


def keyword_query(text: str) -> str:
    """Full-text query from free text: words only, so punctuation can't break the query parser."""
    return " ".join(_WORD.findall(text))[:2000]


def _where(path_prefix: str | None, exclude_path: str | None) -> str | None:
    clauses = []
    if path_prefix:
        escaped = path_prefix.replace("'", "''").replace("%", "\\%").replace("_", "\\_")
        clauses.append(f"path LIKE '{escaped}%'")
    if exclude_path:
        clauses.append(f"path != {sql_quote(exclude_path)}")
    return " AND ".join(clauses) or None


def hybrid(table, query_vector: np.ndarray, query_text: str, k: int, settings: SearchSettings,
           path_prefix: str | None = None, exclude_path: str | None = None, vectors=None) -> list[Hit]:
    """`vectors` (a VectorCache) answers the vector half from memory; else LanceDB scans the table."""
    depth = max(settings.candidates, k)
    vector_rows = vector_candidates(table, query_vector, depth, path_prefix, exclude_path, vectors)
    text_rows = text_candidates(table, query_text, depth, settings, path_prefix, exclude_path)
    return fuse(vector_rows, text_rows, k, depth, settings)


def vector_candidates(table, query_vector: np.ndarray, depth: int, path_prefix: str | None = None,
                      exclude_path: str | None = None, vectors=None) -> list[dict]:
    if vectors is not None:
        return vectors.search(table, query_vector, depth, path_prefix, exclude_path)
    vq = table.search(query_vector, vector_column_name="vector").distance_type("cosine")
    if where := _where(path_prefix, exclude_path):
        vq = vq.where(where, prefilter=True)
    return vq.select(_COLUMNS + ["_distance"]).limit(depth).to_list()


def text_candidates(table, query_text: str, depth: int, settings: SearchSettings, path_prefix: str | None = None,
                    exclude_path: str | None = None) -> list[dict]:
    words = keyword_query(query_text)
    if not words or settings.text_weight <= 0:
        return []
    tq = table.search(words, query_type="fts", fts_columns=FTS_COLUMN)
    if where := _where(path_prefix, exclude_path):
        tq = tq.where(where, prefilter=True)
    return tq.select(_COLUMNS + ["_score"]).limit(depth).to_list()


def fuse(vector_rows: list[dict], text_rows: list[dict], k: int, depth: int, settings: SearchSettings) -> list[Hit]:
    """Weighted reciprocal rank fusion of the two candidate lists."""
    fused: dict[str, float] = {}
    rows: dict[str, dict] = {}
    similarity: dict[str, float] = {}
    for weight, ranked in ((settings.vector_weight, vector_rows), (settings.text_weight, text_rows)):
        for rank, row in enumerate(ranked):
            fused[row["id"]] = fused.get(row["id"], 0.0) + weight / (RRF_K + rank + 1)
            rows.setdefault(row["id"], row)
    for row in vector_rows:
        similarity[row["id"]] = 1.0 - float(row["_distance"])
    ordered = sorted(fused, key=lambda i: -fused[i])[:depth]
    return [_hit(rows[i], fused[i], similarity.get(i)) for i in ordered][: max(k, 0) or None]


def _hit(row: dict, score: float, similarity: float | None) -> Hit:
    return Hit(
        id=row["id"], path=row["path"], abspath=str(Path(row["root"]) / row["path"]), title=row["title"],
        heading_path=row["heading_path"], anchor=row["anchor"], start_line=int(row["start_line"]),
        end_line=int(row["end_line"]), text=row["text"], kind=row["kind"], score=score,
        similarity=similarity, mtime=float(row["mtime"]),
    )


def best_per_file(hits: list[Hit], k: int) -> list[Hit]:
    """One hit per file, keeping the file's best chunk (a section, not the title chunk, if tied)."""
    seen: dict[str, Hit] = {}
    for hit in hits:
        current = seen.get(hit.path)
        if current is None:
            seen[hit.path] = hit
        elif current.kind == "title" and hit.kind != "title" and hit.score >= current.score * 0.8:
            hit.score = current.score  # open the file at the matching section, rank as the page
            seen[hit.path] = hit
    return sorted(seen.values(), key=lambda h: -h.score)[:k]
