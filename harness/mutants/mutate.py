"""The pure logic of the mutation check: apply a mutant to a text, judge a run, the table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from .catalogue import Mutant


class DoesNotApply(ValueError):
    """The mutant's text does not occur exactly once in its file."""


def apply(text: str, mutant: Mutant) -> str:
    """``text`` with the mutant's one replacement made; DoesNotApply unless ``old`` occurs once."""
    n = text.count(mutant.old)
    if n != 1:
        raise DoesNotApply(f"{mutant.name}: its text occurs {n} times in {mutant.path}, not once")
    if mutant.old == mutant.new:
        raise DoesNotApply(f"{mutant.name}: replaces its text with itself")
    return text.replace(mutant.old, mutant.new)


@dataclass(frozen=True)
class Outcome:
    mutant: str
    what: str
    status: str          # killed | survived | broken | not-applied
    killed_by: str = ""  # the first failing test, or why the run says nothing
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "killed"


def first_failure(junit_xml: str) -> str:
    """'file::test[params]: first line of the message' of the first failing testcase."""
    root = ET.fromstring(junit_xml)
    for case in root.iter("testcase"):
        for tag in ("failure", "error"):
            bad = case.find(tag)
            if bad is not None:
                name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
                message = (bad.get("message") or "").strip().splitlines()
                return name + (f": {message[0][:120]}" if message else "")
    return ""


# pytest's exit codes (pytest.ExitCode): 0 all passed, 1 some failed, 2 interrupted,
# 3 internal error, 4 usage error, 5 no tests collected; and the runner's own timeout.
TIMED_OUT = 124
def judge(mutant: Mutant, returncode: int, junit_xml: str, seconds: float) -> Outcome:
    """A run's verdict on a mutant: killed only by a failing test, never by a broken run."""
    if returncode == 0:
        return Outcome(mutant.name, mutant.what, "survived", "every selected test passed", seconds)
    if returncode == 1:
        who = first_failure(junit_xml) if junit_xml else ""
        return Outcome(mutant.name, mutant.what, "killed", who or "a test failed", seconds)
    why = {2: "run interrupted or collection failed", 3: "pytest internal error", 4: "usage error",
           5: "no test selected", TIMED_OUT: "the run timed out"}.get(returncode, f"exit code {returncode}")
    return Outcome(mutant.name, mutant.what, "broken", why, seconds)


def table(outcomes: list[Outcome], total: float) -> str:
    """The table the check prints: one row per mutant, then the totals."""
    rows = [("mutant", "what it changes", "status", "killed by", "seconds")]
    rows += [(o.mutant, o.what, o.status, o.killed_by, f"{o.seconds:.1f}") for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4].rjust(7))
    lines.insert(1, "-" * len(lines[0]))
    killed = sum(o.ok for o in outcomes)
    lines.append(f"{killed}/{len(outcomes)} mutants killed in {total:.1f}s"
                 + ("" if killed == len(outcomes) else f"; not killed: {', '.join(o.mutant for o in outcomes if not o.ok)}"))
    return "\n".join(lines)
