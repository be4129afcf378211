"""Every data source behind one interface: COCO 2017 (its subset, or the demo's synthetic
mirror), the torchvision datasets (MNIST and Fashion-MNIST as IDX files, CIFAR-10; official,
a local copy or the demo's synthetic copies) and the user's image folders.

A source tells the plan what an experiment on it reads: the folder of its packs (`key`), its
evaluation split, image size, channels and classes, whether it has per-pixel masks, the config
keys that define it (recorded in provenance) and its own config checks. Light enough (no torch)
to import while Snakemake parses the workflow. Adding a source: a class here, its rules file
under rules/, its workflow script and a test (docs/extending.md).
"""

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from visionrepro.data.image_folder import FolderLayout, read_layout
from visionrepro.data.torchvision_config import CLASSES, DATASETS, IMAGE_SIZES, data_form
from visionrepro.tasks import task

# Channels of each built-in dataset's images (COCO's 64x64 copies are RGB).
CHANNELS = {"coco": 3, "mnist": 1, "fashion_mnist": 1, "cifar10": 3}
COCO_KEYS = ("annotation_sets", "categories", "per_class", "split_seed", "image_size")


@dataclass(frozen=True)
class Coco:
    """The COCO 2017 subset of `config` (the config's coco section)."""

    config: Mapping[str, Any]
    demo: Mapping[str, Any] | None = None
    name: str = "coco"
    masks: bool = True
    channels: int = 3

    def key(self, exp: Mapping[str, Any]) -> str:
        return self.name

    def eval_split(self, exp: Mapping[str, Any]) -> str:
        return "val"

    def image_size(self, exp: Mapping[str, Any]) -> int:
        return self.config["image_size"]

    def classes(self) -> Sequence[str]:
        return self.config["categories"]

    def provenance(self, exp: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
        """The config keys that define the data (COCO's subset keys decide it alone)."""
        form = "synthetic" if self.in_demo_mirror(self.config["images_url"]) else "original"
        return {"name": self.name, **{k: self.config[k] for k in COCO_KEYS}, "form": form}

    def in_demo_mirror(self, url: str) -> bool:
        """Whether an images_url is a file: URL into the demo's synthetic mirror, however
        spelled (file:./data/demo/mirror, file:data/demo/mirror/, file:///abs/path/...)."""
        if not (self.demo and url.startswith("file:")):
            return False
        mirror = os.path.abspath(self.demo["mirror_dir"])
        path = os.path.abspath(url[len("file:") :])
        return path == mirror or path.startswith(mirror + os.sep)

    def check(self, name: str, exp: Mapping[str, Any]) -> None:
        _fixed_size(name, exp, "coco's size is fixed: coco.image_size")
        if exp.get("val_fraction"):
            raise ValueError(
                f"experiments.{name}.val_fraction: coco has a val split already; remove it"
            )
        if task(exp["task"]).palette:
            raise ValueError(
                f"experiments.{name}.dataset: colorization needs a dataset with a test split "
                "(cifar10), not coco"
            )


@dataclass(frozen=True)
class Torchvision:
    """MNIST, Fashion-MNIST or CIFAR-10 (`name`), from the config's section of that name."""

    name: str
    config: Mapping[str, Any]
    demo: Mapping[str, Any] | None = None
    masks: bool = False

    @property
    def channels(self) -> int:
        return CHANNELS[self.name]

    def key(self, exp: Mapping[str, Any]) -> str:
        return self.name

    def eval_split(self, exp: Mapping[str, Any]) -> str:
        return "test"

    def image_size(self, exp: Mapping[str, Any]) -> int:
        return IMAGE_SIZES[self.name]

    def classes(self) -> Sequence[str]:
        return CLASSES[self.name]

    def provenance(self, exp: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
        form = data_form(self.name, self.config, self.demo)
        return {"name": self.name, **self.config, "form": form, **options}

    def check(self, name: str, exp: Mapping[str, Any]) -> None:
        _fixed_size(name, exp, f"{self.name}'s size is fixed")


@dataclass(frozen=True)
class ImageFolder:
    """A folder of the user's images (`image_folders.<name>`), with its layout once read
    (None while no enabled experiment uses it)."""

    name: str
    config: Mapping[str, Any]
    layout: FolderLayout | None
    masks: bool = False
    channels: int = 3

    def key(self, exp: Mapping[str, Any]) -> str:
        """The packs' folder: the name and the experiment's image size (e.g. pets_32px)."""
        return f"{self.name}_{exp['image_size']}px"

    def eval_split(self, exp: Mapping[str, Any]) -> str:
        return self.layout.eval_split

    def image_size(self, exp: Mapping[str, Any]) -> int:
        return exp["image_size"]

    def classes(self) -> Sequence[str]:
        return self.layout.classes

    def split_settings(self) -> dict[str, Any]:
        """The folder's path, with its split settings when it is split by seed (changing them
        then repacks and retrains; a folder with train/ has no use for them)."""
        split = ["test_fraction", "split_seed"] if self.layout.seeded else []
        return {k: self.config[k] for k in ["path", *split]}

    def provenance(self, exp: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
        folder = {**self.split_settings(), "image_size": exp["image_size"]}
        return {"name": self.name, **folder, "form": "own images", **options}

    def check(self, name: str, exp: Mapping[str, Any]) -> None:
        if "image_size" not in exp:
            raise ValueError(
                f"experiments.{name}.image_size: the images of {self.name} (image_folders) are "
                "resized to image_size x image_size pixels; set it, e.g. image_size: 32"
            )
        if task(exp["task"]).dense:
            raise ValueError(
                f"experiments.{name}.task: an image folder ({self.name}) gives one label per "
                "image: the task must be classification"
            )


DataSource = Coco | Torchvision | ImageFolder


def _fixed_size(name: str, exp: Mapping[str, Any], why: str) -> None:
    """Only image folders are resized: image_size elsewhere is an error."""
    if "image_size" in exp:
        raise ValueError(
            f"experiments.{name}.image_size: only image_folders datasets are resized; "
            f"remove it ({why})"
        )


def data_sources(config: Mapping[str, Any], used: set[str]) -> dict[str, DataSource]:
    """Every dataset an experiment may name, by name; the layout of each image folder in
    `used` is read (its classes, files and splits, checked)."""
    folders = config["image_folders"]
    clash = sorted(set(folders) & {"coco", *DATASETS})
    if clash:
        raise ValueError(f"image_folders: {clash} are names of built-in datasets; rename them")
    demo = config.get("demo")
    sources: dict[str, DataSource] = {"coco": Coco(config["coco"], demo)}
    sources |= {name: Torchvision(name, config.get(name, {}), demo) for name in DATASETS}
    for name, folder in folders.items():
        layout = read_layout(f"image_folders.{name}", folder["path"]) if name in used else None
        sources[name] = ImageFolder(name, folder, layout)
    return sources
