"""Workflow-level faults (issue 12): stale results after a failed rerun or a deleted folder, a
moved project, config errors caught before any job, an overlay that narrows an experiment, and
two runs in one folder.

The slow tests share one finished run of a tiny config; each test that changes files works on
its own `cp -a` copy of it (which is itself what point 6 asks to work).
"""

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import (
    OFFLINE,
    copy_workflow,
    demo_like_config,
    planned_jobs,
    snakemake,
    write_config,
)

from visionrepro.config_checks import check_normalization, defined_runs
from visionrepro.data.torchvision_config import FASHION_MNIST_CLASSES, MNIST_CLASSES

# A classification experiment on COCO and a colourization one on CIFAR-10 (an image folder,
# linked; dense predictions and a palette), one network each; the others are left out.
KEPT = {"coco_gray": ["HW4Net1"], "cifar10_colour": ["UNet"]}
RUN = "results/runs/coco_gray/HW4Net1/seed0"
NOTHING = "Nothing to be done"


def tiny_config() -> dict:
    """The tiny demo with only the KEPT experiments and networks."""
    config = demo_like_config()
    for name, exp in config["experiments"].items():
        exp["enabled"] = name in KEPT
        if name in KEPT:
            exp["networks"] = KEPT[name]
    return config


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the workflow after a complete run of the tiny config."""
    workdir = copy_workflow(tmp_path_factory.mktemp("finished"))
    write_config(workdir, tiny_config(), "tiny.yaml")
    snakemake(workdir, "--configfile", "tiny.yaml")
    return workdir


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the workflow that has not run (for dry runs)."""
    return copy_workflow(tmp_path_factory.mktemp("fresh"))


def clone(source: Path, dest: Path) -> Path:
    """A copy as a user makes one (`cp -a`: times, links and .snakemake/ kept)."""
    subprocess.run(["cp", "-a", str(source), str(dest)], check=True, timeout=120)
    return dest


