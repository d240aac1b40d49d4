"""The claim gate: the model's draft cut into units as it streams, each released only once the claim
check backs it, with the real MiniLM embedder on a passage of the sample docs."""

from __future__ import annotations

import pytest

from alpaca_index.answer import gate

MEMORY = "How much memory can a serverless endpoint have?"
BACKED = "Serverless endpoints can have between 1024 MB and 6144 MB of memory [1]."
BACKED_TOO = "The maximum RAM size you can choose for a serverless endpoint is 6144 MB [1]."  # the gate shows a
# sentence once: a second backed one, not BACKED again
INVENTED = "Each serverless endpoint also gets 64 GPUs [1]."
INVENTED_TOO = "Quantum Billing charges 3 dollars per hour for it [1]."
INVENTED_THREE = "Serverless endpoints run on 12 dedicated hosts in every region [1]."


@pytest.fixture(scope="module")
def passages(sample_index):
    hit = next(h for h in sample_index.search("serverless endpoint memory sizes 1024 MB 6144 MB", k=10)
               if "6144 MB" in h.text)
    return {1: hit.text}


def run(draft: str, passages, encode, pieces: list[str] | None = None) -> tuple[gate.ClaimGate, list[str]]:
    released: list[str] = []
    g = gate.ClaimGate(passages, encode, MEMORY, released.append)
    for piece in pieces if pieces is not None else [draft]:
        g.feed(piece)
    g.close()
    return g, released


def test_a_sentence_is_a_unit_once_the_next_one_has_begun_with_its_citations():
    units, rest = gate.cut("Sizes go up to 6 GB. [1] Each one", final=False)
    assert units == ["Sizes go up to 6 GB. [1] "] and rest == "Each one"
    assert gate.cut("Sizes go up to 6 GB. [", final=False) == ([], "Sizes go up to 6 GB. [")
    assert gate.cut("Version 4.5 GB is", final=True) == (["Version 4.5 GB is"], "")


def test_an_initial_or_e_g_does_not_end_a_sentence():
    # cut at "N." the check's citation landed mid-name in a shown answer: "US East (N [3]. Virginia)"
    text = "It is 1000 in US East (N. Virginia), e.g. Amazon S3 vs. EFS [3]. Next"
    assert gate.cut(text, final=False) == (["It is 1000 in US East (N. Virginia), e.g. Amazon S3 vs. EFS [3]. "], "Next")


def test_a_question_mark_inside_inline_code_does_not_end_a_sentence():
    text = "Use `cron(0 0/6 ? * * *)` every 6 hours [1]. Next"
    assert gate.cut(text, final=False) == (["Use `cron(0 0/6 ? * * *)` every 6 hours [1]. "], "Next")
    assert gate.cut("Use `cron(0 0/6 ? * *", final=False) == ([], "Use `cron(0 0/6 ? * *")  # the span is still open


def test_bullets_split_into_sentences_rows_headings_and_code_blocks_stay_whole():
    text = ("The limits:\n1. Memory: 6 GB. Timeout: 60 s [1]\n| a. B | c |\n## Sizes. More\n"
            "```\nx = 1\n\ny = 2\n```\nAfter")
    units, rest = gate.cut(text, final=False)
    assert units == ["The limits:\n", "1. Memory: 6 GB. ", "Timeout: 60 s [1]\n", "| a. B | c |\n", "## Sizes. More\n",
                     "```\nx = 1\n\ny = 2\n```\n"]
    assert rest == "After"
    assert gate.cut("```\nx = 1\n", final=False) == ([], "```\nx = 1\n")  # an open block waits for its fence


def test_backed_sentences_are_released_and_an_invented_one_is_held_back(sample_index, passages):
    g, released = run(f"{BACKED} {INVENTED} {BACKED_TOO}", passages, sample_index.embedder.encode)
    assert g.state == gate.SHOWN and "".join(released) == g.shown_text == f"{BACKED} {BACKED_TOO}"
    result = g.result()
    assert [c.shown for c in result.claims] == [True, False, True] and g.held_back == 1
    assert result.verdict.endswith("— 1 held back from the answer")


def test_two_unsupported_first_claims_withhold_the_answer_and_stop_the_model(sample_index, passages):
    g, released = run(f"{INVENTED} {INVENTED_TOO} ", passages, sample_index.embedder.encode)
    assert g.state == gate.WITHHELD and g.stopped and released == []
    g.feed(f"{BACKED} {BACKED}")  # a model that did not stop at once: nothing more is read or shown
    assert g.close() == gate.WITHHELD and len(g.result().claims) == 2 and g.shown_text == ""


