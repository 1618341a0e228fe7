"""Which stored verdicts the current code would still produce, and how each was made.

A store keeps every run ever made, so after a claim or a plugin is edited it holds verdicts of code that no
longer exists. A stored verdict is *current* when its run key equals the key the harness would compute now
for the same algorithm, claim and budget (``Harness.run_key``: the same hash of version, experiment, grid,
seeds, device, dtype, hyper-parameters and source files that decides whether ``theorycheck run`` reuses a
run). The budget is read back from the trace itself: its seeds name the base seed and the seed count, its
grid tells a quick run from a full one, and its device is recorded. Anything else is *stale*.
"""

from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from theory.errors import TheoryError
from theory.harness import Budget, Harness
from theory.model import Trace
from theory.random import seed_block
from theory.registry import Registry
from theory.store import Entry


@dataclass(frozen=True)
class Dated:
    """A stored verdict with its provenance: whether the current code would produce it, and its budget."""

    entry: Entry
    current: bool
    budget: Budget | None  # None: the seeds do not form a base seed's block (not written by run or pytest)


def budget_of(trace: Trace, quick_grid: Sequence[float] | None, grid: Sequence[float]) -> Budget | None:
    """The budget a run was made with, from its seeds and grid (the inverse of ``Experiment.sized``)."""
    if not trace.seeds:
        return None
    base = trace.seeds[0] // 1_000_003
    if list(trace.seeds) != seed_block(base, len(trace.seeds)):
        return None
    quick = quick_grid is not None and tuple(trace.grid) != tuple(float(x) for x in grid)
    return Budget(quick=quick, seeds=len(trace.seeds), base_seed=base, device=trace.device.partition(":")[0])


def date(entries: Iterable[Entry], registry: Registry) -> list[Dated]:
    """Every entry, marked current or stale against the registry's code."""
    harnesses: dict[Budget, Harness] = {}
    out = []
    for entry in entries:
        verdict, trace = entry.verdict, entry.trace
        try:
            algorithm = registry.algorithm(verdict.algorithm)
            claim = algorithm.claim(verdict.claim)
        except TheoryError:  # the algorithm, mutant or claim is gone: nothing current can match it
            out.append(Dated(entry, False, budget_of(trace, None, trace.grid)))
            continue
        budget = budget_of(trace, claim.experiment.quick_grid, claim.experiment.grid)
        if budget is None:
            out.append(Dated(entry, False, None))
            continue
        harness = harnesses.setdefault(budget, Harness(registry, budget))
        out.append(Dated(entry, harness.run_key(algorithm, claim) == entry.key, budget))
    return out


def select(dated: Iterable[Dated], names: Sequence[str] = (), families: Sequence[str] = ()) -> list[Dated]:
    """The entries whose algorithm (its base name, for a mutant) and family match the glob patterns given."""
    def keep(d: Dated) -> bool:
        v = d.entry.verdict
        base = v.mutant_of or v.algorithm
        named = not names or any(fnmatch.fnmatchcase(base, p) or fnmatch.fnmatchcase(v.algorithm, p)
                                 for p in names)
        family = d.entry.trace.experiment.family
        return named and (not families or any(fnmatch.fnmatchcase(family, p) for p in families))
    return [d for d in dated if keep(d)]


def commit(where: Path | None = None) -> str:
    """The git commit of the checkout at ``where`` (default: the current directory), ``+ uncommitted
    changes`` when its work tree differs, or ``unknown`` outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    try:
        head = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} + uncommitted changes" if dirty else head
