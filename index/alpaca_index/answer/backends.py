"""Answer backends behind one interface: in-process llama.cpp, an OpenAI-compatible endpoint."""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import urlparse

from alpaca_index.team.residency import is_loopback

if TYPE_CHECKING:
    import numpy as np
    import openai
    from llama_cpp import Llama, LogitsProcessorList
    from llama_cpp.llama_types import CreateChatCompletionStreamResponse
    from openai.types.chat import ChatCompletionChunk

log = logging.getLogger(__name__)


# Greedy decoding: the same question over the same passages gets the same answer, and an answer
# bench compares like with like (at temperature 0.1, 20 of 48 drafts repeated between two runs)
TEMPERATURE = 0.0
# A reply the model gave at least these odds stands; an unsure refusal gets its second choice checked
# instead. The stand-in's refusals of answerable questions scored 0.08-0.42 (bench/RESULTS.md "Stop 31")
SURE = 0.5
# A backed claim is read once more by the model, beside only the sentences that back it, in a context of its own
# (llama.cpp maps the weights once, so a second context costs its KV cache and buffers, not another model)
JUDGE_PROMPT = ("Does the passage state the statement, with the same meaning? Every name, number and relation in the "
                "statement must be as the passage has it. Answer Yes or No.\n\nStatement: {claim}\n\nPassage: {evidence}")
JUDGE_CTX = 1024


class BackendError(RuntimeError):
    """The configured model can't be used; the message is shown to the user as is."""


class Backend(Protocol):
    """What answers need of a model: its context size, a token count, and a cancellable stream."""

    name: str  # "llama.cpp" | "endpoint": shown with the answer
    n_ctx: int  # tokens the prompt and the answer must fit in

    def count(self, text: str) -> int: ...

    def stream(self, prompt: str, max_tokens: int, stop: Callable[[], bool]) -> Iterator[str]: ...


