"""Checks shared by the Office Open XML readers (Word, PowerPoint): both are zip packages."""

from __future__ import annotations

import io
import re
import zipfile

_BUFFER = re.compile(r"(file )?'?<_io\.BytesIO object at 0x[0-9a-f]+>'?")
MAX_UNPACKED = 512 * 1024 * 1024  # a zip bomb would unpack to far more than any real document
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: encrypted OOXML, or a legacy .doc/.ppt


def check_package(data: bytes, kind: str, suffix: str) -> None:
    """ValueError with the reason unless `data` is a sane zip package."""
    if data.startswith(_OLE):
        raise ValueError(f"password-protected (encrypted) {kind} file, or the old binary format: "
                         f"save it as {suffix} without a password to index it")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ValueError(f"not a readable {kind} file (corrupt or not a zip package)") from None
    if unpacked > MAX_UNPACKED:
        raise ValueError(f"{kind} file unpacks to {unpacked:,} bytes (over {MAX_UNPACKED:,}): refused as a zip bomb")


def unreadable(kind: str, exc: Exception) -> ValueError:
    detail = _BUFFER.sub("it", str(exc)) or type(exc).__name__
    return ValueError(f"not a readable {kind} file ({detail})")


def core_title(properties) -> str:
    try:
        return " ".join((properties.title or "").split())
    except Exception:  # noqa: BLE001 - broken docProps/core.xml: the file name will do
        return ""
