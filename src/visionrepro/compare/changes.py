"""Per (experiment, variant, metric): the two sides' seeds compared (paired when both ran the
same seeds, Welch otherwise, Holm within an experiment), read as identical, no detectable
change, better or worse, new or gone, with what changed between them (settings, code)."""

import json
import math

import numpy as np
import pandas as pd

from visionrepro.errors import UserError
from visionrepro.report.stats import LEVEL, TEST_COLUMNS, compare_seeds, holm

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
    "reading",
    "what_differs",
]


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
        parts.append("code differs")
    return "; ".join(parts)


def _side(values: pd.Series) -> dict[str, float]:
    return {
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
        "n": len(values),
    }


def compare_group(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, object]:
    """One (experiment, variant, metric): after minus before, with the statistics (reading and
    Holm's p are filled in by `compare`)."""
    b, a = before.sort_values("seed"), after.sort_values("seed")
    paired = list(b["seed"]) == list(a["seed"])
    result = compare_seeds(a["value"], b["value"], paired=paired)
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
        "identical": identical,
        "what_differs": what_changed(b, a),
    }


def reading(row: pd.Series, alpha: float = 1 - LEVEL) -> str:
    """What a compared row says: identical, better/worse (Holm-adjusted p below alpha, or
    every seed moved alike), no detectable change, or changed with too few seeds to say."""
    if row["identical"]:
        return "identical"
    unanimous = row["test"] == "no spread" and row["difference"] != 0
    if unanimous or row["p_holm"] < alpha:
        improved = (row["difference"] < 0) == lower_is_better(row["metric"])
        return "better" if improved else "worse"
    if row["test"] == "too few seeds":
        return "changed (too few seeds for a test)"
    return "no detectable change"


def compare(before: pd.DataFrame, after: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
    """Every (experiment, variant, metric) of either side (`inputs.read_side` tables), in the
    order they come (before's first, then after's new ones), as COLUMNS."""
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
            row.update(compare_group(b_groups[key], a_groups[key]))
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("identical", "p_value", "test", "what_differs"):
        if column not in table:
            table[column] = math.nan
    table["p_holm"] = table.groupby("experiment")["p_value"].transform(lambda p: holm(list(p)))
    compared = table["reading"].isna()
    table.loc[compared, "reading"] = table[compared].apply(reading, axis=1)
    return table.reindex(columns=COLUMNS)
