"""Presentation-neutral views of a Comparison, shared by the markdown and HTML renderers.

Both outputs must say the same thing; computing the tables once here keeps them from
drifting apart.  Everything returns plain strings and tuples: escaping is the
renderer's job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .comparison import Cell, Comparison, Row, parse_release

YES, NO, UNKNOWN = "yes", "no", "\u2014"


def format_value(value: Any, limit: int = 120) -> str:
    """Short human text for a fact value: lists joined by commas, floats trimmed."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(format_value(v, limit) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {format_value(v, limit)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def cell_facts(row: Row, cell: Cell, kernel_id: str = "") -> list[tuple[str, str, bool]]:
    """(name, shown value, changed) for the facts a cell should display; ``changed`` is true
    only where the value differs from the kernel to its left (``Row.changed``).

    A skipped cell shows none: whatever it recorded before skipping is not evidence.  A
    failed or errored cell shows its values: they are what the kernel did.
    """
    if not cell.ran:
        return []
    changed = row.changed.get(kernel_id, frozenset())
    items = []
    for name in row.shown_facts:
        if name in cell.facts:
            items.append((name, format_value(cell.facts[name]), name in changed))
        elif name in row.differing_facts:
            items.append((name, "(absent)", name in changed))
    return items


def cell_verdict_differs(row: Row, cell: Cell, kernel_id: str = "") -> bool:
    return cell.ran and "verdict" in row.changed.get(kernel_id, frozenset())


def cell_changed(row: Row, kernel_id: str) -> bool:
    return bool(row.changed.get(kernel_id))


def params_text(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items())


def rows_by_topic(comparison: Comparison) -> list[tuple[str, list[Row]]]:
    """Rows grouped by topic, keeping the model's topic-then-key order."""
    groups: list[tuple[str, list[Row]]] = []
    for row in comparison.rows:
        if not groups or groups[-1][0] != row.topic:
            groups.append((row.topic, []))
        groups[-1][1].append(row)
    return groups


def anchor(key: str) -> str:
    """A stable HTML id for a row key (keys hold brackets and slashes)."""
    return "r-" + "".join(ch if ch.isalnum() else "-" for ch in key).strip("-")


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    """A header and rows of (text, flagged) cells; flagged cells render highlighted."""

    header: tuple[str, ...]
    rows: tuple[tuple[tuple[str, bool], ...], ...]
    note: str = ""


def summary_table(comparison: Comparison) -> Table:
    header = ("Kernel", "Machine", "Generated", "Report", "Pass", "Fail", "Skip", "Error", "Findings",
              "On bounds")
    findings: dict[str, int] = {}
    for kernel, _row, _text in comparison.findings:
        findings[kernel.id] = findings.get(kernel.id, 0) + 1
    rows = []
    for k in comparison.kernels:
        c = k.counts
        rows.append(
            tuple(
                (text, False)
                for text in (
                    k.title, f"{k.host} ({k.machine})" if k.host else k.machine, k.generated_at, k.source,
                    str(c.get("pass", 0)), str(c.get("fail", 0)),
                    str(c.get("skip", 0)), str(c.get("error", 0)),
                    str(findings.get(k.id, 0)), str(c.get("bounded", 0)),
                )
            )
        )
    return Table(header, tuple(rows))


def _capability(value: Any) -> tuple[str, bool]:
    if isinstance(value, bool):
        return (YES if value else NO), not value
    if isinstance(value, dict):
        ok = value.get("ok")
        reason = value.get("reason")
        if ok is True:
            return YES, False
        if ok is False:
            return (f"{NO}: {reason}" if reason else NO), True
    return UNKNOWN, False


def capability_table(comparison: Comparison) -> Table:
    """One row per capability (root, tun, netem, ...), one column per kernel."""
    names: list[str] = []
    for k in comparison.kernels:
        names.extend(n for n in k.capabilities if n not in names)
    header = ("Capability",) + tuple(k.title for k in comparison.kernels)
    rows = []
    for name in names:
        cells = tuple(
            _capability(k.capabilities[name]) if name in k.capabilities else (UNKNOWN, False)
            for k in comparison.kernels
        )
        rows.append(((name, False),) + cells)
    return Table(header, tuple(rows))


