"""Did it reproduce? Each reference number against one new run of our recipe (the 95 %
prediction interval of our seeds), compared like for like (its settings, data and rounding),
and the comparisons between an experiment's networks and variants (paired or Welch t, Holm),
as tables that both reports (and any other writer) read. The statistics are report/stats.py's.

A reference is the write-up's one run, so the question is whether it is consistent with one new
run of ours. The frame is equivalence testing on that predictive difference: d = reference -
mean, se1 = s · sqrt(1 + 1/n), n - 1 degrees of freedom, r half the reference's rounding unit
(counted once, at the least favourable point of the rounding interval). Verdicts (`kind`):
- "consistent" (consistent): equivalence within ±tolerance shown, two one-sided tests at 5 %:
  |d| + r + t(0.95, n-1) · se1 ≤ tolerance;
- "below" / "above" (inconsistent): the gap shown to exceed the tolerance, two-sided at 5 %:
  |d| - r - t(0.975, n-1) · se1 > tolerance (so only outside the prediction interval);
- "differs, by less than the tolerance can resolve" (inconclusive): neither, but outside the
  95 % prediction interval; "compatible, not decisive" (inconclusive): neither, and inside; the
  note says how many seeds would decide it at the present spread estimate, or that none can;
- "not comparable: epochs 20 ≠ 200" (not comparable): the run's settings or data differ from
  the reference's; such rows leave the headline's denominator;
- "within / outside ±tol, no noise estimate (n seeds)" (no estimate): fewer than 3 seeds or
  no spread, never a positive verdict;
- "no reference".
The p shown is the one the decision used. Each like-for-like reference is one test: the headline
adds the Holm-adjusted reading over the family (each one's p of a gap beyond the tolerance).
Seeds at chance level are set aside ("k of n at chance; the rest ..."); a reference that is
itself a divergence (at chance level) is judged on our divergence rate.
"""

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from visionrepro.plan.model import DEFAULT_TOLERANCE, REFERENCE_KEYS, reference_metrics
from visionrepro.report import measures, stats

CHANCE_MARGIN = 5.0  # points above 100 / classes still counted as chance level
LEVEL = stats.LEVEL  # of every interval; 1 - LEVEL is the tests' significance level
ORIGINAL_DATA = "original"  # a reference's data unless it says otherwise
# The verdicts' colours by kind, in figures and tables: consistent green, inconclusive amber,
# inconsistent (below and above alike) red, the rest greys.
VERDICT_COLORS = {
    "consistent": "#2e7d32",
    "inconclusive": "#a86400",
    "inconsistent": "#c62828",
    "no estimate": "#5f6b7a",
    "not comparable": "#757575",
    "no reference": "#9e9e9e",
}
RELATIONS = {
    "networks": "first network",
    "ladder": "previous rung",
    "sweep": "first of the sweep",
    "variants": "first variant",
}
GLANCE_COLUMNS = [
    "experiment",
    "variant",
    "label",
    "metric",
    "n_seeds",
    "chance_seeds",
    "n_used",
    "mean",
    "std",
    "min",
    "max",
    "pred_low",
    "pred_high",
    "pred_half",
    "mean_low",
    "mean_high",
    "no_interval",
    "n_eval",
    "binomial_se",
    "reference",
    "precision",
    "tolerance",
    "difference",
    "p_value",
    "p_beyond",
    "verdict",
    "kind",
    "note",
    "source",
    "pooled",
    "device",
    "train_seconds",
    "code_version",
    "data_version",
    "data_form",
    "created",
]
COMPARISON_COLUMNS = [
    "experiment",
    "variant",
    "against",
    "relation",
    "n_seeds",
    "n_seeds_against",
    "diverged",
    *stats.TEST_COLUMNS,
    "reference_difference",
    "new_low",
    "new_high",
    "reference_p",
    "reading",
]


def plural(n: int, noun: str) -> str:
    """ "1 seed", "3 seeds"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def metric_range(metric: str) -> tuple[float, float]:
    """The values a metric can take: percentages (accuracies, IoU) lie in 0 to 100."""
    if measures.unit(metric) == "points":
        return (0.0, 100.0)
    return (
        (0.0, math.inf) if measures.unit(metric) in ("epochs", "count") else (-math.inf, math.inf)
    )


@dataclass(frozen=True)
class SeedStats:
    """A metric over seeds: count, mean, sample std (0 for one seed) and range."""

    n: int
    mean: float
    std: float
    min: float
    max: float


def seed_stats(values: Sequence[float]) -> SeedStats:
    """Mean, sample standard deviation, min and max of the seeds' values."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no values: a metric needs at least one seed")
    std = float(data.std(ddof=1)) if data.size > 1 else 0.0
    return SeedStats(data.size, float(data.mean()), std, float(data.min()), float(data.max()))


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


