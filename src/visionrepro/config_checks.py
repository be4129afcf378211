"""Config checks the schema cannot express, run while Snakemake parses the workflow (no torch).

Each error names the config key to fix.
"""

import math
import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from visionrepro.data.torchvision_config import CLASSES
from visionrepro.grid import Variant, sweep_variants
from visionrepro.networks import parse_network
from visionrepro.registry import NETWORKS

# Channels of each dataset's images (COCO's 64x64 copies are RGB; image folders are packed RGB).
DATASET_CHANNELS = {"coco": 3, "mnist": 1, "fashion_mnist": 1, "cifar10": 3}


def input_channels(exp: Mapping[str, Any]) -> int:
    """Channels of an experiment's network input: gray_mean gives 1; gray and rgb keep the
    dataset's (gray makes colour images grey in 3 channels), as training.input_channels."""
    return 1 if exp.get("color", "rgb") == "gray_mean" else DATASET_CHANNELS.get(exp["dataset"], 3)


def dataset_classes(
    dataset: str,
    coco_categories: Sequence[str],
    folder_classes: Mapping[str, Sequence[str]] | None = None,
) -> Sequence[str]:
    """The class names of a dataset: COCO's are the config's coco.categories, an image
    folder's its class folders (`folder_classes`)."""
    if folder_classes and dataset in folder_classes:
        return folder_classes[dataset]
    return coco_categories if dataset == "coco" else CLASSES[dataset]


