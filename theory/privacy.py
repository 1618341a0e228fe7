"""Privacy auditing: a statistically valid lower bound on the epsilon a mechanism really provides.

A mechanism M is (eps, delta)-differentially private when, for neighbouring inputs D, D' and every set S of
outputs, P(M(D) in S) <= e^eps P(M(D') in S) + delta (and the same with D and D' swapped). Any one set S
therefore gives

    eps >= log((P(M(D') in S) - delta) / P(M(D) in S)),

and with a one-sided Clopper-Pearson lower bound on the numerator's probability and an upper bound on the
denominator's, each at alpha / 2, the right-hand side becomes a lower bound on eps that holds with probability
at least 1 - alpha (a union bound: valid however the two outputs of one seed are coupled). The sets are the
threshold sets {o > tau} and {o <= tau} of a scalar output statistic o, in both roles of D and D'.

Which set to use must not peek at the runs that bound it: the first ``SELECTION`` (30%) of the runs on each
input pick the threshold, the side and the roles (the candidate with the best bound on those runs, computed with
Wilson's cheaper intervals, which favours sets with enough hits), and the other runs bound the chosen set
alone, so no correction for the search is needed. (The best of 256 thresholds on the same runs, at level 0.9,
accused identical output laws in 30% of audits.)

The bound is only as good as the inputs and the statistic: it never proves privacy (docs/privacy.md).
Accounting (the epsilon of a composition, the noise a target needs) goes through Google's ``dp-accounting``
library, never through formulas written here; it is imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CANDIDATES = 256  # thresholds tried on the selection runs: quantiles of their pooled outputs
# Share of the runs that choose the test; the rest bound it. 0.3 gave higher lower bounds than 0.5, 0.2 or 0.1
# on halved-noise Gaussian mechanisms (delta = 1e-5, 40,000 and 100,000 runs).
SELECTION = 0.3


@dataclass(frozen=True)
class Audit:
    """The audit of one pair of neighbouring inputs.

    ``lower`` is the epsilon lower bound at ``level`` (0 when no set shows anything: epsilon is never
    negative); ``estimate`` the plug-in epsilon of the chosen set on the held-out runs (inf when the
    denominator's set was never hit); the chosen set is {o > threshold} (``side`` "above") or {o <=
    threshold} (``side`` "below"), with the input ``numerator`` (0 or 1) in the numerator; ``hits`` and
    ``trials`` are the held-out counts (numerator, denominator); ``ceiling`` is the largest lower bound this
    many held-out seeds could ever give (every numerator seed in S, no denominator seed in S).
    """

    lower: float
    estimate: float
    level: float
    threshold: float
    side: str
    numerator: int
    hits: tuple[int, int]
    trials: tuple[int, int]
    ceiling: float


def clopper_pearson(hits: np.ndarray, trials: np.ndarray | int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Clopper-Pearson bounds on a binomial proportion: each holds with probability >= 1 - alpha."""
    from scipy import stats as scipy_stats  # here, not at import: it costs a second of every registry build

    hits = np.asarray(hits, dtype=float)
    trials = np.broadcast_to(np.asarray(trials, dtype=float), hits.shape)
    with np.errstate(invalid="ignore"):
        low = np.where(hits > 0, scipy_stats.beta.ppf(alpha, hits, trials - hits + 1), 0.0)
        high = np.where(hits < trials, scipy_stats.beta.ppf(1 - alpha, hits + 1, trials - hits), 1.0)
    return low, high


def _log_ratio(low: np.ndarray, high: np.ndarray, delta: float) -> np.ndarray:
    """log((low - delta) / high), or -inf where low <= delta (the set says nothing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(low > delta, np.log(np.maximum(low - delta, 1e-300) / high), -np.inf)


def _wilson(hits: np.ndarray, trials: float, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score bounds: a cheap stand-in for Clopper-Pearson when ranking candidate sets."""
    p = hits / trials
    centre, spread = p + z * z / (2 * trials), z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials), (centre + spread) / (1 + z * z / trials)


