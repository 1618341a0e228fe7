"""Start-up: ``theorycheck --help`` and ``theorycheck list`` (from its cache, then rebuilt), wall time of the
whole command, best of a few runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.table import Row

TARGET_S = 1.0  # "well under a second"
REPEATS = 5


def _best_of(command: list[str], folder: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=folder, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def measure(quick: bool) -> list[Row]:
    cli = [sys.executable, "-m", "theory.cli"]
    folder = Path(tempfile.mkdtemp(prefix="theorycheck-startup-"))
    try:
        interpreter = _best_of([sys.executable, "-c", "pass"], folder, REPEATS)
        rebuilt = _best_of([*cli, "list"], folder, 1)  # the first listing in a folder builds the registry
        timed = {"--help": _best_of([*cli, "--help"], folder, REPEATS),
                 "list": _best_of([*cli, "list"], folder, REPEATS)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [Row(benchmark="startup", measure=f"theorycheck {name}", value=seconds, unit="s",
                target=f"< {TARGET_S:g} s", met=seconds < TARGET_S,
                note=f"best of {REPEATS}; the interpreter alone starts in {interpreter:.2f} s")
            for name, seconds in timed.items()]
    rows.append(Row(benchmark="startup", measure="theorycheck list, cache rebuilt", value=rebuilt, unit="s",
                    note="after a plugin's source changed: imports torch and every plugin"))
    return rows
