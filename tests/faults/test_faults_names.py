"""Names that cannot leave the project, and settings checked at the door (issue 23, points 2
and 4; issue 25, point 5's network_options).

Experiment and variant names have one safe pattern (the schema's $defs/name), which the run
names a sweep makes must fit too; every sweep value is checked as a `train` setting; every
`network_options` key is checked against the constructor of each network it goes to. All of it
fails while Snakemake parses the workflow, before any job, with the config key named.
"""

import inspect
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from workflow_helpers import (
    PROJECT,
    copy_workflow,
    default_config,
    demo_like_config,
    snakemake,
    write_config,
    writeup_experiments,
)

from visionrepro.config_checks import (
    check_network_options,
    check_run_names,
    check_sweep,
    schema_error,
)
from visionrepro.engine.train_settings import TrainSettings
from visionrepro.grid import expand
from visionrepro.models import build_network
from visionrepro.registry import NETWORKS, network_entry

SCHEMA = yaml.safe_load((PROJECT / "schemas" / "config.schema.yaml").read_text())
UNSAFE_NAMES = ["{x}", "a(1)", "a" * 300, "../../../x", "..", ".", "a/b", "x|y", "a*", "[ab]"]
SAFE_NAMES = ["coco_gray", "FashionMLP_lr0.001", "run 2", "modèle-1", "a" * 64]


def config_error(config: dict[str, Any]) -> str | None:
    """The first error the schema finds in a whole config (None if it is valid)."""
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(config), key=str)
    return None if not errors else f"{list(errors[0].path)}: {errors[0].message}"


# Point 2: names.


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_an_unsafe_experiment_name_is_refused_by_the_schema(name: str) -> None:
    config = default_config()
    config["experiments"][name] = config["experiments"].pop("coco_gray")
    error = config_error(config)
    assert error is not None and error.startswith("['experiments']: ")
    assert repr(name) in error


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_an_unsafe_variant_name_is_refused_by_the_schema(name: str) -> None:
    config = default_config()
    config["experiments"]["cifar10_ladder"]["variants"][0]["name"] = name
    error = config_error(config)
    assert error is not None
    assert error.startswith("['experiments', 'cifar10_ladder', 'variants', 0, 'name']: ")


@pytest.mark.parametrize("name", SAFE_NAMES)
def test_safe_names_pass(name: str) -> None:
    assert schema_error(SCHEMA, "name", name) is None
    config = default_config()
    config["experiments"][name] = config["experiments"].pop("coco_gray")
    config["experiments"]["cifar10_ladder"]["variants"][0]["name"] = name
    assert config_error(config) is None


def test_a_sweep_that_makes_an_unsafe_run_name_is_named() -> None:
    exp = {"networks": ["CifarCNN"], "seeds": [0], "train": {}, "sweep": {"mean": [[0.5] * 3]}}
    with pytest.raises(ValueError, match=r"experiments\.e\.sweep: makes the run name "):
        check_run_names("e", expand(exp), SCHEMA)
    check_run_names("e", expand({**exp, "sweep": {"lr": [0.1, 1e-3], "shuffle": ["once"]}}), SCHEMA)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the workflow with the tiny demo config (for dry runs)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("names"))
    write_config(workdir, demo_like_config(), "tiny.yaml")
    return workdir


def dry_run_error(workdir: Path, overlay: dict[str, Any]) -> str:
    """The output of a dry run of the tiny demo with `overlay`, which must fail."""
    write_config(workdir, overlay, "bad.yaml")
    proc = snakemake(workdir, "--dry-run", "--configfile", "tiny.yaml", "bad.yaml", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Building DAG of jobs" not in out  # failed while parsing: no job was planned
    return out


MNIST_TRAIN = {"epochs": 1, "batch_size": 8, "lr": 0.1}
MNIST = {
    "task": "classification",
    "dataset": "mnist",
    "networks": ["MnistMLP"],
    "seeds": [0],
    "train": MNIST_TRAIN,
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        (
            {"experiments": {"a(1)": MNIST}},
            "'a(1)' does not match",
        ),
        (
            {"experiments": {"../../../x": MNIST}},
            "'../../../x' does not match",
        ),
        (
            {"experiments": {"mnist_mlp_vs_cnn": {"variants": [{"name": ".."}]}}},
            "config.experiments.mnist_mlp_vs_cnn.variants[0].name: '..' does not match",
        ),
        (
            {"experiments": {"fashion_mlp": {"sweep": {"lr": ["fast"]}}}},
            "experiments.fashion_mlp.sweep.lr[0]: 'fast' is not of type 'number'",
        ),
        (
            {"experiments": {"fashion_mlp": {"sweep": {"epochs": [0]}}}},
            "experiments.fashion_mlp.sweep.epochs[0]: 0 is less than the minimum of 1",
        ),
        (
            {"experiments": {"cifar10_ladder": {"network_options": {"bogus_option": 1}}}},
            "experiments.cifar10_ladder.network_options.bogus_option: CifarCNN has no option "
            "'bogus_option' (its options: batchnorm, bias, dropout)",
        ),
    ],
    ids=["parentheses", "traversal", "dot-dot variant", "sweep lr", "sweep epochs", "option"],
)
def test_a_bad_name_or_setting_fails_the_dry_run_naming_the_key(
    fresh: Path, overlay: dict[str, Any], message: str
) -> None:
    assert message in dry_run_error(fresh, overlay)


