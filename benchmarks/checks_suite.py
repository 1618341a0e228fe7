"""The whole ``pytest checks/ --theory-quick`` run (every built-in plugin's claims and mutants, as CI runs it):
wall time, and how it splits into start-up (interpreter, imports, registry, collection), stepping algorithms
(inside the runner) and the rest (statistics, rendering, pytest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.table import Row

TARGET_S = 300.0
ROOT = Path(__file__).resolve().parent.parent


def measure(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.json"
        env = {**os.environ, "THEORYCHECK_SUITE_PROBE": str(probe)}
        started = time.time()
        done = subprocess.run([sys.executable, "-m", "pytest", "checks/", "--theory-quick", "-q", "-p",
                               "benchmarks.suite_probe", "-p", "no:cacheprovider"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.time() - started
        times = json.loads(probe.read_text())
    startup = times["collected_at"] - started
    runner = times["runner_s"]
    rest = wall - startup - runner
    verdict = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else f"exit {done.returncode}"
    return [
        Row(benchmark="checks suite", measure="pytest checks/ --theory-quick, wall", value=wall, unit="s",
            target=f"< {TARGET_S:g} s", met=wall < TARGET_S and done.returncode == 0,
            note=f"{times['items']} items, {times['runs']} runs; {verdict}"),
        Row(benchmark="checks suite", measure="share in start-up (imports, registry, collection)",
            value=100 * startup / wall, unit="%", note=f"{startup:.1f} s"),
        Row(benchmark="checks suite", measure="share stepping algorithms (in the runner)",
            value=100 * runner / wall, unit="%", note=f"{runner:.1f} s"),
        Row(benchmark="checks suite", measure="share in statistics, rendering and pytest", value=100 * rest / wall,
            unit="%", note=f"{rest:.1f} s"),
    ]
