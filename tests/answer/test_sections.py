"""Which section of a page a retry reads (`sections.closest`), with the index's real MiniLM."""

from alpaca_index.answer import sections
from alpaca_index.retrieval.search import Hit


def section(path: str, text: str) -> Hit:
    return Hit(id=f"{path}#{hash(text)}", path=path, abspath=f"/docs/{path}", title=path, heading_path=path,
               anchor="", start_line=1, end_line=2, text=text, kind="section", score=1.0, similarity=0.5, mtime=0.0)


QUESTION = "if I delete an endpoint, is its endpoint configuration deleted too?"
# d06's case: search ranks the section that repeats the question's words first
REPEATS_THE_WORDS = section("delete.md", "Use the delete-endpoint-config command to delete your endpoint "
                                         "configuration. Specify the name of your endpoint configuration.")
ANSWERS = section("delete.md", "SageMaker frees up all of the resources that were deployed when the endpoint was "
                               "created. Deleting an endpoint does not delete its endpoint configuration or the model.")


def test_the_section_holding_the_closest_sentence_wins_over_search_order(sample_index):
    e = sample_index.embedder
    assert sections.closest(QUESTION, [[REPEATS_THE_WORDS, ANSWERS]], e.encode_query, e.encode) == [ANSWERS]
    # the order search gave doesn't decide: the same sentence wins from first place too
    assert sections.closest(QUESTION, [[ANSWERS, REPEATS_THE_WORDS]], e.encode_query, e.encode) == [ANSWERS]


def test_pages_with_one_section_need_no_encoding():
    def encode(texts):
        raise AssertionError("nothing to choose between: no encoding")

    only, other = section("a.md", "A page with a single retrieved section."), section("b.md", "Another one, alone.")
    assert sections.closest("anything at all?", [[only], [other]], encode, encode) == [only, other]
