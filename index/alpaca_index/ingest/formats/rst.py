"""reStructuredText through docutils: its doctree gives sections, their ids and source lines.

Sphinx-only roles and directives are unknown to plain docutils; their text is kept (a `:ref:` as
written) and the error reports docutils makes about them are dropped. Includes and raw input are
off: a docs page must not make the indexer read other files.
"""

from __future__ import annotations

import io

from docutils import nodes
from docutils.core import publish_doctree

from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats.sections import SectionBuilder

_SETTINGS = {"report_level": 5, "halt_level": 5, "file_insertion_enabled": False, "raw_enabled": False,
             "syntax_highlight": "none", "input_encoding": "unicode", "line_length_limit": 1_000_000}
_SKIP = (nodes.system_message, nodes.comment, nodes.target, nodes.substitution_definition, nodes.title,
         nodes.subtitle, nodes.docinfo, nodes.decoration)
_KIND = {nodes.literal_block: "code", nodes.doctest_block: "code", nodes.table: "table",
         nodes.bullet_list: "list", nodes.enumerated_list: "list", nodes.definition_list: "list",
         nodes.field_list: "list", nodes.option_list: "list"}


def parse(text: str, fallback_title: str) -> ParsedDoc:
    total = len(text.splitlines())
    doctree = publish_doctree(text, settings_overrides={**_SETTINGS, "warning_stream": io.StringIO()})
    builder = SectionBuilder(fallback_title, explicit_anchors=False)
    title = next((c for c in doctree.children if isinstance(c, nodes.title)), None)
    if title is not None:  # docutils lifts a lone top section's title to the document's
        builder.heading(1, title.astext().strip(), _anchor(doctree), _title_line(title))
    _walk(doctree, 1 if title is not None else 0, builder, total)
    return builder.build(total)


def _walk(parent: nodes.Element, depth: int, builder: SectionBuilder, total: int) -> None:
    for child in parent.children:
        if isinstance(child, nodes.section):
            title = child.next_node(nodes.title)
            if title is not None:
                builder.heading(depth + 1, title.astext().strip(), _anchor(child), _title_line(title))
            _walk(child, depth + 1, builder, total)
        elif isinstance(child, nodes.Element) and not isinstance(child, _SKIP):
            body = _text(child)
            start = min(max(_line(child) or 1, 1), max(total, 1))
            end = min(start + max(body.count("\n"), 0), max(total, start))
            builder.block(Block(start, end, body, _KIND.get(type(child), "text")))


def _text(node: nodes.Element) -> str:
    copy = node.deepcopy()
    for message in list(copy.findall(nodes.system_message)):
        message.parent.remove(message)
    body = copy.astext().strip()
    if isinstance(node, nodes.Admonition) and body:
        body = f"{node.tagname.capitalize()}: {body}"
    return body


def _line(node: nodes.Node) -> int | None:
    for inner in node.findall(include_self=True):
        if getattr(inner, "line", None):
            return inner.line
    return None


def _title_line(title: nodes.title) -> int:
    """docutils puts a title on its underline; the text is the line above."""
    return max((title.line or 2) - 1, 1)


def _anchor(node: nodes.Element) -> str:
    ids = node.get("ids") or []
    return ids[-1] if ids else ""  # an explicit `.. _label:` comes after the generated id
