"""Claim-level grounding: is each sentence of a generated answer backed by the passage it cites?

A claim is a sentence (or bullet, or table row) of the answer. It is checked against the passages it
cites — its own [n] markers, else those of the rest of its paragraph — by two tests:
- key terms: every number, identifier (CamelCase, snake_case, dotted or `backticked` names, ALL-CAPS
  acronyms) and quoted string in the claim, and each name the question asks about that the claim
  repeats ("Yes, … on Windows Server"), must occur in a cited passage. Those are what models invent
  ("15 minutes" where the page says 60 seconds), and no embedding notices a changed digit or name.
- meaning: MiniLM cosine similarity of the claim to its closest window (1-2 sentences) of a cited
  passage, or, when the similarity is only middling, enough of its content words found there.
Thresholds come from `bench/calibrate_grounding.py` (reference answers vs their labelled pages as
positives, vs other questions' pages as negatives; two-fold on the dev set), checked against hand labels of
sentences a model wrote (`bench/claim_labels.py`).
A claim the model left uncited, or cited to a passage that doesn't back it, is tried against each
other passage it was given: one that backs it by the same tests becomes its source (`attributed`),
so a small model that forgets citations still gets checked, cited sentences rather than none.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from alpaca_index.answer import citations
from alpaca_index.answer.citations import _numbers

if TYPE_CHECKING:  # numpy only for the types: `alpaca --help` imports this module
    from collections.abc import Callable, Iterable, Iterator, Sequence

    import numpy as np

    # texts → their normalized vectors, one row each (the index's embedder)
    Encode = Callable[[list[str]], np.ndarray]
    # (claim, the passage sentences backing it) → the answering model's odds that they state it (LlamaCpp.judge)
    Judge = Callable[[str, str], float]

# First fitted on reference answers (bench/calibrate_grounding.py), then checked against hand-labelled sentences a
# model wrote (bench/claim_labels.py). Stop 26: on our own 78 questions (429 labelled claims, never used to fit
# anything) the stop-24 values (0.75 / 0.30, word share 0.7) let through claims only 0.737 of them `yes`; both
# halves there, and both halves of the stop-23 labels, pick a stricter 0.80-0.85 and a word share of 0.8. The
# milder step is taken: own-set `yes` share 0.737 -> 0.786 (51 -> 45 answers shown), dev runs +0.00-0.025
# (bench/RESULTS.md "Answers on our own question set, and a stricter claim check")
MIN_SIMILARITY = 0.80  # supported on meaning alone
MIN_SIMILARITY_WITH_WORDS = 0.30  # supported when also most content words occur in the passage
MIN_WORD_SHARE = 0.8
# A backed claim is not, when the model reading its evidence gives lower odds that it's stated there. Used on a retry
# only, a second chance to pass: as a check on every answer it cost more right answers than wrong sentences (stop 34)
MIN_JUDGED = 0.5
WINDOWS_PER_CLAIM = 12  # windows embedded per claim, chosen by shared words

SUPPORTED, UNSUPPORTED, UNCITED = "supported", "unsupported", "uncited"

# a full stop that ends no sentence: an initial ("US East (N. Virginia)"), "e.g.", "i.e.", "vs."
NOT_ABBREVIATION = r"(?<!\b[A-Z]\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)"
_SENTENCE_END = re.compile(r"(?<=[.!?])" + NOT_ABBREVIATION + r"\s+(?=[A-Z0-9`*\"(\[])")
_CITE_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[[^\]\n]{1,20}\])+)")  # "done. [1]" → "done [1]."
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_MARKUP = re.compile(r"[*_#>]+")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = set("""a an and are as at be been but by can could do does for from has have how i if in into is it
its may might must no not of on or should so such than that the their them then there these this those to
use used uses using was we were what when where which while who will with would you your also only other
more most each any all some one two both either via per about like just own same very sagemaker amazon aws
following steps step example here below above""".split())
# key terms: numbers with their units, code-ish names, acronyms, quoted strings
_NUMBER = re.compile(r"(?<![\w.-])\d+(?:[.,]\d+)*(?:\s*(?:%|percent|ms|milliseconds?|seconds?|minutes?|hours?|days?|"
                     r"[kmgt]i?b|bytes?|gb|mb|tb|vcpus?|gpus?|instances?))?(?![\w])", re.IGNORECASE)
_BACKTICK = re.compile(r"`([^`\n]{2,80})`")
_QUOTED = re.compile(r"\"([^\"\n]{3,60})\"")
_IDENT = re.compile(r"\b(?:[a-z]+[A-Z][A-Za-z0-9]*|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Za-z]+_[A-Za-z0-9_]+|"
                    r"[a-z][a-z0-9]*(?:[.:/][a-z0-9-]*[a-z0-9])+|[a-z]+(?:-[a-z0-9]+)*-\d[a-z0-9]*|[A-Z]{2,}[0-9]*)\b")
_COMMON_CAPS = {"AWS", "API", "SDK", "CLI", "URL", "ID", "IDS", "JSON", "YAML", "HTTP", "HTTPS", "ML", "AI", "OK",
                "IAM", "S3", "VPC", "CPU", "GPU", "UI", "FAQ", "NOTE", "ARN"}
# pointers and summaries, not claims; "For example, …" and "To do this, use X" are (stop 32: they reached readers
# unchecked, e.g. "To do this, you need to use the `disable_profiler` parameter …")
_NOT_A_CLAIM = re.compile(r"^(?:here (?:is|are)|to summari[sz]e|in summary|for more|"
                          r"the (?:documentation|sources?) (?:doesn't|does not|do not)|note:?$)", re.IGNORECASE)


@dataclass
class Claim:
    text: str
    status: str  # supported | unsupported | uncited
    cites: list[int] = field(default_factory=list)  # the source numbers it was checked against
    similarity: float | None = None  # to the closest window of a cited passage
    word_share: float | None = None  # content words found in the cited passages
    missing: list[str] = field(default_factory=list)  # key terms not in any cited passage
    best_source: int | None = None
    evidence: str | None = None  # the closest sentence(s) of the cited passage, for the reader to compare
    attributed: int | None = None  # the source the check found backing it, when the model's citation didn't
    shown: bool | None = None  # in the answer the reader sees, or held back (answer/gate.py); None: not gated
    judged: float | None = None  # the model's odds that the backing sentences state it (`Judge`); None: not asked


@dataclass
class Grounding:
    claims: list[Claim]
    supported: int = 0
    unsupported: int = 0
    uncited: int = 0
    verdict: str = ""  # one line for the user
    restated: int = 0  # sentences that only restate the question (not claims)
    attributed: int = 0  # supported claims whose source the check found (the model cited none, or a wrong one)
    # what makes a shown answer suspect though each sentence checks out: the model looped, or cited sources that
    # don't exist (answer/gate.py); the reader's verdict says so and is not marked clean
    cautions: list[str] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.supported / len(self.claims) if self.claims else None

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "supported": self.supported, "unsupported": self.unsupported,
                "uncited": self.uncited, "restated": self.restated, "attributed": self.attributed, "share": None if self.share is None else round(self.share, 3),
                "cautions": self.cautions,
                "claims": [asdict(c) for c in self.claims]}


def outside_code(ends: Iterable[re.Match[str]], text: str) -> Iterator[re.Match[str]]:
    """The sentence ends that are not inside inline code: "`cron(0 0/6 ? * * *)`" is one expression."""
    return (m for m in ends if text.count("`", 0, m.start()) % 2 == 0)


def sentences(text: str) -> list[str]:
    out, start = [], 0
    for end in outside_code(_SENTENCE_END.finditer(text), text):
        out.append(text[start:end.start()])
        start = end.end()
    return [*out, text[start:]]


def split_claims(answer: str) -> list[tuple[str, list[int], int]]:
    """(claim text with its markers, its own cited numbers, paragraph number) for each claim-like sentence."""
    out: list[tuple[str, list[int], int]] = []
    paragraph, in_code = 0, False
    code: list[str] = []
    for line in answer.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            if in_code and code:  # a code block is one claim: its identifiers must come from the passage
                out.append(("\n".join(code), [], paragraph))
            in_code, code = not in_code, []
            continue
        if in_code:
            code.append(line)
            continue
        if not stripped:
            paragraph += 1
            continue
        if set(stripped) <= set("|-: "):  # a table's rule line
            continue
        text = _BULLET.sub("", stripped)
        pieces = [c.strip() for c in text.split("|")] if text.startswith("|") else [text]
        text = " | ".join(p for p in pieces if p) if len(pieces) > 1 else text
        text = _CITE_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
        for sentence in sentences(text):
            sentence = sentence.strip()
            cites = [n for marker in citations.markers(sentence) for n in _numbers(marker)]
            bare = _plain(sentence)
            if len(_WORD.findall(bare.lower())) < 4 or bare.endswith(":") and not cites or _NOT_A_CLAIM.match(bare):
                if cites and out and out[-1][2] == paragraph and not out[-1][1]:  # "…: [2]" credits the line above
                    out[-1] = (out[-1][0], cites, paragraph)
                continue
            out.append((sentence, cites, paragraph))
    if in_code and code:  # the answer stopped inside a code block (token limit): what it holds is still checked
        out.append(("\n".join(code), [], paragraph))
    return out


def _plain(text: str) -> str:
    """Without citations and markup; code keeps its `_` and `*` (`early_stopping_type`, `cron(0 * ? * * *)`)."""
    return " ".join(citations.sub(" ", citations.sub(" ", text), _MARKUP).split())


_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf"}  # dotted like an identifier, but no name


def key_terms(text: str) -> list[str]:
    """Numbers, identifiers and quoted names in a claim: the terms a passage must contain to back it."""
    text = citations.sub(" ", text)
    terms = [m.group(0) for m in _NUMBER.finditer(text)]
    terms += _BACKTICK.findall(text) + _QUOTED.findall(text)
    terms += [t for t in _IDENT.findall(_BACKTICK.sub(" ", text))
              if t.upper() not in _COMMON_CAPS and t.lower() not in _ABBREVIATIONS]
    seen, out = set(), []
    for term in terms:
        key = term.lower()
        if key not in seen:
            seen.add(key)
            out.append(term)
    return out


# an API's name, not a product's: two or more humps (InvokeEndpointAsync, not SageMaker or GitHub), snake_case,
# or a dotted or "::" name with a digit or a second part (ml.g5.xlarge, AWS::SageMaker::Endpoint)
_API_NAME = re.compile(r"\b(?:[A-Za-z][a-z0-9]+(?:[A-Z][a-z0-9]+){2,}|[A-Za-z]+_[A-Za-z0-9_]+|"
                       r"[A-Za-z][\w-]*(?:\.[\w-]*\d[\w-]*|::\w+)(?:[.:]+[\w-]+)*)\b")


def api_names(text: str) -> list[str]:
    """The API, field and resource names a text mentions (not product names or acronyms)."""
    return list(dict.fromkeys(m.group(0) for m in _API_NAME.finditer(text)))


_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")  # markdown escapes in the source pages: "6 GB\)\."


_GENERIC_NAMES = {"sagemaker", "amazon", "aws", "i", "can", "how", "what", "which", "when", "where", "why", "who",
                  "is", "are", "does", "do", "should", "could", "would", "will", "may", "the", "a", "an", "if",
                  "in", "on", "for", "to", "and", "or", "my", "with", "from"}


def question_names(question: str) -> list[str]:
    """The names a question asks about (Terraform, Kubernetes, Vertex, Tokyo, ml.g5.xlarge): capitalized
    words after the first, and identifiers. Docs that never mention one can't answer the question."""
    words = re.findall(r"\d*[A-Za-z][\w.:/-]*\w|\d*[A-Za-z]", question)  # "3D" is one name, not "D"
    names = [w for w in words[1:] if (w[0].isupper() or any(ch.isdigit() for ch in w) or "." in w)
             and w.lower() not in _GENERIC_NAMES | _ABBREVIATIONS and w.upper() not in _COMMON_CAPS]
    return list(dict.fromkeys(names))


