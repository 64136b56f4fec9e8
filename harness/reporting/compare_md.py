"""Render a Comparison as GitHub-flavoured markdown (reports/compare.md).

The markdown is for reading in a pull request or a terminal: summary first, then one
table per topic.  Differing verdicts and facts are bold and carry a warning sign so
they stand out even where markdown is shown as plain text.
"""

from __future__ import annotations

from .causes import NO_DIFFERENCE, cause_sentence, finding_files, what_changed
from .compare_view import (
    Table,
    capability_table,
    cell_facts,
    cell_verdict_differs,
    environment_table,
    params_text,
    rows_by_topic,
    rules_table,
    summary_lines,
    summary_table,
)
from .comparison import MISSING, Comparison, Row
from .kernel_diff import diff_command, matrix_diffs, render

WARN = "\u26a0"
REASON_LIMIT = 100


def esc(text: str) -> str:
    """Escape text for a GFM table cell: pipes would split the cell, and markup
    characters in fact values (e.g. masks 'IN|OUT', '*') must show literally.
    Underscores and brackets stay as they are: GFM does not emphasise inside words
    (wmem_queued) and brackets only link when followed by a target, and escaping them
    would make the raw file hard to read."""
    out = str(text).replace("\\", "\\\\")
    for ch in "|*`":
        out = out.replace(ch, "\\" + ch)
    return out.replace("<", "&lt;").replace(">", "&gt;").replace("\r", " ").replace("\n", " ")


def code(text: str) -> str:
    # Inside a table even a code span needs its pipes escaped (GFM splits cells first).
    return "`" + str(text).replace("`", "'").replace("|", "\\|") + "`"


def flagged(text: str, differs: bool) -> str:
    return f"**{WARN} {text}**" if differs else text


def _shorten(text: str, limit: int = REASON_LIMIT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def render_cell(row: Row, kernel_id: str) -> str:
    """Verdict, the facts worth showing, and the reason or finding, one per line."""
    cell = row.cells.get(kernel_id)
    if cell is None:
        return MISSING
    lines = [flagged(esc(cell.verdict), cell_verdict_differs(row, cell, kernel_id))]
    for name, value, differs in cell_facts(row, cell, kernel_id):
        lines.append(flagged(f"{esc(name)}={esc(value)}", differs))
    if cell.reason and cell.verdict != "pass":
        lines.append(f"*{esc(_shorten(cell.reason))}*")
    if cell.finding:
        lines.append(f"finding: {esc(_shorten(cell.finding))}")
    return "<br>".join(lines)


def render_table(table: Table) -> list[str]:
    lines = [
        "| " + " | ".join(esc(h) for h in table.header) + " |",
        "|" + "|".join("---" for _ in table.header) + "|",
    ]
    for row in table.rows:
        lines.append("| " + " | ".join(flagged(esc(t), f) if t else "" for t, f in row) + " |")
    if table.note:
        lines += ["", esc(table.note)]
    return lines


def render_results(comparison: Comparison) -> list[str]:
    lines: list[str] = []
    header = ["Result", "Mode", "Params"] + [esc(k.title) for k in comparison.kernels]
    for topic, rows in rows_by_topic(comparison):
        lines += [f"### {esc(topic)}", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            name = code(row.key)
            if row.differs:
                name = f"**{WARN}** {name}"
            cells = [render_cell(row, k.id) for k in comparison.kernels]
            lines.append(
                "| " + " | ".join([name, esc(row.mode), esc(params_text(row.params))] + cells) + " |"
            )
        lines.append("")
    return lines


LINKED_KEYS = 6


def render_what_changed(comparison: Comparison) -> list[str]:
    """One line per cause (harness.reporting.causes): kind, cause, kernels and values, how
    many cases, the first few of them; a failure's or a finding's timeline and capture."""
    causes = what_changed(comparison)
    if not causes:
        return [NO_DIFFERENCE]
    lines = []
    if all(c.kind == "timing-dependent" for c in causes):
        lines.append(f"- {esc(NO_DIFFERENCE)}")
    for cause in causes:
        keys = ", ".join(code(k) for k in cause.keys[:LINKED_KEYS])
        more = len(cause.keys) - LINKED_KEYS
        if more > 0:
            keys += f" and {more} more"
        links = "".join(f" ({esc(kind)}: {code(path)})" for kind, path in finding_files(comparison, cause))
        lines.append(f"- **{esc(cause.kind)}**: {esc(cause_sentence(cause).split(': ', 1)[1])}: {keys}{links}")
    return lines


def render_markdown(comparison: Comparison) -> str:
    """The full compare.md text."""
    lines = ["# epoll readiness across kernels", ""]
    diffs = matrix_diffs(comparison)
    if diffs:
        lines += ["## Kernel by kernel", ""]
        for diff in diffs:
            lines += [f"### {esc(diff.before.title)} \u2192 {esc(diff.after.title)}", "", "```",
                      *render(diff, diff_command(diff)), "```", ""]
    lines += ["## Rule changes cited", "", *render_table(rules_table(comparison)), ""]
    lines += ["## What changed", "", *render_what_changed(comparison), ""]
    lines += [f"- {esc(s)}" for s in summary_lines(comparison)]
    lines += ["", "Plots of the EPOLLOUT series are in compare.html.", ""]

    lines += ["## Kernels", "", *render_table(summary_table(comparison)), ""]

    lines += ["## Findings", ""]
    findings = comparison.findings
    if not findings:
        lines.append("None.")
    for kernel, row, text in findings:
        lines.append(f"- **{esc(kernel.title)}** {code(row.key)}: {esc(_shorten(text, 300))}")
    lines.append("")

    lines += ["## Results", ""]
    if not comparison.rows:
        lines += ["No results in the reports.", ""]
    lines += render_results(comparison)

    lines += ["## Capabilities", "", *render_table(capability_table(comparison)), ""]
    lines += ["## Environment", "", *render_table(environment_table(comparison)), ""]
    if comparison.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- {esc(w)}" for w in comparison.warnings]
        lines.append("")
    return "\n".join(lines)
