"""Scenario tables: scripts of steps, parametrized with readable ids and report names.

A script is a function of the case (and the record) that runs the steps and makes its own
claims.  ``table("readers", data_again_unread=..., ...)`` turns them into ``pytest.param``s
whose id is the scenario's name (``data-again-unread``), whose report name is the same
(the ``scenario`` marker), and whose parameter prints as that name, so report keys stay
stable from run to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest


@dataclass(frozen=True)
class Script:
    name: str
    run: Callable[..., Any]

    def __call__(self, *args: Any) -> Any:
        return self.run(*args)

    def __str__(self) -> str:
        return self.name

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip()


def table(topic: str, *scripts: Callable[..., Any], names: dict[str, str] | None = None) -> list:
    """One ``pytest.param`` per script; the name is the function's, dashed, unless given."""
    names = names or {}
    out = []
    for fn in scripts:
        name = names.get(fn.__name__, fn.__name__.replace("_", "-"))
        out.append(pytest.param(Script(name, fn), id=name, marks=pytest.mark.scenario(name, topic=topic)))
    return out


def no_edge_note(waiter: str) -> str | None:
    """What the report says for a waiter without an edge mode."""
    if waiter in ("poll", "select"):
        return f"{waiter} has no edge mode: compared with level-triggered epoll at every step"
    return None


def run_accepted(scripted, record, script: Script, *, family: str, waiter: str, **accept: Any):
    """The common shape: accept, watch every readiness event, take the first report
    (EPOLLOUT), run the script, settle, record the masks and the step of each event."""
    from harness.model import masks as M

    from .verdict import settle

    c = scripted.accept(family, waiter=waiter, **accept)
    c.register(M.READINESS)
    c.wait("epoll_wait after ADD")
    script(c, record)
    settle(c.timeline)
    record_masks(c, record, waiter)
    return c


def record_masks(c, record, waiter: str) -> None:
    record.fact("mode", waiter)  # the report's mode column: ET, LT, poll or select
    record.fact("masks", c.masks())
    record.fact("events_at", c.events_at())
    from .claims import record_completions

    record_completions(record, c)
    note = no_edge_note(waiter)
    if note:
        record.fact("edge", note)
