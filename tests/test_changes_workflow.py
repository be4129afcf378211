"""What changed since an earlier run, in the pipeline (issue 22): `compare_with` adds
results/tables/changes.csv and a "Changes since ..." section to both reports; changing it reruns
only those; a learning-rate change reads "settings differ" on its runs and identical elsewhere."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import demo_like_config, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow


def _config(workdir: Path, name: str, **overrides: object) -> str:
    return str(write_config(workdir, demo_like_config(**overrides), name))


def test_setting_compare_with_reruns_only_the_changes_table_and_the_reports(
    demo_run: tuple[Path, str],
) -> None:
    workdir, _ = demo_run
    shutil.copytree(workdir / "results" / "tables", workdir / "earlier", dirs_exist_ok=True)
    config = _config(workdir, "compare.yaml", compare_with="earlier", compare_label="the copy")
    assert set(planned_jobs(workdir, "--configfile", config)) == {
        "changes",
        "report_html",
        "results_md",
        "all",
    }


def test_a_missing_earlier_run_is_named_before_any_job(demo_run: tuple[Path, str]) -> None:
    workdir, _ = demo_run
    config = _config(workdir, "missing.yaml", compare_with="no-such-results")
    proc = snakemake(workdir, "--dry-run", "--configfile", config, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Building DAG of jobs" not in out
    assert "compare_with: no-such-results: no such file or folder" in out


def test_a_learning_rate_change_reads_settings_differ_and_the_rest_identical(
    demo_run: tuple[Path, str], tmp_path: Path
) -> None:
    source, _ = demo_run
    workdir = tmp_path / "project"  # a copy: the shared run stays as it is
    shutil.copytree(source, workdir, symlinks=True)
    shutil.copytree(workdir / "results" / "tables", workdir / "before")
    config = demo_like_config(compare_with="before", compare_label="yesterday")
    wider = config["experiments"]["fashion_mlp"]["variants"][2]
    assert wider["name"] == "wider"
    wider["train"] = {**wider["train"], "lr": 0.05}
    jobs = planned_jobs(workdir, "--configfile", str(write_config(workdir, config, "lr.yaml")))
    assert jobs["train"] == 1  # fashion_mlp's wider variant, seed 0, nothing else
    snakemake(workdir, "--configfile", str(workdir / "lr.yaml"))

    changes = pd.read_csv(workdir / "results" / "tables" / "changes.csv")
    wider_rows = changes[(changes["experiment"] == "fashion_mlp") & (changes["variant"] == "wider")]
    assert len(wider_rows) and (wider_rows["what_differs"] == "settings differ: train.lr").all()
    # Its accuracy moved; a measure such as the epoch of the lowest test loss may not.
    accuracy = wider_rows[wider_rows["metric"] == "test_accuracy"]
    assert len(accuracy) == 1 and (accuracy["reading"] != "identical").all()
    rest = changes.drop(wider_rows.index)
    assert len(rest) > 30 and (rest["reading"] == "identical").all()
    assert rest["what_differs"].isna().all()

    page = (workdir / "results" / "report" / "index.html").read_text()
    assert page.index('id="changes"') < page.index('id="glance"')
    assert "Changes since yesterday" in page and "train.lr" in page
    markdown = (workdir / "results" / "report" / "RESULTS.md").read_text()
    assert markdown.index("## Changes since yesterday") < markdown.index("## coco_gray")
    same = int((changes["reading"] == "identical").sum())  # the rest, and wider's unmoved measures
    assert same >= len(rest) and f"{same} identical, every seed bit-equal" in markdown
