# Helpers of the report rules (rules/report.smk): the figures, and what the tables compare.
import time
from collections import namedtuple

from snakemake.logging import logger

from visionrepro.report.rst import rst_text
from visionrepro.report.shown_params import shown
from visionrepro.report.verdicts import (
    DEFAULT_TOLERANCE,
    comparison_groups,
    reference_metrics,
    seed_note,
    shares_draws,
)
from visionrepro.report.verdicts import headline_metric as task_headline

# Every kind of figure, declared once: its file under {RESULTS}/figures/, its title, its
# section (the HTML page's, and the category of Snakemake's report) and whether the HTML
# page folds it into a <details>. Its caption is report/<kind>.rst, for both reports.
# Rules declare their outputs with figure_output(kind); the HTML page shows figure_entries().
FigureKind = namedtuple("FigureKind", "path title section folded")
FIGURES = {
    "headline": FigureKind(
        "{experiment}/headline.png",
        "Headline metric: every seed, the mean and the reference",
        "{experiment}",
        False,
    ),
    "loss": FigureKind("{experiment}/loss.png", "Training loss", "{experiment}", False),
    "grad_mean": FigureKind(
        "{experiment}/grad_mean.png",
        "Mean gradient over the first training steps",
        "{experiment}",
        False,
    ),
    "confusion": FigureKind(
        "{experiment}/confusion.png",
        "Confusion matrices (% of each true class)",
        "{experiment}",
        True,
    ),
    "per_class_iou": FigureKind(
        "{experiment}/per_class_iou.png", "IoU per class", "{experiment}", True
    ),
    "curves": FigureKind(
        "{experiment}/curves.png", "Loss and accuracy per epoch", "{experiment}", True
    ),
    "colour_examples": FigureKind(
        "{experiment}/colour_examples.png",
        "Grey input, predicted and true colours",
        "{experiment}",
        True,
    ),
    "misclassified": FigureKind(
        "{experiment}/misclassified_{variant}.png",
        "First misclassified images: {variant}",
        "{experiment}",
        True,
    ),
    "segmentation": FigureKind(
        "{dataset}/segmentation.png",
        "Every segmentation network and loss on the same val images ({dataset})",
        "Comparisons",
        True,
    ),
    "samples": FigureKind(
        "{dataset}/samples.png", "Training images of {dataset}", "Datasets", True
    ),
    "masks": FigureKind(
        "{dataset}/masks.png", "Masks of {dataset}'s training images", "Datasets", True
    ),
}
# The figures every experiment of a task has, before the kinds its `figures:` list adds.
TASK_FIGURES = {
    "classification": ["headline", "loss", "confusion"],
    "segmentation": ["headline", "loss", "per_class_iou"],
    "colorization": ["headline", "loss"],
}
FigureEntry = namedtuple("FigureEntry", "section title path caption wildcards folded")


def figure_output(kind):
    """A rule's output of a figure kind, marked for Snakemake's report."""
    fig = FIGURES[kind]
    return report(
        f"{RESULTS}/figures/{fig.path}",
        caption=f"../report/{kind}.rst",
        category=fig.section,
        labels={"figure": fig.title},
    )


def figure_entry(kind, **wildcards):
    """One figure of the report: section, title, path, caption file, wildcards, folded."""
    fig = FIGURES[kind]
    return FigureEntry(
        fig.section.format(**wildcards),
        fig.title.format(**wildcards),
        f"{RESULTS}/figures/{fig.path.format(**wildcards)}",
        f"{REPORT_DIR}/{kind}.rst",
        wildcards,
        fig.folded,
    )


def experiment_figures(name):
    """The figures of an experiment, in their order on the page."""
    kinds = TASK_FIGURES[EXPERIMENTS[name]["task"]] + EXPERIMENTS[name].get(
        "figures", []
    )
    entries = []
    for kind in kinds:
        variants = VARIANTS[name] if kind == "misclassified" else [None]
        entries += [
            figure_entry(kind, experiment=name, **({"variant": v} if v else {}))
            for v in variants
        ]
    return entries


def figure_entries():
    """Every figure of the report: the experiments' (config order), then the comparisons'
    and the datasets'."""
    entries = [entry for name in EXPERIMENTS for entry in experiment_figures(name)]
    entries += [
        figure_entry("segmentation", dataset=d) for d in datasets_in_use("segmentation")
    ]
    entries += [figure_entry("samples", dataset=d) for d in datasets_in_use()]
    entries += [
        figure_entry("masks", dataset=d) for d in datasets_in_use("segmentation")
    ]
    return entries


def with_figure(kind):
    """The experiments whose `figures:` list `kind`."""
    return [name for name, exp in EXPERIMENTS.items() if kind in exp.get("figures", [])]


def headline_metric(experiment):
    """The metric of an experiment's verdicts and headline figure."""
    return task_headline(EXPERIMENTS[experiment]["task"], eval_split(experiment))


def headline_references(experiment):
    """The write-up's headline number of each variant that has one (for the comparisons'
    reference difference)."""
    metric = headline_metric(experiment)
    references = EXPERIMENTS[experiment].get("reference", {})
    values = {v: reference_metrics(ref).get(metric) for v, ref in references.items()}
    return {v: value for v, value in values.items() if value is not None}


