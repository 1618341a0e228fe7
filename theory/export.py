"""Data out: verdict rows that carry their data and provenance, and every per-seed measurement as a tidy table.

``verdict_row`` is what ``--json`` prints: the verdict, the grid, the mean and interval at each grid point,
the experiment (family, parameters, the claim's form) and how it was made (base seed, device, elapsed time,
quick flag, library versions). ``tidy`` flattens traces to one row per (algorithm, mutant, claim, x, seed,
metric): the table ``theorycheck export`` writes as CSV (standard library only) or parquet, and
``dataframe`` returns as a pandas DataFrame. pandas and pyarrow are an optional extra (``theorycheck[data]``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from theory.claims import Claim, Experiment
from theory.harness import Budget, Harness
from theory.model import ClaimResult, Subject, Trace, Verdict
from theory.render import claim_row, row

COLUMNS = ("algorithm", "mutant", "claim", "x", "seed", "metric", "value")
FORMATS = ("csv", "parquet")


def experiment_data(experiment: Experiment) -> dict[str, Any]:
    """An experiment as JSON-ready data."""
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in experiment.params.items()}
    return {"family": experiment.family, "over": experiment.over, "params": params, "grid": list(experiment.grid),
            "quick_grid": list(experiment.quick_grid) if experiment.quick_grid else None,
            "seeds": experiment.seeds, "quick_seeds": experiment.quick_seeds, "steps": experiment.steps,
            "mode": experiment.mode}


def verdict_row(verdict: Verdict, trace: Trace, claim: Claim | None, budget: Budget | None,
                defaults: Mapping[str, object] | None = None, **extra: Any) -> dict[str, Any]:
    """A verdict with its grid, per-point data, experiment and provenance (``--json``'s row)."""
    experiment = experiment_data(trace.experiment)
    experiment["instance"] = {**(defaults or {}), **experiment["params"]}  # what the family generated from
    if claim is not None:
        experiment.update(form=claim.form, kind=claim.kind, metric=claim.metric)
    points = [{"x": r.x, "mean": r.mean, "low": _finite(r.low), "high": _finite(r.high), "form": r.form}
              for r in verdict.rows]
    provenance = {"base_seed": budget.base_seed if budget else None, "quick": budget.quick if budget else None,
                  "seeds": len(trace.seeds), "device": trace.device, "dtype": trace.dtype,
                  "elapsed_s": trace.elapsed_s, "plugin_version": trace.version, "run_status": trace.status,
                  "environment": dict(trace.environment)}
    return {**row(verdict, **extra), "grid": list(trace.grid), "points": points, "experiment": experiment,
            "provenance": provenance}


def harness_row(harness: Harness, verdict: Verdict, **extra: Any) -> dict[str, Any]:
    """``verdict_row`` for a verdict the harness judged: its trace, claim and family looked up there."""
    claim = harness.registry.algorithm(verdict.algorithm).claim(verdict.claim)
    family = harness.registry.families.get(claim.experiment.family)
    return verdict_row(verdict, trace_of(harness, verdict), claim, harness.budget,
                       family.defaults if family else None, **extra)


def trace_of(harness: Harness, verdict: Verdict) -> Trace:
    """The run behind a verdict the harness judged."""
    algorithm = harness.registry.algorithm(verdict.algorithm)
    return harness.trace(algorithm, algorithm.claim(verdict.claim))


def claim_result_row(harness: Harness, result: ClaimResult) -> dict[str, Any]:
    """A claim's row: ``harness_row`` of its verdict, with the outcome shown and its null learners."""
    return {**harness_row(harness, result.verdict), **claim_row(result)}


def _finite(value: float) -> float | None:
    """JSON has no infinity: an unbounded side of an interval (one seed) is null."""
    return value if math.isfinite(value) else None


def tidy(results: Iterable[tuple[Trace, Verdict]]) -> list[dict[str, Any]]:
    """One row per (algorithm, mutant, claim, x, seed, metric): every measurement behind the verdicts.
    ``algorithm`` is the correct version's name; ``mutant`` names the mutant, or is None."""
    out = []
    for trace, verdict in results:
        subject = Subject.parse(verdict.algorithm)
        base, mutant = subject.algorithm, subject.mutant
        for metric, values in sorted(trace.metrics.items()):
            for i, seed in enumerate(trace.seeds):
                for j, x in enumerate(trace.grid):
                    out.append({"algorithm": base, "mutant": mutant, "claim": verdict.claim, "x": float(x),
                                "seed": int(seed), "metric": metric, "value": float(values[i, j])})
    return out


def write(rows: Sequence[Mapping[str, Any]], path: Path, fmt: str = "csv") -> Path:
    """Write tidy rows as CSV (no dependency) or parquet (pyarrow); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({**r, "mutant": r["mutant"] or "", "value": repr(r["value"])} for r in rows)
    elif fmt == "parquet":
        _frame(rows).to_parquet(path, index=False)
    else:
        raise ValueError(f"unknown format {fmt!r} (use {' or '.join(FORMATS)})")
    return path


def read(path: Path) -> list[dict[str, Any]]:
    """Rows written by ``write``, with their types back (CSV: x and value floats, seed an int, no mutant None)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pandas

        frame = pandas.read_parquet(path)
        return [{**r, "mutant": r["mutant"] if isinstance(r["mutant"], str) else None}
                for r in frame.to_dict("records")]
    with path.open(newline="", encoding="utf-8") as file:
        return [{**r, "mutant": r["mutant"] or None, "x": float(r["x"]), "seed": int(r["seed"]),
                 "value": float(r["value"])} for r in csv.DictReader(file)]


def dataframe(results: Iterable[tuple[Trace, Verdict]]) -> Any:
    """The tidy table of ``results`` (a store's ``results()``, or (trace, verdict) pairs) as a pandas DataFrame
    with columns algorithm, mutant, claim, x, seed, metric, value. Needs pandas (``theorycheck[data]``)."""
    return _frame(tidy(results))


def _frame(rows: Sequence[Mapping[str, Any]]) -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError("pandas is needed for DataFrames and parquet: pip install 'theorycheck[data]'") from None
    return pandas.DataFrame(list(rows), columns=list(COLUMNS))
