"""RESULTS.md: the at-a-glance table as GitHub-renderable Markdown, one section per experiment,
with what its seeds vary and each experiment's device, training time, code and data versions and
date; the header names every run's data, CPU and package versions."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from visionrepro.report import coverage, verdicts
from visionrepro.report.views import changes, changes_summary, duration, provenance_summary

# A mark per verdict kind (verdicts.VERDICT_COLOURS), so the column reads at a glance.
VERDICT_MARKS = {
    "consistent": "✅",
    "inconclusive": "🟡",
    "inconsistent": "❌",
    "no estimate": "❔",
    "not comparable": "⚪",
    "no reference": "–",
}
# Text from the config (labels, descriptions, metric names) and from a compared table (variant
# names) as plain Markdown text: a `|` cannot end a table cell, HTML is shown as written, no
# link or image (`[t](url)`, `![t](url)`) is made, and it stays on one line.
_PLAIN = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "[": "\\[",
        "]": "\\]",
        "$": "\\$",  # no math (GitHub renders $...$)
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "\n": " ",
        "\r": " ",
    }
)


def plain_text(text: str) -> str:
    """Text shown as written in a Markdown table cell or paragraph."""
    return text.translate(_PLAIN)


def plain_line(text: str) -> str:
    """`text` on one line (line breaks as spaces), for a code span."""
    return " ".join(text.splitlines())


# A link to a script scheme: `](javascript:...)` (also data: and vbscript:), and a link
# reference definition `[name]: javascript:...`.
_SCHEME = r"(?:javascript|vbscript|data)\s*:"
_SCRIPT_LINK = re.compile(rf"\]\(\s*<?\s*({_SCHEME})", re.IGNORECASE)
_SCRIPT_REFERENCE = re.compile(rf"^(\s{{0,3}})\[([^\]\n]*)\]:(?=\s*<?\s*{_SCHEME})", re.I | re.M)


def markdown_note(note: str) -> str:
    """The results note: Markdown as written (its emphasis, links, lists), but raw HTML is
    shown as text, not rendered, and a link to a javascript:, vbscript: or data: URI is not
    made (its brackets are escaped)."""
    note = _SCRIPT_LINK.sub(r"]\\(\1", note.replace("<", "&lt;"))
    return _SCRIPT_REFERENCE.sub(r"\1\\[\2\\]:", note)


def code_span(text: str) -> str:
    """`text` as a Markdown code span, fenced by more backticks than it holds in a row."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"{fence}{text}{fence}"


def _marked(view: pd.DataFrame, glance: pd.DataFrame) -> pd.DataFrame:
    """The view with a mark before each verdict, so the column reads at a glance."""
    marks = [VERDICT_MARKS[kind] for kind in glance["kind"]]
    return view.assign(verdict=[f"{m} {v}" for m, v in zip(marks, view["verdict"], strict=True)])


def run_line(runs: pd.DataFrame) -> str:
    """Where an experiment's numbers came from, built from its runs: every device, code and
    data version among them (a row pooled from several is flagged in the table), the training
    time summed over runs, and the dates."""
    summary = provenance_summary(runs)
    dates = sorted(str(d)[:10] for d in runs["created"])
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    return (
        f"Device: {summary['devices']}; training time {duration(runs['train_seconds'].sum())} "
        f"over {len(runs)} runs; code {summary['code']}; data {summary['data']}; trained {when}."
    )


def experiment_markdown(
    name: str,
    glance: pd.DataFrame,
    description: str = "",
    seeds: str = "",
    runs: pd.DataFrame | None = None,
) -> str:
    """One experiment's section: its rows of the at-a-glance table, what its seeds vary and
    where the rows came from (its `runs`)."""
    view = verdicts.glance_view(glance).drop(columns="experiment").map(plain_text)
    view = _marked(view, glance)
    lines = [f"## {plain_text(name)}", ""]
    if description:
        lines += [plain_text(description.strip()), ""]
    lines += [view.to_markdown(index=False, disable_numparse=True), ""]
    if seeds:
        lines += [seeds, ""]
    if runs is not None and len(runs):
        lines += [run_line(runs), ""]
    return "\n".join(lines)


VERDICT_HEADING = "How a verdict is reached"  # docs/configuration.md links to its anchor
EXPLANATION = (
    "Ours: mean ± std over the seeds (the mean alone for one seed); the 95 % prediction "
    "interval (PI) of one new run of our recipe, mean ± t · s · √(1 + 1/n), clipped to the "
    "metric's range; the 95 % confidence interval of the mean; the evaluation set's size with "
    "the binomial standard error of one run's accuracy on it. No interval for fewer than 3 "
    "seeds or seeds without spread. " + verdicts.verdict_rules()
)


def changes_markdown(table: pd.DataFrame, label: str) -> list[str]:
    """The "Changes since <label>" section: the count of readings, then the rows that moved."""
    lines = [f"## Changes since {plain_text(label)}", "", f"**{changes_summary(table)}.**", ""]
    moved = changes(table).frame
    if len(moved):
        cells = moved.map(lambda cell: plain_text(str(cell)))
        lines += [cells.to_markdown(index=False, disable_numparse=True), ""]
    lines += [
        "Every row, with raw p and the settings behind each reading: `tables/changes.csv` "
        "(`python -m visionrepro.compare`, docs/running.md).",
        "",
    ]
    return lines


def provenance_lines(runs: pd.DataFrame) -> list[str]:
    """Every run's data, CPU and package versions, as Markdown list items."""
    summary = provenance_summary(runs)
    return [
        f"- Code: {summary['code']}",
        f"- Data: {summary['data']}",
        f"- Devices: {summary['devices']}; CPU: {summary['cpu']}",
        f"- Versions: {summary['versions']}",
        f"- Training: {summary['training']}",
    ]


def results_markdown(
    glance: pd.DataFrame,
    *,
    experiments: Mapping[str, Mapping[str, Any]],
    configfiles: Sequence[str],
    note: str = "",
    runs: pd.DataFrame | None = None,
    changes_table: pd.DataFrame | None = None,
    compare_label: str = "",
) -> str:
    """The whole RESULTS.md: a synthetic-data warning where it applies, the verdict count, how
    it was made and with what (`runs`: the runs table), what changed since an earlier run
    (`changes_table`, compare.changes'), then one section per experiment in the table's order,
    with its description and seed note from its spec (`experiments`, plan.Experiment.spec)."""
    lines = ["# Results", ""]
    if verdicts.synthetic(glance):
        lines += [f"> **Synthetic data.** {verdicts.synthetic_note(glance)}", ""]
    lines += [f"**{verdicts.headline(glance)}.**", ""]
    lines += coverage.markdown(glance, experiments, runs)
    lines += ["Config files: " + ", ".join(code_span(plain_line(f)) for f in configfiles) + ".", ""]
    if runs is not None and len(runs):
        lines += [*provenance_lines(runs), ""]
    if note:
        lines += [markdown_note(note.strip()), ""]
    lines += [f"## {VERDICT_HEADING}", "", EXPLANATION, ""]
    if changes_table is not None:
        lines += changes_markdown(changes_table, compare_label)
    for name, rows in glance.groupby("experiment", sort=False):
        lines.append(
            experiment_markdown(
                str(name),
                rows,
                experiments.get(str(name), {}).get("description", ""),
                experiments.get(str(name), {}).get("seed_note", ""),
                None if runs is None else runs[runs["experiment"] == name],
            )
        )
    return "\n".join(lines).rstrip() + "\n"