def test_one_backed_claim_among_the_first_two_shows_the_answer(sample_index, passages):
    g, released = run(f"{INVENTED} {BACKED}", passages, sample_index.embedder.encode)
    assert g.state == gate.SHOWN and released == [BACKED]


def test_a_backed_claim_inside_a_sentence_that_also_invents_does_not_show_the_answer(sample_index, passages):
    # a quoted line is one unit: its backed half can't carry the invented half, nor open the answer
    draft = f"> {BACKED} {INVENTED}\n{INVENTED_TOO}"
    g, released = run(draft, passages, sample_index.embedder.encode)
    assert g.state == gate.WITHHELD and released == []


def test_a_held_sentence_that_ended_a_bullet_keeps_the_line_break(sample_index, passages):
    g, _ = run(f"1. {BACKED} {INVENTED}\n2. {BACKED_TOO}\n", passages, sample_index.embedder.encode)
    assert g.shown_text == f"1. {BACKED} \n2. {BACKED_TOO}\n"


def test_nothing_is_released_before_the_decision(sample_index, passages):
    released: list[str] = []
    g = gate.ClaimGate(passages, sample_index.embedder.encode, MEMORY, released.append)
    g.feed(f"{INVENTED} Each")  # one unsupported sentence read: undecided
    assert g.state == gate.UNDECIDED and released == []
    g.feed(f" serverless endpoint can have between 1024 MB and 6144 MB of memory [1]. {INVENTED_TOO}")
    assert g.state == gate.SHOWN and released == ["Each serverless endpoint can have between 1024 MB and 6144 MB "
                                                   "of memory [1]. "]


def test_a_backed_first_sentence_is_shown_at_once(sample_index, passages):
    released: list[str] = []
    g = gate.ClaimGate(passages, sample_index.embedder.encode, MEMORY, released.append)
    g.feed(f"{BACKED} Each")  # the decision can't change: no need to wait for a second sentence
    assert g.state == gate.SHOWN and released == [f"{BACKED} "]


def test_a_lead_in_goes_with_the_bullet_it_introduced(sample_index, passages):
    draft = f"The sizes:\n- {BACKED}\n\nAlso:\n- {INVENTED}\n"
    g, released = run(draft, passages, sample_index.embedder.encode)
    assert g.shown_text == f"The sizes:\n- {BACKED}\n\n"


def test_a_short_single_claim_answer_is_decided_at_the_end(sample_index, passages):
    assert run(BACKED, passages, sample_index.embedder.encode)[0].state == gate.SHOWN
    assert run(INVENTED, passages, sample_index.embedder.encode)[0].state == gate.WITHHELD
    # nothing checkable: shown when it cites and says more than the question; else withheld
    assert run("Yes, 6144 MB [1].", passages, sample_index.embedder.encode)[0].state == gate.SHOWN
    assert run("How much memory a serverless endpoint can have [1].", passages,
               sample_index.embedder.encode)[0].state == gate.WITHHELD


def test_streamed_token_by_token_it_decides_as_on_the_whole_draft(sample_index, passages):
    """What the bench's replay of a saved draft relies on."""
    draft = f"The sizes:\n\n- {BACKED}\n- {INVENTED}\n\n{BACKED_TOO} Invalid [7]. {INVENTED_TOO}"
    whole, released_whole = run(draft, passages, sample_index.embedder.encode)
    tokens = [draft[i:i + 3] for i in range(0, len(draft), 3)]
    streamed, released = run(draft, passages, sample_index.embedder.encode, tokens)
    assert "".join(released) == "".join(released_whole) == whole.shown_text == streamed.shown_text
    assert [c.shown for c in streamed.result().claims] == [c.shown for c in whole.result().claims]
    assert "[7]" not in whole.shown_text  # a citation to no source never reaches the reader


def test_a_backed_sentence_the_model_left_uncited_is_shown_citing_the_passage_found(sample_index, passages):
    uncited = BACKED.replace(" [1]", "")
    g, released = run(f"{uncited} {BACKED_TOO}", passages, sample_index.embedder.encode)
    assert g.shown_text == f"{BACKED} {BACKED_TOO}"  # the reader sees a source for every sentence
    first = g.result().claims[0]
    assert first.attributed == 1 and first.cites == []  # and is told the check, not the model, cited it