def chance_margin(metric: str) -> float | None:
    """The margin above 100 / classes within which a score is at chance level: CHANCE_MARGIN for
    an accuracy of images, 0 for mIoU (predicting one class everywhere scores at most 100 /
    classes), None where the score says nothing about it (pixel accuracy, dominated by the
    background of a segmentation; losses)."""
    if metric == "miou":
        return 0.0
    if metric.endswith("_accuracy") and metric != "pixel_accuracy":
        return CHANCE_MARGIN
    return None


def chance_flags(group: pd.DataFrame, headline: str) -> np.ndarray:
    """Each run's chance flag: the runs table's, or its `headline` score at chance level
    (chance_margin), so that runs with the same score are flagged alike."""
    flags = group["chance"].to_numpy(dtype=bool)
    n_classes, margin = _n_classes(group), chance_margin(headline)
    if not n_classes or margin is None or headline not in group:
        return flags
    scores = group[headline].to_numpy(dtype=float)
    return flags | np.array([bool(is_chance(n_classes, v, margin=margin)) for v in scores])


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def resolved_setting(settings: Mapping[str, Any], key: str) -> Any:
    """A run's resolved value of `key` from its settings (the runs table's JSON: train,
    color, task, network, network_options, dataset): a train setting, then a top-level one
    (`dataset` by its name), then the dataset's options (classes, ...); a flat mapping is read
    as train settings alone. "unset" where the run records none."""
    nested = isinstance(settings.get("train"), Mapping)
    train = settings["train"] if nested else settings
    dataset = settings.get("dataset") if nested else None
    dataset = dataset if isinstance(dataset, Mapping) else {}
    if key in train:
        return train[key]
    if key == "dataset" and dataset:
        return dataset.get("name", "unset")
    if nested and key in settings:
        return settings[key]
    return dataset.get(key, "unset")


def mismatches(
    reference: Mapping[str, Any], settings: Sequence[Mapping[str, Any]], data: Sequence[str]
) -> list[str]:
    """How the runs differ from what the reference was made with: each `settings:` key
    (anything a run's resolved config holds: resolved_setting) whose value differs in any run
    ("epochs 20 ≠ 200", "color rgb ≠ gray"), and the data ("data image folder ≠ original");
    runs that did not record their data are not held against it."""
    found = []
    for key, wanted in reference.get("settings", {}).items():
        ours = list(dict.fromkeys(_shown(resolved_setting(s, key)) for s in settings))
        if ours != [_shown(wanted)]:
            found.append(f"{key} {'/'.join(ours)} ≠ {_shown(wanted)}")
    wanted_data = reference.get("data", ORIGINAL_DATA)
    ours_data = [d for d in dict.fromkeys(data) if d]
    if ours_data == ["synthetic"] and wanted_data != "synthetic":
        found.append("synthetic data")  # the demo's: the banner above the table says more
    elif ours_data and ours_data != [wanted_data]:
        found.append(f"data {'/'.join(ours_data)} ≠ {wanted_data}")
    return found


@dataclass(frozen=True)
class Verdict:
    """A reference judged against our seeds: the verdict's words, its kind (VERDICT_COLOURS),
    a note (p-value, seeds that would decide it, chance seeds), the p-value the decision used
    and the one-sided p that the gap exceeds the tolerance (the headline's family, Holm)."""

    text: str
    kind: str
    note: str = ""
    p_value: float = math.nan
    p_beyond: float = math.nan


COMPATIBLE = "compatible, not decisive"
UNRESOLVED = "differs, by less than the tolerance can resolve"


def _divergence_verdict(n: int, chance: int) -> Verdict:
    """A reference at chance level (the write-up's run diverged) against our divergence rate."""
    if chance:
        return Verdict(
            "consistent", "consistent", f"{chance} of {n} seeds diverged, as the reference did"
        )
    upper = 1 - (1 - LEVEL) ** (1 / n)  # the exact one-sided bound on a rate after 0 of n
    return Verdict(
        COMPATIBLE,
        "inconclusive",
        f"none of {plural(n, 'seed')} diverged; a divergence rate up to {upper:.0%} fits that",
    )


def judge(
    values: Sequence[float],
    reference: float | None,
    tolerance: float,
    precision: float = 0.0,
    mismatch: Sequence[str] = (),
    chance: Sequence[bool] | None = None,
    reference_at_chance: bool = False,
) -> Verdict:
    """The verdict of `reference` against the seeds' `values` (see the module's docstring);
    the reference's true value lies within half its rounding unit (`precision`) of it, and
    every test is made at the least favourable point of that interval, once."""
    if reference is None or pd.isna(reference):
        return Verdict("no reference", "no reference")
    if mismatch:
        return Verdict("not comparable: " + "; ".join(mismatch), "not comparable")
    flags = np.zeros(len(values), bool) if chance is None else np.asarray(chance, bool)
    data = np.asarray(values, dtype=float)
    if reference_at_chance:
        return _divergence_verdict(data.size, int(flags.sum()))
    aside = f"{flags.sum()} of {data.size} at chance; the rest: " if flags.any() else ""
    rest = data[~flags]
    if rest.size == 0:
        return Verdict("below", "inconsistent", f"all {plural(data.size, 'seed')} at chance")
    found = stats.predictive(rest, reference, precision / 2)
    if found is None:
        side = "within" if abs(rest.mean() - reference) - precision / 2 <= tolerance else "outside"
        why = plural(rest.size, "seed") + (", no spread" if rest.size >= stats.MIN_SEEDS else "")
        return Verdict(f"{side} ±{tolerance:g}, no noise estimate ({why})", "no estimate", aside)
    return _predictive_verdict(found, tolerance, float(rest.std(ddof=1)), rest.size, aside)


