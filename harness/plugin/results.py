"""What one test leaves behind: the session's state, the test's record (facts, series,
finding, timelines), and how its outcome becomes a result of the report: its key, the
conditions that decide its timing-dependent facts, its pcap and timeline files, and the
timeline printed under a failure (once, trimmed: :mod:`harness.reporting.explain`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.model.rules import KernelRules
from harness.reporting import report as R

from .capabilities import Capability


@dataclass
class SessionState:
    caps: dict[str, Capability]
    rules: KernelRules
    strict: bool
    captures_dir: str
    results: list[R.Result] = field(default_factory=list)
    timelines: dict[str, dict] = field(default_factory=dict)  # key -> row for harness.record.store
    passing_timelines: list[tuple[str, str]] = field(default_factory=list)  # --timelines: (nodeid, text)
    report_lines: list[str] = field(default_factory=list)  # said at the end of the terminal summary
    deselected: int = 0
    finished: int = 0   # tests that ran to the end of their teardown, with a record or not
    cleared: int = 0
    sysctls: dict[str, Any] = field(default_factory=dict)
    swept: list[str] = field(default_factory=list)
    sweep_failed: list[str] = field(default_factory=list)


@dataclass
class Record:
    """What a test tells the report: its facts, a series for plots, a finding, a timeline."""

    topic: str
    scenario: str
    params: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)
    series: list[dict] | None = None
    finding: str | None = None
    timelines: list = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)
    cases: list = field(default_factory=list)

    def fact(self, name: str, value: Any) -> None:
        self.facts[name] = value

    def layout(self, name: str, gso_max_segs: int) -> None:
        """The skb layout the case ran with (see netns.defaults.LAYOUT_GSO_MAX_SEGS)."""
        self.conditions.update(layout=name, gso_max_segs=gso_max_segs,
                               timing_dependent=name != "pinned")

    def track(self, case) -> None:
        """A case whose series stays in the report even if the test fails before saving it."""
        self.cases.append(case)

    def attach(self, timeline) -> None:
        """Print this timeline and save its packets if the test fails."""
        self.timelines.append(timeline)


def capture_path(st: SessionState, nodeid: str) -> str:
    return os.path.join(st.captures_dir, re.sub(r"[^\w.-]+", "_", nodeid).strip("_") + ".pcap")



def observed_facts(rec: Record) -> None:
    """What the first case observed, for a test that failed before recording its facts:
    the masks each wait reported and the steps they came at (never overriding a fact)."""
    case = rec.cases[0] if rec.cases else None
    if case is None:
        return
    for name in ("masks", "events_at"):
        read = getattr(case, name, None)
        if callable(read) and name not in rec.facts:
            rec.facts[name] = read()
    if getattr(case, "accepted", None) and "bytes_accepted" not in rec.facts:
        rec.facts["bytes_accepted"] = case.accepted


def result_key(topic: str, scenario: str, item: pytest.Item) -> str:
    """``topic/scenario[pytest id]``: the bracket is exactly the id pytest prints."""
    callspec = getattr(item, "callspec", None)
    return f"{topic}/{scenario}" + (f"[{callspec.id}]" if callspec is not None else "")


# What TCP_INFO said when the writer woke: the RTT the kernel measured sets the pacing rate,
# which sets the TSO chunk sizes of a natural layout (tcp_tso_autosize()).
WAKE_CONDITIONS = ("rtt_us", "min_rtt_us", "pacing_rate", "skb_overhead")


def conditions(rec: Record, series: list[dict] | None) -> dict[str, Any]:
    """The conditions that decide the case's layout-dependent facts, at the waking ACK."""
    out = dict(rec.conditions)
    wake = rec.facts.get("waking_ack")
    at = next((s for s in series or () if s.get("ack") == wake), None) if wake is not None else None
    if at is not None:
        out.update({k: at[k] for k in WAKE_CONDITIONS if k in at})
    return out


def first_line(rep: pytest.TestReport) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(rep.longrepr)
    return text.splitlines()[0][:500] if text else "failed"


def show_timelines(config: pytest.Config, st: SessionState, rep: pytest.TestReport,
                    timelines: list, capture: str | None) -> None:
    """A failure's timelines go under its report, once; with --timelines a passing case's
    go to the terminal summary (pytest prints a passing test's sections only with -rP)."""
    from harness.reporting.explain import explain

    how = config.getoption("--timelines")
    if not (rep.failed or how):
        return
    texts = [explain(t, full=how == "full", capture=capture) for t in timelines]
    if rep.failed:
        for t, text in zip(timelines, texts):
            rep.sections.append((f"timeline {t.title}", text))
    else:
        st.passing_timelines += [(rep.nodeid, text) for text in texts]