def _hits(outputs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per row, how many outputs lie at or below each of that row's thresholds."""
    ordered = torch.sort(torch.from_numpy(outputs), dim=-1).values
    return torch.searchsorted(ordered, torch.from_numpy(np.ascontiguousarray(thresholds)), right=True).numpy()


def _gaussian_dp(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Phi^-1(low) - Phi^-1(high): a mechanism that is mu-GDP has mu at least this for any set S with
    P(M(D') in S) >= low and P(M(D) in S) <= high (the trade-off bound 1 - P(D' in S) >= Phi(Phi^-1(1 - P(D in
    S)) - mu), rearranged); -inf where the set says nothing."""
    from scipy import stats as scipy_stats

    with np.errstate(divide="ignore", invalid="ignore"):
        found = scipy_stats.norm.ppf(low) - scipy_stats.norm.ppf(high)
    return np.where(np.isnan(found), -np.inf, found)


def _audit(first: np.ndarray, second: np.ndarray, bound, level: float, candidates: int) -> dict:
    """The audit of every row of ``first`` and ``second`` (shape (rows, runs)), as arrays over rows.

    ``bound(low, high)`` turns a lower bound on the numerator's probability of a set and an upper bound on the
    denominator's into a lower bound on the privacy parameter (epsilon at a delta, or Gaussian-DP mu)."""
    if min(first.shape[-1], second.shape[-1]) < 4:
        raise ValueError("an audit needs at least 4 runs on each input")
    if not 0 < level < 1:
        raise ValueError(f"level {level} must lie in (0, 1)")
    alpha = 1 - level
    picks = (int(first.shape[-1] * SELECTION), int(second.shape[-1] * SELECTION))
    pick = (first[:, :picks[0]], second[:, :picks[1]])
    held = (first[:, picks[0]:], second[:, picks[1]:])
    # Choose on the selection runs: thresholds at quantiles of their pooled outputs, four sets per threshold.
    thresholds = np.quantile(np.concatenate(pick, axis=1), np.linspace(0, 1, candidates), axis=1).T
    below = [_hits(x, thresholds) for x in pick]
    from scipy import stats as scipy_stats

    z = float(scipy_stats.norm.ppf(1 - alpha / 2))
    options, scored = [], []
    for side in ("above", "below"):
        chosen = [(picks[i] - below[i]) if side == "above" else below[i] for i in (0, 1)]
        bounds = [_wilson(chosen[i], picks[i], z) for i in (0, 1)]
        for first_numerator in (0, 1):
            options.append((side, first_numerator))
            scored.append(bound(bounds[first_numerator][0], bounds[1 - first_numerator][1]))
    scores = np.stack(scored, axis=1)  # (rows, 4, candidates)
    flat = scores.reshape(len(first), -1).argmax(axis=1)
    option, index = np.divmod(flat, candidates)
    rows = np.arange(len(first))
    threshold = thresholds[rows, index]
    side_above = np.array([options[o][0] == "above" for o in option])
    numerator = np.array([options[o][1] for o in option])
    # Bound the chosen set on the held-out runs alone.
    counts = []
    for i in (0, 1):
        at_or_below = (held[i] <= threshold[:, None]).sum(axis=1)
        counts.append(np.where(side_above, held[i].shape[-1] - at_or_below, at_or_below))
    trials = np.array([held[0].shape[-1], held[1].shape[-1]])
    hits_num = np.where(numerator == 0, counts[0], counts[1])
    hits_den = np.where(numerator == 0, counts[1], counts[0])
    trials_num, trials_den = trials[numerator], trials[1 - numerator]
    low, _ = clopper_pearson(hits_num, trials_num, alpha / 2)
    _, high = clopper_pearson(hits_den, trials_den, alpha / 2)
    lower = np.maximum(0.0, bound(low, high))
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.nan_to_num(bound(hits_num / trials_num, hits_den / trials_den), nan=0.0)
    full, _ = clopper_pearson(trials_num, trials_num, alpha / 2)
    _, empty = clopper_pearson(np.zeros(len(first)), trials_den, alpha / 2)
    return {"lower": lower, "estimate": np.maximum(0.0, estimate), "threshold": threshold,
            "side": np.where(side_above, "above", "below"), "numerator": numerator,
            "hits": (hits_num, hits_den), "trials": (trials_num, trials_den),
            "ceiling": np.maximum(0.0, bound(full, empty))}


def _point(delta: float):
    if not 0 <= delta < 1:
        raise ValueError(f"delta {delta} must lie in [0, 1)")
    return lambda low, high: _log_ratio(low, high, delta)


def _one(found: dict, level: float) -> Audit:
    return Audit(lower=float(found["lower"][0]), estimate=float(found["estimate"][0]), level=level,
                 threshold=float(found["threshold"][0]), side=str(found["side"][0]),
                 numerator=int(found["numerator"][0]), hits=(int(found["hits"][0][0]), int(found["hits"][1][0])),
                 trials=(int(found["trials"][0][0]), int(found["trials"][1][0])), ceiling=float(found["ceiling"][0]))


def _rows(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float).reshape(1, -1)


def epsilon_lower_bound(first: np.ndarray, second: np.ndarray, *, delta: float = 0.0, level: float = 0.99,
                        candidates: int = CANDIDATES) -> Audit:
    """Audit a mechanism from its scalar outputs on two neighbouring inputs (one value per independent run).

    ``first`` and ``second`` are 1-d arrays (at least 4 runs each); the first ``SELECTION`` of each chooses the
    test, the rest bound it. The returned ``lower`` is below the mechanism's true epsilon at ``delta`` with
    probability at least ``level``, whatever the mechanism.
    """
    return _one(_audit(_rows(first), _rows(second), _point(delta), level, candidates), level)


def epsilon_lower_bounds(first: np.ndarray, second: np.ndarray, *, delta: float = 0.0, level: float = 0.99,
                         candidates: int = CANDIDATES) -> np.ndarray:
    """``epsilon_lower_bound`` of every row of ``first`` and ``second`` (shape (rows, runs)): independent
    audits, computed together."""
    return _audit(np.asarray(first, dtype=float), np.asarray(second, dtype=float), _point(delta), level,
                  candidates)["lower"]


def gaussian_dp_lower_bound(first: np.ndarray, second: np.ndarray, *, level: float = 0.99,
                            candidates: int = CANDIDATES) -> Audit:
    """Audit the whole trade-off curve at once: a lower bound on the Gaussian-DP parameter mu of the mechanism
    (below any mu for which it is mu-GDP, with probability at least ``level``), from the same threshold sets.

    A mu-GDP mechanism is (eps, delta(eps))-DP for every eps at once (delta(eps) = Phi(-eps/mu + mu/2) -
    e^eps Phi(-eps/mu - mu/2)), so this tests every point of that curve; central thresholds, which many runs
    visit, carry the evidence, where a single (eps, 1e-5) point needs the tails. ``lower`` and ``estimate``
    are in units of mu."""
    return _one(_audit(_rows(first), _rows(second), _gaussian_dp, level, candidates), level)


def gaussian_dp_lower_bounds(first: np.ndarray, second: np.ndarray, *, level: float = 0.99,
                             candidates: int = CANDIDATES) -> np.ndarray:
    """``gaussian_dp_lower_bound`` of every row: independent audits, computed together."""
    return _audit(np.asarray(first, dtype=float), np.asarray(second, dtype=float), _gaussian_dp, level,
                  candidates)["lower"]


def violation_p_value(audit: Audit, claimed: float, *, delta: float = 0.0, gaussian: bool = False) -> float:
    """The smallest alpha at which the set ``audit`` chose would bound the privacy parameter (epsilon at
    ``delta``, or Gaussian-DP mu) above ``claimed`` from its held-out counts: a valid p-value for "the
    mechanism meets the claim", since the set was chosen on other runs (P(p <= alpha) <= alpha for each alpha).
    Found by bisection on log alpha; 1 when no alpha would."""
    bound = _gaussian_dp if gaussian else _point(delta)

    def exceeds(alpha: float) -> bool:
        low, _ = clopper_pearson(np.array([audit.hits[0]]), audit.trials[0], alpha / 2)
        _, high = clopper_pearson(np.array([audit.hits[1]]), audit.trials[1], alpha / 2)
        return bool(bound(low, high)[0] > claimed)

    if not exceeds(1.0 - 1e-12):
        return 1.0
    # log10 alpha: exceeds(10**high) holds, exceeds(10**low) may not; below 1e-30 the beta quantiles lose
    # accuracy, and 1e-30 is reported (a valid p-value: it is never below the exact one)
    low, high = -30.0, 0.0
    if exceeds(10.0**low):
        return 10.0**low
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (low, middle) if exceeds(10.0**middle) else (middle, high)
    return float(10.0**high)


def gaussian_mu(epsilon: float, delta: float, *, releases: int = 1) -> float:
    """The Gaussian-DP mu that an accountant asserts for Gaussian noise calibrated to (epsilon, delta): the
    sensitivity over the noise ``gaussian_noise`` gives (composition of k releases included)."""
    return 1.0 / gaussian_noise(epsilon, delta, releases=releases)


# --- accounting (dp-accounting) -----------------------------------------------------------------------------


def gaussian_noise(epsilon: float, delta: float, *, sensitivity: float = 1.0, releases: int = 1) -> float:
    """The smallest standard deviation of Gaussian noise for which ``releases`` answers to a query of L2
    ``sensitivity`` are together (epsilon, delta)-DP, by dp-accounting's privacy loss distributions (exact
    for the Gaussian mechanism: Balle and Wang 2018's analytic calibration, composed)."""
    from dp_accounting.pld import accountant, common

    target = common.DifferentialPrivacyParameters(epsilon, delta)
    return float(accountant.get_smallest_gaussian_noise(target, num_queries=releases, sensitivity=sensitivity))


def gaussian_epsilon(noise: float, delta: float, *, sensitivity: float = 1.0, releases: int = 1) -> float:
    """The epsilon at ``delta`` of ``releases`` Gaussian answers with standard deviation ``noise`` to a query
    of L2 ``sensitivity``, composed by dp-accounting's PLD accountant (a pessimistic discretisation)."""
    from dp_accounting import dp_event
    from dp_accounting.pld import pld_privacy_accountant

    ledger = pld_privacy_accountant.PLDAccountant()
    ledger.compose(dp_event.GaussianDpEvent(noise / sensitivity), releases)
    return float(ledger.get_epsilon(delta))


def laplace_epsilon(scale: float, delta: float, *, sensitivity: float = 1.0, releases: int = 1) -> float:
    """The epsilon at ``delta`` of ``releases`` Laplace answers with scale ``scale`` to a query of L1
    ``sensitivity``, composed by dp-accounting's PLD accountant. At ``delta = 0`` the discretised accountant
    answers infinity: ask at a tiny delta (1e-12) for the pure-DP value."""
    from dp_accounting import dp_event
    from dp_accounting.pld import pld_privacy_accountant

    ledger = pld_privacy_accountant.PLDAccountant()
    ledger.compose(dp_event.LaplaceDpEvent(scale / sensitivity), releases)
    return float(ledger.get_epsilon(delta))
