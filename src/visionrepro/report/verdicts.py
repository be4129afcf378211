"""Did it reproduce? Seed statistics (Student t intervals), verdicts against the reference
numbers, the chance-level flag, and Welch comparisons between variants, as tables that both
reports (and any other writer) read."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from visionrepro import grid

DEFAULT_TOLERANCE = 1.0  # metric points; an experiment's `tolerance` overrides it
CHANCE_MARGIN = 5.0  # points above 100 / classes still counted as chance level
LEVEL = 0.95  # of every confidence interval; 1 - LEVEL is the tests' significance level
# The verdicts' colours in figures and tables (green, blue, red, grey).
VERDICT_COLOURS = {
    "reproduced": "#2e7d32",
    "above": "#1565c0",
    "below": "#c62828",
    "no reference": "#757575",
}
RELATIONS = {"ladder": "previous rung", "sweep": "best of the sweep", "variants": "first variant"}
GLANCE_COLUMNS = [
    "experiment",
    "variant",
    "label",
    "metric",
    "n_seeds",
    "mean",
    "std",
    "min",
    "max",
    "ci_low",
    "ci_high",
    "reference",
    "difference",
    "tolerance",
    "verdict",
    "chance_seeds",
    "device",
    "train_seconds",
    "code_version",
    "created",
]
COMPARISON_COLUMNS = [
    "experiment",
    "variant",
    "against",
    "relation",
    "n_seeds",
    "n_seeds_against",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "reading",
]


def plural(n: int, noun: str) -> str:
    """ "1 seed", "3 seeds"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def headline_metric(task: str, eval_split: str) -> str:
    """An experiment's headline metric: accuracy, mIoU (segmentation) or pixel accuracy."""
    return {
        "classification": f"{eval_split}_accuracy",
        "segmentation": "miou",
        "colorization": "pixel_accuracy",
    }[task]


@dataclass(frozen=True)
class SeedStats:
    """A metric over seeds: count, mean, sample std, range and the mean's t interval (NaN for
    one seed)."""

    n: int
    mean: float
    std: float
    min: float
    max: float
    ci_low: float
    ci_high: float


def seed_stats(values: Sequence[float], level: float = LEVEL) -> SeedStats:
    """Mean, sample standard deviation, min, max and the Student t confidence interval of the
    mean at `level` (NaN when there is one seed)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values: a metric needs at least one seed")
    n, mean = data.size, float(data.mean())
    std = float(data.std(ddof=1)) if n > 1 else 0.0
    half = stats.t.ppf((1 + level) / 2, n - 1) * std / math.sqrt(n) if n > 1 else math.nan
    return SeedStats(n, mean, std, float(data.min()), float(data.max()), mean - half, mean + half)


def verdict(seeds: SeedStats, reference: float | None, tolerance: float) -> str:
    """ "reproduced" when the reference lies within `tolerance` of our mean or within our seeds'
    range; else "above" or "below" (our mean against it); "no reference" without one."""
    if reference is None or pd.isna(reference):
        return "no reference"
    if abs(seeds.mean - reference) <= tolerance or seeds.min <= reference <= seeds.max:
        return "reproduced"
    return "above" if seeds.mean > reference else "below"


def is_chance(
    n_classes: int,
    accuracy: float | None = None,
    predicted: int | None = None,
    margin: float = CHANCE_MARGIN,
) -> bool:
    """A run at chance level: accuracy (percent) within `margin` points of 100 / classes, or at
    most two classes ever predicted (of more than two). Unknown quantities are not evidence."""
    near = accuracy is not None and accuracy <= 100.0 / n_classes + margin
    few = predicted is not None and n_classes > 2 and predicted <= 2
    return bool(near or few)


@dataclass(frozen=True)
class Comparison:
    """One variant against another: difference of means, its Welch interval and p-value (NaN
    below 2 seeds a side), and the reading in words."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    reading: str


def compare(values: Sequence[float], baseline: Sequence[float], level: float = LEVEL) -> Comparison:
    """`values` against `baseline`: difference of means, with Welch's t-test and interval when
    both have at least 2 seeds."""
    a, b = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    difference = float(a.mean() - b.mean())
    low = high = p_value = math.nan
    if len(a) >= 2 and len(b) >= 2 and (a.std() > 0 or b.std() > 0):
        test = stats.ttest_ind(a, b, equal_var=False)
        p_value = float(test.pvalue)
        low, high = (float(x) for x in test.confidence_interval(level))
    reading = comparison_reading(difference, p_value, len(a), len(b), 1 - level)
    return Comparison(difference, low, high, p_value, reading)


