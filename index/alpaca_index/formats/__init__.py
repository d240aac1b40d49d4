"""Format parsers: file text → ParsedDoc(s) made of sections and line-numbered blocks."""

from __future__ import annotations

from pathlib import PurePosixPath

from alpaca_index.documents import ParsedDoc
from alpaca_index.formats import csv_rows, html, markdown, plain


def parse(rel: str, text: str) -> list[ParsedDoc]:
    suffix = PurePosixPath(rel).suffix.lower()
    fallback_title = PurePosixPath(rel).stem.replace("-", " ").replace("_", " ")
    if suffix in {".md", ".markdown"}:
        return [markdown.parse(text, fallback_title)]
    if suffix in {".html", ".htm"}:
        return [html.parse(text, fallback_title)]
    if suffix == ".csv":
        return csv_rows.parse(text)
    return [plain.parse(text, fallback_title, rst=suffix == ".rst")]