def verdict_settings(experiment):
    """What an experiment's verdicts need: headline metric, tolerance, references, labels."""
    exp = EXPERIMENTS[experiment]
    return {
        "metric": headline_metric(experiment),
        "tolerance": exp.get("tolerance", DEFAULT_TOLERANCE),
        "reference": exp.get("reference", {}),
        "labels": {v: var.get("label", v) for v, var in VARIANTS[experiment].items()},
    }


def segmentation_runs(dataset):
    """(experiment, variant) of every segmentation variant on `dataset`, in config order."""
    return [
        (name, variant)
        for name in experiments_of("segmentation")
        if EXPERIMENTS[name]["dataset"] == dataset
        for variant in VARIANTS[name]
    ]


def config_files():
    """The config files in the order they were applied (the Snakefile's, then the command
    line's), relative to the working directory when inside it."""
    given = [str(path) for path in workflow.config_settings.configfiles]
    ordered = [str(p) for p in workflow.configfiles if str(p) not in given] + given
    relative = [os.path.relpath(path) for path in ordered]
    return [r if not r.startswith("..") else p for r, p in zip(relative, ordered)]


def convergence_histories():
    """The histories of the experiments with a convergence table."""
    return [
        path
        for name, exp in EXPERIMENTS.items()
        if "convergence" in exp
        for path in run_files("train.json", name)
    ]


def dataset_splits():
    """(dataset, split) of every packed split in use: train and each evaluation split."""
    pairs = {
        (dataset_key(exp), split)
        for name, exp in EXPERIMENTS.items()
        for split in ("train", eval_split(name))
    }
    return sorted(pairs, key=lambda pair: (pair[0], pair[1] != "train", pair[1]))


def result_table(name):
    """An input function for results/tables/<name>.csv that stops the run, naming the file,
    when it is there but not a table this workflow wrote (so the old report is kept)."""

    def checked(wildcards):
        # Imported here: report.tables loads sklearn, which every job's parse would pay for.
        from visionrepro.report.tables import check_table

        return check_table(f"{RESULTS}/tables/{name}.csv")

    return checked


def earlier_table():
    """The per-seed table of the earlier run `compare_with` names (its tables/runs.csv, or
    the CSV itself); an error naming the key when there is none. Checked while parsing.
    """
    # Imported here: only a run with compare_with pays for pandas and sklearn at parse.
    from visionrepro.compare.inputs import table_path
    from visionrepro.errors import UserError

    try:
        return str(table_path(Path(config["compare_with"])))
    except UserError as err:
        raise ValueError(f"compare_with: {err}") from None


EARLIER = earlier_table() if config["compare_with"] else None


def changes_input(wildcards):
    """The changes table, an input of the report rules when compare_with is set."""
    return {"changes": f"{RESULTS}/tables/changes.csv"} if EARLIER else {}


def comparison_setting():
    """What the report rules need of compare_with: the earlier run's path and its label."""
    path = config["compare_with"]
    return shown({"path": path, "label": config["compare_label"] or path})


def run_end_lines():
    """The last lines of a finished run: where the report and RESULTS.md are, and the
    headline; or that this run's target makes no report."""
    folder = Path(RESULTS) / "report"
    page, headline = folder / "index.html", folder / "headline.txt"
    if not (page.exists() and headline.exists()):
        return [f"No report yet: `snakemake` without a target writes {page}."]
    lines = [
        f"Report: {page} (open it in a browser)",
        f"Results: {folder / 'RESULTS.md'}",
        f"Headline: {headline.read_text().strip()}",
    ]
    made = [
        Path(p).stat().st_mtime for p in run_files("metrics.json") if Path(p).exists()
    ]
    if max(made, default=0) > page.stat().st_mtime:
        lines.insert(
            0, "The report is older than the latest runs: `snakemake` updates it."
        )
    return lines


def building_report():
    """Whether this invocation builds Snakemake's report from the results as they are
    (`--report`, not `--report-after-run`)."""
    args = sys.argv[1:]
    asked = any(arg == "--report" or arg.startswith("--report=") for arg in args)
    return asked and "--report-after-run" not in args


def results_older_than_config():
    """What to say when the tables are older than a config file; '' when they are not."""
    glance = Path(RESULTS) / "tables" / "glance.csv"
    if not glance.exists():
        return ""
    made = glance.stat().st_mtime
    newer = [path for path in config_files() if Path(path).stat().st_mtime > made]
    if not newer:
        return ""
    return (
        f"The results ({glance}, made {time.strftime('%Y-%m-%d %H:%M', time.localtime(made))}) "
        f"are older than {', '.join(newer)}: this report shows what an earlier config made. "
        "Run `snakemake` with the same config files first to bring them up to date."
    )


# `snakemake --report` of stale results says so, in the terminal and atop the report
# (report/workflow.rst shows config["stale_results_note"]; no job runs in this mode).
STALE_NOTE = results_older_than_config() if building_report() else ""
if STALE_NOTE:
    logger.warning(STALE_NOTE)
    config["stale_results_note"] = rst_text(STALE_NOTE)  # shown as written
