"""A local package index of prebuilt wheels, the kind `alpaca.server.llamaCppIndex` points at (e.g.
https://abetlen.github.io/llama-cpp-python/whl/cpu): a PEP 503 "simple" folder, one page a project.

The llama-cpp-python wheel in it is this test environment's installed copy, repacked (its RECORD
lists every file): seconds, where `pip wheel llama-cpp-python` on a cold pip cache is a ~10 min source
build. The library loads its shared objects by path (ctypes), so the repacked files work anywhere."""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.metadata
import zipfile
from pathlib import Path

# written by pip at install time, not part of a wheel (RECORD is rewritten)
INSTALL_ONLY = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack_installed(name: str, out_dir: Path) -> Path:
    """The installed distribution `name` as a wheel in `out_dir` (its own tag, from its WHEEL file)."""
    dist = importlib.metadata.distribution(name)
    files = dist.files or []
    info = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    assert len(tags) == 1, f"{name}: expected one wheel tag, got {tags}"
    wheel = out_dir / f"{info.removesuffix('.dist-info')}-{tags[0]}.whl"
    out_dir.mkdir(parents=True, exist_ok=True)
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as whl:
        for file in files:
            installed_only = file.parts[0] == info and file.name in INSTALL_ONLY
            if installed_only or ".." in file.parts or "__pycache__" in file.parts:
                continue
            source = Path(str(file.locate()))
            data = source.read_bytes()
            whl.write(source, file.as_posix())  # keeps the file mode (shared objects stay executable)
            record.append(f"{file.as_posix()},sha256={_digest(data)},{len(data)}")
        record.append(f"{info}/RECORD,,")
        whl.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def simple_index(root: Path, wheels: list[Path]) -> str:
    """A "simple" index at root/simple serving `wheels` (already inside root/simple/<project>/); its URL."""
    for project in {w.parent for w in wheels}:
        links = "".join(f'<a href="{html.escape(w.name)}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">'
                        f"{html.escape(w.name)}</a><br>\n" for w in wheels if w.parent == project)
        (project / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
    (root / "simple" / "index.html").write_text(
        "<!DOCTYPE html>\n<html><body>\n"
        + "".join(f'<a href="{p.name}/">{p.name}</a><br>\n' for p in sorted({w.parent for w in wheels}))
        + "</body></html>\n")
    return (root / "simple").as_uri()


def llama_cpp_index(root: Path) -> tuple[str, Path]:
    """(index URL, wheel): an index holding this environment's llama-cpp-python."""
    wheel = repack_installed("llama-cpp-python", root / "simple" / "llama-cpp-python")
    return simple_index(root, [wheel]), wheel
