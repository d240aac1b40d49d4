"""The no-model answer: the most question-like sentences of the best passages, quoted with citations."""

from __future__ import annotations

import re

from alpaca_index.answer.prompt import Source, defuse

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`*\[(])")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = set("a an and are as at be by can do does for from how i if in is it my of on or the to what when where "
            "which who why with you your this that there all".split())


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def best_sentences(text: str, question: str, limit: int = 2) -> str:
    """Up to `limit` sentences sharing the most words with the question, in document order."""
    flat = " ".join(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("```"))
    sentences = [s.strip() for s in _SENTENCE.split(flat) if len(s.strip()) > 20]
    if not sentences:
        return flat[:300]
    wanted = _words(question)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(wanted & _words(sentences[i])), i))[:limit]
    picked = " ".join(sentences[i] for i in sorted(ranked))
    return picked if len(picked) <= 600 else picked[:597] + "…"


NO_MODEL_HEADING = "From the documentation (passages quoted, no model configured):"


def compose(question: str, sources: list[Source], heading: str = NO_MODEL_HEADING) -> str:
    lines = [heading, ""]
    for source in sources:
        hit = source.hit
        # quoted text can't cite: a "[2]" in a page must not credit source 2
        lines.append(f"- **{defuse(hit.heading_path)}**: {best_sentences(defuse(hit.text), question)} [{source.n}]")
    return "\n".join(lines)
