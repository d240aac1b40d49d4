"""Remove the AWS-docs markdown quirks one line at a time, so line numbers stay true to the file."""

from __future__ import annotations

import re

# Every open-ended run is capped (link text 1,000, URL 2,048 characters): otherwise a line of
# thousands of "[" or "[a](" costs quadratic time (a 50 KB line took over a minute).
ANCHOR_TAG = re.compile(r"""<a\s+name\s*=\s*["']([^"']{1,500})["']\s*>\s*</a>""", re.I)
_PLACEHOLDER = re.compile(r"\[\\?\[See the AWS documentation website for more details\\?\]\]\([^)]{0,2048}\)")
_IMAGE = re.compile(r"!\[((?:\\.|[^\]\\]){0,1000})\]\([^)]{0,2048}\)")
_LINK = re.compile(r"(?<!!)\[((?:\\.|[^\]\\]){1,1000})\]\([^)\s]{0,2048}(?:\s+\"[^\"]{0,1000}\")?\)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SPACES = re.compile(r"[ \t]{2,}")
_HTML_TAG = re.compile(r"</?(?:br|p|div|span|b|i|em|strong|code|sup|sub)\b[^>]{0,1000}>", re.I)


def find_anchor(line: str) -> str:
    match = ANCHOR_TAG.search(line)
    return match.group(1) if match else ""


def _clean_prose(text: str) -> str:
    text = ANCHOR_TAG.sub("", text) if "<" in text else text
    if "](" in text:  # no link or image without it (and lines of bare brackets cost nothing)
        text = _PLACEHOLDER.sub("", text)
        text = _IMAGE.sub(lambda m: "" if "Image NOT FOUND" in m.group(1) or m.group(1) == "AWS Videos"
                          else f"(image: {m.group(1)})", text)
        text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _ESCAPE.sub(r"\1", text)
    text = text.replace("[Image NOT FOUND]", "")
    return _SPACES.sub(" ", text).rstrip()


def clean_line(line: str) -> str:
    """Clean one markdown line outside code fences (AWS pages never escape inside inline code)."""
    return _clean_prose(line)


def clean_heading(raw: str) -> str:
    text = clean_line(raw.strip().lstrip("#").strip().rstrip("#").strip())
    if text.startswith("[") and text.endswith("]"):  # tabbed sample label "[ AWS CLI ]"
        text = text[1:-1].strip()
    return text


def clean_block(lines: list[str], code: bool) -> str:
    if code:
        return "\n".join(line.rstrip() for line in lines).strip("\n")
    cleaned = [clean_line(line) for line in lines]
    cleaned = [line for line in cleaned if line.strip() not in {"****", "------", "---"}]
    return "\n".join(cleaned).strip()


def slugify(text: str) -> str:
    """GitHub-style heading slug, used when a page has no explicit anchors."""
    slug = re.sub(r"[^\w\- ]", "", text.lower()).strip()
    return re.sub(r"\s+", "-", slug)
