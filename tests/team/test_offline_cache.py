"""The local read cache keeps answering when the object store goes away (for a while)."""

from __future__ import annotations

from tests.team.conftest import BUCKET, Moto, alpaca, alpaca_json, team_env


def copy_bucket(source: Moto, target: Moto, prefix: str) -> int:
    src, dst = source.client(), target.client()
    dst.create_bucket(Bucket=BUCKET)
    copied = 0
    for page in src.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            body = src.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            dst.put_object(Bucket=BUCKET, Key=item["Key"], Body=body)
            copied += 1
    return copied


def test_cached_search_answers_offline(moto, shared, tmp_path):
    own = Moto(tmp_path / "moto.log")  # a store of our own, so stopping it disturbs no other test
    try:
        assert copy_bucket(moto, own, "team-index/") > 0
        env = team_env(own, tmp_path / "cache")
        synced = alpaca_json("sync-cache", "--db", shared["uri"], env=env)
        assert synced["source"]["chunks"] >= shared["status"]["version"]
    finally:
        own.stop()

    found = alpaca_json("search", "traffic split between production variants", "--db", shared["uri"], env=env)
    assert found["results"] and found["results"][0]["path"] == "model-ab-testing.md"
    status = alpaca_json("status", "--db", shared["uri"], env=env)
    assert status["cache"]["online"] is False and status["cache"]["error"]
    assert status["version"] == synced["source"]["chunks"] and status["files"] == 4

    # past the offline limit the cache is refused with one clear line
    stale = alpaca("search", "autoscaling", "--db", shared["uri"], check=False,
                   env={**env, "ALPACA_CACHE_MAX_AGE": "0"})
    assert stale.returncode == 2 and "unreachable" in stale.stderr and "ALPACA_CACHE_MAX_AGE" in stale.stderr
    # and without any cache there is nothing to fall back on
    nothing = alpaca("search", "autoscaling", "--db", shared["uri"], check=False, env=team_env(own, tmp_path / "empty"))
    assert nothing.returncode == 2 and "no local cache" in nothing.stderr
