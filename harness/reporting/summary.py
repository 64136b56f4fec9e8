"""One screen per run: one line per scenario, failures first, the kernel and capabilities on top.

A scenario runs in several variants (waiter, congestion control, family, ACK mode); its line
shows one cell per waiter (ET, LT, poll, select, io_uring poll one-shot ``uring1`` and
multishot ``uringM`` when the report has them, or the scenario's own mode) saying how its
variants went, and the scenario's headline fact (the first of ``report.KEY_FACTS`` it has,
as a range when the variants differ), or for a failing one the first failure's reason.
``epoll-semantics table --full`` has every result.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from typing import Any

from .report import _fact

WAITERS = ("ET", "LT", "poll", "select", "uring-oneshot", "uring-multishot")
# io_uring poll requests get a column only in a report that has them, under a short name
URING_COLUMNS = {"uring-oneshot": "uring1", "uring-multishot": "uringM"}
MAX_LINES = 60
BAD = ("fail", "error")
# The fact that says most about a scenario, first: which ACK woke the writer.
HEADLINE_FACTS = ("waking_ack", "attributed_ack", "bytes_before_eagain", "bytes_before_block",
                  "wmem_queued_at_wake", "sndbuf_at_wake")


def waiter_of(r: dict) -> str:
    p = r.get("params", {})
    for v in (p.get("waiter"), p.get("mode"), r.get("facts", {}).get("mode"), r.get("mode")):
        if v in WAITERS:
            return v
    return "other"


def cell(verdicts: list[str]) -> str:
    """How a scenario's variants for one waiter went: ok, ok+2skip, FAIL 1/8, skip, -."""
    if not verdicts:
        return "-"
    n = len(verdicts)
    bad = sum(v in BAD for v in verdicts)
    if bad:
        word = "FAIL" if any(v == "fail" for v in verdicts) else "ERROR"
        return f"{word} {bad}/{n}"
    skipped = verdicts.count("skip")
    if skipped == n:
        return "skip"
    return "ok" if not skipped else f"ok+{skipped}skip"


def headline(results: list[dict]) -> str:
    bad = next((r for r in results if r["verdict"] in BAD), None)
    if bad is not None:
        return (bad.get("reason") or bad["verdict"]).splitlines()[0].removeprefix("Failed: ")
    finding = next((r["finding"] for r in results if r.get("finding")), None)
    if finding:
        return "FINDING: " + finding
    for name in HEADLINE_FACTS:
        # one range per skb layout: the natural layout's values follow the RTT, the pinned
        # one's the kernel, and one range across both would say neither
        by_layout: dict[str, set[str]] = defaultdict(set)
        for r in results:
            value = r.get("facts", {}).get(name)
            if value is not None:
                by_layout[str(r.get("conditions", {}).get("layout") or "")].add(_fact(value))
        if by_layout:
            parts = []
            for layout in sorted(by_layout, key=lambda lay: lay == "natural"):
                shown = sorted(by_layout[layout], key=lambda x: (len(x), x))
                span = shown[0] if len(shown) == 1 else f"{shown[0]}..{shown[-1]}"
                parts.append(span + (f" {layout}" if layout and len(by_layout) > 1 else ""))
            return f"{name} " + ", ".join(parts)
    first = next((r for r in results if r.get("facts", {}).get("masks")), None)
    if first is not None:
        return f"{waiter_of(first)} masks " + " ".join(first["facts"]["masks"])
    return ""


def group(results: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        out[f"{r['topic']}/{r['scenario']}"].append(r)
    return out


def counts(results: list[dict]) -> dict[str, int]:
    c = {v: 0 for v in ("pass", "fail", "skip", "error")}
    for r in results:
        c[r["verdict"]] = c.get(r["verdict"], 0) + 1
    return c


def count_line(results: list[dict]) -> str:
    c = counts(results)
    return f"{c['pass']} passed, {c['fail']} failed, {c['skip']} skipped, {c['error']} error"


def head_lines(doc: dict[str, Any]) -> list[str]:
    k = doc.get("kernel", {})
    caps = doc.get("capabilities", {})
    have = [n for n, c in caps.items() if c.get("ok")]
    missing = [f"{n} ({c.get('reason', '')})" for n, c in caps.items() if not c.get("ok")]
    cc = doc.get("congestion_control", {})
    rules = doc.get("rules", {}).get("kernel_rule_set", "?")
    lines = [f"kernel {k.get('release', '?')} ({k.get('machine', '?')}), rule set {rules}, "
             f"{doc.get('label', 'host')}: {count_line(doc.get('results', []))}"]
    lines.append("capabilities: " + (" ".join(have) or "none")
                 + ("; missing: " + "; ".join(missing) if missing else ""))
    if cc:
        lines.append(f"congestion control: default {cc.get('default')}, available {' '.join(cc.get('available', []))}")
    if "bounded" in doc.get("summary", {}):
        lines.append(f"verdicts resting on bounds: {doc['summary']['bounded']} (series steps with basis "
                     "'bounded': no exact accounting or kernel witness decided them)")
    if doc.get("partial"):
        lines.append(f"a subset ({doc['partial'].get('why')}): the full report is {doc['partial'].get('full_report')}")
    return lines


def summary(doc: dict[str, Any], width: int = 120, max_lines: int = MAX_LINES) -> str:
    """The one-screen view of a report: at most ``max_lines`` lines of at most ``width``."""
    groups = group(doc.get("results", []))
    names = sorted(groups, key=lambda n: (not any(r["verdict"] in BAD for r in groups[n]), n))
    present = {waiter_of(r) for r in doc.get("results", [])}
    columns = tuple(w for w in WAITERS if w not in URING_COLUMNS or w in present) + (("own",) if "other" in present else ())
    # the name gives way to the headline on a narrow terminal, down to 28 columns
    name_w = min(max((len(n) for n in names), default=8), max(28, min(44, width - 9 * len(columns) - 30)))
    head = [part for line in head_lines(doc) for part in textwrap.wrap(line, width, subsequent_indent="    ")]
    fmt = f"{{:<{name_w}}}" + "".join(" {:<8}" for _ in columns) + " {}"
    lines = head + [fmt.format("scenario", *(URING_COLUMNS.get(c, c) for c in columns), "headline").rstrip()]
    room = max_lines - len(lines) - 2  # the closing line of the run, and a "more" line
    for n in names[:room] if len(names) > room + 1 else names:
        by = defaultdict(list)
        for r in groups[n]:
            by[waiter_of(r) if waiter_of(r) in WAITERS else "own"].append(r["verdict"])
        # a name is never cut (a part of a key, for ``explain``): a long one gets a line of its own
        if len(n) > name_w:
            lines.append(n)
        short = n if len(n) <= name_w else ""
        row = fmt.format(short, *(cell(by.get(c, [])) for c in columns), headline(groups[n]))
        lines.append(row if len(row) <= width else row[:width - 3] + "...")
    if len(names) > room + 1:
        lines.append(f"... {len(names) - room} more scenarios: epoll-semantics table --full")
    return "\n".join(lines)
