"""`alpaca tune`: adapt the embedding model to the indexed docs, with no labels and no network.

Training pairs come from the index itself: a section's heading path → its text, a page's title → its
opening; the hard negative of each pair is a sibling (another section of the same page, or the
opening of a page whose file name shares the prefix: `x-console.md` for `x.md`). The packaged MiniLM
is fine-tuned on them with sentence-transformers' MultipleNegativesRankingLoss (the other texts of a
batch are negatives too), every chunk is re-embedded, and the new vectors and the model switch are
committed together. The model is saved inside the index folder (`tuned/<name>/`, a normal
sentence-transformers directory with `alpaca_tune.json` saying what it was trained on); later syncs
embed with it, `alpaca status` names it, and `alpaca tune --revert` goes back to the packaged model
(its vectors are kept aside, so that is quick).

Crash safety: nothing in the index changes until training and re-embedding are done. The switch
writes a `tune_pending` marker, overwrites the chunks table in one commit, rebuilds its full-text
index and then records the new model and clears the marker in one meta commit. An index opened with
the marker still set was interrupted mid-switch and is rolled back to the chunks version the marker
names: a killed run leaves the previous model and vectors in use. A run stopped on purpose (the
`cancelled` callback, polled between training steps and encoding batches) ends the same way, sooner:
it raises `TuneCancelled` before the switch and leaves the index untouched.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeGuard

import numpy as np
import pyarrow as pa

from alpaca_index.embedding import DEFAULT_MODEL, Embedder, resolve_model_path
from alpaca_index.storage.store import IndexCorrupt, Store

TUNED_DIR = "tuned"  # inside the index folder
TUNED_PREFIX = "tuned/"  # how the meta table names a tuned model
BASE_VECTORS = "base_vectors"  # the packaged model's vectors by text hash, kept for --revert
PENDING = "tune_pending"
INFO_FILE = "alpaca_tune.json"
MIN_WORDS = 12  # a positive shorter than this teaches nothing about the section

Progress = Callable[[str, int, int, str], None]
Cancelled = Callable[[], bool]  # polled between steps: True stops the run before it changes anything


class TuneCancelled(Exception):
    """The run was stopped on request; the index still uses the model and vectors it had."""


@dataclass(frozen=True)
class TuneSettings:
    max_pairs: int = 8000  # ~45 min train + re-embed of ~16k chunks on 2 quiet cores (estimate, not measured)
    epochs: int = 1
    batch_size: int = 32
    max_seq_length: int = 128  # training only; the saved model keeps the packaged window
    learning_rate: float = 3e-5
    warmup: float = 0.1
    budget_seconds: float | None = None  # training stops when it has used this much time
    seed: int = 0
    device: str | None = None  # None: CUDA when present, else CPU


@dataclass
class TuneReport:
    model: str = ""
    pairs: int = 0
    steps: int = 0
    planned_steps: int = 0
    stopped_early: bool = False
    train_seconds: float = 0.0
    embed_seconds: float = 0.0
    chunks: int = 0
    reused_vectors: int = 0
    encoded: int = 0
    device: str = "cpu"
    loss_first: float | None = None
    loss_last: float | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Triplet:
    anchor: str
    positive: str
    negative: str
    kind: str  # "section" or "title"


def _noop(stage: str, done: int, total: int, current: str) -> None:
    pass


def _never() -> bool:
    return False


def _check(cancelled: Cancelled) -> None:
    if cancelled():
        raise TuneCancelled("stopped; the index still uses its previous model and vectors")


# a docs folder this big gains from the adapted model, and its half hour is worth announcing: the tip
# after `alpaca index` and the editor's one-time offer both ask `worth_tuning` (bench/RESULTS.md)
WORTH_TUNING_CHUNKS = 2000


def worth_tuning(chunks: int, info: dict | None) -> bool:
    """Whether to suggest `alpaca tune` for an index of `chunks` whose model is described by `info`
    (`model_info`): big enough, and still on the packaged model."""
    return chunks >= WORTH_TUNING_CHUNKS and not (info or {}).get("tuned")


# -- which model an index uses -----------------------------------------------------------------
def tuned_path(db: str | Path, model_id: str) -> Path:
    return Path(db) / TUNED_DIR / model_id[len(TUNED_PREFIX):]


def is_tuned(model_id: str | None) -> TypeGuard[str]:
    return model_id is not None and model_id.startswith(TUNED_PREFIX)


def recover(store: Store) -> bool:
    """Roll back a switch that was killed half-way (see the module doc). True if it did."""
    meta = store.meta()
    pending = meta.get(PENDING)
    if not pending:
        return False
    version = int(json.loads(pending)["chunks_version"])
    table = store.db.open_table("chunks")
    try:
        if table.version != version:
            table.restore(version)
    except Exception as exc:  # that version was cleaned up: the files are the truth, rebuild
        raise IndexCorrupt(f"an interrupted `alpaca tune` left vectors that cannot be rolled back: {exc}") from exc
    store.set_meta(**{PENDING: ""})
    return True


def embedder_for(db: str | Path, store: Store, requested: Embedder, read_only: bool = False) -> Embedder:
    """The tuned model when the index has one and the caller asked for the packaged default.
    A writer first rolls back a switch that was interrupted; a reader never writes."""
    if "://" in str(db) or requested.name != DEFAULT_MODEL:
        return requested
    if store.meta().get(PENDING) and not read_only:
        recover(store)
    model_id = store.meta().get("model")
    if not is_tuned(model_id):
        return requested
    path = tuned_path(db, model_id)
    if not (path / "modules.json").is_file():
        raise IndexCorrupt(f"index at {db} uses tuned model {model_id}, but {path} is missing")
    tuned = Embedder(str(path), batch_size=requested.batch_size, threads=requested.threads)
    tuned.name = model_id  # the index names it relative to itself, so the folder can move
    return tuned


def model_info(db: str | Path, model_id: str | None) -> dict:
    """What `alpaca status` says about the active model."""
    if not is_tuned(model_id):
        return {"tuned": False}
    try:
        info = json.loads((tuned_path(db, model_id) / INFO_FILE).read_text())
    except (OSError, ValueError):
        info = {}
    return {"tuned": True, **info}


# -- training pairs ----------------------------------------------------------------------------
def _prefix(path: str) -> str:
    """Pages named alike are siblings: `x-console.md` and `x-faq.md` share `x`."""
    stem = path.rsplit(".", 1)[0]
    return stem.rsplit("-", 1)[0] if "-" in stem.rsplit("/", 1)[-1] else stem


def build_pairs(rows: list[dict], max_pairs: int, seed: int = 0) -> list[Triplet]:
    """Heading path → section text and title → page opening, each with a sibling as hard negative;
    the two kinds balanced when `max_pairs` cuts."""
    rng = random.Random(seed)
    pages: dict[str, dict] = {}
    for row in rows:
        page = pages.setdefault(row["path"], {"title": None, "sections": []})
        if row["kind"] == "title":
            page["title"] = row
        elif len(row["text"].split()) >= MIN_WORDS:
            page["sections"].append(row)
    by_prefix: dict[str, list[str]] = {}
    for path in pages:
        by_prefix.setdefault(_prefix(path), []).append(path)
    openings = [p for p, page in pages.items() if page["title"] and len(page["title"]["text"].split()) >= MIN_WORDS]
    all_sections = [s for page in pages.values() for s in page["sections"]]
    if not all_sections and not openings:
        return []

    def sibling_pages(path: str) -> list[str]:
        return [p for p in by_prefix.get(_prefix(path), []) if p != path]

    def other_section(path: str, heading: str) -> str:
        same_page = [s for s in pages[path]["sections"] if s["heading_path"] != heading]
        near = same_page or [s for p in sibling_pages(path) for s in pages[p]["sections"]]
        return rng.choice(near or all_sections)["text"]

    section_pairs = [Triplet(s["heading_path"], s["text"], other_section(s["path"], s["heading_path"]), "section")
                     for page in pages.values() for s in page["sections"]]
    title_pairs = []
    for path in openings:
        near = [p for p in sibling_pages(path) if p in openings] or openings
        negative = rng.choice([p for p in near if p != path] or openings)
        title_pairs.append(Triplet(pages[path]["title"]["title"], pages[path]["title"]["text"],
                                   pages[negative]["title"]["text"], "title"))
    # a negative identical to its positive (pages repeating a sample) would be a contradiction
    section_pairs = [p for p in section_pairs if p.negative != p.positive]
    title_pairs = [p for p in title_pairs if p.negative != p.positive]
    rng.shuffle(section_pairs)
    rng.shuffle(title_pairs)
    half = max_pairs // 2
    titles = title_pairs[:max(half, max_pairs - len(section_pairs))]
    pairs = titles + section_pairs[:max_pairs - len(titles)]
    rng.shuffle(pairs)
    return pairs


def batches(pairs: list[Triplet], size: int) -> list[list[Triplet]]:
    """Batches without a repeated text: a duplicate in a batch would be scored as a wrong answer."""
    out: list[list[Triplet]] = []
    waiting = list(pairs)
    while waiting:
        batch: list[Triplet] = []
        seen: set[str] = set()
        rest: list[Triplet] = []
        for pair in waiting:
            texts = {pair.anchor, pair.positive}
            if len(batch) < size and not texts & seen:
                batch.append(pair)
                seen |= texts | {pair.negative}
            else:
                rest.append(pair)
        out.append(batch)
        waiting = rest
    return out


# -- training ----------------------------------------------------------------------------------
def pick_device(requested: str | None) -> str:
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def train(base: Path, pairs: list[Triplet], out: Path, settings: TuneSettings, report: TuneReport,
          progress: Progress = _noop, cancelled: Cancelled = _never) -> None:
    """Fine-tune `base` on `pairs` and save it to `out` (a sentence-transformers directory)."""
    import torch
    from sentence_transformers import SentenceTransformer
    try:  # sentence-transformers 6 moved the losses
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    except ImportError:  # the same class where sentence-transformers < 6 keeps it (mypy sees only the installed one)
        from sentence_transformers.losses import MultipleNegativesRankingLoss  # type: ignore[no-redef]
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(settings.seed)
    device = pick_device(settings.device)
    report.device = device
    model = SentenceTransformer(str(base), device=device)
    window = model.max_seq_length
    model.max_seq_length = settings.max_seq_length if window is None else min(window, settings.max_seq_length)
    loss_fn = MultipleNegativesRankingLoss(model)
    tokenize = getattr(model, "preprocess", None) or model.tokenize  # renamed in sentence-transformers 6
    plan = [b for _ in range(settings.epochs) for b in batches(pairs, settings.batch_size) if len(b) > 1]
    report.planned_steps = len(plan)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    schedule = get_linear_schedule_with_warmup(optimizer, int(len(plan) * settings.warmup), max(1, len(plan)))
    started = time.monotonic()
    model.train()
    with torch.enable_grad():
        for step, batch in enumerate(plan):
            _check(cancelled)
            if settings.budget_seconds is not None and time.monotonic() - started > settings.budget_seconds:
                report.stopped_early = True
                break
            features = []
            for texts in ([p.anchor for p in batch], [p.positive for p in batch], [p.negative for p in batch]):
                tokens = tokenize(texts)
                features.append({k: v.to(device) if hasattr(v, "to") else v for k, v in tokens.items()})
            loss = loss_fn(features, torch.zeros(len(batch), device=device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            value = float(loss.detach())
            report.loss_first = value if report.loss_first is None else report.loss_first
            report.loss_last = value
            report.steps = step + 1
            progress("train", step + 1, len(plan), f"loss {value:.3f}")
    report.train_seconds = time.monotonic() - started
    model.eval()
    model.max_seq_length = window
    model.save(str(out))


# -- switching the index's vectors -------------------------------------------------------------
def _chunk_rows(store: Store) -> pa.Table:
    return store.chunks.to_arrow()


def _with_vectors(table: pa.Table, vectors: dict[str, np.ndarray], dim: int) -> pa.Table:
    hashes = table.column("text_hash").to_pylist()
    matrix = np.stack([vectors[h] for h in hashes]).astype(np.float32) if hashes else np.zeros((0, dim), np.float32)
    column = pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), dim)
    return table.set_column(table.schema.get_field_index("vector"), "vector", column)


def _switch(store: Store, table: pa.Table, model_id: str, embedder: Embedder, progress: Progress) -> None:
    """One chunks commit with the new vectors, then one meta commit naming the model and its
    identity (weights, pooling, precision: what the index checks on open) (module doc)."""
    progress("commit", 0, 3, "")
    store.set_meta(**{PENDING: json.dumps({"chunks_version": store.chunks.version, "model": model_id})})
    progress("commit", 1, 3, "")
    store.chunks.add(table, mode="overwrite")
    store.finish()  # the full-text index again, and the versions a shared reader checks
    progress("commit", 2, 3, "")
    store.set_meta(**{"model": model_id, "model_id": embedder.identity, "dim": str(embedder.dim), PENDING: ""})
    progress("commit", 3, 3, "")


def _keep_base_vectors(store: Store, table: pa.Table) -> None:
    """The packaged model's vectors, so `--revert` re-encodes only text that changed since."""
    if BASE_VECTORS in store._names():
        store.db.drop_table(BASE_VECTORS)
    base = table.select(["text_hash", "vector"])
    hashes = base.column("text_hash").to_pylist()
    first = {h: i for i, h in reversed(list(enumerate(hashes)))}
    store.db.create_table(BASE_VECTORS, data=base.take(sorted(first.values())))


