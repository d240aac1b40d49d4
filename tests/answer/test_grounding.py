"""The claim check on real passages of the sample docs, with the real MiniLM embedder; and what the
answer flow does with its verdict (through a local OpenAI-compatible stand-in server)."""

from __future__ import annotations

import pytest

from alpaca_index.answer import AnswerSettings, answer, grounding

MEMORY = "How much memory can a serverless endpoint have?"


@pytest.fixture(scope="module")
def memory_passage(sample_index):
    hit = next(h for h in sample_index.search("serverless endpoint memory sizes 1024 MB 6144 MB", k=10)
               if "6144 MB" in h.text)
    return hit.text


@pytest.fixture(scope="module")
def unrelated_passage(sample_index):
    return sample_index.search("multi-container endpoint direct invocation TargetContainerHostname", k=1)[0].text


def test_a_claim_the_passage_states_is_supported(sample_index, memory_passage):
    g = grounding.check("Serverless endpoints can have between 1024 MB and 6144 MB of memory [1].",
                        {1: memory_passage}, sample_index.embedder.encode)
    [claim] = g.claims
    assert claim.status == grounding.SUPPORTED and claim.cites == [1] and not claim.missing
    assert "6144" in claim.evidence and g.verdict == "the claim supported by the cited passages"


def test_a_changed_number_is_caught_even_when_the_sentence_reads_the_same(sample_index, memory_passage):
    g = grounding.check("Serverless endpoints can have between 1024 MB and 8192 MB of memory [1].",
                        {1: memory_passage}, sample_index.embedder.encode)
    [claim] = g.claims
    assert claim.status == grounding.UNSUPPORTED and claim.missing == ["8192 MB"]


def test_invented_steps_citing_an_unrelated_passage_are_unsupported(sample_index, unrelated_passage):
    text = ("To check encryption, open the console and look for the Encryption section of the endpoint [1]. "
            "If the KMS key field shows an alias, the endpoint is encrypted [2].")
    g = grounding.check(text, {1: unrelated_passage, 2: unrelated_passage}, sample_index.embedder.encode)
    assert [c.status for c in g.claims] == [grounding.UNSUPPORTED] * 2
    assert g.supported == 0 and "not found in the passage" in g.verdict


def test_claims_split_by_sentence_bullet_and_table_row_and_inherit_paragraph_citations():
    text = ("Async endpoints queue requests and scale to zero instances [2]. They return an output location.\n\n"
            "- Set MinCapacity to zero for the variant [1].\n- Here are the steps:\n\n"
            "| Option | Timeout |\n|---|---|\n| Serverless inference | 60 seconds per request [3] |\n\n"
            "Nothing here cites anything at all.")
    claims = grounding.split_claims(text)
    assert [c[1] for c in claims] == [[2], [], [1], [3], []]
    assert claims[3][0].startswith("Serverless inference | 60 seconds")
    g = grounding.check(text, {1: "x", 2: "Async requests are queued; scale to zero.", 3: "y"},
                        lambda texts: __import__("numpy").eye(len(texts), 8, dtype="float32"))
    assert g.claims[1].cites == [2]  # "They return…" is checked against its paragraph's source
    assert g.claims[-1].status == grounding.UNCITED


def test_api_names_are_code_names_not_product_names():
    text = ("Call InvokeEndpointAsync or create_training_job on ml.g5.xlarge for AWS::SageMaker::Endpoint, "
            "not SageMaker, GitHub, PostgreSQL, OpenAI, XGBoost 0.72, Python 3.10 or us-east-1, e.g. boto3.")
    assert grounding.api_names(text) == ["InvokeEndpointAsync", "create_training_job", "ml.g5.xlarge",
                                         "AWS::SageMaker::Endpoint"]


def test_an_initial_does_not_split_a_claim():
    claims = grounding.split_claims("The limit is 500 in US West (N. California) [3]. It is 1000 elsewhere [3].")
    assert [c[0] for c in claims] == ["The limit is 500 in US West (N. California) [3].", "It is 1000 elsewhere [3]."]


def test_a_question_mark_inside_inline_code_does_not_split_a_claim():
    # the stand-in's "`cron(0 0/6 ? * * *)`" was cut at "?", and the check's citation landed inside the code
    claims = grounding.split_claims("Use `cron(0 0/6 ? * * *)` to run every 6 hours [1]. It starts on time [1].")
    assert [c[0] for c in claims] == ["Use `cron(0 0/6 ? * * *)` to run every 6 hours [1].", "It starts on time [1]."]


