"""What the terminal says about the report: the last lines of a finished run (where the report
and RESULTS.md are, the headline), and the warning of `snakemake --report` when the results are
older than a config file. Light (no pandas): runs while Snakemake parses the workflow.
"""

import os
import time
from collections.abc import Iterable
from pathlib import Path


def applied_order(loaded: Iterable[object], given: Iterable[object]) -> list[str]:
    """The config files in the order they were applied (the Snakefile's, then the command
    line's `given` ones), relative to the working directory when inside it."""
    given = [str(path) for path in given]
    ordered = [str(p) for p in loaded if str(p) not in given] + given
    relative = [os.path.relpath(path) for path in ordered]
    return [r if not r.startswith("..") else p for r, p in zip(relative, ordered, strict=True)]


def end_lines(report_dir: Path, metrics: Iterable[str]) -> list[str]:
    """The last lines of a finished run, or that this run's target makes no report."""
    page, headline = report_dir / "index.html", report_dir / "headline.txt"
    if not (page.exists() and headline.exists()):
        return [f"No report yet: `snakemake` without a target writes {page}."]
    lines = [
        f"Report: {page} (open it in a browser)",
        f"Results: {report_dir / 'RESULTS.md'}",
        f"Headline: {headline.read_text().strip()}",
    ]
    made = [Path(p).stat().st_mtime for p in metrics if Path(p).exists()]
    if max(made, default=0) > page.stat().st_mtime:
        lines.insert(0, "The report is older than the latest runs: `snakemake` updates it.")
    return lines


def stale_note(glance: Path, configfiles: Iterable[str]) -> str:
    """What to say when the tables are older than a config file; '' when they are not."""
    if not glance.exists():
        return ""
    made = glance.stat().st_mtime
    newer = [path for path in configfiles if Path(path).stat().st_mtime > made]
    if not newer:
        return ""
    return (
        f"The results ({glance}, made {time.strftime('%Y-%m-%d %H:%M', time.localtime(made))}) "
        f"are older than {', '.join(newer)}: this report shows what an earlier config made. "
        "Run `snakemake` with the same config files first to bring them up to date."
    )
