"""What a case knows of the write-space tests inside each ACK, and the verdicts they support.

On kernels with the per-skb check (4bfe744ff164; :mod:`harness.model.transient`) an ACK can
wake a writer although the accounting read after it says "not writable".  Where the kernel
allows tracing, a :class:`harness.sockets.kwitness.KernelWitness` records every
sk_stream_write_space() call on the socket: the timeline shows each call between the
packets, the model replays them, and the verdict holds the kernel to it:

* a sleeper's wakeup must coincide with a witnessed call at which the rule held on that
  call's own accounting, with SOCK_NOSPACE set;
* a witnessed call at which the rule held while SOCK_NOSPACE was set must have woken
  someone (a task or an epoll item).

Where tracing is not available, the bound (:class:`harness.model.transient.AckBound`) comes
from what is observable: the accounting after the ACK, the skbs sent while it was processed
(the segments the peer saw), and the truesize of one skb head measured on a repaired socket
(:func:`harness.sockets.truesize.head_truesize`), and the layout (gso_max_segs 1: no split).
A wakeup outside the bound fails; inside it nothing decides: the timeline says "allowed, not
required", and a wakeup seen there is accepted on the bound (``basis`` "bounded").

Every ACK step of the series carries its ``basis``: "exact" (the accounting after the ACK, or
a witnessed call) or "bounded" (a wakeup accepted only because a bound allowed it, with the
bound's numbers in ``basis_bound``), so a report says how many verdicts rest on bounds.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from typing import Iterator

from harness.model.rules import EpollModel, writeable
from harness.model.transient import AckBound, Call
from harness.record.timeline import Timeline
from harness.sockets.kprobes import TracingUnavailable
from harness.sockets.kwitness import KernelWitness
from harness.sockets.truesize import head_truesize
from netns.own_kernel import global_sysctl, own_kernel_reason

WITNESSED = "witnessed by kprobes"
BOUNDED = "bounded, no kernel witness"


class WitnessMissing(AssertionError):
    """The witness is required (``--require-witness``, EPS_REQUIRE_WITNESS=1: the suite's own
    guests) and could not attach: the case fails with the reason instead of falling back to
    the bounded rules."""


def witness_required() -> bool:
    """Set by the pytest plugin's ``--require-witness`` (or the environment) for the run."""
    return os.environ.get("EPS_REQUIRE_WITNESS") == "1"


def in_suite_guest() -> bool:
    """Inside a guest the suite booted (harness.guests), where it owns the kernel
    (netns.own_kernel decides it from three facts together, none a host has by accident)."""
    return own_kernel_reason() is None


@contextmanager
def rt_unthrottled() -> Iterator[None]:
    """Inside a suite guest, lift real-time throttling for a blocking-writer case.

    The harness runs at SCHED_FIFO on the writer's CPU so that a woken writer waits until the
    harness has read the state of the wakeup (harness.sockets.writer.waker_runs_first).  A
    guest has one CPU and its Python is slow: the harness can stay busy for more than
    sched_rt_runtime_us (950 ms per second) and be throttled, which stops the real-time
    writer behind it too (harness.sockets.writer) but stalls the step for the rest of the
    period while the peer's timers run.  The guest's kernel is the suite's own; a shared
    machine's sysctls are never touched (there the case runs as it is).
    """
    if not in_suite_guest():
        yield
        return
    with global_sysctl("kernel.sched_rt_runtime_us", "-1"):
        yield


