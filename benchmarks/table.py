"""One row of the benchmark table: a ratio (or a quantity) measured in this run, with its target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Row:
    """``value`` is measured in this run; ``target`` says what it must reach, ``met`` whether it did.

    ``met`` is None for rows that only inform (an absolute time beside its ratio, a machine figure).
    """

    benchmark: str
    measure: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""
