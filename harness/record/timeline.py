"""Every step of a case in order: syscalls, packets, accounting, epoll results, and checks.

The timeline is what a failing test prints.  A *check* pairs what the rule engine required
at a step with what the kernel did; the first check that disagrees is the divergence, and
the rendering marks it so a reader starts there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Entry:
    t: float
    step: int
    kind: str  # call | in | out | acct | epoll | check | note
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Check:
    step: int
    what: str
    expected: Any
    observed: Any
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.expected == self.observed


class Timeline:
    def __init__(self, title: str = "", clock: Callable[[], float] = time.time) -> None:
        self.title = title
        self.clock = clock
        self.t0 = clock()
        self.entries: list[Entry] = []
        self.checks: list[Check] = []
        self.step = 0
        self.labels: dict[int, str] = {0: "setup"}

    def begin(self, label: str) -> int:
        """Start a new step (an action of the scenario) and return its number."""
        self.step += 1
        self.labels[self.step] = label
        return self.step

    def add(self, kind: str, text: str, t: float | None = None, **data: Any) -> Entry:
        entry = Entry(self.clock() if t is None else t, self.step, kind, text, data)
        self.entries.append(entry)
        return entry

    def check(self, what: str, expected: Any, observed: Any, why: str = "") -> Check:
        c = Check(self.step, what, expected, observed, why)
        self.checks.append(c)
        mark = "ok" if c.ok else "MISMATCH"
        self.add("check", f"{what}: required {expected}, observed {observed} [{mark}]"
                 + (f" ({why})" if why else ""))
        return c

    def first_divergence(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)

    def packets(self) -> list[tuple[float, bytes]]:
        """(timestamp, raw IP packet) of every packet seen, in order, for the pcap."""
        return [(e.t, e.data["raw"]) for e in self.entries if e.kind in ("in", "out") and "raw" in e.data]

    def render(self, limit: int | None = None) -> str:
        """The timeline as text; the step of the first divergence is marked with '>>'."""
        bad = self.first_divergence()
        lines = [f"timeline: {self.title}" if self.title else "timeline:"]
        if bad is not None:
            lines.append(f"first divergence at step {bad.step} ({self.labels.get(bad.step, '')}): "
                         f"{bad.what} required {bad.expected}, observed {bad.observed}"
                         + (f" ({bad.why})" if bad.why else ""))
        lines.append(f"{'':2} {'time(ms)':>9} {'step':>4}  {'kind':<5} event")
        last_step = -1
        entries = self.entries if limit is None else self.entries[-limit:]
        for e in entries:
            if e.step != last_step:
                marker = ">>" if bad is not None and e.step == bad.step else "  "
                lines.append(f"{marker} {'':>9} {e.step:>4}  == {self.labels.get(e.step, '')}")
                last_step = e.step
            marker = ">>" if bad is not None and e.step == bad.step and e.kind == "check" else "  "
            lines.append(f"{marker} {(e.t - self.t0) * 1000:9.3f} {e.step:>4}  {e.kind:<5} {e.text}")
        return "\n".join(lines)
