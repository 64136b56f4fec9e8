"""What changes if I move from kernel A to kernel B: one screen, in words about readiness.

Built on the comparison model and ``causes.pair_differences`` (no second implementation of
what differs): first whether any readiness rule differs, then the differences grouped by
cause (the cause with its commit and release, the number of cases, one line per fact saying
what it does to readiness, the command that lists the keys), then what differs without a
known cause, with its facts.  Facts recorded with the natural skb layout follow the RTT each
run measured: they are counted on one line, not listed as differences of the kernels.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .causes import Difference, pair_differences
from .comparison import Comparison, Kernel
from .facts import FACTS, change_words
from .mechanisms import SEQUENCE_FACTS, WMEM_FACTS, rule_mechanisms

FACT_LINES = 6     # lines per cause before "... N more facts"
UNATTRIBUTED_LINES = 6
TIMING = "timing"
UNKNOWN = "unattributed"


@dataclass(frozen=True)
class KernelDiff:
    before: Kernel
    after: Kernel
    differences: tuple[Difference, ...]

    def group(self, name: str) -> list[Difference]:
        """The differences of one group: a cause's name, ``unattributed`` or ``timing``."""
        return [d for d in self.differences if group_of(d) == name]


def group_of(d: Difference) -> str:
    if d.timing:
        return TIMING
    return " + ".join(c.mechanism.name for c in d.causes) if d.causes else UNKNOWN


def kernel_diff(comparison: Comparison, a: str, b: str) -> KernelDiff:
    """The differences between kernels ``a`` (before) and ``b`` (after) of ``comparison``."""
    return KernelDiff(comparison.kernel(a), comparison.kernel(b), tuple(pair_differences(comparison, a, b)))


def _version(k: Kernel) -> str:
    return k.package_version or ".".join(map(str, k.version))


def rules_line(diff: KernelDiff) -> str:
    """Whether a readiness rule differs, and which rule changes the two versions cite."""
    a, b = diff.before, diff.after
    differs = rule_mechanisms(a, b)
    cited = {str(c.get("title")): c for k in (a, b) for c in k.rules.get("changes") or [] if isinstance(c, dict)}
    if differs:
        items = "; ".join(f"{x.mechanism.what.removeprefix('rule change ')} ({x.mechanism.origin}): "
                          f"{x.before} -> {x.after}" for x in differs)
        return f"epoll readiness rules DIFFER: {items}"
    applies = sum(1 for c in cited.values() if c.get("applies"))
    return (f"epoll readiness rules: identical (the same {applies} of the {len(cited)} rule changes the "
            f"suite cites apply to {_version(a)} and {_version(b)})")


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "null" if value is None else str(value)


def fact_lines(diffs: list[Difference], limit: int) -> list[str]:
    """One line per fact (the most common change of its values, with how many cases), at most ``limit``."""
    by_fact: dict[str, Counter] = {}
    cases: dict[str, set[str]] = {}
    for d in diffs:
        mode = d.mode if d.fact in ("waking_ack",) else ""
        by_fact.setdefault(d.fact, Counter())[(_value(d.before), _value(d.after), mode, d.layout)] += 1
        cases.setdefault(d.fact, set()).add(d.key)
    # the facts people ask about first (the catalogue's order), then the most cases
    order = {name: i for i, name in enumerate(FACTS)}
    names = sorted(by_fact, key=lambda f: (order.get(f, len(order)), -len(cases[f]), f))
    lines = []
    for name in names[:limit]:
        if name == "verdict":
            # verdicts go both ways between two runs where a case is not deterministic: count each way
            ways = Counter()
            for (before, after, _, _), n in by_fact[name].items():
                ways[f"{before} -> {after}"] += n
            lines.append("  verdict differs: " + ", ".join(f"{n} {way}" for way, n in ways.most_common()))
            continue
        (before, after, mode, layout), _ = by_fact[name].most_common(1)[0]
        others = len(by_fact[name]) - 1
        # the skb layout is the condition of what the send buffer holds; other facts need no layout
        condition = f"{layout} layout, " if layout and name in WMEM_FACTS | SEQUENCE_FACTS else ""
        line = f"  {change_words(name, before, after, mode)} ({condition}{len(cases[name])} case(s)"
        line += f"; {others} other value pair(s))" if others else ")"
        lines.append(line)
    if len(names) > limit:
        lines.append(f"  ... and {len(names) - limit} more fact(s): " + ", ".join(names[limit:limit + 6])
                     + (" ..." if len(names) > limit + 6 else ""))
    return lines


