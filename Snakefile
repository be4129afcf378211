import os
import sys
from pathlib import Path

import yaml
from jsonschema import ValidationError
from snakemake.common.configfile import load_configfile
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")

# The library, relative to the working directory like every path of a job's input, output and
# params: the provenance of a finished run stays valid when the folder is copied or moved.
SRC = Path(os.path.relpath(Path(workflow.basedir) / "src"))
sys.path.insert(0, str(SRC.resolve()))

from visionrepro.plan import writeups  # noqa: E402
from visionrepro.plan.load import load_plan  # noqa: E402
from visionrepro.report.rst import rst_text  # noqa: E402


# config.yaml beside this Snakefile, named relative to the working directory like every path of
# the workflow: `-s path/Snakefile` and `--directory elsewhere` read it too.
configfile: os.path.relpath(os.path.join(workflow.basedir, "config.yaml"))


SCHEMAS = {
    name: yaml.safe_load((Path(workflow.basedir) / "schemas" / name).read_text())
    for name in ("config.schema.yaml", "writeup.schema.yaml")
}
# The write-ups that run (writeups/<name>.yaml): their experiments, under the config files' own.
WRITEUPS = [
    writeups.load_writeup(
        entry, Path(workflow.basedir) / "writeups", SCHEMAS["writeup.schema.yaml"]
    )
    for entry in config["writeups"]
]
config["experiments"] = writeups.experiments(
    WRITEUPS, config.get("experiments") or {}, demo=bool(config.get("demo"))
)


# A schema error as one line naming the key, without the schema and the value that jsonschema
# prints (some 1,600 lines for a top-level key).
try:
    validate(config, "schemas/config.schema.yaml")
except WorkflowError as err:
    error = err.__context__
    if not isinstance(error, ValidationError):
        raise
    key = "".join(
        f"[{k}]" if isinstance(k, int) else f".{k}" for k in error.absolute_path
    )
    raise WorkflowError(
        f"config{key}: {error.message} (schemas/config.schema.yaml)"
    ) from None

# What runs, resolved and checked once (src/visionrepro/plan): every rule reads it. The config
# files as written (and the write-ups) hold runs a reference may name though this run drops them.
PLAN = load_plan(
    config,
    SCHEMAS["config.schema.yaml"],
    [load_configfile(path) for path in workflow.configfiles]
    + [{"experiments": w.experiments} for w in WRITEUPS],
)
# The report's notes on how the pipeline differs from each write-up that runs (workflow.rst).
config["differences"] = writeups.differences(WRITEUPS, list(PLAN.experiments), rst_text)


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/coco.smk"
include: "rules/torchvision_data.smk"
include: "rules/image_folders.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
    message:
        "Every run, figure and table, and the report"


# The last lines of a finished run: the report, RESULTS.md and the headline.
onsuccess:
    for line in run_end_lines():
        logger.info(line)


# One target per experiment, named after it (`snakemake --cores all fashion_mlp`): its runs
# and its figures, without the other experiments.
check_experiment_names()
for _experiment in PLAN.experiments:

    rule:
        name:
            _experiment
        input:
            experiment_outputs(_experiment),
        localrule: True
        message:
            f"Every run and figure of {_experiment}"


# `localrules:` with the names from the config: these run on the submit host under a cluster
# executor (downloads need the internet, which compute nodes often lack).
check_local_rules()
workflow.localrules(*config["cluster"]["local_rules"])