def test_code_copied_with_its_brackets_is_backed_by_the_passage_that_has_it(sample_index):
    passage = ("To support running every 6, 12 hours, Model Monitor supports the following expression:\n\n"
               "`cron(0 [00-23]/[01-24] ? * * *)`")
    copied = "To run every few hours, Model Monitor supports the expression `cron(0 [00-23]/[01-24] ? * * *)` [1]."
    [claim] = grounding.check(copied, {1: passage}, sample_index.embedder.encode).claims
    assert claim.cites == [1] and claim.status == grounding.SUPPORTED
    changed = "To run every few hours, Model Monitor supports the expression `cron(0 [00-23]/[01-12] ? * * *)` [1]."
    [claim] = grounding.check(changed, {1: passage}, sample_index.embedder.encode).claims
    assert claim.status == grounding.UNSUPPORTED and claim.missing == ["cron(0 [00-23]/[01-12] ? * * *)"]


def test_inline_code_keeps_its_underscores_so_a_snake_case_name_is_checked_as_written(sample_index):
    passage = "Set `early_stopping_type` to `Auto` on the HyperParameterTuner to stop jobs that won't improve."
    [claim] = grounding.check("Set the `early_stopping_type` parameter to `Auto` [1].", {1: passage},
                              sample_index.embedder.encode).claims
    assert "`early_stopping_type`" in claim.text and claim.status == grounding.SUPPORTED
    [claim] = grounding.check("Set the `early_stop_type` parameter to `Auto` [1].", {1: passage},
                              sample_index.embedder.encode).claims
    assert claim.missing == ["early_stop_type"]


def test_a_code_block_cut_off_by_the_token_limit_is_still_a_claim():
    # a shown answer ended inside its code block and the invented `start_batch_transform` call went out unchecked
    claims = grounding.split_claims("Run it like this [1]:\n\n```python\nclient.start_batch_transform(\n    Name='x',")
    assert claims[-1][0] == "client.start_batch_transform(\n    Name='x',"


def test_key_terms_are_numbers_identifiers_and_quoted_names():
    terms = grounding.key_terms('Set `InitialInstanceCount` to 2 on ml.m5.large in us-east-1 for "Direct" mode, '
                                'using KMS and the real-time API, e.g. boto3 [1].')
    assert terms == ["2", "InitialInstanceCount", "Direct", "ml.m5.large", "us-east-1", "KMS"]


def test_an_invented_answer_is_withheld_and_the_passages_quoted_with_the_reason(sample_index, chat_server):
    chat_server.reply = ["Open the SageMaker console, choose Settings and enable the Quantum Billing toggle [1]. ",
                         "Quantum Billing costs 3 dollars per hour [2]."]
    result = answer(sample_index, MEMORY, AnswerSettings(endpoint=chat_server.url))
    assert not result.refused and result.sources and "Quantum" not in result.answer
    assert result.answer.startswith("The model's answer was withheld (the model's first 2 claims are not supported")
    assert all(f"[{s['n']}]" in result.answer for s in result.sources)  # the quotes cite their passages
    assert result.withheld.startswith("Open the SageMaker console") and result.verdict.startswith("answer withheld:")
    assert result.grounding["supported"] == 0 and len(result.grounding["claims"]) == 2


def test_a_grounded_answer_is_shown_and_an_unsupported_sentence_flagged(sample_index, chat_server):
    chat_server.reply = ["The memory sizes you can choose are 1024 MB, 2048 MB, 3072 MB, 4096 MB, 5120 MB, ",
                         "or 6144 MB [1]. Serverless endpoints also support 64 GPUs per request [1]."]
    sources_seen = []
    result = answer(sample_index, MEMORY, AnswerSettings(endpoint=chat_server.url, k=1),
                    on_sources=sources_seen.append)
    assert not result.refused and result.grounding["supported"] == 1 and result.grounding["unsupported"] == 1
    flagged = [c for c in result.grounding["claims"] if c["status"] == "unsupported"]
    assert "64 GPUs" in flagged[0]["missing"][0] or "64" in flagged[0]["missing"]
    assert result.verdict == ("1 of 2 claims supported by the cited passages; 1 not found in the passage they cite"
                              " — 1 held back from the answer")
    assert "6144 MB [1]." in result.answer and "GPUs" not in result.answer  # the reader never sees it
    assert [c["shown"] for c in result.grounding["claims"]] == [True, False]
    assert result.sources[0]["supported"] and "1 of 2" in result.notice
    [preview] = sources_seen  # retrieval's passages and best quote, handed out before the model
    assert preview["sources"] and preview["best_passage"]["quote"]
    assert result.timings["sources_ms"] <= result.timings["first_token_ms"]


def test_the_model_saying_not_covered_is_a_refusal(sample_index, chat_server):
    chat_server.reply = ["The documentation doesn't cover this."]
    result = answer(sample_index, MEMORY, AnswerSettings(endpoint=chat_server.url))
    assert result.refused and result.refusal_reason == "model" and result.grounding is None


