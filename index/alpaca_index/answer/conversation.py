"""Follow-up questions: the history of a conversation, the standalone question a follow-up is
retrieved with, and the token budget the history must stay within.

A follow-up ("and for async endpoints?") is searched as a standalone question: rewritten from the
history by the model when one is configured, else by a rule that carries the previous question's
key terms into a short or referring follow-up. The answer is then generated from that standalone
question and the passages retrieved for it only (the "condense question" pattern): the history
shapes what is searched, never the evidence, so every claim still cites a source of this turn.

Text the user selected in the editor ("Ask About Selection") travels as `context`: its key terms
join the search and the text itself (bounded) joins the question the model reads.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alpaca_index.answer import citations
from alpaca_index.answer.backends import Backend, BackendError
from alpaca_index.answer.prompt import defuse

log = logging.getLogger(__name__)

MAX_TURNS = 20  # turns accepted from a client: older ones are dropped before anything is counted
MAX_TURN_CHARS = 4000  # of one turn's question or answer as received
MAX_CONTEXT_CHARS = 1500  # of the selected text put into the question
MAX_PROMPT_QUESTION = 1900  # the answerer cuts questions at 2000 characters: the question itself must survive
MAX_CARRIED = 6  # key terms the rule carries from the previous question
MAX_SELECTION_TERMS = 8  # key terms of the selection added to the search
REWRITE_TOKENS = 64  # a rewritten question longer than this is not a question
HISTORY_SHARE = 2  # the history may take at most 1/HISTORY_SHARE of the model's context
SUMMARY_ANSWER_CHARS = 240  # an older turn's answer shrinks to about its first sentences

_STOP = set("""a an and are as at be by can do does did for from how i if in is it its it's my of on or the to what
when where which who whom whose why with you your this that these those there their them they all any some
me we our us use using used set get make need want should could would will shall may might must please tell
explain show give about also more much many than then so not no yes have has had was were been being same
other else way ways thing things just only very too out up into over under between via per each every
possible available there's here let lets one ones like want wants""".split())
# what a docs question asks to do: a follow-up naming its own action ("how do I invoke it?") keeps
# it, and only the previous question's subject is carried, not its action ("create")
_ACTIONS = set("""create configure set setup enable disable invoke call deploy delete remove update change check
monitor scale autoscale encrypt decrypt list add install run start stop train test connect choose specify define write read
access grant attach register upload download view find debug troubleshoot migrate import export host serve
schedule rotate restrict allow deny share copy move rename tag track log measure estimate""".split())
_TOKEN = re.compile(r"[A-Za-z0-9][\w./:-]*[A-Za-z0-9]|[A-Za-z0-9]")
_CONTINUATION = re.compile(r"^\s*(?:and|or|but|also|plus|then|so|what about|how about|what if|same for|"
                           r"and what|and how|why not|instead)\b", re.IGNORECASE)
_REFERENCE = re.compile(r"\b(?:it|its|it's|this|that|these|those|they|them|their|there|same|above|previous|"
                        r"former|latter|such|else)\b", re.IGNORECASE)


@dataclass
class Turn:
    """One question and its answer, oldest first in a history."""
    question: str
    answer: str = ""
    query: str | None = None  # the standalone question this turn was retrieved with, when it differed

    @property
    def standalone(self) -> str:
        return self.query or self.question


@dataclass
class Plan:
    """What a turn searches for and what the model is asked."""
    question: str  # as the user typed it
    query: str  # the standalone question retrieval uses
    prompt_question: str  # what the model answers: the standalone question, plus the selected text
    rewritten_by: str | None = None  # "model" | "rule" | None (searched as typed)
    history_turns: int = 0  # turns of history the rewrite saw (after the budget)
    rewrite_ms: float | None = None


