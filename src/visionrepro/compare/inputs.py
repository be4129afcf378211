"""Reading one side of a comparison: a results folder (its tables/runs.csv, the runs' resolved
settings from their metrics.json) or a per-seed CSV table with the same columns, as a long table
of (experiment, variant, seed, metric, value) with each run's code version and settings."""

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from visionrepro.errors import UserError
from visionrepro.fileio import read_json
from visionrepro.plan.layout import run_path
from visionrepro.report.tables import PROVENANCE_COLUMNS, SETTING_KEYS, VERSION_COLUMNS

KEYS = ["experiment", "variant", "seed"]
REQUIRED = [*KEYS, "code_version"]
# runs.csv columns that describe a run rather than score it; every other numeric column is a metric.
NOT_METRICS = {
    *KEYS,
    "network",
    "params",
    "chance",
    "n_classes",
    "n_eval",
    "train_seconds",
    "images_per_second",
    "precision",
    "code_version",
    "settings",
    *PROVENANCE_COLUMNS,
    *VERSION_COLUMNS,
}
# Where the data came from and how it was fetched, not what it is: not compared.
IGNORED_SETTINGS = (
    "dataset.local_dir",
    "dataset.url",
    "dataset.md5_check",
    "dataset.download",
    "dataset.train",
    "dataset.val",
)
LONG_COLUMNS = [*KEYS, "metric", "value", "code_version", "settings", "chance", "n_eval"]


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as dotted keys ("train.lr") with JSON values, so that any two can be
    compared key by key; IGNORED_SETTINGS are left out."""
    flat: dict[str, str] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if name.startswith(IGNORED_SETTINGS):
            continue
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value, sort_keys=True)
    return flat


def recorded_settings(results: Path, experiment: str, variant: str, seed: int) -> str:
    """A run's flattened settings (JSON) from its metrics.json in a results folder, or "" when
    the run folder is gone (the comparison then cannot attribute a change to settings). The
    file must lie inside the folder's runs/ (links resolved)."""
    runs = results / "runs"
    path = run_path(results, experiment, variant, seed) / "metrics.json"
    if not path.resolve().is_relative_to(runs.resolve()):
        raise UserError(
            f"{path}: outside {runs} (experiment {experiment!r}, variant {variant!r}); a "
            "compared run is read only inside the compared folder"
        )
    if not path.is_file():
        return ""
    provenance = read_json(path)["provenance"]
    return json.dumps(flatten({k: provenance[k] for k in SETTING_KEYS if k in provenance}))


def table_path(side: Path) -> Path:
    """The per-seed table of `side`: the file itself, or a results folder's tables/runs.csv (or
    runs.csv when `side` is the tables folder)."""
    if side.is_file():
        return side
    if not side.is_dir():
        raise UserError(f"{side}: no such file or folder; give a results folder or a per-seed CSV")
    for candidate in (side / "tables" / "runs.csv", side / "runs.csv"):
        if candidate.is_file():
            return candidate
    raise UserError(
        f"{side}: a folder without result tables (no tables/runs.csv or runs.csv); give the "
        "results_dir of a finished run (snakemake writes results/tables/runs.csv) or a per-seed CSV"
    )


