"""Which section of a page to read again: the one holding the sentence closest to the question.

Search ranks whole chunks, and a chunk that repeats the question's words can outrank the one sentence
that answers it (d22: "how quickly does data show up" → the offline store's field list, while "written into
Amazon S3 within 15 minutes" sits in another section of the same page). Sentences are pre-selected by
shared words, then the few best of each page are compared with MiniLM (~0.2 s for 4 pages). Used for a
retry after a withheld draft only: as the first reading it brought more wrong recombinations past the check
(bench/RESULTS.md, stop 34).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from alpaca_index.answer import grounding

if TYPE_CHECKING:
    import numpy as np

    from alpaca_index.retrieval.search import Hit

PER_PAGE = 4  # sentences per page compared by meaning: the ones sharing most words with the question
MIN_CHARS = 16  # shorter "sentences" are list markers and table fragments


def closest(question: str, pages: list[list[Hit]], encode_query: Callable[[str], np.ndarray],
            encode: Callable[[list[str]], np.ndarray]) -> list[Hit]:
    """For each page's sections (search order, at least one each), the section holding the sentence closest
    in meaning to the question; a page with one section keeps it. One encoding call for all pages."""
    asked = grounding.words(question)
    candidates: list[tuple[int, Hit, str]] = []  # (page, section, sentence)
    for page, sections in enumerate(pages):
        if len(sections) < 2:
            continue
        sentences = [(len(asked & grounding.words(s)), order, hit, s)
                     for order, (hit, s) in enumerate((h, s) for h in sections for s in _sentences(h.text))]
        sentences.sort(key=lambda c: (-c[0], c[1]))  # most shared words, then search order
        candidates += [(page, hit, s) for _, _, hit, s in sentences[:PER_PAGE]]
    best: dict[int, tuple[float, Hit]] = {}
    if candidates:
        similarities = encode([s for _, _, s in candidates]) @ encode_query(question)
        for (page, hit, _), similarity in zip(candidates, similarities):
            if page not in best or similarity > best[page][0]:
                best[page] = (float(similarity), hit)
    return [best[p][1] if p in best else sections[0] for p, sections in enumerate(pages)]


def _sentences(text: str) -> list[str]:
    return [s for s in (" ".join(s.split()) for s in grounding.sentences(text)) if len(s) >= MIN_CHARS]
