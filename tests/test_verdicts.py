"""Verdicts against the references, seed statistics, the chance flag and the comparisons."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from visionrepro.report.verdicts import (
    compare,
    comparison_groups,
    comparison_table,
    glance_table,
    glance_view,
    headline,
    is_chance,
    plural,
    seed_stats,
    verdict,
)


def test_one_seed_has_no_interval() -> None:
    one = seed_stats([61.5])
    assert (one.n, one.mean, one.std, one.min, one.max) == (1, 61.5, 0.0, 61.5, 61.5)
    assert math.isnan(one.ci_low) and math.isnan(one.ci_high)


def test_two_seeds_use_student_t_with_one_degree_of_freedom() -> None:
    two = seed_stats([1.0, 3.0])
    # mean 2, s = sqrt(2), t(0.975, 1) = 12.7062: half-width 12.7062 * sqrt(2) / sqrt(2)
    assert two.std == pytest.approx(math.sqrt(2))
    assert (two.ci_low, two.ci_high) == pytest.approx((2 - 12.7062, 2 + 12.7062), abs=1e-3)


def test_ten_seeds_interval() -> None:
    ten = seed_stats(range(10))
    # mean 4.5, s = 3.02765, t(0.975, 9) = 2.26216: half-width 2.26216 * 3.02765 / sqrt(10)
    assert (ten.ci_low, ten.ci_high) == pytest.approx((4.5 - 2.16585, 4.5 + 2.16585), abs=1e-4)
    assert (ten.min, ten.max) == (0, 9)


def test_no_seeds_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one seed"):
        seed_stats([])


@pytest.mark.parametrize(
    ("values", "reference", "tolerance", "expected"),
    [
        ([50.0], 50.9, 1.0, "reproduced"),  # within the tolerance of the mean
        ([50.0], 51.5, 1.0, "below"),
        ([50.0], 51.5, 2.0, "reproduced"),  # a wider tolerance
        ([48.0, 53.0], 52.8, 1.0, "reproduced"),  # outside the tolerance, inside the range
        ([48.0, 49.0], 52.8, 1.0, "below"),
        ([60.0, 61.0], 50.0, 1.0, "above"),
        ([60.0], None, 1.0, "no reference"),
        ([60.0], math.nan, 1.0, "no reference"),
    ],
)
def test_verdict(values: list[float], reference: float | None, tolerance: float, expected: str):
    assert verdict(seed_stats(values), reference, tolerance) == expected


@pytest.mark.parametrize(
    ("n_classes", "accuracy", "predicted", "expected"),
    [
        (5, 20.0, None, True),  # chance on 5 classes
        (5, 24.9, None, True),  # within 5 points of it
        (5, 40.0, None, False),
        (5, 40.0, 2, True),  # only two classes ever predicted
        (5, 40.0, 3, False),
        (2, 60.0, 2, False),  # two classes: predicting both is all there is
        (2, 52.0, 2, True),
        (10, None, None, False),  # nothing known: no flag
    ],
)
def test_chance_flag(n_classes: int, accuracy, predicted, expected: bool) -> None:
    assert is_chance(n_classes, accuracy, predicted) is expected


def test_welch_comparison_matches_the_formula() -> None:
    a, b = np.array([72.1, 73.0, 72.6]), np.array([71.2, 71.9, 71.5, 70.8])
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    result = compare(a, b)
    assert result.difference == pytest.approx(a.mean() - b.mean())
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(t), df))
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (result.difference - half, result.difference + half)
    )
    assert result.p_value < 0.05 and result.reading.startswith("a gain (p = ")
    assert "3 and 4 seeds" in result.reading


def test_comparison_readings() -> None:
    unclear = compare([70.0, 72.0, 71.0], [71.5, 70.5, 71.0])
    assert unclear.p_value > 0.05
    assert unclear.reading.startswith("no evidence of a loss with 3 seeds (p = ")
    one = compare([75.0], [70.0, 71.0])
    assert math.isnan(one.p_value) and math.isnan(one.ci_low)
    assert one.difference == pytest.approx(4.5)
    assert one.reading == "no test with 1 and 2 seeds (needs 2 a side)"
    same = compare([70.0, 70.0], [70.0, 70.0])
    assert math.isnan(same.p_value) and "same value" in same.reading


def test_plural() -> None:
    assert (plural(1, "seed"), plural(3, "seed"), plural(0, "run")) == (
        "1 seed",
        "3 seeds",
        "0 runs",
    )


LADDER = {
    "networks": ["CifarCNN"],
    "seeds": [0, 1],
    "train": {"epochs": 1},
    "cumulative": True,
    "variants": [{"name": "base"}, {"name": "wd"}, {"name": "dropout"}],
}
SWEEP = {
    "networks": ["MLP"],
    "seeds": [0],
    "train": {"epochs": 1},
    "sweep": {"lr": [1.0, 0.1]},
    "variants": [{"name": "base"}, {"name": "deeper", "network": "MLPDeeper"}],
}


def test_comparison_groups() -> None:
    assert comparison_groups(LADDER) == [("ladder", ["base", "wd", "dropout"])]
    assert comparison_groups(SWEEP) == [
        ("sweep", ["MLP_lr1", "MLP_lr0.1"]),
        ("variants", ["base", "deeper"]),
    ]
    assert comparison_groups({"networks": ["A", "B"], "seeds": [0], "train": {}}) == []


def _values(experiment: str, data: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"experiment": experiment, "variant": v, "seed": s, "value": x}
            for v, xs in data.items()
            for s, x in enumerate(xs)
        ]
    )


def test_comparison_table_pairs_rungs_and_the_sweeps_best() -> None:
    values = pd.concat(
        [
            _values("ladder", {"base": [70, 71], "wd": [72, 73], "dropout": [72, 74]}),
            _values("fashion", {"MLP_lr1": [10], "MLP_lr0.1": [85], "base": [86], "deeper": [87]}),
        ]
    )
    groups = {"ladder": comparison_groups(LADDER), "fashion": comparison_groups(SWEEP)}
    table = comparison_table(values, groups)
    pairs = list(zip(table["variant"], table["against"], table["relation"], strict=True))
    assert pairs == [
        ("wd", "base", "previous rung"),
        ("dropout", "wd", "previous rung"),
        ("MLP_lr1", "MLP_lr0.1", "best of the sweep"),
        ("deeper", "base", "first variant"),
    ]
    assert list(table["difference"]) == pytest.approx([2.0, 0.5, -75.0, 1.0])
    assert table["p_value"].notna().tolist() == [True, True, False, False]


def _runs() -> pd.DataFrame:
    rows = []
    for variant, values in {"A": [54.0, 55.0, 53.0], "B": [40.0, 41.0, 42.0], "C": [20.0]}.items():
        for seed, value in enumerate(values):
            rows.append(
                {
                    "experiment": "e",
                    "variant": variant,
                    "seed": seed,
                    "val_accuracy": value,
                    "chance": value <= 25,
                    "device_name": "cpu",
                    "train_seconds": 10.0,
                    "code_version": "git abc",
                    "created": f"2026-01-0{seed + 1}",
                }
            )
    return pd.DataFrame(rows)


def test_glance_table_gives_verdicts_flags_and_provenance() -> None:
    settings = {
        "e": {
            "metric": "val_accuracy",
            "tolerance": 1.0,
            "reference": {"A": {"params": 1, "val_accuracy": 54.35}, "B": {"val_accuracy": 51}},
            "labels": {"A": "net A"},
        }
    }
    glance = glance_table(_runs(), settings)
    assert list(glance["verdict"]) == ["reproduced", "below", "no reference"]
    assert list(glance["label"]) == ["net A", "B", "C"]
    first = glance.iloc[0]
    assert (first["n_seeds"], first["train_seconds"], first["created"]) == (3, 30.0, "2026-01-03")
    assert first["difference"] == pytest.approx(54.0 - 54.35)
    assert list(glance["chance_seeds"]) == [0, 0, 1]
    assert headline(glance) == "1 of 2 reference numbers reproduced; 1 below"
    view = glance_view(glance)
    assert view.loc[2, "95 % CI"] == "one seed" and view.loc[0, "range"] == "53.00–55.00"
    assert view["experiment"].tolist() == ["e", "", ""]
    assert view.loc[2, ["verdict", "chance"]].tolist() == ["no reference", "1 of 1"]
    assert view.loc[0, "reference ± tol."] == "54.35 ± 1" and view.loc[0, "metric"] == "val acc."
    assert view.loc[0, "ours"] == "54.00 ± 1.00" and view.loc[2, "ours"] == "20.00"


def test_a_reference_for_a_metric_the_runs_lack_is_named() -> None:
    settings = {"e": {"metric": "val_accuracy", "reference": {"A": {"miou": 40}}}}
    with pytest.raises(ValueError, match=r"experiments.e.reference.A: 'miou'"):
        glance_table(_runs(), settings)
