from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "schemas/config.schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/coco.smk"
include: "rules/torchvision_data.smk"
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
for _experiment in EXPERIMENTS:

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
workflow.localrules(*LOCAL_RULES)
