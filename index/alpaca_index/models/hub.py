"""GGUF answer models from the Hugging Face hub: size known before the download starts, resumable across
runs, checksum verified, stored as plain files in the per-user cache (models_dir()).

huggingface_hub does the HTTP work (metadata, redirects, auth headers, retries within a run); the partial
file is ours, named `<file>.incomplete` next to the target, so a download killed in one run resumes with a
Range request in the next (the hub's own cache keeps a per-process temporary file that is never resumed).
HF_ENDPOINT is read at each call, so a local stand-in of the hub can serve the files.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from alpaca_index.models.config import models_dir

# The documented default: Mistral 7B Instruct v0.2 at 4-bit (Q4_K_M, 4.37 GB), the model the answer prompt
# and its chat-template fallback were written for. A smaller one for machines with little memory.
CATALOG = {
    "mistral-7b-instruct": ("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "mistral-7b-instruct-v0.2.Q4_K_M.gguf"),
    "qwen2.5-1.5b-instruct": ("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf"),
}
DEFAULT = "mistral-7b-instruct"
GGUF_MAGIC = b"GGUF"
CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


class ModelError(RuntimeError):
    """A model can't be fetched or used; the message is shown to the user as is."""


class Cancelled(Exception):
    """The download was cancelled; the partial file stays for the next run to resume."""


@dataclass
class Remote:
    repo: str
    filename: str
    revision: str
    url: str
    size: int | None
    checksum: str | None  # the hub's etag: sha256 for LFS files, the git blob sha1 for small ones
    target: Path

    @property
    def partial(self) -> Path:
        return self.target.with_name(self.target.name + ".incomplete")

    def to_dict(self) -> dict:
        return {"repo": self.repo, "file": self.filename, "revision": self.revision, "size": self.size,
                "sha256": self.checksum if self.checksum and _SHA256.match(self.checksum) else None,
                "path": str(self.target)}


def resolve(spec: list[str]) -> tuple[str, str]:
    """`[]` → the default; `[NAME]` → a catalog entry; `[REPO, FILE]` → that file."""
    if not spec:
        return CATALOG[DEFAULT]
    if len(spec) == 1:
        if spec[0] in CATALOG:
            return CATALOG[spec[0]]
        raise ModelError(f"unknown model {spec[0]!r}: use one of {', '.join(CATALOG)} or give REPO FILE "
                         "(e.g. TheBloke/Mistral-7B-Instruct-v0.2-GGUF mistral-7b-instruct-v0.2.Q4_K_M.gguf)")
    if len(spec) == 2 and spec[0].count("/") == 1 and spec[1].lower().endswith(".gguf"):
        return spec[0], spec[1]
    raise ModelError("give a model name, or a hub repository and a .gguf file in it (REPO FILE)")


def _endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


@contextmanager
def _online():
    """alpaca_index switches the hub to offline mode for the whole process (documents must never
    leave); an explicit `model pull` is the one deliberate download, so only it lifts the switch."""
    from huggingface_hub import constants

    saved_env, saved, chunk = os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE, constants.DOWNLOAD_CHUNK_SIZE
    os.environ["HF_HUB_OFFLINE"], constants.HF_HUB_OFFLINE = "0", False
    # bytes reach the partial file (and the progress bar) per megabyte rather than per 10 MB: a killed
    # run loses less, and the editor's progress moves on a slow line
    constants.DOWNLOAD_CHUNK_SIZE = CHUNK
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, constants.DOWNLOAD_CHUNK_SIZE = saved, chunk
        if saved_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved_env


def _hub_error(exc: Exception, what: str) -> ModelError:
    from huggingface_hub.errors import EntryNotFoundError, GatedRepoError, RepositoryNotFoundError

    if isinstance(exc, GatedRepoError):
        return ModelError(f"{what} needs a hub login (gated repository): set HF_TOKEN")
    if isinstance(exc, EntryNotFoundError):
        return ModelError(f"{what}: no such file in the repository")
    if isinstance(exc, RepositoryNotFoundError):
        return ModelError(f"{what}: no such repository (or it is private)")
    return ModelError(f"{what}: cannot reach {_endpoint()}: {' '.join(str(exc).split())[:200]}")


