"""Per (experiment, variant, metric): the two sides' seeds compared (paired when both ran the
same seeds, Welch otherwise), read as identical, no detectable change, better or worse, new or
gone, with what changed between them (settings, code).

"Better" and "worse" need a change that matters, shown over the whole table: the test asks
whether the difference exceeds a minimum effect (the experiment's tolerance, never below the
metric's resolution 100 / the evaluation set's size; a metric without a 0-100 scale, a loss, has
none, and its p is never below what an exact test could give at these seeds, 0.25 for 3 paired
seeds), and Holm's adjustment runs over every tested row of the table, so that `--fail-on worse`
raises a false alarm at most 5 % of the time when nothing changed. Seeds at chance level are
left out of the test (their rate is compared apart, Fisher's exact test); a side all at chance
is not tested."""

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from visionrepro.errors import UserError
from visionrepro.report.stats import (
    LEVEL,
    POWER,
    TEST_COLUMNS,
    SeedComparison,
    compare_seeds,
    detectable_difference,
    exact_floor,
    holm,
    holm_level,
)
from visionrepro.report.verdicts import DEFAULT_TOLERANCE, metric_range

GROUP = ["experiment", "variant", "metric"]
COLUMNS = [
    *GROUP,
    "before_mean",
    "before_std",
    "before_n",
    "after_mean",
    "after_std",
    "after_n",
    *TEST_COLUMNS,
    "minimum",
    "diverged",
    "reading",
    "what_differs",
]
ALL_AT_CHANCE = "all at chance"  # the test of a side whose every seed is at chance level


def lower_is_better(metric: str) -> bool:
    """Losses are better lower; accuracies and IoUs higher."""
    return metric.endswith("loss")


def check_metrics(before: pd.DataFrame, after: pd.DataFrame, names: tuple[str, str]) -> None:
    """An experiment on both sides must share a metric name; else the tables are not the same
    kind (e.g. a renamed metric) and nothing could be matched."""
    for experiment in sorted(set(before["experiment"]) & set(after["experiment"])):
        ours = set(before.loc[before["experiment"] == experiment, "metric"])
        theirs = set(after.loc[after["experiment"] == experiment, "metric"])
        if not ours & theirs:
            raise UserError(
                f"{names[1]}: experiment {experiment} has metrics {', '.join(sorted(theirs))} "
                f"where {names[0]} has {', '.join(sorted(ours))}; no metric name in common"
            )


