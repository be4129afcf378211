# Thin input functions over the plan (src/visionrepro/plan, loaded once by the Snakefile as
# PLAN): what runs, where its files are, and what each job reads.
import re

from visionrepro.engine.gpus import GpuSettings
from visionrepro.fileio import set_aside_unreadable_json
from visionrepro.plan import figures as plots, outputs
from visionrepro.code_inputs import code_inputs

# The captions and notes of the reports, relative to the working directory like SRC.
REPORT_DIR = os.path.relpath(Path(workflow.basedir) / "report")
# Jobs import the library from this checkout, not from whatever is installed.
# (PYTHONPATH is set, not read: nothing for an envvars directive to assert.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [str(SRC.resolve()), os.environ.get("PYTHONPATH", "")])
    )
)
LAYOUT = PLAN.layout
RESULTS, DATA, LOGS = LAYOUT.results, LAYOUT.data, LAYOUT.logs
COCO, DEMO = config["coco"], config.get("demo")
# Training jobs take a GPU slot (a lock file here); an object: no retraining on a new placement.
GPU = GpuSettings(slot_dir=f"{DATA}/.gpu_slots", **config["gpu"])
# A truncated run file is set aside, so that its job reruns (rather than every reader failing).
set_aside_unreadable_json(PLAN.run_files("metrics.json") + PLAN.run_files("train.json"))
# torchvision's DeepLabV3 weights file (a test checks the name against torchvision's URL).
DEEPLAB_WEIGHTS = f"{DATA}/weights/deeplabv3_resnet50_coco-cd0a2569.pth"


def one_of(names):
    """A wildcard regex matching exactly `names` (and nothing if there are none)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


# Wildcards match only the names of this run, escaped: a name is never read as a regex.
wildcard_constraints:
    experiment=one_of(PLAN.experiments),
    variant=one_of(sorted({v for e in PLAN.experiments.values() for v in e.variants})),
    seed=r"\d+",


def check_local_rules():
    """Every name in cluster.local_rules is a rule of this workflow."""
    rules = sorted(rule.name for rule in workflow.rules)
    unknown = sorted(set(config["cluster"]["local_rules"]) - set(rules))
    if unknown:
        raise ValueError(
            f"cluster.local_rules: unknown rules {unknown}; rules: {rules}"
        )


def check_experiment_names():
    """Each experiment is also a target named after it, so no rule may have its name."""
    clash = sorted(set(PLAN.experiments) & {rule.name for rule in workflow.rules})
    if clash:
        raise ValueError(
            f"experiments: {clash} are names of workflow rules; rename them"
        )


def code(rule):
    """The code inputs of a rule: the library modules it runs (code_inputs.py)."""
    return code_inputs(rule, SRC)


def job(kind, key):
    return config["jobs"][kind][key]


def experiment_of(wildcards):
    return PLAN.experiments[wildcards.experiment]


def variant_of(wildcards):
    return PLAN.variant(wildcards.experiment, wildcards.variant)


def network_file(wildcards):
    """The module defining the run's network (an input of its training and evaluation)."""
    return variant_of(wildcards).network.code_files(SRC)


def pack(role):
    """An input function: the experiment's pack for `role` (Experiment.pack_split)."""

    def packed(wildcards):
        exp = experiment_of(wildcards)
        return LAYOUT.packed(exp.key, exp.pack_split(role))

    return packed


def masks(split):
    """An input function: the masks of a segmentation experiment's split (else nothing)."""

    def packed_masks(wildcards):
        exp = experiment_of(wildcards)
        return LAYOUT.packed_masks(exp.key, split) if exp.task.masks else []

    return packed_masks


def palette_file(wildcards):
    """The palette a colorization run learns on (nothing for the other tasks)."""
    exp = experiment_of(wildcards)
    if not exp.task.palette:
        return []
    return LAYOUT.palette(exp.name, exp.palette_seed(wildcards.seed))


def pretrained_weights(wildcards):
    """The weights file a pretrained deeplabv3 run loads: `weights_path`, or the download."""
    exp = experiment_of(wildcards)
    if variant_of(wildcards).network.spec != "deeplabv3" or not exp.config.get(
        "pretrained"
    ):
        return []
    return exp.config.get("weights_path") or DEEPLAB_WEIGHTS


def network_options(wildcards, input):
    """Constructor options of the network: the variant's, and deeplabv3's weights file."""
    options = dict(variant_of(wildcards).network_options)
    if input.weights:
        options["weights_path"] = input.weights
    return options


def folder_records(wildcards):
    """What an image-folder experiment's packs came from (recorded in provenance)."""
    exp = experiment_of(wildcards)
    if not hasattr(exp.source, "layout"):
        return []
    splits = sorted({"train", exp.eval_split})
    return [LAYOUT.folder_record(exp.key, split) for split in splits]


def experiment_outputs(experiment):
    return outputs.experiment_outputs(PLAN, experiment)


def final_outputs():
    return outputs.final_outputs(PLAN)


def demo_mirror():
    """The synthetic mirror's annotation archive, when the config asks for the demo."""
    if not DEMO:
        return []
    return [f"{DEMO['mirror_dir']}/annotations/annotations_trainval2017.zip"]
