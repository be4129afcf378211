"""Where a metric's spread over seeds comes from: the final epoch's value against the mean of
the last epochs, from the runs' per-epoch histories.

    python -m visionrepro.report.spread results [--last 3]

If the seeds' final values spread much more than their means over the last epochs, the spread is
the last epoch's wobble (e.g. a noisy batch order), not a difference between the trained models.
"""

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .verdicts import headline_metric, mean_std


def headline_values(results: Path) -> pd.DataFrame:
    """A results folder's runs.csv with each run's headline metric (`verdicts.headline_metric`
    of its task and evaluated split) as `metric`, its value as `value` and its per-epoch
    `history`."""
    runs = pd.read_csv(results / "tables" / "runs.csv")
    metrics, histories = [], []
    for row in runs.itertuples():
        folder = results / "runs" / row.experiment / row.variant / f"seed{row.seed}"
        task = json.loads((folder / "metrics.json").read_text())["task"]
        trained = json.loads((folder / "train.json").read_text())
        metrics.append(headline_metric(task, trained["eval_split"]))
        histories.append(trained["history"])
    values = [row[m] for (_, row), m in zip(runs.iterrows(), metrics, strict=True)]
    return runs.assign(metric=metrics, value=values, history=histories)


def curve_key(history: dict, metric: str) -> str | None:
    """The per-epoch history entry of `metric` ("test_accuracy" may be followed per epoch on
    val as "val_accuracy"); None when the run scored nothing per epoch."""
    base = metric.split("_", 1)[1] if metric.startswith(("val_", "test_")) else metric
    keys = [k for k in history if k.endswith(f"_{base}") and not k.startswith("train_")]
    if metric in keys:
        return metric
    return next((k for k in keys if k.split("_", 1)[1] == base), None)


def epoch_spread(runs: Iterable[tuple[str, str, float, dict, str]], last: int) -> pd.DataFrame:
    """Per (experiment, variant), mean ± std over seeds of: the reported value, the last
    epoch's per-epoch score and the mean of the `last` epochs' scores (on the split scored per
    epoch); and the wobble, the mean over seeds of the sample std of those epochs' scores.
    `runs` holds (experiment, variant, reported value, history, metric)."""
    rows = []
    for experiment, variant, final, history, metric in runs:
        key = curve_key(history, metric)
        curve = np.asarray(history[key][-last:], dtype=float) if key else np.array([final])
        rows.append((experiment, variant, final, curve[-1], curve.mean(), _std(curve), key or "-"))
    columns = ["experiment", "variant", "reported", "last", "tail", "wobble", "on"]
    frame = pd.DataFrame(rows, columns=columns)
    out = []
    for (experiment, variant), group in frame.groupby(["experiment", "variant"], sort=False):
        n = len(group)
        spread = {name: _mean_std(group[name]) for name in ("reported", "last", "tail")}
        out.append(
            {
                "experiment": experiment,
                "variant": variant,
                "seeds": n,
                "reported": spread["reported"],
                "per epoch on": group["on"].iloc[0],
                "last epoch": spread["last"],
                f"mean of last {last} epochs": spread["tail"],
                "wobble": f"{group['wobble'].mean():.2f}",
            }
        )
    return pd.DataFrame(out)


def _mean_std(values: pd.Series) -> str:
    return mean_std(values.mean(), _std(values), len(values))


def _std(values: pd.Series | np.ndarray) -> float:
    """The sample standard deviation (ddof 1, as every std of the reports), 0 for one value."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def read_runs(results: Path) -> list[tuple[str, str, float, dict, str]]:
    """(experiment, variant, final value, history, metric) of every run in runs.csv."""
    table = headline_values(results)
    columns = ("experiment", "variant", "value", "history", "metric")
    return list(zip(*(table[c] for c in columns), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a finished run's results_dir")
    parser.add_argument("--last", type=int, default=3, help="epochs at the end to average")
    args = parser.parse_args()
    print(epoch_spread(read_runs(args.results), args.last).to_markdown(index=False))


if __name__ == "__main__":
    main()