def changed_settings(before: pd.Series, after: pd.Series) -> list[str]:
    """The settings keys whose values differ between any two runs of the sides (a key present
    on one side only counts); none when either side recorded no settings."""
    if (before == "").any() or (after == "").any():
        return []
    keys: set[str] = set()
    for a in map(json.loads, before.unique()):
        for b in map(json.loads, after.unique()):
            keys |= {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    return sorted(keys)


def what_changed(before: pd.DataFrame, after: pd.DataFrame) -> str:
    """ "settings differ: <keys>", "code differs", both, or "" when the runs agree on both."""
    parts = []
    keys = changed_settings(before["settings"], after["settings"])
    if keys:
        parts.append(f"settings differ: {', '.join(keys)}")
    if set(before["code_version"]) != set(after["code_version"]):
        files = changed_files(before["code_version"], after["code_version"])
        parts.append(f"code differs: {', '.join(files)}" if files else "code differs")
    return "; ".join(parts)


def changed_files(before: pd.Series, after: pd.Series) -> list[str]:
    """The project files (a network file) whose digest differs between the sides' code
    versions (tables.code_version: "<version>; <path> <digest>; ..."), or that one side lacks;
    none when the rest of the code version differs too (the whole code changed)."""

    def parts(versions: pd.Series) -> tuple[set[str], set[tuple[str, str]]]:
        bases, files = set(), set()
        for version in versions.astype(str):
            base, *named = version.split("; ")
            bases.add(base)
            files |= {tuple(entry.rsplit(" ", 1)) for entry in named if " " in entry}
        return bases, files

    (bases_a, files_a), (bases_b, files_b) = parts(before), parts(after)
    if bases_a != bases_b:
        return []
    return sorted({path for path, _ in files_a ^ files_b})


def _side(values: pd.Series) -> dict[str, float]:
    return {
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
        "n": len(values),
    }


def minimum_effect(metric: str, tolerance: float, n_eval: float) -> float:
    """The change a row must be shown to exceed: the tolerance, never below the resolution of an
    evaluation set of `n_eval` items (100 / n_eval points), for a metric on a 0-100 scale; 0 for
    others (losses), whose p gets the exact test's floor instead."""
    if metric_range(metric) != (0.0, 100.0):
        return 0.0
    resolution = 100.0 / n_eval if n_eval and np.isfinite(n_eval) else 0.0
    return max(tolerance, resolution)


def _chance(frame: pd.DataFrame) -> np.ndarray:
    if "chance" not in frame:
        return np.zeros(len(frame), bool)
    return frame["chance"].fillna(False).astype(bool).to_numpy()


def divergence(before: pd.DataFrame, after: pd.DataFrame) -> str:
    """The seeds at chance level on each side, with Fisher's exact test of the two rates, or ""
    when neither side has any."""
    nb, na = int(_chance(before).sum()), int(_chance(after).sum())
    if nb == na == 0:
        return ""
    table = [[nb, len(before) - nb], [na, len(after) - na]]
    p = float(scipy_stats.fisher_exact(table).pvalue)
    return f"{nb} of {len(before)} at chance, then {na} of {len(after)} (Fisher p = {p:.2g})"


def row_test(
    after: np.ndarray, before: np.ndarray, paired: bool, metric: str, minimum: float
) -> SeedComparison:
    """after minus before, tested against a change beyond ±`minimum`; a metric without a 0-100
    scale (a loss) gets, instead, the exact test's floor on its p."""
    result = compare_seeds(after, before, paired=paired, power=None, minimum=minimum)
    if metric_range(metric) == (0.0, 100.0):
        return result
    floor = exact_floor(result.n_a, result.n_b, paired)
    if result.test == "no spread" and result.difference != 0:
        return replace(result, p_value=floor)  # every seed moved alike: the exact test's p
    if np.isfinite(result.p_value):
        return replace(result, p_value=max(result.p_value, floor))
    return result


def _tested(b: pd.DataFrame, a: pd.DataFrame, paired: bool, minimum: float) -> SeedComparison:
    """The test of the seeds not at chance level (aligned when paired), or none when a side is
    all at chance."""
    ok_b, ok_a = ~_chance(b), ~_chance(a)
    if paired:
        ok_b = ok_a = ok_b & ok_a
    x, y = a["value"].to_numpy(dtype=float)[ok_a], b["value"].to_numpy(dtype=float)[ok_b]
    if not (x.size and y.size):
        difference = float(a["value"].mean() - b["value"].mean())
        nan = math.nan
        return SeedComparison(difference, nan, nan, nan, ALL_AT_CHANCE, len(a), len(b), nan)
    return row_test(x, y, paired, str(b["metric"].iloc[0]), minimum)


def compare_group(
    before: pd.DataFrame, after: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE
) -> dict[str, object]:
    """One (experiment, variant, metric): after minus before, with the statistics (reading,
    Holm's p and the detectable difference are filled in by `compare`)."""
    b, a = before.sort_values("seed"), after.sort_values("seed")
    paired = list(b["seed"]) == list(a["seed"])
    n_eval = pd.to_numeric(pd.concat([_column(b, "n_eval"), _column(a, "n_eval")])).max()
    minimum = minimum_effect(str(b["metric"].iloc[0]), tolerance, n_eval)
    result = _tested(b, a, paired, minimum)
    identical = paired and np.array_equal(
        a["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True
    )
    sides = {
        f"{name}_{k}": v
        for name, frame in (("before", b), ("after", a))
        for k, v in _side(frame["value"]).items()
    }
    return {
        **sides,
        **result.columns(),
        "minimum": minimum,
        "diverged": divergence(b, a),
        "identical": identical,
        "what_differs": what_changed(b, a),
        "result": result,
    }


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(math.nan, index=frame.index)


def reading(row: pd.Series, alpha: float = 1 - LEVEL) -> str:
    """What a compared row says: identical, better/worse (a change beyond its minimum effect,
    Holm-adjusted p over the whole table below alpha), no detectable change, or changed with
    too few seeds (or a side all at chance) to test."""
    if row["identical"]:
        return "identical"
    if row["p_holm"] < alpha:
        improved = (row["difference"] < 0) == lower_is_better(row["metric"])
        return "better" if improved else "worse"
    if row["test"] == "too few seeds":
        return "changed (too few seeds for a test)"
    if row["test"] == ALL_AT_CHANCE:
        return "changed (a side all at chance: no test)"
    return "no detectable change"


def compare(
    before: pd.DataFrame,
    after: pd.DataFrame,
    names: tuple[str, str],
    tolerances: dict[str, float] | None = None,
    power: float | None = POWER,
) -> pd.DataFrame:
    """Every (experiment, variant, metric) of either side (`inputs.read_side` tables), in the
    order they come (before's first, then after's new ones), as COLUMNS; `tolerances` gives an
    experiment's tolerance (else DEFAULT_TOLERANCE); `power` None leaves the detectable
    difference out (for simulations: it is the slow part)."""
    check_metrics(before, after, names)
    b_groups = dict(list(before.groupby(GROUP, sort=False)))
    a_groups = dict(list(after.groupby(GROUP, sort=False)))
    rows = []
    for key in [*b_groups, *(k for k in a_groups if k not in b_groups)]:
        row: dict[str, object] = {**dict(zip(GROUP, key, strict=True)), "reading": None}
        if key not in a_groups:
            row.update({f"before_{k}": v for k, v in _side(b_groups[key]["value"]).items()})
            row["reading"] = "gone"
        elif key not in b_groups:
            row.update({f"after_{k}": v for k, v in _side(a_groups[key]["value"]).items()})
            row["reading"] = "new"
        else:
            tolerance = (tolerances or {}).get(key[0], DEFAULT_TOLERANCE)
            row.update(compare_group(b_groups[key], a_groups[key], tolerance))
        rows.append(row)
    return decided(pd.DataFrame(rows), power)


def decided(table: pd.DataFrame, power: float | None = POWER) -> pd.DataFrame:
    """Holm over the whole table (rows with `metric`, `identical`, `reading` None where to be
    read, and the test's columns and `result`), the readings, and the detectable difference at
    the level Holm tests a row that was not rejected."""
    for column in ("identical", "p_value", "test", "what_differs", "result"):
        if column not in table:
            table[column] = math.nan
    # An identical row is no test: it stays out of the family.
    tested = table["p_value"].where(table["identical"].ne(True))
    table["p_holm"] = holm(list(tested))
    compared = table["reading"].isna()
    table.loc[compared, "reading"] = table[compared].apply(reading, axis=1)
    level = holm_level(list(table["p_holm"]))
    table["detectable"] = [
        detectable_difference(result, level, power)
        if power is not None
        and isinstance(result, SeedComparison)
        and text == "no detectable change"
        else math.nan
        for result, text in zip(table["result"], table["reading"], strict=True)
    ]
    return table.reindex(columns=COLUMNS)
