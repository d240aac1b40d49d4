"""HTML via BeautifulSoup (html.parser keeps source lines); scripts and styles are dropped."""

from __future__ import annotations

from bs4 import BeautifulSoup

from alpaca_index.ingest.documents import Block, ParsedDoc
from alpaca_index.ingest.formats.sections import SectionBuilder

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = _HEADINGS | {"p", "pre", "ul", "ol", "table", "dl", "blockquote"}
_KIND = {"pre": "code", "table": "table", "ul": "list", "ol": "list", "dl": "list"}


def parse(text: str, fallback_title: str) -> ParsedDoc:
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav"]):
        tag.decompose()
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    builder = SectionBuilder(page_title or fallback_title, explicit_anchors=False)
    body = soup.body or soup
    nodes = [n for n in body.find_all(_BLOCKS) if not any(p.name in _BLOCKS for p in n.parents)]
    total = len(text.splitlines())
    for index, node in enumerate(nodes):
        start = node.sourceline or 1
        following = nodes[index + 1].sourceline if index + 1 < len(nodes) else None
        end = max(start, (following - 1) if following else total)
        if node.name in _HEADINGS:
            anchor = node.get("id")  # one value: only attributes like class are lists
            builder.heading(int(node.name[1]), node.get_text(" ", strip=True), anchor if isinstance(anchor, str) else "",
                            start)
            continue
        sep = "\n" if node.name in {"pre", "ul", "ol", "table", "dl"} else " "
        content = node.get_text(sep, strip=node.name != "pre")
        builder.block(Block(start, end, content.strip(), _KIND.get(node.name, "text")))
    return builder.build(total)
