"""Hybrid retrieval: vector and full-text candidates fused by their normalized scores (or, for
comparison, by reciprocal rank), then ranked as pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from alpaca_index.ingest.formats import place
from alpaca_index.storage.fulltext import query_text
from alpaca_index.storage.store import FTS_COLUMN, sql_quote

if TYPE_CHECKING:
    from lancedb.query import LanceVectorQueryBuilder
    from lancedb.table import Table

    from alpaca_index.storage.vector_cache import VectorCache

RRF_K = 60
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
_LIST_ITEM = re.compile(r"^\s*(?:[+*-]|\d+\.)\s+(.*)$")
SNIPPET_CHARS = 240
_FULL_TEXT = ThreadPoolExecutor(max_workers=4, thread_name_prefix="alpaca-fulltext")
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

    def to_wire(self) -> dict:
        """The one JSON shape of a hit, for the CLI, MCP, the language server and answers' sources
        (docs/ARCHITECTURE.md, "Wire format")."""
        abspath = self.abspath
        data = self.to_dict()
        data.update(score=round(float(self.score), 6),
                    similarity=None if self.similarity is None else round(float(self.similarity), 4),
                    place=place(self.path, self.start_line, self.end_line), snippet=snippet(self.text),
                    location=f"{abspath}:{self.start_line}", **links(abspath, self.start_line))
        return data


@dataclass
class Found:
    """One search seen two ways: the best pages (a result list) and the best chunks under them."""
    pages: list[Hit]
    chunks: list[Hit]


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Whitespace folded, cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def links(abspath: str, line: int | None = None) -> dict:
    """`uri` opens the file, `link` the cited line (`#L<line>`, what agents and terminals follow)."""
    uri = Path(abspath).as_uri() if Path(abspath).is_absolute() else abspath
    return {"uri": uri, "link": f"{uri}#L{line}" if line else uri}


@dataclass(frozen=True)
class SearchSettings:
    candidates: int = 100  # per list; score fusion scales each list between its best and this rank
    vector_weight: float = 1.0
    text_weight: float = 1.0
    identifiers: bool = True  # query identifiers also searched split/joined (fulltext.py)
    # "scores": cosine and BM25, each scaled 0..1 between its list's best and its `candidates`-th score,
    # summed with the weights; "ranks": weighted reciprocal rank fusion (bench/RESULTS.md, stop 25)
    fusion: str = "scores"
    page_decay: float = 0.3  # a page scores its best chunk + decay × its 2nd + decay² × its 3rd ...
    nav_weight: float = 1.0  # chunk score factor for link lists / tables of contents
    family_weight: float = 0.0  # x.md also scores this × its best sub-page's score (x-console.md, x-faq.md)


def keyword_query(text: str, identifiers: bool = False) -> str:
    """Full-text query from free text: words only, so punctuation can't break the query parser."""
    return " ".join(_WORD.findall(query_text(text) if identifiers else text))[:2000]


def _where(path_prefix: str | None, exclude_path: str | None) -> str | None:
    clauses = []
    if path_prefix:
        escaped = path_prefix.replace("'", "''").replace("%", "\\%").replace("_", "\\_")
        clauses.append(f"path LIKE '{escaped}%'")
    if exclude_path:
        clauses.append(f"path != {sql_quote(exclude_path)}")
    return " AND ".join(clauses) or None


def hybrid(table: Table, query_vector: np.ndarray | Callable[[], np.ndarray], query_text: str, k: int,
           settings: SearchSettings, path_prefix: str | None = None, exclude_path: str | None = None,
           vectors: VectorCache | None = None) -> list[Hit]:
    """The one search: vector and full-text candidates, fused. `query_vector` may be a function
    that encodes the query: the full-text half then runs while it does (LanceDB and onnxruntime
    both release the GIL). `vectors` (a VectorCache) answers the vector half from memory."""
    depth = max(settings.candidates, k)
    if not callable(query_vector):  # nothing to overlap with: no thread hand-off on this path (related)
        vector_rows = vector_candidates(table, query_vector, depth, path_prefix, exclude_path, vectors)
        text_rows = text_candidates(table, query_text, depth, settings, path_prefix, exclude_path)
        return fuse(vector_rows, text_rows, k, depth, settings)
    text = _FULL_TEXT.submit(text_candidates, table, query_text, depth, settings, path_prefix, exclude_path)
    try:
        vector_rows = vector_candidates(table, query_vector(), depth, path_prefix, exclude_path, vectors)
    finally:
        text_rows = text.result()
    return fuse(vector_rows, text_rows, k, depth, settings)


def vector_candidates(table: Table, query_vector: np.ndarray, depth: int, path_prefix: str | None = None,
                      exclude_path: str | None = None, vectors: VectorCache | None = None) -> list[dict[str, Any]]:
    if vectors is not None:
        return vectors.search(table, query_vector, depth, path_prefix, exclude_path)
    # a vector query's builder: lancedb annotates Table.search with their common base only
    vq = cast("LanceVectorQueryBuilder", table.search(query_vector, vector_column_name="vector")).distance_type("cosine")
    if where := _where(path_prefix, exclude_path):
        vq = vq.where(where, prefilter=True)
    return vq.select(_COLUMNS + ["_distance"]).limit(depth).to_list()


