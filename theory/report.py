"""Render results (Trace, Verdict pairs from a store or a run) to a folder: report.md, index.html, plots/.

The report only renders verdicts; it judges nothing. One context dict feeds two jinja2 templates (Markdown
and HTML) so both show the same content. Everything a plugin wrote (names, forms, sources, evidence) is
untrusted text: the HTML template autoescapes, the Markdown template escapes every expression through its
``finalize`` hook, plot labels escape ``$`` so matplotlib never parses maths, and plot file names are slugs
of those names plus a hash, never the names themselves. The HTML has no script and no external resource, so it
opens offline. matplotlib and jinja2 are imported inside functions so that ``import theory.report`` is cheap.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theory import stats
from theory.cases import Case, outcome
from theory.claims import Claim
from theory.errors import TheoryError
from theory.harness import Budget
from theory.history import Dated
from theory.judge import axis_values
from theory.model import Status, Trace, Verdict
from theory.parameters import instance_parameters
from theory.plots import draw, slug
from theory.registry import Registry
from theory.render import check_command, estimate_name
from theory.spec import Algorithm

# A declared expected failure that FAILs is XFAIL, one that PASSes is XPASS (theory.cases.outcome), as in the CLI;
# VACUOUS is a PASS that a null learner gets too.
STATUSES = ("PASS", "FAIL", "XFAIL", "XPASS", "INCONCLUSIVE", "ERROR", "TIMEOUT", "VACUOUS")
_MARKS = {"PASS": "✅", "FAIL": "❌", "XFAIL": "☑️", "XPASS": "❗", "INCONCLUSIVE": "❔", "ERROR": "⚠️",
          "TIMEOUT": "⏱️", "VACUOUS": "🕳️"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # with <, >, & as entities: no HTML, links, emphasis or cells


@dataclass(frozen=True)
class _Result:
    """One verdict with what the registry still knows about it (``claim`` and ``algorithm`` may be None)."""

    trace: Trace
    verdict: Verdict
    base: str  # the correct version's name: the section this result belongs to
    mutant: str | None  # a mutant's or a null learner's name
    null: bool
    algorithm: Algorithm | None  # the correct version, if still registered
    claim: Claim | None
    stale: bool = False  # the current code would not produce this verdict (theory.history)
    created: float | None = None  # when its run was stored
    budget: Budget | None = None  # what it was run with, when known

    @property
    def outcome(self) -> str:
        return outcome(self.verdict)

    @property
    def metric(self) -> str | None:
        if self.claim is not None:
            return self.claim.metric
        return next(iter(self.trace.metrics)) if len(self.trace.metrics) == 1 else None


Results = Iterable["tuple[Trace, Verdict] | Dated"]


def write_report(results: Results, registry: Registry, out_dir: Path, commit: str = "") -> Path:
    """Write ``report.md``, ``index.html`` and ``plots/`` under ``out_dir``; return the ``index.html`` path.

    ``results`` are (Trace, Verdict) pairs, taken as current, or store entries dated by ``theory.history``
    (stale ones are shown flagged, never plotted or counted). When several current results share an algorithm
    and claim, the last one (the newest, in a store's order) is shown. ``commit`` names the code's commit.
    """
    out_dir = Path(out_dir)
    context = build_context(results, registry, out_dir / "plots")
    context["commit"] = commit or "not given"
    environment = _templates()
    (out_dir / "report.md").write_text(environment["md"].get_template("report.md.j2").render(context),
                                       encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(environment["html"].get_template("report.html.j2").render(context), encoding="utf-8")
    return index


def _resolve(item: tuple[Trace, Verdict] | Dated, registry: Registry) -> _Result:
    if isinstance(item, Dated):
        trace, verdict = item.entry.trace, item.entry.verdict
        extra = {"stale": not item.current, "created": item.entry.created, "budget": item.budget}
    else:
        (trace, verdict), extra = item, {}
    base, mutant = verdict.algorithm, None
    if verdict.mutant_of is not None:  # a mutant is named "base[mutant]" by Algorithm.mutant
        base, prefix = verdict.mutant_of, f"{verdict.mutant_of}["
        named = verdict.algorithm.startswith(prefix) and verdict.algorithm.endswith("]")
        mutant = verdict.algorithm[len(prefix):-1] if named else verdict.algorithm
    algorithm, claim, nulls = registry.algorithms.get(base), None, set()
    if algorithm is not None:
        families = [registry.families[c.experiment.family] for c in algorithm.claims
                    if c.experiment.family in registry.families]
        nulls = {m.name for m in (*algorithm.nulls, *(m for f in families for m in f.nulls))}
        try:
            claim = algorithm.claim(verdict.claim)
        except TheoryError:  # the claim is gone from the plugin: render from the trace and verdict alone
            pass
    return _Result(trace, verdict, base, mutant, mutant in nulls, algorithm, claim, **extra)  # type: ignore[arg-type]


def build_context(results: Results, registry: Registry, plots: Path) -> dict[str, Any]:
    """Everything both templates show, as plain strings and lists; draws the plots into ``plots`` (their
    paths in the context are relative to the report folder)."""
    plots.mkdir(parents=True, exist_ok=True)
    latest: dict[tuple[str, str, int], _Result] = {}
    for n, item in enumerate(results):
        r = _resolve(item, registry)
        latest[(r.verdict.algorithm, r.verdict.claim, n if r.stale else -1)] = r
    resolved = list(latest.values())
    current = [r for r in resolved if not r.stale]
    sections: dict[str, list[_Result]] = {}
    for result in resolved:
        sections.setdefault(result.base, []).append(result)
    totals = {status: sum(_status(r, current) == status for r in current if r.mutant is None)
              for status in STATUSES}
    return {
        "statuses": STATUSES,
        "totals": totals,
        "count": len(current),
        "stale": len(resolved) - len(current),
        "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "summary": _summary(current),
        "sections": [_section(name, items, registry, plots) for name, items in sorted(sections.items())],
        "comparisons": _comparisons(current, plots),
    }


def _summary(results: Sequence[_Result]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[_Result]] = {}
    for r in results:
        groups.setdefault((r.trace.experiment.family, _paper(r.algorithm)), []).append(r)
    rows = []
    for (family, paper), items in sorted(groups.items()):
        correct = [r for r in items if r.mutant is None]
        mutants = [r for r in items if r.mutant is not None and not r.null]
        rows.append({"family": family, "paper": paper,
                     "algorithms": ", ".join(sorted({r.base for r in items})), "claims": str(len(correct)),
                     "counts": {s: str(sum(_status(r, items) == s for r in correct)) for s in STATUSES},
                     "xfail": str(sum(r.verdict.expected_failure is not None for r in correct)),
                     "mutants": f"{sum(_caught(r, items) is True for r in mutants)}/{len(mutants)}"})
    return rows


def _paper(algorithm: Algorithm | None) -> str:
    if algorithm is None:
        return "(algorithm no longer registered)"
    paper = algorithm.paper
    arxiv = f", arXiv {paper.arxiv}" if paper.arxiv else ""
    return f"{paper.authors}, {paper.title} ({paper.year}{arxiv})"


def _status(r: _Result, results: Sequence[_Result]) -> str:
    """The status shown (``theory.cases.outcome``): a correct version's PASS is VACUOUS when one of its null
    learners among ``results`` did not FAIL."""
    status = r.outcome
    if r.mutant is None and status == "PASS" and any(
            o.null and o.base == r.base and o.verdict.claim == r.verdict.claim and o.verdict.status is not Status.FAIL
            for o in results):
        return "VACUOUS"
    return status


def _caught(mutant: _Result, results: Sequence[_Result]) -> bool | None:
    """A mutant is caught when it FAILs a claim its reference PASSes; None when there is no current reference
    (or the mutant's own verdict is stale)."""
    reference = next((r for r in results if r.mutant is None and not r.stale and r.base == mutant.base
                      and r.verdict.claim == mutant.verdict.claim), None)
    if reference is None or mutant.stale:
        return None
    return mutant.verdict.status is Status.FAIL and reference.verdict.status is Status.PASS


def _section(name: str, items: list[_Result], registry: Registry, plots: Path) -> dict[str, Any]:
    algorithm = items[0].algorithm
    claims: dict[str, list[_Result]] = {}
    for r in sorted(items, key=lambda r: (r.stale, r.mutant is not None, r.mutant or "")):
        claims.setdefault(r.verdict.claim, []).append(r)
    return {
        "id": slug("algorithm", name), "name": name, "registered": algorithm is not None,
        "paper": _paper(algorithm),
        "family": algorithm.family if algorithm else items[0].trace.experiment.family,
        "plugin": registry.owners.get(name, "unknown") if algorithm else "unknown",
        "claims": [_claim(name, claim, group, items, registry, plots) for claim, group in sorted(claims.items())],
    }


def _claim(base: str, name: str, group: list[_Result], every: list[_Result], registry: Registry,
           plots: Path) -> dict[str, Any]:
    claim = next((r.claim for r in group if r.claim is not None), None)
    experiment = group[0].trace.experiment  # what was run, even if the plugin has changed since
    verdict = group[0].verdict
    params = instance_parameters(experiment, registry.families.get(experiment.family))
    reference = group[0].budget if not group[0].stale else None
    return {
        "id": slug("claim", base, name), "name": name,
        "form": claim.form if claim else "(claim no longer registered)",
        "kind": claim.kind if claim else "", "metric": group[0].metric or "metric",
        "source": verdict.source or (claim.source if claim else ""), "note": claim.note if claim else "",
        "instance": f"{experiment.family} over {experiment.over}, {_params(params)}",
        "expected_failure": verdict.expected_failure or "",
        "reproduce": check_command(Case(algorithm=base, claim=name), reference) if reference else "",
        "plot": _claim_plot(base, name, [r for r in group if not r.stale], plots),
        "results": [_row(r, every) for r in group],
    }


def _params(params: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "no parameters"


def _row(r: _Result, every: list[_Result]) -> dict[str, Any]:
    v, t = r.verdict, r.trace
    bug = ""
    if r.mutant is not None and r.algorithm is not None:
        bug = next((m.bug for m in (*r.algorithm.mutants, *r.algorithm.nulls) if m.name == r.mutant), "null learner")
    caught = _caught(r, every) if r.mutant is not None and not r.null else None
    status = _status(r, [o for o in every if not o.stale])
    shown = "STALE" if r.stale else status
    role = "null" if r.null else "mutant" if r.mutant is not None else "reference"
    return {
        "algorithm": v.algorithm, "role": role, "kind": "null learner" if r.null else "mutant", "bug": bug,
        "status": shown, "mark": _MARKS.get(shown, "🕰️"),
        "css": "vacuous" if status == "VACUOUS" else v.status.value.lower(),
        "stale": f"was {status}" if r.stale else "",
        "expected": v.expected_failure or "",
        "caught": (("FAILs, as a null learner must" if v.status is Status.FAIL else "leaves the claim VACUOUS")
                   if r.null else _caught_text(caught, v.status)),
        "test": v.test, "estimate_name": estimate_name(v.test, _axis(r)), "estimate": _num(v.estimate),
        "ci": f"[{_num(v.ci[0])}, {_num(v.ci[1])}]" if v.ci else "–", "level": f"{v.level:g}",
        "claimed": _num(v.claimed), "evidence": _with_constant(v), "seeds": str(v.seeds or len(t.seeds)),
        "version": t.version, "device": t.device, "dtype": t.dtype, "elapsed": f"{t.elapsed_s:.3g} s",
        "grid": ", ".join(f"{x:g}" for x in t.grid),
        "environment": ", ".join(f"{k} {val}" for k, val in sorted(t.environment.items())) or "not recorded",
        "provenance": _provenance(r),
    }


def _provenance(r: _Result) -> str:
    """Base seed, budget and date of a row's run, as far as they are known."""
    parts = []
    if r.budget is not None:
        parts.append(f"base seed {r.budget.base_seed}" + (", quick" if r.budget.quick else ""))
    if r.created is not None:
        parts.append("run " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(r.created)))
    return "; ".join(parts) or "base seed and date not recorded"


def _with_constant(v: Verdict) -> str:
    """The evidence, then the hidden constant (the fitted C, or how loose an explicit bound is)."""
    from theory.render import constant_text

    text = constant_text(v)
    return v.evidence if text == "-" else f"{v.evidence}; constant: {text}"


def _caught_text(caught: bool | None, status: Status) -> str:
    if caught is None:
        return ""
    if caught:
        return "caught"
    return "not caught: the correct version did not PASS" if status is Status.FAIL else "not caught"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


# --- plots --------------------------------------------------------------------------------------------------

def _claim_plot(base: str, name: str, group: list[_Result], plots: Path) -> dict[str, Any] | None:
    """The reference and its mutants on one set of axes, with the claimed rate or bound."""
    series = [(r.verdict.algorithm, _label(r.verdict, _axis(r)), [row.x for row in r.verdict.rows],
               [row.mean for row in r.verdict.rows], [row.low for row in r.verdict.rows],
               [row.high for row in r.verdict.rows]) for r in group if r.verdict.rows]
    if not series:
        return None
    anchor = next(r for r in group if r.verdict.rows)
    v = anchor.verdict
    x = np.array([row.x for row in v.rows])
    form = np.array([row.form for row in v.rows])
    if v.test in ("rate", "contraction"):
        # The constant that makes the claimed rate touch the correct version's means without crossing them
        # (from above for an upper bound): matched at one point, a slower-growing PASS would cross it.
        mean = np.array([row.mean for row in v.rows])
        positive = (mean > 0) & (form > 0)
        lower = anchor.claim is not None and anchor.claim.kind == "lower"
        ratio = mean[positive] / form[positive]
        constant = (ratio.min() if lower else ratio.max()) if positive.any() else None
        claimed = (form * constant if constant is not None else None,
                   f"claimed rate, constant the {'largest under' if lower else 'smallest over'} every mean")
    else:
        claimed = (form, {"envelope": "claimed bound", "privacy": "claimed epsilon"}.get(v.test, "claimed value"))
    over = anchor.claim.axis if anchor.claim else anchor.trace.experiment.over
    level = f"band: one-sided {v.level:g} bounds on the mean over {v.seeds} seeds"
    metric = anchor.metric or "metric"
    if v.test in ("privacy", "privacy-gdp"):  # rows hold the plug-in value and its lower bound, not a mean
        level = f"line: plug-in epsilon; band down to its lower bound (level {v.level:g} over the grid)"
        metric = "epsilon"
    files = draw(slug(base, name), plots, series, (x, *claimed), over, metric,
                  f"{base}: {name}", log_x=v.test != "contraction")
    return {**files, "series": [s[0] for s in series], "caption": level}


def _label(v: Verdict, axis: str) -> str:
    if v.estimate is None:
        return f"{v.algorithm} ({outcome(v)})"
    ci = f" [{v.ci[0]:.3g}, {v.ci[1]:.3g}]" if v.ci else ""
    return f"{v.algorithm} ({outcome(v)}): {estimate_name(v.test, axis)} {v.estimate:.3g}{ci}"


def _axis(r: _Result) -> str:
    """What the claim's rate is in: its ``against`` counter if the claim is still registered, else the grid."""
    return r.claim.axis if r.claim is not None else r.trace.experiment.over


def _comparisons(results: Sequence[_Result], plots: Path) -> list[dict[str, Any]]:
    """Correct versions of different algorithms measured on the same instance and metric, on one plot."""
    groups: dict[str, dict[str, _Result]] = {}
    for r in results:
        if r.mutant is not None or r.metric is None or r.metric not in r.trace.metrics:
            continue
        e = r.trace.experiment
        axis = r.claim.axis if r.claim else e.over
        key = json.dumps([e.family, axis, _params(e.params), r.metric])
        groups.setdefault(key, {})[r.verdict.algorithm] = r
    out = []
    for key, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        family, over, params, metric = json.loads(key)
        # One x scale per metric: linear when a member's claim is a linear rate (where geometric decay is
        # straight), else log; the slope is fitted on the same scale.
        log_x = not any(r.verdict.test == "contraction" for r in members.values())
        series, slopes = [], []
        for name, r in sorted(members.items()):
            values = r.trace.metrics[metric]
            # x: the grid, or (a claim against an oracle counter) the counter's mean at each grid point
            x = axis_values(r.claim, r.trace) if r.claim else np.asarray(r.trace.grid, dtype=float)
            if isinstance(x, str):
                continue
            tests = stats.mean_tests(values, np.zeros(len(x)), r.verdict.level)
            slope = _slope(values, x, r.verdict.level, log_x)
            slopes.append(f"{name}: {slope}")
            series.append((name, f"{name} ({len(r.trace.seeds)} seeds): {slope}", list(x),
                           list(tests.mean), list(tests.lower), list(tests.upper)))
        if len(series) < 2:
            continue
        title = f"{metric} on {family} over {over}"
        files = draw(slug("compare", family, over, params, metric), plots, series, None, over, metric, title,
                     log_x=log_x)
        what = "log-log slope" if log_x else f"slope of log {metric} per unit of {over}"
        out.append({"title": title, "instance": f"{family} over {over}, {params}", "metric": metric,
                    "algorithms": sorted(members), "slopes": slopes,
                    "caption": f"band: one-sided bounds on the mean over seeds, at each verdict's level; {what} "
                               "fitted on the upper half of the grid, with a delta-method interval at that level",
                    **files})
    return out


def _slope(values: np.ndarray, x: np.ndarray, level: float, log_x: bool) -> str:
    """The slope of log(mean) on log(x) (or x) over the upper half of the grid, as the rate test fits it,
    with a delta-method interval from the seeds' covariance across grid points: linear in the seed count (a
    bootstrap took 27 s on a 100000-seed run), and only descriptive; verdicts come from the checker."""
    window = np.arange(len(x) // 2, len(x))
    mean = values[:, window].mean(axis=0)
    if len(window) < 2 or np.any(mean <= 0) or not np.all(np.isfinite(mean)):
        return "no slope (too few points, or a mean that is not positive)"
    abscissa = np.log(x[window]) if log_x else x[window]
    weights = (abscissa - abscissa.mean()) / ((abscissa - abscissa.mean()) ** 2).sum()
    estimate = float(weights @ np.log(mean))
    seeds = values.shape[0]
    gradient = weights / mean  # d slope / d mean_i
    covariance = np.cov(values[:, window], rowvar=False) / seeds if seeds > 1 else np.full((len(window),) * 2, np.inf)
    spread = float(np.sqrt(max(gradient @ covariance @ gradient, 0.0)))
    z = float(stats.scipy_stats.norm.ppf(level))
    return (f"slope {estimate:.3g} [{estimate - z * spread:.3g}, {estimate + z * spread:.3g}] "
            f"on {x[window[0]]:g}..{x[window[-1]]:g}")


# --- templates ----------------------------------------------------------------------------------------------

def md_escape(value: object) -> str:
    """Markdown text that shows ``value`` literally: no HTML, no links, no emphasis, no table breaks."""
    text = html.escape(str(value), quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _templates() -> dict[str, Any]:
    import jinja2

    loader = jinja2.PackageLoader("theory", "templates")
    common: dict[str, Any] = dict(loader=loader, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return {"html": jinja2.Environment(autoescape=True, **common),
            "md": jinja2.Environment(autoescape=False, finalize=md_escape, **common)}
