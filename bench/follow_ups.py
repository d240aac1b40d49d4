"""Follow-up retrieval: does the follow-up's page come first (hit@1) / in the top 5 files (hit@5)
when the follow-up is searched as typed, rewritten by the rule, or rewritten by a model?

    python bench/follow_ups.py --db INDEX_OF_samples/docs [--model QWEN_OR_MISTRAL.gguf] [--json]

Conversations: bench/follow_ups.jsonl (first question, follow-up, the follow-up's page). The
"tuned" ones are those the rule was adjusted on; "held-out" ones were written before measuring.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from alpaca_index.answer.conversation import Turn, plan
from alpaca_index.api import DocsIndex

HERE = Path(__file__).resolve().parent


def rank(index, query: str, page: str) -> int | None:
    files = [h.path.rsplit("/", 1)[-1] for h in index.search_files(query, 5)]
    return files.index(page) + 1 if page in files else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--model", help="GGUF for the model's rewrite (llama.cpp)")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    index = DocsIndex(args.db)
    backend = None
    if args.model:
        from alpaca_index.answer.backends import LlamaCpp
        backend = LlamaCpp(args.model, n_ctx=args.n_ctx)
        backend.count("warm up")  # load once, outside the timings
    rows = []
    for line in (HERE / "follow_ups.jsonl").read_text().splitlines():
        conv = json.loads(line)
        history = [Turn(conv["first"])]
        row = {"id": conv["id"], "set": conv["set"], "follow_up": conv["follow_up"],
               "raw": rank(index, conv["follow_up"], conv["relevant"])}
        rule = plan(conv["follow_up"], history)
        row["rule_query"], row["rule"] = rule.query, rank(index, rule.query, conv["relevant"])
        if backend is not None:
            started = time.perf_counter()
            model = plan(conv["follow_up"], history, backend=backend, n_ctx=args.n_ctx)
            row["model_ms"] = round((time.perf_counter() - started) * 1000)
            row["model_query"], row["model_by"] = model.query, model.rewritten_by
            row["model"] = rank(index, model.query, conv["relevant"])
        rows.append(row)
    methods = ["raw", "rule"] + (["model"] if backend is not None else [])
    summary = {}
    for subset in ("tuned", "held-out"):
        part = [r for r in rows if r["set"] == subset]
        summary[subset] = {m: {"hit@1": sum(r[m] == 1 for r in part), "hit@5": sum(r[m] is not None for r in part),
                               "n": len(part)} for m in methods}
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=2))
        return
    for r in rows:
        print(f"{r['id']:4} {r['set']:8} raw={r['raw']} rule={r['rule']}"
              + (f" model={r['model']} ({r['model_ms']} ms)" if "model" in r else "")
              + f"  {r['rule_query']!r}" + (f" | model: {r['model_query']!r}" if "model" in r else ""))
    for subset, by in summary.items():
        print(subset, " · ".join(f"{m}: hit@1 {v['hit@1']}/{v['n']}, hit@5 {v['hit@5']}/{v['n']}" for m, v in by.items()))


if __name__ == "__main__":
    main()
