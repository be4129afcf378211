"""docs/extending.md, performed: the page's network file, image generator and config overlay,
run beside HW4Net1 on the demo-like config (one epoch); then what an edit reruns, and the errors
named before any job runs."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from workflow_helpers import (
    PROJECT,
    copy_workflow,
    demo_like_config,
    planned_jobs,
    snakemake,
    write_config,
    writeup_experiments,
)

from visionrepro.data.image_folder import content_hash, read_layout

pytestmark = pytest.mark.slow

RUN_ONLY = ("coco_gray", "patches_cnn")
CONFIGS = ("--configfile", "demo_tiny.yaml", "my_experiments.yaml", "fast.yaml")
# TinyNet: conv 3->16 (448), conv 16->32 (4,640), head 32 -> classes; HW4Net1: head 64 -> classes.
TINY_PARAMS = {5: 448 + 4640 + 32 * 5 + 5, 3: 448 + 4640 + 32 * 3 + 3}
HW4NET1_PARAMS = {5: 406_885, 3: 406_885 - 2 * 65}


def page_files() -> dict[str, str]:
    """The page's code blocks that start with `# <file name>`, by file name."""
    text = (PROJECT / "docs" / "extending.md").read_text()
    blocks = re.findall(r"```(?:python|yaml)\n# (\S+)\n(.*?)```", text, re.S)
    return {name: f"# {name}\n{body}" for name, body in blocks}


def project_with_extensions(dest: Path) -> Path:
    """A scratch copy of the workflow with the page's files written and its images made, the
    demo-like config, and a speed overlay: one epoch and seed, only the page's experiments."""
    workdir = copy_workflow(dest)
    files = page_files()
    assert set(files) == {
        "nets/tiny.py",
        "make_images.py",
        "my_experiments.yaml",
        "writeups/tiny_mnist.yaml",
    }
    for name, text in files.items():
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_text(text)
    subprocess.run([sys.executable, "make_images.py"], cwd=workdir, check=True)
    write_config(workdir, demo_like_config(), "demo_tiny.yaml")
    every = writeup_experiments()
    fast = {name: {"enabled": False} for name in every if name not in RUN_ONLY}
    fast["patches_cnn"] = {"seeds": [0], "train": {"epochs": 1}}
    write_config(workdir, {"experiments": fast}, "fast.yaml")
    return workdir


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = project_with_extensions(tmp_path_factory.mktemp("extending"))
    snakemake(workdir, *CONFIGS)
    return workdir


def test_the_networks_and_the_folder_appear_in_the_tables_and_the_report(extended: Path) -> None:
    summary = pd.read_csv(extended / "results/tables/summary.csv")
    params = {(r.experiment, r.variant): r.params for r in summary.itertuples()}
    assert params == {
        ("coco_gray", "HW4Net1"): HW4NET1_PARAMS[5],
        ("coco_gray", "TinyNet"): TINY_PARAMS[5],
        ("patches_cnn", "HW4Net1"): HW4NET1_PARAMS[3],
        ("patches_cnn", "TinyNet"): TINY_PARAMS[3],
    }
    assert set(summary["network"]) == {"HW4Net1", "TinyNet"}
    assert set(summary["metric"]) == {"val_accuracy"}  # my_images has val/
    report = (extended / "results/report/index.html").read_text()
    for text in ("patches_cnn", "TinyNet", f">{TINY_PARAMS[3]:,}<", "patches_64px"):
        assert text in report
    results = (extended / "results/report/RESULTS.md").read_text()
    for experiment in RUN_ONLY:
        section = results.split(f"## {experiment}\n", 1)[1].split("\n## ", 1)[0]
        assert "| HW4Net1 " in section and "| TinyNet " in section


def test_a_run_records_the_folder_s_hash_and_its_model_loads_with_weights_only(
    extended: Path,
) -> None:
    run = extended / "results/runs/patches_cnn/TinyNet/seed0"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["classes"] == ["blue", "green", "red"]
    dataset = metrics["provenance"]["dataset"]
    layout = read_layout("image_folders.patches", extended / "my_images")
    assert dataset["sha256"] == content_hash(layout)
    assert dataset["image_size"] == 64 and dataset["path"] == "my_images"
    assert metrics["provenance"]["network"] == "nets/tiny.py:TinyNet"
    saved = torch.load(run / "model.pt", weights_only=True)
    assert saved["network"] == "nets/tiny.py:TinyNet"
    pack = extended / "data/demo/patches_64px/packed"
    record = json.loads((pack / "val.json").read_text())
    assert record["per_class"] == {"blue": 4, "green": 4, "red": 4}
    assert record["files"][0] == "val/blue/0.jpg"


