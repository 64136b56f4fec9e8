"""What changed between kernels, grouped by cause: the lines at the top of the comparison.

A differing row is attributed to the first cause that explains it, meaning every pair of
kernels on which the cause agrees also agree on the row (same verdict, same values of the
facts that differ).  The causes tried, in order:

* an accounting constant the ``accounting`` scenarios measured on each kernel (the skb head
  truesize, changed by "net: add dedicated kmem_cache for typical/small skb->head",
  bf9f1baa279f, v6.3; the SO_SNDBUF factor; the starting sndbuf);
* a rule change the model applies on some kernels and not on others (its commit and the
  kernels that carry it come from the reports' ``rules.changes``).

A row with a finding (a wakeup no rule predicts) is a finding, whatever else differs.  A row
whose facts were all recorded with the natural skb layout is "timing-dependent": its values
follow the RTT each run measured (recorded in ``conditions``), so no kernel cause is claimed
for it, and it is listed apart, as no difference of the kernels.  A row no cause explains
is "unattributed": listed as such, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .comparison import Comparison, Row

ACCOUNTING_TOPIC = "accounting"

# Constants in the order they are tried, with what is known of their history.  Derived
# facts (wmem_queued_per_mss is the truesize plus the MSS) are left out: they would only
# repeat the constant they come from.
CONSTANTS: dict[str, str] = {
    "skb_head_truesize": "skb head truesize; bf9f1baa279f (v6.3) gave small heads their own "
                         "kmem_cache",
    "sndbuf_factor": "SO_SNDBUF doubling (sk_setsockopt)",
    "fresh_sndbuf": "a new socket's sndbuf (tcp_wmem[1])",
    "established_sndbuf": "the sndbuf tcp_sndbuf_expand() gives an established socket",
}


NO_DIFFERENCE = ("No difference: every kernel that ran a case agrees on its verdict and on every "
                 "fact recorded under pinned conditions.")
TIMING = ("timing-dependent", "not a difference of the kernels: recorded with the natural skb "
                               "layout, these values follow the RTT and pacing rate each run measured "
                               "(each case's conditions)")


@dataclass(frozen=True)
class Cause:
    """One line of "What changed": a cause, its kernels and values, the rows it explains."""

    kind: str                 # accounting constant | rule change | finding | timing-dependent | unattributed
    title: str
    values: tuple[tuple[str, str], ...]  # (kernel title, value) per kernel
    keys: tuple[str, ...]
    also: tuple[str, ...] = ()           # other causes that split the kernels the same way


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def constants(comparison: Comparison) -> dict[str, dict[str, Any]]:
    """{constant: {kernel id: value}} from the accounting rows (first family that has it)."""
    out: dict[str, dict[str, Any]] = {}
    for row in comparison.rows:
        if row.topic != ACCOUNTING_TOPIC:
            continue
        for kid, cell in row.cells.items():
            if cell is None or not cell.ran:
                continue
            for name in CONSTANTS:
                if name in cell.facts:
                    out.setdefault(name, {}).setdefault(kid, cell.facts[name])
    return out


def rule_changes(comparison: Comparison) -> list[tuple[str, dict[str, Any]]]:
    """(label, {kernel id: applies}) for each rule change that some kernels carry and some not."""
    found: dict[str, dict[str, Any]] = {}
    for k in comparison.kernels:
        for change in k.rules.get("changes") or []:
            if not isinstance(change, Mapping) or not change.get("title"):
                continue
            commit = change.get("commit")
            label = f"{change['title']}" + (f" ({commit})" if commit else "") + \
                (f", since {change['since']}" if change.get("since") else "")
            found.setdefault(label, {})[k.id] = bool(change.get("applies"))
    return [(label, applies) for label, applies in found.items() if len(set(applies.values())) > 1]


def _signature(row: Row, kid: str) -> str:
    cell = row.cells[kid]
    return _dump([cell.verdict] + [cell.facts.get(f) for f in sorted(row.differing_facts)])


def explains(row: Row, values: Mapping[str, Any]) -> bool:
    """Kernels with the same value of the cause agree on the row (and every kernel that ran
    the row has a value)."""
    ran = [kid for kid, c in row.cells.items() if c is not None and c.ran]
    if any(kid not in values for kid in ran):
        return False
    by_value: dict[str, str] = {}
    for kid in ran:
        sig = _signature(row, kid)
        if by_value.setdefault(_dump(values[kid]), sig) != sig:
            return False
    return True


def what_changed(comparison: Comparison) -> list[Cause]:
    """The causes of the differing rows, most rows first; unexplained ones last."""
    titles = {k.id: k.title for k in comparison.kernels}
    consts = constants(comparison)
    candidates: list[tuple[str, str, dict[str, Any]]] = [
        ("accounting constant", f"{name}: {CONSTANTS[name]}", values)
        for name, values in consts.items() if len({_dump(v) for v in values.values()}) > 1
    ]
    candidates += [("rule change", label, {k: "carries it" if a else "does not"
                                            for k, a in applies.items()})
                   for label, applies in rule_changes(comparison)]
    groups: dict[tuple[str, str], list[str]] = {}
    group_values: dict[tuple[str, str], dict[str, Any]] = {}
    also: dict[tuple[str, str], set[str]] = {}
    for row in comparison.rows:
        finding = _finding(row)
        if finding is None and not row.differs and not row.timing_differs:
            continue
        if finding is not None:
            ident = ("finding", f"{row.scenario}: {finding}")
            groups.setdefault(ident, []).append(row.key)
            group_values.setdefault(ident, {kid: "finding" if c is not None and c.finding else
                                            ("\u2014" if c is None else c.verdict)
                                            for kid, c in row.cells.items()})
            continue
        fits = [] if row.timing_differs else [c for c in candidates if explains(row, c[2])]
        if row.timing_differs:
            ident = TIMING
        elif fits:
            kind, title, values = fits[0]
            ident = (kind, title)
            group_values[ident] = values
            also.setdefault(ident, set()).update(t for _, t, _ in fits[1:])
        else:
            ident = ("unattributed", "no measured constant or rule change explains these")
        groups.setdefault(ident, []).append(row.key)
    order = {"accounting constant": 0, "rule change": 1, "finding": 2, "timing-dependent": 3, "unattributed": 4}
    causes = []
    for (kind, title), keys in groups.items():
        values = group_values.get((kind, title), {})
        causes.append(Cause(kind, title, tuple((titles[k], _short(values[k])) for k in titles if k in values),
                            tuple(keys), tuple(sorted(also.get((kind, title), ())))))
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
    if cause.also:
        text += "; also consistent with: " + "; ".join(cause.also)
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
