"""Verdicts against the references (prediction intervals, like for like), the chance flag and
the comparisons between an experiment's networks and variants."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from visionrepro.plan.load import comparison_groups as plan_groups
from visionrepro.plan.load import resolved_variants
from visionrepro.report.verdicts import (
    comparison_table,
    glance_table,
    glance_view,
    headline,
    is_chance,
    judge,
    mismatches,
    plural,
    seed_stats,
    synthetic,
)


def test_seed_stats() -> None:
    one = seed_stats([61.5])
    assert (one.n, one.mean, one.std, one.min, one.max) == (1, 61.5, 0.0, 61.5, 61.5)
    ten = seed_stats(range(10))
    assert ten.std == pytest.approx(3.02765, abs=1e-5) and (ten.min, ten.max) == (0, 9)
    with pytest.raises(ValueError, match="at least one seed"):
        seed_stats([])


@pytest.mark.parametrize(
    ("values", "reference", "tolerance", "text", "kind"),
    [
        # s = 0.1, PI half-width t(2) * 0.1 * sqrt(4/3) = 0.50: inside and within tolerance
        ([50.0, 50.1, 49.9], 50.3, 1.0, "consistent", "consistent"),
        ([50.0, 50.1, 49.9], 51.0, 1.0, "below", "inconsistent"),
        ([50.0, 50.1, 49.9], 49.0, 1.0, "above", "inconsistent"),
        # s = 1, half-width 4.97 > 1: inside but noise exceeds the tolerance
        ([49.0, 50.0, 51.0], 52.0, 1.0, "consistent, inconclusive", "inconclusive"),
        # fewer than 3 seeds, or no spread: never a positive verdict
        ([50.0, 50.2], 50.5, 1.0, "within ±1, no noise estimate (2 seeds)", "no estimate"),
        ([50.0], 52.0, 1.0, "outside ±1, no noise estimate (1 seed)", "no estimate"),
        ([50.0] * 3, 50.0, 1.0, "within ±1, no noise estimate (3 seeds, no spread)", "no estimate"),
        ([60.0], None, 1.0, "no reference", "no reference"),
        ([60.0], math.nan, 1.0, "no reference", "no reference"),
    ],
)
def test_judge(values: list[float], reference, tolerance: float, text: str, kind: str) -> None:
    verdict = judge(values, reference, tolerance)
    assert (verdict.text, verdict.kind) == (text, kind)


def test_outside_gives_the_predictive_p_and_inconclusive_says_how_many_seeds() -> None:
    below = judge([50.0, 50.1, 49.9], 51.0, 1.0)
    assert 0 < below.p_value < 0.05 and below.note == f"p = {below.p_value:.2g}"
    settle = judge([49.0, 50.0, 51.0], 52.0, 3.0)
    assert settle.note.endswith("about 6 seeds would settle it")  # t(5) * sqrt(7/6) = 2.78
    never = judge([49.0, 50.0, 51.0], 52.0, 1.0)
    assert "no number of seeds can (1.96 s = 1.96 > 1)" in never.note


def test_the_references_rounding_widens_the_tolerance() -> None:
    values = [50.0, 50.3, 49.7]  # s = 0.3, half-width 1.49
    assert judge(values, 50.0, 1.0).kind == "inconclusive"
    assert judge(values, 50.0, 1.0, precision=1.0).kind == "consistent"  # 1.49 <= 1.5


def test_published_rows_come_out_right() -> None:
    cifar_base = judge([70.07, 70.39, 70.68], 71.77, 1.0, precision=0.01)
    assert cifar_base.text == "consistent, inconclusive"  # was "below" by the old rule
    unet = judge([56.97, 56.54, 55.78], 58.0, 1.0, precision=1.0)
    assert unet.text.startswith("consistent")  # inside its prediction interval at n = 3


def test_a_different_setting_or_data_is_not_comparable() -> None:
    reference = {"test_accuracy": 88.7, "settings": {"epochs": 200}}
    found = mismatches(reference, [{"epochs": 20, "lr": 0.01}], ["original"])
    assert found == ["epochs 20 ≠ 200"]
    assert mismatches(reference, [{"epochs": 200}], ["original"]) == []
    assert mismatches({"test_accuracy": 70}, [{}], ["synthetic"]) == ["synthetic data"]
    assert mismatches({"test_accuracy": 70}, [{}], []) == []  # not recorded: not held against it
    verdict = judge([88.0, 88.1, 88.2], 88.7, 1.0, mismatch=found)
    assert (verdict.text, verdict.kind) == ("not comparable: epochs 20 ≠ 200", "not comparable")


def test_seeds_at_chance_are_set_aside_and_a_divergent_reference_is_judged_on_the_rate() -> None:
    aside = judge([10.0, 70.0, 70.2, 69.8], 70.1, 1.0, chance=[True, False, False, False])
    assert aside.note.startswith("1 of 4 at chance") and aside.kind == "consistent"
    diverged = judge(
        [10.0, 70.0, 70.2], 10.0, 1.0, chance=[True, False, False], reference_at_chance=True
    )
    assert diverged.kind == "consistent" and "1 of 3 seeds diverged" in diverged.note
    never = judge([70.0, 70.2, 69.8], 10.0, 1.0, chance=[False] * 3, reference_at_chance=True)
    assert never.kind == "inconclusive" and "up to 63%" in never.note  # 1 - 0.05 ** (1/3)


def _rates(n: int, shift: float, draws: int, rng: np.random.Generator) -> float:
    """How often a reference `shift` standard deviations from the recipe's mean is called
    below or above, over `draws` simulated sets of n seeds."""
    seeds = rng.normal(70.0, 1.0, size=(draws, n))
    references = rng.normal(70.0 + shift, 1.0 if shift == 0 else 0.0, size=draws)
    kinds = [judge(s, r, 0.5).kind for s, r in zip(seeds, references, strict=True)]
    return kinds.count("inconsistent") / draws


@pytest.mark.parametrize("n", [3, 8, 30])
def test_a_same_recipe_reference_fails_about_five_percent_of_the_time(n: int) -> None:
    rate = _rates(n, 0.0, 2000, np.random.default_rng(n))
    assert 0.035 < rate < 0.065  # 3 binomial SE around 5 %, whatever the number of seeds


def test_a_reference_three_sd_away_is_caught_more_often_with_more_seeds() -> None:
    rng = np.random.default_rng(0)
    power = [_rates(n, 3.0, 1000, rng) for n in (3, 8, 30)]
    assert power[0] < power[1] < power[2] and power[2] > 0.8


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
NETWORKS = {"networks": ["A", "B", "C"], "seeds": [0], "train": {"shuffle": False}}


def comparison_groups(exp: dict) -> tuple:
    """The plan's comparison groups of an experiment's config."""
    return plan_groups(exp, resolved_variants(exp))


def _values(experiment: str, data: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"experiment": experiment, "variant": v, "seed": s, "value": x}
            for v, xs in data.items()
            for s, x in enumerate(xs)
        ]
    )


def test_comparison_table_pairs_seeds_where_they_share_draws_and_adjusts_by_holm() -> None:
    # B - A is +1 in every seed: the paired test sees it; Welch, with the seeds' spread, not.
    data = {"A": [70.0, 72.0, 74.0, 71.0], "B": [71.0, 73.0, 75.0, 72.1], "C": [70.5, 72, 73, 71]}
    values = _values("e", data)
    groups = {"e": comparison_groups(NETWORKS)}
    paired = comparison_table(values, groups, {"e": True}, {"e": {"A": 54.0, "B": 55.5}})
    welch = comparison_table(values, groups, {"e": False})
    assert list(paired["against"]) == ["A", "A"] and set(paired["relation"]) == {"first network"}
    assert list(paired["test"]) == ["paired t", "paired t"]
    assert list(welch["test"]) == ["Welch t", "Welch t"]
    assert paired.loc[0, "p_value"] < 0.001 < 0.2 < welch.loc[0, "p_value"]
    assert paired.loc[0, "reading"].startswith("higher by 1.0")
    assert welch.loc[0, "reading"].startswith("no evidence of a difference")
    assert "4 times in 5" in welch.loc[0, "reading"] and welch.loc[0, "detectable"] > 1
    p = sorted(paired["p_value"])  # Holm: the smallest times 2, the next times 1 (monotone)
    assert sorted(paired["p_holm"]) == pytest.approx([2 * p[0], max(2 * p[0], p[1])])
    assert paired.loc[0, "reference_difference"] == pytest.approx(1.5)
    assert math.isnan(paired.loc[1, "reference_difference"])


def test_comparison_table_ladder_compares_each_rung_with_the_previous() -> None:
    values = _values("ladder", {"base": [70, 71, 72], "wd": [72, 73, 74], "dropout": [72, 74, 73]})
    table = comparison_table(values, {"ladder": comparison_groups(LADDER)})
    pairs = list(zip(table["variant"], table["against"], table["relation"], strict=True))
    assert pairs == [("wd", "base", "previous rung"), ("dropout", "wd", "previous rung")]
    few = comparison_table(
        _values("l", {"base": [70], "wd": [72]}), {"l": comparison_groups(LADDER)}
    )
    assert few.loc[0, "reading"] == "no test: under 3 seeds a side"


def _runs(form: str = "original", epochs: int = 10) -> pd.DataFrame:
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
                    "n_classes": 5,
                    "n_eval": 2000,
                    "settings": json.dumps({"train": {"epochs": epochs}}),
                    "data_form": form,
                    "device_name": "cpu",
                    "train_seconds": 10.0,
                    "code_version": "git abc",
                    "data_version": "sha256 1234",
                    "created": f"2026-01-0{seed + 1}",
                }
            )
    return pd.DataFrame(rows)


SETTINGS = {
    "e": {
        "metric": "val_accuracy",
        "tolerance": 1.0,
        "reference": {
            "A": {"params": 1, "val_accuracy": 54.35, "precision": 0.01, "source": "HW4"},
            "B": {"val_accuracy": 51, "settings": {"epochs": 200}},
        },
        "labels": {"A": "net A"},
    }
}


def test_glance_table_gives_intervals_verdicts_and_provenance() -> None:
    glance = glance_table(_runs(), SETTINGS)
    assert list(glance["kind"]) == ["inconclusive", "not comparable", "no reference"]
    assert glance.loc[1, "verdict"] == "not comparable: epochs 10 ≠ 200"
    assert list(glance["label"]) == ["net A", "B", "C"]
    first = glance.iloc[0]
    assert (first["n_seeds"], first["train_seconds"], first["created"]) == (3, 30.0, "2026-01-03")
    assert first["tolerance"] == pytest.approx(1.005) and first["source"] == "HW4"
    # s = 1: PI 54 ± 4.303 * sqrt(4/3), mean CI 54 ± 4.303 / sqrt(3)
    assert first["pred_half"] == pytest.approx(4.9683, abs=1e-3)
    assert first["mean_high"] - first["mean_low"] == pytest.approx(2 * 2.4841, abs=1e-3)
    assert first["binomial_se"] == pytest.approx(100 * math.sqrt(0.54 * 0.46 / 2000))
    assert math.isnan(glance.loc[2, "pred_low"])  # one seed: no interval
    assert list(glance["chance_seeds"]) == [0, 0, 1]
    assert headline(glance) == (
        "2 reference numbers: 1 compared like for like (1 consistent but inconclusive), "
        "1 not comparable (settings or data differ)"
    )
    view = glance_view(glance)
    assert view.loc[0, "one new run, 95 % PI"] == "49.03–58.97"
    assert view.loc[2, "one new run, 95 % PI"] == "– (1 seed)"
    assert view.loc[0, "eval. set (SE)"] == "2,000 (SE 1.11)"
    assert view["experiment"].tolist() == ["e", "", ""]
    assert (
        view.loc[0, "reference ± tol."] == "54.35 ± 1"
    )  # 1 + half the 0.01 rounding, shown to 2 decimals
    assert view.loc[0, "ours, mean ± std"] == "54.00 ± 1.00"
    assert view.loc[0, "verdict"].startswith("consistent, inconclusive (noise ±4.97 > ±1.005")


def test_a_row_pooled_from_code_or_data_versions_is_flagged() -> None:
    runs = _runs()
    runs.loc[0, "code_version"] = "git def"
    runs.loc[1, "data_version"] = "sha256 5678"
    glance = glance_table(runs, SETTINGS)
    assert glance.loc[0, "pooled"] == "pooled from 2 code versions and 2 data versions"
    assert (
        glance_view(glance)
        .loc[0, "verdict"]
        .endswith("; pooled from 2 code versions and 2 data versions)")
    )
    assert glance.loc[1, "pooled"] == ""


def test_a_divergent_reference_row_says_how_it_is_judged() -> None:
    runs = _runs()
    runs.loc[runs["variant"] == "B", "val_accuracy"] = [20.0, 20.0, 61.0]
    runs["chance"] = runs["val_accuracy"] <= 25
    settings = {"e": {**SETTINGS["e"], "reference": {"B": {"val_accuracy": 20.0}}}}
    glance = glance_table(runs, settings)
    row = glance_view(glance).loc[1]
    assert row["ours, mean ± std"] == "2 of 3 at chance; the rest 61.00"
    assert row["one new run, 95 % PI"] == "– (see verdict)"
    assert row["verdict"] == "consistent (2 of 3 seeds diverged, as the reference did)"


def test_intervals_are_clipped_to_the_metrics_range() -> None:
    runs = _runs()
    runs.loc[runs["variant"] == "B", "val_accuracy"] = [1.0, 30.0, 60.0]
    runs["chance"] = False
    glance = glance_table(runs, {"e": {**SETTINGS["e"], "reference": {}}})
    assert glance.loc[1, "pred_low"] == 0.0 and glance.loc[1, "mean_low"] == 0.0


def test_synthetic_data_is_never_judged() -> None:
    glance = glance_table(_runs(form="synthetic", epochs=200), SETTINGS)
    assert synthetic(glance) and not synthetic(glance_table(_runs(), SETTINGS))
    assert set(glance["kind"]) == {"not comparable", "no reference"}
    assert glance.loc[0, "verdict"] == "not comparable: synthetic data"
    assert headline(glance).startswith("2 reference numbers: 0 compared like for like, 2 not")


def test_a_reference_for_a_metric_the_runs_lack_is_named() -> None:
    settings = {"e": {"metric": "val_accuracy", "reference": {"A": {"miou": 40}}}}
    with pytest.raises(ValueError, match=r"experiments.e.reference.A: 'miou'"):
        glance_table(_runs(), settings)