def uncovered_names(question: str, passages: list[str]) -> list[str]:
    """The question's names that none of the passages mentions."""
    return unmentioned(question_names(question), passages)


def unmentioned(names: list[str], passages: list[str]) -> list[str]:
    """The names (a question's, or the APIs it names) that none of the passages mentions."""
    # "_" parts words here ("YOLOv3_416" mentions YOLOv3); the claim check's _normal drops it instead
    text = _normal(_ESCAPE.sub(r"\1", " ".join(passages)).replace("_", " "))

    def mentioned(name: str) -> bool:  # whole words; "GPUs" ~ "GPU", "VPC-only" ~ "VPC only"
        plain = _normal(name.replace("_", " "))
        stem = re.escape(plain.rstrip("s") if len(name) > 3 else plain).replace(r"\-", "[- ]?")
        return re.search(rf"(?<![a-z0-9]){stem}s?(?![a-z0-9])", text) is not None
    return [n for n in names if not mentioned(n)]


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[`*_\"'“”‘’]", "", _ESCAPE.sub(r"\1", text).lower()).replace(",", "").split())


def _contains(passage_norm: str, term: str) -> bool:
    term = _normal(term)
    if term in passage_norm:
        return True
    number = re.match(r"(\d+(?:\.\d+)*)\s*(\D*)$", term)
    if number:  # "60 seconds" backed by "60 s" / "60-second"; "15 containers" by "fifteen containers"
        digits, unit = number.groups()
        spelled = _NUMBER_WORDS[int(digits)] if digits.isdigit() and int(digits) < len(_NUMBER_WORDS) else None
        pattern = rf"(?<![\d.]){re.escape(digits)}(?![\d])" + (rf"|\b{spelled}\b" if spelled else "")
        for m in re.finditer(pattern, passage_norm):
            tail = passage_norm[m.end():m.end() + 12].lstrip(" -")
            if not unit or tail.startswith(unit[:1]):
                return True
    return False


_NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                 "sixteen seventeen eighteen nineteen twenty").split()


def _windows(passage: str) -> list[str]:
    passage = _ESCAPE.sub(r"\1", passage)
    flat = [" ".join(s.split()) for s in re.split(r"(?<=[.!?:])\s+|\n\s*\n|\n(?=\s*[-*|#\d])", passage)]
    sentences = [s for s in flat if len(s) > 15]
    pairs = [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]
    return (sentences + pairs)[:160] or [" ".join(passage.split())[:1000]]


_UNIT_GLUED = re.compile(r"(\d)(gb|mb|kb|tb|gib|mib|ms)\b")


def words(text: str) -> set[str]:
    """Content words, a plural as its singular and "1GB" as "1 GB": "payload sizes (up to 1GB)" backs "the payload
    size is up to 1 GB" (stop 30: 7 more claims shown on the labelled runs, 6 `yes`, 1 `partial`)."""
    words = _WORD.findall(_UNIT_GLUED.sub(r"\1 \2", text.lower()))
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in words if w not in _STOP and len(w) > 1}


# an auxiliary opening the question or one of its clauses: "can I …", "…, and is it …", "… — do I need …"
_YES_NO = re.compile(r"(?:^|[,;:—–]\s*|\s-\s*|\b(?:and|or|but|so|also)\s+)"
                     r"(?:can|could|does|do|did|is|are|was|should|must|will|would|may|has|have)\b", re.IGNORECASE)


def asks_yes_no(question: str) -> bool:
    return _YES_NO.search(question.strip()) is not None


def check(answer: str, passages: dict[int, str], encode: Encode, question: str | None = None,
          judge: Judge | None = None) -> Grounding:
    """Each claim of `answer` against `passages` ({source number: text}); `encode(list[str])` gives
    normalized vectors (the index's MiniLM). With the question, a sentence adding fewer than two
    words and no number or name to it ("All regions where SageMaker is available except [1]") is no claim,
    unless the question asks yes or no: then restating it is answering it. With `judge`, a claim the words
    and meaning back is also read by a model against its evidence, and held to `MIN_JUDGED`: words in a
    wrong relation pass the first two ("the final model goes in /opt/ml/output/data", from a table row about
    other output)."""
    raw = split_claims(answer)
    if question and not asks_yes_no(question):  # to "can I …?" the sentence "You can …" is the answer
        asked = words(question)
        asked_terms = {t.lower() for t in key_terms(question)}
        kept = [r for r in raw if "\n" in r[0] or len(words(_plain(r[0])) - asked) >= 2
                or {t.lower() for t in key_terms(r[0])} - asked_terms  # a number or name is content
                or re.match(r"\W*(?:yes|no)\b", r[0], re.IGNORECASE)]  # "Yes, it can …" answers a yes/no question
        restated, raw = len(raw) - len(kept), kept
    else:
        restated = 0
    para_cites: dict[int, list[int]] = {}
    for _, cites, para in raw:
        for n in cites:
            para_cites.setdefault(para, [])
            if n not in para_cites[para]:
                para_cites[para].append(n)
    claims = []
    for text, cites, para in raw:
        cites = [n for n in cites if n in passages] or [n for n in para_cites.get(para, []) if n in passages]
        claims.append(Claim(_plain(text) if "\n" not in text else text, UNCITED if not cites else "", cites))
    encode = encoding_once(encode)
    names = question_names(question) if question else []
    todo = [c for c in claims if c.cites]
    if todo:
        _score(todo, passages, encode, names)
    _attribute([c for c in claims if c.status != SUPPORTED], passages, encode, names)
    if judge:
        for claim in claims:
            if claim.status == SUPPORTED and claim.evidence:
                claim.judged = round(judge(claim.text, claim.evidence), 3)
                claim.status = SUPPORTED if claim.judged >= MIN_JUDGED else UNSUPPORTED
    result = Grounding(claims, restated=restated, attributed=sum(c.attributed is not None for c in claims))
    result.supported = sum(c.status == SUPPORTED for c in claims)
    result.unsupported = sum(c.status == UNSUPPORTED for c in claims)
    result.uncited = sum(c.status == UNCITED for c in claims)
    result.verdict = verdict(result)
    return result


def encoding_once(encode: Encode) -> Encode:
    """`encode` that embeds each distinct text once: attribution tries a claim, and the windows it
    shortlists, against all passages and then against the closest one alone."""
    import numpy as np

    seen: dict[str, np.ndarray] = {}

    def once(texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        if new:
            seen.update(zip(new, encode(new)))
        return np.stack([seen[t] for t in texts])
    return once


def _terms(text: str, names: Sequence[str]) -> list[str]:
    """A claim's key terms, and the names the question asks about that it repeats ("Yes, you can run
    training jobs on Windows Server"): what it says about them must come from a passage naming them."""
    terms = key_terms(text)
    have = {t.lower() for t in terms}
    plain = _normal(text)
    repeated = [n for n in names if re.search(rf"(?<![a-z0-9]){re.escape(_normal(n))}(?![a-z0-9])", plain)]
    return terms + [n for n in repeated if n.lower() not in have]


def _score(claims: list[Claim], passages: dict[int, str], encode: Encode, names: Sequence[str] = ()) -> None:
    used = sorted({n for c in claims for n in c.cites})
    windows = {n: _windows(passages[n]) for n in used}
    window_words = {(n, i): words(w) for n in used for i, w in enumerate(windows[n])}
    # embed only each claim's likeliest windows (most shared words): a passage has up to ~100
    # windows and MiniLM on a busy 2-core CPU does ~100 a second
    shortlist: dict[int, list[tuple[int, int]]] = {}
    for i, claim in enumerate(claims):
        mine = words(claim.text)
        ranked = sorted(((n, j) for n in claim.cites for j in range(len(windows[n]))),
                        key=lambda key: -len(mine & window_words[key]))
        shortlist[i] = ranked[:WINDOWS_PER_CLAIM]
    keys = sorted({key for keys in shortlist.values() for key in keys})
    column = {key: j for j, key in enumerate(keys)}
    vectors = encode([c.text for c in claims] + [windows[n][j] for n, j in keys])
    sims = vectors[:len(claims)] @ vectors[len(claims):].T
    norms = {n: _normal(passages[n]) for n in used}
    passage_words = {n: words(_ESCAPE.sub(r"\1", passages[n])) for n in used}
    for i, claim in enumerate(claims):
        best = max(shortlist[i], key=lambda key: sims[i, column[key]]) if shortlist[i] else None
        claim.similarity = round(float(sims[i, column[best]]), 3) if best else 0.0
        claim.best_source = best[0] if best else None
        claim.evidence = windows[best[0]][best[1]][:300] if best else None
        claim.missing = [t for t in _terms(claim.text, names) if not any(_contains(norms[n], t) for n in claim.cites)]
        mine = words(claim.text)
        found = set().union(*(passage_words[n] for n in claim.cites)) & mine
        claim.word_share = round(len(found) / len(mine), 3) if mine else 1.0
        claim.status = SUPPORTED if supported(claim.similarity, claim.word_share, claim.missing) else UNSUPPORTED


def _attribute(claims: list[Claim], passages: dict[int, str], encode: Encode, names: Sequence[str] = ()) -> None:
    """Uncited or unsupported claims: the closest passage of all those given, then the same tests
    against that one passage alone (key terms scattered over several passages back nothing)."""
    if not claims or not passages:
        return
    everywhere = [Claim(c.text, "", sorted(passages)) for c in claims]
    _score(everywhere, passages, encode, names)
    pairs = [(c, Claim(c.text, "", [e.best_source])) for c, e in zip(claims, everywhere) if e.best_source is not None]
    if pairs:
        _score([trial for _, trial in pairs], passages, encode, names)
    for claim, trial in pairs:
        if trial.status != SUPPORTED or trial.cites == claim.cites:
            continue
        claim.status, claim.attributed = SUPPORTED, trial.cites[0]
        claim.similarity, claim.word_share, claim.missing = trial.similarity, trial.word_share, trial.missing
        claim.best_source, claim.evidence = trial.best_source, trial.evidence


def supported(similarity: float, word_share: float, missing: list[str],
              min_similarity: float | None = None, min_with_words: float | None = None,
              min_word_share: float | None = None) -> bool:
    """The decision rule (the thresholds are parameters so calibration can sweep them)."""
    if missing:
        return False
    min_similarity = MIN_SIMILARITY if min_similarity is None else min_similarity
    min_with_words = MIN_SIMILARITY_WITH_WORDS if min_with_words is None else min_with_words
    min_word_share = MIN_WORD_SHARE if min_word_share is None else min_word_share
    return similarity >= min_similarity or (similarity >= min_with_words and word_share >= min_word_share)


def verdict(g: Grounding) -> str:
    if not g.claims:
        return "no checkable claims"
    n = len(g.claims)
    found = f" ({g.attributed} with a source the check found, not the model)" if g.attributed else ""
    if g.supported == n:
        every = "the claim" if n == 1 else f"all {n} claims"
        return f"{every} supported by the cited passages{found}"
    parts = [f"{g.supported} of {n} claims supported by the cited passages{found}"]
    doubted = sum(c.status == UNSUPPORTED and c.judged is not None for c in g.claims)  # found, then judged
    if g.unsupported - doubted:
        parts.append(f"{g.unsupported - doubted} not found in the passage they cite")
    if doubted:
        parts.append(f"{doubted} found, but the model judged the passage doesn't state {'it' if doubted == 1 else 'them'}")
    if g.uncited:
        parts.append(f"{g.uncited} cite no source")
    return "; ".join(parts)
