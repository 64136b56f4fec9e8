"""A guest's report turned into a kernel mutant's verdict.  Pure: reads what it is given.

A failed case's report line (``reason``) starts with its first divergence, as
harness.cases.verdict.settle writes it: ``step N (label): CHECK required X, observed Y``,
or ``claim failed: WHAT`` for a scenario's own claim (pytest may put ``Failed: `` before
either).  The check's name (or the claim) is the rule the case says the kernel broke; a
mutant's rules are matched against the whole line, so that "epoll_wait(ET) required OUT,
observed -" (a wakeup missing) is told from "required -, observed OUT" (one too many).

Verdicts: the identity must pass (``passed``; anything else is ``FAILED``).  A mutant is
``killed`` when a case fails and its first divergence names the mutant's rule,
``misnamed`` when cases fail but none names it, ``survived`` when nothing fails (or
everything was skipped), and ``infra`` when the guest produced no report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .catalogue import Mutant

_STEP = re.compile(r"^step (?P<step>\d+) \((?P<label>.*)\): (?P<check>.+?) required (?P<req>.*), "
                   r"observed (?P<obs>.*)$")
_CLAIM = re.compile(r"^claim failed: (?P<what>.+)$")


@dataclass(frozen=True)
class Divergence:
    """A failed case's first divergence: the check (or claim) and the case's key."""

    key: str
    rule: str
    step: int | None = None
    line: str = ""


def divergence(key: str, reason: str | None) -> Divergence:
    """The first divergence a failed case's report line states.  A line of another shape (an
    exception, a timeout) is its own rule: its first words, so the table still says it."""
    line = (reason or "").strip().splitlines()[0] if (reason or "").strip() else ""
    line = line.removeprefix("Failed: ")
    m = _STEP.match(line)
    if m:
        return Divergence(key, m["check"], int(m["step"]), line)
    m = _CLAIM.match(line)
    if m:
        return Divergence(key, f"claim: {m['what']}", None, line)
    return Divergence(key, f"other: {line[:80] or 'no reason given'}", None, line)


@dataclass
class Verdict:
    mutant: str
    verdict: str                 # passed | FAILED | killed | misnamed | survived | infra
    counts: dict[str, int] = field(default_factory=dict)
    first: Divergence | None = None   # the divergence the table shows
    failed: list[Divergence] = field(default_factory=list)
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in ("passed", "killed")


def judge(mutant: Mutant, report: dict | None, infra_reason: str = "") -> Verdict:
    """The verdict of one guest run of ``mutant`` from its report (None: there is none)."""
    if report is None or not report.get("results"):
        return Verdict(mutant.name, "infra", reason=infra_reason or "the guest wrote no report")
    counts: dict[str, int] = {}
    failed = []
    for r in report["results"]:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        if r["verdict"] in ("fail", "error"):
            failed.append(divergence(r["key"], r.get("reason")))
    if mutant.expects_pass:
        if failed:
            return Verdict(mutant.name, "FAILED", counts, failed[0], failed,
                           "the unmodified copies must pass")
        if not counts.get("pass"):
            return Verdict(mutant.name, "FAILED", counts, reason="nothing passed (all skipped?)")
        return Verdict(mutant.name, "passed", counts)
    if not failed:
        return Verdict(mutant.name, "survived", counts, reason="no case failed")
    named = [d for d in failed if mutant.names_rule(d.line)]
    if named:
        return Verdict(mutant.name, "killed", counts, named[0], failed)
    return Verdict(mutant.name, "misnamed", counts, failed[0], failed,
                   "cases failed, but no first divergence names the mutant's rule")
