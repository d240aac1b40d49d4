"""Find docs files under one or more roots, honouring .gitignore and a user ignore list.

Every problem with a single file becomes a `Skipped` entry; nothing here raises for one bad file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from alpaca_index.ingest.documents import Skipped, SourceFile
from alpaca_index.ingest.formats import EXTENSIONS, size_cap

DOC_EXTENSIONS = frozenset(EXTENSIONS)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
ALWAYS_IGNORED = [".git/", ".alpaca/", "node_modules/", ".venv/", "__pycache__/"]


@dataclass
class Listing:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _gitignore_spec(root: Path, extra: list[str]) -> pathspec.PathSpec:
    lines = list(ALWAYS_IGNORED) + list(extra)
    gitignore = root / ".gitignore"
    try:
        lines += gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        pass
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _nested_spec(directory: Path) -> list[str] | None:
    try:
        return (directory / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None


def list_files(
    roots: list[Path],
    ignore: list[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Listing:
    """Walk the roots (symlinks followed only while they stay inside the root, loops cut)."""
    listing = Listing()
    seen_rel: set[str] = set()
    resolved = [Path(r).resolve() for r in roots]
    bases = root_bases([r for r in resolved if r.is_dir()])
    for root in resolved:
        if not root.is_dir():
            listing.skipped.append(Skipped(str(root), "docs root is not a directory"))
            continue
        _walk_root(root, bases[root], _gitignore_spec(root, ignore or []), max_bytes, listing, seen_rel)
    listing.files.sort(key=lambda f: f.rel)
    return listing


def root_bases(roots: list[Path]) -> dict[Path, Path]:
    """Where each root's paths are counted from. One root: itself (paths as before). Several (a
    multi-root workspace): the folder above as many trailing names as tell the roots apart, so
    `/ws/a/docs/index.md` and `/ws/b/docs/index.md` are `a/docs/index.md` and `b/docs/index.md`
    rather than one hiding the other."""
    roots = list(dict.fromkeys(roots))
    if len(roots) <= 1:
        return {r: r for r in roots}
    bases = {}
    for root in roots:
        depth = 1
        while depth < len(root.parts) - 1 and any(
                other != root and other.parts[-depth:] == root.parts[-depth:] for other in roots):
            depth += 1
        bases[root] = root.parents[depth - 1] if root.parents else root  # "/" itself has no parent
    return bases


def _walk_root(root: Path, base: Path, spec: pathspec.PathSpec, max_bytes: int, listing: Listing,
               seen_rel: set[str]) -> None:
    visited_dirs: set[tuple[int, int]] = set()
    nested: list[tuple[str, pathspec.PathSpec]] = []

    def ignored(rel: str, is_dir: bool) -> bool:
        probe = rel + "/" if is_dir else rel
        if spec.match_file(probe):
            return True
        return any(rel.startswith(prefix) and sub.match_file(probe[len(prefix):]) for prefix, sub in nested)

    def shown(path) -> str:  # skip reports name folders relative to their root, like files
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            return str(path)

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=lambda e: listing.skipped.append(
            Skipped(shown(e.filename), f"unreadable directory: {e.strerror}"))):
        here = Path(dirpath)
        try:
            st = here.stat()
            real = here.resolve()
        except OSError as exc:
            listing.skipped.append(Skipped(shown(here), f"unreadable directory: {exc.strerror}"))
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in visited_dirs:
            listing.skipped.append(Skipped(shown(here), "symlink loop (directory already visited)"))
            dirnames[:] = []
            continue
        visited_dirs.add((st.st_dev, st.st_ino))
        if real != root and root not in real.parents:
            listing.skipped.append(Skipped(shown(here), "symlink points outside the docs root"))
            dirnames[:] = []
            continue
        rel_dir = here.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        sub_lines = _nested_spec(here) if prefix else None
        if sub_lines:
            nested.append((prefix, pathspec.GitIgnoreSpec.from_lines(sub_lines)))
        dirnames[:] = sorted(d for d in dirnames if not ignored(prefix + d, True))
        for name in sorted(filenames):
            rel = prefix + name
            if os.path.splitext(name)[1].lower() not in DOC_EXTENSIONS or ignored(rel, False):
                continue
            shown_rel = (root.relative_to(base) / rel).as_posix() if base != root else rel
            _add_file(root, base, real, here / name, shown_rel, max_bytes, listing, seen_rel)


def _add_file(root: Path, base: Path, real_dir: Path, path: Path, rel: str, max_bytes: int, listing: Listing,
              seen_rel: set[str]) -> None:
    try:  # a name that isn't UTF-8 (e.g. Latin-1 bytes) can't be stored or queried; it used to fail the whole sync
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        listing.skipped.append(Skipped(shown, "file name is not valid UTF-8: rename the file to index it"))
        return
    try:  # one lstat for a plain file; only a link needs resolving (a walk of 1,500 files halves)
        st = os.lstat(path)
        real = real_dir / path.name
        if stat.S_ISLNK(st.st_mode):
            real = path.resolve(strict=True)
            st = real.stat()
    except (OSError, RuntimeError) as exc:
        listing.skipped.append(Skipped(rel, f"unreadable: {getattr(exc, 'strerror', None) or exc}"))
        return
    if not str(real).startswith(str(root).rstrip(os.sep) + os.sep):
        listing.skipped.append(Skipped(rel, "symlink points outside the docs root"))
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device named *.md would block or never end
        listing.skipped.append(Skipped(rel, "not a regular file"))
        return
    if not os.access(real, os.R_OK):
        listing.skipped.append(Skipped(rel, "unreadable: permission denied"))
        return
    if st.st_size == 0:
        listing.skipped.append(Skipped(rel, "empty file"))
        return
    cap = size_cap(rel, max_bytes)
    if st.st_size > cap:
        listing.skipped.append(Skipped(rel, f"too large ({st.st_size:,} bytes > cap {cap:,})"))
        return
    if rel in seen_rel:
        listing.skipped.append(Skipped(rel, "same relative path already indexed from another root"))
        return
    seen_rel.add(rel)
    listing.files.append(SourceFile(root=root, path=path, rel=rel, size=st.st_size, mtime=st.st_mtime, base=base))
