"""Statistics over seeds, for verdicts and comparisons: prediction and confidence intervals, the
predictive p-value of a reference, paired and Welch t-tests with the smallest difference they
would detect, Holm's adjustment, and the binomial error of an accuracy.

Everything rests on Student's t (scipy.stats): seeds are few (3 to 10), so normal quantiles would
overstate what they show. No interval is given below 3 seeds or for seeds that all agree: a
spread estimated from 2 values, or from none, is not one a reader should act on.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

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


@dataclass(frozen=True)
class Predictive:
    """A reference as one new run of the recipe behind our seeds: the gap reference - mean, its
    standard error as one run's, se1 = s · sqrt(1 + 1/n), the degrees of freedom n - 1 and r,
    half the reference's rounding unit (its unrounded value lies within ±r of it)."""

    gap: float
    se: float
    df: int
    rounding: float

    def p_value(self) -> float:
        """Two-sided predictive p at the rounding interval's nearest point to our mean: below
        1 - LEVEL exactly when the reference lies outside the prediction interval widened by r."""
        return float(2 * stats.t.sf(max(abs(self.gap) - self.rounding, 0.0) / self.se, self.df))

    def equivalence_p(self, tolerance: float) -> float:
        """The two one-sided tests' p that the difference lies within ±tolerance, at the rounding
        interval's farthest point: at most 1 - LEVEL exactly when |d| + r + t(LEVEL) · se1 is
        within the tolerance."""
        margin = tolerance - abs(self.gap) - self.rounding
        return float(stats.t.sf(margin / self.se, self.df))

    def beyond_p(self, tolerance: float) -> float:
        """The p that the difference exceeds ±tolerance, at the rounding interval's nearest
        point, two-sided (twice the tail beyond the nearer bound: a same-recipe reference is
        called below or above at most 1 - LEVEL of the time, at tolerance 0 too): below
        1 - LEVEL exactly when |d| - r - t((1 + LEVEL) / 2) · se1 exceeds the tolerance."""
        margin = abs(self.gap) - self.rounding - tolerance
        return float(min(1.0, 2 * stats.t.sf(margin / self.se, self.df)))


def predictive(
    values: Sequence[float], reference: float, rounding: float = 0.0
) -> Predictive | None:
    """`reference` (rounded to ±`rounding`) as one new run of the recipe behind `values`; None
    when `prediction_interval` gives none."""
    spread = _spread(values)
    if spread is None:
        return None
    data, mean, std = spread
    return Predictive(reference - mean, std * math.sqrt(1 + 1 / data.size), data.size - 1, rounding)


def predictive_p(values: Sequence[float], reference: float, rounding: float = 0.0) -> float:
    """Two-sided p-value of `reference` as one new run of the recipe behind `values`
    (t = (|reference - mean| - rounding) / (s sqrt(1 + 1/n)), n - 1 degrees of freedom); NaN when
    `prediction_interval` gives none."""
    found = predictive(values, reference, rounding)
    return math.nan if found is None else found.p_value()


def one_run_floor(std: float, level: float = LEVEL) -> float:
    """z(level) · s: the one-sided bound on one new run's difference that no number of seeds
    goes below (the write-up's run has noise of its own)."""
    return float(stats.norm.ppf(level)) * std


def seeds_to_show(std: float, margin: float, level: float = LEVEL, max_n: int = 1000) -> int | None:
    """The fewest seeds whose one-sided bound t(level, n-1) · s · sqrt(1 + 1/n) on one new run's
    difference is within `margin` (at this spread), or None when no number can: one run's own
    noise z(level) · s is the floor, whatever the seeds."""
    if margin <= 0:
        return None
    if std <= 0:
        return MIN_SEEDS
    if one_run_floor(std, level) >= margin:
        return None
    n = np.arange(MIN_SEEDS, max_n + 1)
    enough = np.flatnonzero(stats.t.ppf(level, n - 1) * std * np.sqrt(1 + 1 / n) <= margin)
    return int(n[enough[0]]) if enough.size else None


def binomial_se(accuracy_percent: float, n_eval: int) -> float:
    """The binomial standard error of an accuracy measured on `n_eval` items, in points."""
    p = accuracy_percent / 100
    return 100 * math.sqrt(max(p * (1 - p), 0.0) / n_eval)


