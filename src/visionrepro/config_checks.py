"""Config checks the schema cannot express, run while Snakemake parses the workflow (no torch).

Each error names the config key to fix.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from visionrepro.data.torchvision_config import CLASSES
from visionrepro.grid import sweep_variants
from visionrepro.registry import network_name

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
    names = {network_name(n) for n in networks}
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
            f"(networks, or variants when it has a sweep or variants); its runs: {runs}"
        )