def read_side(side: Path) -> pd.DataFrame:
    """One side of a comparison as a long table (LONG_COLUMNS), one row per run and metric.
    Settings come from the table's `settings` column (JSON of nested settings) when it has one,
    else from the runs' metrics.json in a results folder, else are empty."""
    path = table_path(side)
    try:
        wide = pd.read_csv(path, dtype=dict.fromkeys(("experiment", "variant", "network"), str))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not a readable CSV table ({error})") from error
    if "variant" not in wide.columns and "network" in wide.columns:
        wide = wide.assign(variant=wide["network"])
    missing = [c for c in REQUIRED if c not in wide.columns]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)}; a per-seed table needs "
            f"{', '.join(REQUIRED)} and one column per metric (as results/tables/runs.csv has)"
        )
    metrics = [
        c for c in wide.columns if c not in NOT_METRICS and pd.api.types.is_numeric_dtype(wide[c])
    ]
    if not metrics:
        raise UserError(
            f"{path}: no metric columns (numeric columns besides {', '.join(REQUIRED)})"
        )
    check_rows(wide, path)
    duplicated = wide.duplicated(KEYS)
    if duplicated.any():
        first = wide[duplicated].iloc[0]
        raise UserError(
            f"{path}: more than one row for {first['experiment']} {first['variant']} "
            f"seed {first['seed']}; a per-seed table has one row per run"
        )
    try:
        wide["settings"] = _settings_column(wide, side if side.is_dir() else None)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else repr(error)
        raise UserError(
            f"{path}: a run's settings are not readable ({reason}); the `settings` column (or "
            "each run's metrics.json provenance) must hold the resolved settings as a JSON object"
        ) from error
    wide = wide.assign(
        chance=wide["chance"].astype(str).str.lower().isin(["true", "1"])
        if "chance" in wide
        else False,
        n_eval=pd.to_numeric(wide["n_eval"], errors="coerce") if "n_eval" in wide else math.nan,
    )
    long = wide.melt(
        id_vars=[*KEYS, "code_version", "settings", "chance", "n_eval"],
        value_vars=metrics,
        var_name="metric",
    )
    # runs.csv is wide over every experiment's metrics: keep each experiment's own.
    scored = long.groupby(["experiment", "metric"])["value"].transform(lambda v: v.notna().any())
    return long[scored][LONG_COLUMNS].reset_index(drop=True)


# What an experiment or variant name may be (the config schema's $defs/name): no path
# separators, no "." or "..".
NAME = re.compile(r"\w[\w .-]*")


def _row_error(path: Path, index: int, message: str) -> UserError:
    """An error naming the table and the row (its line in the file, the header being line 1)."""
    return UserError(f"{path}, line {index + 2}: {message}")


def check_rows(wide: pd.DataFrame, path: Path) -> None:
    """Each row's experiment and variant are names (not paths) and its seed an integer of 0 or
    more; the first that is not is an error naming the file and its line."""
    for index, row in zip(wide.index, wide[KEYS].itertuples(index=False), strict=True):
        for column, value in zip(KEYS[:2], row[:2], strict=True):
            if not isinstance(value, str) or not NAME.fullmatch(value):
                raise _row_error(
                    path,
                    index,
                    f"{column} {value if isinstance(value, str) else ''!r} is not a name "
                    "(letters, digits, _ . - and spaces, no path separators)",
                )
        if not re.fullmatch(r"\d+", str(row[2]).removesuffix(".0")):
            raise _row_error(path, index, f"seed {row[2]!r} is not an integer of 0 or more")
    wide["seed"] = wide["seed"].astype(float).astype(int)


def tolerances(side: Path) -> dict[str, float]:
    """Each experiment's tolerance from the verdict settings a results folder's report wrote
    (report/RESULTS.json, or RESULTS.json beside a published runs.csv); {} when there are none."""
    folder = side if side.is_dir() else side.parent
    for candidate in (
        folder / "report" / "RESULTS.json",
        folder / "RESULTS.json",
        folder.parent / "report" / "RESULTS.json",
    ):
        if candidate.is_file():
            try:
                settings = json.loads(candidate.read_text()).get("experiments", {})
            except (json.JSONDecodeError, AttributeError) as error:
                raise UserError(
                    f"{candidate}: not a RESULTS.json the report wrote ({error})"
                ) from error
            return {
                name: float(exp["tolerance"])
                for name, exp in settings.items()
                if isinstance(exp, Mapping) and "tolerance" in exp
            }
    return {}


def _settings_column(wide: pd.DataFrame, results: Path | None) -> pd.Series:
    if "settings" in wide.columns:
        return wide["settings"].fillna("{}").map(lambda s: json.dumps(flatten(json.loads(s))))
    if results is None:
        return pd.Series("", index=wide.index)
    root = results if (results / "runs").is_dir() else results.parent
    return pd.Series(
        [recorded_settings(root, r.experiment, r.variant, int(r.seed)) for r in wide.itertuples()],
        index=wide.index,
    )
