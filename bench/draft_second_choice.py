"""Probe (measured at stop 32, not shipped): would a *withheld draft* gain from the model's second choice,
as an unsure refusal does? The draft's token odds are recorded as it is written; its first sentence the
check didn't back is found, and the model writes again from the same prompt: the same up to that
sentence's least likely token, barred from that token, greedy after. The new draft goes through a fresh
claim gate.

    python bench/draft_second_choice.py --db INDEX --model MODEL.gguf --ids s3,o11,d02 --out FILE.jsonl

Ids are the answer bench's (seeds s1-s4, out of scope o.., dev d..). Only questions whose answer ends
withheld are branched; a row per question, with the branch's odds, text, and what the gate showed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.answer import AnswerSettings, answer, answerer  # noqa: E402
from alpaca_index.answer.backends import LlamaCpp, branch_at  # noqa: E402
from alpaca_index.answer.gate import ClaimGate  # noqa: E402
from answers import OUT_OF_SCOPE, SEED, load  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402


class Recording:
    """The backend, recording each generated token and its odds (greedy: the likeliest token is taken)."""

    def __init__(self, backend: LlamaCpp):
        self.backend, self.name, self.n_ctx = backend, backend.name, backend.n_ctx
        self.calls: list[dict] = []

    def count(self, text):
        return self.backend.count(text)

    def second_choice(self, *args, **kwargs):
        return self.backend.second_choice(*args, **kwargs)

    def stream(self, prompt, max_tokens, stop, steer=None):
        call: dict = {"prompt": prompt, "steps": []}
        self.calls.append(call)

        def record(step, logits):
            if steer:
                steer(step, logits)
            x = logits.astype(np.float64)
            call["steps"].append((int(np.argmax(x)), float(1.0 / np.exp(x - x.max()).sum())))
        return self.backend.stream(prompt, max_tokens, stop, steer=record)


def branch(backend: LlamaCpp, index, question: str, gate: ClaimGate, call: dict) -> dict:
    """The first sentence the gate didn't back: its token odds, and the draft branched at the least likely."""
    llm = backend.llm
    tokens = [t for t, _ in call["steps"]]
    odds = [p for _, p in call["steps"]]
    starts, text = [], b""
    for token in tokens:  # where each token starts in the decoded draft
        starts.append(len(text.decode("utf-8", "ignore")))
        text += llm.detokenize([token])
    decoded = text.decode("utf-8", "ignore")
    lead = len(decoded) - len(decoded.lstrip())
    start = 0
    for unit in gate.units:
        if unit.claims and not unit.backed:
            break
        start += len(unit.text)
    else:
        return {}
    end = start + len(unit.text)
    inside = [i for i, s in enumerate(starts) if start + lead <= s < end + lead]
    if not inside:
        return {}
    weakest = min(inside, key=lambda i: odds[i])
    again = ClaimGate(gate.passages, index.embedder.encode, question)
    started = time.perf_counter()
    for piece in backend.stream(call["prompt"], 512, lambda: again.stopped, steer=branch_at(tokens, weakest)):
        again.feed(piece)
    state = again.close()
    word = llm.detokenize([tokens[weakest]]).decode("utf-8", "replace")
    return {"sentence": unit.text, "weakest_token": word, "weakest_odds": round(odds[weakest], 3),
            "sentence_odds": [(llm.detokenize([tokens[i]]).decode("utf-8", "replace"), round(odds[i], 2))
                              for i in inside],
            "branch_state": state, "branch_draft": again.raw, "branch_shown": again.shown_text,
            "branch_verdict": again.result().verdict, "branch_s": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--ids", required=True, help="comma-separated bench ids (s3,o11,d02)")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from alpaca_index.api import DocsIndex

    wanted = set(args.ids.split(","))
    questions = [{"id": f"s{n}", "question": q, "relevant": []} for n, q in enumerate(SEED, 1)]
    questions = [q for q in questions + load(OUT_OF_SCOPE, "oos") + load(DEV_QUESTIONS, "dev") if q["id"] in wanted]
    index = DocsIndex(args.db, read_only=True)
    backend = LlamaCpp(args.model, n_ctx=4096)
    settings = AnswerSettings(model_path=args.model, k=args.k, n_ctx=4096)
    captured: dict = {}
    withheld = answerer._withheld

    def capture(question, draft, gate, *rest, **kwargs):  # the gate that withheld the draft
        captured["gate"] = gate
        return withheld(question, draft, gate, *rest, **kwargs)

    answerer._withheld = capture
    with args.out.open("a") as fh:
        for q in questions:
            captured.clear()
            recording = Recording(backend)
            result = answer(index, q["question"], settings, backend=recording)
            state = "refused" if result.refused else "withheld" if result.withheld else "shown"
            row = {"id": q["id"], "question": q["question"], "relevant": q.get("relevant"), "state": state}
            if state == "withheld" and "gate" in captured and recording.calls:
                row["draft"] = captured["gate"].raw
                row.update(branch(backend, index, q["question"], captured["gate"], recording.calls[0]))
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            print(q["id"], state, row.get("weakest_token"), row.get("weakest_odds"), row.get("branch_state"), "|",
                  (row.get("branch_shown") or row.get("branch_draft") or "")[:200].replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
