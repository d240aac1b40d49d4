"""Answer-quality bench: in-scope (dev) and out-of-scope questions through the real answer path.

    nice -n 5 python bench/answers.py --db INDEX --model MODEL.gguf --out bench/results/answers.json
    python bench/answers.py --db INDEX --regrade bench/results/answers.json [--model MODEL.gguf]   # re-check drafts

Per answer: refused (and why), cites a labelled page, share of claims supported by their cited
passage, prompt tokens, time to sources, TTFT, llama.cpp's own prompt evaluation, total. Every row
is appended to `<out>.jsonl` as it finishes (progress you can tail); the summary table and the
worst answers verbatim go to stdout (markdown) and `<out>` (JSON). Questions refused by retrieval
never reach the model, so they cost ~50 ms. `--regrade` re-applies the current grounding check to
the saved drafts and passages, so a threshold change needs no second model run (a retried answer's sentences are
judged by the model again when `--model` is given; without it their saved check stands).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.answer import AnswerSettings, answer  # noqa: E402
from alpaca_index.answer.answerer import RETRIED  # noqa: E402
from alpaca_index.answer.backends import TEMPERATURE, Endpoint, LlamaCpp  # noqa: E402
from alpaca_index.answer.gate import SHOWN, replay  # noqa: E402
from alpaca_index.answer.prompt import is_refusal  # noqa: E402
from common import DEV_QUESTIONS  # noqa: E402

OUT_OF_SCOPE = Path(__file__).resolve().parent / "out_of_scope.jsonl"
SEED = ["What is SageMaker?", "What are all AWS regions where SageMaker is available?",
        "How to check if an endpoint is KMS encrypted?", "What are SageMaker Geospatial capabilities?"]
KMS = SEED[2]
_FENCE = re.compile(r"<<<source (\d+): [^\n]*\n(.*?)\n>>>", re.DOTALL)


class Recorder:
    """The backend as is, keeping the first prompt of a question (all its sources: what the grounding
    check used; a second look's prompt holds one of them), the last one (a retry's) and counting the prompts."""

    def __init__(self, backend):
        self.backend, self.prompt, self.last, self.calls = backend, "", "", 0
        self.name, self.n_ctx = backend.name, getattr(backend, "n_ctx", 4096)

    def count(self, text: str) -> int:
        return self.backend.count(text)

    def stream(self, prompt, max_tokens, stop):
        self.prompt, self.last = self.prompt or prompt, prompt
        self.calls += 1
        yield from self.backend.stream(prompt, max_tokens, stop)

    def __getattr__(self, name):  # what else the backend can do (llama.cpp's second_choice)
        return getattr(self.backend, name)


def load(path: Path, group: str) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{"id": r.get("id", str(n)), "group": group, "kind": r.get("kind", group), "question": r["question"],
             "relevant": r.get("relevant", [])} for n, r in enumerate(rows, 1)]


def _labelled(path: str, relevant: list[str]) -> bool:
    return any(path == r or path.endswith("/" + r) or r.endswith("/" + path) for r in relevant)


def _perf(backend):
    try:
        import llama_cpp

        llm = backend.llm
        data = llama_cpp.llama_perf_context(llm._ctx.ctx)  # noqa: SLF001 - llama.cpp's own counters
        return round(data.t_p_eval_ms, 1), int(data.n_p_eval)
    except Exception:  # noqa: BLE001 - an endpoint has no such counters
        return None, None


def _reset_perf(backend) -> None:
    try:
        import llama_cpp

        llama_cpp.llama_perf_context_reset(backend.llm._ctx.ctx)  # noqa: SLF001
    except Exception:  # noqa: BLE001
        pass


def run_one(index, q: dict, settings, recorder) -> dict:
    recorder.prompt, recorder.calls = "", 0
    seen: dict = {}
    started = time.perf_counter()

    def on_sources(preview):
        seen["sources_ms"] = round((time.perf_counter() - started) * 1000, 1)

    if hasattr(recorder.backend, "llm"):
        _reset_perf(recorder.backend)
    result = answer(index, q["question"], settings, backend=recorder, on_sources=on_sources)
    prompt_eval_ms, evaluated = _perf(recorder.backend) if recorder.prompt else (None, None)
    t = result.timings
    retried = result.notice is not None and RETRIED in result.notice  # shown from the retry's own passages
    row = {**q, "refused": result.refused, "refusal_reason": result.refusal_reason, "answer": result.answer,
           "withheld": result.withheld is not None,
           "draft": result.draft if result.draft is not None else (result.answer if recorder.prompt else None),
           "cited_paths": [s["path"] for s in result.sources if s.get("cited")],
           "passages": {int(n): text for n, text in _FENCE.findall(recorder.last if retried else recorder.prompt)},
           "grounding": result.grounding, "best_similarity": t.get("best_similarity"),
           "prompt_tokens": t.get("prompt_tokens"), "tokens_evaluated": evaluated,
           "sources_ms": seen.get("sources_ms"), "ttft_ms": t.get("first_token_ms"),
           "first_shown_ms": t.get("first_shown_ms"),
           "llama_prompt_eval_ms": prompt_eval_ms, "total_ms": t.get("total_ms"),
           "second_look_ms": t.get("second_look_ms"), "refusal_likelihood": t.get("refusal_likelihood"),
           "second_choice_ms": t.get("second_choice_ms"), "model_calls": recorder.calls,
           "retry_ms": t.get("retry_ms"), "retried": retried}
    return grade(row)


def grade(row: dict) -> dict:
    """Derived columns: labelled-page citation, claim counts, refusal right/wrong."""
    g = row.get("grounding") or {}
    claims = g.get("claims", [])
    row["claims"] = len(claims)
    row["supported"] = g.get("supported", 0)
    # in the answer the reader sees (claim gate); drafts saved before the gate count whole
    row["shown_claims"] = sum(c.get("shown", True) is not False for c in claims) if not row.get("withheld") else 0
    row["shown_supported"] = sum(c.get("shown", True) is not False and c["status"] == "supported" for c in claims) \
        if not row.get("withheld") else 0
    row["attributed"] = sum(c.get("shown", True) is not False and c.get("attributed") is not None for c in claims)
    row["held_back"] = row["claims"] - row["shown_claims"] if not row.get("withheld") and not row["refused"] else 0
    row["cites_labelled"] = (any(_labelled(p, row["relevant"]) for p in row["cited_paths"])
                             if row["relevant"] else None)
    # the reader is warned: a shown sentence not backed, or a caution (the model looped or invented sources)
    row["flagged"] = bool(g) and (row["shown_supported"] < row["shown_claims"] or bool(g.get("cautions")))
    in_scope = row["group"] == "dev"
    row["correct"] = (not row["refused"]) if in_scope else (row["refused"] if row["group"] == "oos" else None)
    return row


def regrade(row: dict, encode, judge=None) -> dict:
    """The saved draft through today's refusal rule and claim gate (as the answerer applies them while
    the model streams): the answer the reader would see, and what was held back. A retry's answer was judged by
    the model as it streamed: without `judge` its saved check stands."""
    if row.get("retried") and judge is None:
        return grade(row)
    if row.get("draft") and row.get("passages") and row["refusal_reason"] != "retrieval":
        passages = {int(n): t for n, t in row["passages"].items()}
        if is_refusal(row["draft"]):
            # the model's second choice ran (it was unsure of "not covered") and wasn't shown: passages quoted
            unsure = row.get("second_choice_ms") is not None
            row.update(refused=not unsure, withheld=unsure, refusal_reason=None if unsure else "model",
                       grounding=None)
        else:
            # a retry's answer was judged as it streamed; a first draft never is
            gate = replay(row["draft"], passages, encode, row["question"], judge if row.get("retried") else None)
            shown = gate.state == SHOWN
            # withheld: the closest passages are quoted instead (not a refusal)
            row.update(refused=False, withheld=not shown, refusal_reason=None, grounding=gate.result().to_dict(),
                       answer=gate.shown_text.strip() if shown else
                       "(withheld on regrade: the closest passages are quoted instead; the draft is below)")
    return grade(row)


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def summarize(rows: list[dict]) -> dict:
    dev = [r for r in rows if r["group"] == "dev"]
    oos = [r for r in rows if r["group"] == "oos"]
    answered = [r for r in dev if not r["refused"] and not r.get("withheld")]  # drafts shown as answers
    shown_claims = sum(r["shown_claims"] for r in answered)
    generated = [r for r in rows if r.get("prompt_tokens")]
    kms = next((r for r in rows if r["question"] == KMS), None)
    return {
        "dev_questions": len(dev), "dev_false_refusals": sum(r["refused"] for r in dev),
        "dev_withheld_quoted": sum(bool(r.get("withheld")) for r in dev),
        # not presented as an answer: refused, or the draft withheld and passages quoted instead
        "dev_not_answered": sum(bool(r["refused"] or r.get("withheld")) for r in dev),
        "oos_not_answered": sum(bool(r["refused"] or r.get("withheld")) for r in oos),
        "oos_withheld_quoted": sum(bool(r.get("withheld")) for r in oos),
        "dev_cites_labelled": sum(bool(r["cites_labelled"]) for r in answered),
        "dev_answered": len(answered),
        "claims_supported_in_answers": round(sum(r["shown_supported"] for r in answered) / shown_claims, 3)
        if shown_claims else None,
        "claims_in_answers": shown_claims,
        # sentences of shown answers the gate kept out of the answer (listed after it, marked)
        "claims_held_back_in_answers": sum(r["held_back"] for r in answered),
        # the same, counting only sentences the model itself cited correctly (no attribution by the check)
        "claims_supported_by_own_citation": round(sum(r["shown_supported"] - r["attributed"] for r in answered)
                                                  / shown_claims, 3) if shown_claims else None,
        "claims_supported_in_all_drafts": round(sum(r["supported"] for r in dev + oos) /
                                                max(1, sum(r["claims"] for r in dev + oos)), 3),
        "oos_questions": len(oos), "oos_refused": sum(r["refused"] for r in oos),
        "oos_refused_by": {k: sum(r["refusal_reason"] == k for r in oos) for k in ("retrieval", "model", "grounding")},
        "kms_case": None if kms is None else ("refused" if kms["refused"] else
                                             "withheld, passages quoted" if kms.get("withheld") else
                                             "flagged" if kms["flagged"] else "clean answer"),
        "median_prompt_tokens": _median(r["prompt_tokens"] for r in generated),
        "median_sources_ms": _median(r["sources_ms"] for r in rows),
        "median_ttft_ms": _median(r["ttft_ms"] for r in generated),
        # the first checked sentence on screen (answers shown; the sources come at median_sources_ms)
        "median_first_shown_ms": _median(r.get("first_shown_ms") for r in generated),
        "median_llama_prompt_eval_ms": _median(r["llama_prompt_eval_ms"] for r in generated),
        "median_total_ms_generated": _median(r["total_ms"] for r in generated),
        "model_calls": len(generated),
        # the model said "not covered" with several passages and read the best one alone
        "second_looks": sum(r.get("second_look_ms") is not None for r in rows),
        "second_looks_answered": sum(r.get("second_look_ms") is not None and not r["refused"] and not r["withheld"]
                                     for r in rows),
        "median_second_look_ms": _median(r.get("second_look_ms") for r in rows),
        "second_choices": sum(r.get("second_choice_ms") is not None for r in rows),
        # a withheld first draft: the model answered again from the sections closest to the question, judged
        "retries": sum(r.get("retry_ms") is not None for r in rows),
        "retries_shown": sum(bool(r.get("retried")) for r in rows),
        "median_retry_ms": _median(r.get("retry_ms") for r in rows),
        "second_choices_shown": sum(r.get("second_choice_ms") is not None and r.get("second_look_ms") is None
                                    and not r["refused"] and not r["withheld"] for r in rows),
        "median_second_choice_ms": _median(r.get("second_choice_ms") for r in rows),
    }


def table(rows: list[dict]) -> str:
    out = ["| id | group | refused (why) | cites labelled | claims shown / drafted | prompt tok | sources ms | TTFT ms | "
           "prompt eval ms | total ms | question |", "|" + "---|" * 11]
    for r in rows:
        why = f"yes ({r['refusal_reason']})" if r["refused"] else "no"
        claims = f"{r['shown_claims']}/{r['claims']}" if r["claims"] else "–"
        labelled = {True: "yes", False: "no", None: "–"}[r["cites_labelled"]] if not r["refused"] else "–"
        out.append(f"| {r['id']} | {r['group']} | {why} | {labelled} | {claims} | {r['prompt_tokens'] or '–'} | "
                   f"{r['sources_ms'] or '–'} | {r['ttft_ms'] or '–'} | {r['llama_prompt_eval_ms'] or '–'} | "
                   f"{r['total_ms']} | {r['question'][:70]} |")
    return "\n".join(out)


def worst(rows: list[dict], n: int = 6) -> str:
    """Wrong refusals, out-of-scope answers, then shown answers with the most sentences held back."""
    def badness(r):
        wrong = r["correct"] is False
        unsupported = r["held_back"] + r["shown_claims"] - r["shown_supported"] if not r["refused"] else 0
        return (wrong, unsupported, r["group"] == "seed")
    picked = sorted(rows, key=badness, reverse=True)[:n]
    parts = []
    for r in picked:
        g = r.get("grounding") or {}
        parts.append(f"### {r['id']} ({r['group']}): {r['question']}\n\nShown: {r['answer']}\n")
        if (r["refused"] or r.get("withheld")) and r.get("draft") and r["draft"] != r["answer"]:
            parts.append("Model's draft (withheld):\n\n" + "\n".join(f"> {line}" for line in r["draft"].splitlines())
                         + "\n")
        for c in g.get("claims", []):
            if c["status"] != "supported" or c.get("shown") is False:
                held = "held back, " if c.get("shown") is False and not r.get("withheld") else ""
                parts.append(f"- {held}{c['status']}: \"{c['text'][:200]}\" (cites {c['cites']}, similarity "
                             f"{c['similarity']}, missing {c['missing']})")
        parts.append("")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--model", help="GGUF file")
    parser.add_argument("--endpoint", help="OpenAI-compatible URL (instead of --model)")
    parser.add_argument("--endpoint-model", default="mistral")
    parser.add_argument("--dev", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--oos", type=Path, default=OUT_OF_SCOPE)
    parser.add_argument("--k", type=int, default=AnswerSettings.k)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=AnswerSettings.max_answer_tokens)
    parser.add_argument("--threads", type=int, help="llama.cpp threads for prompt and generation (default: the "
                        "product's, all cores for the prompt and one fewer to generate)")
    parser.add_argument("--only", help="comma-separated ids to run (e.g. d01,o11,s3)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/answers.json"))
    parser.add_argument("--regrade", type=Path, help="re-check the drafts saved in this result file (no model)")
    args = parser.parse_args()

    from alpaca_index.api import DocsIndex

    index = DocsIndex(args.db, read_only=True)
    if args.regrade:
        text = args.regrade.read_text()
        saved = ({"rows": [json.loads(line) for line in text.splitlines() if line.strip()]}
                 if args.regrade.suffix == ".jsonl" else json.loads(text))  # a run's progress file works too
        # a retried answer is judged again by the model (`--model`); without one its saved check stands
        judge = LlamaCpp(args.model, threads=args.threads).judge if args.model else None
        rows = [regrade(r, index.embedder.encode, judge) for r in saved["rows"]]
        report(rows, {**saved.get("config", {}), "regraded_from": str(args.regrade)},
               args.out)
        return
    if not (args.model or args.endpoint):
        parser.error("give --model PATH.gguf or --endpoint URL")
    # seeds, then out-of-scope (mostly refused for free), then dev in file order: a run cut short
    # still covers every kind, and no question is picked by how it went
    questions = ([{"id": f"s{n}", "group": "seed", "kind": "seed", "question": q, "relevant": []}
                  for n, q in enumerate(SEED, 1)] + load(args.oos, "oos") + load(args.dev, "dev"))
    if args.only:
        wanted = set(args.only.split(","))
        questions = [q for q in questions if q["id"] in wanted]
    backend = (Endpoint(args.endpoint, args.endpoint_model) if args.endpoint
               else LlamaCpp(args.model, n_ctx=args.n_ctx, threads=args.threads))
    settings = AnswerSettings(model_path=args.model, endpoint=args.endpoint, k=args.k, n_ctx=args.n_ctx,
                              max_answer_tokens=args.max_tokens)
    config = {"model": Path(args.model).name if args.model else args.endpoint, "k": args.k, "n_ctx": args.n_ctx,
              "max_tokens": args.max_tokens, "db": str(args.db), "temperature": TEMPERATURE, "threads": args.threads}
    started = time.perf_counter()
    load_started = time.perf_counter()
    if args.model:
        backend.llm  # noqa: B018 - loaded once for every question (what `alpaca ask` does with several)
    config["model_load_s"] = round(time.perf_counter() - load_started, 1)
    recorder = Recorder(backend)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    progress = args.out.with_suffix(".jsonl")
    progress.write_text("")
    rows = []
    for n, q in enumerate(questions, 1):
        row = run_one(index, q, settings, recorder)
        rows.append(row)
        with progress.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"[{n}/{len(questions)} {time.perf_counter() - started:.0f}s] {q['id']} refused={row['refused']} "
              f"({row['refusal_reason']}) claims={row['supported']}/{row['claims']} total={row['total_ms']}ms",
              file=sys.stderr, flush=True)
    config["wall_s"] = round(time.perf_counter() - started, 1)
    report(rows, config, args.out)


def report(rows: list[dict], config: dict, out: Path) -> None:
    summary = summarize(rows)
    out.write_text(json.dumps({"config": config, "summary": summary, "rows": rows}, indent=1))
    print(f"## Answers: {config}\n\n```json\n{json.dumps(summary, indent=1)}\n```\n\n{table(rows)}\n\n"
          f"## Worst answers, verbatim\n\n{worst(rows)}")


if __name__ == "__main__":
    main()
