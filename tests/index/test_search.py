"""Retrieval on the bundled sample docs: real model, real LanceDB, dev questions whose pages are bundled."""

from __future__ import annotations

import json

import pytest

from alpaca_index.retrieval.search import (
    Hit,
    SearchSettings,
    best_per_file,
    fuse,
    is_navigation,
    keyword_query,
    text_candidates,
)
from alpaca_index.storage.fulltext import expand_identifiers, identifier_forms, query_text
from alpaca_index.storage.store import FTS_COLUMN
from tests.conftest import DEV_QUESTIONS, SAMPLE_DOCS

BUNDLED = [q for q in map(json.loads, DEV_QUESTIONS.read_text().splitlines()) if q["relevant"]
           and all((SAMPLE_DOCS / p).exists() for p in q["relevant"])] if DEV_QUESTIONS.exists() else []


@pytest.mark.skipif(not BUNDLED, reason="dev questions not available")
def test_dev_questions_with_bundled_pages_find_them(sample_index):
    ranks = []
    for q in BUNDLED:
        files = [h.path for h in sample_index.search_files(q["question"], k=10)]
        ranks.append(next((n for n, f in enumerate(files, 1) if f in q["relevant"]), None))
    in_top5 = sum(1 for r in ranks if r and r <= 5)
    mrr = sum(1 / r for r in ranks if r) / len(ranks)
    # one vocabulary-mismatch question ("finished" vs "check prediction results") may miss
    assert in_top5 >= len(BUNDLED) - 1, ranks
    assert mrr >= 0.7, ranks


def test_hits_carry_location_and_heading_path(sample_index):
    hits = sample_index.search("scale an asynchronous endpoint down to zero instances", k=5)
    assert hits and hits == sorted(hits, key=lambda h: -h.score)
    top = hits[0]
    lines = (SAMPLE_DOCS / top.path).read_text(encoding="utf-8").splitlines()
    assert 1 <= top.start_line <= top.end_line <= len(lines)
    assert top.heading_path.startswith(top.title)
    assert top.similarity is not None and 0 < top.similarity <= 1


def test_search_files_returns_one_hit_per_file(sample_index):
    files = sample_index.search_files("endpoint encryption KMS key", k=8)
    assert len({h.path for h in files}) == len(files) > 1


def test_search_pages_is_search_and_search_files_in_one(sample_index):
    query = "scale an asynchronous endpoint down to zero instances"
    found = sample_index.search_pages(query, k=4, chunks=12)
    assert found.pages == sample_index.search_files(query, k=4)
    assert found.chunks == sample_index.search(query, k=12)  # the same chunks, scores not touched by page ranking


def test_path_filter_restricts_results(sample_index):
    hits = sample_index.search("SageMaker endpoint", k=10, path_prefix="cfn-sagemaker/")
    assert hits and all(h.path.startswith("cfn-sagemaker/") for h in hits)


def test_exact_identifier_found_by_full_text(sample_index):
    # an API name that only appears literally: the keyword half of the fusion must surface it
    hits = sample_index.search_files("DescribeEndpointConfig KmsKeyId", k=5)
    assert any("KmsKeyId" in h.text or "DescribeEndpointConfig" in h.text for h in hits)


def test_related_excludes_the_file_itself_and_accepts_absolute_paths(sample_index):
    page = SAMPLE_DOCS / "sagemaker-dg" / "async-inference-autoscale.md"
    related = sample_index.related(path=str(page), k=5)
    paths = [h.path for h in related]
    assert paths and "sagemaker-dg/async-inference-autoscale.md" not in paths
    assert any("async" in p for p in paths), paths


def test_related_for_free_text_and_unknown_file(sample_index, tmp_path):
    note = tmp_path / "note.md"
    note.write_text("# Geospatial\nWe use SageMaker geospatial earth observation jobs for our maps.\n")
    assert any("geospatial" in h.path for h in sample_index.related(path=str(note), k=3))
    with pytest.raises(FileNotFoundError):
        sample_index.related(path=str(tmp_path / "missing.md"))


def test_queries_that_are_only_punctuation_do_not_crash(sample_index):
    for query in ['"', "AND OR NOT", "(*)", "title:foo^2 ~ -", "😀"]:
        words = keyword_query(query, identifiers=True)
        assert not set(words) & set('"():^~*+'), words  # nothing the full-text parser could choke on
        hits = sample_index.search(query, k=3)
        assert len(hits) == 3 and hits == sorted(hits, key=lambda h: -h.score)  # the vector half still answers
        if not words:
            assert all(h.similarity is not None for h in hits)


def test_identifier_forms_split_and_join():
    assert identifier_forms("AWS::SageMaker::NotebookInstance") == ["aws sage maker notebook instance",
                                                                     "awssagemakernotebookinstance"]
    assert identifier_forms("model_monitor") == ["modelmonitor"]
    assert identifier_forms("KmsKeyId") == ["kms key id"]
    assert expand_identifiers("XGBoost ARNs") == "" and expand_identifiers("plain words only") == ""
    assert "data capture config" in query_text("DataCaptureConfig")


