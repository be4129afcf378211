"""Text from the config (paths, names, notes) as reStructuredText that shows it as written.

Snakemake's report renders each caption and the workflow description (report/*.rst, Jinja2
templates fed `snakemake.config`) with docutils: a value holding a line break (docutils also
breaks lines at U+2028, U+2029, U+0085, \\v, \\f and \\x1c-\\x1e, as `str.splitlines`) could start
a directive (`.. include:: /etc/passwd`, `.. raw:: html`), and a bare `javascript:...` becomes a
live link. `rst_text` puts a value on one line and backslash-escapes every ASCII punctuation
mark, so no markup, role, reference or URI is recognised in it; `rst_literal` shows it as code.
"""

import string

# The characters str.splitlines (and so docutils) breaks lines at.
LINE_SEPARATORS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_ONE_LINE = str.maketrans(dict.fromkeys(LINE_SEPARATORS, " "))
_ESCAPED = str.maketrans({mark: "\\" + mark for mark in string.punctuation})


def one_line(text: str) -> str:
    """`text` with every line or paragraph separator as a space."""
    return str(text).translate(_ONE_LINE)


def rst_text(value: object) -> str:
    """`value` as reStructuredText inline text that renders as written (see the module)."""
    return one_line(str(value)).translate(_ESCAPED)


def rst_literal(value: object) -> str:
    """`value` as an inline literal (code) that renders as written, backticks included: the
    `:literal:` role, whose content honours backslash escapes (a ``...`` literal does not)."""
    text = one_line(str(value)).strip()
    return f":literal:`{text.translate(_ESCAPED)}`" if text else ""
