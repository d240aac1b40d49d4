"""int8 vs fp32 embeddings (onnxruntime dynamic quantisation, `Embedder(int8=True)`), in one run on a full index.

    nice -n 15 python bench/int8.py --db /work/indexes/full --work /tmp/h23-int8 [--out bench/results/int8.json]

--db is only read: it is copied twice into --work (removed at the end unless --keep). The fp32 copy
keeps its vectors (a no-change sync first proves the roots and ignores match the index, so nothing is
deleted); the int8 copy is opened with the int8 embedder, whose own `model_id` makes the index drop its
vectors and re-embed every chunk on the same sync (the one long step: ~16.5k chunks).

Measured, fp32 next to int8:
- bulk encoding chunks/s on the same sample of distinct chunk texts read from the index, in blocks
  whose order alternates (so a load change hits both alike);
- query encoding p50/p95 over the dev and own questions, interleaved per question;
- retrieval quality (`search_files(q, 10)`, like `alpaca eval`) on dev and own: hit@5, recall@5,
  MRR@10, and per question what int8 changed (up/down, a bootstrap CI of the MRR difference);
- vector agreement: cosine of int8 vs fp32 on the sample and on every chunk of the index (and, on
  the sample, of the per-tensor int8 graph `_quantize` made before).

"Quality holds" on a set means: hit@5 and recall@5 not lower, MRR@10 at most 0.01 lower. int8 has
no parameter chosen on the questions, so there is nothing to cross-validate.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alpaca_index.api import DocsIndex  # noqa: E402
from alpaca_index.embedding import Embedder  # noqa: E402
from alpaca_index.embedding.onnx_export import export_onnx  # noqa: E402
from alpaca_index.ingest.chunking import text_hash  # noqa: E402
from alpaca_index.retrieval.evaluation import Question, load_questions, score  # noqa: E402
from common import DEV_QUESTIONS, Timer, percentile, save  # noqa: E402
from machine import facts  # noqa: E402

OWN_QUESTIONS = Path(__file__).resolve().parent / "own_questions.jsonl"
RESULTS = Path(__file__).resolve().parent / "results" / "int8.json"
# how /work/indexes/full was built (`alpaca index CORPUS --ignore faq --ignore '/*.txt' --ignore /README.md`)
IGNORE = ["faq", "/*.txt", "/README.md"]
SEED, BLOCK = 2026, 128  # a block is 4 batches of the embedder's 32
BACKENDS = ("fp32", "int8")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message} (load {loadavg()})", file=sys.stderr, flush=True)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def stats(values: list[float]) -> dict:
    return {"p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2),
            "mean": round(float(np.mean(values)), 2), "n": len(values)}


def cosines(a: np.ndarray, b: np.ndarray) -> dict:
    """Both sides are normalised, so the row-wise dot product is the cosine."""
    cos = np.einsum("ij,ij->i", a, b)
    return {"min": round(float(cos.min()), 5), "p1": round(float(np.percentile(cos, 1)), 5),
            "median": round(float(np.median(cos)), 5), "mean": round(float(cos.mean()), 5), "n": len(cos)}


def model_files(embedders: dict[str, Embedder]) -> dict:
    """Size of each ONNX file, and the one-off export (int8: quantising the fp32 graph) when not cached."""
    out = {}
    for name, embedder in embedders.items():
        with Timer() as t:
            path = export_onnx(embedder.model_dir, embedder.int8)
        out[name] = {"mb": round(path.stat().st_size / 2**20, 1), "export_or_lookup_s": round(t.seconds, 2)}
    return out


def bulk(embedders: dict[str, Embedder], texts: list[str]) -> tuple[dict, dict[str, np.ndarray]]:
    """chunks/s of each backend on the same texts, block by block, who goes first alternating."""
    seconds = dict.fromkeys(embedders, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in embedders}
    for n, begin in enumerate(range(0, len(texts), BLOCK)):
        block = texts[begin:begin + BLOCK]
        for name in (BACKENDS if n % 2 == 0 else BACKENDS[::-1]):
            with Timer() as t:
                vectors[name].append(embedders[name].encode(block))
            seconds[name] += t.seconds
    out = {name: {"chunks": len(texts), "seconds": round(s, 1), "chunks_per_s": round(len(texts) / s, 2)}
           for name, s in seconds.items()}
    out["int8_speedup"] = round(seconds["fp32"] / seconds["int8"], 2)
    return out, {name: np.vstack(v) for name, v in vectors.items()}


def per_tensor(embedder: Embedder, texts: list[str], work: Path) -> np.ndarray:
    """Vectors of the int8 graph as it was quantised before (one scale per weight tensor), for the record."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = work / "per-tensor.onnx"
    quantize_dynamic(str(export_onnx(embedder.model_dir)), str(target), weight_type=QuantType.QInt8)
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    size = embedder.batch_size
    return np.vstack([embedder._run(texts[i:i + size], session) for i in range(0, len(texts), size)])


