"""The US-region rule for a shared index and for a remote model endpoint (no network needed)."""

from __future__ import annotations

import pytest

from alpaca_index.team.residency import US_REGIONS, ResidencyError, check_endpoint, resolve_region, storage_options_for


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "ALPACA_ALLOW_REGION",
                 "ALPACA_S3_ENDPOINT", "ALPACA_ENDPOINT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


def test_region_sources_in_order(monkeypatch, tmp_path):
    (tmp_path / "config").write_text("[default]\nregion = us-west-2\n[profile eu]\nregion = eu-west-1\n")
    assert resolve_region() == ("us-west-2", "AWS config file")
    monkeypatch.setenv("AWS_PROFILE", "eu")
    assert resolve_region()[0] == "eu-west-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")
    assert resolve_region() == ("us-east-2", "AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "us-gov-west-1")
    assert resolve_region() == ("us-gov-west-1", "AWS_REGION")
    assert resolve_region({"aws_region": "US-WEST-1"}) == ("us-west-1", "storage option aws_region")


@pytest.mark.parametrize("region", US_REGIONS)
def test_us_regions_pass_and_are_pinned(monkeypatch, region):
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("ALPACA_S3_ENDPOINT", "http://127.0.0.1:9000")
    options = storage_options_for("s3://bucket/prefix")
    assert options == {"aws_region": region, "aws_endpoint": "http://127.0.0.1:9000", "allow_http": "true"}


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2", "ca-central-1", "us-east-9"])
def test_other_regions_are_refused_with_one_clear_message(monkeypatch, region):
    monkeypatch.setenv("AWS_REGION", region)
    with pytest.raises(ResidencyError) as err:
        storage_options_for("s3://bucket/prefix")
    message = str(err.value)
    assert region in message and "only US regions" in message and f"--allow-region {region}" in message
    assert "\n" not in message


def test_override_must_name_the_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with pytest.raises(ResidencyError):
        storage_options_for("s3://b/p", allow="eu-central-1")
    assert storage_options_for("s3://b/p", allow="eu-west-1")["aws_region"] == "eu-west-1"
    monkeypatch.setenv("ALPACA_ALLOW_REGION", "ap-south-1, eu-west-1")
    assert storage_options_for("s3://b/p")["aws_region"] == "eu-west-1"


def test_storage_option_region_wins_and_no_region_is_refused(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(ResidencyError, match="eu-north-1"):
        storage_options_for("s3://b/p", {"region": "eu-north-1"})
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(ResidencyError, match="no configured region"):
        storage_options_for("s3://b/p")
    with pytest.raises(ResidencyError, match="only s3://"):
        storage_options_for("gs://b/p", {"aws_region": "us-east-1"})


def test_model_endpoint_region():
    assert check_endpoint(None) is None
    assert check_endpoint("http://127.0.0.1:8080") is None  # on this machine: nothing leaves it
    assert check_endpoint("http://localhost:8000/v1") is None
    with pytest.raises(ResidencyError, match="ALPACA_ENDPOINT_REGION"):
        check_endpoint("https://llm.example.com/v1")
    assert check_endpoint("https://llm.example.com/v1", region="us-west-2") == "us-west-2"
    with pytest.raises(ResidencyError, match="eu-west-1"):
        check_endpoint("https://llm.example.com/v1", region="eu-west-1")
    assert check_endpoint("https://llm.example.com/v1", region="eu-west-1", allow="eu-west-1") == "eu-west-1"
