"""The self-contained HTML report: tables, figures (embedded), config and provenance."""

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import yaml
from markupsafe import Markup, escape

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class FigureEntry:
    """A figure of the report, with the section it belongs to."""

    section: str
    title: str
    path: str
    caption: str

    def data_uri(self) -> str:
        """The PNG as a data: URI, so the page needs no other file."""
        return "data:image/png;base64," + base64.b64encode(Path(self.path).read_bytes()).decode()


def html_table(frame: pd.DataFrame, float_format: str = "{:.2f}") -> str:
    """A DataFrame as an HTML table (NaN shown as a dash)."""
    return frame.to_html(
        index=False, na_rep="–", border=0, classes="table", float_format=float_format.format
    )


def _number(value: Any, fmt: str = "{:.2f}") -> str:
    """A number formatted for a table cell; a dash if missing."""
    return "–" if pd.isna(value) else fmt.format(value)


def summary_view(summary: pd.DataFrame) -> pd.DataFrame:
    """An experiment's summary rows as shown: ours (mean ± std over seeds, the mean alone for
    one seed), min and max when a variant has several seeds, the reference and the difference."""
    several = bool((summary["n_seeds"] > 1).any())
    rows = []
    for row in summary.itertuples():
        spread = row.n_seeds > 1
        rows.append(
            {
                "variant": row.variant,
                "network": row.network,
                "params": _number(row.params, "{:,.0f}"),
                "reference params": _number(row.reference_params, "{:,.0f}"),
                "metric": row.metric,
                "seeds": row.n_seeds,
                "ours": f"{row.mean:.2f} ± {row.std:.2f}" if spread else f"{row.mean:.2f}",
                **(
                    {
                        "min": _number(row.min if spread else None),
                        "max": _number(row.max if spread else None),
                    }
                    if several
                    else {}
                ),
                "reference": _number(row.reference),
                "ours − reference": _number(row.mean - row.reference, "{:+.2f}"),
            }
        )
    return pd.DataFrame(rows)


def convergence_view(convergence: pd.DataFrame) -> pd.DataFrame:
    """An experiment's convergence rows as shown: per variant and seed, the first epoch reaching
    the threshold, or "not within N epochs"."""
    return pd.DataFrame(
        {
            "variant": convergence["variant"],
            "seed": convergence["seed"],
            "threshold": [
                f"{m} ≥ {t:g}"
                for m, t in zip(convergence["metric"], convergence["threshold"], strict=True)
            ],
            "first epoch reaching it": [
                f"{e:.0f} of {n}" if reached else f"not within {n} epochs"
                for reached, e, n in zip(
                    convergence["reached"], convergence["epoch"], convergence["epochs"], strict=True
                )
            ],
        }
    )


PER_CLASS_COLUMNS = {
    "Per-class precision and recall (classification)": ["precision", "recall", "f1", "support"],
    "Per-class IoU (segmentation)": ["iou", "pixels", "predicted"],
}


def per_class_views(per_class: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """An experiment's per-class table by task: each part with its own metric columns."""
    keys = ["variant", "class"]
    views = {}
    for title, columns in PER_CLASS_COLUMNS.items():
        present = [c for c in columns if c in per_class]
        if present:
            part = per_class[keys + present].dropna(subset=present, how="all")
            if len(part):
                views[title] = part
    return views


@dataclass(frozen=True)
class ExperimentSection:
    """An experiment's part of the report: its description, tables (HTML) and figures."""

    name: str
    description: str
    summary: str
    convergence: str | None
    per_class: dict[str, str]
    figures: list[FigureEntry]


def experiment_sections(
    experiments: Mapping[str, Mapping[str, Any]],
    summary: pd.DataFrame,
    convergence: pd.DataFrame,
    per_class: pd.DataFrame,
    figures: Sequence[FigureEntry],
) -> list[ExperimentSection]:
    """One section per experiment (config order) with rows in the summary."""
    sections = []
    for name, exp in experiments.items():
        rows = summary[summary["experiment"] == name]
        if rows.empty:
            continue
        converged = convergence[convergence["experiment"] == name]
        sections.append(
            ExperimentSection(
                name=name,
                description=exp.get("description", ""),
                summary=html_table(summary_view(rows)),
                convergence=None if converged.empty else html_table(convergence_view(converged)),
                per_class={
                    title: html_table(view, "{:.3f}")
                    for title, view in per_class_views(
                        per_class[per_class["experiment"] == name]
                    ).items()
                },
                figures=[fig for fig in figures if fig.section == name],
            )
        )
    return sections


def rst_literals(text: str) -> Markup:
    """Escape text for HTML and show its ``literals`` (reStructuredText) as <code>."""
    return Markup(re.sub(r"``(.+?)``", r"<code>\1</code>", str(escape(text))))


def render(
    *,
    summary: pd.DataFrame,
    convergence: pd.DataFrame,
    per_class: pd.DataFrame,
    runs: pd.DataFrame,
    datasets: pd.DataFrame,
    figures: Sequence[FigureEntry],
    config: Mapping[str, Any],
    notes: Sequence[str],
) -> str:
    """Render the report page: a section per experiment, then the figures of other sections
    (summary, datasets), the notes, datasets, runs and the config."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    experiments = {
        name: exp for name, exp in config["experiments"].items() if exp.get("enabled", True)
    }
    others: dict[str, list[FigureEntry]] = {}
    for fig in figures:
        if fig.section not in experiments:
            others.setdefault(fig.section, []).append(fig)
    commits = sorted(set(runs["git_commit"])) if "git_commit" in runs else []
    return env.get_template("report.html.j2").render(
        experiments=experiment_sections(experiments, summary, convergence, per_class, figures),
        sections=others,
        runs=html_table(runs),
        datasets=html_table(datasets),
        config=yaml.safe_dump(dict(config), sort_keys=False),
        commits=commits,
        notes=[rst_literals(note) for note in notes],
    )
