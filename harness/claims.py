"""Claims that several scenarios make about a case's EPOLLOUT reports after a series of ACKs.

Expectations come from the accounting read at each ACK (the case's ``series``), never from
byte counts: "the first ACK after which the socket is writable by its own accounting".
"""

from __future__ import annotations

from .verdict import claim


def first_writable_ack(case) -> int | None:
    """The first ACK after which the accounting read at that step satisfies the rule."""
    return next((s["ack"] for s in case.series if s["writable"]), None)


def single_wakeup(case, since: int, what: str) -> tuple[int, dict]:
    """ET: exactly one EPOLLOUT after step ``since``, at the first ACK that makes the socket
    writable.  Level-triggered epoll, poll, select: EPOLLOUT from that ACK on, never before.
    Returns that ACK and the series entry at it."""
    first = first_writable_ack(case)
    claim(first is not None, f"{what}: some ACK makes the socket writable again", case.timeline)
    labels = [label for _, label in case.out_reports(since_step=since)]
    if case.mode == "ET":
        claim(len(labels) == 1, f"{what}: ET reports EPOLLOUT exactly once (got {len(labels)})", case.timeline)
        claim(labels[0] == f"ACK {first}", f"{what}: the ET EPOLLOUT comes at ACK {first}, the first "
              f"after which the socket is writable (got it at {labels[0]})", case.timeline)
    else:
        claim(bool(labels) and labels[0] == f"ACK {first}",
              f"{what}: {case.mode} reports from ACK {first} on (first report: {labels[:1]})", case.timeline)
    return first, next(s for s in case.series if s["ack"] == first)
