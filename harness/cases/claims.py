"""Claims shared by the scenarios (scripted peer and real peer) about EPOLLOUT after ACKs.

A case keeps ``series`` (one entry per ACK step: ``ack``, ``writable`` ...),
``out_reports(since)`` ((step, label) of each wait that reported EPOLLOUT; ACK steps are
labelled ``"ACK <n>"``) and a ``timeline``.  Expectations come from the accounting read at
each ACK, never from byte counts: "the first ACK after which the socket is writable by its
own accounting".
"""

from __future__ import annotations

from .verdict import claim

# Waiters that report readiness once per wakeup (the others report it at every wait while the
# mask holds): edge-triggered epoll, and a multishot io_uring poll request.  A one-shot
# request re-armed at each wait polls when armed, so it reports like level-triggered epoll.
WAKEUP_DRIVEN = ("ET", "uring-multishot")


def wakeup_driven(waiter: str) -> bool:
    return waiter in WAKEUP_DRIVEN


def record_completions(record, case) -> None:
    """For an io_uring waiter, how many completions each wait reaped ('step 4 (ACK 9001): 1')."""
    counts = getattr(case.watch, "completions", None)
    if counts is None or not hasattr(case.watch, "last_completions"):
        return
    record.fact("completions", [f"step {step} ({label}): {n}"
                                for (step, label, _), n in zip(case.reports, counts) if n])


def first_writable_ack(case) -> int | None:
    """The first ACK after which the accounting read at that step satisfies the rule."""
    return next((s["ack"] for s in case.series if s["writable"]), None)


def claim_single_wakeup(case, mode: str, since: int, what: str) -> tuple[int, dict]:
    """ET (and multishot io_uring poll): exactly one EPOLLOUT after step ``since``, at the
    first ACK that makes the socket writable.  Level-triggered epoll, poll, select, a
    re-armed one-shot io_uring poll: EPOLLOUT from that ACK on, never before.
    Returns that ACK and the series entry at it."""
    first = first_writable_ack(case)
    claim(first is not None, f"{what}: some ACK makes the socket writable again", case.timeline)
    labels = [label for _, label in case.out_reports(since_step=since)]
    if wakeup_driven(mode):
        claim(len(labels) == 1, f"{what}: {mode} reports EPOLLOUT exactly once (got {len(labels)})", case.timeline)
        claim(labels[0] == f"ACK {first}", f"{what}: the {mode} EPOLLOUT comes at ACK {first}, the first "
              f"after which free >= queued/2 (got it at {labels[0]})", case.timeline)
    else:
        claim(bool(labels) and labels[0] == f"ACK {first}",
              f"{what}: {mode} reports from ACK {first} on (first report: {labels[:1]})", case.timeline)
    return first, next(s for s in case.series if s["ack"] == first)


def woke_at(entry: dict) -> bool:
    """Did a write-space wakeup happen at this ACK: required by the model (the accounting
    after it, or a witnessed call inside it), a transient one accepted inside the bound, or
    one the rule allows on the accounting that ACK left when the woken writer ran before the
    read after it (harness.cases.realblocking)."""
    return bool(entry.get("wakeup_required") or entry.get("transient")
                or (entry.get("writer_ran_first") and entry.get("wakeup_allowed")))


def first_wakeup(series: list[dict], visible: bool = False) -> int | None:
    """The first ACK with a wakeup; ``visible``: one that an epoll re-poll also reports
    (the accounting after the ACK is writable), which is where an ET item gets EPOLLOUT."""
    return next((s["ack"] for s in series if woke_at(s) and (s["writable"] or not visible)), None)


def first_required(series: list[dict]) -> int | None:
    """The first ACK at which the model requires a wakeup (the accounting after it, or a
    witnessed call inside it): taken from the model, never from what a sleeper did."""
    return next((s["ack"] for s in series if s.get("wakeup_required")), None)


def claim_woken_as_the_model_allows(steps: list[dict], woke: int | None, what: str, timeline) -> None:
    """A sleeper that slept through ``steps`` woke at ACK ``woke``: no later than the first
    ACK the model requires a wakeup at, and only at an ACK where the model allows one
    (required, or allowed inside a bound: then it is recorded as bounded)."""
    required = first_required(steps)
    at = next((s for s in steps if s["ack"] == woke), None)
    claim(at is not None and bool(at.get("wakeup_required") or at.get("wakeup_allowed"))
          and (required is None or woke <= required),
          f"{what}: woke at ACK {woke}; the model requires the wakeup at ACK {required} and allows it at "
          f"{[s['ack'] for s in steps if s.get('wakeup_allowed') and not s.get('wakeup_required')]}", timeline)