def queries(embedders: dict[str, Embedder], questions: list[str], repeats: int) -> dict:
    """encode_query latency in ms, the two backends interleaved per question."""
    times: dict[str, list[float]] = {name: [] for name in embedders}
    for r in range(repeats):
        for n, question in enumerate(questions):
            for name in (BACKENDS if (n + r) % 2 == 0 else BACKENDS[::-1]):
                with Timer() as t:
                    embedders[name].encode_query(question)
                times[name].append(t.seconds * 1000)
    out: dict = {name: stats(values) for name, values in times.items()}
    out["int8_p50_speedup"] = round(out["fp32"]["p50"] / out["int8"]["p50"], 2)
    return out


def paired(before: list[dict], after: list[dict], rounds: int = 2000) -> dict:
    """What int8 changed, question by question (same order on both sides)."""
    rr = np.array([a["rr"] - b["rr"] for a, b in zip(after, before)])
    recall = [a["recall"] - b["recall"] for a, b in zip(after, before)]
    rng = np.random.default_rng(SEED)
    means = [rr[rng.integers(0, len(rr), len(rr))].mean() for _ in range(rounds)]
    return {
        "mrr_diff": round(float(rr.mean()), 4),
        "mrr_diff_ci95": [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)],
        "rr_up": int((rr > 0).sum()), "rr_down": int((rr < 0).sum()), "rr_same": int((rr == 0).sum()),
        "hit_gained": [a["id"] for a, b in zip(after, before) if a["hit"] and not b["hit"]],
        "hit_lost": [a["id"] for a, b in zip(after, before) if b["hit"] and not a["hit"]],
        "recall_up": sum(d > 0 for d in recall), "recall_down": sum(d < 0 for d in recall),
        "changed": {a["id"]: [round(b["rr"], 3), round(a["rr"], 3)] for a, b in zip(after, before) if a["rr"] != b["rr"]},
    }


def quality(indexes: dict[str, DocsIndex], sets: dict[str, list[Question]]) -> dict:
    out: dict = {}
    for set_name, questions in sets.items():
        results = {name: score(questions, lambda q, i=index: [h.path for h in i.search_files(q, 10)])
                   for name, index in indexes.items()}
        row: dict = {name: {k: round(v, 4) for k, v in r.items() if k.startswith(("hit@", "recall@", "mrr@"))}
                     for name, r in results.items()}
        row["paired"] = paired(results["fp32"]["per_question"], results["int8"]["per_question"])
        f, i = row["fp32"], row["int8"]
        row["holds"] = i["hit@5"] >= f["hit@5"] and i["recall@5"] >= f["recall@5"] and i["mrr@10"] >= f["mrr@10"] - 0.01
        out[set_name] = row
    return out


def all_vectors(index: DocsIndex) -> dict[str, np.ndarray]:
    table = index.store.chunks.to_arrow().select(["text_hash", "vector"])
    return dict(zip(table.column("text_hash").to_pylist(), table.column("vector").to_numpy(zero_copy_only=False)))


