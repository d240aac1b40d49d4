from alpaca_index.ingest.chunking import ChunkSettings, chunk_docs
from alpaca_index.ingest.formats import parse
from tests.conftest import SAMPLE_DOCS


def chunks_of(name, embedder, **settings):
    rel = f"sagemaker-dg/{name}"
    text = (SAMPLE_DOCS / rel).read_text(encoding="utf-8")
    return text.splitlines(), chunk_docs(rel, parse(rel, text), embedder.count_tokens, ChunkSettings(**settings))


def test_anchor_heading_path_and_lines_match_the_file(embedder):
    lines, chunks = chunks_of("async-inference-autoscale.md", embedder)
    zero = next(c for c in chunks if "scales to zero" in c.heading_path)
    assert zero.heading_path == "Autoscale an asynchronous endpoint › Define a scaling policy that scales to zero"
    assert zero.anchor == "async-inference-autoscale-define-async-zero"
    # the heading of that section sits just above the chunk's first line in the real file
    heading_line = next(i for i, line in enumerate(lines, 1) if 'name="async-inference-autoscale-define-async-zero"' in line)
    assert heading_line < zero.start_line <= zero.end_line <= len(lines)
    assert all(1 <= c.start_line <= c.end_line <= len(lines) for c in chunks)


def test_aws_quirks_are_cleaned_for_display_and_embedding(embedder):
    _, chunks = chunks_of("async-inference-autoscale.md", embedder)
    text = "\n".join(c.embed_text for c in chunks)
    assert "\\." not in text and "\\(" not in text
    assert "<a name" not in text and "Image NOT FOUND" not in text and "](http" not in text
    assert "automatic scaling (autoscaling)" in text


def test_placeholder_links_are_removed(embedder):
    rel = "x/IC-Hyperparameter.md"
    text = "# Params<a name=\"p\"></a>\n\n| a | b [\\[See the AWS documentation website for more details\\]](http://docs.aws) |\n"
    chunks = chunk_docs(rel, parse(rel, text), embedder.count_tokens)
    assert "See the AWS documentation" not in chunks[-1].text


def test_every_chunk_fits_the_model_window_with_its_heading(embedder):
    for name in ["whatis.md", "regions-quotas.md", "geospatial.md", "jumpstart-deploy.md", "inference-pipelines.md"]:
        _, chunks = chunks_of(name, embedder)
        sizes = embedder.count_tokens([c.embed_text for c in chunks])
        assert max(sizes) <= 256, name
        assert all(c.embed_text.startswith(c.heading_path) for c in chunks)


def test_code_blocks_are_not_cut_when_they_fit(embedder):
    lines, chunks = chunks_of("async-inference-autoscale.md", embedder)
    fences = [i for i, line in enumerate(lines, 1) if line.startswith("```")]
    blocks = list(zip(fences[::2], fences[1::2]))
    for start, end in blocks:
        if end - start < 20:
            assert any(c.start_line <= start and end <= c.end_line for c in chunks), (start, end)


def test_long_sections_split_with_overlap(embedder):
    _, chunks = chunks_of("async-inference-autoscale.md", embedder, max_tokens=128, overlap_tokens=32)
    same_section = [c for c in chunks if c.heading_path.endswith("new requests")]
    assert len(same_section) >= 3
    shared = [a for a, b in zip(same_section, same_section[1:]) if a.text.split()[-3:] and
              " ".join(a.text.split()[-3:]) in b.text]
    assert shared, "consecutive chunks of one section should share an overlap"


def test_tiny_sections_merge_with_a_neighbour(embedder):
    rel = "tiny.md"
    text = "# Page\n\nIntro paragraph about the page.\n\n## Small\n\nOne line.\n\n## Other\n\n" + "Real content here. " * 30 + "\n"
    chunks = chunk_docs(rel, parse(rel, text), embedder.count_tokens)
    sections = [c for c in chunks if c.kind == "section"]
    assert any("One line." in c.text and "Intro paragraph" in c.text for c in sections)


def test_title_chunk_summarises_the_page(embedder):
    _, chunks = chunks_of("geospatial.md", embedder)
    title = chunks[0]
    assert title.kind == "title" and title.start_line == 1
    assert title.embed_text.startswith(title.title)


def test_plain_rst_html_and_csv_formats(embedder):
    rst = "Guide\n=====\n\n.. _setup:\n\nSetup\n-----\n\nInstall the thing.\n"
    chunks = chunk_docs("g.rst", parse("g.rst", rst), embedder.count_tokens)
    section = [c for c in chunks if c.kind == "section"][0]
    assert section.title == "Guide" and "Install the thing." in section.text and section.start_line >= 6

    html = "<html><head><title>T</title><script>alert(1)</script></head><body>\n<h1>T</h1>\n<h2 id='a'>Alpha</h2>\n<p>Alpha text.</p>\n</body></html>"
    chunks = chunk_docs("p.html", parse("p.html", html), embedder.count_tokens)
    assert all("alert" not in c.text for c in chunks)
    alpha = [c for c in chunks if c.kind == "section"][0]
    assert alpha.anchor == "a" and alpha.start_line == 4

    csv_text = (SAMPLE_DOCS / "faq" / "Amazon_SageMaker_FAQs.csv").read_text(encoding="utf-8-sig")
    chunks = chunk_docs("faq.csv", parse("faq.csv", csv_text), embedder.count_tokens)
    assert len({c.anchor for c in chunks}) >= 150  # one document per row
    assert chunks[0].title.startswith("What is Amazon SageMaker")
