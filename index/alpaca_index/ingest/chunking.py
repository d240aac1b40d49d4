"""Heading-aware chunking sized to the embedding model's window.

Each section's blocks are packed into chunks of at most `max_tokens` word pieces *including* the
heading path that is embedded with them. Blocks are never cut unless a single block is larger
than a chunk; then code/tables split at line boundaries and prose at sentence boundaries.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from alpaca_index.ingest.documents import Block, Chunk, ParsedDoc, Section

SEPARATOR = " › "
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(`\"'])")
TokenCounter = Callable[[list[str]], list[int]]
MAX_CHARS_PER_TOKEN = 16  # so a chunk also stays under max_tokens * 16 characters


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = 256
    overlap_tokens: int = 32
    min_tokens: int = 48
    title_chunks: bool = True
    heading_context: bool = True  # embed "Page › Section" with the text (measured: bench/)


@dataclass
class _Piece:
    start: int
    end: int
    text: str
    tokens: int
    sep: str = "\n\n"


@dataclass
class _Draft:
    section: Section
    pieces: list[_Piece]

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.pieces)


def chunk_docs(rel: str, docs: list[ParsedDoc], count: TokenCounter, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    count = _bounded(count)
    chunks: list[Chunk] = []
    for doc in docs:
        chunks.extend(_chunk_doc(rel, doc, count, settings))
    for n, chunk in enumerate(chunks):
        chunk.id = f"{rel}#{n}"
    return chunks


def _bounded(count: TokenCounter) -> TokenCounter:
    """Sizes in tokens, but at least one per MAX_CHARS_PER_TOKEN characters: a long unbroken run
    (a minified line, a blob) is a single unknown token to the model and would make a huge chunk."""
    def sized(texts: list[str]) -> list[int]:
        return [max(n, len(t) // MAX_CHARS_PER_TOKEN) for t, n in zip(texts, count(texts))]
    return sized


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _header(doc: ParsedDoc, section: Section) -> str:
    return SEPARATOR.join([doc.title, *section.headings])


def _chunk_doc(rel: str, doc: ParsedDoc, count: TokenCounter, s: ChunkSettings) -> list[Chunk]:
    drafts: list[_Draft] = []
    for section in doc.sections:
        if not section.blocks:
            continue
        budget = max(16, s.max_tokens - count([_header(doc, section)])[0] - 2)
        pieces = _pieces(section.blocks, budget, count)
        drafts.extend(_pack(section, pieces, budget, s.overlap_tokens, count))
    drafts = _merge_tiny(doc, drafts, s, count)
    chunks = [_make_chunk(rel, doc, d, s.heading_context) for d in drafts]
    if s.title_chunks and not doc.doc_key and chunks:
        chunks.insert(0, _title_chunk(rel, doc, count, s))
    return chunks


def _pieces(blocks: list[Block], budget: int, count: TokenCounter) -> list[_Piece]:
    tokens = count([b.text for b in blocks])
    pieces: list[_Piece] = []
    for block, n in zip(blocks, tokens):
        if n <= budget:
            pieces.append(_Piece(block.start_line, block.end_line, block.text, n))
        else:
            pieces.extend(_split_block(block, budget, count))
    return pieces


def _split_block(block: Block, budget: int, count: TokenCounter) -> list[_Piece]:
    """Oversized block: split code/tables/lists at lines, prose at sentences, keeping line numbers."""
    if block.kind == "text" and block.start_line == block.end_line:
        units = [(block.start_line, u) for u in _SENTENCE.split(block.text)]
        joiner = " "
    else:
        units = [(block.start_line + i, u) for i, u in enumerate(block.text.split("\n"))]
        joiner = "\n"
    sizes = count([u for _, u in units])
    out: list[_Piece] = []
    current: list[tuple[int, str]] = []
    used = 0
    for (line, unit), n in zip(units, sizes):
        if n > budget:  # one enormous line/sentence: hard-split by words
            out.extend(_Piece(line, line, part, c, joiner) for part, c in _split_words(unit, budget, count))
            continue
        if current and used + n + 1 > budget:
            out.append(_Piece(current[0][0], current[-1][0], joiner.join(u for _, u in current), used, joiner))
            current, used = [], 0
        current.append((line, unit))
        used += n + 1
    if current:
        out.append(_Piece(current[0][0], current[-1][0], joiner.join(u for _, u in current), used, joiner))
    return out


def _split_words(text: str, budget: int, count: TokenCounter) -> list[tuple[str, int]]:
    """One enormous line or sentence → parts of at most `budget` tokens and `budget * MAX_CHARS_PER_TOKEN`
    characters, cut at spaces (inside a word only when one word is that long). No text is dropped."""
    limit = budget * MAX_CHARS_PER_TOKEN
    words = [w[i:i + limit] for w in text.split(" ") for i in range(0, max(len(w), 1), limit)]
    parts: list[str] = []
    current: list[str] = []
    used, chars = 0, 0
    for word, n in zip(words, count(words)):
        if current and (used + n > budget or chars + len(word) > limit):
            parts.append(" ".join(current))
            current, used, chars = [], 0, 0
        current.append(word)
        used, chars = used + n, chars + len(word) + 1
    if current:
        parts.append(" ".join(current))
    return [fit for part, n in zip(parts, count(parts)) for fit in _halve_until_fits(part, n, budget, count)]


def _halve_until_fits(text: str, tokens: int, budget: int, count: TokenCounter) -> list[tuple[str, int]]:
    """Words' token counts don't always add up (one giant word, odd scripts): check and halve."""
    if tokens <= budget or len(text) < 2:
        return [(text, tokens)] if text.strip() else []
    middle = len(text) // 2
    cut = text.rfind(" ", 0, middle + 1)
    left, right = (text[:cut], text[cut + 1:]) if cut > 0 else (text[:middle], text[middle:])
    return [fit for half, n in zip((left, right), count([left, right]))
            for fit in _halve_until_fits(half, n, budget, count)]


def _pack(section: Section, pieces: list[_Piece], budget: int, overlap: int, count: TokenCounter) -> list[_Draft]:
    drafts: list[_Draft] = []
    current: list[_Piece] = []
    used = 0
    for piece in pieces:
        if current and used + piece.tokens > budget:
            drafts.append(_Draft(section, current))
            tail = _overlap_tail(current[-1], overlap, count)
            current = [tail] if tail and tail.tokens + piece.tokens <= budget else []
            used = sum(p.tokens for p in current)
        current.append(piece)
        used += piece.tokens
    if current:
        drafts.append(_Draft(section, current))
    return drafts


def _overlap_tail(piece: _Piece, overlap: int, count: TokenCounter) -> _Piece | None:
    """The last sentences (or lines) of the previous chunk, at most `overlap` tokens."""
    if overlap <= 0:
        return None
    if piece.tokens <= overlap:
        return piece
    units = piece.text.split("\n") if piece.sep == "\n" or "\n" in piece.text else _SENTENCE.split(piece.text)
    sizes = count(units)
    kept: list[str] = []
    used = 0
    for unit, n in zip(reversed(units), reversed(sizes)):
        if used + n > overlap:
            break
        kept.insert(0, unit)
        used += n
    if not kept:
        return None
    joiner = "\n" if "\n" in piece.text else " "
    return _Piece(piece.end if joiner == "\n" else piece.start, piece.end, joiner.join(kept), used)


def _merge_tiny(doc: ParsedDoc, drafts: list[_Draft], s: ChunkSettings, count: TokenCounter) -> list[_Draft]:
    """A tiny section joins the following one (or the previous, at the end) when both fit."""
    merged: list[_Draft] = []
    carry: _Draft | None = None
    for draft in drafts:
        if carry is not None:
            heading = _Piece(draft.section.start_line, draft.section.start_line,
                             SEPARATOR.join(draft.section.headings) + ":", 0)
            heading.tokens = count([heading.text])[0]
            combined = carry.tokens + heading.tokens + draft.tokens
            header_cost = count([_header(doc, carry.section)])[0] + 2
            if draft.section is not carry.section and combined + header_cost <= s.max_tokens:
                draft = _Draft(carry.section, carry.pieces + [heading] + draft.pieces)
            else:
                merged.append(carry)
            carry = None
        if draft.tokens < s.min_tokens and len([d for d in drafts if d.section is draft.section]) == 1:
            carry = draft
        else:
            merged.append(draft)
    if carry is not None:
        if merged and merged[-1].tokens + carry.tokens + count([_header(doc, merged[-1].section)])[0] + 2 <= s.max_tokens:
            heading = _Piece(carry.section.start_line, carry.section.start_line,
                             SEPARATOR.join(carry.section.headings) + ":", 0)
            merged[-1] = _Draft(merged[-1].section, merged[-1].pieces + [heading] + carry.pieces)
        else:
            merged.append(carry)
    return merged


def _make_chunk(rel: str, doc: ParsedDoc, draft: _Draft, context: bool = True) -> Chunk:
    text = "\n\n".join(p.text for p in draft.pieces).strip()
    header = _header(doc, draft.section)
    return Chunk(
        id="", path=rel, title=doc.title, heading_path=header, anchor=draft.section.anchor or doc.anchor,
        start_line=min(p.start for p in draft.pieces), end_line=max(p.end for p in draft.pieces),
        text=text, embed_text=f"{header}\n{text}" if context else text,
    )


def _title_chunk(rel: str, doc: ParsedDoc, count: TokenCounter, s: ChunkSettings) -> Chunk:
    """One chunk per page: title, its opening paragraph and its outline — what the page is about."""
    first = next((b for sec in doc.sections for b in sec.blocks), None)
    outline = [sec.headings[-1] for sec in doc.sections if len(sec.headings) == 1]
    lead = first.text if first else ""
    body = lead + ("\nSections: " + "; ".join(outline) if outline else "")
    while body and count([f"{doc.title}\n{body}"])[0] > s.max_tokens:
        body = body[: int(len(body) * 0.8)]
    return Chunk(
        id="", path=rel, title=doc.title, heading_path=doc.title, anchor=doc.anchor,
        start_line=1, end_line=first.end_line if first else 1, text=body.strip(),
        embed_text=f"{doc.title}\n{body}".strip(), kind="title",
    )
