"""Queries against the index in the shapes of the LSP contract (search, related, hover lookups).

Plain functions over an `Engine`; they block (embedding a query), so the server calls them from
its query pool, never on the event loop. Caches belong to the features that pass them in.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from pathlib import Path

from alpaca_index.retrieval.search import snippet
from alpaca_server.engine import Engine

OPEN_TIMEOUT = 60.0  # a query waits this long for the first open of the index (model load)
HOVER_MIN_SIMILARITY = 0.5  # without a literal match, a hover hit needs this cosine similarity
HOVER_CONTEXT_LINES = 0
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")  # 2+ letters: not a Windows drive
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
STOPWORDS = frozenset("""
a an and are as at be but by can do does for from has have how if in into is it its not of on or
our so such that the their then there these this those to was were what when where which while who
will with you your def class return import self none true false null var let const function
elif else try except finally raise pass lambda yield async await new this public private static
void int str string bool float dict list type from then end begin use using see also note
""".split())


class QueryError(ValueError):
    """Bad input to a query: the message goes back to the client as is."""


def _alive(hits) -> list:
    """Deleted files vanish from results at once, before the next sync pass removes them."""
    return [h for h in hits if os.path.exists(h.abspath)]


def _k(value, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 100:
        raise QueryError("k must be a number between 1 and 100")
    return int(value)


def search(engine: Engine, query, k=None, default_k: int = 5) -> list[dict]:
    if not isinstance(query, str) or not query.strip():
        raise QueryError("alpaca.search needs a non-empty `query` string")
    k = _k(k, default_k)
    index = engine.wait_open(OPEN_TIMEOUT)
    hits = index.search_files(query, k + 3)
    return [h.to_wire() for h in _alive(hits)[:k]]


def uri_to_path(uri: str) -> str:
    from pygls.uris import to_fs_path

    if not isinstance(uri, str) or not uri:
        raise QueryError("`uri` must be a non-empty string")
    if not _SCHEME.match(uri):
        return str(Path(uri).expanduser().resolve())  # a plain path is accepted too
    if not uri.startswith("file:"):
        raise QueryError(f"only file: URIs are supported, got {uri!r}")
    path = to_fs_path(uri)
    if not path:
        raise QueryError(f"only file: URIs are supported, got {uri!r}")
    return path


def related(engine: Engine, cache: ResultCache, uri=None, text=None, k=None, default_k: int = 5) -> list[dict]:
    """Docs related to a file (its indexed content, or `text` if given) or to free text; a file's
    own related docs are cached per index generation."""
    if uri is None and (not isinstance(text, str) or not text.strip()):
        raise QueryError("alpaca.related needs `uri` or a non-empty `text`")
    if text is not None and not isinstance(text, str):
        raise QueryError("`text` must be a string")
    k = _k(k, default_k)
    index = engine.wait_open(OPEN_TIMEOUT)
    if uri is None:
        hits = index.related(text=text, k=k + 3)
    else:
        path = uri_to_path(uri)
        if text is None and not os.path.isfile(path):
            raise QueryError(f"file not found: {path}")
        key = (engine.generation, path, k)
        if text is None and (cached := cache.get(key)) is not None:
            return cached
        try:
            hits = index.related(path=path, text=text, k=k + 3)
        except FileNotFoundError as exc:
            raise QueryError(str(exc)) from None
        hits = [h for h in hits if os.path.abspath(h.abspath) != os.path.abspath(path)]
        if text is None:
            results = [h.to_wire() for h in _alive(hits)[:k]]
            cache.put(key, results)
            return results
    return [h.to_wire() for h in _alive(hits)[:k]]


# -- hover ------------------------------------------------------------------------------------
def symbol_at(line: str, character: int) -> tuple[str, int]:
    """The identifier-ish word under the cursor (`KmsKeyId`, `create_endpoint`, `sagemaker.Session`)
    and the column it starts at."""
    for m in _WORD.finditer(line):
        if m.start() <= character <= m.end():
            return m.group(0), m.start()
    return "", character


def symbol_terms(symbol: str) -> list[str]:
    """`KmsKeyId` → [KmsKeyId, Kms, Key, Id]; `create_endpoint` → [create_endpoint, create, endpoint]."""
    parts = [p for chunk in re.split(r"[_.\-]+", symbol) for p in _CAMEL.findall(chunk)]
    terms = [symbol] + [p for p in parts if p.lower() != symbol.lower()]
    return list(dict.fromkeys(terms))


def hoverable(symbol: str) -> bool:
    return len(symbol) >= 3 and symbol.lower() not in STOPWORDS and not symbol.isdigit()


class ResultCache:
    """LRU of query results; the keys hold the index generation, so a re-index invalidates them."""

    def __init__(self, size: int = 256):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def _literal(symbol: str, hit) -> bool:
    pattern = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(symbol) + r"(?![A-Za-z0-9_])", re.IGNORECASE)
    return bool(pattern.search(hit.text) or pattern.search(hit.heading_path))


def hover_hits(engine: Engine, cache: ResultCache, symbol: str, exclude: str | None, k: int = 3) -> list[dict]:
    """Top docs for a symbol, only those that mention it literally or are semantically close."""
    key = (engine.generation, symbol, exclude, k)
    cached = cache.get(key)
    if cached is not None:
        return cached
    index = engine.wait_open(2.0)
    query = " ".join(symbol_terms(symbol))
    exclude_rel = None
    if exclude:
        try:
            exclude_rel = index.indexed_path(exclude)
        except Exception:  # noqa: BLE001 - best effort: nothing to show
            exclude_rel = None
    hits = index.search_files(query, k + 3, exclude_path=exclude_rel)
    good = [h for h in _alive(hits)
            if _literal(symbol, h) or (h.similarity is not None and h.similarity >= HOVER_MIN_SIMILARITY)]
    if exclude:
        good = [h for h in good if os.path.abspath(h.abspath) != os.path.abspath(exclude)]
    results = [h.to_wire() for h in good[:k]]
    cache.put(key, results)
    return results


def hover_markdown(symbol: str, results: list[dict]) -> str:
    lines = [f"**Alpaca docs for `{symbol}`**", ""]
    for r in results:
        label = (r["heading_path"] or r["title"]).replace("[", "\\[").replace("]", "\\]")
        target = f"{r['uri']}#L{r['start_line']}"
        one_line = snippet(r["snippet"], 120).replace("\n", " ")
        lines.append(f"- [{label}]({target}) — {one_line}")
    return "\n".join(lines)
