"""The library modules each rule's script runs, listed once: they are the rule's code inputs,
so that editing a model reruns its training and editing a plot reruns only the report.
tests/test_code_inputs.py compares each list with what the script imports (transitively) and
names the differences that are intended (INTENDED).
"""

from pathlib import Path

# In the order the rules listed them before this registry (the order of a rule's inputs is
# recorded: another would rerun every finished training).
_ENGINE = (
    "engine/train_settings",
    "engine/model_inputs",
    "engine/checkpoints",
    "engine/splits",
    "data/datasets",
    "data/color",
)
_SCORES = (
    "engine/losses",
    "engine/metrics",
    "models/__init__",
    "engine/precision",
    "tasks",
    "networks",
    "code_inputs",
)
_REPORT = (
    "report/tables",
    "report/measures",
    "report/verdicts",
    "report/stats",
    "report/shown_params",
    "engine/metrics",
    "provenance",
    "plan/model",
    "plan/draws",
    "networks",
    "tasks",
    "registry",
)
_TRANSPORT = ("data/transport/urls", "data/transport/fetch")
CODE: dict[str, tuple[str, ...]] = {
    "demo_mirror": ("data/demo/coco_mirror",),
    "coco_annotations": ("data/coco", *_TRANSPORT, "data/transport/archives"),
    "coco_subset": ("data/coco_subset",),
    "coco_images": ("data/coco", *_TRANSPORT),
    "coco_pack": ("data/coco", "data/datasets"),
    "coco_masks": ("data/coco_subset", "data/coco_masks", "data/datasets"),
    "demo_source": ("data/demo/source_copies", "data/torchvision_config"),
    "source_fetch": (
        "data/torchvision_data",
        "data/torchvision_config",
        *_TRANSPORT,
        "data/transport/archives",
    ),
    "source_pack": ("data/torchvision_data", "data/torchvision_config", "data/datasets"),
    "image_folder_pack": ("data/image_folder", "data/datasets", "data/torchvision_config"),
    "train": ("engine/training", *_ENGINE, "engine/gpus", *_SCORES),
    "evaluate": ("engine/evaluation", "engine/training", *_ENGINE, *_SCORES),
    "deeplab_weights": ("models/deeplab",),
    "color_palette": ("data/palette", "data/color", "data/datasets"),
    "aggregate": ("report/aggregate", *_REPORT),
    "plot": ("report/plots", "report/figures", *_REPORT, "data/datasets", "data/color"),
    "changes": (
        "compare/changes",
        "report/views",
        "compare/inputs",
        "compare/__main__",
        "plan/layout",
        *_REPORT,
    ),
    "report_html": ("report/html", "report/views", *_REPORT, "report/coverage"),
    "results_md": ("report/results_markdown", "report/views", *_REPORT, "report/coverage"),
}


def code_inputs(rule: str, src: Path) -> list[str]:
    """The paths of the modules rule `rule` runs, under the library folder `src`."""
    return [str(src / "visionrepro" / f"{module}.py") for module in CODE[rule]]


# Modules a rule's script imports that are not its code inputs, and why: editing them changes no
# number or file the rule makes, or they are an input another way.
HELPERS = ("errors", "fileio", "logs", "cli", "__init__", "report/__init__", "plan/__init__")
_NO_PACKS = "imported through the source's module; this job writes no pack"
# Code inputs a script does not import: the report rules' params are ShownDict objects
# (shown_params), which the job unpickles.
UNIMPORTED = {
    key: {"report/shown_params"}
    for key in ("aggregate", "changes", "plot", "report_html", "results_md")
}
INTENDED: dict[str, dict[str, str]] = {
    "train": {
        "provenance": "records versions and digests beside the metrics; no number depends on it",
        "registry": "maps network names to modules; the network's own module is an input",
        "models/user": "loads a network from a file; an input (with the file) of file networks",
        "engine/epochs": "writes epochs.csv for watching a run; no number depends on it",
    },
    "coco_annotations": {"data/datasets": _NO_PACKS},
    "coco_images": {
        "data/transport/archives": "imported through data.coco; the images job unpacks nothing",
        "data/datasets": _NO_PACKS,
    },
    "source_fetch": {"data/datasets": _NO_PACKS},
    "coco_pack": {
        "data/transport/urls": "imported through data.coco; packing downloads nothing",
        "data/transport/fetch": "imported through data.coco; packing downloads nothing",
        "data/transport/archives": "imported through data.coco; packing downloads nothing",
    },
    "source_pack": {
        "data/transport/urls": "imported through data.torchvision_data; packing downloads nothing",
        "data/transport/fetch": "imported through data.torchvision_data; packing downloads nothing",
        "data/transport/archives": "imported through data.torchvision_data; it unpacks nothing",
    },
}
INTENDED["evaluate"] = INTENDED["train"]
