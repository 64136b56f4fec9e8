"""What changed between kernels, and why: every difference of a pair of kernels with its causes.

The unit is a pair of kernels (``pair_differences``): for each result both ran, each fact
whose values differ (and the verdict, when it differs) is one ``Difference``.  Its causes
are exactly the mechanisms (``mechanisms``) that reach that fact and whose value differs
between the two kernels; none is "unattributed", a finding to investigate, never guessed.
The causes of a pair read only the two kernels' own reports, so a pair's attribution is the
same whether it is compared alone or among other kernels.

The whole comparison (``what_changed``, the lines at the top of compare.md/.html) is the
differences of neighbouring kernels (each kernel and the nearest one to its left that ran
the result), grouped by cause.  A row with a finding (a wakeup no rule predicts) is a
finding, whatever else differs.  A row whose facts were recorded with the natural skb layout
on both kernels is "timing-dependent": its values follow the RTT each run measured, so no
kernel cause is claimed for it, and it is listed apart, as no difference of the kernels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .comparison import Cell, Comparison, Row
from .mechanisms import Applied, differing, reaching

NO_DIFFERENCE = ("No difference: every kernel that ran a case agrees on its verdict and on every "
                 "fact recorded under pinned conditions.")
TIMING = ("timing-dependent", "not a difference of the kernels: recorded with the natural skb "
                               "layout, these values follow the RTT and pacing rate each run measured "
                               "(each case's conditions)")
UNATTRIBUTED = ("unattributed", "no mechanism that reaches these facts differs between the kernels: "
                                "a finding to investigate")


@dataclass(frozen=True)
class Difference:
    """One fact of one result that differs between two kernels, with what explains it."""

    key: str
    fact: str                 # a fact's name, or "verdict"
    before: Any               # on the older kernel (the pair's first)
    after: Any
    causes: tuple[Applied, ...]
    mode: str = ""
    timing: bool = False      # recorded with the natural layout on both: not a kernel difference
    layout: str = ""          # the skb layout both recorded it with (conditions.layout), if the same

    def as_json(self, before: str, after: str) -> dict[str, Any]:
        return {"key": self.key, "fact": self.fact, "kernel": {"before": before, "after": after},
                "before": self.before, "after": self.after, "timing_dependent": self.timing,
                "cause": [{"name": c.mechanism.name, "what": c.mechanism.what, "commit": c.mechanism.commit,
                           "release": c.mechanism.release, "before": c.before, "after": c.after}
                          for c in self.causes]}


@dataclass(frozen=True)
class Cause:
    """One line of "What changed": a cause, its kernels and values, the rows it explains."""

    kind: str                 # mechanism | finding | timing-dependent | unattributed
    title: str
    values: tuple[tuple[str, str], ...]  # (kernel title, value) per kernel
    keys: tuple[str, ...]
    also: tuple[str, ...] = ()


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _ran(cell: Cell | None) -> bool:
    return cell is not None and cell.ran


def row_differences(row: Row, a: Cell, b: Cell, applied: list[Applied]) -> list[Difference]:
    """The facts (and verdict) of one row that differ between cells ``a`` and ``b``."""
    timing = bool(a.conditions.get("timing_dependent")) and bool(b.conditions.get("timing_dependent"))
    layout = str(a.conditions.get("layout") or "") if a.conditions.get("layout") == b.conditions.get("layout") else ""
    out = []
    if a.verdict != b.verdict:
        out.append(Difference(row.key, "verdict", a.verdict, b.verdict, reaching(applied, "verdict", row.topic, row.scenario), row.mode,
                              layout=layout))
    for name in list(a.facts) + [n for n in b.facts if n not in a.facts]:
        va, vb = a.facts.get(name), b.facts.get(name)
        if _dump(va) != _dump(vb):
            out.append(Difference(row.key, name, va, vb,
                                  () if timing else reaching(applied, name, row.topic, row.scenario),
                                  row.mode, timing, layout))
    return out


def pair_differences(comparison: Comparison, a: str, b: str) -> list[Difference]:
    """Every difference between kernels ``a`` (before) and ``b`` (after), rows in order."""
    applied = differing(comparison, a, b)
    out = []
    for row in comparison.rows:
        ca, cb = row.cells.get(a), row.cells.get(b)
        if _ran(ca) and _ran(cb):
            out += row_differences(row, ca, cb, applied)
    return out


def neighbours(comparison: Comparison, row: Row) -> list[tuple[str, str]]:
    """(left, right) kernel ids: each kernel that ran the row and the nearest one to its left that did."""
    ran = [k.id for k in comparison.kernels if _ran(row.cells.get(k.id))]
    return list(zip(ran, ran[1:]))


def what_changed(comparison: Comparison) -> list[Cause]:
    """The causes of the differing rows, most rows first; unexplained ones last."""
    titles = {k.id: k.title for k in comparison.kernels}
    applied_by_pair: dict[tuple[str, str], list[Applied]] = {}
    groups: dict[tuple[str, str], list[str]] = {}
    values: dict[tuple[str, str], dict[str, str]] = {}
    for row in comparison.rows:
        finding = _finding(row)
        if finding is not None:
            ident = ("finding", f"{row.scenario}: {finding}")
            groups.setdefault(ident, []).append(row.key)
            values.setdefault(ident, {kid: "finding" if c is not None and c.finding else
                                      ("\u2014" if c is None else c.verdict) for kid, c in row.cells.items()})
            continue
        idents: list[tuple[str, str]] = []
        for a, b in neighbours(comparison, row):
            applied = applied_by_pair.setdefault((a, b), differing(comparison, a, b))
            for d in row_differences(row, row.cells[a], row.cells[b], applied):
                if d.timing:
                    ident = TIMING
                elif not d.causes:
                    ident = UNATTRIBUTED
                else:
                    for c in d.causes:
                        ident = ("mechanism", c.mechanism.what + (f" ({c.mechanism.origin})"
                                                                  if c.mechanism.origin else ""))
                        values.setdefault(ident, {})[a] = _short(c.before)
                        values[ident][b] = _short(c.after)
                        idents.append(ident)
                    continue
                idents.append(ident)
        for ident in dict.fromkeys(idents):
            groups.setdefault(ident, []).append(row.key)
    order = {"mechanism": 0, "finding": 1, "timing-dependent": 2, "unattributed": 3}
    causes = [Cause(kind, title, tuple((titles[k], v) for k, v in values.get((kind, title), {}).items()),
                    tuple(keys)) for (kind, title), keys in groups.items()]
    causes.sort(key=lambda c: (order[c.kind], -len(c.keys), c.title))
    return causes


def _finding(row: Row) -> str | None:
    return next((c.finding for c in row.cells.values() if c is not None and c.finding), None)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else _dump(value)
    return text if len(text) <= 40 else text[:39] + "\u2026"


def cause_sentence(cause: Cause) -> str:
    """The cause as plain text, without the links (renderers add those)."""
    values = ", ".join(f"{k} = {v}" for k, v in cause.values)
    text = f"{cause.kind}: {cause.title}"
    if values:
        text += f" [{values}]"
    text += f"; explains {len(cause.keys)} case(s)"
    return text


def finding_files(comparison: Comparison, cause: Cause) -> list[tuple[str, str]]:
    """("timeline" | "capture", path) of the cells behind a cause that failed or hold a
    finding, first row first."""
    out = []
    for row in comparison.rows:
        if row.key not in cause.keys:
            continue
        for cell in row.cells.values():
            if cell is not None and (cell.finding or cell.verdict in ("fail", "error")):
                out += [(kind, path) for kind, path in (("timeline", cell.timeline), ("capture", cell.capture))
                        if path]
        if out:
            break
    return out
