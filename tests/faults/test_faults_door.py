"""Values the schema let through, checked at the door (issue 33, point 7), each error naming the
key: references `.nan`, `.inf`, `1e308` (a raw "Axis limits cannot be NaN or Inf" in the figure
job); `epochs: 2.0`, `batch_size: 64.0` (a TypeError in the train job: JSON Schema counts 2.0 as
an integer); a sweep whose values make one run name (`lr: [0.1, 0.1000001]`: one run dropped,
the other mislabelled); `seeds: [0.0]` (a folder seed0.0); results_dir / data_dir of `/`, `..`
or `.` (runs planned at `//runs`). The workflow runs `check_at_the_door` before its other checks.
"""

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from workflow_helpers import PROJECT, default_config

from visionrepro.config_checks import check_at_the_door, check_sweep

SCHEMA = yaml.safe_load((PROJECT / "schemas" / "config.schema.yaml").read_text())
CONFIG = default_config()
EXPERIMENT = "mnist_mlp_vs_cnn"


def _config(path: str, value: Any) -> dict[str, Any]:
    """config.yaml with `value` at `path` (dotted), a string read as YAML."""
    config = copy.deepcopy(CONFIG)
    *parents, last = path.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = yaml.safe_load(value) if isinstance(value, str) else value
    return config


def test_config_yaml_and_the_demo_pass() -> None:
    check_at_the_door(CONFIG, SCHEMA)
    demo = yaml.safe_load((PROJECT / "configs" / "demo.yaml").read_text())
    check_at_the_door({**CONFIG, **demo, "experiments": CONFIG["experiments"]}, SCHEMA)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".nan", "nan is not a number"),
        (".inf", "inf is not a number"),
        (1e308, "outside 0 to 100"),
    ],
)
def test_a_reference_that_is_no_usable_number_is_refused(value: Any, message: str) -> None:
    reference = CONFIG["experiments"][EXPERIMENT]["reference"]
    run, metrics = next(iter(reference.items()))
    metric = next(k for k in metrics if k.endswith("accuracy"))
    config = _config(f"experiments.{EXPERIMENT}.reference.{run}.{metric}", value)
    with pytest.raises(ValueError, match=rf"^experiments.{EXPERIMENT}.reference.{run}.{metric}: "):
        check_at_the_door(config, SCHEMA)
    with pytest.raises(ValueError, match=message):
        check_at_the_door(config, SCHEMA)


def test_a_huge_tolerance_is_refused() -> None:
    config = _config(f"experiments.{EXPERIMENT}.tolerance", 1e308)
    with pytest.raises(
        ValueError, match=rf"^experiments.{EXPERIMENT}.tolerance: 1e\+308 is outside"
    ):
        check_at_the_door(config, SCHEMA)


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (f"experiments.{EXPERIMENT}.train.epochs", "2.0", f"experiments.{EXPERIMENT}.train.epochs"),
        (
            f"experiments.{EXPERIMENT}.train.batch_size",
            "64.0",
            f"experiments.{EXPERIMENT}.train.batch_size",
        ),
        (f"experiments.{EXPERIMENT}.seeds", "[0.0]", f"experiments.{EXPERIMENT}.seeds[0]"),
        (f"experiments.{EXPERIMENT}.seeds", "[0, 1.0]", f"experiments.{EXPERIMENT}.seeds[1]"),
    ],
)
def test_a_float_where_an_integer_is_wanted_is_refused(path: str, value: str, key: str) -> None:
    with pytest.raises(
        ValueError,
        match=f"^{re.escape(key)}: " + r"[\d.]+ is not an integer; write \d+$",
    ):
        check_at_the_door(_config(path, value), SCHEMA)


def test_a_float_epochs_in_a_sweep_is_refused() -> None:
    exp = {**CONFIG["experiments"][EXPERIMENT], "sweep": {"epochs": [2.0]}}
    with pytest.raises(ValueError, match=rf"experiments.{EXPERIMENT}.sweep.epochs\[0\]: .*integer"):
        check_sweep(EXPERIMENT, exp, SCHEMA)


def test_sweep_values_that_make_one_run_name_are_refused() -> None:
    config = _config(f"experiments.{EXPERIMENT}.sweep", "{lr: [0.1, 0.1000001]}")
    with pytest.raises(
        ValueError,
        match=rf"^experiments.{EXPERIMENT}.sweep.lr: 0.1 and 0.1000001 make the same run "
        r"'\w+_lr0.1'",
    ):
        check_at_the_door(config, SCHEMA)
    check_at_the_door(_config(f"experiments.{EXPERIMENT}.sweep", "{lr: [0.1, 0.01]}"), SCHEMA)


@pytest.mark.parametrize("key", ["results_dir", "data_dir"])
@pytest.mark.parametrize("value", ["/", "..", ".", "./", "a/..", "../..", "//", " "])
def test_a_folder_that_is_the_root_or_the_project_is_refused(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"^{key}: .* is the root of the filesystem, the project"):
        check_at_the_door({**CONFIG, key: value}, SCHEMA)


@pytest.mark.parametrize("value", ["results", "../elsewhere/results", "/tmp/r", "a/../b"])
def test_a_folder_of_its_own_passes(value: str) -> None:
    check_at_the_door({**CONFIG, "results_dir": value}, SCHEMA)


def test_the_workflow_runs_the_door_checks() -> None:
    from snakemake.utils import validate

    from visionrepro.plan.load import load_plan

    config = _config(f"experiments.{EXPERIMENT}.train.epochs", "2.0")
    validate(config, str(PROJECT / "schemas" / "config.schema.yaml"))
    with pytest.raises(ValueError, match=rf"experiments\.{EXPERIMENT}\.train\.epochs: 2\.0"):
        load_plan(config, SCHEMA, [])


def test_a_path_object_is_fine(tmp_path: Path) -> None:
    check_at_the_door({**CONFIG, "data_dir": str(tmp_path)}, SCHEMA)


@pytest.mark.parametrize("earlier", ["results", "./results/", "results/tables/runs.csv"])
def test_compare_with_the_folder_being_written_is_refused(earlier: str) -> None:
    from visionrepro.config_checks import check_compare_with

    with pytest.raises(ValueError, match=r"^compare_with: .* is this run's results_dir"):
        check_compare_with({"compare_with": earlier, "results_dir": "results"})
    check_compare_with({"compare_with": "results-before", "results_dir": "results"})
