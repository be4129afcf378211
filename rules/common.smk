import os
import re
import sys
from pathlib import Path

# The library, relative to the working directory like every path of a job's input, output and
# params: the recorded provenance of a finished run stays valid when the folder is copied, moved
# or renamed (an absolute path there would make `snakemake` plan every job again).
SRC = Path(os.path.relpath(Path(workflow.basedir) / "src"))
# The captions and notes of the reports, the same way (`--directory` elsewhere finds them).
REPORT_DIR = os.path.relpath(Path(workflow.basedir) / "report")
# Jobs import the library from this checkout, not from whatever is installed.
# (PYTHONPATH is set, not read: nothing for an envvars directive to assert.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [str(SRC.resolve()), os.environ.get("PYTHONPATH", "")])
    )
)
sys.path.insert(0, str(SRC.resolve()))

import yaml  # noqa: E402
from snakemake.common.configfile import load_configfile  # noqa: E402

from visionrepro import config_checks  # noqa: E402
from visionrepro.data.image_folder import read_layout  # noqa: E402
from visionrepro.data.torchvision_config import (  # noqa: E402
    DATASETS,
    IMAGE_SIZES,
    data_form,
)
from visionrepro.engine.gpus import GpuSettings  # noqa: E402
from visionrepro.fileio import set_aside_unreadable_json  # noqa: E402
from visionrepro.grid import expand as expand_variants  # noqa: E402
from visionrepro.registry import (  # noqa: E402
    NETWORKS,
    is_file_network,
    network_entry,
    network_name,
    network_source,
)

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
# The user's image folders (datasets named in image_folders), and the layout (classes, files)
# of each one an enabled experiment uses, read by check_image_folders.
IMAGE_FOLDERS = config["image_folders"]
FOLDER_LAYOUTS = {}
LOCAL_RULES = config["cluster"]["local_rules"]


# Each config file as written (config.yaml, each --configfile), before merging.
CONFIG_FILES = [load_configfile(path) for path in workflow.configfiles]
# The schema the Snakefile validates with; its definitions also check what it cannot reach
# (the values of a sweep, the run names a sweep makes).
SCHEMA = yaml.safe_load(
    (Path(workflow.basedir) / "schemas" / "config.schema.yaml").read_text()
)


def defined_runs(experiment):
    """The runs an experiment defines in any config file or in the merged config. A
    reference to one of them that this run leaves out is ignored.
    """
    versions = [f.get("experiments", {}).get(experiment) or {} for f in CONFIG_FILES]
    return config_checks.defined_runs([config["experiments"][experiment], *versions])


def check_image_folders():
    """image_folders names are no built-in dataset's; the folders enabled experiments use
    have the ImageFolder layout (class folders with images, the same classes in each split).
    """
    clash = sorted(set(IMAGE_FOLDERS) & {"coco", *DATASETS})
    if clash:
        raise ValueError(
            f"image_folders: {clash} are names of built-in datasets; rename them"
        )
    used = {exp["dataset"] for exp in EXPERIMENTS.values()}
    for name in sorted(used & set(IMAGE_FOLDERS)):
        FOLDER_LAYOUTS[name] = read_layout(
            f"image_folders.{name}", IMAGE_FOLDERS[name]["path"]
        )


def check_dataset(name, exp):
    """The dataset is a built-in one or an image folder; image_size is an image folder's
    (and required there); an image folder's labels are classes."""
    dataset = exp["dataset"]
    known = ["coco", *DATASETS, *IMAGE_FOLDERS]
    if dataset not in known:
        raise ValueError(
            f"experiments.{name}.dataset: unknown {dataset!r}; datasets: {known} "
            "(a folder of your own images is named under image_folders)"
        )
    if dataset not in IMAGE_FOLDERS:
        if "image_size" in exp:
            raise ValueError(
                f"experiments.{name}.image_size: only image_folders datasets are resized; "
                f"remove it ({dataset}'s size is fixed"
                + (": coco.image_size)" if dataset == "coco" else ")")
            )
        return
    if "image_size" not in exp:
        raise ValueError(
            f"experiments.{name}.image_size: the images of {dataset} (image_folders) are "
            "resized to image_size x image_size pixels; set it, e.g. image_size: 32"
        )
    if exp["task"] != "classification":
        raise ValueError(
            f"experiments.{name}.task: an image folder ({dataset}) gives one label per "
            "image: the task must be classification"
        )


