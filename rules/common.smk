import os
import re
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

from visionrepro.gpus import GpuSettings  # noqa: E402
from visionrepro.registry import NETWORKS, network_source  # noqa: E402

DATA = config["data_dir"]
RESULTS = config["results_dir"]
LOGS = f"{RESULTS}/logs"
EXPERIMENTS = {
    name: exp for name, exp in config["experiments"].items() if exp.get("enabled", True)
}
COCO = config["coco"]
DEMO = config.get("demo")
COCO_DIR = f"{DATA}/coco"
ANNOTATIONS = expand(
    f"{COCO_DIR}/annotations/instances_{{annotation_set}}.json",
    annotation_set=COCO["annotation_sets"],
)
IMAGE_CACHE = f"{COCO_DIR}/images{COCO['image_size']}"
# Training jobs take a GPU slot (a lock file here); an object, so retraining never follows
# a change of GPU placement (Snakemake's params trigger skips objects).
GPU = GpuSettings(slot_dir=f"{DATA}/.gpu_slots", **config["gpu"])
LOCAL_RULES = config["cluster"]["local_rules"]


wildcard_constraints:
    experiment="|".join(EXPERIMENTS),
    network="[A-Za-z0-9_]+",
    seed=r"\d+",


def check_config():
    """Checks the schema cannot express; each error names the config key to fix."""
    for name, exp in config["experiments"].items():
        unknown = [n for n in exp["networks"] if n not in NETWORKS]
        if unknown:
            raise ValueError(
                f"experiments.{name}.networks: unknown {unknown}; "
                f"known networks: {sorted(NETWORKS)}"
            )
        wrong = [n for n in exp["networks"] if NETWORKS[n].task != exp["task"]]
        if wrong:
            fitting = sorted(n for n, e in NETWORKS.items() if e.task == exp["task"])
            raise ValueError(
                f"experiments.{name}.networks: {wrong} are not {exp['task']} networks "
                f"(experiments.{name}.task); {exp['task']} networks: {fitting}"
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


def check_local_rules():
    """Every name in cluster.local_rules is a rule of this workflow."""
    unknown = sorted(set(LOCAL_RULES) - {rule.name for rule in workflow.rules})
    if unknown:
        raise ValueError(
            f"cluster.local_rules: unknown rules {unknown}; "
            f"rules: {sorted(rule.name for rule in workflow.rules)}"
        )


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


def first_seed_files(name, experiment):
    """`name` of each network's first-seed run, in the order of the experiment's networks."""
    exp = EXPERIMENTS[experiment]
    return [
        f"{run_dir(experiment, n, exp['seeds'][0])}/{name}" for n in exp["networks"]
    ]


def packed(dataset, split):
    return f"{DATA}/{dataset}/packed/{split}.npz"


def packed_masks(dataset, split):
    return f"{DATA}/{dataset}/packed/{split}_masks.npz"


def experiment_dataset(wildcards, split):
    return packed(EXPERIMENTS[wildcards.experiment]["dataset"], split)


def experiment_masks(wildcards, split):
    """The masks of a segmentation experiment's split (nothing for classification)."""
    exp = EXPERIMENTS[wildcards.experiment]
    return packed_masks(exp["dataset"], split) if exp["task"] == "segmentation" else []


def experiments_of(task):
    return [name for name, exp in EXPERIMENTS.items() if exp["task"] == task]


def one_of(names):
    """A wildcard regex matching exactly `names` (and nothing if there are none)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


# torchvision's DeepLabV3 weights file (a test checks the name against torchvision's URL).
DEEPLAB_WEIGHTS = f"{DATA}/weights/deeplabv3_resnet50_coco-cd0a2569.pth"


def pretrained_weights(wildcards):
    """The weights file a pretrained deeplabv3 run loads: `weights_path`, or the download."""
    exp = EXPERIMENTS[wildcards.experiment]
    if wildcards.network != "deeplabv3" or not exp.get("pretrained"):
        return []
    return exp.get("weights_path") or DEEPLAB_WEIGHTS


def network_options(wildcards, input):
    """Constructor options of the network: deeplabv3's pretrained weights file."""
    return {"weights_path": input.weights} if input.weights else {}


def datasets(task=None):
    return sorted(
        {exp["dataset"] for exp in EXPERIMENTS.values() if task in (None, exp["task"])}
    )


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
