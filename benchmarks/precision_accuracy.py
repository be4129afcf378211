"""What bf16 costs in accuracy: two finished runs of the same config, fp32 and bf16, compared.

    python benchmarks/precision_accuracy.py results results-bf16 [--experiments a b ...]

Each argument is a run's `results_dir` (its tables/runs.csv is read). For every (experiment,
variant) in both runs, the Markdown table gives the headline metric as mean ± std over the seeds
of each run, bf16 - fp32 with its 95 % interval and p-value (`stats.compare_seeds`: a paired t
on matched seeds, which share initial weights and batch order; Welch where the seeds differ),
the smallest difference the test would catch 4 times in 5, and the median training images/s of
each with their ratio. Run the bf16 one with `configs/fast.yaml`
merged over the same config and `results_dir` set apart, e.g.

    snakemake --cores all --configfile configs/fast.yaml --config results_dir=results-bf16
"""

import argparse
from pathlib import Path

import pandas as pd

from visionrepro.report.spread import headline_values
from visionrepro.report.stats import compare_seeds
from visionrepro.report.verdicts import mean_std, metric_name, seed_stats


def compare_runs(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """One row per (experiment, variant) trained both ways: `a` fp32's and `b` bf16's runs with
    their headline values (`spread.headline_values`)."""
    rows = []
    for (experiment, variant), ours in b.groupby(["experiment", "variant"], sort=False):
        base = a[(a["experiment"] == experiment) & (a["variant"] == variant)]
        if base.empty:
            continue
        ours, base = ours.sort_values("seed"), base.sort_values("seed")
        paired = ours["seed"].tolist() == base["seed"].tolist()
        diff = compare_seeds(ours["value"], base["value"], paired)
        speed = ours["images_per_second"].median() / base["images_per_second"].median()
        rows.append(
            {
                "experiment": experiment,
                "variant": variant,
                "metric": metric_name(ours["metric"].iloc[0]),
                "fp32": _stats(base["value"]),
                "bf16": _stats(ours["value"]),
                "bf16 - fp32": f"{diff.difference:+.2f}",
                "95% CI": _interval(diff.ci_low, diff.ci_high),
                "test": diff.test,
                "p": "-" if pd.isna(diff.p_value) else f"{diff.p_value:.2f}",
                "detectable": "-" if pd.isna(diff.detectable) else f"±{diff.detectable:.2f}",
                "images/s fp32 -> bf16": (
                    f"{base['images_per_second'].median():,.0f} -> "
                    f"{ours['images_per_second'].median():,.0f} ({speed:.2f}x)"
                ),
            }
        )
    return pd.DataFrame(rows)


def _interval(low: float, high: float) -> str:
    return "-" if pd.isna(low) else f"{low:+.2f} to {high:+.2f}"


def _stats(values: pd.Series) -> str:
    stats = seed_stats(values)
    return f"{mean_std(stats.mean, stats.std, stats.n)} (n={stats.n})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fp32", type=Path, help="results_dir of the fp32 run")
    parser.add_argument("bf16", type=Path, help="results_dir of the bf16 run")
    parser.add_argument("--experiments", nargs="*", help="only these experiments")
    args = parser.parse_args()
    fp32, bf16 = headline_values(args.fp32), headline_values(args.bf16)
    if args.experiments:
        bf16 = bf16[bf16["experiment"].isin(args.experiments)]
    if (bf16["precision"] != "bf16").any() or (fp32["precision"] != "fp32").any():
        raise SystemExit("precision_accuracy: the first run must be fp32 and the second bf16")
    print(compare_runs(fp32, bf16).to_markdown(index=False))


if __name__ == "__main__":
    main()