def test_held_paragraphs_leave_at_most_one_blank_line_between_shown_ones(sample_index, passages):
    draft = f"{BACKED}\n\n{INVENTED}\n\n{INVENTED_TOO}\n\n{INVENTED_THREE}\n\n  {BACKED_TOO}\n"
    g, released = run(draft, passages, sample_index.embedder.encode)
    assert g.shown_text == "".join(released) == f"{BACKED}\n\n  {BACKED_TOO}\n" and g.held_back == 3


def test_a_bare_not_covered_before_backed_sentences_is_not_shown(sample_index, passages):
    g, released = run(f"The documentation doesn't cover this. [1] {BACKED}", passages, sample_index.embedder.encode)
    assert g.state == gate.SHOWN and g.declined and "".join(released) == g.shown_text == BACKED
    # what the model says the docs don't cover, beside backed sentences, can't be checked and may contradict them
    # (d22: "…within 15 minutes [1]." then "The documentation doesn't cover how quickly data shows up …"): not shown,
    # its words kept for the answer's notice
    part = "The documentation doesn't cover how much memory a GPU endpoint can have."
    said, released = run(f"{BACKED} {part}", passages, sample_index.embedder.encode)
    assert said.state == gate.SHOWN and said.declined == part and "".join(released) == said.shown_text
    assert said.shown_text.strip() == BACKED
    mixed = f"The sources do not mention GPU counts, but {BACKED[0].lower()}{BACKED[1:]}"
    assert run(f"{BACKED} {mixed}", passages, sample_index.embedder.encode)[0].shown_text.strip() == BACKED


def test_a_citation_moved_by_the_check_leaves_no_double_space(sample_index, passages):
    two = {**passages, 2: "Quantum Billing is a setting of the console."}
    draft = "Serverless endpoints can have [2] between 1024 MB and 6144 MB of memory."
    g = gate.ClaimGate(two, sample_index.embedder.encode, MEMORY)
    g.feed(draft)
    g.close()
    assert g.shown_text == "Serverless endpoints can have between 1024 MB and 6144 MB of memory [1]."


def test_a_code_block_the_model_never_closed_is_checked_not_shown_unread(sample_index, passages):
    draft = BACKED + "\n\n```python\nclient.create_quantum_endpoint(QuantumMemoryInMB=9999,"
    g, released = run(draft, passages, sample_index.embedder.encode)
    assert g.state == gate.SHOWN and "1024 MB" in "".join(released)
    assert "create_quantum_endpoint" not in "".join(released) and g.held_back == 1



def test_a_model_repeating_itself_is_shown_each_sentence_once_and_stopped(sample_index, passages):
    """s3 on a new CPU: the stand-in wrote one sentence five times, citing [5]…[10] of four sources. The reader
    sees it once; the model is stopped at the third repeat, and the verdict says so and is no clean one."""
    g = gate.ClaimGate(passages, sample_index.embedder.encode, MEMORY)
    for n in range(1, 6):
        g.feed(f"{n}. {BACKED}\n")
        if g.stopped:
            break
    g.close()
    assert g.looped and n == 4  # the fourth copy is the third repeat: no fifth is read
    assert g.state == gate.SHOWN and g.shown_text.count("6144 MB") == 1
    checked = g.result()
    assert checked.cautions == ["the model began repeating itself and was stopped"]
    assert checked.verdict.endswith("; the model began repeating itself and was stopped")


def test_a_sentence_said_twice_is_shown_once_and_the_verdict_counts_it(sample_index, passages):
    g, released = run(f"{BACKED}\n- {BACKED} [1]\nDone.", passages, sample_index.embedder.encode)
    assert g.state == gate.SHOWN and "".join(released).count("6144 MB") == 1 and not g.looped
    checked = g.result()
    assert checked.cautions == [] and checked.verdict.endswith("— 1 repeated sentence left out")


def test_citations_of_sources_that_dont_exist_make_a_caution(sample_index, passages):
    g, released = run(BACKED.replace("[1]", "[1][5]"), passages, sample_index.embedder.encode)
    assert g.state == gate.SHOWN and "[5]" not in "".join(released)
    assert g.result().cautions == ["the model cited sources that don't exist ([5]): read with care"]
