"""End-to-end: the whole DAG on a tiny demo config, then what reruns after an edit."""

import os
import socket
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import (
    RUN_OUTPUT,
    copy_workflow,
    demo_like_config,
    planned_jobs,
    snakemake,
    write_config,
    writeup_experiments,
)

pytestmark = pytest.mark.slow

SUMMARY_AND_REPORT = {"aggregate", "report_html", "results_md", "all"}
PER_EXPERIMENT = {"plot_headline", "plot_loss"}
DOWNSTREAM_OF_TRAINING = {"train", "evaluate", "plot_confusion", *PER_EXPERIMENT}
DOWNSTREAM_OF_TRAINING |= SUMMARY_AND_REPORT
DOWNSTREAM_OF_SEGNETS = {
    "train",
    "evaluate_dense",
    "plot_segmentation",
    "plot_per_class_iou",
    "plot_color_examples",
    *PER_EXPERIMENT,
} | SUMMARY_AND_REPORT
REPORT_ONLY = {
    "plot_headline",
    "plot_confusion",
    "plot_per_class_iou",
    "plot_segmentation",
    "plot_loss",
    "plot_misclassified",
    "plot_grad_mean",
    "plot_curves",
    "plot_color_examples",
    "plot_samples",
    "plot_masks",
    "report_html",
    "all",
}


def test_run_ends_with_summary_and_report(demo_run: tuple[Path, str]) -> None:
    workdir, _ = demo_run
    summary = pd.read_csv(workdir / "results/tables/summary.csv")
    assert {
        "experiment",
        "network",
        "params",
        "metric",
        "n_seeds",
        "mean",
        "std",
        "reference",
    } <= set(summary.columns)
    experiments = {
        "coco_gray",
        "coco_rgb",
        "coco_seg",
        "coco_seg_iou",
        "mnist_mlp_vs_cnn",
        "fashion_mlp",
        "cifar10_ladder",
        "cifar10_colour",
    }
    assert set(summary["experiment"]) == experiments
    metrics = summary.groupby("experiment")["metric"].agg(set).to_dict()
    assert metrics["coco_gray"] == {"val_accuracy"}
    assert metrics["coco_seg_iou"] == {"miou", "pixel_accuracy", "thresholded_iou"}
    assert metrics["mnist_mlp_vs_cnn"] == metrics["cifar10_ladder"] == {"test_accuracy"}
    assert metrics["cifar10_colour"] == {"pixel_accuracy", "test_loss"}
    variants = summary.groupby("experiment")["variant"].agg(list).to_dict()
    assert variants["fashion_mlp"][:4] == [
        "FashionMLP_lr1",
        "FashionMLP_lr0.1",
        "FashionMLP_lr0.01",
        "FashionMLP_lr0.001",
    ]
    assert variants["cifar10_ladder"] == [
        "base",
        "weight_decay",
        "dropout",
        "augment",
        "no_bias",
        "batchnorm",
    ]
    assert (summary["n_seeds"] == 1).all()
    scores = summary[summary["metric"] != "test_loss"]
    assert scores["mean"].between(0, 100).all()
    convergence = pd.read_csv(workdir / "results/tables/convergence.csv")
    assert set(convergence["variant"]) == set(variants["fashion_mlp"])
    html = (workdir / "results/report/index.html").read_text()
    assert '<img src="data:image/png;base64,' in html
    for text in ("HW4Net1", "UNet", "Reproduction at a glance", "FashionMLP_lr0.1", "no_bias"):
        assert text in html
    assert "unknown" not in html  # the scratch copy is no checkout: a content hash instead
    metrics = (workdir / "results/runs/coco_rgb/HW4Net1/seed0/metrics.json").read_text()
    for field in ("code_version", "versions", "device", "seed", "train"):
        assert f'"{field}"' in metrics


def test_a_finished_run_ends_naming_the_report_and_its_headline(
    demo_run: tuple[Path, str],
) -> None:
    workdir, _ = demo_run
    output = (workdir / RUN_OUTPUT).read_text()
    lines = output.splitlines()
    headline = (workdir / "results/report/headline.txt").read_text().strip()
    end = [line for line in lines if not line.startswith(("Complete log", "Elapsed time"))][-3:]
    assert end == [
        "Report: results/report/index.html (open it in a browser)",
        "Results: results/report/RESULTS.md",
        f"Headline: {headline}",
    ]
    # The default profile keeps the terminal readable: no "Shell command: None" per job, no
    # reason line (the default target's lists every file), no line of every input of `all`.
    assert "Shell command" not in output
    assert "reason:" not in output
    assert "Job 0: Every run, figure and table, and the report" in output
    assert max(len(line) for line in lines) < 4000


def test_second_run_has_nothing_to_do(demo_run: tuple[Path, str]) -> None:
    workdir, config = demo_run
    assert planned_jobs(workdir, "--configfile", config) == {}


