"""A remote model endpoint, even when allowed, must declare a US region (data residency)."""

from __future__ import annotations

import pytest

from alpaca_index.answer.backends import BackendError, Endpoint


@pytest.mark.parametrize("region, allowed", [(None, False), ("eu-west-1", False), ("us-west-2", True)])
def test_remote_endpoint_needs_a_us_region(monkeypatch, region, allowed):
    monkeypatch.delenv("ALPACA_ENDPOINT_REGION", raising=False)
    monkeypatch.delenv("ALPACA_ALLOW_REGION", raising=False)
    if region:
        monkeypatch.setenv("ALPACA_ENDPOINT_REGION", region)
    if allowed:
        assert Endpoint("http://10.0.0.5:8080", allow_remote=True).url.endswith("/v1/chat/completions")
    else:
        with pytest.raises(BackendError, match="region"):
            Endpoint("http://10.0.0.5:8080", allow_remote=True)


def test_loopback_endpoint_needs_no_region(monkeypatch):
    monkeypatch.delenv("ALPACA_ENDPOINT_REGION", raising=False)
    assert Endpoint("http://127.0.0.1:8080").url == "http://127.0.0.1:8080/v1/chat/completions"
