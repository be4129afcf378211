"""RESULTS.md recomputed from a published per-seed table, without retraining:

    python -m visionrepro.report.republish docs/published --out docs/results.md

The folder holds a finished run's `runs.csv` (results/tables/) and `RESULTS.json`
(results/report/: each experiment's spec, the config files and the note that RESULTS.md was
written from). Every verdict, interval and count is computed again from the
per-seed values, with this checkout's statistics.
"""

import argparse
from pathlib import Path

import pandas as pd

from visionrepro.errors import UserError
from visionrepro.fileio import atomic_path, read_json
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m visionrepro.report.republish", description=__doc__.splitlines()[0]
    )
    parser.add_argument("folder", type=Path, help="holds runs.csv and RESULTS.json")
    parser.add_argument("--out", type=Path, help="write RESULTS.md here (else print it)")
    args = parser.parse_args(argv)
    try:
        text = republish(args.folder)
    except UserError as error:
        parser.exit(2, f"error: {error}\n")
    if args.out is None:
        print(text, end="")
        return 0
    with atomic_path(args.out) as tmp:
        tmp.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