def _predictive_verdict(
    found: stats.Predictive, tolerance: float, std: float, n: int, aside: str
) -> Verdict:
    """The three-way equivalence verdict of a reference as one new run (`found`): consistent
    when shown within ±tolerance, below/above when shown beyond it, else undecided."""
    alpha = 1 - LEVEL
    equivalent, beyond = found.equivalence_p(tolerance), found.beyond_p(tolerance)
    if equivalent <= alpha:
        note = f"{aside}within ±{tolerance:g} shown, p = {equivalent:.3g}"
        return Verdict("consistent", "consistent", note, equivalent, beyond)
    if beyond < alpha:
        side = "above" if found.gap < 0 else "below"
        note = f"{aside}beyond ±{tolerance:g}, p = {beyond:.3g}"
        return Verdict(side, "inconsistent", note, beyond, beyond)
    p_value = found.p_value()
    text = UNRESOLVED if p_value < alpha else COMPATIBLE
    note = f"{aside}p = {p_value:.3g}; {_seeds_to_decide(found, tolerance, std, n)}"
    return Verdict(text, "inconclusive", note, p_value, beyond)


def _seeds_to_decide(found: stats.Predictive, tolerance: float, std: float, n: int) -> str:
    """How many seeds would decide an undecided verdict at the present spread estimate."""
    distance = abs(found.gap)
    within, beyond = tolerance - distance - found.rounding, distance - found.rounding - tolerance
    what, margin = ("within", within) if within > 0 else ("beyond", beyond)
    if margin <= 0:
        return f"no number of seeds can: the gap is within the rounding of ±{tolerance:g}"
    floor = stats.one_run_floor(std)
    needed = stats.seeds_to_show(std, margin)
    if needed is None:
        return (
            f"no number of seeds can show it {what} ±{tolerance:g}: one run's own noise "
            f"(1.64 s = {floor:.2f}) exceeds the margin {margin:.2f}"
        )
    guess = ", itself a rough guess" if n < 10 else ""
    return (
        f"about {needed} seeds would show it {what} ±{tolerance:g} at the present spread "
        f"estimate (s = {std:.2f} from {n} seeds{guess})"
    )


def _baselines(kind: str, names: list[str]) -> list[tuple[str, str]]:
    """(variant, the variant it is compared with) of one group."""
    if kind == "ladder":
        return list(zip(names[1:], names[:-1], strict=True))
    return [(name, names[0]) for name in names[1:]]


def comparison_reading(result: stats.SeedComparison, p_holm: float, detectable: float) -> str:
    """The plain-words reading of a comparison: its Holm-adjusted p against 1 - LEVEL, and
    `detectable` (at Holm's level) when it found nothing."""
    if result.test == "too few seeds":
        return "no test: under 3 seeds a side"  # the seeds column gives how many
    if result.test == "no spread":
        return "no test: all seeds agree"
    if result.test == ALL_AT_CHANCE:
        return "no test: a side's seeds are all at chance (their rates are compared apart)"
    if p_holm < 1 - LEVEL:
        direction = "higher" if result.difference > 0 else "lower"
        return f"{direction} by {abs(result.difference):.2f} (Holm p = {p_holm:.2g})"
    if not math.isfinite(detectable):
        return (
            f"no evidence of a difference (Holm p = {p_holm:.2f}); one side barely varies, so "
            "what the test could catch is not computable"
        )
    return (
        f"no evidence of a difference (Holm p = {p_holm:.2f}); the test would catch "
        f"±{detectable:.2f} 4 times in 5 at these seeds, at Holm's level"
    )


ALL_AT_CHANCE = "all at chance"  # the test of a comparison with a side all at chance level


def _side(seeds: pd.DataFrame, variant: str) -> pd.DataFrame:
    """One variant's seeds (value and chance flag), indexed by seed."""
    side = seeds[seeds["variant"] == variant].set_index("seed")
    chance = side["chance"] if "chance" in side else pd.Series(False, index=side.index)
    return pd.DataFrame({"value": side["value"], "chance": chance.fillna(False).astype(bool)})


