"""``theory.check_algorithm``: an algorithm's claims, null learners and mutants checked from a notebook or a
script, returned as data rather than printed.

    import theory
    results = theory.check_algorithm("ucb1", quick=True)
    print(results)               # one line per claim and per mutant, as the CLI would say it
    results.ok                   # every claim PASSed (or failed as declared), every mutant caught
    results.to_rows()            # the rows of ``theorycheck run --json`` and of the mutant checks
    results.dataframe()          # every per-seed measurement, tidy (needs pandas: theorycheck[data])

It runs exactly what ``theorycheck audit`` runs without generated mutants, with the same seeds for the same
budget, so its verdicts are the CLI's; with ``store`` it reuses and records runs like the CLI does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theory import pipeline
from theory.cases import Case, claim_cases, mutant_cases, outcome
from theory.export import claim_result_row, dataframe, harness_row, trace_of
from theory.harness import Budget, Harness
from theory.hookspecs import hookimpl
from theory.pipeline import Judged
from theory.registry import Registry, build_registry
from theory.spec import Algorithm, Family
from theory.store import Store


@dataclass(frozen=True)
class Results(Judged):
    """The verdicts of one algorithm's claims (with their null learners) and of its mutants on the claims
    they must break, and the harness that holds the runs behind them; ``ok`` is ``Judged.ok``: no claim
    blocks (FAIL, INCONCLUSIVE, VACUOUS, ERROR, ...) and every mutant is caught, or missed as declared."""

    def to_rows(self) -> list[dict[str, Any]]:
        """JSON-ready rows: one per claim (``theorycheck run --json``), then one per mutant check."""
        return ([claim_result_row(self.harness, r) for r in self.claims]
                + [harness_row(self.harness, r.mutant, caught=r.caught, declared_miss=case.missed)
                   for case, r in self.mutants])

    def dataframe(self) -> Any:
        """Every measurement behind the verdicts, one row per (algorithm, mutant, claim, x, seed, metric)."""
        verdicts = [r.verdict for r in self.claims] + [r.mutant for _, r in self.mutants]
        return dataframe([(trace_of(self.harness, v), v) for v in verdicts])

    def __str__(self) -> str:
        lines = [f"{r.verdict.algorithm}/{r.verdict.claim}: {outcome(r)}: {r.verdict.evidence}" for r in self.claims]
        lines += [f"{case.subject}/{case.claim}: {'caught' if r.caught else 'MISSED'}"
                  + (" (declared)" if case.missed else "") + f": {r.mutant.status.value}" for case, r in self.mutants]
        return "\n".join(lines)


class _OnePlugin:
    """An Algorithm (and its families) handed over from Python, registered as a plugin so that it is validated
    like any other."""

    def __init__(self, algorithm: Algorithm, families: Sequence[Family]):
        self.algorithm, self.families = algorithm, list(families)

    @hookimpl
    def theorycheck_algorithms(self) -> list[Algorithm]:
        return [self.algorithm]

    @hookimpl
    def theorycheck_families(self) -> list[Family]:
        return self.families


def check_algorithm(algorithm: Algorithm | str, *, quick: bool = False, seeds: int | None = None,
                    base_seed: int = 0, device: str = "cpu", store: Store | str | Path | None = None,
                    mutants: bool = True, families: Sequence[Family] = (), registry: Registry | None = None) -> Results:
    """Check the claims of ``algorithm`` (a registered name, or an ``Algorithm`` not installed as a plugin),
    each with its null learners, and (``mutants``) every mutant on the claims it must break; ``families``
    registers instance families such an algorithm needs beside the installed ones.

    ``quick``, ``seeds``, ``base_seed`` and ``device`` are the CLI's budget options; ``store`` a result store
    (or its path) to reuse runs from and record them in. A plugin that fails to load raises its error."""
    if registry is None:
        handed = [] if isinstance(algorithm, str) else [("python", _OnePlugin(algorithm, families))]
        registry = build_registry(plugins=handed)
    name = algorithm if isinstance(algorithm, str) else algorithm.name
    if name not in registry.algorithms:
        for error in registry.errors:
            if error.plugin in ("python", name):
                raise error
        raise KeyError(f"no algorithm {name!r} is registered (known: {', '.join(sorted(registry.algorithms))})")
    chosen = registry.algorithms[name]
    if isinstance(store, (str, Path)):
        store = Store(store)
    harness = Harness(registry, Budget(quick=quick, seeds=seeds, base_seed=base_seed, device=device), store)
    cases: Sequence[Case] = claim_cases(chosen, quick) + (mutant_cases(chosen, quick) if mutants else [])
    judged = pipeline.judge(pipeline.measure(pipeline.plan(harness, cases)))
    return Results(judged.claims, judged.mutants, judged.nulls, harness)
