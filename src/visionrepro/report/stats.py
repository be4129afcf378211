"""Statistics over seeds, for verdicts and comparisons: prediction and confidence intervals, the
predictive p-value of a reference, paired and Welch t-tests with the smallest difference they
would detect, Holm's adjustment, and the binomial error of an accuracy.

Everything rests on Student's t (scipy.stats): seeds are few (3 to 10), so normal quantiles would
overstate what they show. No interval is given below 3 seeds or for seeds that all agree: a
spread estimated from 2 values, or from none, is not one a reader should act on.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

LEVEL = 0.95
MIN_SEEDS = 3  # below this, no interval and no test
POWER = 0.8  # "the smallest difference the test would catch 4 times in 5"
# A comparison's columns in a table (compare_seeds' result with Holm's p), shared by the
# report's comparisons and python -m visionrepro.compare.
TEST_COLUMNS = ["difference", "ci_low", "ci_high", "test", "p_value", "p_holm", "detectable"]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    half_width: float


def _spread(values: Sequence[float]) -> tuple[np.ndarray, float, float] | None:
    """(values, mean, sample std), or None below MIN_SEEDS values or with zero spread."""
    data = np.asarray(values, dtype=float)
    if data.size < MIN_SEEDS:
        return None
    std = float(data.std(ddof=1))
    return (data, float(data.mean()), std) if std > 0 else None


def _t(level: float, df: float) -> float:
    return float(stats.t.ppf((1 + level) / 2, df))


def prediction_interval(values: Sequence[float], level: float = LEVEL) -> Interval | None:
    """Where one more run of the same recipe falls with probability `level`:
    mean ± t(n-1) · s · sqrt(1 + 1/n); None below 3 seeds or with zero spread."""
    spread = _spread(values)
    if spread is None:
        return None
    data, mean, std = spread
    half = _t(level, data.size - 1) * std * math.sqrt(1 + 1 / data.size)
    return Interval(mean - half, mean + half, half)


def mean_interval(values: Sequence[float], level: float = LEVEL) -> Interval | None:
    """The Student t confidence interval of the mean; None below 3 seeds or with zero spread."""
    spread = _spread(values)
    if spread is None:
        return None
    data, mean, std = spread
    half = _t(level, data.size - 1) * std / math.sqrt(data.size)
    return Interval(mean - half, mean + half, half)


def clip(interval: Interval, low: float, high: float) -> Interval:
    """The interval cut to a metric's range (e.g. 0 to 100 %); the half-width is kept."""
    return Interval(max(interval.low, low), min(interval.high, high), interval.half_width)


def predictive_p(values: Sequence[float], reference: float) -> float:
    """Two-sided p-value of `reference` as one new run of the recipe behind `values`
    (t = (reference - mean) / (s sqrt(1 + 1/n)), n - 1 degrees of freedom); NaN when
    `prediction_interval` gives none."""
    spread = _spread(values)
    if spread is None:
        return math.nan
    data, mean, std = spread
    t = (reference - mean) / (std * math.sqrt(1 + 1 / data.size))
    return float(2 * stats.t.sf(abs(t), data.size - 1))


def seeds_to_settle(
    std: float, tolerance: float, level: float = LEVEL, max_n: int = 1000
) -> int | None:
    """The fewest seeds whose prediction half-width t(n-1) · s · sqrt(1 + 1/n) is within
    `tolerance` (at this spread), or None when no number can (z · s > tolerance)."""
    if std <= 0:
        return MIN_SEEDS
    if stats.norm.ppf((1 + level) / 2) * std > tolerance:
        return None
    for n in range(MIN_SEEDS, max_n + 1):
        if _t(level, n - 1) * std * math.sqrt(1 + 1 / n) <= tolerance:
            return n
    return None


def binomial_se(accuracy_percent: float, n_eval: int) -> float:
    """The binomial standard error of an accuracy measured on `n_eval` items, in points."""
    p = accuracy_percent / 100
    return 100 * math.sqrt(max(p * (1 - p), 0.0) / n_eval)


@dataclass(frozen=True)
class SeedComparison:
    """Mean of `a` minus mean of `b`, its interval and p-value, the test used, the seeds a side
    and the smallest true difference the test would catch with probability POWER (NaN and test
    "too few seeds" below 3 seeds a side; "no spread" when every value agrees)."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    n_a: int
    n_b: int
    detectable: float

    def columns(self) -> dict[str, float | str]:
        """The comparison's cells of a table (TEST_COLUMNS but Holm's p, which needs the
        whole family)."""
        return {name: getattr(self, name) for name in TEST_COLUMNS if name != "p_holm"}


MAX_NONCENTRALITY = 1e3  # beyond it the noncentral t is not evaluated: "not computable"


def _detectable(se: float, df: float, alpha: float, power: float) -> float:
    """The true difference a two-sided t-test (standard error `se`, `df` degrees of freedom)
    rejects with probability `power`, from the noncentral t; NaN where that distribution cannot
    be evaluated (Welch's degrees of freedom near 1, when one side barely varies)."""
    crit = stats.t.ppf(1 - alpha / 2, df)

    def shortfall(nc: float) -> float:
        # The far tail below -crit underflows; scipy's noncentral t gives NaN there for a
        # fractional df (Welch's), where the probability is below 1e-10: count it as 0.
        lower = float(np.nan_to_num(stats.nct.cdf(-crit, df, nc), nan=0.0))
        return float(stats.nct.sf(crit, df, nc)) + lower - power

    high = crit + 1.0  # in standard errors: the power grows with it, double until it suffices
    while high <= MAX_NONCENTRALITY:
        missing = shortfall(high)
        if not np.isfinite(missing):
            return math.nan
        if missing >= 0:
            return se * float(optimize.brentq(shortfall, 0.0, high))
        high *= 2
    return math.nan


def compare_seeds(
    a: Sequence[float], b: Sequence[float], paired: bool, level: float = LEVEL, power: float = POWER
) -> SeedComparison:
    """`a` against `b`: a paired t-test when `paired` (the same seeds, aligned, so that draws the
    seed controls are shared), else Welch's t-test."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired and x.size != y.size:
        raise ValueError(f"a paired comparison needs aligned seeds ({x.size} against {y.size})")
    difference = float(x.mean() - y.mean()) if x.size and y.size else math.nan
    nan = math.nan
    if min(x.size, y.size) < MIN_SEEDS:
        return SeedComparison(difference, nan, nan, nan, "too few seeds", x.size, y.size, nan)
    alpha = 1 - level
    if paired:
        d = x - y
        se = float(d.std(ddof=1)) / math.sqrt(d.size)
        df: float = d.size - 1
    else:
        va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)) if se > 0 else nan
    test = "paired t" if paired else "Welch t"
    if se == 0:
        return SeedComparison(difference, nan, nan, nan, "no spread", x.size, y.size, nan)
    t = difference / se
    p_value = float(2 * stats.t.sf(abs(t), df))
    half = _t(level, df) * se
    detectable = _detectable(se, df, alpha, power)
    return SeedComparison(
        difference, difference - half, difference + half, p_value, test, x.size, y.size, detectable
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN entries pass through and do not
    count towards the family)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, math.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m, running = len(order), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        out[index] = running
    return out.tolist()
