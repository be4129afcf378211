"""Every training, evaluation and data job writes a Snakemake benchmark beside the results,
named like its log (a dry run of the tiny demo plans each one)."""

import re
from pathlib import Path

from workflow_helpers import copy_workflow, demo_like_config, snakemake, write_config

from visionrepro.plan.layout import Layout

MEASURED = {"train", "evaluate", "evaluate_dense", "color_palette", "deeplab_weights"}
MEASURED |= {"demo_mirror", "demo_source", "source_fetch", "source_pack"}
MEASURED |= {"coco_annotations", "coco_subset", "coco_images", "coco_pack", "coco_masks"}
JOB = re.compile(r"^(?:local)?rule (\w+):\n((?:    .*\n)*)", re.M)


def planned_jobs(out: str) -> list[tuple[str, dict[str, str]]]:
    """Each planned job's rule and its `key: value` lines."""
    jobs = []
    for rule, body in JOB.findall(out):
        lines = (line.strip().split(": ", 1) for line in body.splitlines())
        jobs.append((rule, {kv[0]: kv[1] for kv in lines if len(kv) == 2}))
    return jobs


def test_measured_jobs_plan_a_benchmark_named_like_their_log(tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config = write_config(workdir, demo_like_config())
    out = snakemake(workdir, "--dry-run", "--forceall", "--configfile", str(config)).stdout
    jobs = planned_jobs(out)
    seen = set()
    for rule, fields in jobs:
        if rule not in MEASURED:
            continue
        seen.add(rule)
        log = fields["log"].removeprefix("results/logs/").removesuffix(".log")
        assert fields.get("benchmark") == Layout("results", "data").benchmark(log), (rule, fields)
    # the demo plans every measured rule but DeepLabV3's weights download (not enabled)
    assert seen == MEASURED - {"deeplab_weights"}, sorted(seen)


def test_a_benchmark_lives_under_the_results_folder() -> None:
    layout = Layout("out", "data")
    assert layout.benchmark("train/e/v/seed0") == "out/benchmarks/train/e/v/seed0.tsv"
