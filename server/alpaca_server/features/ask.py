"""alpaca.ask / alpaca.cancel: answers stream as `alpaca/answer` notifications.

`alpaca.ask {question, k?, requestId?, conversationId?, history?, context?}` returns `{requestId}`
at once; a worker thread sends `{requestId, kind: "sources", sources, bestPassage}` as soon as
retrieval is done (before the model reads anything), then `{requestId, kind: "partial", text}`
pieces, then `{requestId, kind: "final", answer, sources, related, backend, noModel, timings,
grounding, withheld, refusalReason, verdict}`. A cancelled or failed answer still ends with a final
message (`cancelled: true` or `error: "..."`) so the client can always close its view.

Follow-ups: the client keeps its thread and sends `history` (earlier turns, oldest first:
`[{question, answer, query?}]`) and optionally the text the user selected as `context`; the final
message then also carries `query` (the standalone question searched for, if it differs),
`rewrittenBy` ("model" | "rule") and the `conversationId` it was given. The server keeps no
conversation state: a restart loses nothing the client shows.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING

from alpaca_index.answer.settings import AnswerSettings
from alpaca_server import answers
from alpaca_server.engine import NotReady
from alpaca_server.feature import Feature
from alpaca_server.params import arguments, invalid
from alpaca_server.running import Running

if TYPE_CHECKING:
    from alpaca_server.server import AlpacaServer

log = logging.getLogger(__name__)

ANSWER = "alpaca/answer"


class AskFeature(Feature):
    def __init__(self, server: AlpacaServer) -> None:
        super().__init__(server)
        self.answers = Running("answer")

    def register(self) -> None:
        self.command("alpaca.ask", self.ask)
        self.command("alpaca.cancel", self.cancel)

    def close(self) -> None:
        self.answers.cancel_all()

    def ask(self, *args):
        p = arguments(args, "question")
        question = p.get("question")
        if not isinstance(question, str) or not question.strip():
            raise invalid("alpaca.ask needs a non-empty `question` string")
        k = p.get("k", AnswerSettings.k)  # the packing the answer bench chose, not the search list's length
        if isinstance(k, bool) or not isinstance(k, (int, float)) or not 1 <= k <= 50:
            raise invalid("k must be a number between 1 and 50")
        request_id = p.get("requestId") or uuid.uuid4().hex[:12]
        if not isinstance(request_id, (str, int)):
            raise invalid("requestId must be a string")
        request_id = str(request_id)
        conversation = _conversation(p)
        if request_id in self.answers:
            raise invalid(f"an answer with requestId {request_id!r} is already running")
        flag = self.answers.start(request_id)
        threading.Thread(target=self._answer, args=(request_id, question.strip(), int(k), flag, conversation),
                         name=f"alpaca-ask-{request_id}", daemon=True).start()
        return {"requestId": request_id}

    def _answer(self, request_id: str, question: str, k: int, flag: threading.Event,
                conversation: dict | None = None) -> None:
        ls = self.server
        conversation = conversation or {}
        started = time.perf_counter()
        streamed: list[str] = []

        def emit(text: str) -> None:
            if flag.is_set():
                raise answers.Cancelled()
            streamed.append(text)
            ls.notify(ANSWER, {"requestId": request_id, "kind": "partial", "text": text})

        def sources(payload: dict) -> None:
            if not flag.is_set():
                ls.notify(ANSWER, {"requestId": request_id, "kind": "sources", **payload})

        final: dict
        try:
            index = ls.engine.wait_open(60.0)
            final = answers.run_answer(index, question, k, ls.settings, emit, flag.is_set,
                                       history=conversation.get("history"), context=conversation.get("context"),
                                       on_sources=sources)
            if flag.is_set():
                raise answers.Cancelled()
        except answers.Cancelled:
            final = {"answer": "".join(streamed), "sources": [], "related": [], "backend": ls.settings.backend,
                     "noModel": ls.settings.backend == "none", "timings": {}, "cancelled": True}
        except NotReady as exc:
            final = self._failed(f"index not available: {exc}")
        except Exception as exc:
            log.exception("answer failed")
            final = self._failed(f"{type(exc).__name__}: {exc}")
        finally:
            self.answers.pop(request_id, None)
        if conversation.get("conversation_id") is not None:
            final["conversationId"] = conversation["conversation_id"]
        final.setdefault("timings", {})
        final["timings"].setdefault("server_total_ms", round((time.perf_counter() - started) * 1000, 1))
        ls.notify(ANSWER, {"requestId": request_id, "kind": "final", **final})

    def _failed(self, message: str) -> dict:
        ls = self.server
        ls.show_message("error", f"Alpaca: could not answer: {message}")
        return {"answer": "", "sources": [], "related": [], "backend": ls.settings.backend,
                "noModel": ls.settings.backend == "none", "timings": {}, "error": message}

    def cancel(self, *args):
        p = arguments(args, "requestId")
        request_id = p.get("requestId")
        if request_id is None:
            for running in self.answers.values():  # no id: cancel everything running
                running.set()
            return {"cancelled": True}
        flag = self.answers.get(str(request_id))
        if flag is None:
            return {"cancelled": False, "reason": "no running answer with that requestId"}
        flag.set()
        return {"cancelled": True}


def _conversation(p: dict) -> dict:
    """The follow-up parameters, validated here so a bad shape is an error reply, not a failed answer."""
    from alpaca_index.answer.conversation import parse_history

    try:
        history = parse_history(p.get("history"))
    except ValueError as exc:
        raise invalid(str(exc)) from None
    context, conversation_id = p.get("context"), p.get("conversationId")
    if context is not None and not isinstance(context, str):
        raise invalid("context must be a string (the selected text)")
    if conversation_id is not None and not isinstance(conversation_id, (str, int)):
        raise invalid("conversationId must be a string")
    return {"history": history, "context": context or None,
            "conversation_id": None if conversation_id is None else str(conversation_id)}
