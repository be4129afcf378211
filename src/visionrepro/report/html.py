"""The self-contained HTML report: reproduction at a glance, a section per experiment, the
comparisons, datasets, provenance and config; figures embedded, captions shared with
Snakemake's report."""

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pandas as pd
import yaml
from docutils.core import publish_parts
from markupsafe import Markup, escape

from visionrepro.report import coverage, views
from visionrepro.report.verdicts import (
    CHANCE_MARGIN,
    VERDICT_COLORS,
    headline,
    synthetic_note,
    verdict_rules,
)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class FigureEntry:
    """A figure of the report: its section, title, PNG, caption (HTML) and whether it is
    folded into a <details>."""

    section: str
    title: str
    path: str
    caption: Markup
    folded: bool = False
    repeat_of: str = ""  # the section that showed this caption in full first ("": this one)

    def data_uri(self) -> str:
        """The PNG as a data: URI, so the page needs no other file."""
        return "data:image/png;base64," + base64.b64encode(Path(self.path).read_bytes()).decode()


def captions_once(figures: Sequence[FigureEntry]) -> list[FigureEntry]:
    """The figures with each caption in full at its first appearance only: a later figure
    with the same title and caption (the same kind under another experiment) names the
    section that showed it (the page folds it there)."""
    first: dict[tuple[str, str], str] = {}
    marked = []
    for fig in figures:
        section = first.setdefault((fig.title, str(fig.caption)), fig.section)
        marked.append(replace(fig, repeat_of="" if section == fig.section else section))
    return marked


def rst_html(text: str) -> Markup:
    """reStructuredText as an HTML fragment (docutils, as Snakemake's report renders it)."""
    return Markup(publish_parts(text, writer="html")["body"])


def render_rst_template(
    text: str, config: Mapping[str, Any], wildcards: Mapping[str, str] | None = None
) -> str:
    """A caption or description template rendered as Snakemake's report renders it: Jinja2
    with `snakemake.config` and `snakemake.wildcards`."""
    snakemake = SimpleNamespace(config=config, wildcards=SimpleNamespace(**(wildcards or {})))
    return (
        jinja2.Environment(undefined=jinja2.StrictUndefined)
        .from_string(text)
        .render(snakemake=snakemake)
    )


def caption(path: str | Path, config: Mapping[str, Any], wildcards: Mapping[str, str]) -> Markup:
    """A figure's caption file (report/<kind>.rst) as HTML."""
    return rst_html(render_rst_template(Path(path).read_text(), config, wildcards))


def notes(path: str | Path, config: Mapping[str, Any]) -> Markup:
    """The bullet list of the workflow description (how the pipeline differs from the
    references), rendered for `config`."""
    text = render_rst_template(Path(path).read_text(), config)
    items = [line for line in text.splitlines() if line.startswith("- ")]
    return rst_html("\n".join(items))


