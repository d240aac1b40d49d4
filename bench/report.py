"""Builds RESULTS.md and PNG charts from the JSON results of bench/run.py."""

from __future__ import annotations

import json
from pathlib import Path


def _load(results: Path, name: str, suffix: str) -> dict | None:
    path = results / f"{name}{suffix}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def _quality_rows(quality: dict) -> list[dict]:
    return [{"variant": name, "hit@5": q["hit@5"], "recall@5": q["recall@5"], "MRR@10": q["mrr@10"],
             "misses@5": ", ".join(q.get("misses@5", [])) or "-", "chunks": q.get("chunks", "")}
            for name, q in quality.items()]


def _bar(path: Path, title: str, labels: list[str], series: dict[str, list[float]], ylabel: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(series))
    for n, (name, values) in enumerate(series.items()):
        xs = [i + n * width for i in range(len(labels))]
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.3g", fontsize=8)
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))], labels, rotation=12, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"![{title}]({path.name})"


def write_report(results: Path, suffix: str, out: Path) -> None:
    parts = ["# Alpaca benchmark results", "",
             f"Produced by `python bench/run.py{' --quick' if suffix else ''}`; every ratio compares numbers "
             "measured in the same run (same section). Raw numbers: `bench/results/`.", ""]
    indexing = _load(results, "indexing", suffix)
    machine = next((d["machine"] for d in [indexing, *(_load(results, n, suffix) for n in
                    ("quality", "ablations", "answers", "server", "search"))] if d and "machine" in d), None)
    if machine:
        versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
        parts += [f"**Machine:** {machine['cpus']} cores ({machine['cpu']}), {machine['memory_gib']} GiB, "
                  f"Python {machine['python']}; {versions}.", ""]
    if indexing and "skipped" not in indexing:
        a, o, r = indexing["alpaca"], indexing["original"], indexing["ratios"]
        parts += ["## Indexing and retrieval vs the original stack (LangChain + Chroma)", "",
                  f"{a['pages']} pages. Original stack: RecursiveCharacterTextSplitter 500/50, all-MiniLM-L6-v2 "
                  "via HuggingFaceEmbeddings, Chroma, similarity_search k=4.", "",
                  _table([
                      {"measure": "cold index (s)", "Alpaca": a["cold_index_s"], "original": o["index_s"],
                       "ratio": f"{r['index_speedup_vs_original']}× faster"},
                      {"measure": "chunks", "Alpaca": a["chunks"], "original": o["chunks"], "ratio": ""},
                      {"measure": "Alpaca cold index / encode-only", "Alpaca": a["encode_only_s"], "original": "",
                       "ratio": f"{r['cold_vs_encode_only']}× (goal ≤ 1.1)"},
                      {"measure": "query p50 / p95 (ms)", "Alpaca": f"{a['query']['p50_ms']} / {a['query']['p95_ms']}",
                       "original": f"{o['query']['p50_ms']} / {o['query']['p95_ms']}",
                       "ratio": f"{r['query_p50_vs_original']}×"},
                      {"measure": "re-sync, nothing changed (s)", "Alpaca": a["resync_no_change_s"], "original": "",
                       "ratio": "goal ≤ 2"},
                      {"measure": "edited page searchable p50 / max (s)",
                       "Alpaca": f"{a['edit_to_searchable_p50_s']} / {a['edit_to_searchable_max_s']}",
                       "original": "", "ratio": "goal ≤ 1"},
                      {"measure": "recall@5 points vs original", "Alpaca": "", "original": "",
                       "ratio": f"+{r['recall@5_points_vs_original']}"},
                  ], ["measure", "Alpaca", "original", "ratio"]), "",
                  _table(_quality_rows(indexing["quality"]), ["variant", "hit@5", "recall@5", "MRR@10", "misses@5"]),
                  ""]
        parts.append(_bar(out.parent / f"indexing{suffix}.png", "Cold index of the corpus (s)",
                          ["Alpaca", "Alpaca encode-only", "LangChain + Chroma"],
                          {"seconds": [a["cold_index_s"], a["encode_only_s"], o["index_s"]]}, "seconds"))
        q = indexing["quality"]
        parts.append(_bar(out.parent / f"quality{suffix}.png", "Dev questions",
                          list(q), {"recall@5": [v["recall@5"] for v in q.values()],
                                    "MRR@10": [v["mrr@10"] for v in q.values()]}, "score"))
        curve = indexing["recall_curve"]
        ks = list(curve["alpaca"])
        parts.append(_bar(out.parent / f"recall_at_k{suffix}.png", "recall@k", [f"k={k}" for k in ks],
                          {"Alpaca": list(curve["alpaca"].values()), "original": list(curve["original"].values())},
                          "recall"))
        parts.append("")
    push = _load(results, "quality", suffix)
    if push and "skipped" not in push:
        parts += ["## Quality push: retrieval ideas tried on the same index", "",
                  f"{push['pages']} pages; a variant is kept only if it wins on the dev questions by more than "
                  "one question's worth (0.025). Keyword queries drop stopwords from each question "
                  f"({push['keyword_example']}).", "",
                  _table(_quality_rows(push["variants"] | push["keyword_queries"]),
                         ["variant", "hit@5", "recall@5", "MRR@10", "misses@5"]), ""]
    ablations = _load(results, "ablations", suffix)
    if ablations and "skipped" not in ablations:
        parts += ["## Ablations (chunking)", "",
                  f"{ablations['pages']} pages: every page the dev questions name plus seeded random others.", "",
                  _table(_quality_rows(ablations["chunking"]), ["variant", "hit@5", "recall@5", "MRR@10", "chunks",
                                                                "misses@5"]), ""]
    for name, title in (("answers", "Answers (llama.cpp)"), ("server", "Language server"),
                        ("search", "Query latency by stage (index API; the whole call and each stage alone)")):
        data = _load(results, name, suffix)
        if data:
            body = {k: v for k, v in data.items() if k != "machine"}
            parts += [f"## {title}", "", "```json", json.dumps(body, indent=2), "```", ""]
    out.write_text("\n".join(parts) + "\n")
