"""A progress bar for long sweeps (rich): jobs run, jobs reused from the store, and time left.

It draws only on a terminal (rich turns itself off otherwise) and not at all with ``--quiet``.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class Bar:
    def __init__(self, quiet: bool = False):
        console = Console(file=sys.stderr)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[reused]} from store"), TimeRemainingColumn(),
                                  console=console, disable=quiet or not console.is_terminal, transient=True)
        self._task = None

    def __enter__(self) -> Bar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, total: int, reused: int) -> None:
        if self._task is None:
            self._task = self._progress.add_task("runs", total=total, reused=reused)
        else:
            self._progress.update(self._task, total=total, completed=0, reused=reused)

    def advance(self, algorithm: str, status: str) -> None:
        self._progress.update(self._task, advance=1, description=f"{algorithm} ({status})")
