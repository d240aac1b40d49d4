"""YAML (`---`) and TOML (`+++`) front matter through python-frontmatter's handlers (TOML loaded
with the standard library's tomllib).

The block is blanked line for line rather than cut, so the lines below it keep their numbers.
"""

from __future__ import annotations

import re
import tomllib

from frontmatter.default_handlers import BaseHandler, YAMLHandler


class _TOMLHandler(BaseHandler):
    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs) -> dict:
        return tomllib.loads(fm)


_HANDLERS = (YAMLHandler(), _TOMLHandler())


def split(text: str) -> tuple[dict, str]:
    """(metadata, text with the front matter lines blank); ({}, text) when there is none or it is broken."""
    handler = next((h for h in _HANDLERS if h.detect(text)), None)
    if handler is None:
        return {}, text
    try:
        fm, content = handler.split(text)
        metadata = handler.load(fm)
    except Exception:  # noqa: BLE001 - malformed YAML/TOML: index the page as written rather than lose it
        return {}, text
    if not isinstance(metadata, dict) or not text.endswith(content):
        return {}, text
    head = text[:len(text) - len(content)]
    return metadata, "\n" * head.count("\n") + content


def title_of(metadata: dict) -> str:
    value = metadata.get("title") or metadata.get("Title") or ""
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""
