"""Compare two result sets, seed by seed: which numbers moved beyond run-to-run noise.

    python -m visionrepro.compare BEFORE AFTER [--out changes.csv] [--fail-on worse]
        [--format text|markdown|csv|json]
    visionrepro-compare BEFORE AFTER ...   (the same, as a console script)

BEFORE and AFTER are each a results folder (its tables/runs.csv and the runs' settings) or a
per-seed CSV table with runs.csv's columns. A row reads better or worse when it moved beyond
its experiment's tolerance (from AFTER's, else BEFORE's, RESULTS.json; else 1 point), Holm-
adjusted over every tested row, so that --fail-on worse fails at most 5 % of the time when
nothing changed. It prints the rows that are not identical (before, after, difference with its
95 % interval, test, Holm-adjusted p, reading, what differs) and how many are: as text (the
default) or a Markdown table (--format markdown), or every row and column of the comparison as
CSV or JSON records (--format csv|json, for scripts). --out also writes the full comparison as
CSV. --fail-on worse exits 1 when a row reads "worse" (--fail-on changed: when any row is not
identical).
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from visionrepro import cli
from visionrepro.compare.changes import compare
from visionrepro.compare.inputs import read_side, tolerances
from visionrepro.report.views import correction_note

FORMATS = ("text", "markdown", "csv", "json")


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


def readable_view(table: pd.DataFrame) -> pd.DataFrame:
    """The rows that are not identical: before, after, difference [95 % CI], test, Holm p,
    reading and what differs."""
    shown = table[table["reading"] != "identical"]
    return pd.DataFrame(
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


def identical_line(table: pd.DataFrame) -> str:
    """How many rows are identical."""
    same = int((table["reading"] == "identical").sum())
    return (
        f"{same} of {len(table)} rows identical (every matched seed's value bit-equal); "
        f"{correction_note(table)}"
    )


def terminal_table(table: pd.DataFrame, markdown: bool = False) -> str:
    """The readable view of the rows that are not identical (plain or Markdown), then how many
    are identical."""
    view = readable_view(table)
    lines = []
    if len(view):
        lines.append(view.to_markdown(index=False) if markdown else view.to_string(index=False))
    lines.append(identical_line(table))
    return "\n".join(lines)


def formatted(table: pd.DataFrame, form: str) -> str:
    """The comparison in one of FORMATS: text and markdown the readable view, csv and json
    every row and column."""
    if form == "csv":
        return table.to_csv(index=False)
    if form == "json":
        return table.to_json(orient="records", indent=1) + "\n"
    return terminal_table(table, markdown=form == "markdown") + "\n"


def failed(table: pd.DataFrame, fail_on: str | None) -> bool:
    """Whether the comparison should fail a CI job: a row reading worse, or any change."""
    if fail_on == "worse":
        return bool((table["reading"] == "worse").any())
    if fail_on == "changed":
        return bool((table["reading"] != "identical").any())
    return False


def parser() -> argparse.ArgumentParser:
    """compare's arguments; --help shows the module docstring and the exit statuses."""
    found = 'a regression asked about: --fail-on worse found a row reading "worse" (changed: any'
    found += " row not identical)"
    parse = cli.make_parser("visionrepro.compare", __doc__, found)
    parse.add_argument("before", type=Path, help="results folder or per-seed CSV")
    parse.add_argument("after", type=Path, help="results folder or per-seed CSV")
    parse.add_argument("--out", type=Path, help="also write the full comparison as CSV here")
    parse.add_argument(
        "--fail-on",
        choices=("worse", "changed"),
        help="exit 1 if a row reads worse (or, with changed, if any row is not identical)",
    )
    parse.add_argument("--format", choices=FORMATS, default="text", help="what is printed")
    return parse


def run(args: argparse.Namespace) -> int:
    """Compare the two sides, print the result, write --out; the exit status."""
    limits = {**tolerances(args.before), **tolerances(args.after)}
    table = compare(
        read_side(args.before), read_side(args.after), (str(args.before), str(args.after)), limits
    )
    if args.out:
        cli.write_output(args.out, lambda tmp: table.to_csv(tmp, index=False))
    sys.stdout.write(formatted(table, args.format))
    return cli.FOUND if failed(table, args.fail_on) else cli.OK


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m visionrepro.compare` and `visionrepro-compare`."""
    return cli.run(parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
