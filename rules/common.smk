import os
import re
import sys
from pathlib import Path

# The library, relative to the working directory like every path of a job's input, output and
# params: the recorded provenance of a finished run stays valid when the folder is copied, moved
# or renamed (an absolute path there would make `snakemake` plan every job again).
SRC = Path(os.path.relpath(Path(workflow.basedir) / "src"))
# Jobs import the library from this checkout, not from whatever is installed.
# (PYTHONPATH is set, not read: nothing for an envvars directive to assert.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [str(SRC.resolve()), os.environ.get("PYTHONPATH", "")])
    )
)
sys.path.insert(0, str(SRC.resolve()))

from snakemake.common.configfile import load_configfile  # noqa: E402

from visionrepro import config_checks  # noqa: E402
from visionrepro.engine.gpus import GpuSettings  # noqa: E402
from visionrepro.grid import expand as expand_variants  # noqa: E402
from visionrepro.registry import NETWORKS, network_entry  # noqa: E402

DATA = config["data_dir"]
RESULTS = config["results_dir"]
LOGS = f"{RESULTS}/logs"
# `train_defaults` (e.g. configs/fast.yaml's precision) go under every experiment's own `train`,
# those of experiments other config files define included.
EXPERIMENTS = {
    name: {**exp, "train": {**config["train_defaults"], **exp["train"]}}
    for name, exp in config["experiments"].items()
    if exp.get("enabled", True)
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
    variant=r"[A-Za-z0-9_.\-]+",
    seed=r"\d+",


# Each config file as written (config.yaml, each --configfile), before merging.
CONFIG_FILES = [load_configfile(path) for path in workflow.configfiles]


def defined_runs(experiment):
    """The runs an experiment defines in any config file or in the merged config. A
    reference to one of them that this run leaves out is ignored.
    """
    versions = [f.get("experiments", {}).get(experiment) or {} for f in CONFIG_FILES]
    return config_checks.defined_runs([config["experiments"][experiment], *versions])


def check_config():
    """Checks the schema cannot express; each error names the config key to fix."""
    for name, exp in config["experiments"].items():
        try:
            variants = expand_variants(exp)
        except ValueError as err:
            raise ValueError(f"experiments.{name}: {err}") from None
        networks = list(exp["networks"]) + [
            v["network"] for v in exp.get("variants", []) if "network" in v
        ]
        unknown = [n for n in networks if n not in NETWORKS]
        if unknown:
            raise ValueError(
                f"experiments.{name}.networks (or variants): unknown {unknown}; "
                f"known networks: {sorted(NETWORKS)}"
            )
        kind = "segmentation" if exp["task"] == "colorization" else exp["task"]
        wrong = [n for n in networks if NETWORKS[n].task != kind]
        if wrong:
            fitting = sorted(n for n, e in NETWORKS.items() if e.task == kind)
            raise ValueError(
                f"experiments.{name}.networks: {wrong} are not {kind} networks "
                f"(experiments.{name}.task); {exp['task']} networks: {fitting}"
            )
        config_checks.check_references(
            name, exp.get("reference", {}), variants, defined_runs(name)
        )
        config_checks.check_classes(name, exp, COCO["categories"])
        config_checks.check_normalization(name, exp)
        if exp["dataset"] == "coco" and exp.get("val_fraction"):
            raise ValueError(
                f"experiments.{name}.val_fraction: coco has a val split already; remove it"
            )
        if exp["task"] == "colorization" and "palette" not in exp:
            raise ValueError(
                f"experiments.{name}.palette: a colorization experiment needs its palette, "
                "e.g. palette: {colours: 24, seed: run}"
            )
        if exp["task"] == "colorization" and exp["dataset"] == "coco":
            raise ValueError(
                f"experiments.{name}.dataset: colorization needs a dataset with a test split "
                "(cifar10), not coco"
            )
    if COCO["local_dir"] and not Path(COCO["local_dir"]).is_dir():
        raise ValueError(
            f"coco.local_dir: {COCO['local_dir']!r} is not a folder; set it to a COCO 2017 copy "
            "with annotations/ and train2017/, val2017/, or to '' to download"
        )


check_config()
# experiment -> variant name -> {network, train, network_options, seeds, label} (grid.py)
VARIANTS = {name: expand_variants(exp) for name, exp in EXPERIMENTS.items()}


def check_local_rules():
    """Every name in cluster.local_rules is a rule of this workflow."""
    unknown = sorted(set(LOCAL_RULES) - {rule.name for rule in workflow.rules})
    if unknown:
        raise ValueError(
            f"cluster.local_rules: unknown rules {unknown}; "
            f"rules: {sorted(rule.name for rule in workflow.rules)}"
        )


def check_experiment_names():
    """Each experiment is also a target named after it, so no rule may have its name."""
    clash = sorted(set(EXPERIMENTS) & {rule.name for rule in workflow.rules})
    if clash:
        raise ValueError(
            f"experiments: {clash} are names of workflow rules; rename them"
        )


def lib(*modules):
    """Paths of library modules, so that editing one reruns the rules that run it."""
    return [str(SRC / "visionrepro" / f"{m}.py") for m in modules]


def network_file(wildcards):
    """The module that defines the run's network (an input of its training and evaluation)."""
    return lib(f"models/{network_entry(variant_of(wildcards)['network']).module}")


def runs(experiment=None):
    """(experiment, variant, seed) of every training run."""
    names = [experiment] if experiment else list(EXPERIMENTS)
    return [
        (e, v, s) for e in names for v, var in VARIANTS[e].items() for s in var["seeds"]
    ]


def run_dir(experiment, variant, seed):
    return f"{RESULTS}/runs/{experiment}/{variant}/seed{seed}"


def variant_of(wildcards):
    """The variant (network, train settings, network options, seeds) of a run's wildcards."""
    return VARIANTS[wildcards.experiment][wildcards.variant]


def run_files(name, experiment=None):
    return [f"{run_dir(*r)}/{name}" for r in runs(experiment)]


def first_seed(experiment, variant):
    return VARIANTS[experiment][variant]["seeds"][0]


def first_seed_file(name, experiment, variant):
    """`name` of the variant's first-seed run."""
    return f"{run_dir(experiment, variant, first_seed(experiment, variant))}/{name}"


def first_seed_files(name, experiment):
    """`name` of each variant's first-seed run, in the order of the experiment's variants."""
    return [first_seed_file(name, experiment, v) for v in VARIANTS[experiment]]


def packed(dataset, split):
    return f"{DATA}/{dataset}/packed/{split}.npz"


def packed_masks(dataset, split):
    return f"{DATA}/{dataset}/packed/{split}_masks.npz"


def eval_split(experiment):
    """The split a run is finally evaluated on: coco's val split, the others' test split."""
    return "val" if EXPERIMENTS[experiment]["dataset"] == "coco" else "test"


def monitored_split(experiment):
    """The split scored after every epoch: val (held out when the experiment has a
    val_fraction), or the eval split itself (the write-ups that monitor the test set).
    """
    exp = EXPERIMENTS[experiment]
    return "val" if exp.get("val_fraction") else eval_split(experiment)


def experiment_dataset(wildcards, split):
    """The packed `split` of the experiment's dataset; "eval" is its eval split."""
    if split == "eval":
        split = eval_split(wildcards.experiment)
    return packed(EXPERIMENTS[wildcards.experiment]["dataset"], split)


def experiment_masks(wildcards, split):
    """The masks of a segmentation experiment's split (nothing for the other tasks)."""
    exp = EXPERIMENTS[wildcards.experiment]
    return packed_masks(exp["dataset"], split) if exp["task"] == "segmentation" else []


def monitored_dataset(wildcards):
    """The pack the val split comes from: the training pack (held out), or the eval split."""
    split = "train" if EXPERIMENTS[wildcards.experiment].get("val_fraction") else "eval"
    return experiment_dataset(wildcards, split)


def palette_seed(experiment, seed):
    """The k-means seed of the palette a run of `experiment` with `seed` learns: the run's
    seed (`palette.seed: run`, each seed draws its palette) or the experiment's fixed one.
    """
    fixed = EXPERIMENTS[experiment]["palette"].get("seed", "run")
    return int(seed) if fixed == "run" else fixed


def palette_file(experiment, seed):
    """The palette file of the run of `experiment` with `seed`."""
    return f"{RESULTS}/palettes/{experiment}/seed{palette_seed(experiment, seed)}.npz"


def experiment_palette(wildcards):
    """The palette of a colorization run (nothing for the other tasks)."""
    exp = EXPERIMENTS[wildcards.experiment]
    if exp["task"] != "colorization":
        return []
    return palette_file(wildcards.experiment, wildcards.seed)


def data_options(wildcards):
    """How the experiment selects and splits its data (classes, held-out val fraction)."""
    exp = EXPERIMENTS[wildcards.experiment]
    return {
        "classes": exp.get("classes", []),
        "val_fraction": exp.get("val_fraction", 0.0),
        "split_seed": exp.get("split_seed", 0),
        "monitor": monitored_split(wildcards.experiment),
        "eval_split": eval_split(wildcards.experiment),
    }


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
    if variant_of(wildcards)["network"] != "deeplabv3" or not exp.get("pretrained"):
        return []
    return exp.get("weights_path") or DEEPLAB_WEIGHTS


def network_options(wildcards, input):
    """Constructor options of the network: the variant's, and deeplabv3's weights file."""
    options = dict(variant_of(wildcards)["network_options"])
    if input.weights:
        options["weights_path"] = input.weights
    return options


def datasets_in_use(task=None):
    return sorted(
        {exp["dataset"] for exp in EXPERIMENTS.values() if task in (None, exp["task"])}
    )


def dataset_config(wildcards):
    """The config keys that define an experiment's dataset (recorded in its provenance)."""
    name = EXPERIMENTS[wildcards.experiment]["dataset"]
    if name != "coco":
        return {"name": name, **config.get(name, {}), **data_options(wildcards)}
    keys = ["annotation_sets", "categories", "per_class", "split_seed", "image_size"]
    return {"name": "coco", **{k: COCO[k] for k in keys}}


def job(kind, key):
    return config["jobs"][kind][key]


DENSE_TASKS = ("segmentation", "colorization")


def run_outputs(experiment):
    """Every file the runs of an experiment make: training's and evaluation's outputs."""
    names = ["model.pt", "train.json", "metrics.json", "predictions.csv"]
    if EXPERIMENTS[experiment]["task"] in DENSE_TASKS:
        names.append("predicted_masks.npz")
    return [path for name in names for path in run_files(name, experiment)]


def experiment_packs(experiment):
    """The packed data an experiment trains and is evaluated on (and its palette)."""
    exp = EXPERIMENTS[experiment]
    splits = sorted({"train", eval_split(experiment)})
    packs = [packed(exp["dataset"], split) for split in splits]
    if exp["task"] == "segmentation":
        packs += [packed_masks(exp["dataset"], split) for split in splits]
    if exp["task"] == "colorization":
        seeds = {
            s for variant in VARIANTS[experiment].values() for s in variant["seeds"]
        }
        packs += sorted({palette_file(experiment, s) for s in seeds})
    return packs


def experiment_outputs(experiment):
    """What running one experiment alone makes: its data packs, every output of its runs
    and its figures. All are targets, so that a deleted or failed one is made again (Snakemake
    does not remake a missing file whose consumers are up to date)."""
    figures = f"{RESULTS}/figures/{experiment}/"
    return (
        experiment_packs(experiment)
        + run_outputs(experiment)
        + [entry.path for entry in figure_entries() if entry.path.startswith(figures)]
    )


def final_outputs():
    """What the default target makes: every experiment's outputs, the tables and the report."""
    outputs = [path for name in EXPERIMENTS for path in experiment_outputs(name)]
    outputs += [
        f"{RESULTS}/tables/{table}.csv"
        for table in ("summary", "runs", "per_class", "convergence")
    ]
    outputs += [entry.path for entry in figure_entries()]
    outputs.append(f"{RESULTS}/report/index.html")
    outputs.append(f"{RESULTS}/report/RESULTS.md")
    outputs.append(f"{RESULTS}/report/headline.txt")
    return list(dict.fromkeys(outputs))


def demo_mirror():
    """The synthetic mirror's annotation archive, when the config asks for the demo."""
    if not DEMO:
        return []
    return [f"{DEMO['mirror_dir']}/annotations/annotations_trainval2017.zip"]
