"""`alpaca tune` on real docs with a tiny budget: train, re-embed, switch, search, sync, revert; and
runs killed during training and half-way through the switch leave the previous model and vectors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from alpaca_index.api import DocsIndex
from alpaca_index.embedding import DEFAULT_MODEL
from alpaca_index.embedding.tune import (
    PENDING,
    WORTH_TUNING_CHUNKS,
    TuneSettings,
    batches,
    build_pairs,
    is_tuned,
    revert,
    tune,
    tuned_path,
    worth_tuning,
)
from alpaca_index.opening import index_status
from alpaca_index.storage import summary

SCRIPT = Path(__file__).with_name("tune_run.py")
TINY = TuneSettings(max_pairs=48, batch_size=16, seed=1)


@pytest.fixture()
def sample_copy(sample_index, tmp_path):
    """A private copy of the indexed sample docs (copying the folder re-embeds nothing)."""
    db = tmp_path / "db"
    shutil.copytree(sample_index.db, db)
    return db


@pytest.fixture()
def small_index(tmp_path, embedder, docs_dir):
    db = tmp_path / "small"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    return db


def _vectors(db) -> dict[str, list[float]]:
    table = DocsIndex(db, read_only=True).store.chunks.to_arrow()
    return dict(zip(table.column("id").to_pylist(), table.column("vector").to_pylist()))


def test_tuning_is_suggested_for_a_big_index_still_on_the_packaged_model():
    assert worth_tuning(WORTH_TUNING_CHUNKS, {"tuned": False}) and worth_tuning(WORTH_TUNING_CHUNKS, None)
    assert not worth_tuning(WORTH_TUNING_CHUNKS - 1, {"tuned": False})
    assert not worth_tuning(10 * WORTH_TUNING_CHUNKS, {"tuned": True, "pairs": 8000})


def test_pairs_come_from_the_docs_with_sibling_negatives(sample_index):
    rows = sample_index.store.chunks.to_arrow().select(["path", "title", "heading_path", "text", "kind"]).to_pylist()
    pairs = build_pairs(rows, max_pairs=10_000, seed=0)
    kinds = {p.kind for p in pairs}
    assert kinds == {"section", "title"}
    headings, paths = defaultdict(set), defaultdict(set)  # a text can repeat (identical YAML samples)
    for r in rows:
        headings[r["text"]].add(r["heading_path"])
        paths[r["text"]].add(r["path"])
    sections = [p for p in pairs if p.kind == "section"]
    for pair in sections:  # the anchor is the positive's own heading path; the negative is a neighbour
        assert pair.anchor in headings[pair.positive]
        assert pair.negative != pair.positive
    same_page = sum(bool(paths[p.negative] & paths[p.positive]) for p in sections)
    assert same_page >= len(sections) // 2
    capped = build_pairs(rows, max_pairs=40, seed=0)
    assert len(capped) == 40 and sum(p.kind == "title" for p in capped) == 20  # both kinds, balanced
    for batch in batches(pairs, 16):
        texts = [t for p in batch for t in (p.anchor, p.positive)]
        assert len(texts) == len(set(texts))


def test_tune_switches_the_index_to_its_own_model_and_revert_goes_back(sample_copy):
    before = _vectors(sample_copy)
    index = DocsIndex(sample_copy)
    seen = []
    report = tune(index.db, index.store, index.embedder, TINY, lambda *event: seen.append(event[0]))
    assert {"train", "embed", "commit"} <= set(seen)
    assert report.steps == report.planned_steps >= 2 and report.loss_last is not None
    index.status()  # this object still embeds with the packaged model: it must not record the tuned index
    assert summary.load(sample_copy) is None

    reopened = DocsIndex(sample_copy)
    status = reopened.status()
    assert index_status(sample_copy) == status and summary.load(sample_copy) is not None  # `alpaca status`
    assert is_tuned(status["model"]) and status["model_info"]["tuned"] and status["model_info"]["pairs"] == report.pairs > 20
    model_dir = tuned_path(sample_copy, status["model"])
    assert (model_dir / "modules.json").is_file() and json.loads((model_dir / "alpaca_tune.json").read_text())["steps"]
    after = _vectors(sample_copy)
    assert after.keys() == before.keys()
    moved = [1 - float(np.dot(before[i], after[i])) for i in before]
    assert np.median(moved) > 1e-4  # every chunk was re-embedded by the new model
    # the query is embedded by the same model as the chunks: a chunk's own text finds that chunk
    row = reopened.store.chunks.to_arrow().slice(5, 1).to_pylist()[0]
    assert reopened.embedder.name == status["model"]
    assert abs(float(np.dot(reopened.embedder.encode([row["embed_text"]])[0], after[row["id"]])) - 1) < 1e-3
    hits = reopened.search_files("scale an asynchronous endpoint down to zero instances", k=5)
    assert any("async" in h.path for h in hits)

    back = revert(reopened.db, reopened.store)
    assert back.encoded == 0 and back.reused_vectors > 0  # the kept packaged vectors, nothing re-encoded
    final = DocsIndex(sample_copy)
    assert final.embedder.name == DEFAULT_MODEL and not final.status()["model_info"]["tuned"]
    assert index_status(sample_copy) == final.status()
    assert not (sample_copy / "tuned").exists()
    restored = _vectors(sample_copy)
    assert all(np.allclose(restored[i], before[i], atol=1e-6) for i in before)


def test_sync_after_tune_embeds_new_pages_with_the_tuned_model(small_index, docs_dir):
    index = DocsIndex(small_index)
    tune(index.db, index.store, index.embedder, TINY)
    tuned = DocsIndex(small_index)
    (docs_dir / "tuned-note.md").write_text("# Tuning note\n\nAlpaca adapted its search model to these pages "
                                            "without any labels, from headings and their sections.\n")
    report = tuned.sync([docs_dir])
    assert report.added == ["tuned-note.md"] and report.chunks_encoded >= 1
    rows = [r for r in tuned.store.chunks.to_arrow().to_pylist() if r["path"] == "tuned-note.md"]
    fresh = tuned.embedder.encode([r["embed_text"] for r in rows])
    assert all(float(np.dot(f, r["vector"])) > 0.999 for f, r in zip(fresh, rows))
    assert tuned.search_files("adapted search model without labels", k=1)[0].path == "tuned-note.md"


def _run_and_kill(db: Path, stage: str, nth: int) -> None:
    """Start a tune that pauses forever once it reports `stage` `nth` times, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(db), stage, str(nth)], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        for line in proc.stdout:
            if line.strip() == "paused":
                break
        else:
            pytest.fail(f"tune finished or died before pausing at {stage} #{nth} (exit {proc.wait()})")
    finally:
        proc.kill()
        proc.wait()


