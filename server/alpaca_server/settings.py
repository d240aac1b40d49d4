"""Client settings (section `alpaca`) → a validated `Settings`; docs roots and index path resolved.

Settings arrive from initializationOptions and workspace/didChangeConfiguration, either wrapped
in `{"alpaca": {...}}` or flat. Unknown keys are ignored; wrong types fall back to defaults and are
reported back as warnings, never as a crash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from alpaca_index.team.residency import is_remote_uri

SECTION = "alpaca"
DEFAULT_RESULTS = 5
DEFAULT_DEBOUNCE_MS = 250


@dataclass(frozen=True)
class Settings:
    docs_paths: tuple[str, ...] = ()
    index_path: str = ""
    model_path: str = ""  # generation model (GGUF) for answers
    endpoint_url: str = ""  # OpenAI-compatible endpoint for answers
    endpoint_model: str = ""  # the model name sent to the endpoint ("" = the answer path's default)
    endpoint_context: int = 0  # the endpoint model's context size in tokens (0 = the answer path's default)
    allow_remote: bool = False
    results_count: int = DEFAULT_RESULTS
    hover: bool = True
    embedding_model: str = ""  # not in the contract; "" = the index default
    debounce_ms: int = DEFAULT_DEBOUNCE_MS
    watch: bool = True  # not in the contract: off = only didSave/didChangeWatchedFiles trigger syncs
    # multi-root workspaces: each folder's own docsPaths (resource-scoped), relative to that folder
    folders: tuple[tuple[str, tuple[str, ...]], ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def backend(self) -> str:
        name = self._destination()[0]
        return "openai" if name == "endpoint" else name

    @property
    def egress(self) -> str:
        return self._destination()[1]

    def _destination(self) -> tuple[str, str]:
        """The answer path's own rule (an endpoint wins over a model file), so status never differs from it."""
        from alpaca_index.answer import destination

        return destination(self.answer_settings())

    def answer_settings(self, k: int | None = None):
        """What answers use, resolved by the answer module's one rule: the editor's settings, then the
        server's environment (ALPACA_MODEL, ALPACA_THREADS, ALPACA_API_KEY set by the editor from its
        secret storage, ...), then the model chosen with `alpaca model use` or the editor's set-up."""
        from alpaca_index.answer import AnswerSettings

        return AnswerSettings.from_env(model_path=self.model_path or None, endpoint=self.endpoint_url or None,
                                       endpoint_model=self.endpoint_model or None,
                                       endpoint_ctx=self.endpoint_context or None,
                                       allow_remote=self.allow_remote, k=k)


_KEYS = {
    "docsPaths": ("docs_paths", list), "indexPath": ("index_path", str), "modelPath": ("model_path", str),
    "endpointUrl": ("endpoint_url", str), "allowRemote": ("allow_remote", bool),
    "endpointModel": ("endpoint_model", str), "endpointContextSize": ("endpoint_context", int),
    "resultsCount": ("results_count", int), "hover": ("hover", bool),
    "embeddingModel": ("embedding_model", str), "debounceMs": ("debounce_ms", int),
    "watch": ("watch", bool),
}


