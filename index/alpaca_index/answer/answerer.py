"""Question → retrieval → refusal check → packed prompt → streamed answer → checked citations."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from alpaca_index.answer import citations, conversation, extractive, grounding, sections
from alpaca_index.answer.backends import Backend, BackendError, Endpoint, LlamaCpp
from alpaca_index.answer.gate import SHOWN, ClaimGate
from alpaca_index.answer.prompt import (
    NOT_COVERED,
    Source,
    defuse,
    extract_message,
    is_refusal,
    pack,
    refusal_rest,
    user_message,
)
from alpaca_index.answer.settings import AnswerSettings

if TYPE_CHECKING:
    from alpaca_index.api import ReadableIndex
    from alpaca_index.retrieval.search import Hit

Timings = dict[str, float]  # what each stage took (ms), token counts and rates, the best similarity

log = logging.getLogger(__name__)

WITHHELD_QUOTES = 3  # passages quoted in place of a withheld answer
RETRY_WITHHELD = "a second reading of the sections closest to the question was not backed either"
RETRIED = ("the model's first draft was not backed by the passages; this answer comes from a second reading of the "
           "sections closest to the question, and the model also judged each sentence beside its evidence")
MAX_QUESTION_CHARS = 2000
ADD_MODEL_HINT = ("No model configured: showing the best passages. Add a model with --model PATH.gguf "
                  "(e.g. Mistral 7B Instruct) or --endpoint http://127.0.0.1:8080 (alpaca.modelPath / "
                  "alpaca.endpointUrl in the editor).")


@dataclass
class AnswerResult:
    question: str
    answer: str
    sources: list[dict]
    related: list[dict]
    backend: str  # "llama.cpp" | "endpoint" | "none"
    refused: bool = False
    no_model: bool = False
    notice: str | None = None  # why the model was not used, which citations were removed, or that a second look answered
    invalid_citations: list[int] = field(default_factory=list)
    cancelled: bool = False
    timings: Timings = field(default_factory=dict)
    # claim-level check of a generated answer (grounding.Grounding.to_dict()); None when nothing was generated
    grounding: dict[str, Any] | None = None
    withheld: str | None = None  # the model's draft when no claim of it was supported (shown as a refusal)
    draft: str | None = None  # all the model wrote (what the claim gate read; `answer` is what it released)
    refusal_reason: str | None = None  # why refused: "retrieval" | "model" | "grounding"
    verdict: str = ""  # one line for the user: why refused, or how many claims the check found supported
    query: str | None = None  # a follow-up's standalone question, when retrieval searched for other words
    rewritten_by: str | None = None  # "model" | "rule": who rewrote the follow-up

    def to_dict(self) -> dict:
        return asdict(self)


def make_backend(settings: AnswerSettings) -> Backend | None:
    """The configured backend, or None for the no-model answer. Raises BackendError with a clear message."""
    if settings.endpoint:
        return Endpoint(settings.endpoint, settings.endpoint_model, settings.allow_remote, settings.endpoint_timeout,
                        api_key=settings.api_key, n_ctx=settings.endpoint_ctx)
    if settings.model_path:
        return LlamaCpp(settings.model_path, settings.n_ctx, settings.threads)
    return None


def answer(index: ReadableIndex, question: str, settings: AnswerSettings | None = None,
           on_text: Callable[[str], None] | None = None, cancelled: Callable[[], bool] = lambda: False,
           backend: Backend | None = None, on_sources: Callable[[dict[str, Any]], None] | None = None,
           history: Sequence[conversation.Turn | dict[str, Any]] | None = None,
           context: str | None = None) -> AnswerResult:
    """Answer from the docs. `on_text` receives streamed pieces; `cancelled()` stops generation;
    `on_sources({sources, best_passage})` is called once retrieval is done, before any model work,
    so a client can show where the answer will come from while the model reads.
    `history` (earlier turns, oldest first: `conversation.Turn`s or `{question, answer, query?}`)
    makes the question a follow-up; `context` is text the user selected (see `conversation`)."""
    started = time.perf_counter()
    settings = settings or AnswerSettings.from_env()
    turn = None
    if history or (context and context.strip()):
        turns = conversation.parse_history(history)
        if turns and backend is None:  # the model rewrites the follow-up, then answers it
            backend = _backend_or_none(settings)
        turn = conversation.plan(question, turns, context, backend,
                                 backend.n_ctx if backend else settings.n_ctx, cancelled)
    result = _answer(index, turn.prompt_question if turn else question, settings, on_text, cancelled, backend,
                     on_sources, turn.query if turn else None, turn.question if turn else None)
    if turn:
        result.question = turn.question
        result.query = turn.query if turn.query != turn.question else None
        result.rewritten_by = turn.rewritten_by
        if turn.rewrite_ms is not None:
            result.timings["rewrite_ms"] = turn.rewrite_ms
    result.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
    result.verdict = _verdict(result)
    return result


def _backend_or_none(settings: AnswerSettings) -> Backend | None:
    try:
        return make_backend(settings)
    except BackendError:
        return None  # _answer tries again and says why, with the no-model answer


def _verdict(result: AnswerResult) -> str:
    if result.refusal_reason == "retrieval":
        return f"refused: {result.notice or 'no passage of the docs is close to the question'}"
    if result.refusal_reason == "model":
        return "refused: the model found no answer in the passages"
    if result.refusal_reason == "grounding":
        return f"refused: {result.notice.rsplit(' — ', 1)[-1] if result.notice else 'no claim supported'}"
    if result.withheld:
        return f"answer withheld: {result.notice.rsplit(' — ', 1)[-1] if result.notice else 'no claim supported'}; " \
               "the closest passages are quoted instead"
    if result.no_model:
        return "passages quoted (no model)"
    if result.grounding:
        return result.grounding["verdict"]
    return ""


def _answer(index: ReadableIndex, question: str, settings: AnswerSettings, on_text: Callable[[str], None] | None,
            cancelled: Callable[[], bool], backend: Backend | None,
            on_sources: Callable[[dict[str, Any]], None] | None = None, query: str | None = None,
            typed: str | None = None) -> AnswerResult:
    """`query`: what to search for and quote by, when it differs from the question the model answers;
    `typed`: the user's own words, whose names the passages must mention (selected text may name
    anything, a rewrite may add words)."""
    streamed: list[bool] = []  # whether any text went out, so a fallback can start on a fresh paragraph

    def emit(text: str) -> None:
        streamed.append(bool(text))
        if on_text:
            on_text(text)
    question = " ".join(question.split())[:MAX_QUESTION_CHARS]
    if not question:
        raise ValueError("the question is empty")
    started = time.perf_counter()
    query = " ".join((query or question).split())[:MAX_QUESTION_CHARS]
    found = index.search_pages(query, settings.k, chunks=max(settings.k * 3, 20))
    hits = found.chunks
    retrieval_ms = (time.perf_counter() - started) * 1000
    timings: Timings = {"retrieval_ms": round(retrieval_ms, 1)}
    best = max((h.similarity for h in hits if h.similarity is not None), default=0.0)
    timings["best_similarity"] = round(best, 3)
    if best < settings.min_similarity and not _names_a_documented_api(typed or question, hits):
        emit(NOT_COVERED)
        return AnswerResult(question, NOT_COVERED, [], [], "none", refused=True,
                            no_model=backend is None and not (settings.model_path or settings.endpoint),
                            timings=timings, refusal_reason="retrieval")

    notice = None
    top = _passages(hits, found.pages, settings.k)
    absent = grounding.uncovered_names(typed or question,
                                       [f"{h.heading_path} {h.text}" for h in _names_window(top, hits, settings.k)])
    if absent:  # "…with Terraform?" and no passage says Terraform: nothing to answer from, no model needed
        emit(NOT_COVERED)
        result = AnswerResult(question, NOT_COVERED, [], _related(hits, set(), 5), "none", refused=True,
                              notice=f"the closest passages never mention {', '.join(absent)}", timings=timings,
                              refusal_reason="retrieval")
        result.no_model = backend is None and not (settings.model_path or settings.endpoint)
        return result
    if on_sources:
        on_sources(preview(query, top))
        timings["sources_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if backend is None:
        try:
            backend = make_backend(settings)
        except BackendError as exc:
            notice = f"{exc} — answering from the passages instead."
            log.warning("%s", notice)
    if backend is None:
        sources = [Source(n, h) for n, h in enumerate(top[:4], 1)]
        text = extractive.compose(query, sources)
        emit(text)
        return _finish(question, text, sources, hits, "none", timings, notice or ADD_MODEL_HINT, no_model=True)

    if cancelled():  # stopped while retrieving: don't start a model
        result = _finish(question, "", [], hits, backend.name, timings, None)
        result.cancelled = True
        return result
    try:
        return _generate(index, question, settings, backend, top, hits, emit, cancelled, timings, started)
    except BackendError as exc:
        log.warning("%s", exc)
        sources = [Source(n, h) for n, h in enumerate(top[:4], 1)]
        text = extractive.compose(query, sources)
        emit(f"\n\n{text}" if any(streamed) else text)  # the model's partial text stays on screen above
        return _finish(question, text, sources, hits, "none", timings,
                       f"{exc} — answering from the passages instead.", no_model=True)


def _generate(index: ReadableIndex, question: str, settings: AnswerSettings, backend: Backend, top: list[Hit],
              hits: list[Hit], emit: Callable[[str], None], cancelled: Callable[[], bool], timings: Timings,
              started: float) -> AnswerResult:
    n_ctx = backend.n_ctx
    answer_tokens = min(settings.max_answer_tokens, max(64, n_ctx // 4))  # a small context keeps room for sources
    sources = pack(question, top, n_ctx - answer_tokens - 32, backend.count)  # 32: the chat template's tokens
    if not sources:
        raise BackendError(f"the model's context ({n_ctx} tokens) has no room for a single source; raise n_ctx")
    prompt = user_message(question, sources)
    timings["prompt_tokens"] = backend.count(prompt)

    def gated(given: list[Source], judge: grounding.Judge | None = None) -> ClaimGate:
        def release(text: str) -> None:
            timings.setdefault("first_shown_ms", round((time.perf_counter() - started) * 1000, 1))
            emit(text)
        # checked against what the model read (fenced and defused), as the bench's saved passages are
        return ClaimGate({s.n: defuse(s.hit.text) for s in given}, index.embedder.encode, question, release, judge)

    gate = gated(sources)
    raw, fed = _stream(backend, prompt, answer_tokens, gate.feed, lambda: cancelled() or gate.stopped, timings,
                       started)
    second_look = None
    unsure = None  # the gate of the model's second choice after a refusal it gave under even odds
    if not fed and is_refusal(raw) and not cancelled():
        choice = gated(sources)
        likelihood = _second_choice(backend, prompt, answer_tokens, choice, cancelled, timings)
        if likelihood is not None and choice.state == SHOWN:  # checked like any answer; some of it backed
            gate, raw, fed = choice, choice.raw, True
            second_look = (f"the model's first reply was \"{NOT_COVERED}\", but it gave that only {_chance(timings)} "
                           "chance; this is its next most likely answer")
        elif likelihood is not None:
            unsure = choice
    if not fed and is_refusal(raw) and len(sources) > 1 and not cancelled():
        # a small model given several passages often misses the one that answers: before saying
        # "not covered", it copies what answers from the best passage alone (bench/RESULTS.md "Second look")
        second = time.perf_counter()
        focus = sources[0]
        look_gate = gated([focus])
        look, fed = _stream(backend, extract_message(question, focus), answer_tokens, look_gate.feed,
                            lambda: cancelled() or look_gate.stopped, {}, started)
        timings["second_look_ms"] = round((time.perf_counter() - second) * 1000, 1)
        if fed or not is_refusal(look):  # NONE is a refusal; a copy is checked like any answer
            if not citations.check(look, {focus.n}).cited:
                look_gate.feed(f" [{focus.n}]")
            gate, raw = look_gate, look_gate.raw
            second_look = (f"the model found no answer in the {len(sources)} passages at first; this is what it "
                           f"copied from [{focus.n}] on a second look")
    if cancelled():
        return _stopped(question, gate, sources, hits, backend.name, timings)
    if not fed and is_refusal(raw):
        if unsure is not None:  # the model gave "not covered" under even odds: Alpaca doesn't say it for the
            # model (bench/RESULTS.md "Stop 32"); the closest passages are quoted, and what it would say next
            reason = (f"the model said \"{NOT_COVERED}\" but gave that only {_chance(timings)} chance, and its "
                      "next most likely answer is not backed by the passages")
            draft = unsure.raw.strip() or raw  # its second choice; the refusal itself if that wrote nothing
            return _withheld(question, draft, unsure, sources, hits, backend.name, timings, None, reason)
        emit(NOT_COVERED)  # held back while the second look ran; said once, citing nothing
        return _finish(question, NOT_COVERED, sources, hits, backend.name, timings, None)
    started_check = time.perf_counter()
    state = gate.close()
    timings["grounding_ms"] = round((time.perf_counter() - started_check) * 1000, 1)
    judge = getattr(backend, "judge", None)  # a model with token odds; an endpoint's chat API gives none
    if state != SHOWN and second_look is None and judge is not None and not cancelled():
        again = _reread(question, top, hits, index)
        if again is not None:  # the first draft showed nothing: a second reading, judged more strictly
            retry_started = time.perf_counter()
            resources = pack(question, again, n_ctx - answer_tokens - 32, backend.count)
            retry = gated(resources, judge)
            _stream(backend, user_message(question, resources), answer_tokens, retry.feed,
                    lambda: cancelled() or retry.stopped, {}, started)
            shown = retry.close() == SHOWN
            timings["retry_ms"] = round((time.perf_counter() - retry_started) * 1000, 1)
            if cancelled():
                return _stopped(question, retry, resources, hits, backend.name, timings)
            if shown:
                return _shown(question, retry, resources, hits, backend.name, timings, RETRIED)
            second_look = RETRY_WITHHELD
    if state != SHOWN:
        return _withheld(question, raw, gate, sources, hits, backend.name, timings, second_look)
    return _shown(question, gate, sources, hits, backend.name, timings, second_look)


def _stopped(question: str, gate: ClaimGate, sources: list[Source], hits: list[Hit], backend: str,
             timings: Timings) -> AnswerResult:
    """Stopped by the reader: what was shown stays, unfinished (and is no refusal)."""
    result = _finish(question, gate.shown_text, sources, hits, backend, timings, None)
    result.cancelled, result.refused, result.refusal_reason = True, False, None
    return result


def _reread(question: str, top: list[Hit], hits: list[Hit], index: ReadableIndex) -> list[Hit] | None:
    """The same pages, each by its section holding the sentence closest to the question; None when that is
    what the model read already."""
    again = sections.closest(question, _page_sections(top, hits), index.embedder.encode_query, index.embedder.encode)
    return again if [h.text for h in again] != [h.text for h in top] else None


def _chance(timings: Timings) -> str:
    likelihood = timings["refusal_likelihood"]
    return f"a {likelihood:.0%}" if likelihood >= 0.01 else "under a 1%"


def _second_choice(backend: Backend, prompt: str, max_tokens: int, gate: ClaimGate, cancelled: Callable[[], bool],
                   timings: Timings) -> float | None:
    """A refusal the model was unsure of (a backend that can tell): its next most likely reply goes
    through `gate` (closed here: SHOWN when some of it was backed and shown). The refusal's likelihood
    when the model was unsure of it, else None (a sure refusal, or no odds). A small model refuses
    answerable questions at even odds or less."""
    choose = getattr(backend, "second_choice", None)
    if choose is None:  # an endpoint gives no token probabilities to the chat API we use
        return None
    started = time.perf_counter()
    likelihood, pieces = choose(prompt, NOT_COVERED, max_tokens, lambda: cancelled() or gate.stopped)
    timings["refusal_likelihood"] = float(f"{likelihood:.3g}")
    if pieces is None:
        return None
    for piece in pieces:
        gate.feed(piece)
    timings["second_choice_ms"] = round((time.perf_counter() - started) * 1000, 1)
    gate.close()
    return None if cancelled() else likelihood


def _stream(backend: Backend, prompt: str, max_tokens: int, emit: Callable[[str], None],
            cancelled: Callable[[], bool], timings: Timings, started: float) -> tuple[str, bool]:
    """The model's text for `prompt`, streamed through `emit`, and whether any went out. Text that may
    still turn out a bare refusal ("not covered", or the second look's NONE) is held back: nothing the
    user reads is taken back if a second look then answers."""
    pieces: list[str] = []
    first = None
    shown = False
    gen_start = time.perf_counter()
    for piece in backend.stream(prompt, max_tokens, cancelled):
        if first is None:
            first = time.perf_counter()
            timings["first_token_ms"] = round((first - started) * 1000, 1)
            timings["prompt_eval_ms"] = round((first - gen_start) * 1000, 1)
        pieces.append(piece)
        if shown:
            emit(piece)
        elif not _held("".join(pieces)):
            shown = True
            emit("".join(pieces))
    end = time.perf_counter()
    if first is not None and len(pieces) > 1:
        timings["tokens_per_s"] = round((len(pieces) - 1) / max(end - first, 1e-6), 1)
    return "".join(pieces).strip(), shown


_OPEN_MARKER = re.compile(r"\[[\d,\s-]*$")  # a citation still being streamed: "[", "[1, "
_NO_ANSWER = ("the documentation doesn't cover this.", "the documentation does not cover this.", "none.")


def _held(text: str) -> bool:
    """Whether the text so far may still be a bare refusal: it is not streamed yet."""
    rest = _OPEN_MARKER.sub("", refusal_rest(text)).strip()
    return not rest or any(reply.startswith(rest) or rest.rstrip(".") == reply.rstrip(".") for reply in _NO_ANSWER)


def _finish(question: str, text: str, sources: list[Source], hits: list[Hit], backend: str, timings: Timings,
            notice: str | None, no_model: bool = False) -> AnswerResult:
    """An answer no claim check decides on: passages quoted, a refusal, or text cut short by the reader."""
    checked = citations.check(text, {s.n for s in sources})
    notice = _with_removed(notice, checked.invalid)
    by_n = {s.n: s for s in sources}
    refused = is_refusal(checked.text)
    cited = [source_dict(by_n[n]) for n in checked.cited]
    return AnswerResult(question, checked.text, cited, _related(hits, {c["path"] for c in cited}, 5), backend,
                        refused=refused, no_model=no_model, notice=notice, invalid_citations=checked.invalid,
                        timings=timings, refusal_reason="model" if refused else None)


def _with_removed(notice: str | None, invalid: list[int]) -> str | None:
    if not invalid:
        return notice
    removed = f"removed citations to missing sources: {citations.listed(invalid)}"
    return f"{notice} {removed}" if notice else removed


def _shown(question: str, gate: ClaimGate, sources: list[Source], hits: list[Hit], backend: str, timings: Timings,
           notice: str | None) -> AnswerResult:
    """The sentences the gate released (each backed by a passage), their sources (cited by the model
    or found by the check), and the claim check of the whole draft, held-back sentences marked."""
    checked = gate.result()
    text = gate.shown_text.strip()
    invalid = citations.check(gate.raw, {s.n for s in sources}).invalid
    shown_cites = citations.check(text, {s.n for s in sources}).cited
    attributed = [c.attributed for c in checked.claims if c.shown and c.attributed is not None]
    by_n = {s.n: s for s in sources}
    cited = [source_dict(by_n[n]) for n in dict.fromkeys([*shown_cites, *attributed])]  # in order, once each
    backing = {c.best_source for c in checked.claims if c.shown}
    for source in cited:
        source["supported"] = source["n"] in backing
    notice = _with_removed(notice, invalid)
    if gate.declined:
        said = (f"the model also said \"{gate.declined}\", which the check can't confirm; only sentences a passage "
                "backs are shown")
        notice = f"{notice} {said}" if notice else said
    if checked.claims and gate.held_back:
        notice = f"{notice} {checked.verdict}" if notice else checked.verdict
    return AnswerResult(question, text, cited, _related(hits, {c["path"] for c in cited}, 5), backend, notice=notice,
                        invalid_citations=invalid, timings=timings, grounding=checked.to_dict(), draft=gate.raw)


def _withheld(question: str, draft: str, gate: ClaimGate, sources: list[Source], hits: list[Hit], backend: str,
              timings: Timings, notice: str | None, reason: str | None = None) -> AnswerResult:
    """The draft's first claims are not backed by what they cite: nothing of it was shown, and the model
    was stopped. Retrieval did pass its checks, so the closest passages are quoted instead (verbatim,
    with their sources) and the reason is said; the draft stays in `withheld`."""
    checked = gate.result()
    reason = reason or _why_withheld(checked, gate)
    quoted = sources[:WITHHELD_QUOTES]
    text = extractive.compose(question, quoted, f"The model's answer was withheld ({reason}). "
                                                "The closest passages of the documentation, quoted:")
    cited = [source_dict(s) for s in quoted]
    return AnswerResult(question, text, cited, _related(hits, {c["path"] for c in cited}, 5), backend,
                        notice=f"{notice} — {reason}" if notice else reason, timings=timings,
                        grounding=checked.to_dict(), withheld=draft, draft=draft)


def _why_withheld(checked: grounding.Grounding, gate: ClaimGate) -> str:
    n = len(checked.claims)
    if not n:
        return ("the model's answer says nothing beyond the question" if checked.restated or not gate.raw.strip()
                or not citations.check(gate.raw, set(gate.passages)).cited else
                "the model says the documentation doesn't cover this")
    if checked.uncited == n:
        return "the model's answer cites no source"
    if n == 1:
        return "the model's claim is not supported by the passage it cites"
    return f"the model's first {n} claims are not supported by the passages they cite"


def preview(question: str, top: list[Hit]) -> dict[str, Any]:
    """What retrieval found, before any model work: the candidate passages and the best sentence(s)."""
    sources = [source_dict(Source(n, h), cited=False) for n, h in enumerate(top, 1)]
    best = {**sources[0], "quote": extractive.best_sentences(top[0].text, question)} if top else None
    return {"sources": sources, "best_passage": best}


def source_dict(source: Source, cited: bool = True) -> dict[str, Any]:
    return {"n": source.n, **source.hit.to_wire(), "cited": cited}


def _names_a_documented_api(question: str, hits: list[Hit]) -> bool:
    """The question names APIs (InvokeEndpointAsync, ml.g5.xlarge) and retrieved passages mention each: words
    matched exactly say more than a middling similarity (a small docs folder scores lower than the corpus the
    floor was calibrated on). The model and the claim check still decide what is answered."""
    apis = grounding.api_names(question)
    return bool(apis) and not grounding.unmentioned(apis, [f"{h.heading_path} {h.text}" for h in hits])


def _passages(hits: list[Hit], pages: list[Hit], k: int) -> list[Hit]:
    """What the model reads: the best section of each of the k best pages, in the order search ranks
    pages, so the answer draws on the pages the result list shows (more often the labelled page than
    the k best chunks: bench/RESULTS.md "Passages by page"). A page's title chunk (its opening and
    outline) only when no section of it is among `hits`; chunks fill in if there are fewer pages."""
    out = [found[0] for found in _page_sections(pages[:k], hits)]
    taken = {(h.path, h.text) for h in out}
    for hit in [h for h in hits if h.kind != "title"] or hits:
        if len(out) >= k:
            break
        if (hit.path, hit.text) not in taken:
            taken.add((hit.path, hit.text))
            out.append(hit)
    return out


def _page_sections(pages: list[Hit], hits: list[Hit]) -> list[list[Hit]]:
    """Each page's retrieved sections in search order; the page's own hit (its title chunk) when none is among
    `hits`."""
    return [[h for h in hits if h.path == page.path and h.kind != "title"] or [page] for page in pages]


def _names_window(top: list[Hit], hits: list[Hit], k: int) -> list[Hit]:
    """Where the question's names are looked for: the passages, every retrieved chunk of their pages (a
    CloudFormation property section doesn't repeat "CloudFormation"; its page's opening does) and the
    best chunks. Not all retrieved chunks: then an off-topic page's passing mention lets "Vertex AI" in
    (bench/RESULTS.md, stops 26-27)."""
    pages = {h.path for h in top}
    window = top + [h for h in hits if h.path in pages] + _distinct_chunks(hits, k)
    return list({(h.path, h.text): h for h in window}.values())  # each chunk once, where it first came


def _distinct_chunks(hits: list[Hit], k: int) -> list[Hit]:
    """The best k chunks, at most two per file; sections before title chunks (which repeat them)."""
    per_file: dict[str, int] = {}
    out: list[Hit] = []
    for hit in [h for h in hits if h.kind != "title"] or hits:
        if per_file.get(hit.path, 0) < 2:
            per_file[hit.path] = per_file.get(hit.path, 0) + 1
            out.append(hit)
        if len(out) == k:
            break
    return out


def _related(hits: list[Hit], exclude: set[str], k: int) -> list[dict[str, Any]]:
    seen, out = set(exclude), []
    for hit in hits:
        if hit.path not in seen:
            seen.add(hit.path)
            out.append(hit.to_wire())
        if len(out) == k:
            break
    return out
