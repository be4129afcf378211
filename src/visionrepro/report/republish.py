"""RESULTS.md recomputed from a published per-seed table, without retraining:

    python -m visionrepro.report.republish docs/published --out docs/results.md
    visionrepro-republish docs/published --out docs/results.md   (the same, a console script)

The folder holds a finished run's `runs.csv` (results/tables/) and `RESULTS.json`
(results/report/: each experiment's spec, the config files and the note that RESULTS.md was
written from). Every verdict, interval and count is computed again from the
per-seed values, with this checkout's statistics.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from visionrepro import cli
from visionrepro.errors import UserError
from visionrepro.fileio import read_json
from visionrepro.report.results_markdown import results_markdown
from visionrepro.report.verdicts import glance_table

RECIPE_KEYS = ("experiments", "configfiles", "note")


def republish(folder: Path) -> str:
    """The RESULTS.md of `folder`'s runs.csv and RESULTS.json."""
    runs_path, recipe_path = folder / "runs.csv", folder / "RESULTS.json"
    for path in (runs_path, recipe_path):
        if not path.is_file():
            raise UserError(
                f"{path}: missing; a published folder holds a run's tables/runs.csv and "
                "report/RESULTS.json"
            )
    recipe = read_json(recipe_path)
    missing = [key for key in RECIPE_KEYS if key not in recipe]
    if missing:
        raise UserError(f"{recipe_path}: missing {', '.join(missing)}")
    runs = pd.read_csv(runs_path, keep_default_na=False, na_values=[""])
    return results_markdown(
        glance_table(runs, recipe["experiments"]),
        experiments=recipe["experiments"],
        configfiles=recipe["configfiles"],
        note=recipe["note"],
        runs=runs,
    )


def parser() -> argparse.ArgumentParser:
    """republish's arguments; --help shows the module docstring and the exit statuses."""
    parse = cli.make_parser("visionrepro.report.republish", __doc__)
    parse.add_argument("folder", type=Path, help="holds runs.csv and RESULTS.json")
    parse.add_argument("--out", type=Path, help="write RESULTS.md here (else print it)")
    return parse


def run(args: argparse.Namespace) -> int:
    """Recompute RESULTS.md; print it or write it to --out."""
    text = republish(args.folder)
    if args.out is None:
        sys.stdout.write(text)
    else:
        cli.write_output(args.out, lambda tmp: tmp.write_text(text))
    return cli.OK


def main(argv: list[str] | None = None) -> int:
    """The command line: `python -m visionrepro.report.republish`, `visionrepro-republish`."""
    return cli.run(parser(), run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
