"""Shared-index fixtures: a real S3-compatible server (moto) on 127.0.0.1 and real LanceDB on it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DOCS

PAGES = ["async-inference-autoscale.md", "model-ab-testing.md", "inference-pipelines.md", "serverless-endpoints.md"]
BUCKET = "alpaca-team"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Moto:
    """`python -m moto.server` on a free loopback port; stop() takes the store offline."""

    def __init__(self, log: Path):
        pytest.importorskip("moto.server", reason="needs the test extra moto[server]")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def team_env(moto: Moto, cache_dir: Path, **extra: str) -> dict:
    """The environment of a team member's process: dummy credentials through the standard AWS
    variables, a US region, the S3-compatible endpoint, a private cache folder, no model."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "ALPACA_"))}
    home_config = cache_dir.parent / "aws-config"  # never the developer's ~/.aws
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
               AWS_CONFIG_FILE=str(home_config), AWS_SHARED_CREDENTIALS_FILE=str(home_config),
               ALPACA_S3_ENDPOINT=moto.endpoint, ALPACA_CACHE_DIR=str(cache_dir), ALPACA_CACHE_TTL="0")
    env.update(extra)
    return env


def alpaca(*args: str, env: dict, check: bool = True, timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from alpaca_index.cli import main; main()", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def alpaca_json(*args: str, env: dict) -> dict:
    return json.loads(alpaca(*args, "--json", env=env).stdout)


def copy_pages(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in PAGES:
        shutil.copy(SAMPLE_DOCS / "sagemaker-dg" / name, target / name)
    return target


@pytest.fixture(scope="package")
def moto(tmp_path_factory):
    server = Moto(tmp_path_factory.mktemp("moto") / "moto.log")
    server.client().create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="package")
def shared(moto, tmp_path_factory):
    """A shared index on s3, built by the writer (`alpaca index --db s3://…`) from a few sample pages."""
    base = tmp_path_factory.mktemp("team")
    docs = copy_pages(base / "docs")
    uri = f"s3://{BUCKET}/team-index"
    env = team_env(moto, base / "writer-cache")
    out = alpaca_json("index", str(docs), "--db", uri, "-q", env=env)
    assert out["status"]["files"] == len(PAGES) and out["status"]["db"] == uri
    return {"uri": uri, "docs": docs, "base": base, "writer_env": env, "status": out["status"]}
