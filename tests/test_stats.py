"""The seed statistics behave as their definitions promise, checked by simulation (seeded) and
against scipy's own tests."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from visionrepro.report import stats

REPS = 4000


@pytest.mark.parametrize("n", [3, 8, 30])
def test_one_more_run_falls_outside_the_prediction_interval_5_percent_of_the_time(n: int) -> None:
    rng = np.random.default_rng(n)
    draws = rng.normal(50.0, 2.0, size=(REPS, n + 1))
    outside = 0
    for row in draws:
        interval = stats.prediction_interval(row[:n])
        outside += not interval.low <= row[n] <= interval.high
    # 5 % of 4,000 has a binomial standard error of 0.34 points: allow 4 of them.
    assert abs(outside / REPS - 0.05) < 0.014


@pytest.mark.parametrize("n", [3, 8, 30])
def test_the_predictive_p_value_is_uniform_for_same_recipe_references(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    draws = rng.normal(0.0, 1.0, size=(REPS, n + 1))
    p = np.array([stats.predictive_p(row[:n], row[n]) for row in draws])
    assert abs((p < 0.05).mean() - 0.05) < 0.014
    assert abs((p < 0.5).mean() - 0.5) < 0.04


def test_no_interval_below_three_seeds_or_without_spread() -> None:
    assert stats.prediction_interval([1.0, 2.0]) is None
    assert stats.mean_interval([1.0, 2.0]) is None
    assert stats.prediction_interval([5.0, 5.0, 5.0]) is None
    assert math.isnan(stats.predictive_p([5.0, 5.0, 5.0], 6.0))
    assert stats.prediction_interval([1.0, 2.0, 3.0]) is not None


def test_the_prediction_interval_is_wider_than_the_means_by_sqrt_n_plus_1() -> None:
    values = [70.07, 70.39, 70.68]
    wide, narrow = stats.prediction_interval(values), stats.mean_interval(values)
    assert wide.half_width == pytest.approx(narrow.half_width * math.sqrt(len(values) + 1))
    assert (wide.low + wide.high) / 2 == pytest.approx(np.mean(values))


def test_clip_keeps_an_interval_inside_the_metrics_range() -> None:
    clipped = stats.clip(stats.Interval(-4.0, 32.5, 18.25), 0.0, 100.0)
    assert (clipped.low, clipped.high, clipped.half_width) == (0.0, 32.5, 18.25)


def test_seeds_to_show_is_the_fewest_whose_one_sided_bound_is_within_the_margin() -> None:
    for std, margin in [(0.3, 1.0), (0.5, 1.5), (0.45, 1.0), (1.0, 2.5)]:
        n = stats.seeds_to_show(std, margin)
        bound = [scipy_stats.t.ppf(0.95, k - 1) * std * math.sqrt(1 + 1 / k) for k in (n - 1, n)]
        assert bound[1] <= margin
        assert n == stats.MIN_SEEDS or bound[0] > margin
    # 1.645 s above the margin: no number of seeds narrows one new run's spread enough.
    assert stats.seeds_to_show(1.0, 1.6) is None and stats.seeds_to_show(1.0, 0.0) is None


S = [50.0, 50.1, 49.9]  # mean 50, s = 0.1, n = 3


def test_the_predictive_difference_counts_the_rounding_once_at_the_least_favourable_point() -> None:
    se1, df = 0.1 * math.sqrt(4 / 3), 2
    found = stats.predictive(S, 51.0, rounding=0.1)
    assert (found.gap, found.se, found.df) == pytest.approx((1.0, se1, df))
    # Outside the prediction interval: the near point of 51 ± 0.1, 50.9.
    assert found.p_value() == pytest.approx(2 * scipy_stats.t.sf(0.9 / se1, df))
    assert stats.predictive_p(S, 51.0, 0.1) == found.p_value()
    # Equivalence within ±1.5: the far point, 51.1.
    assert found.equivalence_p(1.5) == pytest.approx(scipy_stats.t.sf((1.5 - 1.1) / se1, df))
    # A gap beyond ±0.5: the near point, two-sided.
    assert found.beyond_p(0.5) == pytest.approx(2 * scipy_stats.t.sf((0.9 - 0.5) / se1, df))
    assert stats.predictive(S[:2], 51.0) is None


@pytest.mark.parametrize("n", [3, 8])
def test_equivalence_p_is_at_most_five_percent_exactly_when_the_tost_bound_is_inside(
    n: int,
) -> None:
    rng = np.random.default_rng(n)
    for _ in range(200):
        values, reference = rng.normal(0, 1, n), rng.normal(0, 1.5)
        found = stats.predictive(values, reference, rounding=0.05)
        bound = abs(found.gap) + 0.05 + scipy_stats.t.ppf(0.95, n - 1) * found.se
        assert (found.equivalence_p(2.0) <= 0.05) == (bound <= 2.0)
        beyond = abs(found.gap) - 0.05 - scipy_stats.t.ppf(0.975, n - 1) * found.se
        assert (found.beyond_p(0.5) < 0.05) == (beyond > 0.5)


def test_one_new_difference_has_a_wider_interval_than_the_mean_difference() -> None:
    a, b = [56.97, 56.54, 55.78], [55.2, 54.9, 53.0]
    mean, se, df = stats.new_difference(a, b, paired=True)
    d = np.subtract(a, b)
    assert (mean, se, df) == pytest.approx((d.mean(), d.std(ddof=1) * math.sqrt(4 / 3), 2))
    mean, se, df = stats.new_difference(a, b, paired=False)
    va, vb = np.var(a, ddof=1) * 4 / 3, np.var(b, ddof=1) * 4 / 3
    assert se == pytest.approx(math.sqrt(va + vb))
    assert df == pytest.approx((va + vb) ** 2 / (va**2 / 2 + vb**2 / 2))
    assert stats.new_difference(a[:2], b[:2], paired=True) is None


def test_a_change_must_exceed_the_minimum_effect() -> None:
    before = np.array([98.50, 98.58, 98.50])
    after = before - 0.01  # one test image of 10,000 in every seed, the same way
    result = stats.compare_seeds(after, before, paired=True, minimum=1.0)
    assert result.test == "no spread" and result.p_value == 1.0
    moved = stats.compare_seeds(before - 1.5, before, paired=True, minimum=1.0)
    assert moved.p_value == 0.0  # every seed moved alike by more than what matters
    rng = np.random.default_rng(3)
    a, b = rng.normal(3, 1, 8), rng.normal(0, 1, 8)
    beyond = stats.compare_seeds(a, b, paired=False, minimum=1.0)
    plain = stats.compare_seeds(a, b, paired=False)
    se, df = beyond.se, beyond.df
    assert beyond.p_value == pytest.approx(
        2 * scipy_stats.t.sf((abs(plain.difference) - 1) / se, df)
    )
    assert plain.p_value < beyond.p_value
    # What it would catch 4 times in 5 is the minimum plus what the t-test resolves.
    assert stats.detectable_difference(beyond, 0.05) == pytest.approx(1 + plain.detectable)
    assert stats.detectable_difference(beyond, 0.01) > stats.detectable_difference(beyond, 0.05)


def test_the_exact_floor_of_a_sign_flip_or_permutation_test() -> None:
    assert stats.exact_floor(3, 3, paired=True) == 0.25
    assert stats.exact_floor(10, 10, paired=True) == pytest.approx(2 / 1024)
    assert stats.exact_floor(3, 3, paired=False) == pytest.approx(0.1)


def test_holms_level_for_the_rows_it_did_not_reject() -> None:
    assert stats.holm_level([0.001, 0.3, 0.5, math.nan]) == pytest.approx(0.05 / 2)
    assert stats.holm_level([0.2, 0.3]) == pytest.approx(0.025)
    assert stats.holm_level([]) == pytest.approx(0.05)


def test_paired_and_welch_agree_with_scipy() -> None:
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 2, 8)  # a draw both sides share (e.g. a seed's batch order)
    a, b = shared + rng.normal(1.5, 0.5, 8), shared + rng.normal(0, 0.5, 8)
    paired, welch = stats.compare_seeds(a, b, paired=True), stats.compare_seeds(a, b, False)
    rel, ind = scipy_stats.ttest_rel(a, b), scipy_stats.ttest_ind(a, b, equal_var=False)
    assert paired.test == "paired t" and welch.test == "Welch t"
    assert paired.p_value == pytest.approx(rel.pvalue)
    assert welch.p_value == pytest.approx(ind.pvalue)
    assert (welch.ci_low, welch.ci_high) == pytest.approx(tuple(ind.confidence_interval(0.95)))
    assert (paired.ci_low, paired.ci_high) == pytest.approx(tuple(rel.confidence_interval(0.95)))
    # Shared draws cancel in the pairs: the paired test sees the difference more sharply.
    assert paired.p_value < welch.p_value and paired.detectable < welch.detectable


@pytest.mark.parametrize("paired", [True, False])
def test_a_true_difference_of_the_detectable_size_is_caught_4_times_in_5(paired: bool) -> None:
    rng = np.random.default_rng(7)
    n, sd = 5, 1.0
    reference = stats.compare_seeds(rng.normal(0, sd, n), rng.normal(0, sd, n), paired)
    # The detectable difference of the spread the samples are drawn with:
    se = sd * math.sqrt(2 / n)  # paired without shared draws: the same standard error
    df = n - 1 if paired else 2 * (n - 1)
    delta = stats._detectable(se, df, 0.05, stats.POWER)
    assert not math.isnan(reference.detectable)
    caught = sum(
        stats.compare_seeds(rng.normal(delta, sd, n), rng.normal(0, sd, n), paired).p_value < 0.05
        for _ in range(2000)
    )
    # Estimated standard deviations make the realised power a little lower than the nominal.
    assert 0.72 < caught / 2000 < 0.86


@pytest.mark.parametrize("df", [2.0, 3.2, 3.9, 7.5])
def test_the_detectable_difference_exists_for_welchs_fractional_degrees_of_freedom(
    df: float,
) -> None:
    """scipy's noncentral t gives NaN in its far lower tail for a fractional df (seen on the
    published MNIST MLP vs CNN, df 3.2); the power there is the upper tail's."""
    delta = stats._detectable(1.0, df, 0.05, stats.POWER)
    crit = scipy_stats.t.ppf(0.975, df)
    assert math.isfinite(delta) and crit < delta < 4 * crit
    assert scipy_stats.nct.sf(crit, df, delta) == pytest.approx(stats.POWER, abs=1e-6)


