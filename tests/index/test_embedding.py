"""The ONNX Runtime embedder: its vectors are sentence-transformers' (on real chunks), a retrained
model folder is served through the same export, and an index never mixes vectors of two models."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alpaca_index.api import DocsIndex
from alpaca_index.embedding import Embedder, ModelNotFound, export_onnx, resolve_model_path
from alpaca_index.embedding.model_dir import DEFAULT_MODEL

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample_chunks(sample_index) -> list[str]:
    """Real chunks of the sample docs: the 40 longest (truncated at the model window) and 160 others."""
    texts = [r["embed_text"] for r in sample_index.store.chunks.search().select(["embed_text"]).limit(10_000).to_list()]
    texts.sort(key=len, reverse=True)
    return texts[:40] + texts[40::max(1, (len(texts) - 40) // 160)][:160]


@pytest.fixture(scope="module")
def retrained(tmp_path_factory) -> Path:
    """A sentence-transformers folder like the one `alpaca tune` saves: same architecture, other
    weights (made here with numpy, so the test needs no training), CLS pooling."""
    from safetensors.numpy import load_file, save_file

    source = resolve_model_path(DEFAULT_MODEL)
    folder = tmp_path_factory.mktemp("models") / "tuned"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("*.onnx", "onnx", "openvino", "*.bin", "*.h5"))
    weights = load_file(str(folder / "model.safetensors"))
    rng = np.random.default_rng(7)
    for name in [n for n in weights if "layer.5" in n and n.endswith("weight") and weights[n].ndim == 2]:
        weights[name] = (weights[name] * (1 + 0.05 * rng.standard_normal(weights[name].shape))).astype(np.float32)
    save_file(weights, str(folder / "model.safetensors"))
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    pooling.write_text(json.dumps(config))
    return folder


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.min(np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)))


def _sentence_transformers(folder: Path, texts: list[str]) -> np.ndarray:
    st = pytest.importorskip("sentence_transformers", reason="the `tune` extra checks the export against torch")
    model = st.SentenceTransformer(str(folder), device="cpu")
    return model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)


def test_onnx_vectors_equal_sentence_transformers_on_real_chunks(embedder, sample_chunks):
    ours = embedder.encode(sample_chunks)
    reference = _sentence_transformers(embedder.path, sample_chunks)
    assert ours.shape == reference.shape == (len(sample_chunks), 384)
    assert _min_cosine(ours, reference) >= 0.9999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_a_retrained_model_folder_is_exported_and_served_the_same_way(retrained, embedder, sample_chunks):
    tuned = Embedder(str(retrained))
    assert tuned.identity != embedder.identity and " cls " in tuned.identity
    path = export_onnx(retrained)
    assert path.is_file() and path != export_onnx(embedder.path)
    texts = sample_chunks[:48]
    ours = tuned.encode(texts)
    assert _min_cosine(ours, embedder.encode(texts)) < 0.999  # really another model
    assert _min_cosine(ours, _sentence_transformers(retrained, texts)) >= 0.9999


def test_a_query_vector_equals_the_bulk_vector(embedder):
    query = "How do I scale an asynchronous inference endpoint to zero?"
    assert np.allclose(embedder.encode_query(query), embedder.encode([query])[0], atol=1e-5)
    assert np.allclose(embedder.encode_query("  padded  "), embedder.encode(["padded"])[0], atol=1e-6)


def test_construction_and_open_load_no_model(tmp_path, docs_dir):
    fresh = Embedder()
    index = DocsIndex(tmp_path / "db", embedder=fresh)
    assert index.status()["dim"] == 384 and not fresh.loaded
    index.sync([docs_dir])
    assert fresh.loaded
    reopened = Embedder()
    index = DocsIndex(tmp_path / "db", embedder=reopened)
    report = index.sync([docs_dir])
    assert report.unchanged == 4 and not reopened.loaded, "a sync with nothing to encode loads no model"
    assert index.related(path=str(docs_dir / "model-ab-testing.md"), k=3) and not reopened.loaded
    assert index.search("autoscaling", 3) and reopened.loaded


def _stored(index: DocsIndex) -> tuple[list[str], np.ndarray]:
    rows = index.store.chunks.to_arrow().select(["embed_text", "vector"]).to_pylist()
    return [r["embed_text"] for r in rows], np.array([r["vector"] for r in rows], dtype=np.float32)


def test_another_model_re_embeds_everything_and_never_mixes(tmp_path, docs_dir, embedder, retrained):
    db = tmp_path / "db"
    DocsIndex(db, embedder=embedder).sync([docs_dir])
    tuned = Embedder(str(retrained))
    index = DocsIndex(db, embedder=tuned)
    assert index.rebuilt and index.status()["files"] == 0
    report = index.sync([docs_dir])
    texts, vectors = _stored(index)
    assert report.chunks_encoded == len(texts) == tuned.encoded_count and report.chunks_reused == 0
    assert np.allclose(vectors, tuned.encode(texts), atol=1e-5), "every stored vector is the new model's"
    assert index.status()["model_id"] == tuned.identity
    back = DocsIndex(db, embedder=embedder)  # and back: rebuilt again, not mixed
    assert back.rebuilt and back.sync([docs_dir]).chunks_reused == 0
    assert np.allclose(_stored(back)[1], embedder.encode(_stored(back)[0]), atol=1e-5)


def test_an_index_from_before_model_identities_is_adopted_or_rebuilt(tmp_path, docs_dir, embedder):
    db = tmp_path / "db"
    index = DocsIndex(db, embedder=embedder)
    index.sync([docs_dir])
    meta = index.store.db.open_table("meta")
    meta.delete("key = 'model_id'")  # what the sentence-transformers releases wrote
    before = embedder.encoded_count
    adopted = DocsIndex(db, embedder=embedder)
    assert not adopted.rebuilt and adopted.sync([docs_dir]).unchanged == 4 and embedder.encoded_count == before
    assert adopted.store.meta()["model_id"] == embedder.identity and "sentence-transformers" in adopted.store.meta()["adopted"]
    adopted.store.db.open_table("meta").delete("key = 'model_id'")
    adopted.store.set_meta(model="/some/old/model/folder")  # unknown weights: never trusted
    assert DocsIndex(db, embedder=embedder).rebuilt


def test_int8_is_its_own_model(embedder, sample_chunks):
    quantized = Embedder(int8=True)
    assert quantized.identity != embedder.identity and quantized.name.endswith("+int8")
    texts = sample_chunks[:32]
    # per-channel weight scales keep it close (per-tensor ones gave ~0.91), but never equal
    assert 0.98 < _min_cosine(quantized.encode(texts), embedder.encode(texts)) < 0.99999


def test_unusable_model_folders_fail_clearly(tmp_path):
    with pytest.raises(ModelNotFound, match="not a local sentence-transformers directory"):
        Embedder(str(tmp_path))
    folder = tmp_path / "m"
    shutil.copytree(resolve_model_path(DEFAULT_MODEL), folder, ignore=shutil.ignore_patterns("*.safetensors"))
    with pytest.raises(ModelNotFound, match="model.safetensors"):
        Embedder(str(folder)).identity  # noqa: B018


_PROBE = """
import json, sys
from alpaca_index.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    loaded = [m for m in ("torch", "sentence_transformers", "transformers", "onnxruntime", "onnx") if m in sys.modules]
    print("LOADED " + json.dumps(loaded))