def remote(repo: str, filename: str, revision: str = "main", dest: Path | None = None) -> Remote:
    """The file's size and checksum, asked from the hub before anything is downloaded."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    endpoint = _endpoint()
    url = hf_hub_url(repo, filename, revision=revision, endpoint=endpoint)
    try:
        with _online():
            meta = get_hf_file_metadata(url, endpoint=endpoint)
    except Exception as exc:  # noqa: BLE001 - hub, HTTP and network errors all become one line
        raise _hub_error(exc, f"{repo}/{filename}") from None
    target = (dest or models_dir()) / repo.replace("/", "--") / filename
    return Remote(repo, filename, revision, meta.location or url, meta.size, (meta.etag or "").lower() or None, target)


class _Counting:
    """The partial file as http_get sees it: counts bytes for the progress callback and stops on cancel."""

    def __init__(self, fh, done: int, total: int | None, on_progress, cancelled):
        self._fh, self.done, self.total = fh, done, total
        self._on_progress, self._cancelled = on_progress, cancelled

    def write(self, data: bytes) -> int:
        if self._cancelled():
            raise Cancelled()
        written = self._fh.write(data)
        self.done += len(data)
        if self._on_progress:
            self._on_progress(self.done, self.total)
        return written

    def __getattr__(self, name):  # tell, seek, truncate, flush: the real file's
        return getattr(self._fh, name)


def pull(r: Remote, on_progress: Callable[[int, int | None], None] | None = None,
         cancelled: Callable[[], bool] = lambda: False) -> Path:
    """Download `r` into its target (resuming a partial file), verify its checksum and GGUF header."""
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers, disable_progress_bars

    if r.target.is_file() and _verified(r):
        return r.target
    r.target.parent.mkdir(parents=True, exist_ok=True)
    done = r.partial.stat().st_size if r.partial.exists() else 0
    if r.size is not None and done > r.size:  # not a prefix of this file: start over
        r.partial.unlink()
        done = 0
    _check_space(r, done)
    disable_progress_bars()  # the caller shows progress (rich on the CLI, withProgress in the editor)
    try:
        with _online(), r.partial.open("ab") as fh:
            sink = _Counting(fh, done, r.size, on_progress, cancelled)
            if on_progress:
                on_progress(done, r.size)
            if r.size is None or done < r.size:
                # http_get only writes to (and asks the position of) its file: the counting wrapper will do
                http_get(r.url, cast(BinaryIO, sink), resume_size=done, headers=build_hf_headers(), expected_size=r.size,
                         displayed_filename=r.filename)
    except Cancelled:
        raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise ModelError(f"the disk is full: {r.partial.parent} ran out of space while downloading "
                             f"{r.filename}; free some space and run again to resume") from None
        raise ModelError(f"download of {r.filename} broke off ({_short(exc)}); run again to resume") from None
    except Exception as exc:  # noqa: BLE001 - network errors from the HTTP client
        raise ModelError(f"download of {r.filename} broke off ({_short(exc)}); run again to resume") from None
    _verify(r)
    os.replace(r.partial, r.target)
    _checksum_file(r.target).write_text(r.checksum or "", encoding="utf-8")
    return r.target


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _check_space(r: Remote, done: int) -> None:
    if r.size is None:
        return
    free = shutil.disk_usage(r.target.parent).free
    if free < r.size - done:
        raise ModelError(f"not enough disk space for {r.filename}: {human(r.size - done)} needed, "
                         f"{human(free)} free in {r.target.parent}")


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha")


def _verified(r: Remote) -> bool:
    """Already downloaded and verified against the same checksum (re-hashing 4 GB each time is slow)."""
    mark = _checksum_file(r.target)
    return mark.is_file() and mark.read_text(encoding="utf-8").strip() == (r.checksum or "")


def _verify(r: Remote) -> None:
    size = r.partial.stat().st_size
    if r.size is not None and size != r.size:
        raise ModelError(f"download of {r.filename} is incomplete ({size} of {r.size} bytes); run again to resume")
    if r.checksum and (_SHA256.match(r.checksum) or _SHA1.match(r.checksum)):
        actual = file_digest(r.partial, "sha256" if _SHA256.match(r.checksum) else "git-sha1")
        if actual != r.checksum:
            r.partial.unlink()  # corrupt: resuming it could never succeed
            raise ModelError(f"checksum mismatch for {r.filename}: expected {r.checksum[:16]}…, got {actual[:16]}…; "
                             "the broken download was removed, run again")
    with r.partial.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            r.partial.unlink()
            raise ModelError(f"{r.repo}/{r.filename} is not a GGUF model file; removed")


def file_digest(path: Path, kind: str = "sha256") -> str:
    h = hashlib.sha256() if kind == "sha256" else hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def check_gguf(path: Path) -> Path:
    """A usable local GGUF file, or a ModelError saying why not."""
    path = path.expanduser()
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ModelError(f"not a GGUF model file: {path}")
    return path.resolve()


def local_models(root: Path | None = None) -> list[dict]:
    """Downloaded models (and partial downloads) in the models folder."""
    root = root or models_dir()
    found = []
    for path in sorted(root.glob("*/*.gguf*")) if root.is_dir() else []:
        if path.suffix == ".gguf" or path.name.endswith(".gguf.incomplete"):
            complete = path.suffix == ".gguf"
            found.append({"name": path.name.removesuffix(".incomplete"), "repo": path.parent.name.replace("--", "/", 1),
                          "path": str(path), "size": path.stat().st_size, "complete": complete})
    return found


def human(size: int | None) -> str:
    if size is None:
        return "unknown size"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    return f"{value} GB"
