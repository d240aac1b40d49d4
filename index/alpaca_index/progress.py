"""Rich progress bars for long steps, on stderr so --json output on stdout stays clean."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import TaskID

stderr = Console(stderr=True)


@contextmanager
def sync_progress(enabled: bool = True):
    """Yields a `progress(stage, done, total, current)` callback for DocsIndex.sync."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn  # only to draw

    bar = Progress(TextColumn("[bold]{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), TextColumn("{task.fields[current]}", style="dim"),
                   console=stderr, transient=False)
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int, current: str) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total or None, current="")
        bar.update(tasks[stage], completed=done, total=total or None, current=current[-50:])

    with bar:
        yield update
        for task in tasks.values():
            t = bar.tasks[task]
            if t.total:
                bar.update(task, completed=t.total)