def check_network_names(name, exp, networks):
    """Each network of an experiment has a name of its own (a file's network is named by
    its class), and a file's class is not named like a built-in network."""
    names = [network_name(n) for n in exp["networks"]]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(
            f"experiments.{name}.networks: {twice} name more than one network (a network "
            "from a file is named by its class); rename a class"
        )
    shadowing = sorted(
        n for n in networks if is_file_network(n) and network_name(n) in NETWORKS
    )
    if shadowing:
        raise ValueError(
            f"experiments.{name}.networks (or variants): {shadowing} are named like "
            "built-in networks in the tables; rename the class"
        )


def image_size(exp):
    """The height and width of an experiment's images."""
    if exp["dataset"] == "coco":
        return COCO["image_size"]
    return IMAGE_SIZES.get(exp["dataset"]) or exp["image_size"]


def output_classes(exp):
    """What a network of the experiment predicts: classes, with background per pixel for
    segmentation, or palette colours (colorization)."""
    if exp["task"] == "colorization":
        return exp["palette"]["colours"]
    classes = exp.get("classes") or config_checks.dataset_classes(
        exp["dataset"], COCO["categories"], folder_classes()
    )
    return len(classes) + (exp["task"] == "segmentation")


def folder_classes():
    """The classes of each image folder in use (from its class folders)."""
    return {name: layout.classes for name, layout in FOLDER_LAYOUTS.items()}


def variant_key(name, exp, variant):
    """The config key of a variant: its entry in the experiment's variants, or (a network
    of the experiment, or of its sweep) the experiment's networks."""
    names = [spec["name"] for spec in exp.get("variants", [])]
    if variant in names:
        return f"experiments.{name}.variants[{names.index(variant)}] ({variant})"
    return f"experiments.{name}.networks"


def check_file_networks(name, exp):
    """Each network from a file loads, takes num_classes and its variant's options, and
    gives an output that fits the task for one input of the experiment's shape (a dry
    forward pass, before any job runs)."""
    checked = set()
    for variant_name, variant in expand_variants(exp).items():
        network, options = variant["network"], variant["network_options"]
        if not is_file_network(network) or (network, repr(options)) in checked:
            continue
        checked.add((network, repr(options)))
        # Imports torch: only for experiments with a network from a file.
        from visionrepro.models.user import check_file_network

        size = image_size(exp)
        try:
            check_file_network(
                network,
                num_classes=output_classes(exp),
                options=options,
                input_shape=(config_checks.input_channels(exp), size, size),
                task=exp["task"],
            )
        except ValueError as err:
            key = variant_key(name, exp, variant_name)
            raise ValueError(f"{key}: {err}") from None


def check_config():
    """Checks the schema cannot express; each error names the config key to fix."""
    config_checks.check_at_the_door(config, SCHEMA)
    check_image_folders()
    for name, exp in config["experiments"].items():
        config_checks.check_sweep(name, exp, SCHEMA)
        try:
            variants = expand_variants(exp)
        except ValueError as err:
            raise ValueError(f"experiments.{name}: {err}") from None
        networks = list(exp["networks"]) + [
            v["network"] for v in exp.get("variants", []) if "network" in v
        ]
        check_network_names(name, exp, networks)
        unknown = [n for n in networks if n not in NETWORKS and not is_file_network(n)]
        if unknown:
            raise ValueError(
                f"experiments.{name}.networks (or variants): unknown {unknown}; "
                f"known networks: {sorted(NETWORKS)}, or <file>.py:<Class> for a network "
                "of your own (docs/extending.md)"
            )
        kind = "segmentation" if exp["task"] == "colorization" else exp["task"]
        wrong = [n for n in networks if n in NETWORKS and NETWORKS[n].task != kind]
        if wrong:
            fitting = sorted(n for n, e in NETWORKS.items() if e.task == kind)
            raise ValueError(
                f"experiments.{name}.networks: {wrong} are not {kind} networks "
                f"(experiments.{name}.task); {exp['task']} networks: {fitting}"
            )
        config_checks.check_references(
            name, exp.get("reference", {}), variants, defined_runs(name)
        )
        config_checks.check_network_options(name, exp, variants)
        check_dataset(name, exp)
        if exp["dataset"] not in IMAGE_FOLDERS or exp["dataset"] in FOLDER_LAYOUTS:
            config_checks.check_classes(name, exp, COCO["categories"], folder_classes())
        config_checks.check_normalization(name, exp)
        config_checks.check_run_names(name, variants, SCHEMA)
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
    for name, exp in EXPERIMENTS.items():
        check_file_networks(name, exp)
    if COCO["local_dir"] and not Path(COCO["local_dir"]).is_dir():
        raise ValueError(
            f"coco.local_dir: {COCO['local_dir']!r} is not a folder; set it to a COCO 2017 copy "
            "with annotations/ and train2017/, val2017/, or to '' to download"
        )