def comparison_reading(difference: float, p_value: float, n: int, n_base: int, alpha: float) -> str:
    """The plain-words reading of a comparison."""
    seeds = plural(n, "seed") if n == n_base else f"{n} and {n_base} seeds"
    if n < 2 or n_base < 2:
        return f"no test with {seeds} (needs 2 a side)"
    if math.isnan(p_value):
        return f"no test: every seed gave the same value ({seeds})"
    direction = "gain" if difference > 0 else "loss"
    if p_value < alpha:
        return f"a {direction} (p = {p_value:.2g}, {seeds})"
    return f"no evidence of a {direction} with {seeds} (p = {p_value:.2f})"


def comparison_groups(exp: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """The groups of an experiment's variants that are compared: each network's sweep ("sweep"),
    and its explicit variants ("ladder" when cumulative, else "variants")."""
    groups = []
    swept = grid.sweep_variants(exp) if exp.get("sweep") else {}
    for network in exp["networks"]:
        names = [name for name, var in swept.items() if var["network"] == network]
        if len(names) > 1:
            groups.append(("sweep", names))
    explicit = list(grid.explicit_variants(exp))
    if len(explicit) > 1:
        groups.append(("ladder" if exp.get("cumulative") else "variants", explicit))
    return groups


def _baselines(kind: str, names: list[str], means: Mapping[str, float]) -> list[tuple[str, str]]:
    """(variant, the variant it is compared with) of one group."""
    if kind == "ladder":
        return list(zip(names[1:], names[:-1], strict=True))
    base = max(names, key=means.__getitem__) if kind == "sweep" else names[0]
    return [(name, base) for name in names if name != base]


def comparison_table(
    values: pd.DataFrame, groups: Mapping[str, Sequence[tuple[str, Sequence[str]]]]
) -> pd.DataFrame:
    """Per experiment and group (`groups[experiment]`, see comparison_groups): each variant
    against its baseline on the per-seed `values` (experiment, variant, seed, value)."""
    rows = []
    for experiment, exp_groups in groups.items():
        seeds = values[values["experiment"] == experiment].groupby("variant", sort=False)["value"]
        per_variant = {name: group.to_numpy() for name, group in seeds}
        means = {name: float(v.mean()) for name, v in per_variant.items()}
        for kind, names in exp_groups:
            present = [n for n in names if n in per_variant]
            for variant, base in _baselines(kind, present, means):
                result = compare(per_variant[variant], per_variant[base])
                rows.append(
                    {
                        "experiment": experiment,
                        "variant": variant,
                        "against": base,
                        "relation": RELATIONS[kind],
                        "n_seeds": len(per_variant[variant]),
                        "n_seeds_against": len(per_variant[base]),
                        **vars(result),
                    }
                )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _joined(values: pd.Series) -> str:
    """The distinct values of a column, in order, joined by commas."""
    return ", ".join(dict.fromkeys(str(v) for v in values))


def _glance_row(
    group: pd.DataFrame, metric: str, reference: float | None, setting: Mapping[str, Any]
) -> dict[str, Any]:
    """One (experiment, variant, metric) row of the at-a-glance table."""
    seeds = seed_stats(group[metric])
    tolerance = setting.get("tolerance", DEFAULT_TOLERANCE)
    first = group.iloc[0]
    return {
        "experiment": first["experiment"],
        "variant": first["variant"],
        "label": setting.get("labels", {}).get(first["variant"], first["variant"]),
        "metric": metric,
        "n_seeds": seeds.n,
        "mean": seeds.mean,
        "std": seeds.std,
        "min": seeds.min,
        "max": seeds.max,
        "ci_low": seeds.ci_low,
        "ci_high": seeds.ci_high,
        "reference": math.nan if reference is None else float(reference),
        "difference": math.nan if reference is None else seeds.mean - reference,
        "tolerance": float(tolerance),
        "verdict": verdict(seeds, reference, tolerance),
        "chance_seeds": int(group["chance"].sum()),
        "device": _joined(group["device_name"]),
        "train_seconds": float(group["train_seconds"].sum()),
        "code_version": _joined(group["code_version"]),
        "created": str(group["created"].max()),
    }


def glance_table(runs: pd.DataFrame, settings: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Reproduction at a glance: per experiment (`settings` order), variant and metric (the
    headline metric, and any other the reference gives), our seeds' statistics beside the
    reference, the verdict, the seeds at chance level, and the runs' device, total training
    time, code version and date. `runs` is tables.run_table's; `settings[experiment]` has
    `metric` (the headline), `tolerance`, `reference` ({variant: {metric: value}}) and
    `labels` ({variant: label})."""
    rows = []
    for experiment, setting in settings.items():
        selected = runs[runs["experiment"] == experiment]
        for variant, group in selected.groupby("variant", sort=False):
            reference = setting.get("reference", {}).get(variant, {})
            metrics = dict.fromkeys([setting["metric"], *(m for m in reference if m != "params")])
            for metric in metrics:
                if metric not in group or group[metric].isna().all():
                    raise ValueError(
                        f"experiments.{experiment}.reference.{variant}: {metric!r} is not a "
                        f"metric of its runs ({setting['metric']!r} is the headline)"
                    )
                rows.append(_glance_row(group, metric, reference.get(metric), setting))
    return pd.DataFrame(rows, columns=GLANCE_COLUMNS)


def headline(glance: pd.DataFrame) -> str:
    """The count of verdicts: "11 of 14 reference numbers reproduced; 2 below; 1 above"."""
    verdicts = glance["verdict"].value_counts()
    compared = int(verdicts.drop("no reference", errors="ignore").sum())
    if compared == 0:
        return "No reference numbers to compare with."
    parts = [f"{verdicts.get('reproduced', 0)} of {compared} reference numbers reproduced"]
    parts += [f"{verdicts[v]} {v}" for v in ("below", "above") if verdicts.get(v, 0)]
    return "; ".join(parts)


def metric_name(metric: str) -> str:
    """A metric's short name for a table: "val_accuracy" -> "val acc.", "miou" -> "mIoU"."""
    names = {"miou": "mIoU", "thresholded_iou": "thresholded IoU"}
    return names.get(metric, metric.replace("_accuracy", " acc.").replace("_", " "))


def mean_std(mean: float, std: float, n: int) -> str:
    """ "49.50 ± 13.44", or the mean alone for one seed."""
    return f"{mean:.2f} ± {std:.2f}" if n > 1 else f"{mean:.2f}"


def _interval(row: Any) -> str:
    if row.n_seeds == 1:
        return "one seed"
    return f"{row.ci_low:.2f}–{row.ci_high:.2f}"


def glance_view(glance: pd.DataFrame) -> pd.DataFrame:
    """The at-a-glance table as text cells, for any writer (HTML, Markdown); an experiment's
    name on its first row only; `chance`: the seeds at chance level, e.g. "2 of 3"."""
    rows = list(glance.itertuples())
    return pd.DataFrame(
        {
            "experiment": glance["experiment"].where(~glance["experiment"].duplicated(), ""),
            "variant": glance["label"],
            "metric": [metric_name(m) for m in glance["metric"]],
            "ours": [mean_std(row.mean, row.std, row.n_seeds) for row in rows],
            "seeds": glance["n_seeds"].astype(str),
            "range": [f"{row.min:.2f}–{row.max:.2f}" if row.n_seeds > 1 else "–" for row in rows],
            f"{LEVEL * 100:g} % CI": [_interval(row) for row in rows],
            "reference ± tol.": [
                f"{row.reference:.2f} ± {row.tolerance:g}" if pd.notna(row.reference) else "–"
                for row in rows
            ],
            "ours − ref.": [_number(v, "{:+.2f}") for v in glance["difference"]],
            "verdict": glance["verdict"],
            "chance": [
                f"{row.chance_seeds} of {row.n_seeds}" if row.chance_seeds else "" for row in rows
            ],
        }
    )


def _number(value: float, fmt: str) -> str:
    """A number for a cell; a dash when missing."""
    return "–" if pd.isna(value) else fmt.format(value)