def test_words_find_a_page_where_they_are_only_one_identifier(sample_index):
    """"async inference output config" is written nowhere as words: only as AsyncInferenceOutputConfig."""
    table = sample_index.store.chunks
    page = "cfn-sagemaker/aws-properties-sagemaker-endpointconfig-asyncinferenceoutputconfig.md"
    rows = text_candidates(table, "async inference output config", 5, SearchSettings())
    assert page in [r["path"] for r in rows]  # behind its parent page, which names it too
    assert FTS_COLUMN in table.schema.names


def _hit(path: str, score: float, kind: str = "section", text: str = "Some prose.") -> Hit:
    return Hit(id=f"{path}#{score}", path=path, abspath=path, title=path, heading_path=path, anchor="", start_line=1,
               end_line=1, text=text, kind=kind, score=score, similarity=None, mtime=0.0)


def test_pages_rank_by_their_chunks_together_when_decay_is_set():
    def hits():
        return [_hit("a.md", 0.050), _hit("b.md", 0.045), _hit("b.md", 0.040), _hit("b.md", 0.040, "title")]
    assert [h.path for h in best_per_file(hits(), 2, SearchSettings(page_decay=0))] == ["a.md", "b.md"]  # best chunk only
    assert [h.path for h in best_per_file(hits(), 2)] == ["b.md", "a.md"]  # the shipped decay (0.3)
    chunks = hits()
    ranked = best_per_file(chunks, 2, SearchSettings(page_decay=0.3))
    assert [h.path for h in ranked] == ["b.md", "a.md"]
    assert ranked[0].kind == "section" and abs(ranked[0].score - (0.045 + 0.3 * 0.040 + 0.09 * 0.040)) < 1e-9
    assert [h.score for h in chunks] == [0.050, 0.045, 0.040, 0.040]  # ranks copies: the chunks keep their scores


def test_link_lists_count_less_than_prose():
    toc = "**Topics**\n+ Prerequisites\n+ Configure auto scaling\n+ Register a model\n+ Define a scaling policy\n+ Delete"
    assert is_navigation(toc)
    assert not is_navigation("+ Create a domain and choose the default execution role for every user.\n" * 5)
    ranked = best_per_file([_hit("index.md", 0.05, text=toc), _hit("x.md", 0.04)], 2, SearchSettings(nav_weight=0.5))
    assert [h.path for h in ranked] == ["x.md", "index.md"]


def test_an_overview_page_gains_from_its_sub_pages():
    def hits():
        return [_hit("x-console.md", 0.050), _hit("x-faq.md", 0.048), _hit("x.md", 0.045), _hit("y.md", 0.047)]
    assert [h.path for h in best_per_file(hits(), 4)][2:] == ["y.md", "x.md"]
    ranked = best_per_file(hits(), 4, SearchSettings(family_weight=0.25))
    assert ranked[0].path == "x.md" and abs(ranked[0].score - (0.045 + 0.25 * 0.050)) < 1e-9
    assert {h.path: h.score for h in ranked}["y.md"] == 0.047  # no sub-pages, no change


def _row(name: str, **score: float) -> dict:
    return {"id": name, "path": f"{name}.md", "root": "/docs", "title": name, "heading_path": name, "anchor": "",
            "start_line": 1, "end_line": 2, "text": name, "kind": "section", "mtime": 0.0, **score}


def test_score_fusion_keeps_a_lead_that_rank_fusion_flattens():
    # "far" is much closer in meaning than anything else and absent from full text; "both" is middling on
    # both lists. Ranks see two second places beat one first; scores see how far ahead "far" is.
    vectors = [_row("far", _distance=0.20)] + [_row(f"v{i}", _distance=0.55 + i * 0.001) for i in range(30)]
    vectors.insert(2, _row("both", _distance=0.551))
    texts = [_row("t0", _score=9.0), _row("both", _score=3.0)] + [_row(f"t{i}", _score=2.9 - i * 0.01)
                                                                  for i in range(1, 30)]
    by_ranks = fuse(vectors, texts, 3, 100, SearchSettings(fusion="ranks"))
    by_scores = fuse(vectors, texts, 3, 100, SearchSettings())
    assert by_ranks[0].id == "both" and by_scores[0].id == "far"
    assert by_scores[0].similarity == pytest.approx(0.80)  # the cosine stays on the hit (refusal uses it)


def test_scores_scale_to_a_fixed_rank_not_the_list_end():
    # the same top 3 of a list read 10 or 40 deep get the same fused scores (search depth varies by caller)
    vectors = [_row(f"v{i}", _distance=0.1 + i * 0.01) for i in range(40)]
    settings = SearchSettings(candidates=10)
    shallow = {h.id: h.score for h in fuse(vectors[:10], [], 3, 10, settings)}
    deep = {h.id: h.score for h in fuse(vectors, [], 3, 40, settings)}
    assert shallow == pytest.approx(deep) and shallow["v0"] == pytest.approx(1.0)