check_config()
# experiment -> variant name -> {network, train, network_options, seeds, label} (grid.py)
VARIANTS = {name: expand_variants(exp) for name, exp in EXPERIMENTS.items()}


def one_of(names):
    """A wildcard regex matching exactly `names` (and nothing if there are none)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


# Wildcards match only the names of this run, escaped: a name is never read as a regex.
wildcard_constraints:
    experiment=one_of(EXPERIMENTS),
    variant=one_of(sorted({v for variants in VARIANTS.values() for v in variants})),
    seed=r"\d+",


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
    """The module defining the run's network (an input of its training and evaluation): a
    built-in's, or the user's file (relative to the project) and the code loading it."""
    network = variant_of(wildcards)["network"]
    if is_file_network(network):
        return [str(network_source(network)), *lib("models/user")]
    return lib(f"models/{network_entry(network).module}")


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


# A truncated run file is set aside, so that its job reruns (not every reader failing).
set_aside_unreadable_json(run_files("metrics.json") + run_files("train.json"))


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
    """The split a run is finally evaluated on: coco's val split, an image folder's val or
    test folder (test for a seeded split), the others' test split."""
    dataset = EXPERIMENTS[experiment]["dataset"]
    if dataset in FOLDER_LAYOUTS:
        return FOLDER_LAYOUTS[dataset].eval_split
    return "val" if dataset == "coco" else "test"


def dataset_key(exp):
    """The folder under data_dir with an experiment's packs: its dataset's name; for an
    image folder the name and the experiment's image_size (e.g. pets_32px)."""
    if exp["dataset"] in IMAGE_FOLDERS:
        return f"{exp['dataset']}_{exp['image_size']}px"
    return exp["dataset"]


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
    return packed(dataset_key(EXPERIMENTS[wildcards.experiment]), split)


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
        {dataset_key(e) for e in EXPERIMENTS.values() if task in (None, e["task"])}
    )


def dataset_config(wildcards):
    """The config keys that define an experiment's dataset (recorded in its provenance)."""
    exp = EXPERIMENTS[wildcards.experiment]
    name = exp["dataset"]
    if name in IMAGE_FOLDERS:
        folder = {**folder_split(name), "image_size": exp["image_size"]}
        return {"name": name, **folder, "form": "own images", **data_options(wildcards)}
    if name != "coco":
        source = config.get(name, {})
        form = data_form(name, source, DEMO)
        return {"name": name, **source, "form": form, **data_options(wildcards)}
    keys = ["annotation_sets", "categories", "per_class", "split_seed", "image_size"]
    form = "synthetic" if in_demo_mirror(COCO["images_url"]) else "original"
    return {"name": "coco", **{k: COCO[k] for k in keys}, "form": form}


def in_demo_mirror(url):
    """Whether an images_url is a file: URL into the demo's synthetic mirror, however spelled
    (file:./data/demo/mirror, file:data/demo/mirror/, file:///abs/path/...)."""
    if not (DEMO and url.startswith("file:")):
        return False
    mirror = os.path.abspath(DEMO["mirror_dir"])
    path = os.path.abspath(url[len("file:") :])
    return path == mirror or path.startswith(mirror + os.sep)


def folder_split(name):
    """An image folder's path, with its split settings when it is split by seed (changing
    them then repacks and retrains; a folder with train/ has no use for them)."""
    folder = IMAGE_FOLDERS[name]
    split = ["test_fraction", "split_seed"] if FOLDER_LAYOUTS[name].seeded else []
    return {k: folder[k] for k in ["path", *split]}


def folder_records(wildcards):
    """What an image-folder experiment's packs came from (the folder, its SHA-256, each
    image's file), recorded in its runs' provenance; nothing for the other datasets."""
    exp = EXPERIMENTS[wildcards.experiment]
    if exp["dataset"] not in IMAGE_FOLDERS:
        return []
    splits = sorted({"train", eval_split(wildcards.experiment)})
    return [folder_record(dataset_key(exp), split) for split in splits]


def folder_record(key, split):
    return f"{DATA}/{key}/packed/{split}.json"


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
    packs = [packed(dataset_key(exp), split) for split in splits]
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
