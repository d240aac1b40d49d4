"""Sentence embeddings: a local sentence-transformers folder (default: the packaged MiniLM), run
through ONNX Runtime; torch is only needed to train (`alpaca tune`), never to embed."""

from alpaca_index.embedding.embedder import Embedder
from alpaca_index.embedding.model_dir import DEFAULT_MODEL, ModelDir, ModelNotFound, resolve_model_path
from alpaca_index.embedding.onnx_export import export_onnx

__all__ = ["DEFAULT_MODEL", "Embedder", "ModelDir", "ModelNotFound", "export_onnx", "resolve_model_path"]
