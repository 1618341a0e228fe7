"""Drawing the report's plots with matplotlib: mean and confidence band per series, a dashed claimed curve.

No pyplot (no global figure state, no GUI backend). Plugin text in labels escapes ``$`` so matplotlib never
parses it as maths; legend labels wrap rather than being cut; file names are slugs plus a hash, never names.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np


def slug(*parts: str) -> str:
    """A file-name- and anchor-safe name: lowercase letters, digits and dashes, then a hash of the raw parts
    (so distinct names never share a file); never a path."""
    text = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")[:60].strip("-") or "x"
    return f"{text}-{hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:10]}"


def draw(stem: str, plots: Path, series: list, claimed: tuple | None, over: str, metric: str, title: str,
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
            ax.plot(x, mean, "o-", color=color, label=_wrap(label), markersize=3)
        ax.set_yscale("log" if log_y else "linear")
        if claimed is not None and claimed[1] is not None:
            ax.plot(claimed[0], claimed[1], "--", color="black", label=claimed[2], scaley=False)
            _show_claimed(ax, np.asarray(claimed[1], dtype=float), log_y)
        ax.set_xscale("log" if log_x else "linear")
        ticks = _spaced(sorted({float(v) for s in series for v in s[2]}), log_x)
        ax.set_xticks(ticks, labels=[f"{v:g}" for v in ticks], fontsize=8)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(_short(over, 40))
        ax.set_ylabel(_short(metric, 40) + ("" if log_y else " (linear scale: some means are not positive)"))
        ax.set_title(_short(title, 90), fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.savefig(plots / f"{stem}.png", dpi=110, metadata={"Software": None})
        fig.set_layout_engine("none")  # the layout is solved: the SVG keeps it instead of solving it again
        fig.savefig(plots / f"{stem}.svg", metadata={"Date": None})
    return {"png": f"plots/{stem}.png", "svg": f"plots/{stem}.svg"}


def _spaced(ticks: list[float], log_x: bool, share: float = 0.07) -> list[float]:
    """The grid values as tick marks, each at least ``share`` of the axis from the last one kept: series with
    grids of their own (a counter on the x-axis) would otherwise print their labels over each other."""
    position = np.log10 if log_x else (lambda v: v)
    usable = [v for v in ticks if v > 0] if log_x else ticks
    if len(usable) < 2:
        return usable
    gap = share * float(position(usable[-1]) - position(usable[0]))
    kept = [usable[0]]
    for v in usable[1:]:
        if float(position(v) - position(kept[-1])) >= gap:
            kept.append(v)
    return kept


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


def _wrap(text: str, width: int = 70) -> str:
    """A legend label in full, over several lines: a cut label would hide the estimate or the interval."""
    return "\n".join(textwrap.wrap(text.replace("$", r"\$"), width)) or " "


def _colors(n: int) -> list:
    import matplotlib

    cycle = matplotlib.colormaps["tab10"]
    return [cycle(i % 10) for i in range(n)]