def test_an_answer_without_any_citation_is_withheld(sample_index, chat_server):
    chat_server.reply = ["You can configure an nginx ingress controller with the annotation rewrite-target."]
    result = answer(sample_index, MEMORY, AnswerSettings(endpoint=chat_server.url))
    assert not result.refused and "cites no source" in result.answer and "nginx" not in result.answer


def test_an_uncited_claim_a_given_passage_states_gets_that_source(sample_index, memory_passage, unrelated_passage):
    g = grounding.check("Serverless endpoints can have between 1024 MB and 6144 MB of memory.",
                        {1: unrelated_passage, 2: memory_passage}, sample_index.embedder.encode)
    [claim] = g.claims
    assert claim.status == grounding.SUPPORTED and claim.cites == [] and claim.attributed == 2
    assert g.attributed == 1 and g.verdict == ("the claim supported by the cited passages "
                                               "(1 with a source the check found, not the model)")


def test_a_miscited_claim_is_credited_to_the_passage_that_backs_it(sample_index, memory_passage, unrelated_passage):
    g = grounding.check("Serverless endpoints can have between 1024 MB and 6144 MB of memory [1].",
                        {1: unrelated_passage, 2: memory_passage}, sample_index.embedder.encode)
    [claim] = g.claims
    assert claim.status == grounding.SUPPORTED and claim.cites == [1] and claim.attributed == 2


def test_no_passage_backs_an_invented_claim_so_attribution_finds_nothing(sample_index, memory_passage,
                                                                         unrelated_passage):
    g = grounding.check("Serverless endpoints can have between 1024 MB and 8192 MB of memory. "
                        "Turn on Quantum Billing in the console settings to halve the price.",
                        {1: unrelated_passage, 2: memory_passage}, sample_index.embedder.encode)
    assert [c.status for c in g.claims] == [grounding.UNCITED] * 2
    assert g.attributed == 0 and all(c.attributed is None for c in g.claims)


def test_an_answer_without_citations_but_from_the_passages_is_shown_with_the_sources_found(sample_index,
                                                                                             chat_server):
    chat_server.reply = ["Serverless endpoints can have between 1024 MB and 6144 MB of memory."]
    result = answer(sample_index, MEMORY, AnswerSettings(endpoint=chat_server.url))
    assert not result.refused and result.withheld is None and result.answer.startswith("Serverless endpoints")
    [claim] = result.grounding["claims"]
    found = claim["attributed"]
    assert claim["status"] == "supported" and found is not None
    assert [s["n"] for s in result.sources if s["cited"]] == [found] and "6144 MB" in result.sources[0]["text"]
    assert "with a source the check found" in result.verdict


COMPILER = ("You can use any of the SageMaker interfaces to run a training job with SageMaker Training Compiler: "
            "Amazon SageMaker Studio, Amazon SageMaker notebook instances, AWS SDK for Python (Boto3), and AWS "
            "Command Line Interface.")


def test_a_yes_about_a_name_the_cited_passage_never_mentions_is_unsupported(sample_index):
    # like the answer bench's o32: close in meaning (0.86), but the passage says nothing about Windows Server
    claim_text = ("Yes, you can run a training job with SageMaker Training Compiler on Windows Server from "
                  "Amazon SageMaker Studio [1].")
    question = "Can I run SageMaker training jobs on Windows Server instances?"
    without = grounding.check(claim_text, {1: COMPILER}, sample_index.embedder.encode)
    asked = grounding.check(claim_text, {1: COMPILER}, sample_index.embedder.encode, question)
    assert without.claims[0].status == grounding.SUPPORTED  # meaning alone can't tell
    assert asked.claims[0].status == grounding.UNSUPPORTED and asked.claims[0].missing == ["Windows", "Server"]


def test_a_name_from_the_question_that_the_passage_states_keeps_the_claim_supported(sample_index):
    g = grounding.check("You can run a training job with Training Compiler from Amazon SageMaker Studio [1].",
                        {1: COMPILER}, sample_index.embedder.encode, "Can I use Training Compiler from Studio?")
    assert [c.status for c in g.claims] == [grounding.SUPPORTED] and not g.claims[0].missing


def test_the_names_a_question_asks_about_must_be_in_the_passages():
    passages = ["Deploy the model to a SageMaker endpoint with the SDK; VPC-only domains are supported."]
    assert grounding.uncovered_names("How do I deploy a SageMaker endpoint with Terraform?", passages) == ["Terraform"]
    assert grounding.uncovered_names("Can a VPC-only domain host endpoints?", passages) == []


def test_a_name_with_leading_digits_is_one_name():
    assert grounding.question_names("what do I prepare before a 3D point cloud labeling job?") == ["3D"]
    assert grounding.uncovered_names("what do I prepare before a 3D point cloud job?", ["A 3D point cloud."]) == []


