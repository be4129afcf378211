"""Run the workflow in a scratch copy of the project, as a user would."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOW_PARTS = (
    "Snakefile",
    "config.yaml",
    "rules",
    "workflow_scripts",
    "src",
    "schemas",
    "envs",
    "report",
    "profiles",
    "configs",
    "writeups",
)
RUN_OUTPUT = "run_output.txt"  # a finished run's terminal output (conftest's demo_run)


# Workflow runs under test reach 127.0.0.1 only: any other HTTP(S) request goes to a proxy
# address where nothing listens, and fails at once instead of contacting the internet.
OFFLINE = {
    **os.environ,
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "no_proxy": "127.0.0.1,localhost",
}


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (not results, data or caches) into `dest`."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for part in WORKFLOW_PARTS:
        src = PROJECT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore)
        else:
            shutil.copy2(src, dest / part)
    return dest


def write_config(workdir: Path, config: dict, name: str = "test_config.yaml") -> Path:
    """Write an extra config file into the scratch copy."""
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run snakemake in `workdir`; on failure, show its output."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir,
        env=OFFLINE,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rules a dry run would execute, with their job counts."""
    out = snakemake(workdir, "--dry-run", *args).stdout
    if "Nothing to be done" in out:
        return {}
    return job_stats(out)


def job_stats(output: str) -> dict[str, int]:
    """The rules and job counts of the first "Job stats" table in Snakemake's output."""
    table = output.split("Job stats:", 1)[1].splitlines()
    jobs = {}
    for line in table[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs


def writeup_experiments(demo: bool = False) -> dict:
    """The experiments of the default write-ups (with the demo's scale-down when `demo`)."""
    from visionrepro.plan import writeups

    names = yaml.safe_load((PROJECT / "config.yaml").read_text())["writeups"]
    schema = yaml.safe_load((PROJECT / "schemas" / "writeup.schema.yaml").read_text())
    loaded = [writeups.load_writeup(n, PROJECT / "writeups", schema) for n in names]
    return writeups.experiments(loaded, {}, demo=demo)


def default_config() -> dict:
    """config.yaml with the write-ups' experiments in it, as the workflow merges them."""
    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    return {**config, "experiments": writeup_experiments()}


def demo_like_config(**overrides: object) -> dict:
    """A tiny version of the demo: small mirror, small subset, one epoch, one seed."""
    config = yaml.safe_load((PROJECT / "configs" / "demo.yaml").read_text())
    config["experiments"] = writeup_experiments(demo=True)
    config["demo"]["images_per_class"] = {"train2017": 10, "val2017": 4}
    config["coco"]["per_class"] = {"train": 8, "val": 4}
    config["demo"]["idx_images"] = {"train": 100, "test": 40}
    config["demo"]["cifar10_per_class"] = {"train": 6, "test": 3}
    for exp in config["experiments"].values():
        exp["seeds"] = [0]
        exp["train"] = {**exp["train"], "epochs": 1}
        for variant in exp.get("variants", []):
            variant.pop("seeds", None)
            variant["train"] = {**variant.get("train", {}), "epochs": 1}
    config.update(overrides)
    return config
