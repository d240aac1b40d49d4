"""Shared fixtures: the real embedding model and a real LanceDB index of the bundled sample docs."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# the answer model chosen with `alpaca model use` lives in the user's config file: the suite never
# reads the developer's own choice (tests that need one write their own)
os.environ["ALPACA_CONFIG"] = str(Path(tempfile.mkdtemp(prefix="alpaca-config-")) / "config.json")

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = REPO / "samples" / "docs"
# the shared corpus sits beside the checkout; ALPACA_SHARED points elsewhere (e.g. a CI clone in /tmp)
SHARED = next((d for d in (Path(os.environ.get("ALPACA_SHARED", "")), REPO.parent / "shared", Path("/work/shared"))
               if str(d) not in ("", ".") and (d / "corpus").is_dir()), REPO.parent / "shared")
SHARED_CORPUS = SHARED / "corpus"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"


@pytest.fixture(scope="session")
def embedder():
    from alpaca_index.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embedder):
    """The sample docs indexed once per test session (read-only for tests)."""
    from alpaca_index.api import DocsIndex

    db = tmp_path_factory.mktemp("sample-index")
    index = DocsIndex(db, embedder=embedder)
    index.sync([SAMPLE_DOCS])
    return index


@pytest.fixture()
def docs_dir(tmp_path):
    """A small writable docs folder with a few real pages."""
    root = tmp_path / "docs"
    root.mkdir()
    for name in ["async-inference-autoscale.md", "model-ab-testing.md", "inference-pipelines.md",
                 "serverless-endpoints.md"]:
        shutil.copy(SAMPLE_DOCS / "sagemaker-dg" / name, root / name)
    return root
