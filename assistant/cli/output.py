"""Shared helpers for CLI output: JSON for scripts, tables and progress bars for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@contextmanager
def progress_bar(description: str, enabled: bool = True):
    """Yields an ``on_progress(stage, done, total)`` callback that drives a rich progress bar on
    stderr (so ``--json`` output on stdout stays clean)."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[stage]}"),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None, stage="")

        def update(stage: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, stage=stage)

        yield update


Callback = Callable[[str, int, int], None]
