"""No link or image from config or a compared table in RESULTS.md (issue 33, point 6).

GitHub renders RESULTS.md: a label, a description, `compare_label` or a variant name inside a
`compare_with` CSV holding `[click me](javascript:...)` became a live link, `![t](http://...)` a
remote image. Each now reads as the text written. The results note stays Markdown, but a link to
a javascript:, data: or vbscript: URI is not made.
"""

import json
import re
from pathlib import Path

import pandas as pd

from visionrepro.compare.changes import compare
from visionrepro.compare.inputs import read_side
from visionrepro.report.results_markdown import experiment_markdown, results_markdown
from visionrepro.report.verdicts import glance_table

LINK = "[click me](javascript:alert(1))"
IMAGE = "![t](http://127.0.0.1:9/track.png)"
# A Markdown link or image: `[` and `](` not escaped by a backslash.
LIVE = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")


def _glance(label: str) -> pd.DataFrame:
    """The at-a-glance rows of one experiment whose variant `a` has `label`."""
    runs = pd.DataFrame(
        {
            "experiment": ["e", "e"],
            "variant": ["a", "b"],
            "seed": [0, 0],
            "test_accuracy": [50.0, 60.0],
            "chance": [False, False],
            "device_name": ["cpu", "cpu"],
            "train_seconds": [1.0, 1.0],
            "code_version": ["v", "v"],
            "created": ["2026-01-01T00:00:00", "2026-01-01T00:00:00"],
        }
    )
    return glance_table(runs, {"e": {"metric": "test_accuracy", "labels": {"a": label}}})


def _changes(variant: str, tmp_path: Path) -> pd.DataFrame:
    """A comparison whose after side has a new variant named `variant` (a table written by
    hand: `compare` itself refuses a row whose variant is not a name)."""
    rows = [
        {
            "experiment": "e",
            "variant": "a",
            "seed": s,
            "test_accuracy": 60.0 + s,
            "code_version": "git abc",
            "settings": json.dumps({"lr": 0.1}),
        }
        for s in range(3)
    ]
    path = tmp_path / "runs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    before = read_side(path)
    after = pd.concat([before, before.assign(variant=variant)], ignore_index=True)
    return compare(before, after, ("before", "after"))


def test_a_label_and_description_make_no_link_or_image() -> None:
    section = experiment_markdown("e", _glance(f"{LINK} {IMAGE}"), description=f"{IMAGE} {LINK}")
    assert not LIVE.search(section), section
    assert "\\[click me\\](javascript:alert(1))" in section
    assert "!\\[t\\](http://127.0.0.1:9/track.png)" in section


def test_compare_label_and_a_compared_variant_name_make_no_link(tmp_path: Path) -> None:
    page = results_markdown(
        _glance("a"),
        experiments={},
        configfiles=["c.yaml"],
        changes_table=_changes(IMAGE + LINK, tmp_path),
        compare_label=LINK,
    )
    assert "## Changes since \\[click me\\](javascript:alert(1))" in page
    assert "\\[t\\](http://127.0.0.1:9/track.png)\\[click me\\]" in page  # the new variant's row
    assert not LIVE.search(page), page


def test_the_note_keeps_its_links_but_not_script_ones() -> None:
    note = f"See [the docs](https://example.org/x). {LINK}\n[ref]: javascript:alert(2)\n"
    page = results_markdown(_glance("a"), experiments={}, configfiles=["c`x.yaml"], note=note)
    assert "[the docs](https://example.org/x)" in page
    assert "[click me]\\(javascript:alert(1))" in page
    assert "\\[ref\\]: javascript:alert(2)" in page
    assert "`` c`x.yaml ``" in page  # a backtick in a config file's name cannot end its code span
