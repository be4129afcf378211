"""RESULTS.md: the at-a-glance table as GitHub-renderable Markdown, one section per experiment,
with each experiment's device, training time, code version and date."""

from collections.abc import Mapping, Sequence

import pandas as pd

from visionrepro.report import verdicts
from visionrepro.report.views import duration

VERDICT_MARKS = {"reproduced": "✅", "above": "⬆️", "below": "❌", "no reference": "–"}
# Text from the config (labels, descriptions, metric names) as plain Markdown text: a `|`
# cannot end a table cell, HTML is shown as written, and it stays on one line.
_PLAIN = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
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


def markdown_note(note: str) -> str:
    """The results note: Markdown as written (its emphasis, links, lists), but raw HTML is
    shown as text, not rendered."""
    return note.replace("<", "&lt;")


def _marked(view: pd.DataFrame, glance: pd.DataFrame) -> pd.DataFrame:
    """The view with a mark before each verdict, so the column reads at a glance."""
    marks = [VERDICT_MARKS[v] for v in glance["verdict"]]
    return view.assign(verdict=[f"{m} {v}" for m, v in zip(marks, view["verdict"], strict=True)])


def experiment_markdown(name: str, glance: pd.DataFrame, description: str = "") -> str:
    """One experiment's section: its rows of the at-a-glance table and where they came from."""
    view = verdicts.glance_view(glance).drop(columns="experiment").map(plain_text)
    view = _marked(view, glance)
    first = glance.iloc[0]
    lines = [f"## {plain_text(name)}", ""]
    if description:
        lines += [plain_text(description.strip()), ""]
    lines += [view.to_markdown(index=False, disable_numparse=True), ""]
    lines += [
        f"Device: {first['device']}; training time {duration(glance['train_seconds'].sum())} "
        f"(all runs); code {first['code_version']}; trained {first['created'][:10]}.",
        "",
    ]
    return "\n".join(lines)


def results_markdown(
    glance: pd.DataFrame,
    *,
    descriptions: Mapping[str, str],
    configfiles: Sequence[str],
    note: str = "",
) -> str:
    """The whole RESULTS.md: the verdict count, how it was made, then one section per
    experiment in the table's order."""
    lines = ["# Results", "", f"**{verdicts.headline(glance)}.**", ""]
    lines += [
        "Ours: mean ± std over the seeds (the mean alone for one seed), the seeds' range and a "
        "95 % Student t interval of the mean; a reference is *reproduced* when it lies within "
        "the tolerance of our mean or within our seeds' range. Config files: "
        + ", ".join(f"`{f}`" for f in configfiles)
        + ".",
        "",
    ]
    if note:
        lines += [markdown_note(note.strip()), ""]
    for name, rows in glance.groupby("experiment", sort=False):
        lines.append(experiment_markdown(str(name), rows, descriptions.get(str(name), "")))
    return "\n".join(lines).rstrip() + "\n"