@pytest.mark.slow
def test_the_wildcards_match_only_this_runs_names(fresh: Path) -> None:
    """The wildcard constraints list this run's names escaped: the dot of `mnist.v2` matches
    only a dot, and a variant name only itself."""
    write_config(fresh, {"experiments": {"mnist.v2": MNIST}}, "dotted.yaml")
    args = ("--dry-run", "--configfile", "tiny.yaml", "dotted.yaml")
    assert snakemake(fresh, "mnist.v2", *args)  # the experiment's own target
    assert snakemake(fresh, "results/runs/mnist.v2/MnistMLP/seed0/model.pt", *args)
    for stray in ("mnistXv2/MnistMLP", "mnist.v2/MnistMLPX", "mnist.v2/../MnistMLP"):
        proc = snakemake(fresh, f"results/runs/{stray}/seed0/model.pt", *args, check=False)
        assert proc.returncode != 0
        assert "MissingRuleException" in proc.stdout + proc.stderr, stray


# Point 4: every sweep value and variant setting is checked like a `train` setting.


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"epochs": [0]}, "sweep.epochs[0]: 0 is less than the minimum of 1"),
        ({"batch_size": [16, 0]}, "sweep.batch_size[1]: 0 is less than the minimum of 1"),
        ({"lr": [-1.0]}, "sweep.lr[0]: -1.0 is less than or equal to the minimum of 0"),
        ({"lr": ["fast"]}, "sweep.lr[0]: 'fast' is not of type 'number'"),
        ({"bogus_key": [1]}, "sweep.bogus_key: not a train setting; train settings: ["),
        ({"optimizer": ["adamw"]}, "sweep.optimizer[0]: 'adamw' is not one of ['adam', 'sgd']"),
        ({"hflip": [1.5]}, "sweep.hflip[0]: 1.5 is greater than the maximum of 1"),
    ],
)
def test_a_bad_sweep_value_is_named(sweep: dict[str, list[Any]], message: str) -> None:
    with pytest.raises(ValueError) as err:
        check_sweep("e", {"sweep": sweep}, SCHEMA)
    assert str(err.value).startswith(f"experiments.e.{message}")


def test_good_sweep_values_pass() -> None:
    sweep = {"lr": [1, 0.1], "mean": [0.5, "train", [0.1, 0.2, 0.3]], "shuffle": [True, "once"]}
    check_sweep("e", {"sweep": sweep}, SCHEMA)


def test_the_schemas_train_settings_are_the_engines() -> None:
    """A setting the schema (and so a sweep) accepts is one the training engine knows."""
    engine = {f.name for f in fields(TrainSettings)} - {"color", "task"}
    assert set(SCHEMA["$defs"]["train"]["properties"]) == engine


LADDER = {
    "task": "classification",
    "dataset": "cifar10",
    "networks": ["CifarCNN"],
    "seeds": [0],
    "train": {},
    "cumulative": True,
    "variants": [
        {"name": "base"},
        {"name": "drop", "network_options": {"dropout": 0.5}},
        {"name": "mlp", "network": "MnistMLP"},  # gets drop's dropout: cumulative
    ],
}


@pytest.mark.parametrize(
    ("exp", "message"),
    [
        (
            {**MNIST, "network_options": {"bogus_option": 1}},
            "experiments.e.network_options.bogus_option: MnistMLP has no option 'bogus_option' "
            "(its options: none)",
        ),
        (
            {**LADDER, "variants": [{"name": "v", "network_options": {"dropout": "high"}}]},
            "experiments.e.variants[0] (v).network_options.dropout: CifarCNN's dropout is a "
            "number, not 'high'",
        ),
        (
            {**LADDER, "variants": [{"name": "v", "network_options": {"bias": 0}}]},
            "experiments.e.variants[0] (v).network_options.bias: CifarCNN's bias is true or false",
        ),
        (
            LADDER,
            "experiments.e.variants[1] (drop).network_options.dropout: MnistMLP has no option",
        ),
        (
            {**LADDER, "network_options": {"weights_path": "x.pth"}, "variants": []},
            "experiments.e.network_options.weights_path: CifarCNN has no option",
        ),
        (
            {
                **MNIST,
                "networks": ["UNet"],
                "task": "segmentation",
                "dataset": "cifar10",
                "color": "gray_mean",
                "network_options": {"in_channels": 3},
            },
            "experiments.e.network_options.in_channels: the inputs have 1 channels",
        ),
    ],
    ids=["plain key", "type", "bool", "cumulative", "pipeline's own", "channels"],
)
def test_a_bad_network_option_is_named(exp: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        check_network_options("e", exp, expand(exp))
    assert str(err.value).startswith(message)


def test_the_configs_network_options_pass() -> None:
    for demo in (False, True):
        for name, exp in writeup_experiments(demo).items():
            full = {"train": {}, "seeds": [0], **exp}
            check_network_options(name, full, expand(full))


def _kind(annotation: Any) -> type:
    return typing.get_args(annotation)[0] if typing.get_args(annotation) else annotation


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_the_registry_options_are_the_constructors(name: str) -> None:
    """The options `network_options` may set are the constructor's own, with its types, and
    each builds the network."""
    entry = network_entry(name)
    module = __import__(f"visionrepro.models.{entry.module}", fromlist=[entry.cls])
    signature = inspect.signature(getattr(module, entry.cls))
    own = {
        key: _kind(typing.get_type_hints(getattr(module, entry.cls).__init__)[key])
        for key in signature.parameters
        if key not in ("num_classes", "weights_path")
    }
    assert own == dict(entry.options)
    defaults = {k: signature.parameters[k].default for k in own}
    assert build_network(name, 6, **defaults) is not None
