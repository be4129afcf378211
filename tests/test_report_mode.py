"""`snakemake --report` of tables older than the config says so; a run or a dry run does not
(the workflow tells the modes apart by its execution settings, not by the command line)."""

import os
from pathlib import Path

import pytest
from workflow_helpers import copy_workflow, demo_like_config, snakemake, write_config

TABLES = ("glance", "comparisons", "summary", "runs", "per_class", "convergence")
SAID = "stale.yaml: this report shows what an earlier config made"
TARGET = "results/tables/glance.csv"
EARLIER = 946684800  # 2000-01-01: before any config file


@pytest.fixture
def old_tables(tmp_path: Path) -> Path:
    """A scratch workflow whose tables (and headline) are older than its config."""
    workdir = copy_workflow(tmp_path)
    write_config(workdir, demo_like_config(), "stale.yaml")
    (workdir / "results/tables").mkdir(parents=True)
    (workdir / "results/report").mkdir()
    (workdir / "results/report/headline.txt").write_text("A headline.\n")
    for name in TABLES:
        table = workdir / f"results/tables/{name}.csv"
        table.write_text("experiment,value\ncoco_rgb,1\n")
        os.utime(table, (EARLIER, EARLIER))
    return workdir


def test_a_report_of_old_tables_notes_it_in_the_terminal_and_the_report(old_tables: Path) -> None:
    proc = snakemake(old_tables, "--configfile", "stale.yaml", "--report", "r.html", TARGET)
    assert SAID in proc.stdout + proc.stderr
    html = (old_tables / "r.html").read_text(errors="replace")
    assert SAID in html
    assert "per_class.csv" in html  # a table of the report, with its caption
    assert "mean over its seeds of the scores on the evaluation split" in html


def test_a_report_of_fresh_tables_says_nothing(old_tables: Path) -> None:
    later = (old_tables / "stale.yaml").stat().st_mtime + 60
    os.utime(old_tables / "results/tables/glance.csv", (later, later))
    proc = snakemake(old_tables, "--configfile", "stale.yaml", "--report", "r.html", TARGET)
    assert "older than" not in proc.stdout + proc.stderr
    assert "older than" not in (old_tables / "r.html").read_text(errors="replace")


def test_a_dry_run_of_old_tables_says_nothing(old_tables: Path) -> None:
    # The run about to start brings the tables up to date: nothing to warn of.
    proc = snakemake(old_tables, "--configfile", "stale.yaml", "--dry-run", TARGET)
    assert "aggregate" in proc.stdout
    assert "older than" not in proc.stdout + proc.stderr
