"""Offline switches: the docs are proprietary, so the libraries we load must never phone home."""

import os

_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "LANCE_TELEMETRY": "0",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "LANCE_LOG": "error",
}


def enforce() -> None:
    """Set the switches before sentence-transformers / huggingface_hub are imported."""
    for name, value in _SWITCHES.items():
        os.environ[name] = value
