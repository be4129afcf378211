import os
import sys
from pathlib import Path

SRC = Path(workflow.basedir) / "src"
# Jobs import the library from this checkout, not from whatever is installed.
# (PYTHONPATH is set, not read: nothing for an envvars directive to assert.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [str(SRC), os.environ.get("PYTHONPATH", "")])
    )
)
sys.path.insert(0, str(SRC))

from visionrepro.registry import NETWORK_MODULES, network_source  # noqa: E402

DATA = config["data_dir"]
RESULTS = config["results_dir"]
LOGS = f"{RESULTS}/logs"
EXPERIMENTS = config["experiments"]
COCO = config["coco"]
DEMO = config.get("demo")
COCO_DIR = f"{DATA}/coco"
ANNOTATIONS = expand(
    f"{COCO_DIR}/annotations/instances_{{annotation_set}}.json",
    annotation_set=COCO["annotation_sets"],
)
IMAGE_CACHE = f"{COCO_DIR}/images{COCO['image_size']}"


wildcard_constraints:
    experiment="|".join(EXPERIMENTS),
    network="[A-Za-z0-9_]+",
    seed=r"\d+",


def check_config():
    """Checks the schema cannot express; each error names the config key to fix."""
    for name, exp in EXPERIMENTS.items():
        unknown = [n for n in exp["networks"] if n not in NETWORK_MODULES]
        if unknown:
            raise ValueError(
                f"experiments.{name}.networks: unknown {unknown}; "
                f"known networks: {sorted(NETWORK_MODULES)}"
            )
        stray = sorted(set(exp.get("reference", {})) - set(exp["networks"]))
        if stray:
            raise ValueError(
                f"experiments.{name}.reference: {stray} are not in experiments.{name}.networks"
            )
    if COCO["local_dir"] and not Path(COCO["local_dir"]).is_dir():
        raise ValueError(
            f"coco.local_dir: {COCO['local_dir']!r} is not a folder; set it to a COCO 2017 copy "
            "with annotations/ and train2017/, val2017/, or to '' to download"
        )


check_config()


def lib(*modules):
    """Paths of library modules, so that editing one reruns the rules that run it."""
    return [str(SRC / "visionrepro" / f"{m}.py") for m in modules]


def runs(experiment=None):
    """(experiment, network, seed) of every training run."""
    names = [experiment] if experiment else list(EXPERIMENTS)
    return [
        (e, n, s)
        for e in names
        for n in EXPERIMENTS[e]["networks"]
        for s in EXPERIMENTS[e]["seeds"]
    ]


def run_dir(experiment, network, seed):
    return f"{RESULTS}/runs/{experiment}/{network}/seed{seed}"


def run_files(name, experiment=None):
    return [f"{run_dir(*r)}/{name}" for r in runs(experiment)]


def packed(dataset, split):
    return f"{DATA}/{dataset}/packed/{split}.npz"


def experiment_dataset(wildcards, split):
    return packed(EXPERIMENTS[wildcards.experiment]["dataset"], split)


def datasets():
    return sorted({exp["dataset"] for exp in EXPERIMENTS.values()})


def dataset_config(wildcards):
    """The config keys that define an experiment's dataset (recorded in its provenance)."""
    keys = ["annotation_sets", "categories", "per_class", "split_seed", "image_size"]
    return {"name": "coco", **{k: COCO[k] for k in keys}}


def job(kind, key):
    return config["jobs"][kind][key]


def final_outputs():
    return [
        f"{RESULTS}/tables/summary.csv",
        f"{RESULTS}/report/index.html",
    ]


def demo_mirror():
    """The synthetic mirror's annotation archive, when the config asks for the demo."""
    if not DEMO:
        return []
    return [f"{DEMO['mirror_dir']}/annotations/annotations_trainval2017.zip"]


def figure_entries():
    """(section, title, path, caption) of every figure in the HTML report."""
    entries = []
    for name, exp in EXPERIMENTS.items():
        section = f"Experiment {name}: {exp.get('description', '')}"
        entries += [
            (section, "Training loss", f"{RESULTS}/figures/{name}/loss.png", "loss"),
            (
                section,
                "Confusion matrices",
                f"{RESULTS}/figures/{name}/confusion.png",
                "confusion",
            ),
        ]
    entries.append(
        (
            "Accuracy",
            "Val accuracy per network",
            f"{RESULTS}/figures/accuracy.png",
            "accuracy",
        )
    )
    for dataset in datasets():
        entries.append(
            (
                f"Dataset {dataset}",
                "Training images",
                f"{RESULTS}/figures/{dataset}/samples.png",
                "samples",
            )
        )
    return entries
