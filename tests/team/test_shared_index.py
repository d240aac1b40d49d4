"""Shared index on an S3-compatible store: one writer, readers in other processes, residency rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.team.conftest import alpaca, alpaca_json, team_env

NEW_SECTION = ("\n\n## Quokka warm pools\n\nA quokka warm pool keeps serverless capacity provisioned so the "
               "first request after an idle period skips the cold start. Configure the quokka pool size per "
               "endpoint variant.\n")


def test_second_process_reads_the_shared_index(moto, shared):
    env = team_env(moto, shared["base"] / "reader-cache", ALPACA_CACHE="0")  # straight from the object store
    found = alpaca_json("search", "traffic split between production variants", "--db", shared["uri"], env=env)
    assert found["results"][0]["path"] == "model-ab-testing.md"
    assert found["results"][0]["start_line"] >= 1 and found["results"][0]["heading_path"]


def test_reader_sees_update_without_restart(moto, shared):
    env = team_env(moto, shared["base"] / "live-cache")
    reader = subprocess.Popen([sys.executable, str(Path(__file__).with_name("reader.py")), shared["uri"]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert json.loads(reader.stdout.readline()) == {"ready": True}, reader.stderr.read()

        def ask(query: str) -> dict:
            reader.stdin.write(query + "\n")
            reader.stdin.flush()
            line = reader.stdout.readline()
            assert line, reader.stderr.read()
            return json.loads(line)

        before = ask("quokka warm pool size")
        assert not any("quokka" in t.lower() for r in before.values() for t in r["texts"])
        assert before["direct"]["version"] == before["cached"]["version"] == shared["status"]["version"]

        page = shared["docs"] / "serverless-endpoints.md"
        page.write_text(page.read_text() + NEW_SECTION)
        report = alpaca_json("index", str(shared["docs"]), "--db", shared["uri"], "-q", env=shared["writer_env"])
        assert report["report"]["modified"] == ["serverless-endpoints.md"]

        after = ask("quokka warm pool size")  # the same processes, no restart
        for name in ("direct", "cached"):
            assert after[name]["paths"][0] == "serverless-endpoints.md", (name, after)
            assert "quokka" in after[name]["texts"][0].lower()
            assert after[name]["version"] > before[name]["version"]
        assert after["direct"]["version"] == after["cached"]["version"] == report["status"]["version"]
    finally:
        reader.stdin.close()
        reader.wait(30)


def test_status_shows_version_and_cache(moto, shared):
    env = team_env(moto, shared["base"] / "status-cache")
    status = alpaca_json("status", "--db", shared["uri"], env=env)
    assert status["db"] == shared["uri"] and status["files"] == 4
    assert isinstance(status["version"], int) and status["version"] >= shared["status"]["version"]
    assert status["cache"]["online"] is True and status["cache"]["age_seconds"] < 120
    assert Path(status["cache"]["dir"]).is_dir()


def test_non_us_region_is_refused_unless_named(moto, shared):
    env = team_env(moto, shared["base"] / "eu-cache", AWS_REGION="eu-west-1")
    proc = alpaca("search", "autoscaling", "--db", shared["uri"], env=env, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "eu-west-1" in proc.stderr and "only US regions" in proc.stderr and "--allow-region eu-west-1" in proc.stderr
    writer = alpaca("index", str(shared["docs"]), "--db", shared["uri"], env=env, check=False)
    assert writer.returncode == 2 and "only US regions" in writer.stderr  # the writer too: nothing is written

    # an override must name the region exactly
    wrong = alpaca("--allow-region", "eu-central-1", "sync-cache", "--db", shared["uri"], env=env, check=False)
    assert wrong.returncode == 2 and "eu-west-1" in wrong.stderr
    allowed = json.loads(alpaca("--allow-region", "eu-west-1", "sync-cache", "--db", shared["uri"], "--json",
                                env=env).stdout)
    assert allowed["source"]["chunks"] >= shared["status"]["version"]  # (ALPACA_ALLOW_REGION: test_residency)


def test_missing_shared_index_is_a_clear_error(moto, shared):
    env = team_env(moto, shared["base"] / "missing-cache")
    proc = alpaca("sync-cache", "--db", "s3://alpaca-team/nothing-here", env=env, check=False)
    assert proc.returncode == 2 and "no index at s3://alpaca-team/nothing-here" in proc.stderr
