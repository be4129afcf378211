"""Compare two result sets, seed by seed: which numbers moved beyond run-to-run noise.

    python -m visionrepro.compare BEFORE AFTER [--out changes.csv] [--fail-on worse]

BEFORE and AFTER are each a results folder (its tables/runs.csv and the runs' settings) or a
per-seed CSV table with runs.csv's columns. A row reads better or worse when it moved beyond
its experiment's tolerance (from AFTER's, else BEFORE's, RESULTS.json; else 1 point), Holm-
adjusted over every tested row, so that --fail-on worse fails at most 5 % of the time when
nothing changed. Exit status: 0, or 1 when --fail-on finds a row reading "worse" (or, with
--fail-on changed, any row not identical), 2 on bad input.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from visionrepro.compare.changes import compare, correction_note
from visionrepro.compare.inputs import read_side, tolerances
from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path


def _number(value: float, digits: int = 2) -> str:
    return "–" if pd.isna(value) else f"{value:.{digits}f}"


def _side(table: pd.DataFrame, side: str) -> list[str]:
    """ "mean ± std (n)" of one side per row ("–" where the side has no runs)."""
    columns = [f"{side}_mean", f"{side}_std", f"{side}_n"]
    return [
        "–" if pd.isna(mean) else f"{mean:.2f}{'' if pd.isna(std) else f' ± {std:.2f}'} ({n:.0f})"
        for mean, std, n in table[columns].itertuples(index=False)
    ]


def _difference(table: pd.DataFrame) -> list[str]:
    return [
        _number(d) if pd.isna(low) else f"{_number(d)} [{_number(low)}, {_number(high)}]"
        for d, low, high in table[["difference", "ci_low", "ci_high"]].itertuples(index=False)
    ]


def _reading(table: pd.DataFrame) -> list[str]:
    """The reading, with the smallest difference the test would have caught when it saw none,
    and what differs between the sides."""
    out = []
    for reading, detectable, differs in table[["reading", "detectable", "what_differs"]].itertuples(
        index=False
    ):
        if reading == "no detectable change" and pd.notna(detectable):
            reading += f" (would catch ±{_number(detectable)} 4 times in 5, at Holm's level)"
        out.append(f"{reading}; {differs}" if isinstance(differs, str) and differs else reading)
    return out


def terminal_table(table: pd.DataFrame) -> str:
    """The rows that are not identical (before, after, difference [95 % CI], test, Holm p,
    reading and what differs), then how many are identical."""
    shown = table[table["reading"] != "identical"]
    lines = []
    if len(shown):
        view = pd.DataFrame(
            {
                "experiment": shown["experiment"],
                "variant": shown["variant"],
                "metric": shown["metric"],
                "before (n)": _side(shown, "before"),
                "after (n)": _side(shown, "after"),
                "after - before [95 % CI]": _difference(shown),
                "test": shown["test"].fillna("–"),
                "p (Holm)": [_number(p, 3) for p in shown["p_holm"]],
                "reading": _reading(shown),
            }
        )
        lines.append(view.to_string(index=False))
    same = int((table["reading"] == "identical").sum())
    lines.append(
        f"{same} of {len(table)} rows identical (every matched seed's value bit-equal); "
        f"{correction_note(table)}"
    )
    return "\n".join(lines)


def failed(table: pd.DataFrame, fail_on: str | None) -> bool:
    """Whether the comparison should fail a CI job: a row reading worse, or any change."""
    if fail_on == "worse":
        return bool((table["reading"] == "worse").any())
    if fail_on == "changed":
        return bool((table["reading"] != "identical").any())
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m visionrepro.compare", description=__doc__.splitlines()[0]
    )
    parser.add_argument("before", type=Path, help="results folder or per-seed CSV")
    parser.add_argument("after", type=Path, help="results folder or per-seed CSV")
    parser.add_argument("--out", type=Path, help="write the full comparison as CSV here")
    parser.add_argument(
        "--fail-on",
        choices=("worse", "changed"),
        help="exit 1 if a row reads worse (or, with changed, if any row is not identical)",
    )
    args = parser.parse_args(argv)
    try:
        limits = {**tolerances(args.before), **tolerances(args.after)}
        table = compare(
            read_side(args.before),
            read_side(args.after),
            (str(args.before), str(args.after)),
            limits,
        )
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(terminal_table(table))
    if args.out:
        with atomic_path(args.out) as tmp:
            table.to_csv(tmp, index=False)
    return 1 if failed(table, args.fail_on) else 0


if __name__ == "__main__":
    sys.exit(main())
