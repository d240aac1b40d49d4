"""Citations in generated text: keep those that point to a source, drop and report the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_GROUP = re.compile(r"\[(\s*\d+\s*(?:[,;]\s*\d+\s*)*)\]")


@dataclass
class Checked:
    text: str
    cited: list[int] = field(default_factory=list)  # valid source numbers, in order of first use
    invalid: list[int] = field(default_factory=list)  # numbers that matched no source (removed)


def check(text: str, valid: set[int]) -> Checked:
    result = Checked(text="")

    def replace(match: re.Match) -> str:
        numbers = [int(x) for x in re.split(r"[,;]", match.group(1))]
        kept = []
        for n in numbers:
            if n in valid:
                kept.append(n)
                if n not in result.cited:
                    result.cited.append(n)
            elif n not in result.invalid:
                result.invalid.append(n)
        return "".join(f"[{n}]" for n in kept)

    result.text = re.sub(r"[ \t]+([.,;:])", r"\1", _GROUP.sub(replace, text)).strip()
    return result