def check_classes(
    name: str,
    exp: Mapping[str, Any],
    coco_categories: Sequence[str],
    folder_classes: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Every name in experiments.<name>.classes is a class of the experiment's dataset."""
    known = dataset_classes(exp["dataset"], coco_categories, folder_classes)
    unknown = [c for c in exp.get("classes", []) if c not in known]
    if unknown:
        where = " (coco.categories)" if exp["dataset"] == "coco" else ""
        if folder_classes and exp["dataset"] in folder_classes:
            where = " (its class folders)"
        raise ValueError(
            f"experiments.{name}.classes: {unknown} are not classes of {exp['dataset']}; "
            f"its classes{where}: {list(known)}"
        )


def settings_values(name: str, exp: Mapping[str, Any], key: str) -> Iterator[tuple[str, Any]]:
    """(config key, value) of train setting `key` wherever train settings appear: the
    experiment's train, each variant's train, and each value of a sweep over it."""
    if key in exp["train"]:
        yield f"experiments.{name}.train.{key}", exp["train"][key]
    for i, spec in enumerate(exp.get("variants", [])):
        if key in spec.get("train", {}):
            yield (
                f"experiments.{name}.variants[{i}] ({spec['name']}).train.{key}",
                spec["train"][key],
            )
    for i, value in enumerate(exp.get("sweep", {}).get(key, [])):
        yield f"experiments.{name}.sweep.{key}[{i}]", value


def check_normalization(name: str, exp: Mapping[str, Any]) -> None:
    """A list `mean` or `std` has one value, or one per input channel."""
    channels = input_channels(exp)
    for key in ("mean", "std"):
        for where, value in settings_values(name, exp, key):
            if isinstance(value, list) and len(value) not in (1, channels):
                raise ValueError(
                    f"{where}: {len(value)} values for {channels}-channel inputs "
                    f"({exp['dataset']}, color {exp.get('color', 'rgb')}); give one value or "
                    f"{channels}"
                )


def defined_runs(versions: Iterable[Mapping[str, Any]]) -> set[str]:
    """Names of the runs any version of an experiment defines (config.yaml's, each
    --configfile's, the merged one): its networks, its variants, and every sweep name of
    those networks."""
    versions = list(versions)
    networks = list(dict.fromkeys(n for v in versions for n in v.get("networks", [])))
    names = {parse_network(n).name for n in networks}
    names |= {spec["name"] for v in versions for spec in v.get("variants", []) if "name" in spec}
    for v in versions:
        if v.get("sweep"):
            grid = {"networks": networks, "sweep": v["sweep"], "train": {}, "seeds": []}
            names |= set(sweep_variants(grid))
    return names


def check_references(
    name: str, reference: Mapping[str, Any], runs: Iterable[str], defined: set[str]
) -> None:
    """Each reference key names a run of this run or one the experiment defines elsewhere
    (left out by an overlay: ignored); a key that names nothing is an error."""
    runs = list(runs)
    stray = sorted(set(reference) - set(runs) - defined)
    if stray:
        raise ValueError(
            f"experiments.{name}.reference: {stray} name no run of the experiment "
            "(its networks or their sweep names, and its variants); its runs: "
            f"{runs}"
        )


def schema_error(schema: Mapping[str, Any], definition: str, value: Any) -> str | None:
    """Why `value` does not fit the schema's `$defs/<definition>` (None if it does)."""
    validator = StrictValidator({"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]})
    error = best_match(validator.iter_errors(value))
    return None if error is None else error.message


def check_sweep(name: str, exp: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Each sweep key is a train setting and each of its values valid as that setting is in
    `train` (the schema's $defs/train)."""
    settings = schema["$defs"]["train"]["properties"]
    for key, values in exp.get("sweep", {}).items():
        if key not in settings:
            raise ValueError(
                f"experiments.{name}.sweep.{key}: not a train setting; "
                f"train settings: {sorted(settings)}"
            )
        for i, value in enumerate(values):
            error = schema_error(schema, "train", {key: value})
            if error:
                raise ValueError(f"experiments.{name}.sweep.{key}[{i}]: {error}")


def check_run_names(name: str, variants: Mapping[str, Variant], schema: Mapping[str, Any]) -> None:
    """Every run name fits the schema's $defs/name (the schema checks the names a config
    writes; this, the names a sweep makes from its values)."""
    for variant in variants:
        error = schema_error(schema, "name", variant)
        if error:
            raise ValueError(
                f"experiments.{name}.sweep: makes the run name {variant!r}, which is not a "
                f"safe name ({error}); name such runs in `variants:` instead"
            )


_KINDS = {int: "an integer", float: "a number", bool: "true or false"}


def _fits(value: Any, kind: type) -> bool:
    """Whether a YAML value is of an option's type (an integer is a number, a bool is not)."""
    if isinstance(value, bool) or kind is bool:
        return isinstance(value, bool) and kind is bool
    return isinstance(value, int if kind is int else (int, float))


def _option_error(exp: Mapping[str, Any], network: str, key: str, value: Any) -> str | None:
    """Why `key: value` is not an option of `network`'s constructor for `exp` (None if it is).

    A network from a file is not listed: its constructor meets its options in the dry forward.
    """
    if network not in NETWORKS:
        return None
    options = NETWORKS[network].options
    if key not in options:
        known = ", ".join(sorted(options)) or "none"
        return f"{network} has no option {key!r} (its options: {known})"
    if not _fits(value, options[key]):
        return f"{network}'s {key} is {_KINDS[options[key]]}, not {value!r}"
    if key == "in_channels" and value != input_channels(exp):
        return (
            f"the inputs have {input_channels(exp)} channels ({exp['dataset']}, color "
            f"{exp.get('color', 'rgb')}), not {value}"
        )
    return None


def check_network_options(
    name: str, exp: Mapping[str, Any], variants: Mapping[str, Variant]
) -> None:
    """Each `network_options` key (the experiment's, each variant's) is an option of the
    constructor of every network it goes to (a cumulative variant's go to the later ones too),
    with a value of the option's type."""
    specs = exp.get("variants", [])
    names = [spec["name"] for spec in specs]
    sources = [(f"experiments.{name}.network_options", exp.get("network_options", {}), None)]
    for i, spec in enumerate(specs):
        reach = names[i:] if exp.get("cumulative", False) else [spec["name"]]
        where = f"experiments.{name}.variants[{i}] ({spec['name']}).network_options"
        sources.append((where, spec.get("network_options", {}), reach))
    for where, options, reach in sources:
        networks = sorted(
            {v["network"] for n, v in variants.items() if reach is None or n in reach}
        )
        for key, value in options.items():
            for network in networks:
                error = _option_error(exp, network, key, value)
                if error:
                    raise ValueError(f"{where}.{key}: {error}")


def _is_integer(checker: Any, instance: Any) -> bool:
    """An integer as YAML writes it: 2, not 2.0 (JSON Schema counts 2.0 as an integer)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


# The schema's checks with `integer` meaning a YAML integer: `epochs: 2.0` fails the train job
# with a TypeError, `seeds: [0.0]` plans a folder seed0.0.
StrictValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def config_key(path: Iterable[Any]) -> str:
    """A config key as written in messages: experiments.mnist.seeds[0]."""
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return key


def _integer_errors(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """The errors of a float where an integer is expected, nested ones (oneOf) included."""
    for error in errors:
        expected = error.validator_value if error.validator == "type" else None
        wanted = expected if isinstance(expected, list) else [expected]
        if "integer" in wanted and isinstance(error.instance, float):
            yield error
        yield from _integer_errors(error.context or [])


def check_integers(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Where the schema wants an integer the config gives one, not a float such as 2.0."""
    for error in _integer_errors(StrictValidator(schema).iter_errors(config)):
        value = error.instance
        fix = f"write {int(value)}" if value.is_integer() else "give a whole number"
        raise ValueError(f"{config_key(error.absolute_path)}: {value!r} is not an integer; {fix}")


def _numbers(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], float]]:
    """(path, value) of every float in a nested config."""
    if isinstance(value, float):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _numbers(item, (*path, i))


def check_finite(config: Mapping[str, Any]) -> None:
    """No number in the config is .nan or .inf."""
    for path, value in _numbers(config):
        if not math.isfinite(value):
            raise ValueError(f"{config_key(path)}: {value!r} is not a number; give a finite value")


LARGEST = 1e6  # the largest reference or tolerance taken (beyond it the figures' axes overflow)
REFERENCE_TEXT = ("settings", "data", "source", "params")


def check_reference_values(name: str, exp: Mapping[str, Any]) -> None:
    """Each reference number is in its metric's range (0 to 100 for percentages), at most
    LARGEST otherwise; so are the tolerance and each reference's precision."""
    numbers = [(f"experiments.{name}.tolerance", "tolerance", exp.get("tolerance", 0))]
    for run, values in exp.get("reference", {}).items():
        for key, value in values.items():
            if key not in REFERENCE_TEXT:
                numbers.append((f"experiments.{name}.reference.{run}.{key}", key, value))
    for where, key, value in numbers:
        low, high = (0.0, 100.0) if key.endswith(("accuracy", "iou")) else (-LARGEST, LARGEST)
        if isinstance(value, int | float) and not low <= value <= high:
            raise ValueError(
                f"{where}: {value!r} is outside {low:g} to {high:g}"
                + (" (a percentage)" if high == 100 else "")
                + "; give the write-up's number"
            )


def check_sweep_labels(name: str, exp: Mapping[str, Any]) -> None:
    """Two values of a sweep key that make the same run name (0.1 and 0.1000001 are both
    `lr0.1`) are refused: one run would be dropped and the other labelled with the wrong value."""
    network = exp["networks"][0]
    for key, values in exp.get("sweep", {}).items():
        made: dict[str, Any] = {}
        for value in values:
            grid = {"networks": [network], "sweep": {key: [value]}, "train": {}, "seeds": []}
            (run,) = sweep_variants(grid)
            if run in made:
                raise ValueError(
                    f"experiments.{name}.sweep.{key}: {made[run]!r} and {value!r} make the same "
                    f"run {run!r} (values are named to 6 significant digits); give values that "
                    "differ there, or name such runs in `variants:`"
                )
            made[run] = value


def check_folder_settings(config: Mapping[str, Any]) -> None:
    """results_dir and data_dir name a folder of their own: not the filesystem's root, the
    project folder or a folder above it (`/`, `.`, `..`), where runs/ would be written."""
    for key in ("results_dir", "data_dir"):
        value = config.get(key)
        if value is None:
            continue
        parts = PurePosixPath(posixpath.normpath(str(value).strip() or ".")).parts
        if all(part in ("/", "//", ".", "..") for part in parts):
            raise ValueError(
                f"{key}: {value!r} is the root of the filesystem, the project folder or a "
                f"folder above it; give a folder of its own, e.g. {key.split('_')[0]}"
            )


def check_at_the_door(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """The checks of values the schema lets through (plan.load runs them first):
    folders, non-finite numbers, floats for integers, references, sweep run names."""
    check_folder_settings(config)
    check_finite(config)
    check_integers(config, schema)
    for name, exp in config.get("experiments", {}).items():
        check_reference_values(name, exp)
        check_sweep_labels(name, exp)


def check_compare_with(config: Mapping[str, Any]) -> None:
    """`compare_with` names an earlier run, not the folder this run writes (or one inside it)."""
    if not config.get("compare_with"):
        return
    earlier = Path(config["compare_with"]).resolve()
    results = Path(config["results_dir"]).resolve()
    if earlier == results or earlier.is_relative_to(results):
        raise ValueError(
            f"compare_with: {config['compare_with']!r} is this run's results_dir "
            f"({config['results_dir']!r}) or inside it, the folder being written; copy the "
            "earlier run elsewhere first (cp -r results results-before) and name that"
        )
