"""`alpaca model pull` against a local stand-in of the hub (HF_ENDPOINT): size first, resumes, verifies."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from alpaca_index.models import config, hub
from tests.models.conftest import alpaca
from tests.models.standins import FakeHub

REPO, FILE = "someone/tiny-GGUF", "tiny.Q4_K_M.gguf"


def test_pull_shows_size_then_downloads_verifies_and_remembers(gguf_bytes, monkeypatch):
    with FakeHub({(REPO, FILE): gguf_bytes}) as server:
        proc = alpaca("model", "pull", REPO, FILE, "--json", env={"HF_ENDPOINT": server.url})
    out = json.loads(proc.stdout)
    target = config.models_dir() / "someone--tiny-GGUF" / FILE
    assert out["path"] == str(target) and target.read_bytes() == gguf_bytes
    assert out["size"] == len(gguf_bytes) and out["sha256"] == hashlib.sha256(gguf_bytes).hexdigest()
    assert f"{len(gguf_bytes) / 1e6:.2f} MB → {target}" in " ".join(proc.stderr.split())  # before the download
    assert [r["method"] for r in server.requests][0] == "HEAD"
    assert config.answer_model() == {"model_path": str(target)}  # remembered: the answer path reads it
    from alpaca_index.answer import AnswerSettings, destination
    assert AnswerSettings.from_env().model_path == str(target)
    assert destination(AnswerSettings.from_env())[0] == "llama.cpp"
    monkeypatch.setenv("ALPACA_MODEL", "/elsewhere.gguf")  # an explicit choice still wins
    assert AnswerSettings.from_env().model_path == "/elsewhere.gguf"


def test_a_dropped_connection_resumes_from_the_partial_file(gguf_bytes, monkeypatch):
    with FakeHub({(REPO, FILE): gguf_bytes}, drop_after=1_500_000) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        path = hub.pull(hub.remote(REPO, FILE))
    assert path.read_bytes() == gguf_bytes
    assert server.ranges() == [None, f"bytes={hub.CHUNK}-"]  # the second request asks only for the rest


def test_a_killed_download_resumes_in_the_next_run(gguf_bytes, monkeypatch):
    target = config.models_dir() / "someone--tiny-GGUF" / FILE
    partial = target.with_name(FILE + ".incomplete")
    with FakeHub({(REPO, FILE): gguf_bytes}, stall_after=1_500_000) as server:
        cmd = [sys.executable, "-c", "from alpaca_index.cli import main; main()", "model", "pull", REPO, FILE]
        run = subprocess.Popen(cmd, env={**os.environ, "HF_ENDPOINT": server.url},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (partial.exists() and partial.stat().st_size >= hub.CHUNK) and time.monotonic() < deadline:
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
        run.wait()
        kept = partial.stat().st_size
        assert kept >= hub.CHUNK and not target.exists()
        assert "partial" in alpaca("model", "list").stdout  # shown as resumable
        server.release.set()
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        path = hub.pull(hub.remote(REPO, FILE))
    assert path.read_bytes() == gguf_bytes and not partial.exists()
    assert server.ranges()[-1] == f"bytes={kept}-"


def test_a_checksum_mismatch_is_refused_and_nothing_is_kept(gguf_bytes):
    with FakeHub({(REPO, FILE): gguf_bytes}, wrong_sha=True) as server:
        proc = alpaca("model", "pull", REPO, FILE, env={"HF_ENDPOINT": server.url}, check=False)
    assert proc.returncode == 1 and "checksum mismatch" in proc.stderr
    assert not any(config.models_dir().rglob("*.gguf*")) and config.answer_model() == {}


def test_a_file_that_is_not_gguf_is_refused(monkeypatch):
    with FakeHub({(REPO, FILE): b"<html>login required</html>" * 100}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        with pytest.raises(hub.ModelError, match="not a GGUF"):
            hub.pull(hub.remote(REPO, FILE))
    assert not any(config.models_dir().rglob("*.gguf*"))


def test_missing_file_and_bad_names_are_one_line(gguf_bytes):
    with FakeHub({(REPO, FILE): gguf_bytes}) as server:
        proc = alpaca("model", "pull", REPO, "other.gguf", env={"HF_ENDPOINT": server.url}, check=False)
    assert proc.returncode == 1 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
    proc = alpaca("model", "pull", "no-such-model", check=False)
    assert proc.returncode == 2 and "unknown model" in proc.stderr


def test_not_enough_disk_space_is_said_before_downloading(gguf_bytes, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    with FakeHub({(REPO, FILE): gguf_bytes}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        with pytest.raises(hub.ModelError, match="not enough disk space"):
            hub.pull(hub.remote(REPO, FILE))
    assert server.ranges() == []


def test_cancel_keeps_the_partial_file_for_later(gguf_bytes, monkeypatch):
    with FakeHub({(REPO, FILE): gguf_bytes}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        remote = hub.remote(REPO, FILE)
        seen = []
        with pytest.raises(hub.Cancelled):
            hub.pull(remote, on_progress=lambda done, total: seen.append(done), cancelled=lambda: len(seen) > 1)
        assert remote.partial.stat().st_size == hub.CHUNK
        hub.pull(remote)
    assert remote.target.read_bytes() == gguf_bytes and server.ranges()[-1] == f"bytes={hub.CHUNK}-"


def test_use_refuses_a_non_gguf_file_and_accepts_a_gguf(tmp_path, gguf_bytes):
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    proc = alpaca("model", "use", str(bad), check=False)
    assert proc.returncode == 2 and "not a GGUF" in proc.stderr and config.answer_model() == {}
    good = tmp_path / "good.gguf"
    good.write_bytes(gguf_bytes[:64])
    out = json.loads(alpaca("model", "use", str(good), "--json").stdout)
    assert out["answer"] == {"model_path": str(good)}
    assert json.loads(alpaca("model", "use", "--none", "--json").stdout)["answer"] == {}


@pytest.fixture()
def small_disk(tmp_path):
    """A real 2 MB file system (tmpfs; needs root), so a 3 MB download runs out of space midway."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_disk_that_fills_up_midway_is_a_clear_error_and_keeps_the_part(gguf_bytes, small_disk, monkeypatch):
    import shutil
    from collections import namedtuple

    # the size check before starting passes (as when something else fills the disk during the download)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 0, 10**9))
    monkeypatch.setenv("ALPACA_MODELS_DIR", str(small_disk))
    with FakeHub({(REPO, FILE): gguf_bytes}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        remote = hub.remote(REPO, FILE)
        with pytest.raises(hub.ModelError, match="disk is full"):
            hub.pull(remote)
    assert 0 < remote.partial.stat().st_size < len(gguf_bytes) and not remote.target.exists()
