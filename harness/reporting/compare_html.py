"""Render a Comparison as one self-contained HTML page (reports/compare.html).

Self-contained means the file can be mailed or attached to a CI run and still show
everything: CSS is inline, plots are PNG data URIs, and nothing is loaded from
elsewhere (no scripts, fonts or links to other hosts).  "What changed" comes first, so a
reader sees the causes without scrolling; rows whose series are identical share one plot,
which keeps the page small (under 3 MB for five kernels).
"""

from __future__ import annotations

import base64
import json
import os
from html import escape

from . import plots
from .causes import NO_DIFFERENCE, Cause, cause_sentence, finding_files, what_changed
from .compare_view import (
    Table,
    anchor,
    capability_table,
    cell_changed,
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
from .guide import build_guide
from .guide_render import render_html as render_guide
from .kernel_diff import diff_command, matrix_diffs, render

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
td.key { min-width: 24em; }
td.key code { font-size: .85em; overflow-wrap: anywhere; }
section.diffs pre { font: .85em/1.35 ui-monospace, monospace; background: #f6f8fa; padding: .6em .8em;
                    border: 1px solid #d0d7de; white-space: pre-wrap; margin: .3em 0 1em; }
section.diffs h3 { margin: .8em 0 .2em; }
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
ul.changed { margin: .3em 0 1em; padding-left: 1.2em; }
ul.changed li { margin: .25em 0; }
ul.changed .kind { font-weight: 700; }
ul.changed .kind-finding { color: #8250df; } ul.changed .kind-unattributed { color: #cf222e; }
ul.changed details { display: inline; } ul.changed summary { display: inline; cursor: pointer; color: #0969da; }
"""


def _verdict(row: Row, kernel_id: str) -> str:
    cell = row.cells[kernel_id]
    cls = f"verdict v-{escape(cell.verdict)}"
    if cell_verdict_differs(row, cell, kernel_id):
        return f'<span class="{cls} diff">\u26a0 {escape(cell.verdict)}</span>'
    return f'<span class="{cls}">{escape(cell.verdict)}</span>'


def _fact_item(name: str, value: str, differs: bool) -> str:
    if differs:
        return f'<li class="fact diff">\u26a0 {escape(name)} = {escape(value)}</li>'
    return f'<li class="fact">{escape(name)} = {escape(value)}</li>'


def _td(text: str, flag: bool) -> str:
    return f'<td class="flag">{escape(text)}</td>' if flag else f"<td>{escape(text)}</td>"


def render_cell(row: Row, kernel_id: str) -> str:
    """A <td>: class "differs" only on a cell whose verdict or a fact changed from the
    kernel to its left, and class "diff" on the particular verdict or facts that changed."""
    cell = row.cells.get(kernel_id)
    if cell is None:
        return f'<td class="missing" title="absent from this report">{MISSING}</td>'
    classes = ["cell", f"c-{escape(cell.verdict)}"]
    if cell_changed(row, kernel_id):
        classes.append("differs")
    parts = [_verdict(row, kernel_id)]
    facts = cell_facts(row, cell, kernel_id)
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
            cells = "".join(render_cell(row, k.id) for k in comparison.kernels)
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


LINKED_KEYS = 6


def _row_links(keys: tuple[str, ...] | list[str]) -> str:
    links = [f'<a href="#{anchor(k)}"><code>{escape(k)}</code></a>' for k in keys]
    shown = ", ".join(links[:LINKED_KEYS])
    if len(links) > LINKED_KEYS:
        shown += (f' <details><summary>and {len(links) - LINKED_KEYS} more</summary> '
                  f'{", ".join(links[LINKED_KEYS:])}</details>')
    return shown


def _file_href(path: str, out_dir: str | None) -> str:
    """A link to a report's file from the page: relative to the page where the file is there."""
    if out_dir and not os.path.isabs(path) and os.path.exists(path):
        return os.path.relpath(path, out_dir)
    return path


def render_cause(comparison: Comparison, cause: Cause, out_dir: str | None = None) -> str:
    sentence = cause_sentence(cause).split(": ", 1)[1]
    files = "".join(f' <a class="file" href="{escape(_file_href(path, out_dir))}">{escape(kind)}</a>'
                    for kind, path in finding_files(comparison, cause))
    kind_cls = "kind kind-" + cause.kind.split()[0].replace(" ", "-")
    return (f'<li><span class="{kind_cls}">{escape(cause.kind)}</span>: {escape(sentence)}: '
            f"{_row_links(cause.keys)}{files}</li>")


def render_what_changed(comparison: Comparison, out_dir: str | None = None) -> str:
    causes = what_changed(comparison)
    if not causes:
        return f'<p class="note">{escape(NO_DIFFERENCE)}</p>'
    head = (f"<li>{escape(NO_DIFFERENCE)}</li>" if all(c.kind == "timing-dependent" for c in causes) else "")
    return ('<ul class="changed">' + head + "".join(render_cause(comparison, c, out_dir) for c in causes)
            + "</ul>")


def render_diffs(comparison: Comparison) -> str:
    """Each kernel against its neighbour (5.10 -> 6.1 -> 6.12 -> 7.x), as ``epoll-semantics diff`` says it."""
    parts = []
    for diff in matrix_diffs(comparison):
        text = "\n".join(render(diff, diff_command(diff)))
        parts.append(f"<h3>{escape(diff.before.title)} \u2192 {escape(diff.after.title)}</h3>"
                     f"<pre>{escape(text)}</pre>")
    if not parts:
        return ""
    return '<section class="diffs" id="diffs"><h2>Kernel by kernel</h2>' + "".join(parts) + "</section>"


def _first_wake(series) -> object:
    return next((p.get("ack") for p in series if isinstance(p, dict)
                 and (p.get("epollout") or p.get("writer_woken"))), None)


def plot_groups(comparison: Comparison) -> list[tuple[list[str], list]]:
    """Rows with series, grouped where every kernel's accounting per ACK and first observed
    wakeup are the same (ET, LT, poll and select of one scenario usually are): one plot each."""
    groups: dict[str, tuple[list[str], list]] = {}
    for row in comparison.rows:
        if not row.series_cells:
            continue
        traces = [(comparison.kernel(kid).title, cell.series) for kid, cell in row.series_cells]
        ident = json.dumps([(t, _first_wake(s), [(p.get("ack"), p.get("wmem_queued"), p.get("sndbuf"))
                                                 for p in s if isinstance(p, dict)]) for t, s in traces])
        groups.setdefault(ident, ([], traces))[0].append(row.key)
    return list(groups.values())


def render_plots(comparison: Comparison, enabled: bool = True) -> str:
    """One <figure> per group of rows with the same series; a note when plots cannot be drawn."""
    groups = plot_groups(comparison)
    if not groups:
        return '<p class="note">No result in these reports carries an EPOLLOUT series.</p>'
    reason = plots.unavailable_reason() if enabled else "plots were turned off (--no-plots)"
    if reason:
        return f'<p class="note plots-unavailable">Plots unavailable: {escape(reason)}.</p>'
    figures = []
    for keys, traces in groups:
        title = keys[0]  # the caption lists the rows that share the plot
        try:
            png = plots.plot_series(title, traces)
        except (ValueError, TypeError) as exc:
            # Odd data in one series should cost one plot, not the whole page.
            figures.append(f'<p class="note">Plot of {escape(keys[0])} failed: {escape(str(exc))}</p>')
            continue
        data = base64.b64encode(png).decode("ascii")
        figures.append(
            f'<figure id="plot-{anchor(keys[0])}"><img class="plot" alt="series plot of {escape(keys[0])}" '
            f'src="data:image/png;base64,{data}"><figcaption>{_row_links(keys)}</figcaption></figure>'
        )
    return "".join(figures)


def render_html(comparison: Comparison, with_plots: bool = True, out_dir: str | None = None) -> str:
    """The full compare.html text."""
    summary = "".join(f"<li>{escape(s)}</li>" for s in summary_lines(comparison))
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
{render_diffs(comparison)}
<h2 id="rules">Rule changes cited</h2>{render_table(rules_table(comparison), "rules")}
<h2 id="what-changed">What changed</h2>{render_what_changed(comparison, out_dir)}
<ul class="summary">{summary}</ul>
<h2 id="guide">What an event loop can rely on</h2>{render_guide(build_guide(comparison))}
<h2 id="kernels">Kernels</h2>{render_table(summary_table(comparison), "kernels")}
<h2 id="findings">Findings</h2>{findings}
<h2 id="results">Results</h2>{render_results(comparison)}
<h2 id="plots">EPOLLOUT series</h2>
<p class="note">Per ACK: wmem_queued (solid), free space (dashed) and the writability threshold
wmem_queued/2 (dotted), each point marked; the star marks the first wakeup observed (EPOLLOUT,
or the blocking writer woken), the circle the first point where free &ge; threshold.
Kernels whose series are identical are drawn nested (wider line, larger marker underneath),
so each stays visible; rows whose series are identical on every kernel share one plot.</p>
{render_plots(comparison, with_plots)}
<h2 id="capabilities">Capabilities</h2>{render_table(capability_table(comparison), "capabilities")}
<h2 id="environment">Environment</h2>{render_table(environment_table(comparison), "environment")}
{warnings}
</body></html>
"""