def _edit_then_plan(workdir: Path, config: str, relative: str) -> dict[str, int]:
    """Append a comment to a file, plan a run, then restore the file and its times."""
    path = workdir / relative
    original, stat = path.read_text(), path.stat()
    try:
        path.write_text(original + "\n# edited by a test\n")
        return planned_jobs(workdir, "--configfile", config)
    finally:
        path.write_text(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_editing_a_model_reruns_its_training_and_what_follows(demo_run: tuple[Path, str]) -> None:
    workdir, config = demo_run
    jobs = _edit_then_plan(workdir, config, "src/visionrepro/models/hw4net.py")
    assert set(jobs) == DOWNSTREAM_OF_TRAINING
    assert jobs["train"] == 6  # 2 experiments x 3 networks x 1 seed
    jobs = _edit_then_plan(workdir, config, "src/visionrepro/models/segnets.py")
    assert set(jobs) == DOWNSTREAM_OF_SEGNETS
    assert jobs["train"] == 9  # coco_seg, coco_seg_iou and cifar10_colour x 3 networks x 1 seed


def test_editing_the_palette_fit_retrains_only_colorization(demo_run: tuple[Path, str]) -> None:
    workdir, config = demo_run
    jobs = _edit_then_plan(workdir, config, "src/visionrepro/data/palette.py")
    assert jobs["color_palette"] == 1
    assert jobs["train"] == 3  # cifar10_colour's 3 networks x 1 seed, nothing else


def test_editing_the_figure_code_reruns_only_the_report(demo_run: tuple[Path, str]) -> None:
    workdir, config = demo_run
    assert set(_edit_then_plan(workdir, config, "src/visionrepro/report/figures.py")) == REPORT_ONLY


def test_changing_a_reference_number_retrains_nothing(demo_run: tuple[Path, str]) -> None:
    workdir, _ = demo_run
    config = demo_like_config()
    config["experiments"]["coco_rgb"]["reference"] = {"HW4Net1": {"val_accuracy": 12.5}}
    jobs = planned_jobs(workdir, "--configfile", str(write_config(workdir, config, "edited.yaml")))
    assert "train" not in jobs and "evaluate" not in jobs
    assert {"aggregate", "report_html"} <= set(jobs)


def test_snakemake_report_collects_figures_and_tables(demo_run: tuple[Path, str]) -> None:
    workdir, config = demo_run
    snakemake(workdir, "--configfile", config, "--report", "report.html")
    html = (workdir / "report.html").read_text(errors="replace")
    names = ("summary.csv", "glance.csv", "loss.png", "confusion.png", "headline.png")
    names += ("samples.png", "per_class_iou.png", "segmentation.png", "masks.png")
    for name in names:
        assert name in html
    # It opens with the at-a-glance table, the same fragment as the HTML page's.
    fragment = (workdir / "results/report/glance.html").read_text()
    headline = "reference numbers: 0 compared like for like"
    assert headline in fragment and headline in html
    assert "synthetic (the demo" in fragment  # its banner, and the landing page's headline:
    references = int(pd.read_csv(workdir / "results/tables/glance.csv")["reference"].notna().sum())
    assert references > 20  # every write-up's, judged or not
    assert "Synthetic data (the demo" in html
    assert f"no reference judged: {references} reference" in html
    assert "older than" not in html  # the results are the config's


def test_a_report_of_results_older_than_the_config_says_so(demo_run: tuple[Path, str]) -> None:
    workdir, config = demo_run
    path = Path(config)
    before = path.stat()
    later = (workdir / "results/tables/glance.csv").stat().st_mtime + 60
    try:
        os.utime(path, (later, later))  # the config edited after the run
        proc = snakemake(workdir, "--configfile", config, "--report", "stale.html")
    finally:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    said = f"are older than {path.name}: this report shows what an earlier config made"
    assert said in proc.stdout + proc.stderr
    assert said in (workdir / "stale.html").read_text(errors="replace")


def test_a_disabled_experiment_is_left_out_and_deeplab_plans_when_enabled(
    demo_run: tuple[Path, str],
) -> None:
    workdir, _ = demo_run
    config = demo_like_config()
    config["experiments"]["coco_seg_deeplab"] = {
        "enabled": False,
        "task": "segmentation",
        "dataset": "coco",
        "networks": ["deeplabv3"],
        "pretrained": False,
        "seeds": [0],
        "train": {"epochs": 1, "batch_size": 4, "lr": 0.05, "mean": [0.485, 0.456, 0.406]},
    }
    disabled = planned_jobs(workdir, "--configfile", str(write_config(workdir, config, "d.yaml")))
    assert set(disabled) <= {"report_html", "results_md", "all"}  # both name the config files
    config["experiments"]["coco_seg_deeplab"]["enabled"] = True
    jobs = planned_jobs(workdir, "--configfile", str(write_config(workdir, config, "d.yaml")))
    assert jobs["train"] == 1 and jobs["evaluate_dense"] == 1
    assert "evaluate" not in jobs and "deeplab_weights" not in jobs
    # Pretrained: the weights are downloaded once by their own (local) rule...
    config["experiments"]["coco_seg_deeplab"]["pretrained"] = True
    jobs = planned_jobs(workdir, "--configfile", str(write_config(workdir, config, "d.yaml")))
    assert jobs["deeplab_weights"] == 1 and jobs["train"] == 1
    # ...unless weights_path names a local copy.
    weights = workdir / "my_weights.pth"
    weights.write_bytes(b"not read by a dry run")
    config["experiments"]["coco_seg_deeplab"]["weights_path"] = str(weights)
    jobs = planned_jobs(workdir, "--configfile", str(write_config(workdir, config, "d.yaml")))
    assert "deeplab_weights" not in jobs and jobs["train"] == 1


def test_a_network_of_the_wrong_task_is_named(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config = demo_like_config()
    config["experiments"]["coco_seg"]["networks"] = ["UNet", "HW4Net1"]
    proc = snakemake(
        workdir, "--dry-run", "--configfile", str(write_config(workdir, config)), check=False
    )
    assert proc.returncode != 0
    assert "experiments.coco_seg.networks: ['HW4Net1'] are not segmentation networks" in (
        proc.stdout + proc.stderr
    )


def test_unknown_config_key_is_named(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config = demo_like_config()
    config["coco"]["per_clas"] = config["coco"].pop("per_class")
    proc = snakemake(
        workdir, "--dry-run", "--configfile", str(write_config(workdir, config)), check=False
    )
    assert proc.returncode != 0
    assert "per_clas" in proc.stdout + proc.stderr


def test_unreachable_server_fails_fast_with_what_to_configure(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = demo_like_config()
    del config["demo"]
    for name, exp in config["experiments"].items():
        exp["enabled"] = name.startswith("coco")  # the COCO download is under test
    config["coco"].update(
        annotations_url=f"http://127.0.0.1:{port}/annotations.zip",
        images_url=f"http://127.0.0.1:{port}/",
        download={"workers": 2, "retries": 2, "timeout": 5, "backoff": 0},
    )
    proc = snakemake(workdir, "--configfile", str(write_config(workdir, config)), check=False)
    assert proc.returncode != 0
    log = (workdir / "results/logs/data/coco_annotations.log").read_text()
    assert f"127.0.0.1:{port}" in log
    for hint in ("coco.local_dir", "coco.images_url", "configs/demo.yaml"):
        assert hint in log
    assert 'File "' not in log  # an explained error, not a traceback
    assert not list(workdir.glob("data/demo/coco/annotations/*.json"))


def test_each_experiment_runs_alone_as_a_target(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config = str(write_config(workdir, demo_like_config()))
    jobs = planned_jobs(workdir, "cifar10_colour", "--configfile", config)
    assert jobs == {
        "demo_source": 1,
        "source_fetch": 1,
        "source_pack": 1,
        "color_palette": 1,
        "train": 3,
        "evaluate_dense": 3,
        "plot_headline": 1,
        "plot_loss": 1,
        "plot_color_examples": 1,
        "cifar10_colour": 1,
    }
    jobs = planned_jobs(workdir, "fashion_mlp", "--configfile", config)
    assert jobs["train"] == 7 and "coco_pack" not in jobs and "aggregate" not in jobs


def test_the_fast_preset_trains_in_bf16_the_experiments_of_every_config_file(
    tmp_path: Path,
) -> None:
    workdir = copy_workflow(tmp_path)
    config = demo_like_config()
    mnist = config["experiments"]["mnist_mlp_vs_cnn"]
    mnist["networks"] = ["MnistMLP"]
    for name, exp in config["experiments"].items():
        exp["enabled"] = name == "mnist_mlp_vs_cnn"
    default = writeup_experiments()
    full = {**default["mnist_mlp_vs_cnn"], **mnist, "reference": {}}
    full["train"] = {**default["mnist_mlp_vs_cnn"]["train"], **mnist["train"]}
    config["experiments"]["mnist_overlay"] = full  # defined by this file only
    own = {**full, "train": {**full["train"], "precision": "fp32"}}
    config["experiments"]["mnist_own_precision"] = own
    path = str(write_config(workdir, config))
    runs = [
        f"results/runs/{name}/MnistMLP/seed0/train.json"
        for name in ("mnist_mlp_vs_cnn", "mnist_overlay", "mnist_own_precision")
    ]
    snakemake(workdir, "--configfile", path, "configs/fast.yaml", "--", *runs)
    precisions = [
        pd.read_json(workdir / run, typ="series")["provenance"]["train"].get("precision")
        for run in runs
    ]
    assert precisions == ["bf16", "bf16", "fp32"]


def test_each_colorization_seed_draws_its_palette_unless_the_seed_is_fixed(
    tmp_path: Path,
) -> None:
    workdir = copy_workflow(tmp_path)
    config = demo_like_config()
    color = config["experiments"]["cifar10_colour"]
    color["seeds"] = [0, 1, 2]
    path = str(write_config(workdir, config))
    jobs = planned_jobs(workdir, "cifar10_colour", "--configfile", path)
    assert jobs["color_palette"] == 3 and jobs["train"] == 9
    color["palette"]["seed"] = 7
    path = str(write_config(workdir, config))
    jobs = planned_jobs(workdir, "cifar10_colour", "--configfile", path)
    assert jobs["color_palette"] == 1 and jobs["train"] == 9
