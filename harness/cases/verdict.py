"""Turning a case's checks and claims into a test outcome that explains itself."""

from __future__ import annotations

import pytest

from harness.record.timeline import Timeline


def settle(timeline: Timeline) -> None:
    """Fail at the first step where the kernel and the rule engine disagree.

    The message is one line (the step, required against observed); the plugin prints the
    timeline once, trimmed around that step, under it."""
    bad = timeline.first_divergence()
    if bad is not None:
        pytest.fail(f"step {bad.step} ({timeline.labels.get(bad.step)}): {bad.what} required "
                    f"{bad.expected}, observed {bad.observed}", pytrace=False)


def claim(ok: bool, what: str, timeline: Timeline) -> None:
    """A scenario's own claim, on top of the step checks (which the model could get wrong)."""
    if not ok:
        pytest.fail(f"claim failed: {what}", pytrace=False)


def unexplained_wakeups(timeline: Timeline, what: str) -> list[str]:
    """Steps where a thread woke although the rule engine required no wakeup (a check
    named ``what`` with required False, observed True), as 'step label' strings."""
    return [f"{timeline.labels.get(c.step)}" for c in timeline.checks
            if c.what == what and c.expected is False and c.observed is True]


def flag_unexplained_wakeups(record, timeline: Timeline, what: str) -> None:
    """Record, as the case's finding, a blocked writer woken where no known rule wakes it.

    The verdict still fails at the divergence: the finding names what no rule explains, so the
    cross-kernel comparison lists it beside the kernels where it happens.
    """
    steps = unexplained_wakeups(timeline, what)
    if steps:
        record.finding = (f"blocked writer woke at {', '.join(steps)} although free < queued/2 by the "
                          "accounting read after that ACK (no write-space wakeup by sk_stream_write_space); "
                          "it went on writing while queued < sndbuf. No known rule predicts this.")
