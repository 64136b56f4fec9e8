"""Turning a case's checks and claims into a test outcome that explains itself."""

from __future__ import annotations

import pytest

from .timeline import Timeline


def settle(timeline: Timeline) -> None:
    """Fail at the first step where the kernel and the rule engine disagree."""
    bad = timeline.first_divergence()
    if bad is not None:
        pytest.fail(f"step {bad.step} ({timeline.labels.get(bad.step)}): {bad.what} required "
                    f"{bad.expected}, observed {bad.observed}\n{timeline.render()}", pytrace=False)


def claim(ok: bool, what: str, timeline: Timeline) -> None:
    """A scenario's own claim, on top of the step checks (which the model could get wrong)."""
    if not ok:
        pytest.fail(f"claim failed: {what}\n{timeline.render()}", pytrace=False)
