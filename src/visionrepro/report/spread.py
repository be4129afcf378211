"""Where a metric's spread over seeds comes from: the final epoch's value against the mean of
the last epochs, from the runs' per-epoch histories.

    python -m visionrepro.report.spread results [--last 3]
    visionrepro-spread results [--last 3]   (the same, as a console script)

If the seeds' final values spread much more than their means over the last epochs, the spread is
the last epoch's wobble (e.g. a noisy batch order), not a difference between the trained models.
"""

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from visionrepro import cli
from visionrepro.errors import UserError
from visionrepro.plan.layout import run_path
from visionrepro.tasks import task

from .verdicts import mean_std


def final_values(results: Path) -> pd.DataFrame:
    """A results folder's runs.csv with each run's headline metric (its task's, on its
    evaluated split) as `metric`, its value as `value` and its per-epoch `history`."""
    runs = pd.read_csv(_required(results / "tables" / "runs.csv", results))
    metrics, histories = [], []
    for row in runs.itertuples():
        folder = run_path(results, row.experiment, row.variant, row.seed)
        name = json.loads(_required(folder / "metrics.json", results).read_text())["task"]
        trained = json.loads(_required(folder / "train.json", results).read_text())
        metrics.append(task(name).headline_metric(trained["eval_split"]))
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
    table = final_values(results)
    columns = ("experiment", "variant", "value", "history", "metric")
    return list(zip(*(table[c] for c in columns), strict=True))


def _required(path: Path, results: Path) -> Path:
    """`path`, or a UserError naming it when a finished run's folder would have it."""
    if not path.is_file():
        raise UserError(
            f"{path}: missing; give a finished run's results_dir (tables/runs.csv and each run's "
            f"metrics.json and train.json under runs/), not {results}"
        )
    return path


def parser() -> argparse.ArgumentParser:
    """spread's arguments; --help shows the module docstring and the exit statuses."""
    parse = cli.make_parser("visionrepro.report.spread", __doc__)
    parse.add_argument("results", type=Path, help="a finished run's results_dir")
    parse.add_argument("--last", type=int, default=3, help="epochs at the end to average")
    return parse


def run(args: argparse.Namespace) -> int:
    """Print the spread table."""
    sys.stdout.write(epoch_spread(read_runs(args.results), args.last).to_markdown(index=False))
    sys.stdout.write("\n")
    return cli.OK


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m visionrepro.report.spread`, `visionrepro-spread`."""
    return cli.run(parser(), run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
