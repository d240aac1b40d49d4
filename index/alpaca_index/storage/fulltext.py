"""Identifier-aware full text: compound names indexed whole and split, for documents and queries alike.

The full-text index splits on punctuation and lower-cases, so `NotebookInstance` is one token that the
words "notebook instance" never meet, while `model_monitor` and `sagemaker.model_monitor` are only ever
seen in pieces. Appending each compound's other forms — its words, and its parts joined — lets both
spellings meet: `AWS::SageMaker::NotebookInstance` adds "notebook instance" and
"awssagemakernotebookinstance"; `model_monitor` adds "modelmonitor".
"""

from __future__ import annotations

import re

# word runs joined by :: . _ - or / (at least one joint), or one word with a lower-to-upper case step
_COMPOUND = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:(?:::|[._/-])[A-Za-z0-9]+)+|[A-Za-z][A-Za-z0-9]*[a-z0-9][A-Z][A-Za-z0-9]*")
_JOINT = re.compile(r"::|[._/-]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
MAX_EXPANSIONS = 400  # forms added per text: a huge generated page must not double in size


def identifier_forms(token: str) -> list[str]:
    """Other spellings of one identifier: camel parts as words, and multi-part names joined whole."""
    parts = [p for p in _JOINT.split(token) if p]
    words = [w for part in parts for w in _CAMEL.split(part) if w]
    forms = []
    if len(words) > len(parts):  # camel case: the tokenizer alone would keep each part whole
        forms.append(" ".join(words).lower())
    if len(parts) > 1:
        forms.append("".join(parts).lower())
    return forms


def expand_identifiers(text: str) -> str:
    """The forms of every distinct compound identifier in `text`, space separated (empty if none)."""
    seen: dict[str, None] = {}
    for match in _COMPOUND.finditer(text):
        token = match.group(0)
        if token in seen:
            continue
        seen[token] = None
        if len(seen) > MAX_EXPANSIONS:
            break
    return " ".join(form for token in seen for form in identifier_forms(token))


def indexed_text(embed_text: str) -> str:
    """What the full-text index holds for a chunk: its embedded text, then its identifiers' other forms."""
    extra = expand_identifiers(embed_text)
    return f"{embed_text}\n{extra}" if extra else embed_text


def query_text(query: str) -> str:
    """A query with its identifiers' forms added, so "NotebookInstance" also looks for "notebook instance"."""
    extra = expand_identifiers(query)
    return f"{query} {extra}" if extra else query