def run(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Snakemake with the tiny config (targets first: --configfile takes several files)."""
    return snakemake(workdir, *args, "--configfile", "tiny.yaml", check=check)


# Point 2: nothing stale survives a deleted or failed result.


@pytest.mark.slow
def test_a_deleted_metrics_file_is_rebuilt_with_the_summary(finished: Path, tmp_path: Path) -> None:
    workdir = clone(finished, tmp_path / "proj")
    summary = workdir / "results/tables/summary.csv"
    before = summary.stat().st_mtime_ns
    (workdir / RUN / "metrics.json").unlink()
    # The experiment's own target and `all` both make it again, and what depends on it.
    assert planned_jobs(workdir, "coco_gray", "--configfile", "tiny.yaml") == {
        "evaluate": 1,
        "plot_headline": 1,
        "plot_confusion": 1,
        "coco_gray": 1,
    }
    jobs = planned_jobs(workdir, "--configfile", "tiny.yaml")
    assert jobs["evaluate"] == 1 and {"aggregate", "report_html"} <= set(jobs)
    assert "train" not in jobs
    run(workdir)
    assert (workdir / RUN / "metrics.json").is_file()
    assert summary.stat().st_mtime_ns > before
    assert "coco_gray" in set(pd.read_csv(summary)["experiment"])
    assert NOTHING in run(workdir, "--dry-run").stdout


@pytest.mark.slow
def test_a_deleted_experiment_folder_is_rebuilt(finished: Path, tmp_path: Path) -> None:
    workdir = clone(finished, tmp_path / "proj")
    shutil.rmtree(workdir / "results/runs/cifar10_colour")
    jobs = planned_jobs(workdir, "--configfile", "tiny.yaml")
    assert jobs["train"] == jobs["evaluate_dense"] == 1  # its one network and seed
    assert {"aggregate", "plot_color_examples", "report_html"} <= set(jobs)
    run(workdir)
    run_dir = workdir / "results/runs/cifar10_colour/UNet/seed0"
    for name in ("model.pt", "train.json", "metrics.json", "predictions.csv"):
        assert (run_dir / name).is_file()
    assert (run_dir / "predicted_masks.npz").is_file()
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    assert set(summary["experiment"]) == set(KEPT)


@pytest.mark.slow
def test_a_deleted_pack_is_rebuilt(finished: Path, tmp_path: Path) -> None:
    workdir = clone(finished, tmp_path / "proj")
    (workdir / "data/demo/cifar10/packed/test.npz").unlink()
    jobs = planned_jobs(workdir, "cifar10_colour", "--configfile", "tiny.yaml")
    assert jobs["source_pack"] == 1


def failed_on_the_model(proc: subprocess.CompletedProcess) -> bool:
    """Snakemake's error block names the evaluate job and its input, the truncated model."""
    out = proc.stdout + proc.stderr
    return "Error in rule evaluate" in out and f"{RUN}/model.pt" in out


@pytest.mark.slow
def test_a_truncated_model_fails_on_every_rerun_until_retrained(
    finished: Path, tmp_path: Path
) -> None:
    workdir = clone(finished, tmp_path / "proj")
    model = workdir / RUN / "model.pt"
    model.write_bytes(model.read_bytes()[:1000])
    first = run(workdir, check=False)
    assert first.returncode != 0
    assert failed_on_the_model(first)
    assert not (workdir / RUN / "metrics.json").exists()  # removed by Snakemake: not stale
    # The next plain run does not call the old summary done: it tries again, and fails again.
    second = run(workdir, check=False)
    assert second.returncode != 0, second.stdout + second.stderr
    assert NOTHING not in second.stdout + second.stderr
    assert failed_on_the_model(second)
    # Retraining that run is the way out; then everything is up to date again.
    run(workdir, "--forcerun", f"{RUN}/model.pt")
    assert (workdir / RUN / "metrics.json").is_file()
    assert NOTHING in run(workdir, "--dry-run").stdout


# Point 6: a copied, moved or renamed project plans nothing.


@pytest.mark.slow
def test_a_copied_project_and_the_renamed_original_plan_nothing(
    finished: Path, tmp_path: Path
) -> None:
    original = clone(finished, tmp_path / "proj")
    copy = clone(original, tmp_path / "copy")
    moved = original.rename(tmp_path / "renamed")
    for workdir in (copy, moved):
        proc = run(workdir, "--dry-run")
        assert NOTHING in proc.stdout, proc.stdout
        links = [p for p in workdir.rglob("*") if p.is_symlink()]
        assert links  # the CIFAR-10 image folder is linked ...
        for link in links:  # ... inside the project, wherever it is now
            assert link.resolve().is_relative_to(workdir.resolve()), link


# Point 7: config errors named before any job runs.


def bad_config(change: str) -> dict:
    """The tiny config with one mistake."""
    config = tiny_config()
    exps = config["experiments"]
    if change == "coco classes":
        exps["coco_gray"]["classes"] = ["unicorn"]
    elif change == "cifar10 classes":
        exps["cifar10_colour"]["classes"] = ["horse", "unicorn"]
    elif change == "mnist classes":
        exps["mnist_mlp_vs_cnn"].update(enabled=True, classes=["7"])
    elif change == "mean":
        exps["coco_gray"]["train"]["mean"] = [0.5, 0.5]
    elif change == "variant std":
        exps["cifar10_ladder"]["variants"][1]["train"]["std"] = [0.5, 0.5]
    elif change == "sweep mean":
        exps["cifar10_colour"]["sweep"] = {"mean": [0.5, [0.5, 0.5, 0.5]]}
    return config


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("coco classes", "experiments.coco_gray.classes: ['unicorn'] are not classes of coco"),
        ("cifar10 classes", "experiments.cifar10_colour.classes: ['unicorn']"),
        ("mnist classes", "experiments.mnist_mlp_vs_cnn.classes: ['7']"),
        ("mean", "experiments.coco_gray.train.mean: 2 values for 3-channel inputs"),
        (
            "variant std",
            "experiments.cifar10_ladder.variants[1] (weight_decay).train.std: 2 values for "
            "3-channel",
        ),
        ("sweep mean", "experiments.cifar10_colour.sweep.mean[1]: 3 values for 1-channel"),
    ],
)
def test_a_config_error_is_named_before_any_job(finished: Path, change: str, message: str) -> None:
    write_config(finished, bad_config(change), "bad.yaml")
    proc = snakemake(finished, "--configfile", "bad.yaml", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert message in out
    assert "Building DAG of jobs" not in out  # failed while parsing: no job ran


# Point 8: an overlay narrows an experiment.


@pytest.mark.slow
def test_an_overlay_can_narrow_networks_sweeps_and_variants(fresh: Path) -> None:
    workdir = fresh
    write_config(workdir, demo_like_config(), "demo_tiny.yaml")
    narrow = {
        "coco_gray": {"networks": ["HW4Net1"]},
        "fashion_mlp": {
            "sweep": {"lr": [0.1]},
            "variants": [{"name": "base", "network": "FashionMLP"}],
        },
    }
    # config.yaml's references name HW4Net2/3, the other learning rates, deeper and wider.
    write_config(workdir, {"experiments": narrow}, "narrow.yaml")
    both = ("--configfile", "demo_tiny.yaml", "narrow.yaml")
    assert planned_jobs(workdir, "coco_gray", *both)["train"] == 1
    assert planned_jobs(workdir, "fashion_mlp", *both)["train"] == 2  # FashionMLP_lr0.1, base
    # A reference that names no run of any config file stays an error.
    narrow["coco_gray"]["reference"] = {"HW4Net9": {"val_accuracy": 50.0}}
    write_config(workdir, {"experiments": narrow}, "narrow.yaml")
    proc = snakemake(workdir, "--dry-run", *both, check=False)
    assert proc.returncode != 0
    assert "experiments.coco_gray.reference: ['HW4Net9'] name no run" in proc.stdout + proc.stderr


# Already working, kept so: a second run in the same folder gets Snakemake's lock error.


@pytest.fixture
def blocked_first_run(finished: Path, tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A copy of the finished run where a first snakemake holds the lock, stuck in a job.

    One run's metrics.json is deleted, so the first run has that run's evaluate job to do, and
    the run's train.json (an input of the job: Snakemake leaves inputs alone) is replaced by a
    FIFO. Opening its write end returns only once the job opens it to read, so when `opened`
    is set the first run is certainly executing a job and holding the lock. At teardown the
    file is put back (same bytes and time) and the bytes are written to the waiting job, which
    then ends normally, and so does the first run. Every wait has a timeout.
    """
    workdir = clone(finished, tmp_path / "proj")
    (workdir / RUN / "metrics.json").unlink()
    history = workdir / RUN / "train.json"
    content, times = history.read_bytes(), history.stat()
    history.unlink()
    os.mkfifo(history)
    opened, done = threading.Event(), threading.Event()
    writer: list[int] = []

    def open_write_end() -> None:
        writer.append(os.open(history, os.O_WRONLY))  # blocks until the job reads
        opened.set()

    thread = threading.Thread(target=open_write_end, daemon=True)
    thread.start()
    first = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", "tiny.yaml"],
        cwd=workdir,
        env=OFFLINE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield workdir, opened
        done.set()
    finally:
        if not opened.is_set():  # the job never came: be the reader, so the thread ends
            os.close(os.open(history, os.O_RDONLY | os.O_NONBLOCK))
        thread.join(timeout=30)
        restored = history.with_name("train.json.restored")
        restored.write_bytes(content)
        os.utime(restored, ns=(times.st_atime_ns, times.st_mtime_ns))
        os.replace(restored, history)  # later jobs read the file; the waiting job the FIFO
        for fd in writer:
            with os.fdopen(fd, "wb") as pipe:
                pipe.write(content)
        try:
            code = first.wait(timeout=300)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(timeout=30)
    if done.is_set():  # the test passed: the first run, released, ends well
        assert code == 0


@pytest.mark.slow
def test_a_second_run_in_the_same_folder_gets_the_lock_error(
    blocked_first_run: tuple[Path, threading.Event],
) -> None:
    workdir, opened = blocked_first_run
    assert opened.wait(timeout=300), "the first run never started its evaluate job"
    second = run(workdir, check=False)
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stdout + second.stderr


# Unit checks of the config checks (no workflow run).


def test_the_class_names_are_torchvision_s() -> None:
    from torchvision.datasets import MNIST, FashionMNIST

    assert tuple(MNIST.classes) == MNIST_CLASSES
    assert tuple(FashionMNIST.classes) == FASHION_MNIST_CLASSES


def test_normalization_allows_one_value_or_one_per_channel() -> None:
    exp = {"dataset": "mnist", "color": "gray", "train": {"mean": [0.1], "std": 0.3}}
    check_normalization("m", exp)
    with pytest.raises(ValueError, match=r"experiments\.m\.train\.std: 3 values for 1-channel"):
        check_normalization("m", {**exp, "train": {"std": [0.3, 0.3, 0.3]}})
    rgb = {"dataset": "cifar10", "color": "gray_mean", "train": {"mean": [0.5, 0.5, 0.5]}}
    with pytest.raises(ValueError, match="3 values for 1-channel inputs"):
        check_normalization("c", rgb)
    check_normalization("c", {**rgb, "color": "gray"})  # gray keeps 3 channels


def test_defined_runs_are_the_union_of_every_version() -> None:
    full = {
        "networks": ["A", "B"],
        "sweep": {"lr": [1.0, 0.1]},
        "variants": [{"name": "deep", "network": "C"}],
    }
    narrowed = {"networks": ["A"], "sweep": {"lr": [0.1]}, "variants": [{"name": "base"}]}
    assert defined_runs([narrowed, full]) == {
        "A",
        "B",
        "A_lr1",
        "A_lr0.1",
        "B_lr1",
        "B_lr0.1",
        "deep",
        "base",
    }