def _encode_all(embedder: Embedder, table: pa.Table, known: dict[str, np.ndarray], progress: Progress,
                report: TuneReport, cancelled: Cancelled = _never) -> dict[str, np.ndarray]:
    texts = dict(zip(table.column("text_hash").to_pylist(), table.column("embed_text").to_pylist()))
    missing = [h for h in texts if h not in known]
    report.reused_vectors = len(texts) - len(missing)
    report.encoded = len(missing)
    done = [0]

    def tick(n: int) -> None:  # after each batch: a stop request waits at most one batch
        done[0] += n
        progress("embed", done[0], len(missing), "")
        _check(cancelled)

    started = time.monotonic()
    progress("embed", 0, len(missing), "")
    vectors = embedder.encode([texts[h] for h in missing], progress=tick)
    report.embed_seconds = time.monotonic() - started
    return {**known, **dict(zip(missing, vectors))}


def _drop_unused_models(db: str | Path, active: str | None) -> None:
    """Leftovers of killed runs (one tune runs at a time: it is a user's command on their own index)."""
    keep = tuned_path(db, active) if is_tuned(active) else None
    for child in (Path(db) / TUNED_DIR).glob("*"):
        if child != keep:
            shutil.rmtree(child, ignore_errors=True)


def tune(db: str | Path, store: Store, current: Embedder, settings: TuneSettings = TuneSettings(),
         progress: Progress | None = None, cancelled: Cancelled | None = None) -> TuneReport:
    """Train a model on the index's own text, re-embed every chunk with it and switch to it.
    `cancelled()` turning true raises `TuneCancelled` before the switch (module doc)."""
    progress = progress or _noop  # the CLI passes None for --json / --quiet
    cancelled = cancelled or _never
    _check(cancelled)
    report = TuneReport()
    table = _chunk_rows(store)
    if table.num_rows == 0:
        raise ValueError("the index is empty: run `alpaca index DOCS_DIR` first")
    rows = table.select(["path", "title", "heading_path", "text", "kind"]).to_pylist()
    pairs = build_pairs(rows, settings.max_pairs, settings.seed)
    if len(pairs) < 2:
        raise ValueError("the docs give too few sections to learn from")
    report.pairs = len(pairs)
    name = time.strftime("minilm-%Y%m%d-%H%M%S")
    model_id = TUNED_PREFIX + name
    final = tuned_path(db, model_id)
    partial = final.with_name(name + ".partial")
    _drop_unused_models(db, store.meta().get("model"))
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        train(resolve_model_path(DEFAULT_MODEL), pairs, partial, settings, report, progress, cancelled)
        info = {"name": model_id, "base": DEFAULT_MODEL, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "pairs": len(pairs), "pairs_by_kind": {k: sum(p.kind == k for p in pairs) for k in ("section", "title")},
                "pages": len({r["path"] for r in rows}), "chunks": len(rows), "steps": report.steps,
                "stopped_early": report.stopped_early, "settings": asdict(settings), "device": report.device}
        (partial / INFO_FILE).write_text(json.dumps(info, indent=2))
        partial.rename(final)
        report.model = model_id
        embedder = Embedder(str(final), batch_size=current.batch_size, threads=current.threads)
        vectors = _encode_all(embedder, table, {}, progress, report, cancelled)
        report.chunks = table.num_rows
        previous = store.meta().get("model")
        _check(cancelled)  # the last moment to stop: from here on the switch runs to its end
        if not is_tuned(previous):
            _keep_base_vectors(store, table)
        _switch(store, _with_vectors(table, vectors, embedder.dim), model_id, embedder, progress)
    except BaseException:  # stopped or failed: the index still uses what it used before
        shutil.rmtree(partial, ignore_errors=True)
        if store.meta().get("model") != model_id:
            shutil.rmtree(final, ignore_errors=True)
        raise
    if is_tuned(previous):
        shutil.rmtree(tuned_path(db, previous), ignore_errors=True)
    return report


