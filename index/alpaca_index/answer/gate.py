"""Checked streaming: the model's answer reaches the reader a sentence at a time, and a sentence only
once the claim check has found it in the passages. What the reader sees is never taken back.

The draft is cut into units as it streams: a sentence of prose, a bullet or table row, a heading, a
whole code block. Each finished unit is checked alone (`grounding.check`), then:
- a unit whose claims are all supported is released, with its citations cleaned;
- a unit with an unsupported or uncited claim is held back (the reader sees it after the answer,
  marked, never inside it), and so is the lead-in line that introduced it;
- a unit with no claim (a lead-in, a heading, a blank line, "the documentation doesn't cover X") is
  released with the next released unit, or at the end if the answer was shown.
Whether there is an answer at all is decided by its first `DECIDE_AFTER` sentences that make claims:
shown as soon as one of them is backed (so a backed opening sentence appears at once), withheld (and
the model stopped) when none is. Until then nothing is released.
A sentence the draft already made is not shown again, and a model that keeps repeating itself (a small
model's loop: "The documentation provides …" five times, citing [5]…[10] of four sources) is stopped.
`bench/answers.py --regrade` runs saved drafts through the same gate, so the bench scores what the
reader would have seen (bench/RESULTS.md "Checked streaming").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alpaca_index.answer import citations, grounding
from alpaca_index.answer.prompt import NOT_COVERED, is_refusal

if TYPE_CHECKING:
    from alpaca_index.answer.grounding import Claim, Encode

DECIDE_AFTER = 2  # sentences with claims read before the answer is shown or withheld: the reader waits for two
LOOP_REPEATS = 3  # sentences repeated word for word before the model is stopped as looping

# a sentence ends at . ! or ? (and the citations right after it) when the next one has begun
_SENTENCE_END = re.compile(r"(?<=[.!?])" + grounding.NOT_ABBREVIATION
                           + r"((?:\s*\[[^\]\n]{1,20}\])*)\s+(?=[A-Z0-9`*\"(])")
# a citation with the spaces before it: "containers [2] supported" loses "[2]" and keeps one space
_CITATION_AND_SPACE = re.compile(r"[ \t]*(?:" + citations.PATTERN.pattern + ")", citations.PATTERN.flags)
_LIST_MARKER = re.compile(r"\s*(?:[-*+•]|\d+[.)])\s+")
_NOT_COVERED_PART = re.compile(r"\s*(?:the )?(?:documentation|sources?|passages?) (?:doesn't|does not|do not|don't) "
                               r"(?:cover|mention|say|specify|state|provide)", re.IGNORECASE)
_WORDS = re.compile(r"[a-z0-9]+")
_FENCE = "```"
SHOWN, WITHHELD, UNDECIDED = "shown", "withheld", "undecided"


@dataclass
class Unit:
    text: str  # as the model wrote it, with the whitespace that follows it
    claims: list[Claim] = field(default_factory=list)
    restated: int = 0
    released: bool = False

    @property
    def backed(self) -> bool:
        return bool(self.claims) and all(c.status == grounding.SUPPORTED for c in self.claims)


def cut(text: str, final: bool) -> tuple[list[str], str]:
    """The finished units at the start of `text`, and the unfinished rest (empty when `final`)."""
    units: list[str] = []
    rest = text
    while rest:
        line_end = rest.find("\n")
        line = rest if line_end < 0 else rest[:line_end + 1]
        if line.lstrip().startswith(_FENCE):  # a code block is one unit, up to its closing fence's line end
            close = rest.find(_FENCE, rest.find(_FENCE) + len(_FENCE))
            end = rest.find("\n", close) if close >= 0 else -1
            if close < 0 or end < 0:
                if not final:
                    break
                units.append(rest)
                return units, ""
            units.append(rest[:end + 1])
            rest = rest[end + 1:]
            continue
        marker = _LIST_MARKER.match(line)  # a bullet's sentences are units too, its marker with the first
        whole = not line.strip() or re.match(r"\s*[|#>]", line)  # table rows, headings, quotes: whole lines
        ends = _SENTENCE_END.finditer(line, marker.end() if marker else 0)
        boundary = None if whole else next(grounding.outside_code(ends, line), None)
        if boundary:  # the sentence ends inside the line: the next one has begun
            units.append(rest[:boundary.end()])
            rest = rest[boundary.end():]
        elif line_end >= 0 or final:
            units.append(line)
            rest = rest[len(line):]
        else:
            break
    return units, rest


class ClaimGate:
    """Feed it the model's text as it streams; it passes on (`release`) only what the check backs."""

    def __init__(self, passages: dict[int, str], encode: Encode, question: str | None,
                 release: Callable[[str], None] = lambda text: None, judge: grounding.Judge | None = None) -> None:
        self.passages, self.question, self._release, self._judge = passages, question, release, judge
        self._encode = grounding.encoding_once(encode)  # units share windows of the same passages
        self.raw = ""  # everything fed
        self._rest = ""  # fed but not yet a finished unit
        self.units: list[Unit] = []
        self._pending: list[Unit] = []  # claim-less units waiting for the next released one
        self.state = UNDECIDED
        self.shown_text = ""
        # the model said the docs don't cover this (or some part: "…doesn't cover how quickly data shows up") beside
        # backed sentences: those words are not shown, and are quoted in the answer's notice instead
        self.declined = ""
        self.repeated = 0  # sentences the draft had already made (never shown twice)
        self._said_before: set[str] = set()

    @property
    def stopped(self) -> bool:
        """The answer is withheld, or the model loops: it need not write on."""
        return self.state == WITHHELD or self.looped

    @property
    def looped(self) -> bool:
        return self.repeated >= LOOP_REPEATS

    def feed(self, text: str) -> None:
        self.raw += text
        self._rest += text
        if self.state != WITHHELD:
            self._take(final=False)

    def close(self) -> str:
        """The end of the draft: decides a short answer, releases trailing text; the state."""
        if self.state == WITHHELD:
            return self.state
        self._take(final=True)
        if self.state == UNDECIDED:  # fewer sentences with claims than DECIDE_AFTER
            said = self._said()
            cited = citations.check(self.raw, set(self.passages)).cited
            restated = sum(u.restated for u in self.units)
            says_something = cited and not restated and not _declines(self.raw)
            self._decide(any(u.backed for u in said) if said else bool(says_something))
        if self.state == SHOWN and self._pending:
            self._emit(self._pending)
        return self.state

    def result(self) -> grounding.Grounding:
        """The claim check of every unit read (what was released and what was held back)."""
        for unit in self.units:
            for claim in unit.claims:
                claim.shown = unit.released
        claims = self._claims()
        g = grounding.Grounding(claims, restated=sum(u.restated for u in self.units),
                                attributed=sum(c.attributed is not None for c in claims))
        g.supported = sum(c.status == grounding.SUPPORTED for c in claims)
        g.unsupported = sum(c.status == grounding.UNSUPPORTED for c in claims)
        g.uncited = sum(c.status == grounding.UNCITED for c in claims)
        g.verdict = grounding.verdict(g)
        if self.state == SHOWN and self.held_back:
            g.verdict += f" — {self.held_back} held back from the answer"
        if self.repeated and not self.looped:
            g.verdict += f" — {self.repeated} repeated sentence{'s' if self.repeated > 1 else ''} left out"
        if self.state == SHOWN:
            g.cautions = self._cautions()
            g.verdict += "".join(f"; {caution}" for caution in g.cautions)
        return g

    def _cautions(self) -> list[str]:
        """Signs of a model that lost track (s3, the KMS seed, on a new CPU: the same sentence five times,
        citing [5]…[10] of four sources), though each sentence shown was found in a passage."""
        out = []
        invented = citations.check(self.raw, set(self.passages)).invalid
        if invented:
            out.append(f"the model cited sources that don't exist ({citations.listed(invented)}): read with care")
        if self.looped:
            out.append("the model began repeating itself and was stopped")
        return out

    @property
    def held_back(self) -> int:
        return sum(len(u.claims) for u in self.units if u.claims and not u.released)

    def _said(self) -> list[Unit]:
        """The units read so far that make claims."""
        return [u for u in self.units if u.claims]

    def _claims(self) -> list[Claim]:
        return [c for u in self.units for c in u.claims]

    def _take(self, final: bool) -> None:
        finished, self._rest = cut(self._rest, final)
        for text in finished:
            if self.stopped:
                return
            if self._repeats(text):  # left out; its line breaks stay
                text = text[len(text.rstrip()):]
            unit = Unit(text)
            if text.strip():
                checked = grounding.check(text, self.passages, self._encode, self.question, self._judge)
                unit.claims, unit.restated = checked.claims, checked.restated
            self.units.append(unit)
            if self.state == UNDECIDED:  # shown as soon as one of the first sentences is backed whole
                said = self._said()[:DECIDE_AFTER]
                if any(u.backed for u in said) or len(said) == DECIDE_AFTER:
                    self._decide(any(u.backed for u in said))
            else:
                self._gate(unit)

    def _repeats(self, text: str) -> bool:
        """Whether the draft made this sentence before (its words, whatever its citations and list number)."""
        words = " ".join(_WORDS.findall(citations.sub(" ", _LIST_MARKER.sub("", text, count=1)).lower()))
        if len(words) < 20:  # headings, "Yes.", blank lines: repeating those is no loop
            return False
        if words in self._said_before:
            self.repeated += 1
            return True
        self._said_before.add(words)
        return False

    def _decide(self, show: bool) -> None:
        self.state = SHOWN if show else WITHHELD
        if show:
            for unit in self.units:
                self._gate(unit)

    def _gate(self, unit: Unit) -> None:
        if not unit.claims and unit.text.strip() and (is_refusal(unit.text) or _NOT_COVERED_PART.match(unit.text)):
            # "The documentation doesn't cover this. [1] The offline store is written in Parquet [1]": shown
            # beside backed sentences it contradicts them, and the check can't tell whether it is true (stop 34:
            # d22 ended "…doesn't cover how quickly data shows up" under "written into Amazon S3 within 15 minutes")
            self.declined = self.declined or " ".join(citations.sub("", unit.text).split())
        elif not unit.claims:
            self._pending.append(unit)
        elif unit.backed:
            self._emit([*self._pending, unit])
        else:  # held back, with the lead-in that introduced it ("The limits are:"); blank lines stay
            self._pending = [u for u in self._pending if not u.text.strip()]
            if unit.text.endswith("\n") and self.shown_text and not self.shown_text.endswith("\n"):
                self._pending.append(Unit("\n"))  # it ended a line a released sentence began

    def _emit(self, units: list[Unit]) -> None:
        self._pending = []
        for unit in units:
            unit.released = True
            text = _cite_found(unit, _clean(unit.text, set(self.passages)))
            text = _joined(self.shown_text, text)
            if text:
                self.shown_text += text
                self._release(text)


