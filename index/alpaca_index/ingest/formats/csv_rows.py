"""A question/answer CSV (like the SageMaker FAQ): one document per row, lines from the reader."""

from __future__ import annotations

import csv
import io

from alpaca_index.ingest.documents import Block, ParsedDoc, Section


def parse(text: str) -> list[ParsedDoc]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    docs: list[ParsedDoc] = []
    previous_line = 0
    for row in reader:
        start, end = previous_line + 1, reader.line_num
        previous_line = reader.line_num
        cells = [cell.strip() for cell in row if cell and cell.strip()]
        if not cells:
            continue
        question, answer = (cells[0], "\n".join(cells[1:])) if len(cells) > 1 else ("", cells[0])
        title = question or answer[:80]
        key = f"row-{start}"
        section = Section([], key, start, end, [Block(start, end, answer or question, "text")])
        docs.append(ParsedDoc(title, [section], key, key))
    return docs
