"""Citations in generated text: keep those that point to a source, drop and report the rest."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# [1], [1, 2], [1;3], [1-3], and the "[Source 2]" / "[source 1, 3]" forms models copy from the fences;
# not an index right after a name (a[0], items[2])
_NUMBER = r"(?:sources?\s*)?\d+"
_GROUP = re.compile(rf"(?<!\w)\[\s*({_NUMBER}(?:\s*(?:[,;–-]|and)\s*{_NUMBER})*)\s*\]", re.IGNORECASE)
PATTERN = _GROUP  # what counts as a citation (the prompt defuses the same shapes in document text)
_RANGE = re.compile(r"(\d+)\s*[–-]\s*(\d+)")
# code is quoted as written: "`cron(0 [00-23]/[01-24] ? * * *)`" holds no citation, in a page or in an answer
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]+`", re.DOTALL)
MAX_RANGE = 20  # a "range" wider than this is not a citation of sources
MAX_LISTED = 5  # a weak model can invent dozens: messages name a few and count the rest


def _pieces(text: str) -> Iterator[tuple[str, bool]]:
    """`text` in order, as (piece, is code): inline code and code blocks apart from the prose around them."""
    start = 0
    for code in _CODE.finditer(text):
        yield text[start:code.start()], False
        yield code.group(0), True
        start = code.end()
    yield text[start:], False


def sub(repl: str | Callable[[re.Match[str]], str], text: str, pattern: re.Pattern[str] = PATTERN) -> str:
    """`pattern.sub(repl, text)` outside inline code and code blocks (citation-shaped text there is code)."""
    return "".join(piece if code else pattern.sub(repl, piece) for piece, code in _pieces(text))


def markers(text: str) -> list[str]:
    """The inside of each citation outside code: "1", "1, 2", "Source 3"."""
    return [m.group(1) for piece, code in _pieces(text) if not code for m in PATTERN.finditer(piece)]


@dataclass
class Checked:
    text: str
    cited: list[int] = field(default_factory=list)  # valid source numbers, in order of first use
    invalid: list[int] = field(default_factory=list)  # numbers that matched no source (removed)


def _numbers(group: str) -> list[int]:
    group = _RANGE.sub(lambda m: ",".join(map(str, range(int(m[1]), int(m[2]) + 1)))
                       if 0 <= int(m[2]) - int(m[1]) <= MAX_RANGE else f"{m[1]},{m[2]}", group)
    return [int(x) for x in re.findall(r"\d+", group)]


def listed(numbers: list[int]) -> str:
    """Citation numbers for a message to the reader: "[5], [6], [7], [8], [9] and 2 more"."""
    more = len(numbers) - MAX_LISTED
    return ", ".join(f"[{n}]" for n in numbers[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def check(text: str, valid: set[int]) -> Checked:
    result = Checked(text="")

    def replace(match: re.Match) -> str:
        kept = []
        for n in _numbers(match.group(1)):
            if n in valid:
                if n not in kept:
                    kept.append(n)
                if n not in result.cited:
                    result.cited.append(n)
            elif n not in result.invalid:
                result.invalid.append(n)
        return "".join(f"[{n}]" for n in kept)

    result.text = re.sub(r"[ \t]+([.,;:])", r"\1", sub(replace, text)).strip()
    return result