def test_published_welch_comparisons_have_a_detectable_difference() -> None:
    mlp, cnn = [96.18, 96.27, 96.40], [98.50, 98.58, 98.50]
    result = stats.compare_seeds(cnn, mlp, paired=False)
    assert result.test == "Welch t" and 0.2 < result.detectable < 0.5


def test_too_few_seeds_or_no_spread_give_no_test() -> None:
    few = stats.compare_seeds([1.0, 2.0], [3.0, 4.0, 5.0], paired=False)
    assert few.test == "too few seeds" and math.isnan(few.p_value) and few.difference == -2.5
    same = stats.compare_seeds([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], paired=True)
    assert same.test == "no spread" and math.isnan(same.p_value)
    with pytest.raises(ValueError, match="aligned seeds"):
        stats.compare_seeds([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], paired=True)


def test_holm_multiplies_by_the_remaining_family_size_and_keeps_the_order() -> None:
    p = [0.01, 0.04, 0.03, math.nan, 0.5]
    adjusted = stats.holm(p)
    assert adjusted[:3] == pytest.approx([0.04, 0.09, 0.09])
    assert math.isnan(adjusted[3]) and adjusted[4] == 0.5
    assert all(adj >= raw for adj, raw in zip(adjusted, p, strict=True) if not math.isnan(raw))
    # The adjustment keeps the p-values' order.
    valid = [i for i, x in enumerate(p) if not math.isnan(x)]
    assert sorted(valid, key=lambda i: p[i]) == sorted(valid, key=lambda i: (adjusted[i], p[i]))


def test_binomial_se_of_an_accuracy() -> None:
    assert stats.binomial_se(98.46, 10_000) == pytest.approx(
        100 * math.sqrt(0.9846 * 0.0154 / 10_000)
    )
    assert stats.binomial_se(100.0, 50) == 0.0