def revert(db: str | Path, store: Store, progress: Progress | None = None,
           cancelled: Cancelled | None = None) -> TuneReport:
    """Back to the packaged model: its kept vectors where the text is unchanged, new ones elsewhere."""
    progress = progress or _noop  # the CLI passes None for --json / --quiet
    cancelled = cancelled or _never
    report = TuneReport(model=DEFAULT_MODEL)
    previous = store.meta().get("model")
    if not is_tuned(previous):
        return report
    table = _chunk_rows(store)
    known: dict[str, np.ndarray] = {}
    if BASE_VECTORS in store._names():
        wanted = set(table.column("text_hash").to_pylist())
        base = store.db.open_table(BASE_VECTORS).to_arrow()
        for h, v in zip(base.column("text_hash").to_pylist(), base.column("vector").to_numpy(zero_copy_only=False)):
            if h in wanted:
                known[h] = np.asarray(v, dtype=np.float32)
    embedder = Embedder(DEFAULT_MODEL)
    vectors = _encode_all(embedder, table, known, progress, report, cancelled)
    report.chunks = table.num_rows
    _check(cancelled)
    _switch(store, _with_vectors(table, vectors, embedder.dim), DEFAULT_MODEL, embedder, progress)
    if BASE_VECTORS in store._names():
        store.db.drop_table(BASE_VECTORS)
    shutil.rmtree(Path(db) / TUNED_DIR, ignore_errors=True)
    return report
