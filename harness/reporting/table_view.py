"""Every result of a report, one row each, filtered and wrapped to the terminal's width.

``epoll-semantics table --full``: the columns that fit (scenario and variant, waiter,
verdict, the key facts), the other facts and the reason wrapped under the row, indented.
Filters: ``topic`` (exact), ``failed`` (fail or error only), ``key`` (a substring of the key).
"""

from __future__ import annotations

import textwrap
from typing import Any

from .report import _fact
from .summary import BAD, HEADLINE_FACTS, head_lines, waiter_of


def topics(doc: dict[str, Any]) -> list[str]:
    return sorted({r["topic"] for r in doc.get("results", [])})


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
    """The rows, failures first; fact columns are added while they fit in ``width``, the
    rest of a row's facts (and its reason) are wrapped under it with ``full``."""
    rows = select(doc.get("results", []), topic, failed, key)
    rows = sorted(rows, key=lambda r: (r["verdict"] not in BAD, r["key"]))
    cells = {k: [_fact(r.get("facts", {}).get(k)) for r in rows] for k in HEADLINE_FACTS
             if any(r.get("facts", {}).get(k) is not None for r in rows)}
    keys = [r["key"] for r in rows]
    key_w = max(20, min(max((len(k) for k in keys), default=6), width // 2))
    fixed = [("waiter", [waiter_of(r) if waiter_of(r) != "other" else str(r.get("mode", "-")) for r in rows]), ("verdict", [r["verdict"].upper() for r in rows])]
    columns, used = [], key_w
    for name, values in fixed + list(cells.items()):
        w = max(len(name), *(len(v) for v in values)) if values else len(name)
        if used + 2 + w > width and name not in ("waiter", "verdict"):
            continue
        columns.append((name, values, w))
        used += 2 + w
    fmt = "  ".join([f"{{:<{key_w}}}"] + [f"{{:<{w}}}" for _, _, w in columns])
    indent = " " * 4
    lines = [part for line in head_lines(doc) for part in textwrap.wrap(line, width, subsequent_indent=indent)]
    lines.append(fmt.format("result", *(n for n, _, _ in columns)).rstrip())
    shown = {n for n, _, _ in columns}
    for i, r in enumerate(rows):
        # a key is never cut (it is what ``explain`` takes): a long one gets a line of its own
        if len(keys[i]) > key_w:
            lines.append(keys[i])
        name = keys[i] if len(keys[i]) <= key_w else ""
        lines.append(fmt.format(name, *(values[i] for _, values, _ in columns)).rstrip())
        if not full:
            continue
        extra = []
        if r["verdict"] != "pass" and r.get("reason"):
            extra.append("reason: " + r["reason"].splitlines()[0])
        if r.get("finding"):
            extra.append("FINDING: " + r["finding"])
        other = {k: v for k, v in r.get("facts", {}).items() if k not in shown}
        if other:
            extra.append(" ".join(f"{k}={_fact(v)}" for k, v in other.items() if v is not None))
        for text in extra:
            lines += textwrap.wrap(text, width=max(40, width), initial_indent=indent, subsequent_indent=indent + "  ")
    lines.append(f"{len(rows)} of {len(doc.get('results', []))} results")
    return "\n".join(lines)