def parse_history(raw: object) -> list[Turn]:
    """A client's history (`[{question, answer?, query?}]`, oldest first) → turns. Raises ValueError
    with a message for the user on a wrong shape; over-long histories keep their newest turns."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise ValueError("history must be a list of {question, answer} turns")
    turns = []
    for n, item in enumerate(raw[-MAX_TURNS:], 1):
        if isinstance(item, Turn):
            turns.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) or not item["question"].strip():
            raise ValueError(f"history turn {n} needs a non-empty `question` string")
        answer, query = item.get("answer") or "", item.get("query") or None
        if not isinstance(answer, str) or not (query is None or isinstance(query, str)):
            raise ValueError(f"history turn {n}: `answer` and `query` must be strings")
        turns.append(Turn(item["question"].strip()[:MAX_TURN_CHARS], answer.strip()[:MAX_TURN_CHARS],
                          query.strip()[:MAX_TURN_CHARS] if query else None))
    return turns


def key_terms(text: str) -> list[str]:
    """Content words of `text` in order, names and identifiers first (what a follow-up leaves out:
    "KMS", "InvokeEndpointAsync", "ml.m5.xlarge", "Canvas"), each once, case-insensitively."""
    names: list[str] = []
    words: list[str] = []
    seen: set[str] = set()
    for i, match in enumerate(_TOKEN.finditer(citations.sub(" ", text))):
        word = match.group(0).strip(".:/-")
        low = word.lower()
        if not word or low in _STOP or _stem(word) in seen or (len(word) < 3 and not word.isupper()):
            continue
        seen.add(_stem(word))
        (names if _is_name(word, first=i == 0) else words).append(word)
    return names + words


def _stem(word: str) -> str:
    """Case and a plural "s" aside ("endpoints" is "endpoint"): how terms are compared."""
    low = word.lower()
    return low[:-1] if len(low) > 3 and low.endswith("s") and not low.endswith("ss") else low


def _is_name(word: str, first: bool) -> bool:
    return (any(c.isdigit() or c in "_.:/" for c in word) or any(c.isupper() for c in word[1:])
            or (word[0].isupper() and not first))


def is_follow_up(question: str, history: list[Turn]) -> bool:
    """Whether a question leans on the conversation: it continues ("and for async?", "what about
    batch?"), refers back ("how long does it take?") or is too short to search on its own. A
    question that names something the conversation hasn't ("What is Canvas?") starts a new topic."""
    if not history:
        return False
    if _CONTINUATION.match(question):
        return True
    terms = key_terms(question)
    before = {_stem(t) for turn in history for t in key_terms(turn.standalone)}
    if any(_is_name(t, first=question.lstrip().startswith(t)) and _stem(t) not in before for t in terms):
        return False
    return len(terms) <= 2 or (bool(_REFERENCE.search(question)) and len(terms) <= 4)


def rule_rewrite(question: str, history: list[Turn]) -> str:
    """The deterministic standalone question: a follow-up gets the previous question's key terms
    that it lacks, in brackets; anything else is searched as typed."""
    if not is_follow_up(question, history):
        return question
    own = {_stem(t) for t in key_terms(question)}
    acts = bool(own & _ACTIONS)
    carried = [t for t in key_terms(history[-1].standalone)
               if _stem(t) not in own and not (acts and _stem(t) in _ACTIONS)][:MAX_CARRIED]
    return f"{question.strip()} ({' '.join(carried)})" if carried else question


def strip_citations(text: str) -> str:
    """An earlier answer without its [n] markers: they point at that turn's sources, not this one's."""
    return re.sub(r"[ \t]+([.,;:])", r"\1", citations.sub("", text)).strip()


def _summary(turn: Turn) -> str:
    text = " ".join(strip_citations(turn.answer).split())
    if len(text) <= SUMMARY_ANSWER_CHARS:
        return text
    cut = text[:SUMMARY_ANSWER_CHARS]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return (cut[:end + 1] if end > SUMMARY_ANSWER_CHARS // 3 else cut.rstrip()) + " …"


def render_history(turns: Sequence[Turn], older: Sequence[Turn] = ()) -> str:
    lines = []
    if older:  # turns that no longer fit, summarised to their topics
        topics: list[str] = []
        for turn in older:
            topics += [t for t in key_terms(turn.standalone) if _stem(t) not in {_stem(x) for x in topics}]
        lines.append(f"(Earlier, the user asked about: {', '.join(topics[:12])}.)")
    for turn in turns:  # earlier answers quote documents: data, like the sources of a prompt
        lines.append(f"User: {defuse(' '.join(turn.question.split()))}")
        if turn.answer:
            lines.append(f"Assistant: {defuse(_summary(turn))}")
    return "\n".join(lines)


def fit_history(turns: list[Turn], budget_tokens: int, count: Callable[[str], int]) -> tuple[str, int]:
    """The newest turns whose rendering (answers summarised, citations stripped) fits `budget_tokens`
    by the model's own token count; older turns are dropped, summarised in one line of their topics
    when that line still fits. Returns (text, turns kept in full)."""
    kept = len(turns)
    while kept:
        text = render_history(turns[-kept:], turns[:-kept])
        if count(text) <= budget_tokens:
            return text, kept
        kept -= 1
    text = render_history([], turns)
    return (text if turns and count(text) <= budget_tokens else ""), 0


REWRITE_PROMPT = """Rewrite the user's last question so that it can be understood without the conversation: \
replace words such as "it", "that" or "there" with what they refer to and add the topic it continues. \
Keep every name and technical term. If the question already stands alone, repeat it unchanged. \
Reply with the rewritten question only, on one line.

Conversation:
{history}

Last question: {question}
Standalone question:"""


def model_rewrite(backend: Backend, question: str, history: list[Turn], n_ctx: int,
                  cancelled: Callable[[], bool] = lambda: False) -> tuple[str | None, int]:
    """The model's standalone question (None when its reply isn't a usable question), and how many
    turns of history it saw. BackendError passes through."""
    frame = REWRITE_PROMPT.format(history="", question=question)
    budget = min(n_ctx // HISTORY_SHARE, n_ctx - REWRITE_TOKENS - backend.count(frame) - 32)
    text, kept = fit_history(history, budget, backend.count)
    if not text:
        return None, 0
    reply = "".join(backend.stream(REWRITE_PROMPT.format(history=text, question=question), REWRITE_TOKENS,
                                   cancelled))
    return _clean_rewrite(reply, question, history), kept


COPIED_WORDS = 8  # a run of this many words taken from an earlier answer makes a reply no question


def _copies_an_answer(line: str, history: Sequence[Turn]) -> bool:
    """Whether the reply repeats a run of words from an earlier answer that its question didn't have
    (a 135M model can echo "The model's answer was withheld… The closest passages…" as the question)."""
    def runs(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", strip_citations(text).lower())
        return {tuple(words[i:i + COPIED_WORDS]) for i in range(len(words) - COPIED_WORDS + 1)}
    mine = runs(line)
    return any(mine & (runs(turn.answer) - runs(turn.standalone)) for turn in history)


def _clean_rewrite(reply: str, question: str, history: Sequence[Turn] = ()) -> str | None:
    line = next((ln.strip() for ln in reply.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:standalone question|rewritten question|question)\s*:\s*", "", line, flags=re.IGNORECASE)
    line = line.strip().strip('"“”\'`').strip()
    if len(line) < 3 or len(line) > 3 * len(question) + 300 or not key_terms(line):
        return None
    # a small model sometimes answers with an earlier question: the follow-up's own terms must survive
    own, kept = {_stem(t) for t in key_terms(question)}, {_stem(t) for t in key_terms(line)}
    if own and 2 * len(own & kept) < len(own):
        return None
    return None if _copies_an_answer(line, history) else line


def plan(question: str, history: list[Turn] | None = None, context: str | None = None, backend: Backend | None = None,
         n_ctx: int = 4096, cancelled: Callable[[], bool] = lambda: False) -> Plan:
    """The standalone question for a turn: by the model when `backend` is given and history exists,
    by the rule otherwise (and whenever the model fails or replies with something that is no question)."""
    question = " ".join(question.split())
    history = history or []
    query, by, kept, rewrite_ms = question, None, 0, None
    if history and backend is not None:
        started = time.perf_counter()
        try:
            rewritten, kept = model_rewrite(backend, question, history, n_ctx, cancelled)
        except BackendError as exc:
            log.warning("follow-up rewrite by the model failed (%s); using the rule", exc)
            rewritten = None
        rewrite_ms = round((time.perf_counter() - started) * 1000, 1)
        if rewritten:
            query, by = rewritten, "model"
    if by is None and history:
        query = rule_rewrite(question, history)
        kept = 1 if query != question else 0
        by = "rule" if query != question else None
    if by == "model" and query.casefold() == question.casefold():
        by = None
    prompt_question = query
    context = " ".join((context or "").split())
    if context:
        room = min(MAX_CONTEXT_CHARS, MAX_PROMPT_QUESTION - len(prompt_question) - 40)
        selected = defuse(context[:room]) + ("…" if len(context) > room else "")  # document text may be selected too
        own = {_stem(t) for t in key_terms(query)}
        extra = [t for t in key_terms(context) if _stem(t) not in own][:MAX_SELECTION_TERMS]
        query = f"{query} {' '.join(extra)}".strip()
        if room > 0:
            prompt_question = f"{prompt_question} (about this selected text: \"{selected}\")"
    return Plan(question, query, prompt_question, by, kept, rewrite_ms)