def replay(draft: str, passages: dict[int, str], encode: Encode, question: str | None,
           judge: grounding.Judge | None = None) -> ClaimGate:
    """A saved draft through the gate as if it streamed (decoding is greedy, so a model stopped by the
    gate would have written the same words up to that point): what the reader would have seen."""
    gate = ClaimGate(passages, encode, question, judge=judge)
    gate.feed(draft)
    gate.close()
    return gate


def _clean(text: str, valid: set[int]) -> str:
    """Citations normalized and those to missing sources dropped, the unit's spacing kept."""
    body = text.strip()
    if not body:
        return text
    start = text.index(body[0])
    return text[:start] + citations.check(body, valid).text + text[start + len(body):]


def _joined(shown: str, text: str) -> str:
    """`text`'s leading line breaks where it follows `shown`: none at the start, and at most one blank
    line between shown units (held sentences leave their line breaks behind, a long run of them a gap)."""
    if not shown:
        return text.lstrip()
    body = text.lstrip()
    head = text[:len(text) - len(body)]
    breaks = head.count("\n")
    if not breaks:
        return text
    had = shown[len(shown.rstrip()):].count("\n")
    return "\n" * max(0, min(breaks, 2 - had)) + head[head.rfind("\n") + 1:] + body


def _cite_found(unit: Unit, text: str) -> str:
    """A sentence the model left uncited, or cited to a passage that doesn't back it, shown citing the
    passage the check found it in ("Sizes go up to 6 GB [2]."): every sentence the reader sees names
    its source. The claim keeps `attributed`, so the reader is told the check, not the model, cited it."""
    if not unit.claims or any(c.attributed is None for c in unit.claims) or _FENCE in text \
            or text.lstrip().startswith("|"):
        return text
    marks = "".join(f"[{n}]" for n in sorted({c.attributed for c in unit.claims if c.attributed is not None}))
    bare = citations.sub("", text, _CITATION_AND_SPACE)
    body = bare.rstrip()
    closing = re.search(r"[.!?:;]*$", body)
    start = closing.start() if closing else len(body)
    return f"{body[:start].rstrip()} {marks}{body[start:]}{bare[len(body):]}"


def _declines(text: str) -> bool:
    return NOT_COVERED.lower().rstrip(".") in " ".join(text.lower().replace("does not", "doesn't").split())
