"""The report's tables as a reader sees them: text cells (thousands separators, integers as
integers, "mean ± std"), columns that repeat another dropped, and which columns are numbers."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from visionrepro.report.tables import VERSION_COLUMNS
from visionrepro.report.verdicts import (
    LEVEL,
    glance_view,
    mean_std,
    metric_name,
    plural,
    reference_reading,
)

DASH = "–"


@dataclass(frozen=True)
class View:
    """A table of text cells; `numeric` columns are right-aligned, `verdicts` (one per row,
    optional) colour the verdict column, `wrap` columns may break lines (the rest do not)."""

    frame: pd.DataFrame
    numeric: frozenset[str] = frozenset()
    verdicts: Sequence[str] = field(default_factory=tuple)
    wrap: frozenset[str] = frozenset()


def number(value: Any, fmt: str = "{:.2f}") -> str:
    """A number for a cell; a dash when missing."""
    return DASH if value is None or pd.isna(value) else fmt.format(value)


def count(value: Any) -> str:
    """An integer with thousands separators ("295,453")."""
    return number(value, "{:,.0f}")


def duration(seconds: float) -> str:
    """Seconds as "42 s", "3 min 05 s" or "2 h 07 min"."""
    seconds = round(float(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def glance(table: pd.DataFrame) -> View:
    """The at-a-glance table (verdicts.glance_table) with its verdict colours (by kind)."""
    view = glance_view(table)
    if (view["eval. set (SE)"] == DASH).all():
        view = view.drop(columns="eval. set (SE)")
    text = {"experiment", "variant", "metric", "verdict", "ours, mean ± std"}
    wrap = frozenset({"variant", "metric", "ours, mean ± std", "reference ± tol.", "verdict"})
    return View(view, frozenset(set(view.columns) - text), tuple(table["kind"]), wrap)


def experiment_metrics(
    summary: pd.DataFrame, labels: Mapping[str, str], chance: Mapping[str, int]
) -> View:
    """One experiment's summary rows, one row per variant: its label and network (where they
    differ from its name), parameters (and the reference's where they differ), seeds, seeds at
    chance level (`chance[variant]`), and each metric as mean ± std (the mean alone for one
    seed)."""
    rows = []
    for variant, group in summary.groupby("variant", sort=False):
        first = group.iloc[0]
        flagged = chance.get(variant, 0)
        row = {
            "variant": variant,
            "label": labels.get(variant, variant),
            "network": first["network"],
            "params": count(first["params"]),
            "reference params": count(first["reference_params"]),
            "seeds": str(first["n_seeds"]),
            "at chance": f"{flagged} of {first['n_seeds']}" if flagged else "",
        }
        row.update(
            {metric_name(m.metric): mean_std(m.mean, m.std, m.n_seeds) for m in group.itertuples()}
        )
        rows.append(row)
    frame = pd.DataFrame(rows)
    repeats = {"label": "variant", "network": "variant", "reference params": "params"}
    frame = drop_repeats(frame, repeats)
    if not (frame["at chance"] != "").any():
        frame = frame.drop(columns="at chance")
    return View(frame, frozenset(set(frame.columns) - {"variant", "label", "network", "at chance"}))


def drop_repeats(frame: pd.DataFrame, pairs: Mapping[str, str]) -> pd.DataFrame:
    """Without each column of `pairs` whose every cell equals its partner's or is empty."""
    drop = [
        column
        for column, partner in pairs.items()
        if column in frame
        and partner in frame
        and ((frame[column] == frame[partner]) | (frame[column] == DASH)).all()
    ]
    return frame.drop(columns=drop)


def convergence(table: pd.DataFrame) -> View:
    """Per variant and seed, the first epoch reaching the threshold, or "not within N epochs"."""
    frame = pd.DataFrame(
        {
            "variant": table["variant"],
            "seed": table["seed"].astype(str),
            "threshold": [
                f"{m} ≥ {t:g}" for m, t in zip(table["metric"], table["threshold"], strict=True)
            ],
            "first epoch reaching it": [
                f"{e:.0f} of {n}" if reached else f"not within {n} epochs"
                for reached, e, n in zip(
                    table["reached"], table["epoch"], table["epochs"], strict=True
                )
            ],
        }
    )
    return View(frame, frozenset({"seed"}))


PER_CLASS = {
    "classification": {"precision": 3, "recall": 3, "f1": 3, "support": 0},
    "segmentation": {"iou": 3, "pixels": 0, "predicted": 0},
}


def per_class(table: pd.DataFrame) -> View | None:
    """An experiment's per-class scores (mean over seeds), or None when it has none."""
    for columns in PER_CLASS.values():
        present = [c for c in columns if c in table and table[c].notna().any()]
        if present:
            frame = table[["variant", "class"]].copy()
            for column in present:
                digits = columns[column]
                frame[column] = [number(v, f"{{:,.{digits}f}}") for v in table[column]]
            return View(frame, frozenset(present))
    return None


def comparisons(table: pd.DataFrame) -> View:
    """The comparisons (verdicts.comparison_table): each variant against its declared baseline,
    the test used, raw and Holm-adjusted p, the seeds at chance level (compared apart), and the
    write-up's own difference where it gives one, against the prediction interval of one new
    difference; an experiment's name on its first row only."""
    frame = pd.DataFrame(
        {
            "experiment": table["experiment"].where(~table["experiment"].duplicated(), ""),
            "variant": table["variant"],
            "against": [
                f"{a} ({r})" for a, r in zip(table["against"], table["relation"], strict=True)
            ],
            "seeds": [
                f"{n} vs {m}"
                for n, m in zip(table["n_seeds"], table["n_seeds_against"], strict=True)
            ],
            "difference": [number(v, "{:+.2f}") for v in table["difference"]],
            f"{LEVEL:.0%} CI": [
                DASH if pd.isna(lo) else f"{lo:+.2f} to {hi:+.2f}"
                for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "test": table["test"],
            "p": [number(p, "{:.3f}") for p in table["p_value"]],
            "Holm p": [number(p, "{:.3f}") for p in table["p_holm"]],
            "detectable": [number(v, "±{:.2f}") for v in table["detectable"]],
            "write-up's difference": [
                reference_reading(d, lo, hi, p) or DASH
                for d, lo, hi, p in zip(
                    table["reference_difference"],
                    table["new_low"],
                    table["new_high"],
                    table["reference_p"],
                    strict=True,
                )
            ],
            "at chance": [d if isinstance(d, str) and d else "" for d in table["diverged"]],
            "reading": table["reading"],
        }
    )
    frame = drop_repeats(frame, {"write-up's difference": "variant"})
    if not (frame["at chance"] != "").any():
        frame = frame.drop(columns="at chance")
    numeric = {
        "seeds",
        "difference",
        f"{LEVEL:.0%} CI",
        "p",
        "Holm p",
        "detectable",
        "write-up's difference",
    }
    wrap = frozenset({"against", "reading", "write-up's difference", "at chance"})
    numeric.discard("write-up's difference")
    return View(frame, frozenset(numeric & set(frame.columns)), wrap=wrap)


# The readings of a comparison with an earlier run, the moved ones first (compare.changes).
CHANGE_ORDER = [
    "worse",
    "better",
    "changed (too few seeds for a test)",
    "changed (a side all at chance: no test)",
    "no detectable change",
    "new",
    "gone",
    "identical",
]


def _side(mean: float, std: float, n: float) -> str:
    if pd.isna(mean):
        return DASH
    spread = f" ± {std:.2f}" if pd.notna(std) else ""
    return f"{mean:.2f}{spread} (n={int(n)})"


def changed_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a changes table that are not identical, the moved ones first (worse,
    better, ...), each reading's rows in their table order."""
    rank = {reading: i for i, reading in enumerate(CHANGE_ORDER)}
    moved = table[table["reading"] != "identical"]
    order = sorted(range(len(moved)), key=lambda i: rank.get(moved["reading"].iloc[i], 0))
    return moved.iloc[order]


def correction_note(table: pd.DataFrame, alpha: float = 1 - LEVEL) -> str:
    """How compare decided better/worse, for its summary line: Holm over the tested rows."""
    tested = int(pd.to_numeric(table.get("p_holm"), errors="coerce").notna().sum())
    if tested == 0:
        return "no row could be tested for better/worse"
    return (
        f"better/worse: a change beyond the tolerance, Holm over "
        f"{'all ' * (tested > 1)}{plural(tested, 'tested row')} "
        f"(family-wise error {alpha * 100:.0f} %)"
    )


def changes_summary(table: pd.DataFrame) -> str:
    """A count of a changes table's readings, e.g. "2 of 45 rows changed (1 worse, 1 no
    detectable change); 43 identical, every seed bit-equal", and how better and worse were
    decided (correction_note)."""
    counts = table["reading"].value_counts()
    words = {
        "changed (too few seeds for a test)": "with too few seeds to test",
        "changed (a side all at chance: no test)": "with a side all at chance",
    }
    moved = [f"{counts[r]} {words.get(r, r)}" for r in CHANGE_ORDER[:-1] if r in counts]
    same = int(counts.get("identical", 0))
    text = f"{len(table) - same} of {plural(len(table), 'row')} changed"
    text += f" ({', '.join(moved)})" if moved else ""
    return text + f"; {same} identical, every seed bit-equal; {correction_note(table)}"


def changes(table: pd.DataFrame) -> View:
    """A changes table's moved rows (changed_rows) as text cells."""
    rows = changed_rows(table)
    frame = pd.DataFrame(
        {
            "experiment": rows["experiment"],
            "variant": rows["variant"],
            "metric": [metric_name(m) for m in rows["metric"]],
            "before": [
                _side(*v)
                for v in zip(rows["before_mean"], rows["before_std"], rows["before_n"], strict=True)
            ],
            "after": [
                _side(*v)
                for v in zip(rows["after_mean"], rows["after_std"], rows["after_n"], strict=True)
            ],
            "difference": [number(v, "{:+.2f}") for v in rows["difference"]],
            f"{LEVEL:.0%} CI": [
                DASH if pd.isna(lo) else f"{lo:+.2f} to {hi:+.2f}"
                for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
            ],
            "test": rows["test"].fillna(DASH),
            "Holm p": [number(p, "{:.3f}") for p in rows["p_holm"]],
            "detectable": [number(v, "±{:.2f}") for v in rows["detectable"]],
            "reading": rows["reading"],
            "what differs": rows["what_differs"]
            .astype(object)
            .where(rows["what_differs"].notna(), ""),
        }
    )
    numeric = {"before", "after", "difference", f"{LEVEL:.0%} CI", "Holm p", "detectable"}
    return View(frame.reset_index(drop=True), frozenset(numeric), wrap=frozenset({"what differs"}))


def runs(table: pd.DataFrame, metrics: Mapping[str, str]) -> tuple[View, View]:
    """Every run: the short columns (headline metric, chance flag, device, threads, wall time,
    training images/s, precision, and the code version when runs differ in it), and the long
    ones (code version, host, date, versions) for a folded table."""
    keys = table[["experiment", "variant"]].assign(seed=table["seed"].astype(str))
    short = keys.assign(
        metric=[metrics[e] for e in table["experiment"]],
        value=[number(row[metrics[row["experiment"]]]) for _, row in table.iterrows()],
        chance=["chance level" if c else "" for c in table["chance"]],
        device=table["device_name"],
        threads=table["threads"].astype(str),
        time=[duration(s) for s in table["train_seconds"]],
        **{"images/s": [count(v) for v in table["images_per_second"]]},
        precision=table["precision"],
    )
    if table["code_version"].nunique() > 1:  # else the page header gives the one version
        short["code"] = table["code_version"]
    long = keys.assign(
        code=table["code_version"],
        data=_present(table, "data_version"),
        host=table["host"],
        cpu=_present(table, "cpu"),
        created=table["created"],
    )
    for package in VERSION_COLUMNS:
        long[package] = _present(table, package)
    return View(short, frozenset({"seed", "value", "threads", "time", "images/s"})), View(long)


def datasets(table: pd.DataFrame) -> View:
    """Images per dataset (rows) and split (columns), with the number of classes."""
    frame = table.copy()
    numeric = [c for c in frame.columns if c != "dataset"]
    for column in numeric:
        frame[column] = [count(v) for v in frame[column]]
    return View(frame, frozenset(numeric))


def variant_settings(variants: Mapping[str, Mapping[str, Any]]) -> tuple[View, dict[str, Any]]:
    """An experiment's resolved variants as a table of what differs between them (network,
    seeds, train settings, network options), and the settings they all share."""
    flat = {
        name: {
            "label": var.get("label", name),
            "network": var["network"],
            "seeds": ", ".join(str(s) for s in var["seeds"]),
            **{k: _setting(v) for k, v in var["train"].items()},
            **{f"network: {k}": _setting(v) for k, v in var["network_options"].items()},
        }
        for name, var in variants.items()
    }
    frame = pd.DataFrame.from_dict(flat, orient="index").fillna(DASH)
    varying = [c for c in frame.columns if frame[c].nunique() > 1 or c == "label"]
    shared = {c: frame[c].iloc[0] for c in frame.columns if c not in varying}
    frame = frame[varying].rename_axis("variant").reset_index()
    frame = drop_repeats(frame, {"label": "variant", "network": "variant"})
    return View(frame), shared


def _setting(value: Any) -> str:
    """A config value as text: lists in brackets, floats in short form."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_setting(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def config_hash(config: Mapping[str, Any]) -> str:
    """A SHA-256 (12 hex digits) of the effective config, independent of key order."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _present(table: pd.DataFrame, column: str) -> pd.Series:
    """A run-table column, or empty cells for tables written before it existed."""
    if column not in table:
        return pd.Series([""] * len(table), index=table.index)
    return table[column].astype(object).where(table[column].notna(), "")


def _distinct(table: pd.DataFrame, column: str) -> list[str]:
    return [v for v in dict.fromkeys(_present(table, column).astype(str)) if v]


def provenance_summary(table: pd.DataFrame) -> dict[str, str]:
    """What the header says about every run together: code and data versions, every recorded
    package version, devices (with the CPU model) and total training time."""
    versions = ", ".join(
        f"{package} {' / '.join(_distinct(table, package))}"
        for package in VERSION_COLUMNS
        if _distinct(table, package)
    )
    devices = table.groupby("device_name", sort=False)["threads"].agg(lambda t: sorted(set(t)))
    return {
        "code": "; ".join(_distinct(table, "code_version")),
        "data": "; ".join(_distinct(table, "data_version")) or "not recorded",
        "versions": versions,
        "devices": "; ".join(
            f"{name} ({'/'.join(map(str, threads))} thread{'s' * (threads != [1])})"
            for name, threads in devices.items()
        ),
        "cpu": "; ".join(_distinct(table, "cpu")) or "not recorded",
        "training": f"{duration(table['train_seconds'].sum())} over {plural(len(table), 'run')}",
    }


def synthetic_data(table: pd.DataFrame) -> bool:
    """Whether any run trained on synthetic data (the demo's)."""
    return "synthetic" in set(_present(table, "data_form"))