def render(diff: KernelDiff, command: str) -> list[str]:
    """The screen: ``command`` is how the reader ran it (``epoll-semantics diff A B``), for the hints."""
    a, b = diff.before, diff.after
    kernel = [d for d in diff.differences if not d.timing]
    rows = {d.key for d in kernel}
    lines = [rules_line(diff),
             f"{a.release} ({_version(a)}) -> {b.release} ({_version(b)}): "
             + (f"{len(rows)} case(s) differ" if rows else "no case differs")
             + " in a fact recorded under pinned conditions or in its verdict"]
    groups: dict[str, list[Difference]] = {}
    for d in kernel:
        groups.setdefault(group_of(d), []).append(d)
    named = sorted((g for g in groups if g != UNKNOWN), key=lambda g: (-len({d.key for d in groups[g]}), g))
    for name in named:
        diffs = groups[name]
        causes = " and ".join(c.sentence() for c in diffs[0].causes)
        lines.append(f"{causes}: {len({d.key for d in diffs})} case(s)")
        lines += fact_lines(diffs, FACT_LINES)
        lines.append(f"  keys: {command} --keys {name}")
    if UNKNOWN in groups:
        diffs = groups[UNKNOWN]
        lines.append(f"without a known cause (a finding to investigate): {len({d.key for d in diffs})} case(s)")
        lines += fact_lines(diffs, UNATTRIBUTED_LINES)
        lines.append(f"  keys: {command} --keys {UNKNOWN}")
    timing = {d.key for d in diff.differences if d.timing}
    if timing:
        lines.append(f"not kernel differences: {len(timing)} case(s) recorded with the natural skb layout "
                     f"differ with the RTT each run measured ({command} --keys {TIMING})")
    return lines


def keys(diff: KernelDiff, group: str) -> list[str]:
    """The keys of a group, each with its differing facts: what ``--keys NAME`` prints."""
    out: dict[str, list[str]] = {}
    for d in diff.differences:
        if group_of(d) == group or group in [c.mechanism.name for c in d.causes]:
            out.setdefault(d.key, []).append(f"{d.fact} {_value(d.before)} -> {_value(d.after)}")
    return [f"{k}  {'; '.join(v)}" for k, v in out.items()]


def groups(diff: KernelDiff) -> list[str]:
    return sorted({group_of(d) for d in diff.differences})


def as_json(diff: KernelDiff) -> list[dict[str, Any]]:
    return [d.as_json(diff.before.release, diff.after.release) for d in diff.differences]


DIFF_SCHEMA, DIFF_SCHEMA_VERSION = "epoll-semantics.differences", 1
DIFF_SCHEMA_FILE = Path(__file__).with_name("schema") / f"differences-v{DIFF_SCHEMA_VERSION}.json"


def _kernel_json(k: Kernel) -> dict[str, Any]:
    return {"release": k.release, "version": list(k.version), "package_version": k.package_version,
            "label": k.label, "source": k.source}


def document(diffs: list[KernelDiff]) -> dict[str, Any]:
    """The differences of each pair as data (schema/differences-v1.json)."""
    return {"schema": DIFF_SCHEMA, "schema_version": DIFF_SCHEMA_VERSION,
            "pairs": [{"before": _kernel_json(d.before), "after": _kernel_json(d.after),
                       "rules_differ": bool(rule_mechanisms(d.before, d.after)),
                       "differences": as_json(d)} for d in diffs]}


def neighbour_diffs(comparison: Comparison) -> list[KernelDiff]:
    """Each kernel against the one to its left (version order): 5.10 -> 6.1 -> 6.12 -> 7.x."""
    ids = [k.id for k in comparison.kernels]
    return [kernel_diff(comparison, a, b) for a, b in zip(ids, ids[1:])]


def validate_document(doc: Any) -> None:
    """Raise jsonschema.ValidationError where ``doc`` does not follow the differences schema."""
    from jsonschema import Draft202012Validator

    Draft202012Validator(json.loads(DIFF_SCHEMA_FILE.read_text(encoding="utf-8"))).validate(doc)


def matrix_diffs(comparison: Comparison) -> list[KernelDiff]:
    """The neighbouring diffs a comparison opens with: of the guests alone when there are
    several (the host is not mixed into a comparison of guests), else of every kernel."""
    guests = [k.id for k in comparison.kernels if k.label == "guest"]
    ids = guests if len(guests) > 1 else [k.id for k in comparison.kernels]
    return [kernel_diff(comparison, a, b) for a, b in zip(ids, ids[1:])]


def diff_command(diff: KernelDiff, prog: str = "epoll-semantics") -> str:
    return f"{prog} diff {diff.before.release} {diff.after.release}"