def as_plain(value):
    """Namedtuples (pygls' form for untyped params) and lists of them → dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: as_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    return value


def section_of(raw) -> dict | None:
    """The `alpaca` section of a settings payload (or the payload itself if it is flat)."""
    raw = as_plain(raw)
    if not isinstance(raw, dict):
        return None
    if isinstance(raw.get(SECTION), dict):
        return raw[SECTION]
    return raw if any(k in raw for k in (*_KEYS, "folders")) else None


def parse(raw, base: Settings | None = None) -> Settings:
    """Merge a settings payload over `base`; bad values are dropped with a warning."""
    base = base or Settings()
    data = section_of(raw) or {}
    changes: dict = {}
    warnings: list[str] = []
    for key, (attr, kind) in _KEYS.items():
        if key not in data or data[key] is None:
            continue
        value = data[key]
        if kind is list:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                warnings.append(f"setting alpaca.{key} must be a list of folder paths; ignored")
                continue
            changes[attr] = tuple(v for v in value if v.strip())
        elif kind is bool:
            if not isinstance(value, bool):
                warnings.append(f"setting alpaca.{key} must be true or false; ignored")
                continue
            changes[attr] = value
        elif kind is int:
            if attr == "endpoint_context" and value == 0:  # 0: the answer path's default
                changes[attr] = 0
                continue
            limit = 10_000_000 if attr == "endpoint_context" else 100_000  # contexts reach 128k+ tokens
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= limit:
                warnings.append(f"setting alpaca.{key} must be a positive number; ignored")
                continue
            changes[attr] = int(value)
        else:
            if not isinstance(value, str):
                warnings.append(f"setting alpaca.{key} must be a string; ignored")
                continue
            changes[attr] = value.strip()
    if "folders" in data and data["folders"] is not None:
        folders = _folders(data["folders"])
        if folders is None:
            warnings.append("setting alpaca.folders must be a list of {path, docsPaths}; ignored")
        else:
            changes["folders"] = folders
    if "results_count" in changes:
        changes["results_count"] = max(1, min(changes["results_count"], 50))
    return replace(base, warnings=tuple(warnings), **changes)


def _folders(value) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """`[{path: "/ws/a", docsPaths: ["handbook"]}, …]` (a `uri` instead of `path` is accepted too)."""
    if not isinstance(value, list):
        return None
    out = []
    for entry in value:
        if not isinstance(entry, dict):
            return None
        where, paths = entry.get("path") or entry.get("uri"), entry.get("docsPaths") or []
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(where, str) or not where or not isinstance(paths, list) \
                or not all(isinstance(p, str) for p in paths):
            return None
        if where.startswith("file:"):
            from pygls.uris import to_fs_path

            where = to_fs_path(where) or where
        out.append((where, tuple(p for p in paths if p.strip())))
    return tuple(out)


def _under(folder: Path, paths) -> list[Path]:
    out = []
    for p in paths:
        path = Path(p).expanduser()
        out.append((path if path.is_absolute() else folder / path).resolve())
    return out


def _default_root(folder: Path) -> Path:
    docs = folder / "docs"
    return (docs if docs.is_dir() else folder).resolve()


def resolve_docs_roots(settings: Settings, folders: list[Path]) -> list[Path]:
    """Per-folder docs paths when the client sends them (multi-root: each folder's own setting,
    relative to that folder); else configured docs paths (relative ones against the first workspace
    folder); else each workspace folder's `docs/` folder if present, else the folder itself.
    All roots go into the one index of this workspace."""
    if settings.folders:
        given = {Path(p).expanduser().resolve(): paths for p, paths in settings.folders}
        roots = []
        for folder in [f.resolve() for f in folders] or list(given):
            paths = given.get(folder, ())
            roots.extend(_under(folder, paths) if paths else [_default_root(folder)])
        return list(dict.fromkeys(roots))
    if settings.docs_paths:
        return list(dict.fromkeys(_under(folders[0] if folders else Path.cwd(), settings.docs_paths)))
    return list(dict.fromkeys(_default_root(folder) for folder in folders))


def resolve_index_path(settings: Settings, folders: list[Path], roots: list[Path]) -> str | Path:
    """indexPath if given (the client passes its workspace storage; an `s3://` URI is a shared index,
    kept as is), else `<workspace>/.alpaca`, else a per-docs-set folder in the user cache."""
    if is_remote_uri(settings.index_path):
        return settings.index_path
    if settings.index_path:
        path = Path(settings.index_path).expanduser()
        if not path.is_absolute() and folders:
            path = folders[0] / path
        return path.resolve()
    if folders:
        return (folders[0] / ".alpaca").resolve()
    key = hashlib.sha1("\n".join(str(r) for r in roots).encode()).hexdigest()[:12]
    return Path.home() / ".cache" / "alpaca-docs" / key