def text_candidates(table: Table, query_text: str, depth: int, settings: SearchSettings,
                    path_prefix: str | None = None, exclude_path: str | None = None) -> list[dict[str, Any]]:
    words = keyword_query(query_text, settings.identifiers)
    if not words or settings.text_weight <= 0:
        return []
    tq = table.search(words, query_type="fts", fts_columns=fulltext_column(table))
    if where := _where(path_prefix, exclude_path):
        tq = tq.where(where, prefilter=True)
    return tq.select(_COLUMNS + ["_score"]).limit(depth).to_list()


def fulltext_column(table: Table) -> str:
    """Indexes written before the identifier-aware column (and opened read-only, so never migrated)
    still have their full-text index on the embedded text."""
    names = getattr(table, "_alpaca_columns", None)
    if names is None:
        names = set(table.schema.names)
        try:
            setattr(table, "_alpaca_columns", names)  # noqa: B010 - a memo lancedb's Table doesn't declare
        except AttributeError:
            pass
    return FTS_COLUMN if FTS_COLUMN in names else "embed_text"


def fuse(vector_rows: list[dict], text_rows: list[dict], k: int, depth: int, settings: SearchSettings) -> list[Hit]:
    """The two candidate lists fused (`settings.fusion`); a chunk missing from one list gets nothing from it."""
    fused: dict[str, float] = {}
    rows: dict[str, dict] = {}
    similarity = {row["id"]: 1.0 - float(row["_distance"]) for row in vector_rows}
    lists = ((settings.vector_weight, vector_rows, [similarity[r["id"]] for r in vector_rows]),
             (settings.text_weight, text_rows, [float(r["_score"]) for r in text_rows]))
    for weight, ranked, raw in lists:
        if settings.fusion == "ranks":
            scaled = [1.0 / (RRF_K + rank + 1) for rank in range(len(ranked))]
        else:
            scaled = _scaled(raw, settings.candidates)
        for row, value in zip(ranked, scaled):
            fused[row["id"]] = fused.get(row["id"], 0.0) + weight * value
            rows.setdefault(row["id"], row)
    ordered = sorted(fused, key=lambda i: -fused[i])[:depth]
    return [_hit(rows[i], fused[i], similarity.get(i)) for i in ordered][: max(k, 0) or None]


def _scaled(scores: list[float], reference: int) -> list[float]:
    """Scores (best first) scaled so the best is 1 and the `reference`-th is 0: a fixed rank rather than
    the list's end, so the scale doesn't depend on how deep a caller searched."""
    if not scores:
        return []
    ordered = sorted(scores, reverse=True)
    top, floor = ordered[0], ordered[min(reference, len(ordered)) - 1]
    return [1.0] * len(scores) if top <= floor else [(s - floor) / (top - floor) for s in scores]


def _hit(row: dict, score: float, similarity: float | None) -> Hit:
    return Hit(
        id=row["id"], path=row["path"], abspath=str(Path(row["root"]) / row["path"]), title=row["title"],
        heading_path=row["heading_path"], anchor=row["anchor"], start_line=int(row["start_line"]),
        end_line=int(row["end_line"]), text=row["text"], kind=row["kind"], score=score,
        similarity=similarity, mtime=float(row["mtime"]),
    )


def is_navigation(text: str) -> bool:
    """A link list or table of contents: mostly short list items (links are already reduced to text)."""
    lines = [line for line in text.splitlines() if line.strip()]
    items = [m.group(1) for line in lines if (m := _LIST_ITEM.match(line))]
    short = [i for i in items if len(i.split()) <= 8 and not i.rstrip().endswith(".")]
    return len(short) >= 4 and len(short) >= 0.6 * len(lines)


def best_per_file(hits: list[Hit], k: int, settings: SearchSettings = SearchSettings()) -> list[Hit]:
    """One hit per file. The page is shown at its best chunk (a section rather than the title chunk
    when nearly tied) and ranked by its chunks together: the best one, plus `page_decay` times the
    next and so on, link lists counting `nav_weight` of their score. Ranks copies: the caller's
    chunk hits keep their own scores (the answer path uses both from one search)."""
    pages: dict[str, list[Hit]] = {}
    for hit in hits:
        weight = settings.nav_weight if settings.nav_weight != 1.0 and is_navigation(hit.text) else 1.0
        pages.setdefault(hit.path, []).append(replace(hit, score=hit.score * weight))
    ranked = []
    for chunks in pages.values():
        chunks.sort(key=lambda h: -h.score)
        shown = chunks[0]
        if shown.kind == "title" and len(chunks) > 1 and chunks[1].score >= shown.score * 0.8:
            shown = chunks[1]  # open the file at the matching section, rank as the page
        shown.score = sum(h.score * settings.page_decay ** n for n, h in enumerate(chunks)) \
            if settings.page_decay > 0 else chunks[0].score
        ranked.append(shown)
    if settings.family_weight > 0:
        _credit_overviews(ranked, settings.family_weight)
    return sorted(ranked, key=lambda h: -h.score)[:k]


def _credit_overviews(pages: list[Hit], weight: float) -> None:
    """An overview page gains from its own sub-pages' match (named `x-*.md` beside `x.md`), so a broad
    question can rank the overview above the children that each cover one part of it."""
    scores = {h.path: h.score for h in pages}
    for hit in pages:
        stem = hit.path.rsplit(".", 1)[0] + "-"
        children = [s for p, s in scores.items() if p.startswith(stem)]
        if children:
            hit.score += weight * max(children)
