"""Render results (Trace, Verdict pairs from a store or a run) to a folder: report.md, index.html, plots/.

The report only renders verdicts; it judges nothing. One context dict feeds two jinja2 templates (Markdown
and HTML) so both show the same content. Everything a plugin wrote (names, forms, sources, evidence) is
untrusted text: the HTML template autoescapes, the Markdown template escapes every expression through its
``finalize`` hook, plot labels escape ``$`` so matplotlib never parses maths, and plot file names are slugs
of those names plus a hash, never the names themselves. The HTML has no script and no external resource, so it
opens offline. matplotlib and jinja2 are imported inside functions so that ``import theory.report`` is cheap.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theory import stats
from theory.check import Status, Verdict
from theory.claims import Claim
from theory.errors import TheoryError
from theory.registry import Registry
from theory.runner import Trace
from theory.spec import Algorithm

STATUSES = tuple(status.value for status in Status)
_MARKS = {"PASS": "✅", "FAIL": "❌", "INCONCLUSIVE": "❔", "ERROR": "⚠️", "TIMEOUT": "⏱️"}
_ESTIMATES = {"rate": "fitted exponent", "contraction": "contraction factor per step",
              "envelope": "worst mean / bound", "exact": "largest relative error", "run": "estimate",
              "privacy": "epsilon lower bound"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # with <, >, & as entities: no HTML, links, emphasis or cells


@dataclass(frozen=True)
class _Result:
    """One verdict with what the registry still knows about it (``claim`` and ``algorithm`` may be None)."""

    trace: Trace
    verdict: Verdict
    base: str  # the correct version's name: the section this result belongs to
    mutant: str | None
    algorithm: Algorithm | None  # the correct version, if still registered
    claim: Claim | None

    @property
    def metric(self) -> str | None:
        if self.claim is not None:
            return self.claim.metric
        return next(iter(self.trace.metrics)) if len(self.trace.metrics) == 1 else None


def write_report(results: Iterable[tuple[Trace, Verdict]], registry: Registry, out_dir: Path) -> Path:
    """Write ``report.md``, ``index.html`` and ``plots/`` under ``out_dir``; return the ``index.html`` path.

    When several results share an algorithm and claim, the last one (the newest, in a store's order) is shown.
    """
    out_dir = Path(out_dir)
    context = build_context(results, registry, out_dir / "plots")
    environment = _templates()
    (out_dir / "report.md").write_text(environment["md"].get_template("report.md.j2").render(context),
                                       encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(environment["html"].get_template("report.html.j2").render(context), encoding="utf-8")
    return index


def _resolve(trace: Trace, verdict: Verdict, registry: Registry) -> _Result:
    base, mutant = verdict.algorithm, None
    if verdict.mutant_of is not None:  # a mutant is named "base[mutant]" by Algorithm.mutant
        base, prefix = verdict.mutant_of, f"{verdict.mutant_of}["
        named = verdict.algorithm.startswith(prefix) and verdict.algorithm.endswith("]")
        mutant = verdict.algorithm[len(prefix):-1] if named else verdict.algorithm
    algorithm, claim = registry.algorithms.get(base), None
    if algorithm is not None:
        try:
            claim = algorithm.claim(verdict.claim)
        except TheoryError:  # the claim is gone from the plugin: render from the trace and verdict alone
            pass
    return _Result(trace, verdict, base, mutant, algorithm, claim)


def build_context(results: Iterable[tuple[Trace, Verdict]], registry: Registry,
                  plots: Path) -> dict[str, Any]:
    """Everything both templates show, as plain strings and lists; draws the plots into ``plots`` (their
    paths in the context are relative to the report folder)."""
    plots.mkdir(parents=True, exist_ok=True)
    latest: dict[tuple[str, str], _Result] = {}
    for trace, verdict in results:
        latest[(verdict.algorithm, verdict.claim)] = _resolve(trace, verdict, registry)
    resolved = list(latest.values())
    sections: dict[str, list[_Result]] = {}
    for result in resolved:
        sections.setdefault(result.base, []).append(result)
    totals = {status: sum(r.verdict.status.value == status for r in resolved if r.mutant is None)
              for status in STATUSES}
    return {
        "statuses": STATUSES,
        "totals": totals,
        "count": len(resolved),
        "summary": _summary(resolved),
        "sections": [_section(name, items, registry, plots) for name, items in sorted(sections.items())],
        "comparisons": _comparisons(resolved, plots),
    }


def _summary(results: Sequence[_Result]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[_Result]] = {}
    for r in results:
        groups.setdefault((r.trace.experiment.family, _paper(r.algorithm)), []).append(r)
    rows = []
    for (family, paper), items in sorted(groups.items()):
        correct = [r for r in items if r.mutant is None]
        mutants = [r for r in items if r.mutant is not None]
        rows.append({"family": family, "paper": paper,
                     "algorithms": ", ".join(sorted({r.base for r in items})), "claims": str(len(correct)),
                     "counts": {s: str(sum(r.verdict.status.value == s for r in correct)) for s in STATUSES},
                     "xfail": str(sum(r.verdict.expected_failure is not None for r in correct)),
                     "mutants": f"{sum(_caught(r, items) is True for r in mutants)}/{len(mutants)}"})
    return rows


def _paper(algorithm: Algorithm | None) -> str:
    if algorithm is None:
        return "(algorithm no longer registered)"
    paper = algorithm.paper
    arxiv = f", arXiv {paper.arxiv}" if paper.arxiv else ""
    return f"{paper.authors}, {paper.title} ({paper.year}{arxiv})"


def _caught(mutant: _Result, results: Sequence[_Result]) -> bool | None:
    """A mutant is caught when it FAILs a claim its reference PASSes; None when there is no reference."""
    reference = next((r for r in results if r.mutant is None and r.base == mutant.base
                      and r.verdict.claim == mutant.verdict.claim), None)
    if reference is None:
        return None
    return mutant.verdict.status is Status.FAIL and reference.verdict.status is Status.PASS


def _section(name: str, items: list[_Result], registry: Registry, plots: Path) -> dict[str, Any]:
    algorithm = items[0].algorithm
    claims: dict[str, list[_Result]] = {}
    for r in sorted(items, key=lambda r: (r.mutant is not None, r.mutant or "")):
        claims.setdefault(r.verdict.claim, []).append(r)
    return {
        "id": slug("algorithm", name), "name": name, "registered": algorithm is not None,
        "paper": _paper(algorithm),
        "family": algorithm.family if algorithm else items[0].trace.experiment.family,
        "plugin": registry.owners.get(name, "unknown") if algorithm else "unknown",
        "claims": [_claim(name, claim, group, items, plots) for claim, group in sorted(claims.items())],
    }


def _claim(base: str, name: str, group: list[_Result], every: list[_Result], plots: Path) -> dict[str, Any]:
    claim = next((r.claim for r in group if r.claim is not None), None)
    experiment = group[0].trace.experiment  # what was run, even if the plugin has changed since
    verdict = group[0].verdict
    return {
        "id": slug("claim", base, name), "name": name,
        "form": claim.form if claim else "(claim no longer registered)",
        "kind": claim.kind if claim else "", "metric": group[0].metric or "metric",
        "source": verdict.source or (claim.source if claim else ""), "note": claim.note if claim else "",
        "instance": f"{experiment.family} over {experiment.over}, {_params(experiment.params)}",
        "expected_failure": verdict.expected_failure or "",
        "plot": _claim_plot(base, name, group, plots),
        "results": [_row(r, every) for r in group],
    }


def _params(params: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "no parameters"


def _row(r: _Result, every: list[_Result]) -> dict[str, Any]:
    v, t = r.verdict, r.trace
    bug = ""
    if r.mutant is not None and r.algorithm is not None:
        bug = next((m.bug for m in r.algorithm.mutants if m.name == r.mutant), "")
    caught = _caught(r, every) if r.mutant is not None else None
    return {
        "algorithm": v.algorithm, "role": "mutant" if r.mutant is not None else "reference", "bug": bug,
        "status": v.status.value, "mark": _MARKS.get(v.status.value, ""), "css": v.status.value.lower(),
        "expected": v.expected_failure or "",
        "caught": _caught_text(caught, v.status),
        "test": v.test, "estimate_name": _ESTIMATES.get(v.test, "estimate"), "estimate": _num(v.estimate),
        "ci": f"[{_num(v.ci[0])}, {_num(v.ci[1])}]" if v.ci else "–", "level": f"{v.level:g}",
        "claimed": _num(v.claimed), "evidence": _with_constant(v), "seeds": str(v.seeds or len(t.seeds)),
        "version": t.version, "device": t.device, "dtype": t.dtype, "elapsed": f"{t.elapsed_s:.3g} s",
        "grid": ", ".join(f"{x:g}" for x in t.grid),
        "environment": ", ".join(f"{k} {val}" for k, val in sorted(t.environment.items())) or "not recorded",
    }


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

def slug(*parts: str) -> str:
    """A file-name- and anchor-safe name: lowercase letters, digits and dashes, then a hash of the raw parts
    (so distinct names never share a file); never a path."""
    text = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")[:60].strip("-") or "x"
    return f"{text}-{hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:10]}"


def _claim_plot(base: str, name: str, group: list[_Result], plots: Path) -> dict[str, Any] | None:
    """The reference and its mutants on one set of axes, with the claimed rate or bound."""
    series = [(r.verdict.algorithm, _label(r.verdict), [row.x for row in r.verdict.rows],
               [row.mean for row in r.verdict.rows], [row.low for row in r.verdict.rows],
               [row.high for row in r.verdict.rows]) for r in group if r.verdict.rows]
    if not series:
        return None
    anchor = next(r for r in group if r.verdict.rows)
    v = anchor.verdict
    x = np.array([row.x for row in v.rows])
    form = np.array([row.form for row in v.rows])
    if v.test in ("rate", "contraction"):
        mean = np.array([row.mean for row in v.rows])
        positive = np.flatnonzero(mean > 0)
        claimed = (form * mean[positive[-1]] / form[positive[-1]] if len(positive) else None,
                   "claimed rate (constant matched at the largest grid point)")
    else:
        claimed = (form, {"envelope": "claimed bound", "privacy": "claimed epsilon"}.get(v.test, "claimed value"))
    over = anchor.claim.experiment.over if anchor.claim else anchor.trace.experiment.over
    level = f"band: one-sided {v.level:g} bounds on the mean over {v.seeds} seeds"
    metric = anchor.metric or "metric"
    if v.test == "privacy":  # rows hold the plug-in epsilon and its lower bound, not a mean of the metric
        level = f"line: plug-in epsilon; band down to its lower bound (level {v.level:g} over the grid)"
        metric = "epsilon"
    files = _draw(slug(base, name), plots, series, (x, *claimed), over, metric,
                  f"{base}: {name}", log_x=v.test != "contraction")
    return {**files, "series": [s[0] for s in series], "caption": level}


def _label(v: Verdict) -> str:
    if v.estimate is None:
        return f"{v.algorithm} ({v.status.value})"
    ci = f" [{v.ci[0]:.3g}, {v.ci[1]:.3g}]" if v.ci else ""
    return f"{v.algorithm} ({v.status.value}): {_ESTIMATES.get(v.test, 'estimate')} {v.estimate:.3g}{ci}"


def _comparisons(results: Sequence[_Result], plots: Path) -> list[dict[str, Any]]:
    """Correct versions of different algorithms measured on the same instance and metric, on one plot."""
    groups: dict[str, dict[str, _Result]] = {}
    for r in results:
        if r.mutant is not None or r.metric is None or r.metric not in r.trace.metrics:
            continue
        e = r.trace.experiment
        key = json.dumps([e.family, e.over, _params(e.params), r.metric])
        groups.setdefault(key, {})[r.verdict.algorithm] = r
    out = []
    for key, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        family, over, params, metric = json.loads(key)
        series = []
        for name, r in sorted(members.items()):
            tests = stats.mean_tests(r.trace.metrics[metric], np.zeros(len(r.trace.grid)), r.verdict.level)
            series.append((name, f"{name} ({len(r.trace.seeds)} seeds)", list(r.trace.grid),
                           list(tests.mean), list(tests.lower), list(tests.upper)))
        title = f"{metric} on {family} over {over}"
        files = _draw(slug("compare", family, over, params, metric), plots, series, None, over, metric, title,
                      log_x=True)
        out.append({"title": title, "instance": f"{family} over {over}, {params}", "metric": metric,
                    "algorithms": sorted(members),
                    "caption": "band: one-sided bounds on the mean over seeds, at each verdict's level",
                    **files})
    return out


def _draw(stem: str, plots: Path, series: list, claimed: tuple | None, over: str, metric: str, title: str,
          log_x: bool) -> dict[str, str]:
    """Draw mean and band per series and a dashed claimed curve; write PNG and SVG; return relative paths."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend
    from matplotlib.ticker import NullLocator

    means = np.concatenate([np.asarray(s[3], dtype=float) for s in series])
    log_y = bool(np.all(means > 0))
    floor = float(means[means > 0].min()) / 10 if np.any(means > 0) else 1e-12
    with matplotlib.rc_context({"svg.fonttype": "path", "backend": "agg"}):
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.add_subplot()
        for color, (_, label, x, mean, low, high) in zip(_colors(len(series)), series, strict=True):
            mean, low, high = (np.asarray(v, dtype=float) for v in (mean, low, high))
            # One seed gives infinite bounds: no band there. Log axes drop values <= 0: clip the band's foot.
            low, high = np.where(np.isfinite(low), low, mean), np.where(np.isfinite(high), high, mean)
            ax.fill_between(x, np.maximum(low, floor) if log_y else low, high, color=color, alpha=0.2,
                            linewidth=0)
            ax.plot(x, mean, "o-", color=color, label=_short(label, 80), markersize=3)
        ax.set_yscale("log" if log_y else "linear")
        if claimed is not None and claimed[1] is not None:
            ax.plot(claimed[0], claimed[1], "--", color="black", label=claimed[2], scaley=False)
            _show_claimed(ax, np.asarray(claimed[1], dtype=float), log_y)
        ax.set_xscale("log" if log_x else "linear")
        ticks = sorted({float(v) for s in series for v in s[2]})
        ticks = ticks[::2] if len(ticks) > 8 else ticks
        ax.set_xticks(ticks, labels=[f"{v:g}" for v in ticks], fontsize=8)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(_short(over, 40))
        ax.set_ylabel(_short(metric, 40) + ("" if log_y else " (linear scale: some means are not positive)"))
        ax.set_title(_short(title, 90), fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.savefig(plots / f"{stem}.png", dpi=110, metadata={"Software": None})
        fig.savefig(plots / f"{stem}.svg", metadata={"Date": None})
    return {"png": f"plots/{stem}.png", "svg": f"plots/{stem}.svg"}


def _show_claimed(ax: Any, claimed: np.ndarray, log_y: bool) -> None:
    """Widen the y range to show the claimed curve, but by at most 3 decades (log) or twice the data's span
    (linear): a bound far from the data must not flatten the curves the reader came to see."""
    low, high = ax.get_ylim()
    values = claimed[np.isfinite(claimed) & ((claimed > 0) if log_y else True)]
    if not len(values):
        return
    reach = (low / 1e3, high * 1e3) if log_y else (low - 2 * (high - low), high + 2 * (high - low))
    bottom, top = max(min(low, values.min()), reach[0]), min(max(high, values.max()), reach[1])
    pad = (1.2, 1.2) if log_y else (0.05 * (top - bottom),) * 2
    if top > high:
        top = top * pad[1] if log_y else top + pad[1]
    if bottom < low:
        bottom = bottom / pad[0] if log_y else bottom - pad[0]
    ax.set_ylim(bottom, top)


def _short(text: str, limit: int) -> str:
    """Plugin text for a plot: ``$`` escaped so matplotlib never parses it as maths, and cut short so a long
    name cannot squeeze the axes away (the page shows it whole)."""
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return text.replace("$", r"\$")


def _colors(n: int) -> list:
    import matplotlib

    cycle = matplotlib.colormaps["tab10"]
    return [cycle(i % 10) for i in range(n)]


# --- templates ----------------------------------------------------------------------------------------------

def md_escape(value: object) -> str:
    """Markdown text that shows ``value`` literally: no HTML, no links, no emphasis, no table breaks."""
    text = html.escape(str(value), quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _templates() -> dict[str, Any]:
    import jinja2

    loader = jinja2.PackageLoader("theory", "templates")
    common = dict(loader=loader, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return {"html": jinja2.Environment(autoescape=True, **common),
            "md": jinja2.Environment(autoescape=False, finalize=md_escape, **common)}