def rules_table(comparison: Comparison) -> Table:
    """The kernel changes the suite's rules cite, and whether each applies per kernel."""
    changes: dict[tuple[str, str], dict[str, Any]] = {}
    for k in comparison.kernels:
        for change in k.rules.get("changes") or []:
            if isinstance(change, dict) and change.get("title"):
                ident = (str(change.get("title")), str(change.get("since") or ""))
                changes.setdefault(ident, {})[k.id] = change.get("applies")
    header = ("Change", "Since") + tuple(k.title for k in comparison.kernels)
    rows = [
        (("Rule set", False), ("", False))
        + tuple((str(k.rules.get("kernel_rule_set") or UNKNOWN), False) for k in comparison.kernels)
    ]
    for (title, since), applies in sorted(changes.items(), key=lambda i: (parse_release(i[0][1]), i[0][0])):
        cells = []
        for k in comparison.kernels:
            value = applies.get(k.id)
            cells.append((YES if value is True else NO if value is False else UNKNOWN, False))
        rows.append(((title, False), (since, False)) + tuple(cells))
    return Table(header, tuple(rows))


def environment_table(comparison: Comparison) -> Table:
    """Congestion control, tool versions and sysctls; with several kernels only the
    sysctls that differ are listed, since identical ones explain nothing."""
    kernels = comparison.kernels
    header = ("Setting",) + tuple(k.title for k in kernels)

    def line(name: str, values: list[Any]) -> tuple[tuple[str, bool], ...]:
        texts = [UNKNOWN if v is None else format_value(v) for v in values]
        # a list in another order (the available congestion controls) is the same setting
        same = [sorted(map(str, v)) if isinstance(v, list) else v for v in values]
        differs = len(kernels) > 1 and len({json.dumps(v, sort_keys=True) for v in same}) > 1
        return ((name, False),) + tuple((t, differs) for t in texts)

    rows = [
        line("congestion control", [k.congestion_control.get("default") for k in kernels]),
        line("available cc", [k.congestion_control.get("available") for k in kernels]),
    ]
    tool_names: list[str] = []
    for k in kernels:
        tool_names.extend(n for n in k.tools if n not in tool_names)
    rows.extend(line(name, [k.tools.get(name) for k in kernels]) for name in tool_names)

    sysctl_names = sorted({n for k in kernels for n in k.sysctls})
    hidden = 0
    for name in sysctl_names:
        values = [k.sysctls.get(name) for k in kernels]
        if len(kernels) > 1 and len({json.dumps(v) for v in values}) == 1:
            hidden += 1
            continue
        rows.append(line(name, values))
    note = f"{hidden} sysctl(s) identical on every kernel are not listed." if hidden else ""
    return Table(header, tuple(rows), note)


def hosts(comparison: Comparison) -> list[str]:
    """The machines the reports came from, by name, in column order ("" where one does not say)."""
    return list(dict.fromkeys(k.host for k in comparison.kernels))


def counted(comparison: Comparison) -> str:
    """'4 kernel(s) in 5 run(s) on 2 machine(s)': one kernel run on two machines, or twice,
    is one kernel (Kernel.identity), never two."""
    kernels = len({k.identity for k in comparison.kernels})
    runs, machines = len(comparison.kernels), len({(k.host_id or k.host) for k in comparison.kernels})
    text = f"{kernels} kernel(s)" + (f" in {runs} run(s)" if runs != kernels else "")
    return text + (f" on {machines} machine(s)" if machines > 1 else "")


def summary_lines(comparison: Comparison) -> list[str]:
    """The one-paragraph headline, as plain sentences."""
    total = len(comparison.rows)
    differing = len(comparison.differing_rows)
    incomplete = sum(1 for r in comparison.rows if r.incomplete)
    return [
        f"{counted(comparison)}, {total} result key(s).",
        f"{differing} row(s) differ between kernels that ran them.",
        f"{sum(1 for r in comparison.rows if r.timing_differs)} timing-dependent row(s) differ "
        "(natural skb layout: the harness's speed, not counted as differences).",
        f"{incomplete} row(s) were skipped or absent on at least one kernel.",
        f"{len(comparison.findings)} finding(s): behaviour that matches no known rule.",
    ]
