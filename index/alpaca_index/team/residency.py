"""Data residency: a shared index and a remote model endpoint must sit in a US region.

The rule is deliberately small. An object-store index (`s3://bucket/prefix`) is used only when the
region it will talk to is one of `US_REGIONS`; the region comes from the storage options, then
`AWS_REGION`, `AWS_DEFAULT_REGION`, then the AWS config file (`AWS_CONFIG_FILE`, profile
`AWS_PROFILE`). The checked region is passed on to LanceDB explicitly, so what was checked is what
is used. A remote (non-loopback) model endpoint must declare its region (`ALPACA_ENDPOINT_REGION`)
under the same rule. Anything else is refused with one message unless an explicit override names
that exact region (`--allow-region REGION` or `ALPACA_ALLOW_REGION=REGION[,REGION]`).

Credentials are never read here: LanceDB's object store takes them from the standard AWS chain
(environment, shared credentials/config files, web identity, container or instance role).
"""

from __future__ import annotations

import configparser
import ipaddress
import os
from pathlib import Path
from urllib.parse import urlparse

US_REGIONS = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1", "us-gov-west-1")
REGION_KEYS = ("aws_region", "region")
ENDPOINT_KEYS = ("aws_endpoint", "endpoint", "aws_endpoint_url")


class ResidencyError(ValueError):
    """The configured region is not allowed; the message says what to change."""


def is_remote_uri(db: str | os.PathLike) -> bool:
    return "://" in str(db)


def allowed_overrides(extra: str | list[str] | None = None) -> set[str]:
    names: list[str] = []
    for value in ([extra] if isinstance(extra, str) else list(extra or [])) + [os.environ.get("ALPACA_ALLOW_REGION", "")]:
        names += [v.strip().lower() for v in (value or "").split(",") if v.strip()]
    return set(names)


def _config_file_region() -> str | None:
    path = Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config")
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error):
        return None
    section = profile if profile == "default" else f"profile {profile}"
    return parser.get(section, "region", fallback=None) or None


def resolve_region(storage_options: dict | None = None) -> tuple[str | None, str]:
    """(region, where it came from); region is None when nothing configures one."""
    for key, value in (storage_options or {}).items():
        if key.lower() in REGION_KEYS and value:
            return str(value).strip().lower(), f"storage option {key}"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return os.environ[name].strip().lower(), name
    region = _config_file_region()
    if region:
        return region.strip().lower(), "AWS config file"
    return None, "nothing"


def check_region(region: str | None, what: str, source: str, allow: str | list[str] | None = None,
                 setting: str = "AWS_REGION") -> str:
    """Return the region if it may be used, else raise ResidencyError with one clear sentence."""
    overrides = allowed_overrides(allow)
    if region and (region in US_REGIONS or region in overrides):
        return region
    if not region:
        raise ResidencyError(
            f"{what} has no configured region, so its data residency cannot be checked; "
            f"set {setting} to one of {', '.join(US_REGIONS)}")
    raise ResidencyError(
        f"{what} is in region {region} (from {source}); only US regions are allowed "
        f"({', '.join(US_REGIONS)}). To use {region} anyway, pass --allow-region {region} "
        f"or set ALPACA_ALLOW_REGION={region}")


def storage_options_for(uri: str, storage_options: dict | None = None, allow: str | list[str] | None = None) -> dict:
    """Checked LanceDB storage options for an object-store index URI (adds the checked region).

    `ALPACA_S3_ENDPOINT` (or an `aws_endpoint` option) points at an S3-compatible store; a plain
    http:// endpoint also turns on `allow_http`."""
    scheme = urlparse(uri).scheme.lower()
    options = {k: str(v) for k, v in (storage_options or {}).items() if v is not None}
    if scheme not in ("s3", "s3a"):
        raise ResidencyError(f"unsupported index location {uri}: only s3://bucket/prefix (AWS S3 or an "
                             "S3-compatible store) can be checked for data residency")
    endpoint = next((options[k] for k in options if k.lower() in ENDPOINT_KEYS), None)
    if not endpoint and os.environ.get("ALPACA_S3_ENDPOINT"):
        endpoint = options["aws_endpoint"] = os.environ["ALPACA_S3_ENDPOINT"]
    if endpoint and endpoint.startswith("http://") and not any(k.lower() == "allow_http" for k in options):
        options["allow_http"] = "true"
    region, source = resolve_region(options)
    region = check_region(region, f"shared index {uri}", source, allow)
    for key in [k for k in options if k.lower() in REGION_KEYS]:
        del options[key]
    options["aws_region"] = region
    return options


def is_loopback(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str | None, region: str | None = None, allow: str | list[str] | None = None) -> str | None:
    """A remote model endpoint must declare a US region (ALPACA_ENDPOINT_REGION); loopback is exempt.

    Returns the declared region (None for no endpoint or a loopback one)."""
    if not url or is_loopback(url):
        return None
    region = (region or os.environ.get("ALPACA_ENDPOINT_REGION") or "").strip().lower() or None
    return check_region(region, f"remote model endpoint {urlparse(url).hostname}", "ALPACA_ENDPOINT_REGION", allow,
                        setting="ALPACA_ENDPOINT_REGION")