class LlamaCpp:
    """A GGUF model loaded once per (path, n_ctx) and kept; tokens streamed; prefix KV reused."""

    name = "llama.cpp"
    _cache: dict[tuple[str, int], Llama] = {}
    _judges: dict[str, Llama] = {}  # the judging context, beside the answering one
    _judge_lock = threading.Lock()  # one judgement at a time (answers in two server threads share the context)
    _locks: dict[tuple[str, int], threading.Lock] = {}  # one generation at a time per loaded model
    _lock = threading.Lock()

    def __init__(self, model_path: str, n_ctx: int = 4096, threads: int | None = None):
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise BackendError(f"model file not found: {path}")
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise BackendError(f"not a GGUF model file: {path}")
        self.path, self.n_ctx = str(path.resolve()), n_ctx
        # prompt evaluation uses every core; token generation leaves one free: per-token thread barriers
        # stall badly when the editor, server or embedder compete (measured 3-8x slower on 2 busy cores)
        self.threads_batch = threads or _cores()
        self.threads = threads or max(1, self.threads_batch - 1)
        with self._lock:  # shared by every instance of the same model (the server makes one per question)
            self.generate_lock = self._locks.setdefault((self.path, n_ctx), threading.Lock())

    @property
    def llm(self) -> Llama:
        key = (self.path, self.n_ctx)
        with self._lock:
            if key not in self._cache:
                self._cache.clear()  # one resident model: a 7B GGUF takes gigabytes (running answers keep theirs)
                for other in [p for p in self._judges if p != self.path]:  # nor a judging context on other weights
                    del self._judges[other]
                self._cache[key] = self._load(self.n_ctx)
            return self._cache[key]

    def _load(self, n_ctx: int) -> Llama:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise BackendError("llama-cpp-python is not installed: pip install 'alpaca-docs[llm]'") from None
        try:
            with _without_extra_buffers(_has_amx()):
                llm = Llama(model_path=self.path, n_ctx=n_ctx, n_threads=self.threads,
                            n_threads_batch=self.threads_batch, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendError(f"cannot load {Path(self.path).name} with n_ctx={n_ctx} "
                               f"(truncated file or not enough memory?): {exc}") from None
        if "tokenizer.chat_template" not in llm.metadata:
            llm.chat_format = "mistral-instruct"  # the documented default model's own format
        return llm

    def count(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def judge(self, claim: str, evidence: str) -> float:
        """The model's odds that `evidence` states `claim` ("Yes" against "No" as its first word), asked in its
        own context: the check calls it while the answering context is mid-stream (bench/RESULTS.md "Stop 34")."""
        import numpy as np

        with self._lock:
            if self.path not in self._judges:
                self._judges.clear()
                self._judges[self.path] = self._load(JUDGE_CTX)
            llm = self._judges[self.path]
        yes, no = ([llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words]
                   for words in (("Yes", " Yes", "yes"), ("No", " No", "no")))
        odds: dict[str, float] = {}

        def read(step: int, logits: np.ndarray) -> None:
            if step == 0:
                shifted = np.exp(logits.astype(np.float64) - float(logits.max()))
                odds.update(yes=float(shifted[yes].sum()), no=float(shifted[no].sum()))

        prompt = _no_control_tokens(llm, JUDGE_PROMPT.format(claim=claim, evidence=evidence))
        budget = JUDGE_CTX - 16 - len(llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=False))
        if budget < 0:  # evidence is at most two sentences; an overlong one isn't judged rather than cut
            return 1.0
        with self._judge_lock:
            llm.create_chat_completion(messages=[{"role": "user", "content": prompt}], max_tokens=1,
                                       temperature=TEMPERATURE, logits_processor=_processors(read))
        return odds["yes"] / (odds["yes"] + odds["no"]) if odds.get("yes", 0) + odds.get("no", 0) > 0 else 1.0

    def second_choice(self, prompt: str, reply: str, max_tokens: int,
                      stop: Callable[[], bool]) -> tuple[float, Iterator[str] | None]:
        """How likely the model was to give `reply` (teacher-forced, the prompt's KV reused) and, when under
        `SURE`, a stream of its most likely other reply: `reply`'s tokens up to its least likely one, then
        anything but that token, greedy after (bench/RESULTS.md "Stop 31")."""
        import numpy as np

        tokens = self.llm.tokenize(reply.encode("utf-8"), add_bos=False, special=False)
        odds: list[float] = []

        def score(step: int, logits: np.ndarray) -> None:
            if step < len(tokens):
                shifted = np.exp(logits.astype(np.float64) - float(logits.max()))
                odds.append(float(shifted[tokens[step]] / shifted.sum()))
                _force(logits, tokens[step])

        for _ in self.stream(prompt, len(tokens), stop, steer=score):
            pass
        likelihood = float(np.prod(odds)) if len(odds) == len(tokens) else 1.0  # cut short: no second try
        if likelihood >= SURE:
            return likelihood, None
        return likelihood, self.stream(prompt, max_tokens, stop, steer=branch_at(tokens, int(np.argmin(odds))))

    def stream(self, prompt: str, max_tokens: int, stop: Callable[[], bool],
               steer: Callable[[int, np.ndarray], None] | None = None) -> Iterator[str]:
        """`steer(step, logits)` may change the logits of each generated token in place before it is picked."""
        llm = self.llm
        prompt = _no_control_tokens(llm, prompt)
        with self.generate_lock:
            chunks: Generator[CreateChatCompletionStreamResponse] | None = None
            abort = _PromptAbort(llm, stop)  # a long prompt evaluation stops on cancel too
            try:
                # stream=True gives a generator of chunks; llama-cpp-python's annotation doesn't say which
                # of its two results comes for which `stream`
                chunks = cast("Generator[CreateChatCompletionStreamResponse]", llm.create_chat_completion(
                    messages=[{"role": "user", "content": prompt}], stream=True,
                    max_tokens=max_tokens, temperature=TEMPERATURE,
                    logits_processor=_processors(steer) if steer else None))
                for chunk in chunks:
                    abort.disarm()  # then per token, without a Python call per graph node
                    if stop():
                        break
                    text = chunk["choices"][0]["delta"].get("content")
                    if isinstance(text, str) and text:
                        yield text
            except (ValueError, RuntimeError) as exc:  # e.g. a prompt over n_ctx: never a traceback
                if not stop():  # an aborted decode is how a cancel during the prompt ends
                    raise BackendError(f"llama.cpp failed: {exc}") from None
            finally:
                abort.disarm()
                if chunks is not None:
                    chunks.close()


def _processors(steer: Callable[[int, np.ndarray], None]) -> LogitsProcessorList:
    from llama_cpp import LogitsProcessorList

    steps = itertools.count()  # llama.cpp calls the processor once per token it picks

    def process(_input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        steer(next(steps), logits)
        return logits
    return LogitsProcessorList([process])


def branch_at(tokens: list[int], at: int) -> Callable[[int, np.ndarray], None]:
    """A `steer` that writes `tokens` up to step `at`, bars `tokens[at]` there, and leaves the rest greedy."""
    def branch(step: int, logits: np.ndarray) -> None:
        if step < at:
            _force(logits, tokens[step])
        elif step == at:
            logits[tokens[step]] = -float("inf")
    return branch


def _force(logits: np.ndarray, token: int) -> None:
    keep = logits[token]
    logits[:] = -float("inf")
    logits[token] = keep


def _no_control_tokens(llm: Llama, text: str) -> str:
    """llama-cpp-python tokenizes the chat prompt with special tokens on, so text in a document such
    as `<end_of_turn>` or `<eos>` would become a real control token (ending the user's turn, or the
    prompt). Any such text, whatever this vocabulary calls it, is broken up with a word joiner."""
    for _ in range(8):
        data = text.encode("utf-8")
        tokens = llm.tokenize(data, add_bos=False, special=True)
        plain = llm.tokenize(data, add_bos=False, special=False)
        if tokens == plain:
            return text
        pieces = []
        for token in set(tokens) - set(plain):
            raw = llm.detokenize([token], special=True)
            # a special token: its text gives it only when specials are parsed
            if len(raw) > 1 and llm.tokenize(raw, add_bos=False, special=False) != \
                    llm.tokenize(raw, add_bos=False, special=True):
                pieces.append(raw.decode("utf-8", "replace"))
        pieces = [p for p in pieces if p in text]
        if not pieces:
            return text
        for piece in sorted(pieces, key=len, reverse=True):
            text = text.replace(piece, piece[0] + "\u2060" + piece[1:])
    return text


class _PromptAbort:
    """llama.cpp's abort callback, set while the prompt is evaluated (llama_decode then returns 2)."""

    def __init__(self, llm: Llama, stop: Callable[[], bool]):
        import llama_cpp

        self._api, self._llm, self._stop = llama_cpp, llm, stop
        self._callback = llama_cpp.ggml_abort_callback(self._check)  # referenced here while armed
        llama_cpp.llama_set_abort_callback(llm.ctx, self._callback, None)
        self.armed = True

    def _check(self, _data: object) -> bool:
        try:
            return bool(self._stop())
        except Exception:  # noqa: BLE001 - an exception must never cross into C
            return False

    def disarm(self) -> None:
        if self.armed:
            self._api.llama_set_abort_callback(self._llm.ctx, self._api.ggml_abort_callback(), None)
            self.armed = False


def _has_amx(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has Intel AMX (Sapphire Rapids and later; Linux tells, elsewhere assume not)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            return any(line.startswith("flags") and " amx_int8" in line for line in fh)
    except OSError:
        return False


@contextmanager
def _without_extra_buffers(disable: bool) -> Iterator[None]:
    """Load a model with llama.cpp's extra weight buffers (AMX and repacked layouts) off. A llama-cpp-python
    built on a CPU with AMX (0.3.36 from source: -march=native) segfaults in ggml_backend_amx_mul_mat on the
    first prompt of more than one token, Q4_K_M included. Llama() takes no option for it, so the default
    params it starts from are swapped while it loads (under LlamaCpp._lock, so no other load sees it)."""
    if not disable:
        yield
        return
    import llama_cpp.llama_cpp as low

    defaults = low.llama_model_default_params

    def without() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params
    low.llama_model_default_params = without
    try:
        yield
    finally:
        low.llama_model_default_params = defaults


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # the cores this process may use (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 2


_SDK_HEADERS = ("X-Stainless-Lang", "X-Stainless-Package-Version", "X-Stainless-OS", "X-Stainless-Arch",
                "X-Stainless-Runtime", "X-Stainless-Runtime-Version", "X-Stainless-Async", "X-Stainless-Retry-Count",
                "X-Stainless-Read-Timeout", "X-Stainless-Timeout")


class Endpoint:
    """An OpenAI-compatible /v1/chat/completions server (Ollama, llama.cpp server, vLLM), streamed
    through the official `openai` client (imported on the first question: `alpaca --help` and status
    never load it)."""

    name = "endpoint"

    def __init__(self, url: str, model: str = "mistral", allow_remote: bool = False, timeout: float = 120.0,
                 api_key: str | None = None, n_ctx: int = 2048):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise BackendError(f"endpoint must be an http(s) URL, got {url!r}")
        self.loopback = is_loopback(url)
        if not self.loopback:
            if not allow_remote:
                raise BackendError(f"endpoint {parsed.hostname} is not on this machine; documents would leave it. "
                                   "Set allow_remote (--allow-remote / ALPACA_ALLOW_REMOTE=1) to permit it.")
            from alpaca_index.team.residency import ResidencyError, check_endpoint

            try:  # data residency: a remote endpoint must declare a US region (ALPACA_ENDPOINT_REGION)
                check_endpoint(url)
            except ResidencyError as exc:
                raise BackendError(str(exc)) from None
            log.warning("sending document excerpts to remote endpoint %s", parsed.hostname)
        # `http://host:port`, `.../v1` and `.../v1/chat/completions` all name the same API root
        root = url.rstrip("/")
        if root.endswith("/chat/completions"):
            root = root.removesuffix("/chat/completions")
        elif not root.endswith("/v1"):
            root += "/v1"
        self.base_url, self.url = root, f"{root}/chat/completions"
        self.model, self.timeout, self.api_key = model, timeout, api_key
        # the server's context can't be asked or set over this API (Ollama ignores num_ctx there and
        # silently drops the prompt's start when over): budget for a conservative, configurable size
        self.n_ctx = n_ctx

    def count(self, text: str) -> int:
        return len(text) // 3 + 1  # no tokenizer at hand: a conservative estimate for budgeting

    def stream(self, prompt: str, max_tokens: int, stop: Callable[[], bool]) -> Iterator[str]:
        import httpx  # openai < 3 lets httpx's own error through when a stream breaks (openai 3 wraps it)
        import openai

        with self._client() as client:
            try:
                chunks = client.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": prompt}], stream=True,
                    max_tokens=max_tokens, temperature=TEMPERATURE, extra_headers=self._unset_headers())
            except openai.APITimeoutError:
                raise BackendError(f"endpoint {self.url} timed out: nothing within {self.timeout:g} s") from None
            except openai.APIConnectionError as exc:
                raise BackendError(f"endpoint {self.url} unreachable: {_cause(exc)}") from None
            except openai.APIStatusError as exc:
                raise BackendError(self._status_message(exc)) from None
            with chunks:  # closed on cancel, on error and when the answer stops early
                try:
                    for chunk in chunks:
                        if stop():
                            break
                        text = _delta_text(chunk)
                        if text:
                            yield text
                except (openai.APITimeoutError, httpx.TimeoutException):
                    raise BackendError(f"endpoint {self.url} stopped responding: "
                                       f"timed out after {self.timeout:g} s") from None
                except (openai.APIConnectionError, httpx.TransportError) as exc:
                    raise BackendError(f"endpoint {self.url} stopped responding: {_cause(exc)}") from None
                except openai.APIError as exc:  # an error event in the stream
                    raise BackendError(f"endpoint {self.url} failed: {exc.message}") from None
                except ValueError as exc:  # an event that isn't JSON
                    raise BackendError(f"endpoint {self.url} sent a malformed stream: {exc}") from None

    def _client(self) -> openai.OpenAI:
        import openai

        # a loopback server is reached directly: an http_proxy setting (trust_env) must not carry the
        # documents away, and no redirect may send them on to another host; no retries: one attempt,
        # one clear message (and a remote endpoint is contacted once)
        http = openai.DefaultHttpxClient(trust_env=not self.loopback, follow_redirects=False)
        # the client needs some key; "none" stands in when none is configured and is never sent
        # (see _unset_headers), so an OPENAI_API_KEY in the environment never reaches this server
        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "none", timeout=self.timeout,
                             max_retries=0, http_client=http)

    def _unset_headers(self) -> dict[str, openai.Omit]:
        import openai

        # only what Alpaca was configured with is sent: no OPENAI_ORG_ID / OPENAI_PROJECT_ID from the
        # environment, no Authorization at all without a configured key, and none of the SDK's
        # X-Stainless-* headers (this machine's OS, CPU and Python versions are not the endpoint's business)
        unset = {"OpenAI-Organization": openai.Omit(), "OpenAI-Project": openai.Omit(),
                 **{name: openai.Omit() for name in _SDK_HEADERS}}
        if not self.api_key:
            unset["Authorization"] = openai.Omit()
        return unset

    def _status_message(self, exc: openai.APIStatusError) -> str:
        code = exc.status_code
        detail = exc.body.get("message") if isinstance(exc.body, dict) else None
        message = f"endpoint {self.url} answered HTTP {code} {exc.response.reason_phrase}".rstrip()
        if isinstance(detail, str) and detail:
            message += f": {detail[:200]}"
        if code in (401, 403):
            message += " — check the API key (ALPACA_API_KEY)" if self.api_key else \
                " — the endpoint wants an API key: set ALPACA_API_KEY"
        elif code == 404:
            message += f" — a wrong URL, or no model {self.model!r} there (Ollama: `ollama pull {self.model}`)"
        return message


def _delta_text(chunk: ChatCompletionChunk) -> str | None:
    """The text of one streamed chunk; None for a chunk without any (role only, usage, keep-alive)."""
    try:  # the client doesn't validate chunks: a server may leave fields out
        text = chunk.choices[0].delta.content
    except (AttributeError, IndexError, TypeError):
        return None
    return text if isinstance(text, str) else None


def _cause(exc: BaseException) -> str:
    """What went wrong underneath a client error (refused, blocked, reset), in a few words."""
    cause = exc.__cause__ or exc.__context__ or exc
    return str(cause) or type(cause).__name__