def html_table(view: views.View, caption_text: str | None = None) -> Markup:
    """A view as an HTML table: numbers right-aligned, text left, no cell wrapping, verdicts
    coloured (inline styles, so the fragment looks the same inside Snakemake's report)."""

    def align(column: str) -> str:
        kind = "num" if column in view.numeric else "text"
        side = "right" if kind == "num" else "left"
        # Long cells (a verdict with its note) wrap, so that the table keeps to the page's width.
        wrap = "nowrap"
        if column in view.wrap:
            wide = column in ("verdict", "reading")
            wrap = "normal;min-width:" + ("16em" if wide else "7.5em")
        return f'class="{kind}" style="text-align:{side};white-space:{wrap}'

    head = "".join(
        f'<th {align(c)};white-space:normal">{escape(c)}</th>' for c in view.frame.columns
    )
    body = []
    for index, row in enumerate(view.frame.itertuples(index=False)):
        cells = []
        for column, value in zip(view.frame.columns, row, strict=True):
            style = ""
            if column == "verdict" and view.verdicts:
                color = VERDICT_COLORS[view.verdicts[index]]
                style = f";background:{color};color:#fff;font-weight:600"
            cells.append(f'<td {align(column)}{style}">{escape(value)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    title = f"<caption>{escape(caption_text)}</caption>" if caption_text else ""
    return Markup(
        '<div class="scroll" style="overflow-x:auto;max-width:100%">'
        f'<table class="table">{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def glance_fragment(glance: pd.DataFrame, with_banner: bool = True) -> Markup:
    """The at-a-glance headline and table, self-styled: the same fragment opens the HTML page
    and Snakemake's report (with the synthetic-data banner, which the page shows at its top)."""
    text = Markup('<p class="headline" style="font-size:1.15em;font-weight:600">{}.</p>')
    top = banner(glance) if with_banner else Markup("")
    return top + text.format(headline(glance)) + html_table(views.glance(glance))


def banner(glance: pd.DataFrame) -> Markup:
    """A warning above the verdicts when the runs trained on synthetic data; else nothing."""
    note = synthetic_note(glance)
    if not note:
        return Markup("")
    return Markup(
        '<p class="banner" role="note" style="background:#fff4e5;border-left:6px solid '
        '#a86400;padding:0.5em 0.8em;font-weight:600">{}</p>'
    ).format(note)


def verdict_rules_html() -> Markup:
    """The verdicts' rules (verdicts.verdict_rules) with each verdict's words emphasised."""
    return Markup(verdict_rules(lambda words: str(Markup("<em>{}</em>").format(words))))


def glance_page(glance: pd.DataFrame) -> Markup:
    """The at-a-glance fragment as a page of its own: Snakemake's report shows it full width
    (its landing page puts the workflow description in a narrow column beside the rule graph,
    where the table would hide its last columns behind a scrollbar)."""
    page = Markup(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Reproduction at a glance</title><style>body{{font-family:sans-serif;"
        "font-size:13px;margin:1em}}td,th{{padding:2px 6px}}</style></head>"
        "<body><h1>Reproduction at a glance</h1>{}<p>{}</p></body></html>\n"
    )
    return page.format(glance_fragment(glance), verdict_rules_html())


def changes_fragment(changes: pd.DataFrame) -> Markup:
    """The count of what changed since an earlier run, and the rows that changed."""
    summary = Markup('<p class="headline" style="font-weight:600">{}.</p>').format(
        views.changes_summary(changes)
    )
    moved = views.changes(changes)
    return summary + (html_table(moved) if len(moved.frame) else Markup(""))


@dataclass(frozen=True)
class Tables:
    """The aggregate rule's tables, and the datasets table."""

    glance: pd.DataFrame
    comparisons: pd.DataFrame
    summary: pd.DataFrame
    convergence: pd.DataFrame
    per_class: pd.DataFrame
    runs: pd.DataFrame
    datasets: pd.DataFrame


@dataclass(frozen=True)
class ExperimentSection:
    """An experiment's part of the page."""

    name: str
    description: str
    task: str
    metrics: Markup
    convergence: Markup | None
    per_class: Markup | None
    compared: bool
    figures: list[FigureEntry]
    seeds: str


def experiment_section(
    name: str, spec: Mapping[str, Any], tables: Tables, figures: Sequence[FigureEntry]
) -> ExperimentSection:
    """One experiment's section (`spec`: plan.Experiment.spec): its verdicts, metrics, tables
    and figures."""

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["experiment"] == name]

    runs = rows(tables.runs)
    chance = runs[runs["chance"]].groupby("variant").size().to_dict()
    glance = rows(tables.glance)
    labels = dict(zip(glance["variant"], glance["label"], strict=True))
    per_class = views.per_class(rows(tables.per_class))
    converged, compared = rows(tables.convergence), rows(tables.comparisons)
    return ExperimentSection(
        name=name,
        description=spec["description"],
        task=spec["task"],
        metrics=html_table(views.experiment_metrics(rows(tables.summary), labels, chance)),
        convergence=html_table(views.convergence(converged)) if len(converged) else None,
        per_class=html_table(per_class) if per_class else None,
        compared=bool(len(compared)),
        figures=[fig for fig in figures if fig.section == name],
        seeds=spec["seed_note"],
    )


def header(tables: Tables, config: Mapping[str, Any], configfiles: Sequence[str]) -> dict:
    """The page header's provenance: date, config files and hash, code, versions, devices,
    total training time."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "configfiles": ", ".join(configfiles) or "(none)",
        "config_hash": views.config_hash(settings_of(config)),
        **views.provenance_summary(tables.runs),
    }


# Keys the workflow adds to the config for its reports (workflow.rst), not settings.
DERIVED_KEYS = ("differences", "stale_results_note")


def settings_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as the user set it (without what the workflow adds for its reports)."""
    return {k: v for k, v in config.items() if k not in DERIVED_KEYS}


def enabled_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The effective config with the enabled experiments only."""
    experiments = {
        name: exp for name, exp in config["experiments"].items() if exp.get("enabled", True)
    }
    return {**settings_of(config), "experiments": experiments}


def render(
    *,
    tables: Tables,
    figures: Sequence[FigureEntry],
    config: Mapping[str, Any],
    configfiles: Sequence[str],
    experiments: Mapping[str, Mapping[str, Any]],
    notes_html: Markup,
    changes: pd.DataFrame | None = None,
    compare_label: str = "",
) -> str:
    """The report page of the experiments' specs (plan.Experiment.spec); with `changes`
    (compare.changes' table), a section on what changed since the earlier run
    `compare_label` names."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    figures = captions_once(figures)
    sections = [
        experiment_section(name, spec, tables, figures)
        for name, spec in experiments.items()
        if (tables.glance["experiment"] == name).any()
    ]
    metrics = dict(zip(tables.glance["experiment"], tables.glance["metric"], strict=False))
    short, long = views.runs(tables.runs, metrics)
    settings = {
        name: views.variant_settings(spec["variants"]) for name, spec in experiments.items()
    }
    return env.get_template("report.html.j2").render(
        header=header(tables, config, configfiles),
        banner=banner(tables.glance),
        changes=None if changes is None else changes_fragment(changes),
        compare_label=compare_label,
        glance=glance_fragment(tables.glance, with_banner=False)
        + coverage.html(tables.glance, experiments, tables.runs),
        chance=int(tables.runs["chance"].sum()),
        chance_margin=CHANCE_MARGIN,
        verdict_rules=verdict_rules_html(),
        n_runs=len(tables.runs),
        experiments=sections,
        comparisons=(
            html_table(views.comparisons(tables.comparisons)) if len(tables.comparisons) else None
        ),
        comparison_figures=[fig for fig in figures if fig.section == "Comparisons"],
        datasets=html_table(views.datasets(tables.datasets)),
        dataset_figures=[fig for fig in figures if fig.section == "Datasets"],
        runs=html_table(short),
        runs_long=html_table(long),
        settings={
            name: (html_table(view), len(view.frame.columns), shared)
            for name, (view, shared) in settings.items()
        },
        variants={name: list(spec["variants"]) for name, spec in experiments.items()},
        config=yaml.safe_dump(enabled_config(config), sort_keys=False),
        notes=notes_html,
    )
