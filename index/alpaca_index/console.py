"""What every `alpaca` command module shares: output, options, the error a user can fix, the index.

Command modules (cli.py, answer/cli.py, models/cli.py) import this; nothing here imports them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from alpaca_index.api import ReadableIndex

stdout = Console(soft_wrap=True)  # long paths and questions stay on one line when piped

DbOption = Annotated[str, typer.Option("--db", envvar="ALPACA_DB", help="Index directory, or s3://bucket/prefix for a shared index.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
DEFAULT_DB = ".alpaca"


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code 2."""


def fail(message: str) -> NoReturn:
    raise UserError(message)


def emit(as_json: bool, data: Any, render: Callable[[], None] | None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    elif render is not None:
        render()


def open_db(db: str | Path, write: bool = False) -> ReadableIndex:
    """`alpaca_index.opening.open_index` for a command: its refusal becomes one line for the user.
    (Imported here, not at the top: `alpaca --help` should not pay for the opening's imports.)"""
    from alpaca_index.opening import IndexUnavailable, open_index

    try:
        return open_index(db, write=write)
    except IndexUnavailable as exc:
        fail(str(exc))


def db_status(db: str | Path) -> dict[str, Any]:
    """`alpaca_index.opening.index_status` for a command: a local index's own summary when it is
    current (no LanceDB import), else the full open."""
    from alpaca_index.opening import IndexUnavailable, index_status

    try:
        return index_status(db)
    except IndexUnavailable as exc:
        fail(str(exc))
