"""No reStructuredText from config in `snakemake --report` (issue 33, point 5).

docutils, which renders the report's captions and workflow description, breaks lines at U+2028
too: a `results_dir` of line separators, `.. include:: /etc/passwd` and `.. raw:: html` put the
file and a script into the report. Paths and names now refuse line and paragraph separators (and
paths a backtick, which would end the literal they are shown in), and every other text reaching
the RST is escaped (`rst_text`), so that it renders as written; a bare `javascript:` URI in it is
no link. Rendered here with docutils itself, as Snakemake renders them.
"""

from pathlib import Path

import pytest
import yaml
from docutils.core import publish_parts
from jsonschema import Draft202012Validator
from workflow_helpers import PROJECT, default_config

from visionrepro.report import html
from visionrepro.report.rst import LINE_SEPARATORS, rst_literal, rst_text

MARKER = '<div data-pwned="rst-raw"></div>'
SECRET = "the-secret-line"


def _payload(secret: Path, separator: str = "\u2028") -> str:
    """Text that, read as RST with `separator` as a line break, includes `secret` and raw HTML."""
    lines = ["r", "", f".. include:: {secret}", "", ".. raw:: html", "", f"   {MARKER}", ""]
    return separator.join(lines)


def _render(text: str) -> str:
    return publish_parts(text, writer="html")["body"]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n")
    return path


# The separators docutils breaks lines at (it turns \v and \f into spaces; \r needs a \n).
BREAKS = ["\n", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def test_every_break_is_a_line_separator() -> None:
    assert set(BREAKS) <= set(LINE_SEPARATORS)
    assert all(len(f"a{c}b".splitlines()) == 2 for c in LINE_SEPARATORS)


@pytest.mark.parametrize("separator", BREAKS)
def test_the_payload_would_run_unescaped_and_shows_as_text_escaped(
    secret: Path, separator: str
) -> None:
    """The control first (docutils does act on it as written), then the escaped text, in the
    place the workflow description shows a config note (a warning's body)."""
    payload = _payload(secret, separator)
    assert SECRET in _render(payload) and MARKER in _render(payload)
    for escaped in (rst_text(payload), rst_literal(payload)):
        page = _render(f"Heading\n\n.. warning::\n\n   {escaped}\n\nAfter.\n")
        assert SECRET not in page
        assert "data-pwned" not in page or MARKER not in page
        assert "include:: " in page  # shown as written
        assert "system-message" not in page


@pytest.mark.parametrize(
    "text",
    ["javascript:alert(1)", "see javascript:alert(document.domain) now", "`t <javascript:x>`_"],
)
def test_a_javascript_uri_is_no_link(text: str) -> None:
    assert 'href="javascript' in _render(text)  # the control: docutils links it as written
    for escaped in (rst_text(text), rst_literal(text)):
        page = _render(f"Text {escaped} end.")
        assert "href=" not in page
        assert "javascript:" in page


@pytest.mark.parametrize("text", ["a``b`` *c* _d |e| [1]_ \\f :raw:`x`", "C:\\data\\ x"])
def test_escaped_text_renders_as_written(text: str) -> None:
    page = _render(f"{rst_text(text)}")
    assert html.rst_html(rst_text(text)).count("<p>") == 1
    assert "<em>" not in page and "<tt" not in page and "<cite>" not in page
    for word in ("a``b``", "*c*", "|e|", ":raw:`x`"):
        if word in text:
            assert word in page


def _errors(config: dict) -> list[str]:
    schema = yaml.safe_load((PROJECT / "schemas" / "config.schema.yaml").read_text())
    errors = Draft202012Validator(schema).iter_errors(config)
    return sorted(".".join(map(str, e.path)) for e in errors)


def _config() -> dict:
    config = default_config()
    config["demo"] = {"mirror_dir": "m"}
    assert not _errors(config)
    return config


@pytest.mark.parametrize("key", ["results_dir", "data_dir"])
@pytest.mark.parametrize(
    "value", ["r\u2028\u2028.. include:: /etc/passwd", "r\u2029x", "r\x85x", "r\n", "r``x"]
)
def test_a_path_with_a_line_separator_or_backtick_is_refused(key: str, value: str) -> None:
    config = _config()
    config[key] = value
    assert _errors(config) == [key]


@pytest.mark.parametrize("name", ["coco\u2028x", "coco\n", "coco_gray ", "coco_gray."])
def test_an_experiment_name_with_a_separator_or_a_trailing_space_or_dot_is_refused(
    name: str,
) -> None:
    config = _config()
    config["experiments"][name] = config["experiments"].pop(next(iter(config["experiments"])))
    assert _errors(config) == ["experiments"]


def test_the_glance_caption_shows_the_results_dir_as_written() -> None:
    caption = html.caption(
        PROJECT / "report" / "glance_page.rst", {"results_dir": "my results"}, {}
    )
    assert "my results/report/index.html" in caption