def agreement(fp32: DocsIndex, int8: DocsIndex) -> dict:
    """int8 vs fp32 cosine on every chunk text both indexes hold."""
    a, b = all_vectors(fp32), all_vectors(int8)
    common = sorted(a.keys() & b.keys())
    return cosines(np.vstack([a[h] for h in common]), np.vstack([b[h] for h in common])) | {
        "only_fp32": len(a.keys() - b.keys()), "only_int8": len(b.keys() - a.keys())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a full-corpus index (read only: it is copied)")
    parser.add_argument("--work", type=Path, required=True, help="where the two copies go (must not exist)")
    parser.add_argument("--ignore", action="append", default=None, help=f"as the index was built (default {IGNORE})")
    parser.add_argument("--sample", type=int, default=1024, help="chunk texts for the bulk encoding")
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions for query encoding")
    parser.add_argument("--keep", action="store_true", help="keep the copies")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ignore = args.ignore or IGNORE
    sets = {"dev": load_questions(DEV_QUESTIONS), "own": load_questions(OWN_QUESTIONS)}
    results: dict = {"command": " ".join(sys.argv), "machine": facts(), "loadavg_start": loadavg(),
                     "nice": os.nice(0)}
    args.work.mkdir(parents=True)
    try:
        copies = {name: args.work / name for name in BACKENDS}
        for copy in copies.values():
            shutil.copytree(args.db, copy)
        embedders = {name: Embedder(int8=name == "int8") for name in BACKENDS}
        results["model_files"] = model_files(embedders)

        fp32 = DocsIndex(copies["fp32"], embedder=embedders["fp32"])
        roots = fp32.status()["roots"]
        log(f"no-change sync of the fp32 copy ({roots}, ignore {ignore})")
        check = fp32.sync(roots, ignore=ignore)
        if check.changed or check.chunks_encoded:
            raise SystemExit(f"the fp32 copy changed on sync (roots or ignores differ from the index's): {check.to_dict()}")
        results.update(roots=roots, ignore=ignore, files=fp32.status()["files"], chunks=fp32.status()["chunks"])

        texts = sorted(set(fp32.store.chunks.to_arrow().column("embed_text").to_pylist()))
        sample = random.Random(SEED).sample(texts, min(args.sample, len(texts)))
        for name, embedder in embedders.items():  # the session loads outside the timings
            with Timer() as t:
                embedder.encode(["warm up"])
            results["model_files"][name]["session_load_s"] = round(t.seconds, 2)
        log(f"bulk encoding, {len(sample)} chunk texts per backend")
        results["loadavg_bulk"] = loadavg()
        results["bulk"], vectors = bulk(embedders, sample)
        results["sample_agreement"] = {"int8_vs_fp32": cosines(vectors["fp32"], vectors["int8"])}
        stored = all_vectors(fp32)
        results["sample_agreement"]["fp32_vs_stored"] = cosines(
            vectors["fp32"], np.vstack([stored[text_hash(t)] for t in sample]))
        results["sample_agreement"]["int8_per_tensor_vs_fp32"] = cosines(
            vectors["fp32"], per_tensor(embedders["fp32"], sample, args.work))
        log("query encoding")
        results["loadavg_queries"] = loadavg()
        questions = [q.question for qs in sets.values() for q in qs]
        results["query_ms"] = queries(embedders, questions, args.repeats)

        log("re-embedding the int8 copy (the long step)")
        results["loadavg_reembed_start"] = loadavg()
        int8 = DocsIndex(copies["int8"], embedder=embedders["int8"])
        with Timer() as t:
            report = int8.sync(roots, ignore=ignore)
        results["loadavg_reembed_end"] = loadavg()
        status = int8.status()
        results["int8_reembed"] = {"rebuilt": report.rebuilt, "seconds": round(t.seconds, 1),
                                   "chunks_encoded": report.chunks_encoded, "files": status["files"],
                                   "chunks": status["chunks"], "model_id": status["model_id"],
                                   "chunks_per_s": round(report.chunks_encoded / t.seconds, 2)}
        if (status["files"], status["chunks"]) != (results["files"], results["chunks"]):
            raise SystemExit(f"the int8 copy differs from the fp32 copy: {results['int8_reembed']}")
        results["index_agreement"] = agreement(fp32, int8)
        log("retrieval quality")
        results["quality"] = quality({"fp32": fp32, "int8": int8}, sets)
        results["quality_holds_on_both"] = all(row["holds"] for row in results["quality"].values())
        results["loadavg_end"] = loadavg()
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    save(results, args.out)


if __name__ == "__main__":
    main()
