"""Index time per format and per MB: the same pages written as Markdown, HTML, RST, AsciiDoc, PDF,
Word and PowerPoint, then read (extraction only) and indexed (read + chunk + embed + store).

    python bench/formats.py [--pages 30] [--out bench/results/formats.json]

The pages are the first N Markdown pages of the shared corpus (sorted by path), parsed once by the
index's Markdown reader and written out in each format by the library that makes it (reportlab,
python-docx, python-pptx), so every format carries the same text. Each format is indexed into its
own fresh LanceDB folder with the real model.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.embedding import Embedder  # noqa: E402
from alpaca_index.ingest.documents import ParsedDoc  # noqa: E402
from alpaca_index.ingest.formats import markdown as md_reader  # noqa: E402
from alpaca_index.ingest.formats import read  # noqa: E402
from common import CORPUS, corpus_pages  # noqa: E402

RST_MARKS = "=-~^\"'"


def write_html(doc: ParsedDoc, path: Path) -> None:
    from html import escape

    out = [f"<html><head><title>{escape(doc.title)}</title></head><body><h1>{escape(doc.title)}</h1>"]
    for s in doc.sections:
        if s.headings:
            level = min(len(s.headings) + 1, 6)
            out.append(f"<h{level}>{escape(s.headings[-1])}</h{level}>")
        out += [f"<pre>{escape(b.text)}</pre>" if b.kind == "code" else f"<p>{escape(b.text)}</p>" for b in s.blocks]
    path.write_text("\n".join(out) + "</body></html>\n")


def write_rst(doc: ParsedDoc, path: Path) -> None:
    out = [doc.title, "=" * len(doc.title), ""]
    for s in doc.sections:
        if s.headings:
            out += [s.headings[-1], RST_MARKS[min(len(s.headings), 5)] * max(len(s.headings[-1]), 3), ""]
        for b in s.blocks:
            out += (["::", "", textwrap.indent(b.text, "   "), ""] if b.kind == "code" else [b.text, ""])
    path.write_text("\n".join(out))


def write_adoc(doc: ParsedDoc, path: Path) -> None:
    out = [f"= {doc.title}", ""]
    for s in doc.sections:
        if s.headings:
            out += [f"{'=' * min(len(s.headings) + 1, 6)} {s.headings[-1]}", ""]
        for b in s.blocks:
            out += (["----", b.text, "----", ""] if b.kind == "code" else [b.text, ""])
    path.write_text("\n".join(out))


def write_pdf(doc: ParsedDoc, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle(doc.title)
    y, marks = 800, 0

    def line(text: str) -> None:
        nonlocal y
        if y < 60:
            pdf.showPage()
            y = 800
        pdf.drawString(50, y, text)
        y -= 14

    for s in doc.sections:
        if s.headings:
            marks += 1
            pdf.bookmarkPage(f"m{marks}", top=y)
            pdf.addOutlineEntry(s.headings[-1], f"m{marks}", level=min(len(s.headings) - 1, 3))
            line(s.headings[-1])
        for b in s.blocks:
            for raw in b.text.splitlines() or [""]:
                for wrapped in textwrap.wrap(raw, 95) or [""]:
                    line(wrapped)
            y -= 8
    pdf.showPage()
    pdf.save()


def write_docx(doc: ParsedDoc, path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = doc.title
    for s in doc.sections:
        if s.headings:
            document.add_heading(s.headings[-1], level=min(len(s.headings), 6))
        for b in s.blocks:
            document.add_paragraph(b.text)
    document.save(str(path))


def write_pptx(doc: ParsedDoc, path: Path) -> None:
    import pptx

    deck = pptx.Presentation()
    deck.core_properties.title = doc.title
    for s in doc.sections:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = s.headings[-1] if s.headings else doc.title
        slide.placeholders[1].text_frame.text = "\n".join(b.text for b in s.blocks)
    deck.save(str(path))


WRITERS = {".md": None, ".html": write_html, ".rst": write_rst, ".adoc": write_adoc, ".pdf": write_pdf,
           ".docx": write_docx, ".pptx": write_pptx}


def build(pages: list[str], dest: Path) -> dict[str, Path]:
    folders = {ext: dest / ext.lstrip(".") for ext in WRITERS}
    for folder in folders.values():
        folder.mkdir(parents=True)
    for rel in pages:
        source = CORPUS / rel
        stem = rel.replace("/", "__").removesuffix(".md")
        shutil.copy2(source, folders[".md"] / f"{stem}.md")
        doc = md_reader.parse(source.read_text(encoding="utf-8"), stem)
        for ext, writer in WRITERS.items():
            if writer:
                writer(doc, folders[ext] / f"{stem}{ext}")
    return folders


def measure(folder: Path, embedder: Embedder, db: Path) -> dict:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    size = sum(p.stat().st_size for p in files)
    started = time.perf_counter()
    blocks = sum(len(s.blocks) for p in files for d in read(p.name, p.read_bytes()) for s in d.sections)
    extract = time.perf_counter() - started
    index = DocsIndex(db, embedder=embedder)
    started = time.perf_counter()
    report = index.sync([folder])
    total = time.perf_counter() - started
    return {"files": len(files), "mb": round(size / 1e6, 3), "blocks": blocks, "extract_s": round(extract, 3),
            "extract_ms_per_file": round(1000 * extract / len(files), 1),
            "extract_s_per_mb": round(extract / (size / 1e6), 3), "index_s": round(total, 2),
            "index_s_per_mb": round(total / (size / 1e6), 2), "chunks": report.chunks_written,
            "skipped": len(report.skipped)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "formats.json")
    args = parser.parse_args()
    pages = corpus_pages(CORPUS)[: args.pages]
    embedder = Embedder()
    embedder.encode(["warm up the model"])
    results = {}
    with tempfile.TemporaryDirectory(prefix="alpaca-formats-") as tmp:
        folders = build(pages, Path(tmp) / "docs")
        for ext, folder in folders.items():
            results[ext] = measure(folder, embedder, Path(tmp) / f"db-{ext.lstrip('.')}")
            print(ext, results[ext], file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"pages": len(pages), "formats": results}, indent=2))
    print("| format | files | MB | extract ms/file | extract s/MB | index s | index s/MB | chunks |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for ext, r in results.items():
        print(f"| {ext} | {r['files']} | {r['mb']} | {r['extract_ms_per_file']} | {r['extract_s_per_mb']} | "
              f"{r['index_s']} | {r['index_s_per_mb']} | {r['chunks']} |")


if __name__ == "__main__":
    main()
