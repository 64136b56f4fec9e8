"""Render a Comparison as one self-contained HTML page (reports/compare.html).

Self-contained means the file can be mailed or attached to a CI run and still show
everything: CSS is inline, plots are PNG data URIs, and nothing is loaded from
elsewhere (no scripts, fonts or links to other hosts).
"""

from __future__ import annotations

import base64
from html import escape

from . import plots
from .compare_view import (
    Table,
    anchor,
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
from .comparison import MISSING, Cell, Comparison, Row

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 0 auto; padding: 1.5em 2em 4em; max-width: 1500px; background: #fff; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
ul.summary { margin-top: .3em; }
table { border-collapse: collapse; margin: .4em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: .3em .55em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.key code { font-size: .85em; word-break: break-all; }
td.params { font-size: .85em; color: #57606a; }
td.missing { color: #8c959f; text-align: center; }
td.differs { background: #fff4d6; box-shadow: inset 3px 0 0 #d4a72c; }
td.flag { background: #fff4d6; }
tr.differs td.key { font-weight: 600; }
.warn { color: #9a6700; }
.verdict { font-weight: 600; }
.v-pass { color: #1a7f37; } .v-fail { color: #cf222e; }
.v-skip { color: #6e7781; } .v-error { color: #8250df; }
ul.facts { list-style: none; margin: .2em 0 0; padding: 0; font-family: ui-monospace, monospace;
           font-size: .85em; }
.diff { font-weight: 700; color: #9a6700; }
.reason { font-size: .8em; color: #57606a; font-style: italic; max-width: 28em; }
.finding { font-size: .8em; color: #8250df; max-width: 28em; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; border: 1px solid #d0d7de; }
figcaption { font-size: .9em; color: #57606a; }
.note { color: #57606a; font-size: .9em; }
"""


def _verdict(row: Row, cell: Cell) -> str:
    cls = f"verdict v-{escape(cell.verdict)}"
    if cell_verdict_differs(row, cell):
        return f'<span class="{cls} diff">\u26a0 {escape(cell.verdict)}</span>'
    return f'<span class="{cls}">{escape(cell.verdict)}</span>'


def _fact_item(name: str, value: str, differs: bool) -> str:
    if differs:
        return f'<li class="fact diff">\u26a0 {escape(name)} = {escape(value)}</li>'
    return f'<li class="fact">{escape(name)} = {escape(value)}</li>'


def _td(text: str, flag: bool) -> str:
    return f'<td class="flag">{escape(text)}</td>' if flag else f"<td>{escape(text)}</td>"


def render_cell(row: Row, cell: Cell | None) -> str:
    """A <td>: class "differs" on every cell that ran in a differing row, and class
    "diff" on the particular verdict or facts that disagree."""
    if cell is None:
        return f'<td class="missing" title="absent from this report">{MISSING}</td>'
    classes = ["cell", f"c-{escape(cell.verdict)}"]
    if row.differs and cell.ran:
        classes.append("differs")
    parts = [_verdict(row, cell)]
    facts = cell_facts(row, cell)
    if facts:
        items = "".join(
            _fact_item(name, value, differs) for name, value, differs in facts
        )
        parts.append(f'<ul class="facts">{items}</ul>')
    if cell.reason and cell.verdict != "pass":
        parts.append(f'<div class="reason">{escape(cell.reason)}</div>')
    if cell.finding:
        parts.append(f'<div class="finding">finding: {escape(cell.finding)}</div>')
    return f'<td class="{" ".join(classes)}">{"".join(parts)}</td>'


def render_table(table: Table, cls: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(_td(text, flag) for text, flag in row) + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}'


def render_results(comparison: Comparison) -> str:
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in ["Result", "Mode", "Params"] + [k.title for k in comparison.kernels]
    )
    out = []
    for topic, rows in rows_by_topic(comparison):
        body = []
        for row in rows:
            mark = '<span class="warn">\u26a0</span> ' if row.differs else ""
            cells = "".join(render_cell(row, row.cells.get(k.id)) for k in comparison.kernels)
            body.append(
                f'<tr id="{anchor(row.key)}" class="{"differs" if row.differs else "same"}">'
                f'<td class="key">{mark}<code>{escape(row.key)}</code></td>'
                f"<td>{escape(row.mode)}</td>"
                f'<td class="params">{escape(params_text(row.params))}</td>{cells}</tr>'
            )
        out.append(
            f"<h3>{escape(topic)}</h3>"
            f'<table class="results"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        )
    return "".join(out) or '<p class="note">No results in the reports.</p>'


def render_plots(comparison: Comparison, enabled: bool = True) -> str:
    """One <figure> per row with series; a plain note when plots cannot be drawn."""
    rows = [r for r in comparison.rows if r.series_cells]
    if not rows:
        return '<p class="note">No result in these reports carries an EPOLLOUT series.</p>'
    reason = plots.unavailable_reason() if enabled else "plots were turned off (--no-plots)"
    if reason:
        return f'<p class="note plots-unavailable">Plots unavailable: {escape(reason)}.</p>'
    figures = []
    for row in rows:
        traces = [(comparison.kernel(kid).title, cell.series) for kid, cell in row.series_cells]
        try:
            png = plots.plot_series(row.key, traces)
        except (ValueError, TypeError) as exc:
            # Odd data in one series should cost one plot, not the whole page.
            figures.append(f'<p class="note">Plot of {escape(row.key)} failed: {escape(str(exc))}</p>')
            continue
        data = base64.b64encode(png).decode("ascii")
        figures.append(
            f'<figure id="plot-{anchor(row.key)}"><img class="plot" alt="series plot of {escape(row.key)}" '
            f'src="data:image/png;base64,{data}"><figcaption><a href="#{anchor(row.key)}">'
            f"{escape(row.key)}</a></figcaption></figure>"
        )
    return "".join(figures)


def render_html(comparison: Comparison, with_plots: bool = True) -> str:
    """The full compare.html text."""
    summary = "".join(f"<li>{escape(s)}</li>" for s in summary_lines(comparison))
    differing = comparison.differing_rows
    diff_items = "".join(
        f'<li><a href="#{anchor(r.key)}"><code>{escape(r.key)}</code></a>: '
        f'{escape(", ".join((["verdict"] if r.verdict_differs else []) + sorted(r.differing_facts)))}</li>'
        for r in differing
    )
    differences = (
        f"<ul>{diff_items}</ul>"
        if differing
        else '<p class="note">None: every kernel that ran a result agrees on its verdict and facts.</p>'
    )
    finding_items = "".join(
        f'<li><b>{escape(k.title)}</b> <a href="#{anchor(r.key)}"><code>{escape(r.key)}</code></a>: '
        f"{escape(text)}</li>"
        for k, r, text in comparison.findings
    )
    findings = f"<ul>{finding_items}</ul>" if finding_items else '<p class="note">None.</p>'
    warnings = ""
    if comparison.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in comparison.warnings)
        warnings = f'<h2 id="warnings">Warnings</h2><ul>{items}</ul>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>epoll readiness across kernels</title>
<style>{CSS}</style></head>
<body>
<h1>epoll readiness across kernels</h1>
<ul class="summary">{summary}</ul>
<h2 id="kernels">Kernels</h2>{render_table(summary_table(comparison), "kernels")}
<h2 id="differences">Differences</h2>{differences}
<h2 id="findings">Findings</h2>{findings}
<h2 id="results">Results</h2>{render_results(comparison)}
<h2 id="plots">EPOLLOUT series</h2>
<p class="note">Per ACK: wmem_queued (solid), free space (dashed) and the writability threshold
wmem_queued/2 (dotted); the star marks the first EPOLLOUT observed, the circle the first
point where free &ge; threshold.</p>
{render_plots(comparison, with_plots)}
<h2 id="capabilities">Capabilities</h2>{render_table(capability_table(comparison), "capabilities")}
<h2 id="environment">Environment</h2>{render_table(environment_table(comparison), "environment")}
<h2 id="rules">Rule changes cited</h2>{render_table(rules_table(comparison), "rules")}
{warnings}
</body></html>
"""
