"""A progress bar for long sweeps (rich): runs done of runs needed, for how many claims, and time left.

It draws only on a terminal (rich turns itself off otherwise) and not at all with ``--quiet``. The count is of
runs (one trace each; claims that share an experiment share a run), said as such beside the number of claims
they serve; the last finished run is shown at the end of the line in a fixed width, so the bar never moves.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

LAST_WIDTH = 32  # characters kept of the last finished run's label


class Bar:
    def __init__(self, quiet: bool = False, claims: int | None = None):
        console = Console(file=sys.stderr)
        about = f" for {claims} claims" if claims is not None else ""
        self._progress = Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn(f"{{task.fields[reused]}} reused from the store{about}"),
                                  TimeRemainingColumn(), TextColumn("{task.fields[last]}"),
                                  console=console, disable=quiet or not console.is_terminal, transient=True)
        self._task: TaskID | None = None

    def __enter__(self) -> Bar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, total: int, reused: int) -> None:
        if self._task is None:
            self._task = self._progress.add_task("runs", total=total, reused=reused, last="")
        else:
            self._progress.update(self._task, total=total, completed=0, reused=reused)

    def advance(self, algorithm: str, status: str) -> None:
        last = f"last: {algorithm} ({status})"
        last = last if len(last) <= LAST_WIDTH else last[:LAST_WIDTH - 1] + "…"
        if self._task is not None:  # start() comes first; a run with nothing to do never starts
            self._progress.update(self._task, advance=1, last=last.ljust(LAST_WIDTH))
