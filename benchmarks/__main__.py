"""``python -m benchmarks [--quick] [--only NAME ...] [--markdown PATH]``: run the benchmarks, print one table.

Every row is measured in this run; ratios compare things timed side by side on this machine, now.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import sys
from pathlib import Path

from benchmarks.table import Row

BENCHMARKS = ("startup", "bandits", "seeds", "matrix_sensing", "checks_suite")


def machine() -> str:
    """The machine the numbers belong to."""
    import numba
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, torch {torch.__version__}, "
            f"numba {numba.__version__}")


def markdown(rows: list[Row], where: str) -> str:
    lines = [f"Machine: {where}", "", "| benchmark | measure | value | target | met | note |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(f"| {row.benchmark} | {row.measure} | {row.value:.3g} {row.unit} | {row.target} | {met} | "
                     f"{row.note.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def show(rows: list[Row], where: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("benchmark", "measure", "value", "target", "met", "note", title=where, show_lines=True)
    for row in rows:
        met = {True: "[green]yes[/]", False: "[bold red]no[/]", None: ""}[row.met]
        table.add_row(row.benchmark, row.measure, f"{row.value:.3g} {row.unit}", row.target, met, row.note)
    Console(width=200).print(table)  # a wide table rather than notes cut into slivers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run, not the numbers")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=BENCHMARKS, metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)
    where = machine()
    rows: list[Row] = []
    for name in args.only:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += importlib.import_module(f"benchmarks.{name}").measure(args.quick)
    show(rows, where)
    if args.markdown:
        args.markdown.write_text(markdown(rows, where))
    if args.json:
        args.json.write_text(json.dumps({"machine": where, "rows": [dataclasses.asdict(r) for r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