@dataclass(frozen=True)
class SeedComparison:
    """Mean of `a` minus mean of `b`, its interval and p-value, the test used, the seeds a side
    and the smallest true difference the test would catch with probability POWER (NaN and test
    "too few seeds" below 3 seeds a side; "no spread" when every value agrees); `se` and `df`
    are the test's, for `detectable_difference` at another level; `minimum` the difference the
    test asked to be exceeded (0: any difference)."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    n_a: int
    n_b: int
    detectable: float
    se: float = math.nan
    df: float = math.nan
    minimum: float = 0.0

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


def detectable_difference(result: SeedComparison, alpha: float, power: float = POWER) -> float:
    """The true difference `result`'s test catches with probability `power` at significance
    `alpha` (the level actually used, after a correction for the family): its `minimum` plus
    what the t-test resolves beyond it; NaN without a test."""
    if not (math.isfinite(result.se) and result.se > 0):
        return math.nan
    return result.minimum + _detectable(result.se, result.df, alpha, power)


def exact_floor(n_a: int, n_b: int, paired: bool) -> float:
    """The smallest two-sided p an exact test could give at these seeds: a sign-flip test of
    n paired differences 2 / 2^n (0.25 at 3), a permutation test 2 / C(n_a + n_b, n_a)."""
    if paired:
        return min(1.0, 2.0 / 2**n_a)
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))


def _moved_p(difference: float, se: float, df: float, minimum: float) -> float:
    """Two-sided p that the true difference exceeds ±`minimum` (the usual t-test's at 0;
    conservative: twice the one-sided tail beyond the nearer bound)."""
    excess = abs(difference) - minimum
    if se == 0:
        return 0.0 if excess > 0 else 1.0
    return float(min(1.0, 2 * stats.t.sf(excess / se, df)))


def compare_seeds(
    a: Sequence[float],
    b: Sequence[float],
    paired: bool,
    level: float = LEVEL,
    power: float | None = POWER,
    minimum: float = 0.0,
) -> SeedComparison:
    """`a` against `b`: a paired t-test when `paired` (the same seeds, aligned, so that draws the
    seed controls are shared), else Welch's t-test, of a difference beyond ±`minimum` (0: any);
    `power` None skips the detectable difference (computed later at a corrected level)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired and x.size != y.size:
        raise ValueError(f"a paired comparison needs aligned seeds ({x.size} against {y.size})")
    difference = float(x.mean() - y.mean()) if x.size and y.size else math.nan
    nan = math.nan
    if min(x.size, y.size) < MIN_SEEDS:
        return SeedComparison(difference, nan, nan, nan, "too few seeds", x.size, y.size, nan)
    se, df = _standard_error(x, y, paired)
    if se == 0:
        p_value = nan if minimum == 0 else _moved_p(difference, 0.0, df, minimum)
        return SeedComparison(
            difference, nan, nan, p_value, "no spread", x.size, y.size, nan, 0.0, df, minimum
        )
    p_value = _moved_p(difference, se, df, minimum)
    half = _t(level, df) * se
    result = SeedComparison(
        difference,
        difference - half,
        difference + half,
        p_value,
        "paired t" if paired else "Welch t",
        x.size,
        y.size,
        nan,
        se,
        df,
        minimum,
    )
    if power is None:
        return result
    return replace(result, detectable=detectable_difference(result, 1 - level, power))


def _standard_error(x: np.ndarray, y: np.ndarray, paired: bool) -> tuple[float, float]:
    """The standard error of mean(x) - mean(y) and its degrees of freedom (paired or Welch)."""
    if paired:
        d = x - y
        return float(d.std(ddof=1)) / math.sqrt(d.size), float(d.size - 1)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)) if se > 0 else math.nan
    return se, float(df)


def new_difference(
    a: Sequence[float], b: Sequence[float], paired: bool
) -> tuple[float, float, float] | None:
    """One new run of `a`'s recipe minus one of `b`'s (the write-up's single difference): the
    mean difference, its standard error as one new difference and degrees of freedom (paired:
    s_d · sqrt(1 + 1/n); else sqrt(s_a²(1 + 1/n_a) + s_b²(1 + 1/n_b)), Welch's df); None below
    3 seeds a side or without spread."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(x.size, y.size) < MIN_SEEDS:
        return None
    if paired:
        d = x - y
        se, df = float(d.std(ddof=1)) * math.sqrt(1 + 1 / d.size), float(d.size - 1)
    else:
        va = x.var(ddof=1) * (1 + 1 / x.size)
        vb = y.var(ddof=1) * (1 + 1 / y.size)
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1)) if se > 0 else 0.0
    return (float(x.mean() - y.mean()), se, df) if se > 0 else None


def holm_level(p_holm: Sequence[float], alpha: float = 1 - LEVEL) -> float:
    """The level Holm's procedure tests a not-rejected member of the family at: alpha / (m - k)
    after k rejections of m (alpha when the family is empty)."""
    p = np.asarray(p_holm, dtype=float)
    p = p[~np.isnan(p)]
    remaining = int((p >= alpha).sum())
    return alpha / remaining if remaining else alpha


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
