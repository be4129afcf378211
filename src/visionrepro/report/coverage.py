"""Every number of each write-up that runs, accounted for: judged by a reference (its verdict),
a parameter total (matched against our networks'), not comparable, not run here, or not judged
for one of plan/writeups.py's NOT_JUDGED reasons. Read from the experiments' specs (each keeps
its write-up's coverage record, plan.Writeup.coverage_record), the verdicts table and the runs
table; a spec without one (a RESULTS.json from before coverage) gives nothing, so its report
reads as before.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from visionrepro.report.verdicts import plural, verdict_parts

JUDGED = ("consistent", "inconclusive", "inconsistent", "no estimate")
NOT_RUN = "not run here"
COLUMNS = ["write-up", "id", "value", "why not judged"]
STATUS_COLUMNS = ["id", "experiment", "variant", "metric", "value", "kind", "verdict", "rank"]


def records(specs: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The write-ups' coverage records of the experiments' specs, once each, in spec order."""
    found: dict[str, Mapping[str, Any]] = {}
    for spec in specs.values():
        record = spec.get("writeup")
        if record and record["name"] not in found:
            found[record["name"]] = record
    return list(found.values())


def short_title(record: Mapping[str, Any]) -> str:
    """A write-up's title up to its colon ("ECE 60146 HW4 (Purdue)")."""
    return str(record["title"]).split(":")[0].strip()


def _params_status(number: Mapping[str, Any], runs: pd.DataFrame | None) -> tuple[str, str]:
    """A parameter total against the runs' count of the same variant."""
    if runs is None or "params" not in runs:
        return NOT_RUN, ""
    same = runs[
        (runs["experiment"] == number["experiment"]) & (runs["variant"] == number["variant"])
    ]
    if not len(same):
        return NOT_RUN, ""
    ours = int(same["params"].iloc[0])
    return (
        ("params match", "")
        if ours == int(number["value"])
        else ("params differ", f"ours {ours:,}")
    )


def _status(number: Mapping[str, Any], glance: pd.DataFrame) -> tuple[str, str]:
    """A reference number's kind and verdict from the verdicts table, or not run here."""
    rows = glance[
        (glance["experiment"] == number["experiment"])
        & (glance["variant"] == number["variant"])
        & (glance["metric"] == number["metric"])
    ]
    if not len(rows):
        return NOT_RUN, ""
    return str(rows["kind"].iloc[0]), str(rows["verdict"].iloc[0])


def _rank(kind: str) -> int:
    """Which of a number's rows speaks for it: a like-for-like one, then not comparable."""
    return (
        0 if kind in JUDGED or kind.startswith("params") else 1 if kind == "not comparable" else 2
    )


def statuses(
    record: Mapping[str, Any], glance: pd.DataFrame, runs: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per number (id and metric) of a write-up's references: its kind and verdict, the
    best of its rows (a number two experiments judge, e.g. grey and colour, counts once)."""
    rows = []
    for number in record["numbers"]:
        is_params = number["metric"] == "params"
        kind, verdict = _params_status(number, runs) if is_params else _status(number, glance)
        rows.append({**number, "kind": kind, "verdict": verdict, "rank": _rank(kind)})
    table = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    if not len(rows):
        return table
    table = table.sort_values("rank", kind="stable").drop_duplicates(["id", "metric"])
    return table.sort_index()


def _parts(table: pd.DataFrame, not_judged: Sequence[Mapping[str, Any]]) -> list[str]:
    """A write-up's (or all write-ups') numbers counted by what became of them."""
    judged = table[table["kind"].isin(JUDGED)]
    params = table[table["kind"].str.startswith("params")]
    parts = []
    if len(judged):
        counted = "; ".join(p for p in verdict_parts(judged["kind"], judged["verdict"]) if p)
        parts.append(f"{len(judged)} judged like for like ({counted})")
    if len(params):
        match = int((params["kind"] == "params match").sum())
        parts.append(f"{plural(len(params), 'parameter total')} ({match} match)")
    for kind, words in (("not comparable", "not comparable"), (NOT_RUN, NOT_RUN)):
        n = int((table["kind"] == kind).sum())
        parts += [f"{n} {words}"] if n else []
    reasons = pd.Series([item["reason_words"] for item in not_judged], dtype=str)
    parts += [f"{n} {words}" for words, n in reasons.value_counts(sort=False).items()]
    return parts


def lines(
    glance: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]], runs: pd.DataFrame | None
) -> list[str]:
    """The headline over the write-ups' numbers, then one line per write-up, e.g. "ECE 60146
    HW4 (Purdue): 10 numbers: 3 judged like for like (...), 3 parameter totals (3 match), ...";
    [] when the specs carry no write-up records."""
    found = records(specs)
    if not found:
        return []
    tables = [statuses(r, glance, runs) for r in found]
    out = []
    for record, table in zip(found, tables, strict=True):
        n = len(table) + len(record["not_judged"])
        text = ", ".join(_parts(table, record["not_judged"]))
        out.append(f"{short_title(record)}: {plural(n, 'number')}: {text}")
    every = pd.concat(tables, ignore_index=True)
    rest = [item for r in found for item in r["not_judged"]]
    total = len(every) + len(rest)
    headline = f"The write-ups' {plural(total, 'number')}: " + ", ".join(_parts(every, rest))
    return [headline, *out]


def rest_table(
    glance: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]], runs: pd.DataFrame | None
) -> pd.DataFrame:
    """The numbers no verdict judges like for like: not judged (with the reason and note), not
    comparable (the verdict) or not run here."""
    rows = []
    for record in records(specs):
        title = short_title(record)
        table = statuses(record, glance, runs)
        for row in table[table["kind"].isin(["not comparable", NOT_RUN])].itertuples():
            why = row.verdict or f"{row.experiment} ({row.variant}) did not run here"
            rows.append([title, row.id, f"{row.value:g} ({row.metric})", why])
        for item in record["not_judged"]:
            why = item["reason_words"] + (f": {item['note']}" if item.get("note") else "")
            rows.append([title, item["id"], str(item["value"]), why])
    return pd.DataFrame(rows, columns=COLUMNS)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(
    glance: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]], runs: pd.DataFrame | None
) -> list[str]:
    """RESULTS.md's coverage: the headline in bold, a line per write-up and the table of the
    rest, as lines ending with a blank one; [] without write-up records."""
    found = lines(glance, specs, runs)
    if not found:
        return []
    out = [f"**{found[0]}.**", "", *[f"- {line}." for line in found[1:]], ""]
    rest = rest_table(glance, specs, runs)
    if len(rest):
        out += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rest.to_numpy()]
        out.append("")
    return out


def html(
    glance: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]], runs: pd.DataFrame | None
) -> Markup:
    """The same for the HTML report: the headline, a list of the write-ups, the table."""
    found = lines(glance, specs, runs)
    if not found:
        return Markup("")
    items = "".join(f"<li>{escape(line)}.</li>" for line in found[1:])
    out = Markup('<p class="coverage" style="font-weight:600">{}.</p>').format(found[0])
    out += Markup(f"<ul>{items}</ul>")
    rest = rest_table(glance, specs, runs)
    if len(rest):
        head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>"
            for row in rest.to_numpy()
        )
        out += Markup(
            f"<details><summary>The {len(rest)} numbers not judged like for like, and why"
            '</summary><div class="scroll"><table class="table wrap">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>"
        )
    return out
