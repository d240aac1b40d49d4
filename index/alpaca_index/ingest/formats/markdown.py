"""Markdown via markdown-it-py: its token line maps give each heading and block its true lines."""

from __future__ import annotations

from markdown_it import MarkdownIt

from alpaca_index.ingest.cleaning import ANCHOR_TAG, clean_block, clean_heading, find_anchor
from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats import frontmatter
from alpaca_index.ingest.formats.sections import SectionBuilder

_md = MarkdownIt("commonmark").enable("table")
_KIND = {"fence": "code", "code_block": "code", "table_open": "table",
         "bullet_list_open": "list", "ordered_list_open": "list"}


def parse(text: str, fallback_title: str, clean_inline=None) -> ParsedDoc:
    """`clean_inline` post-cleans prose blocks (MDX strips JSX with it)."""
    metadata, text = frontmatter.split(text)
    lines = text.splitlines()
    builder = SectionBuilder(fallback_title, explicit_anchors=bool(ANCHOR_TAG.search(text)))
    if title := frontmatter.title_of(metadata):  # a front-matter title is the page title; an H1 then a section
        builder.set_title(title)
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
        body = clean_block(lines[start:end], code=kind == "code")
        if clean_inline is not None and kind != "code":
            body = clean_inline(body)
        builder.block(Block(start + 1, end, body, kind))
    return builder.build(len(lines))
