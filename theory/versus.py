"""``theorycheck versus``: several algorithms on one shared experiment, judged and plotted together.

Plugins test their claims on instances of their own choosing (UCB1, Thompson sampling and EXP3 use different
bandits), so their curves never meet. ``versus ucb1 thompson exp3`` takes the first algorithm's first claim's
experiment (or ``--on ALGORITHM/CLAIM``'s), applies ``--param``/``--config``, and runs every algorithm's
first claim on the same metric there: one verdict each on the shared instance, and a report whose comparison
plot shows every curve with its fitted log-log slope. Plugins are not edited; the runs are stored like any
other (the shared experiment is part of their key).

``--own-grids`` shares only the instance (family and parameters) and keeps each algorithm's own grid, steps
and seeds: methods whose cost per step differs by orders of magnitude (a single-loop method against one with an
inner solve) cannot share horizons, and claims judged against a counter (``Claim.against``, oracle calls) put
the counter on the x-axis, where their curves meet anyway.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from theory.claims import Claim
from theory.cli import UsageError, _console, _harness, _selected, _verdict_table
from theory.errors import ClaimError
from theory.model import ClaimResult
from theory.spec import Algorithm


def cmd_versus(args: argparse.Namespace) -> int:
    from theory.cases import verdict
    from theory.executors import make_executor
    from theory.history import commit
    from theory.progress import Bar
    from theory.report import write_report

    registry, algorithms = _selected(args)
    if len(algorithms) < 2:
        raise UsageError("versus needs at least two algorithms to compare")
    anchor = _anchor(algorithms, args.on)
    experiment = anchor.experiment
    pairs = []
    for algorithm in algorithms:
        own = next((c for c in algorithm.claims if c.metric == anchor.metric and c.kind != "privacy"
                    and c.experiment.family == experiment.family and c.against == anchor.against), None)
        if own is None:
            raise UsageError(f"{algorithm.name} has no claim on {anchor.metric!r} over {anchor.axis} on the "
                             f"family {experiment.family!r}, so it cannot run on the shared experiment")
        shared = experiment
        if args.own_grids:  # the instance is shared; the horizons stay each method's own
            shared = dataclasses.replace(experiment, grid=own.experiment.grid, quick_grid=own.experiment.quick_grid,
                                         steps=own.experiment.steps, seeds=own.experiment.seeds,
                                         quick_seeds=own.experiment.quick_seeds)
        pairs.append((algorithm, dataclasses.replace(own, experiment=shared)))
    harness = _harness(registry, args)
    with Bar(quiet=args.quiet, claims=len(pairs)) as bar:
        harness.prefetch(pairs, executor=make_executor(args.executor, registry, args.jobs, args.address),
                         progress=bar)
    verdicts = [verdict(harness, a, c) for a, c in pairs]
    title = f"{anchor.metric} on {experiment.family} over {anchor.axis}, {experiment.params or 'family defaults'}"
    _console().print(_verdict_table([ClaimResult(v, ()) for v in verdicts], title))
    index = write_report([(harness.trace(a, c), v) for (a, c), v in zip(pairs, verdicts)], registry, args.out,
                         commit=commit())
    print(f"wrote {index} (comparison plot with fitted slopes under 'Rate comparisons')", file=sys.stderr)
    return 0


def _anchor(algorithms: list[Algorithm], on: str | None) -> Claim:
    """The claim whose experiment is shared: ``--on ALGORITHM/CLAIM`` (a selected algorithm, so that the
    overrides apply to it), or the first algorithm's first claim."""
    if on is None:
        return algorithms[0].claims[0]
    name, _, claim = on.partition("/")
    chosen = {a.name: a for a in algorithms}
    if name not in chosen:
        raise UsageError(f"--on {on!r}: {name!r} is not among the selected algorithms ({', '.join(chosen)})")
    try:
        return chosen[name].claim(claim)
    except ClaimError:
        known = ", ".join(c.name for c in chosen[name].claims)
        raise UsageError(f"--on {on!r}: {name} has no claim {claim!r} (known: {known})") from None