def _pair(
    seeds: pd.DataFrame, variant: str, base: str, paired: bool
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Two variants' values of the seeds not at chance level, aligned by seed (both seeds of a
    pair trained) when both ran the same seeds and `paired`."""
    a, b = _side(seeds, variant), _side(seeds, base)
    if paired and set(a.index) == set(b.index):
        order = [s for s in sorted(a.index) if not (a.at[s, "chance"] or b.at[s, "chance"])]
        return a.loc[order, "value"].to_numpy(), b.loc[order, "value"].to_numpy(), True
    return a.loc[~a["chance"], "value"].to_numpy(), b.loc[~b["chance"], "value"].to_numpy(), False


def divergence_rates(seeds: pd.DataFrame, variant: str, base: str) -> str:
    """The two variants' seeds at chance level, with Fisher's exact test of the rates, or ""
    when neither has any."""
    a, b = _side(seeds, variant)["chance"], _side(seeds, base)["chance"]
    if not (a.any() or b.any()):
        return ""
    table = [[int(a.sum()), int((~a).sum())], [int(b.sum()), int((~b).sum())]]
    p = float(scipy_stats.fisher_exact(table).pvalue)
    return f"{a.sum()} of {len(a)} vs {b.sum()} of {len(b)} at chance (Fisher p = {p:.2g})"


def _tested(a: np.ndarray, b: np.ndarray, paired: bool, n_a: int, n_b: int) -> stats.SeedComparison:
    """The comparison of the trained seeds, or none when a side is all at chance."""
    if min(n_a, n_b) >= stats.MIN_SEEDS and not (a.size and b.size):
        nan = math.nan
        return stats.SeedComparison(nan, nan, nan, nan, ALL_AT_CHANCE, n_a, n_b, nan)
    return stats.compare_seeds(a, b, paired, power=None)


def new_difference_cells(
    a: np.ndarray, b: np.ndarray, paired: bool, reference: float
) -> dict[str, float]:
    """The 95 % prediction interval of one new difference (one run of each recipe: what a
    write-up's single difference is) and the predictive p of the write-up's `reference`."""
    nan = math.nan
    found = stats.new_difference(a, b, paired) if a.size and b.size else None
    if found is None or not math.isfinite(found[2]):
        return {"new_low": nan, "new_high": nan, "reference_p": nan}
    mean, se, df = found
    half = float(scipy_stats.t.ppf((1 + LEVEL) / 2, df)) * se
    p = float(2 * scipy_stats.t.sf(abs(reference - mean) / se, df)) if pd.notna(reference) else nan
    return {"new_low": mean - half, "new_high": mean + half, "reference_p": p}


def reference_reading(difference: float, low: float, high: float, p: float) -> str:
    """The write-up's single difference against the prediction interval of one new difference."""
    if pd.isna(difference):
        return ""
    if pd.isna(low):
        return f"{difference:+.2f} (no interval of one new difference)"
    where = "inside" if low <= difference <= high else "outside"
    span = f"{low:+.2f} to {high:+.2f}"
    return f"{difference:+.2f}: {where} one new difference's 95 % PI, {span} (p = {p:.2f})"


def _comparison_row(
    seeds: pd.DataFrame, variant: str, base: str, paired: bool, reference: float
) -> dict[str, Any]:
    """One variant against its baseline: the trained seeds' test, their divergence rates apart,
    and the write-up's difference against one new difference."""
    a, b, is_paired = _pair(seeds, variant, base, paired)
    n_a, n_b = int((seeds["variant"] == variant).sum()), int((seeds["variant"] == base).sum())
    result = _tested(a, b, is_paired, n_a, n_b)
    return {
        "variant": variant,
        "against": base,
        "n_seeds": n_a,
        "n_seeds_against": n_b,
        "diverged": divergence_rates(seeds, variant, base),
        **result.columns(),
        "reference_difference": reference,
        **new_difference_cells(a, b, is_paired, reference),
        "result": result,
    }


def comparison_table(
    values: pd.DataFrame,
    groups: Mapping[str, Sequence[tuple[str, Sequence[str]]]],
    paired: Mapping[str, bool] | None = None,
    references: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Per experiment and group (`groups[experiment]`, plan.load.comparison_groups): each
    variant against its baseline on the per-seed `values` (experiment, variant, seed, value,
    and chance where known: seeds at chance are left out, their rates compared apart); a paired
    t-test where `paired[experiment]` (plan.draws.SeedDraws.shared) and both ran the same seeds,
    else Welch; Holm's adjustment over the experiment's comparisons, the detectable difference
    at Holm's level; the write-up's own difference where `references[experiment]` ({variant:
    value}) gives both sides, against the prediction interval of one new difference."""
    frames = []
    for experiment, exp_groups in groups.items():
        seeds = values[values["experiment"] == experiment]
        present = set(seeds["variant"])
        refs = (references or {}).get(experiment, {})
        rows = []
        for kind, names in exp_groups:
            for variant, base in _baselines(kind, [n for n in names if n in present]):
                reference = refs.get(variant, math.nan) - refs.get(base, math.nan)
                pair = (paired or {}).get(experiment, False)
                row = _comparison_row(seeds, variant, base, pair, reference)
                rows.append({"experiment": experiment, "relation": RELATIONS[kind], **row})
        frames.append(_read_comparisons(rows))
    frames = [f for f in frames if len(f)]
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COMPARISON_COLUMNS)
    )


def _read_comparisons(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """An experiment's comparisons with Holm's p, the detectable difference at Holm's level
    and the readings."""
    adjusted = stats.holm([row["p_value"] for row in rows])
    level = stats.holm_level(adjusted)
    for row, p_holm in zip(rows, adjusted, strict=True):
        result = row.pop("result")
        row["p_holm"] = p_holm
        row["detectable"] = stats.detectable_difference(result, level)
        row["reading"] = comparison_reading(result, p_holm, row["detectable"])
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _joined(values: pd.Series) -> str:
    """The distinct values of a column, in order, joined by commas."""
    return ", ".join(dict.fromkeys(str(v) for v in values if pd.notna(v) and str(v)))


def _column(group: pd.DataFrame, name: str, default: Any = "") -> pd.Series:
    """A run-table column, or `default` for runs recorded before it existed."""
    return group[name] if name in group else pd.Series([default] * len(group), index=group.index)


def _pooled(group: pd.DataFrame) -> str:
    """Whether a row pools runs of different code or data versions, in words."""
    parts = []
    for column, what in (("code_version", "code"), ("data_version", "data")):
        distinct = {str(v) for v in _column(group, column) if pd.notna(v) and str(v)}
        if len(distinct) > 1:
            parts.append(f"{len(distinct)} {what} versions")
    return "pooled from " + " and ".join(parts) if parts else ""


def _intervals(values: np.ndarray, metric: str) -> dict[str, float]:
    """The prediction interval of one new run and the interval of the mean, cut to the
    metric's range; NaN where stats gives none (fewer than 3 seeds, no spread)."""
    low, high = metric_range(metric)
    nan = math.nan
    out = {"pred_low": nan, "pred_high": nan, "pred_half": nan, "mean_low": nan, "mean_high": nan}
    predicted = stats.prediction_interval(values)
    if predicted is not None:
        cut = stats.clip(predicted, low, high)
        out.update(pred_low=cut.low, pred_high=cut.high, pred_half=cut.half_width)
    mean = stats.mean_interval(values)
    if mean is not None:
        cut = stats.clip(mean, low, high)
        out.update(mean_low=cut.low, mean_high=cut.high)
    return out


def _n_classes(group: pd.DataFrame) -> int | None:
    n = _column(group, "n_classes", None).dropna()
    return int(n.iloc[0]) if len(n) else None


def _reference_at_chance(group: pd.DataFrame, metric: str, value: float | None) -> bool:
    """Whether the reference is itself a divergence (an accuracy at chance level)."""
    n_classes = _n_classes(group)
    return bool(
        value is not None
        and n_classes
        and metric.endswith("accuracy")
        and is_chance(n_classes, value)
    )


def _judged(
    group: pd.DataFrame,
    metric: str,
    reference: Mapping[str, Any],
    tolerance: float,
    chance: np.ndarray,
) -> Verdict:
    """The verdict of a row: its reference against its seeds, like for like."""
    value = reference_metrics(reference).get(metric)
    settings = [
        json.loads(s) if isinstance(s, str) and s else {"train": {}}
        for s in _column(group, "settings")
    ]
    data = [str(d) for d in _column(group, "data_form") if pd.notna(d)]
    return judge(
        group[metric].to_numpy(dtype=float),
        value,
        tolerance,
        precision_of(reference, metric),
        mismatches(reference, settings, data) if value is not None else (),
        chance,
        _reference_at_chance(group, metric, value),
    )


def _evaluation_set(group: pd.DataFrame, metric: str, mean: float) -> dict[str, float]:
    """The evaluation set's size and, for a classification accuracy, its binomial SE."""
    n_eval = pd.to_numeric(_column(group, "n_eval", math.nan)).max()
    accuracy = metric in ("val_accuracy", "test_accuracy")
    binomial = stats.binomial_se(mean, int(n_eval)) if accuracy and pd.notna(n_eval) else math.nan
    return {"n_eval": n_eval, "binomial_se": binomial}


def _runs_behind(group: pd.DataFrame) -> dict[str, Any]:
    """Where a row's numbers came from: devices, time, code and data versions, date."""
    return {
        "pooled": _pooled(group),
        "device": _joined(group["device_name"]),
        "train_seconds": float(group["train_seconds"].sum()),
        "code_version": _joined(group["code_version"]),
        "data_version": _joined(_column(group, "data_version")),
        "data_form": _joined(_column(group, "data_form")),
        "created": str(group["created"].max()),
    }


def source_of(reference: Mapping[str, Any], metric: str) -> str:
    """Where a reference's number for `metric` comes from: its `source`, or the entry of
    `metric` (or `params`) where `source` gives one per number ({test_accuracy: F13, ...})."""
    source = reference.get("source", "")
    return str(source.get(metric, "")) if isinstance(source, Mapping) else str(source)


def precision_of(reference: Mapping[str, Any], metric: str) -> float:
    """The rounding unit of a reference's number for `metric`: its `precision`, or the entry
    of `metric` where it gives one per number ({test_accuracy: 0.1, test_loss: 0.0001}); 0
    (exact, e.g. a count) where none is given."""
    precision = reference.get("precision", 0.0)
    if isinstance(precision, Mapping):
        return float(precision.get(metric, 0.0))
    return float(precision)


def row_tolerance(
    experiment: str,
    variant: str,
    metric: str,
    reference: Mapping[str, Any],
    setting: Mapping[str, Any],
) -> float:
    """A row's tolerance in its metric's unit (measures.tolerance_of); a loss, epoch or count
    that states none is an error naming the key to set. The headline metric without a stated
    one takes the experiment's `tolerance`."""
    found = measures.tolerance_of(metric, reference, setting, DEFAULT_TOLERANCE)
    if found is None and metric == setting.get("metric"):
        found = float(setting.get("tolerance", DEFAULT_TOLERANCE))
    if found is None:
        raise ValueError(
            f"experiments.{experiment}.reference.{variant}: {metric!r} is in "
            f"{measures.unit(metric)}, so it needs its own tolerance: set "
            f"experiments.{experiment}.tolerances.{metric} (or the entry's tolerances)"
        )
    return found


def _glance_row(
    group: pd.DataFrame, metric: str, reference: Mapping[str, Any], setting: Mapping[str, Any]
) -> dict[str, Any]:
    """One (experiment, variant, metric) row of the at-a-glance table."""
    first = group.iloc[0]
    values = group[metric].to_numpy(dtype=float)
    chance = chance_flags(group, str(setting.get("metric", metric)))
    value = reference_metrics(reference).get(metric)
    used = values if not chance.any() or chance.all() else values[~chance]
    seeds = seed_stats(used)
    precision = precision_of(reference, metric)
    tolerance = row_tolerance(first["experiment"], first["variant"], metric, reference, setting)
    judged = _judged(group, metric, reference, tolerance, chance)
    # A reference at chance is judged on the divergence rate: no interval of the rest is used;
    # seeds all at chance have no interval either (their spread is that of diverged runs).
    divergence = _reference_at_chance(group, metric, value) and chance.any()
    diverged = "judged by the divergence rate"
    no_interval = "all at chance" if chance.all() else diverged if divergence else ""
    return {
        "experiment": first["experiment"],
        "variant": first["variant"],
        "label": setting.get("labels", {}).get(first["variant"], first["variant"]),
        "metric": metric,
        "n_seeds": len(values),
        "chance_seeds": int(chance.sum()),
        "n_used": seeds.n,
        "mean": seeds.mean,
        "std": seeds.std,
        "min": seeds.min,
        "max": seeds.max,
        **_intervals(np.array([]) if no_interval else used, metric),
        "no_interval": no_interval,
        **_evaluation_set(group, metric, seeds.mean),
        "reference": math.nan if value is None else value,
        "precision": precision if value is not None else math.nan,
        "tolerance": tolerance,
        "difference": math.nan if value is None else seeds.mean - value,
        "p_value": judged.p_value,
        "p_beyond": judged.p_beyond,
        "verdict": judged.text,
        "kind": judged.kind,
        "note": "; ".join(n for n in (judged.note, str(reference.get("note", ""))) if n),
        "source": source_of(reference, metric),
        **_runs_behind(group),
    }


def headline_spec(setting: Mapping[str, Any]) -> dict[str, Any]:
    """An experiment's spec with its references cut to the headline metric (for a figure of it,
    drawn from metrics.json alone: the derived measures need the histories)."""
    keep = (setting["metric"], *REFERENCE_KEYS)
    cut = {v: {k: x for k, x in r.items() if k in keep} for v, r in setting["reference"].items()}
    return {**setting, "reference": cut}


def glance_table(runs: pd.DataFrame, settings: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Reproduction at a glance: per experiment (`settings` order), variant and metric (the
    headline metric, and any other the reference gives), our seeds' statistics and intervals
    beside the reference, the verdict, the seeds at chance level, the evaluation set's size,
    and the runs' device, total training time, code and data versions and date. `runs` is
    tables.run_table's; `settings[experiment]` has `metric` (the headline), `tolerance`,
    `reference` ({variant: {metric: value, settings, data, precision, source}}) and `labels`
    ({variant: label})."""
    rows = []
    for experiment, setting in settings.items():
        selected = runs[runs["experiment"] == experiment]
        for variant, group in selected.groupby("variant", sort=False):
            reference = setting.get("reference", {}).get(variant, {})
            metrics = dict.fromkeys([setting["metric"], *reference_metrics(reference)])
            for metric in metrics:
                if metric not in group or group[metric].isna().all():
                    raise ValueError(
                        f"experiments.{experiment}.reference.{variant}: {metric!r} is not a "
                        f"metric of its runs ({setting['metric']!r} is the headline; a derived "
                        "measure is one of report/measures.py's, e.g. recall[dog], "
                        "history.test_accuracy[1], epoch_reaching.test_accuracy>=85)"
                    )
                rows.append(_glance_row(group, metric, reference, setting))
    return pd.DataFrame(rows, columns=GLANCE_COLUMNS)


SYNTHETIC_NOTE = (
    "The data of these runs is synthetic (the demo's): its numbers test the pipeline, not the "
    "write-ups, so no reference is judged (each reads 'not comparable: synthetic data'). Run "
    "on the real data (docs/data.md) for verdicts."
)


def synthetic_experiments(glance: pd.DataFrame) -> list[str]:
    """The experiments of the table with a run trained on synthetic data (the demo's)."""
    if "data_form" not in glance:
        return []
    marked = glance["data_form"].astype(str).str.contains("synthetic")
    return list(dict.fromkeys(glance.loc[marked, "experiment"]))


def synthetic(glance: pd.DataFrame) -> bool:
    """Whether any run of the table trained on synthetic data (the demo's)."""
    return bool(synthetic_experiments(glance))


def synthetic_note(glance: pd.DataFrame) -> str:
    """The synthetic-data warning: SYNTHETIC_NOTE when every experiment's data is synthetic,
    else which experiments' is ("" when none)."""
    names = synthetic_experiments(glance)
    total = glance["experiment"].nunique()
    if not names or len(names) == total:
        return SYNTHETIC_NOTE if names else ""
    return (
        f"The data of {len(names)} of these {total} experiments is synthetic (the demo's): "
        f"{', '.join(names)}. Their numbers test the pipeline, not the write-ups, so their "
        "references are not judged (each reads 'not comparable: synthetic data'); the other "
        "experiments' verdicts stand. Run them on the real data (docs/data.md) for verdicts."
    )


def headline_line(glance: pd.DataFrame) -> str:
    """The headline as the end of a run and Snakemake's report show it: the count, after a
    warning when the data is synthetic (naming the experiments when only some are)."""
    names = synthetic_experiments(glance)
    if not names:
        return headline(glance)
    if len(names) == glance["experiment"].nunique():
        return "Synthetic data (the demo's), no reference judged: " + headline(glance)
    return f"Synthetic data in {', '.join(names)} (the demo's, not judged): " + headline(glance)


def _count_of(kinds: pd.Series, kind: str, words: str) -> str:
    n = int((kinds == kind).sum())
    return f"{n} {words}" if n else ""


def family_reading(glance: pd.DataFrame, alpha: float = 1 - LEVEL) -> str:
    """The like-for-like references read as one family: Holm's adjustment of each one's p that
    its gap exceeds the tolerance, and how many stay below or above at family-wise `alpha`."""
    p = pd.to_numeric(glance["p_beyond"], errors="coerce") if "p_beyond" in glance else None
    if p is None or p.notna().sum() < 2:
        return ""
    adjusted = np.array(stats.holm(list(p)))
    shown, m = int((adjusted < alpha).sum()), int(p.notna().sum())
    return (
        f"Holm over the {m} like-for-like references: {shown or 'none'} below or above "
        f"(family-wise {alpha * 100:.0f} %; one by one, {m} same-recipe references would give "
        f"a false one {(1 - (1 - alpha) ** m) * 100:.0f} % of the time)"
    )


def verdict_parts(kinds: pd.Series, verdicts: pd.Series) -> list[str]:
    """The like-for-like verdicts counted ("5 consistent", "2 below", ...; empty where none)."""
    return [
        _count_of(kinds, "consistent", "consistent"),
        _count_of(verdicts, COMPATIBLE, COMPATIBLE),
        _count_of(verdicts, UNRESOLVED, UNRESOLVED),
        _count_of(verdicts, "below", "below"),
        _count_of(verdicts, "above", "above"),
        _count_of(kinds, "no estimate", "without a noise estimate"),
    ]


def headline(glance: pd.DataFrame) -> str:
    """The count of verdicts, e.g. "13 reference numbers: 9 compared like for like (5
    consistent, 2 compatible, not decisive, 2 below), 4 not comparable (settings or data
    differ)", then the family's Holm-adjusted reading."""
    kinds = glance["kind"]
    total = int((kinds != "no reference").sum())
    if total == 0:
        return "No reference numbers to compare with."
    compared = total - int((kinds == "not comparable").sum())
    parts = verdict_parts(kinds, glance["verdict"])
    text = f"{plural(total, 'reference number')}: {compared} compared like for like"
    if compared:
        text += f" ({'; '.join(p for p in parts if p)})"
    if total > compared:
        text += f", {total - compared} not comparable (settings or data differ)"
    family = family_reading(glance)
    return f"{text}. {family}" if family else text


def _starred(words: str) -> str:
    return f"*{words}*"


def verdict_rules(em: Callable[[str], str] = _starred) -> str:
    """How a reference is judged, in one paragraph that RESULTS.md, the HTML report and
    Snakemake's report share; `em` marks a verdict's words (Markdown's *...* by default)."""
    return (
        "A write-up's number is one run, so it is judged as one new run of our recipe: d = the "
        "reference - our mean, with one run's standard error se1 = s · √(1 + 1/n) and half the "
        "reference's rounding unit r, counted once, at the least favourable end of its rounding "
        f"interval. {em('consistent')}: equivalence within ± the experiment's tolerance shown "
        "(two one-sided tests at 5 %: |d| + r + t(0.95) · se1 ≤ tolerance); "
        f"{em('below')} / {em('above')}: a gap beyond the tolerance shown (|d| - r - "
        f"t(0.975) · se1 > tolerance); otherwise {em(UNRESOLVED)} (outside the prediction "
        f"interval) or {em(COMPATIBLE)} (inside), with how many seeds would decide it at the "
        "present spread estimate (itself a rough guess from a few seeds), or that none can (one "
        "run's own noise, 1.64 s, exceeds the margin). The p shown is the one the decision used. "
        f"{em('not comparable')}: the reference was made with other settings or data (named), "
        "left out of the like-for-like count. Each reference is one test at 5 %, so the "
        "headline adds Holm's reading over the like-for-like family. Seeds at chance level are "
        "set aside and a row all at chance is marked, without an interval; a reference at "
        "chance is judged on our divergence rate."
    )


def metric_name(metric: str) -> str:
    """A metric's short name for a table: "val_accuracy" -> "val acc.", "miou" -> "mIoU"."""
    names = {"miou": "mIoU", "thresholded_iou": "thresholded IoU"}
    if measures.describe(metric):
        return measures.describe(metric).replace("_accuracy", " acc.").replace("_", " ")
    return names.get(metric, metric.replace("_accuracy", " acc.").replace("_", " "))


def mean_std(mean: float, std: float, n: int) -> str:
    """ "49.50 ± 13.44", or the mean alone for one seed."""
    return f"{mean:.2f} ± {std:.2f}" if n > 1 else f"{mean:.2f}"


def _span(low: float, high: float, n: int, why: Any = "") -> str:
    """An interval for a cell, or why there is none."""
    if isinstance(why, str) and why:
        return f"– ({why})"
    if pd.notna(low):
        return f"{low:.2f}–{high:.2f}"
    return "– (1 seed)" if n == 1 else "– (< 3 seeds)" if n < 3 else "– (no spread)"


def _ours(row: Any) -> str:
    text = mean_std(row.mean, row.std, row.n_used)
    if row.chance_seeds and row.chance_seeds == row.n_seeds:
        return f"{'all ' * (row.n_seeds > 1)}{plural(row.n_seeds, 'seed')} at chance: {text}"
    if row.chance_seeds and row.n_used < row.n_seeds:
        return f"{row.chance_seeds} of {row.n_seeds} at chance; the rest {text}"
    return text


def _eval_size(row: Any) -> str:
    if pd.isna(row.n_eval):
        return "–"
    size = f"{row.n_eval:,.0f}"
    return f"{size} (SE {row.binomial_se:.2f})" if pd.notna(row.binomial_se) else size


def _verdict_cell(row: Any) -> str:
    """The verdict with its note, and a flag when the row pools code or data versions."""
    notes = [str(n) for n in (row.note, getattr(row, "pooled", "")) if pd.notna(n) and str(n)]
    return f"{row.verdict} ({'; '.join(notes)})" if notes else row.verdict


def glance_view(glance: pd.DataFrame) -> pd.DataFrame:
    """The at-a-glance table as text cells, for any writer (HTML, Markdown); an experiment's
    name on its first row only; the verdict with its note."""
    rows = list(glance.itertuples())
    return pd.DataFrame(
        {
            "experiment": glance["experiment"].where(~glance["experiment"].duplicated(), ""),
            "variant": glance["label"],
            "metric": [metric_name(m) for m in glance["metric"]],
            "ours, mean ± std": [_ours(row) for row in rows],
            "seeds": glance["n_seeds"].astype(str),
            "one new run, 95 % PI": [
                _span(r.pred_low, r.pred_high, r.n_used, getattr(r, "no_interval", ""))
                for r in rows
            ],
            "mean, 95 % CI": [
                _span(r.mean_low, r.mean_high, r.n_used, getattr(r, "no_interval", ""))
                for r in rows
            ],
            "eval. set (SE)": [_eval_size(row) for row in rows],
            "reference ± tol.": [
                f"{row.reference:g} ± {row.tolerance:g}" if pd.notna(row.reference) else "–"
                for row in rows
            ],
            "verdict": [_verdict_cell(row) for row in rows],
        }
    )