def test_an_underscore_in_the_docs_parts_words():
    # the page has "YOLOv3\_416" (a markdown escape); the name is there
    table = ["| Model | Device |\n| YOLOv3\\_416 | Jetson Nano |"]
    assert grounding.uncovered_names("has YOLOv3 been tested on a Jetson Nano?", table) == []


def test_an_abbreviation_is_no_name():
    # "e.g." is dotted like an identifier; the docs never write it, so it refused an answered question
    question = "what association types can I use for lineage, e.g. to say a training job produced a model?"
    assert grounding.question_names(question) == []
    assert grounding.question_names("use Terraform vs. CloudFormation, i.e. which one?") == ["Terraform", "CloudFormation"]


def test_restating_a_yes_or_no_question_is_answering_it(sample_index):
    # "You can …" adds no word to "Can I …?" but it is the answer, and here the passage doesn't back it
    question = "Can I run SageMaker training jobs on Windows Server instances?"
    g = grounding.check("You can run SageMaker training jobs on Windows Server instances [1].", {1: COMPILER},
                        sample_index.embedder.encode, question)
    assert [c.status for c in g.claims] == [grounding.UNSUPPORTED] and g.restated == 0
    # to a how-question the same kind of sentence is a closing line, no claim
    g = grounding.check("Follow the steps [1]. By following these steps, you can run a training job with Training "
                        "Compiler [1].", {1: COMPILER}, sample_index.embedder.encode,
                        "How do I run a training job with Training Compiler?")
    assert g.restated == 1
    assert grounding.asks_yes_no("I want to limit access — can I use resource ARNs, or do I need tags?")
    assert not grounding.asks_yes_no("my model doesn't fit in one GPU - what does SageMaker offer?")


def test_a_plural_or_a_glued_unit_is_the_same_word_but_a_changed_number_is_not(sample_index):
    hit = next(h for h in sample_index.search("asynchronous inference large payload sizes 1GB", k=10) if "1GB" in h.text)
    encode = sample_index.embedder.encode
    right = grounding.check("The maximum payload size for an asynchronous inference request is up to 1 GB [1].",
                            {1: hit.text}, encode).claims[0]
    assert right.status == grounding.SUPPORTED and right.word_share >= 0.8  # "payload sizes (up to 1GB)"
    wrong = grounding.check("The maximum payload size for an asynchronous inference request is up to 4 GB [1].",
                            {1: hit.text}, encode).claims[0]
    assert wrong.status == grounding.UNSUPPORTED and wrong.missing == ["4 GB"]


def test_an_example_or_a_to_do_sentence_is_a_claim_and_a_pointer_or_lead_in_is_not():
    claims = [text for text, _, _ in grounding.split_claims(
        "To do this, follow these steps:\n\n"
        "To do this, set the `disable_profiler` parameter to `True` [1]. "
        "For example, set `MaxWaitTimeInSeconds` to 3600 [2]. "
        "For more information, see Stop Training Jobs Early. In summary, it works.")]
    assert claims == ["To do this, set the `disable_profiler` parameter to `True` [1].",
                      "For example, set `MaxWaitTimeInSeconds` to 3600 [2]."]


def test_a_backed_claim_the_judge_doubts_is_unsupported_and_its_odds_are_kept(sample_index, memory_passage):
    """The judge (the answering model, asked beside the evidence) decides only claims words and meaning back."""
    text = ("Serverless endpoints can have between 1024 MB and 6144 MB of memory [1]. "
            "To check encryption, open the console and look for the Encryption section [1].")
    asked: list[tuple[str, str]] = []

    def judge(odds: float):
        def read(claim: str, evidence: str) -> float:
            asked.append((claim, evidence))
            return odds
        return read

    doubted = grounding.check(text, {1: memory_passage}, sample_index.embedder.encode, judge=judge(0.1))
    assert [c.status for c in doubted.claims] == [grounding.UNSUPPORTED] * 2
    assert doubted.claims[0].judged == 0.1 and doubted.claims[1].judged is None  # the invented one never reached it
    assert asked == [(doubted.claims[0].text, doubted.claims[0].evidence)] and "6144" in asked[0][1]
    assert doubted.verdict == ("0 of 2 claims supported by the cited passages; 1 not found in the passage they cite; "
                               "1 found, but the model judged the passage doesn't state it")
    trusted = grounding.check(text, {1: memory_passage}, sample_index.embedder.encode, judge=judge(0.9))
    assert [c.status for c in trusted.claims] == [grounding.SUPPORTED, grounding.UNSUPPORTED]
    at_the_line = grounding.check(text, {1: memory_passage}, sample_index.embedder.encode,
                                  judge=judge(grounding.MIN_JUDGED))
    assert at_the_line.claims[0].status == grounding.SUPPORTED
