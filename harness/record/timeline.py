"""Every step of a case in order: syscalls, packets, accounting, epoll results, and checks.

The timeline is what a failing test prints.  A *check* pairs what the rule engine required
at a step with what the kernel did; the first check that disagrees is the divergence, and
the rendering marks it so a reader starts there.  The model's own reasoning ("send eagain:
SOCK_NOSPACE set", "write-space wakeup (ACK)") joins the timeline as ``model`` entries at the
step where the model made it (:meth:`Timeline.follow`).  ``to_dict``/``from_dict`` keep a
timeline beside the report, so ``epoll-semantics explain`` can show it after the run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Entry:
    t: float
    step: int
    kind: str  # call | in | out | acct | epoll | check | note | model
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
        self._followed: list[list[str]] = []
        self._seen: list[int] = []

    def follow(self, log: list[str]) -> None:
        """Copy what a model appends to ``log`` into the timeline, at the step it happens."""
        if any(log is known for known in self._followed):
            return
        self._followed.append(log)
        self._seen.append(len(log))

    def _catch_up(self) -> None:
        for i, log in enumerate(self._followed):
            for text in log[self._seen[i]:]:
                self.entries.append(Entry(self.clock(), self.step, "model", text))
            self._seen[i] = len(log)

    def begin(self, label: str) -> int:
        """Start a new step (an action of the scenario) and return its number."""
        self.step += 1
        self.labels[self.step] = label
        return self.step

    def add(self, kind: str, text: str, t: float | None = None, **data: Any) -> Entry:
        self._catch_up()
        entry = Entry(self.clock() if t is None else t, self.step, kind, text, data)
        self.entries.append(entry)
        return entry

    def check(self, what: str, expected: Any, observed: Any, why: str = "") -> Check:
        self._catch_up()
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: entries without raw packet bytes (those go to the pcap), checks, labels."""
        self._catch_up()
        return {"title": self.title, "t0": self.t0,
                "labels": {str(k): v for k, v in self.labels.items()},
                "entries": [{"t": e.t, "step": e.step, "kind": e.kind, "text": e.text,
                             "data": {k: v for k, v in e.data.items() if k != "raw"}}
                            for e in self.entries],
                "checks": [{"step": c.step, "what": c.what, "expected": c.expected,
                            "observed": c.observed, "why": c.why} for c in self.checks]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Timeline":
        tl = cls(d.get("title", ""), clock=lambda: d.get("t0", 0.0))
        tl.labels = {int(k): v for k, v in d.get("labels", {}).items()}
        tl.entries = [Entry(e["t"], e["step"], e["kind"], e["text"], e.get("data", {}))
                      for e in d.get("entries", [])]
        tl.checks = [Check(**c) for c in d.get("checks", [])]
        tl.step = max(tl.labels, default=0)
        return tl

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