def test_killed_tune_leaves_the_previous_model_and_vectors(small_index):
    before = _vectors(small_index)
    _run_and_kill(small_index, "train", 2)
    index = DocsIndex(small_index)
    assert index.embedder.name == DEFAULT_MODEL and not index.status()["model_info"]["tuned"]
    assert _vectors(small_index) == before
    assert not any((p / "modules.json").exists() for p in (small_index / "tuned").glob("*"))
    assert index.search_files("serverless endpoint memory size", k=3)
    assert index.sync([Path(index.status()["roots"][0])]).chunks_encoded == 0  # consistent: nothing to redo


def test_a_switch_interrupted_after_the_vectors_were_written_is_rolled_back(small_index):
    """The state a kill between the chunks commit and the model's meta commit leaves (the same first
    steps `tune` takes, stopped there): opening the index rolls the vectors back."""
    before = _vectors(small_index)
    index = DocsIndex(small_index)
    store = index.store
    store.set_meta(**{PENDING: json.dumps({"chunks_version": store.chunks.version, "model": "tuned/x"})})
    table = store.chunks.to_arrow()
    flipped = np.asarray(table.column("vector").to_pylist(), dtype=np.float32)[:, ::-1].copy()
    column = pa.FixedSizeListArray.from_arrays(pa.array(flipped.reshape(-1)), flipped.shape[1])
    store.chunks.add(table.set_column(table.schema.get_field_index("vector"), "vector", column), mode="overwrite")
    store.finish()
    assert _vectors(small_index) != before

    reopened = DocsIndex(small_index)
    assert reopened.embedder.name == DEFAULT_MODEL and not reopened.store.meta().get(PENDING)
    assert _vectors(small_index) == before
    assert reopened.search_files("serverless endpoint memory size", k=3)
    assert reopened.sync([Path(reopened.status()["roots"][0])]).chunks_encoded == 0


def test_tune_cli_mistakes_are_one_line_and_exit_2(tmp_path):
    from tests.index.test_cli import alpaca

    for db, expected in ((tmp_path / "nothing-here", "no index at"), ("s3://bucket/prefix", "local index")):
        proc = alpaca("tune", "--db", str(db), "--json", check=False)
        assert proc.returncode == 2, proc.stderr
        assert expected in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_tune_cli_json_and_quiet_run_and_revert(small_index):
    """`--json` / `-q` give the tuner no progress bar: it must run without one (it once crashed)."""
    import json

    from tests.index.test_cli import alpaca

    tuned = json.loads(alpaca("tune", "--db", str(small_index), "--json", "--max-pairs", "48").stdout)
    assert tuned["report"]["pairs"] > 0 and tuned["status"]["model_info"]["tuned"]
    reverted = alpaca("tune", "--db", str(small_index), "--revert", "-q")
    assert "packaged model again" in reverted.stdout