class InsideAck:
    """The witness (or the bound) of one case's socket, and the checks it supports."""

    def __init__(self, sock: socket.socket, timeline: Timeline, make_socket, family: int,
                 gso_max_segs: int | None = None) -> None:
        self.timeline = timeline
        self.gso_max_segs = gso_max_segs
        self.witness: KernelWitness | None = None
        self.unavailable: str | None = None
        try:
            self.witness = KernelWitness(sock, mount=in_suite_guest())
        except (TracingUnavailable, LookupError, OSError) as exc:
            self.unavailable = str(exc)
            if witness_required():
                raise WitnessMissing(f"the kernel witness is required and cannot attach: {exc}") from exc
        self.head = None if self.witness is not None else head_truesize(make_socket, family)
        self.basis = WITNESSED if self.witness is not None else BOUNDED
        self.calls: list[tuple[int, Call]] = []   # (ACK, call)
        timeline.add("note", f"write-space tests inside ACKs: {self.basis}"
                     + (f" ({self.unavailable}; skb head truesize {self.head})" if self.witness is None else ""))

    def observe(self, ack: int, acct, skbs_sent: int) -> dict:
        """The keyword arguments for :meth:`EpollModel.acked` at this ACK."""
        if self.witness is None:
            return {"bound": AckBound(acct.wmem_queued, acct.sndbuf, acct.notsent, acct.notsent_lowat,
                                      skbs_sent, self.head, acct.outq, self.gso_max_segs)}
        calls = self.witness.read()
        for c in calls:
            self.timeline.add("kern", c.brief(), call=c.to_fact())
            self.calls.append((ack, c))
        for sl in self.witness.new_sleeps:
            self.timeline.add("kern", sl.brief())
        missed = self.witness.probes.missed()
        if any(missed.values()):
            self.timeline.add("note", "kprobe events missed so far: " + ", ".join(f"{k} {v}" for k, v in missed.items() if v))
        for w in self.witness.new_wakes:
            self.timeline.add("kern", w.brief())
        return {"calls": calls}

    def check(self, ack: int, model: EpollModel, woke: bool, what: str, tid: int | None = None) -> None:
        """The verdict of ACK ``ack`` for a sleeper (``what``: the check's name; ``tid``: the
        sleeping thread, which a witnessed call that woke it must name)."""
        outcome = model.ack_outcome
        if outcome.undecided:
            self.timeline.add("note", f"{what}: allowed, not required; observed {woke} "
                              f"({outcome.verdict}: {outcome.why})")
        else:
            self.timeline.check(what, outcome.required, woke, f"{outcome.verdict}: {outcome.why}")
        if self.witness is None:
            return
        step_calls = [c for a, c in self.calls if a == ack]
        if woke:
            held = [c for c in step_calls if c.nospace and c.held()]
            self.timeline.check("a witnessed write-space call held when the sleeper woke", True, bool(held),
                                "sk_stream_write_space wakes only if __sk_stream_is_writeable(sk, 1)")
            if tid is not None and held:
                self.timeline.check("that call woke the sleeping thread", True,
                                    any(tid in c.woken_tids for c in held), f"woken_wake_function for tid {tid}")
        for c in step_calls:
            if c.nospace and c.held():
                self.timeline.check("the witnessed call that held woke a sleeper", True, c.woke, c.site)

    def check_wakers(self, ack: int) -> None:
        """Every witnessed write-space call of ACK ``ack`` that woke a sleeper held the rule.

        sk_stream_write_space() wakes only if __sk_stream_is_writeable(sk, 1), and what the
        witness fetches at its entry is what that test reads (the caller holds the socket lock).
        An epoll waiter's re-poll hides a wakeup that came too early (tcp_poll() finds the
        socket unwritable and reports nothing); the witness does not."""
        if self.witness is None:
            return
        for c in (c for a, c in self.calls if a == ack and c.woke):
            self.timeline.check("a witnessed write-space call that woke a sleeper held the rule", True,
                                c.held(), c.brief())

    def facts(self, record, series: list[dict]) -> None:
        """The report's facts: how the tests inside ACKs were known, and the wakeups."""
        record.fact("inside_ack_basis", self.basis)
        record.fact("undecided_acks", sum(1 for s in series if s.get("wakeup_undecided")))
        if self.witness is None:
            record.fact("skb_head_truesize", self.head)
            record.fact("transient_wakeups", [{"ack": s["ack"], **s["bound"]} for s in series
                                              if s.get("transient") and s.get("bound")] or None)
            return
        record.fact("witnessed_wakeups", [{"ack": ack, **c.to_fact()} for ack, c in self.calls if c.woke] or None)
        # the ACK steps whose wakeup came from a call that held although the accounting read
        # after that step says "not writable"
        record.fact("transient_wakeups", [{"ack": s["ack"], **s["call"]} for s in series
                                          if s.get("transient") and s.get("call")] or None)

    def close(self) -> None:
        """Remove the witness's probes (at once: the next case's witness uses the same
        event names); closing again does nothing."""
        if self.witness is not None and not getattr(self, "_closed", False):
            self._closed = True
            self.witness.close()


def series_entry(ack: int, acct, model: EpollModel, woke: bool) -> dict:
    """One ACK of the case's series, with how its wakeup was known."""
    o = model.ack_outcome
    entry = {"ack": ack, "wmem_queued": acct.wmem_queued, "sndbuf": acct.sndbuf, "notsent": acct.notsent,
             "outq": acct.outq,
             "free": acct.free, "threshold": acct.wmem_queued >> 1, "writable": writeable(acct, True),
             "wakeup_required": woke, "wakeup_allowed": o.allowed, "wakeup_undecided": o.undecided,
             "known_by": o.verdict, "basis": "exact"}
    if o.call is not None and not entry["writable"]:
        entry["transient"] = True
        entry["call"] = o.call.to_fact()
    if o.bound is not None:
        entry["bound"] = o.bound.to_fact()
    return entry


def accepted_on_bound(entry: dict, bound: dict | None) -> None:
    """A wakeup at this step was accepted only because a bound allowed it: say so."""
    entry["basis"] = "bounded"
    entry["basis_bound"] = bound
