"""Markdown via markdown-it-py: its token line maps give each heading and block its true lines."""

from __future__ import annotations

from markdown_it import MarkdownIt

from alpaca_index.cleaning import ANCHOR_TAG, clean_block, clean_heading, find_anchor
from alpaca_index.documents import Block, ParsedDoc
from alpaca_index.formats.sections import SectionBuilder

_md = MarkdownIt("commonmark").enable("table")
_KIND = {"fence": "code", "code_block": "code", "table_open": "table",
         "bullet_list_open": "list", "ordered_list_open": "list"}


def parse(text: str, fallback_title: str) -> ParsedDoc:
    lines = text.splitlines()
    builder = SectionBuilder(fallback_title, explicit_anchors=bool(ANCHOR_TAG.search(text)))
    tokens = _md.parse(text)
    for i, token in enumerate(tokens):
        if token.level != 0 or token.nesting == -1 or not token.map:
            continue
        start, end = token.map
        if token.type == "heading_open":
            raw = lines[start]
            builder.heading(int(token.tag[1]), clean_heading(tokens[i + 1].content), find_anchor(raw), start + 1)
            continue
        if token.type == "hr":
            continue
        kind = _KIND.get(token.type, "text")
        body = lines[start:end]
        builder.block(Block(start + 1, end, clean_block(body, code=kind == "code"), kind))
    return builder.build(len(lines))