"""


def _cli_modules(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.rsplit("LOADED ", 1)[1])


def test_the_cli_never_imports_torch_and_loads_the_model_only_to_encode(tmp_path, docs_dir):
    db = str(tmp_path / "db")
    first = _cli_modules("index", str(docs_dir), "--db", db, "--json")
    assert "onnxruntime" in first and set(first) <= {"onnxruntime", "onnx"}  # onnx: only to export, once
    assert _cli_modules("index", str(docs_dir), "--db", db, "--json") == []  # nothing changed
    assert _cli_modules("status", "--db", db, "--json") == []
    assert _cli_modules("related", str(docs_dir / "model-ab-testing.md"), "--db", db, "--json") == []
    assert _cli_modules("search", "autoscaling", "--db", db, "--json") == ["onnxruntime"]


_BULK_MEMORY = """
import json
from alpaca_index.embedding import Embedder

def anon_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

embedder = Embedder()
embedder.encode_query("warm up")
before = anon_mb()
embedder.encode(["alpaca " * 400] * 64)  # two full batches of the longest inputs (256 tokens)
print(json.dumps({"before": before, "after": anon_mb()}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_bulk_encoding_gives_its_peak_back():
    """ONNX Runtime's arena would keep the largest batch's buffers (~450 MB) for the life of the
    process (the language server's); it shrinks after the last batch of each encode()."""
    done = subprocess.run([sys.executable, "-c", _BULK_MEMORY], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    memory = json.loads(done.stdout.strip().splitlines()[-1])
    assert memory["after"] - memory["before"] < 80, memory
