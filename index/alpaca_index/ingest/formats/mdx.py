"""MDX: Markdown with ESM (`import`/`export`) lines, JSX components and `{expressions}`.

The ESM lines are blanked (line numbers stay true), the rest is Markdown; JSX tags and
expressions are stripped from prose blocks, the text between tags is kept.
"""

from __future__ import annotations

import re

from alpaca_index.ingest.documents import ParsedDoc
from alpaca_index.ingest.formats import markdown

_ESM = re.compile(r"^(import|export)\b")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_JSX_TAG = re.compile(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]{0,2000})?/?>|<>|</>")
_EXPRESSION = re.compile(r"\{[^{}]{0,2000}\}")
_SPACES = re.compile(r"[ \t]{2,}")


def strip_jsx(text: str) -> str:
    text = _EXPRESSION.sub("", _JSX_TAG.sub(" ", text))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def _blank_esm(text: str) -> str:
    """ESM statements run from an `import`/`export` line to the next blank line (outside code fences)."""
    lines = text.splitlines()
    in_fence = in_esm = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            continue
        if not line.strip():
            in_esm = False
        elif in_esm or _ESM.match(line):
            in_esm = True
            lines[i] = ""
    return "\n".join(lines)


def parse(text: str, fallback_title: str) -> ParsedDoc:
    return markdown.parse(_blank_esm(text), fallback_title, clean_inline=strip_jsx)