def test_an_edit_reruns_only_what_it_feeds(extended: Path, tmp_path: Path) -> None:
    workdir = shutil.copytree(extended, tmp_path / "proj", symlinks=True)
    tiny = workdir / "nets/tiny.py"
    tiny.write_text(tiny.read_text() + "# an edit\n")
    jobs = planned_jobs(workdir, *CONFIGS)
    assert jobs["train"] == 2 and "image_folder_pack" not in jobs  # the two TinyNet runs
    tiny.write_text(tiny.read_text().removesuffix("# an edit\n"))
    image = workdir / "my_images/train/red/0.jpg"
    image.write_bytes((workdir / "my_images/train/red/1.jpg").read_bytes())
    jobs = planned_jobs(workdir, *CONFIGS)
    # the train split's pack only (its manifest), and patches_cnn's runs only
    assert jobs["image_folder_pack"] == 1 and jobs["train"] == 2


def test_a_write_up_of_ones_own_is_one_file_and_shows_its_verdict(tmp_path: Path) -> None:
    """Step 4: the page's write-up file, run alone on the demo as the page says."""
    workdir = project_with_extensions(tmp_path)
    write_config(workdir, {**demo_like_config(), "experiments": {}}, "demo_tiny.yaml")
    snakemake(workdir, "--configfile", "demo_tiny.yaml", "--config", "writeups=[tiny_mnist]")
    glance = pd.read_csv(workdir / "results/tables/glance.csv")
    row = glance.set_index(["experiment", "variant"]).loc[("tiny_mnist", "TinyNet")]
    assert set(glance["experiment"]) == {"tiny_mnist"}
    assert (row["reference"], row["precision"], row["source"]) == (97.1, 0.1, "My report, Table 2")
    assert row["verdict"] == "not comparable: synthetic data"
    page = (workdir / "results/report/index.html").read_text()
    assert "My report: a tiny CNN on MNIST" in page and "runs on the CPU, with seeds" in page
    src = sorted(p.relative_to(workdir) for p in (workdir / "src").rglob("*.py"))
    assert all((workdir / p).read_bytes() == (PROJECT / p).read_bytes() for p in src)


def broken(workdir: Path, change: str) -> None:
    """One mistake in the page's files."""
    tiny = workdir / "nets/tiny.py"
    overlay = workdir / "my_experiments.yaml"
    if change == "missing class":
        overlay.write_text(overlay.read_text().replace(":TinyNet]", ":TinyNett]", 1))
    elif change == "no num_classes":
        tiny.write_text(tiny.read_text().replace("num_classes", "classes"))
    elif change == "wrong output":
        tiny.write_text(tiny.read_text().replace("self.head(", "("))
    elif change == "empty class folder":
        (workdir / "my_images/train/purple").mkdir()
        (workdir / "my_images/val/purple").mkdir()
    elif change == "classes differ":
        (workdir / "my_images/val/red").rename(workdir / "my_images/val/crimson")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "missing class",
            "experiments.coco_gray.networks: nets/tiny.py defines no torch.nn.Module class "
            "'TinyNett'; its network classes: ['TinyNet']",
        ),
        (
            "no num_classes",
            "experiments.coco_gray.networks: nets/tiny.py:TinyNet: TinyNet(classes: int, ",
        ),
        (
            "wrong output",
            "experiments.coco_gray.networks: nets/tiny.py:TinyNet gives an output of shape "
            "(1, 32) for one input of shape 1x3x64x64; a classification network with 5 classes "
            "must give (1, 5)",
        ),
        (
            "empty class folder",
            "image_folders.patches.path: the class folder my_images/train/purple has no images",
        ),
        ("classes differ", "only in train/: ['red'], only in val/: ['crimson']"),
    ],
)
def test_a_mistake_is_named_before_any_job(tmp_path: Path, change: str, message: str) -> None:
    workdir = project_with_extensions(tmp_path)
    broken(workdir, change)
    proc = snakemake(workdir, "--dry-run", *CONFIGS, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert message in out
    assert "Building DAG of jobs" not in out  # failed while parsing


def test_an_unreadable_image_is_named_before_any_job_and_its_removal_reruns_nothing(
    extended: Path, tmp_path: Path
) -> None:
    workdir = shutil.copytree(extended, tmp_path / "proj", symlinks=True)
    bad = workdir / "my_images/val/green/9.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    proc = snakemake(workdir, "--dry-run", *CONFIGS, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Building DAG of jobs" not in out
    assert "image_folders.patches: my_images/val/green/9.jpg cannot be read as an image" in out
    bad.unlink()
    assert not planned_jobs(workdir, *CONFIGS)  # the packs made before it stand
