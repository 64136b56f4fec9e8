"""Claims shared by the scripted-peer and the real-peer scenarios.

Both kinds of case keep ``series`` (one entry per ACK step: ``ack``, ``writable`` ...),
``out_reports(since)`` ((step, label) of each wait that reported EPOLLOUT; ACK steps are
labelled ``"ACK <n>"``) and a ``timeline``.
"""

from __future__ import annotations

from .verdict import claim


def first_writable_ack(case) -> int | None:
    """The first ACK after which the accounting read at that step satisfies the rule."""
    return next((s["ack"] for s in case.series if s["writable"]), None)


def claim_single_wakeup(case, mode: str, since: int, what: str) -> tuple[int, dict]:
    """ET: exactly one EPOLLOUT after ``since``, at the first ACK that makes the socket
    writable by its own accounting.  LT: EPOLLOUT from that ACK on, never before."""
    first = first_writable_ack(case)
    claim(first is not None, f"{what}: some ACK makes the socket writable again", case.timeline)
    outs = case.out_reports(since_step=since)
    labels = [label for _, label in outs]
    if mode == "ET":
        claim(len(outs) == 1, f"{what}: ET reports EPOLLOUT exactly once (got {len(outs)})", case.timeline)
        claim(labels[0] == f"ACK {first}", f"{what}: the ET EPOLLOUT comes at ACK {first}, "
              f"the first after which free >= queued/2 (got it at {labels[0]})", case.timeline)
    else:
        claim(bool(labels) and labels[0] == f"ACK {first}",
              f"{what}: LT reports from ACK {first} on (first report: {labels[:1]})", case.timeline)
    wake = next(s for s in case.series if s["ack"] == first)
    return first, wake
