"""The remembered answer model: one JSON file in the per-user config folder (platformdirs).

`alpaca model use` and the editor's set-up write it; `alpaca ask`, the demo and the language server read
it when no model or endpoint is given explicitly (flag, environment or editor setting). The API key is
never stored here: only the name of the environment variable that holds it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

APP = "alpaca-docs"
# keys of the `answer` section, as AnswerSettings names them
ANSWER_KEYS = ("model_path", "endpoint", "endpoint_model", "endpoint_ctx", "n_ctx")


class ConfigError(ValueError):
    """The config file can't be read or written; the message is shown to the user as is."""


def config_path() -> Path:
    if os.environ.get("ALPACA_CONFIG"):
        return Path(os.environ["ALPACA_CONFIG"]).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP, appauthor=False)) / "config.json"


def models_dir() -> Path:
    """Where downloaded GGUF files go (ALPACA_MODELS_DIR, else the per-user cache folder)."""
    if os.environ.get("ALPACA_MODELS_DIR"):
        return Path(os.environ["ALPACA_MODELS_DIR"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP, appauthor=False)) / "models"


def load() -> dict:
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return data if isinstance(data, dict) else {}


def save(data: dict) -> Path:
    """Written to a temporary file and renamed: a crash never leaves half a config."""
    path = config_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.replace(fh.name, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def answer_model() -> dict:
    """The remembered answer model as AnswerSettings fields ({} when none, or when the file is unreadable)."""
    try:
        section = load().get("answer")
    except ConfigError:
        return {}
    if not isinstance(section, dict):
        return {}
    return {k: section[k] for k in ANSWER_KEYS if section.get(k) not in (None, "")}


def use(**fields) -> Path:
    """Remember one answer model (a GGUF file, or an endpoint with its model name); replaces the previous one."""
    data = load()
    data["answer"] = {k: v for k, v in fields.items() if k in ANSWER_KEYS and v not in (None, "")}
    return save(data)


def forget() -> Path:
    data = load()
    data.pop("answer", None)
    return save(data)
