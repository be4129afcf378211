"""Params of report rules as Snakemake's report shows them, made safe to show.

`snakemake --report` writes each report file's job params, as `str(value)`, into a JSON object
inside a <script> block, unescaped: a label holding `</script><img onerror=...>` would end the
block and run. The params of the report rules that carry text from the config (labels, class
names, metric names) are wrapped by `shown`: the job still gets a plain dict or list (these are
subclasses), Snakemake's rerun trigger still sees the plain repr, and only `str()`, the text
the report shows, has `<`, `>` and `&` written as JSON escapes (`\\u003c`, `\\u003e`, `\\u0026`),
which no HTML parser reads as markup.
"""

_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def html_inert(text: str) -> str:
    """`text` with <, > and & as JSON escapes: inert inside a <script> block or HTML text."""
    return text.translate(_ESCAPES)


class ShownDict(dict):
    """A dict whose str() (what the report shows) is its repr, made inert."""

    def __str__(self) -> str:
        return html_inert(repr(self))


class ShownList(list):
    """A list whose str() (what the report shows) is its repr, made inert."""

    def __str__(self) -> str:
        return html_inert(repr(self))


def shown(value: dict | list) -> ShownDict | ShownList:
    """A report rule's param value, safe to show in Snakemake's report (see the module)."""
    return ShownDict(value) if isinstance(value, dict) else ShownList(value)
