# Helpers of the report rules: specs, figures, config files, compare_with, stale results.
from snakemake.logging import logger

from visionrepro.report import landing
from visionrepro.report.rst import rst_text
from visionrepro.report.shown_params import shown


def specs():
    """Each experiment's spec (what the report rules need of it), made inert."""
    return shown({name: exp.spec() for name, exp in PLAN.experiments.items()})


def figure_inputs(kind):
    """An input function: the files a figure of `kind` is drawn from (plan/figures.py)."""
    return lambda w: plots.figure_inputs(PLAN, kind, w)


def figure_params(kind):
    """A params function: what a figure of `kind` needs of its experiment, shown inert."""
    return lambda w: shown(plots.figure_params(PLAN, kind, w))


def caption(kind):
    """The caption file of a figure kind, for both reports."""
    return f"{REPORT_DIR}/{kind}.rst"


def config_files(wildcards=None):
    """The config files as applied (a params function: no {wildcard} read in the paths)."""
    return landing.applied_order(
        workflow.configfiles, workflow.config_settings.configfiles
    )


def result_table(name):
    """An input function for results/tables/<name>.csv that stops the run, naming the file,
    when it is there but not a table this workflow wrote (so the old report is kept)."""

    def checked(wildcards):
        # Imported here: report.tables loads sklearn, which every job's parse would pay for.
        from visionrepro.report.tables import check_table

        return check_table(LAYOUT.table(name))

    return checked


def earlier_table():
    """The per-seed table of the earlier run `compare_with` names; an error naming the key
    when there is none. Checked while parsing."""
    # Imported here: only a run with compare_with pays for pandas at parse.
    from visionrepro.compare.inputs import table_path
    from visionrepro.errors import UserError

    try:
        return str(table_path(Path(config["compare_with"])))
    except UserError as err:
        raise ValueError(f"compare_with: {err}") from None


EARLIER = earlier_table() if config["compare_with"] else None


def earlier_input(wildcards):
    """The earlier run's table (a function: no {wildcard} read in its path)."""
    return EARLIER


def results_note(wildcards):
    """The config's results_note (a function: no {wildcard} read in the text)."""
    return config["results_note"]


def changes_input(wildcards):
    """The changes table, an input of the report rules when compare_with is set."""
    return {"changes": LAYOUT.table("changes")} if EARLIER else {}


def comparison_setting():
    """What the report rules need of compare_with: the earlier run's path and its label."""
    path = config["compare_with"]
    return shown({"path": path, "label": config["compare_label"] or path})


def run_end_lines():
    """The last lines of a finished run (the Snakefile's onsuccess)."""
    return landing.end_lines(Path(RESULTS) / "report", PLAN.run_files("metrics.json"))


def stale_results_note(wildcards):
    """No input. Building the DAG with no execution settings (`--report`, not a run nor
    `--report-after-run`): say, here and atop the report, that the tables predate the config.
    """
    if workflow.execution_settings is None and "stale_results_note" not in config:
        note = landing.stale_note(Path(LAYOUT.table("glance")), config_files())
        config["stale_results_note"] = rst_text(note)  # shown as written
        if note:
            logger.warning(note)
    return []
