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

from visionrepro.tables import METRICS

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


def summary_views(summary: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The summary per task (its rows by metric), with the difference to the reference."""
    view = summary.copy()
    view["mean − reference"] = view["mean"] - view["reference"]
    return {
        task.capitalize(): view[view["metric"].isin(metrics)]
        for task, metrics in METRICS.items()
        if view["metric"].isin(metrics).any()
    }


PER_CLASS_COLUMNS = {
    "Per-class precision and recall (classification)": ["precision", "recall", "f1", "support"],
    "Per-class IoU (segmentation)": ["iou", "pixels", "predicted"],
}


def per_class_views(per_class: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The per-class table split by task: each part with its own metric columns."""
    keys = ["experiment", "network", "class"]
    views = {}
    for title, columns in PER_CLASS_COLUMNS.items():
        present = [c for c in columns if c in per_class]
        if present:
            part = per_class[keys + present].dropna(subset=present, how="all")
            if len(part):
                views[title] = part
    return views


def rst_literals(text: str) -> Markup:
    """Escape text for HTML and show its ``literals`` (reStructuredText) as <code>."""
    return Markup(re.sub(r"``(.+?)``", r"<code>\1</code>", str(escape(text))))


def render(
    *,
    summary: pd.DataFrame,
    per_class: pd.DataFrame,
    runs: pd.DataFrame,
    datasets: pd.DataFrame,
    figures: Sequence[FigureEntry],
    config: Mapping[str, Any],
    notes: Sequence[str],
) -> str:
    """Render the report page."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    sections: dict[str, list[FigureEntry]] = {}
    for fig in figures:
        sections.setdefault(fig.section, []).append(fig)
    commits = sorted(set(runs["git_commit"])) if "git_commit" in runs else []
    return env.get_template("report.html.j2").render(
        summary={t: html_table(v) for t, v in summary_views(summary).items()},
        per_class={t: html_table(v, "{:.3f}") for t, v in per_class_views(per_class).items()},
        runs=html_table(runs),
        datasets=html_table(datasets),
        sections=sections,
        config=yaml.safe_dump(dict(config), sort_keys=False),
        commits=commits,
        notes=[rst_literals(note) for note in notes],
    )
