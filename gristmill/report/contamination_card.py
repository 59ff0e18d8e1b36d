"""The report's decontamination card, from `stats/contamination.parquet`: shown only for runs that decontaminated.

One row per evaluation set (and per run, when two are compared): the items its index
holds, the documents that held one (dropped or redacted) and how many of its items
were found at least once.
"""

from __future__ import annotations

from gristmill.report.cards import Card
from gristmill.report.run_data import RunData
from gristmill.report.svg import esc

TABLE = "contamination"


def contamination_cards(runs: list[RunData]) -> list[Card]:
    """The card, or nothing when no run has the file (decontamination was off)."""
    if not any(TABLE in run.tables for run in runs):
        return []
    compare = len(runs) > 1
    head = "".join(
        f"<th>{name}</th>"
        for name in ("documents matched", "dropped", "redacted", "items in index", "items found", "share found")
    )
    lines = [
        f'<table class="numbers" data-table="{TABLE}"><thead><tr>{"<th>run</th>" if compare else ""}'
        f"<th>evaluation set</th>{head}</tr></thead><tbody>"
    ]
    for label, run in zip(("A", "B") if compare else ("",), runs):
        rows = run.tables.get(TABLE)
        if rows is None:
            lines.append(f'<tr class="group"><td colspan="8">{label}: decontamination did not run</td></tr>')
            continue
        for row in rows:
            share = row["items_matched"] / row["items"] if row["items"] else 0.0
            lines.append(
                f"<tr>{f'<td>{label}</td>' if compare else ''}<td>{esc(row['eval_set'])}</td>"
                f"<td>{row['documents_matched']:,}</td><td>{row['documents_dropped']:,}</td>"
                f"<td>{row['documents_redacted']:,}</td><td>{row['items']:,}</td><td>{row['items_matched']:,}</td>"
                f"<td>{share:.1%}</td></tr>"
            )
    lines.append("</tbody></table>")
    subtitle = (
        "Per evaluation set of the index: documents that held one of its items (dropped as contaminated, "
        "or with the passage redacted), and how many of its items the run held at least once."
    )
    return [Card("contamination", "Decontamination", subtitle, "".join(lines))]
