"""Sentence embeddings through ONNX Runtime, from a local sentence-transformers folder.

Nothing heavy happens at construction: the vector size and identity come from the folder's small
files, so opening an index, `status` and a sync with nothing to encode never load a model. The
tokenizer loads on the first token count, the network on the first encode.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from alpaca_index.embedding.model_dir import DEFAULT_MODEL, INT8, ModelDir

if TYPE_CHECKING:
    from onnxruntime import InferenceSession, RunOptions
    from tokenizers import Tokenizer


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class Embedder:
    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, int8: bool = False,
                 threads: int | None = None):
        self.int8 = int8  # dynamic int8 weights: faster on CPU, vectors differ (see bench/RESULTS.md)
        self.name = f"{model}+int8" if int8 else model
        self.model_dir = ModelDir.open(model)
        self.path = self.model_dir.path
        self.batch_size = batch_size
        self.threads = threads or _cores()
        self._session: InferenceSession | None = None
        self._shrink: RunOptions | None = None  # the last batch of an encode() runs with it
        self._tokenizers: dict[bool, Tokenizer] = {}
        self._lock = threading.Lock()
        self.encoded_count = 0  # texts actually sent through the network (tests assert on it)

    # -- what the index records, without loading anything -------------------------------------
    @property
    def dim(self) -> int:
        return self.model_dir.dim

    @property
    def max_tokens(self) -> int:
        return self.model_dir.max_tokens

    @property
    def identity(self) -> str:
        """Which vectors this embedder makes; an index made by another identity is re-embedded."""
        return self.model_dir.identity(INT8 if self.int8 else "fp32")

    @property
    def loaded(self) -> bool:
        return self._session is not None

    # -- tokens ----------------------------------------------------------------------------------
    def _tokenizer(self, for_model: bool) -> Tokenizer:
        """Two configurations of the model's own tokenizer: plain counts for chunking, and the
        model's input (special tokens, truncation to the window, padding to the batch's longest)."""
        with self._lock:
            tokenizer = self._tokenizers.get(for_model)
            if tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                if for_model:
                    tokenizer.enable_truncation(max_length=self.max_tokens)
                    pad = tokenizer.token_to_id("[PAD]")
                    tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
                self._tokenizers[for_model] = tokenizer
            return tokenizer

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(enc.ids) for enc in self._tokenizer(False).encode_batch(texts, add_special_tokens=False)]

    # -- vectors ---------------------------------------------------------------------------------
    def session(self) -> InferenceSession:
        """The ONNX Runtime session (exporting the model on first use), shared by queries and bulk work."""
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                from alpaca_index.embedding.onnx_export import export_onnx

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # idle pool threads must not spin: they would steal the cores LanceDB's full-text
                # search runs on during a query (spinning: query p50 +50% on 2 busy cores)
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._session = ort.InferenceSession(str(export_onnx(self.model_dir, self.int8)), options,
                                                     providers=["CPUExecutionProvider"])
                # ONNX Runtime's arena keeps the peak of the largest batch (32 × 256 tokens: 300-500 MB)
                # for the life of the process; shrinking it after the last batch of each encode()
                # gives that back and keeps the arena's speed within the batches (no arena at all:
                # bulk encoding 35-50% slower; bench/RESULTS.md, issue 20)
                self._shrink = ort.RunOptions()
                self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
            return self._session

    def _run(self, texts: list[str], session: InferenceSession, run_options: RunOptions | None = None) -> np.ndarray:
        tokenizer = self._tokenizer(True)
        encoded = tokenizer.encode_batch([t.strip() for t in texts])  # sentence-transformers strips too
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        return session.run(None, {"input_ids": ids, "attention_mask": mask}, run_options)[0]

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalized float32 vectors; `progress(n)` is called after each batch."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self.session()
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths pad less
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(texts), self.batch_size):
            idx = order[begin:begin + self.batch_size]
            last = begin + self.batch_size >= len(texts)
            out[idx] = self._run([texts[i] for i in idx], session, self._shrink if last else None)
            self.encoded_count += len(idx)
            if progress:
                progress(len(idx))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One query, on every core: with onnxruntime's pool not spinning, two threads beat one
        (torch needed a one-thread query path; bench/RESULTS.md has both measured)."""
        vector = self._run([text], self.session())[0]
        self.encoded_count += 1
        return vector
