"""Every result of a report, one row each, filtered and wrapped to the terminal's width.

``epoll-semantics table --full``: the columns that fit (scenario and variant, waiter,
verdict, the key facts), the other facts and the reason wrapped under the row, indented.
Filters: ``topic`` (exact), ``failed`` (fail or error only), ``key`` (a substring of the key).
"""

from __future__ import annotations

import textwrap
from typing import Any

from .report import KEY_FACTS, _fact
from .summary import BAD, head_lines, waiter_of


def select(results: list[dict], topic: str | None = None, failed: bool = False,
           key: str | None = None) -> list[dict]:
    out = results
    if topic:
        out = [r for r in out if r["topic"] == topic]
    if failed:
        out = [r for r in out if r["verdict"] in BAD]
    if key:
        out = [r for r in out if key in r["key"]]
    return out


def full_table(doc: dict[str, Any], width: int = 120, *, full: bool = True, topic: str | None = None,
               failed: bool = False, key: str | None = None) -> str:
    rows = select(doc.get("results", []), topic, failed, key)
    rows = sorted(rows, key=lambda r: (r["verdict"] not in BAD, r["key"]))
    facts_of = [(r, {k: r.get("facts", {}).get(k) for k in KEY_FACTS}) for r in rows]
    shown = [k for k in KEY_FACTS if any(f[k] is not None for _, f in facts_of)]
    head = ("result", "waiter", "verdict", *shown)
    cells = [(r["key"], waiter_of(r), r["verdict"].upper(), *(_fact(f[k]) for k in shown)) for r, f in facts_of]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *cells)] if cells else [len(h) for h in head]
    # the key column gives way first when the terminal is narrow
    fixed = sum(widths[1:]) + 2 * (len(widths) - 1)
    widths[0] = max(20, min(widths[0], width - fixed))
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = head_lines(doc) + [fmt.format(*head).rstrip()]
    indent = " " * 4
    for (r, _), row in zip(facts_of, cells):
        name = row[0] if len(row[0]) <= widths[0] else row[0][:widths[0] - 1] + "~"
        lines.append(fmt.format(name, *row[1:]).rstrip())
        if not full:
            continue
        extra = []
        if len(row[0]) > widths[0]:
            extra.append(row[0])
        if r["verdict"] != "pass" and r.get("reason"):
            extra.append("reason: " + r["reason"].splitlines()[0])
        if r.get("finding"):
            extra.append("FINDING: " + r["finding"])
        other = {k: v for k, v in r.get("facts", {}).items() if k not in KEY_FACTS}
        if other:
            extra.append(" ".join(f"{k}={_fact(v)}" for k, v in other.items()))
        for text in extra:
            lines += textwrap.wrap(text, width=max(40, width), initial_indent=indent, subsequent_indent=indent + "  ")
    lines.append(f"{len(rows)} of {len(doc.get('results', []))} results")
    return "\n".join(lines)
