"""Which captured ACK caused an EPOLLOUT, and whether the capture can be trusted: pure logic.

The kernel delivers EPOLLOUT from sk_stream_write_space() (net/core/stream.c), called by
tcp_new_space() when tcp_check_space() (net/ipv4/tcp_input.c) runs after an ACK while
SOCK_NOSPACE is set, and only if __sk_stream_is_writeable(sk, 1) holds after that ACK.  So the
ACK that woke a writer is the one after which the rule first held; the one before it left the
rule false.  These functions take what the capture saw and what the accounting said, and name
that ACK or say why it cannot be named.  No root, no sockets: unit-tested in tests/unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class CapturedAck:
    """An ACK the sender received, as the capture saw it (sequence numbers relative)."""

    t: float        # kernel timestamp (CLOCK_REALTIME, as time.time())
    ack: int        # cumulative ACK, relative to the sender's ISN (first data byte is 1)
    window: int     # advertised window in bytes (scaled)
    index: int = 0  # position among the captured ACKs


@dataclass(frozen=True)
class AckSample:
    """The sender's accounting read right after one ACK was processed (gate modes)."""

    ack: int
    wmem_queued: int
    sndbuf: int
    writable: bool  # __sk_stream_is_writeable(sk, 1) on this accounting


# s: how much later than the wake stamp the waking ACK's capture stamp may read.  Both are
# CLOCK_REALTIME: the capture stamps a packet when the sender's stack receives it
# (net_timestamp_check() in __netif_receive_skb), before TCP processes it; the wake stamp is
# time.time() read by a thread after epoll_wait() returned, which the ACK's processing caused.
# So the waking ACK's stamp is always earlier; the slack only covers the capture's
# microsecond resolution (pcap timestamps are rounded to 1 us).
CLOCK_SLACK = 1e-6


@dataclass(frozen=True)
class Attribution:
    """The verdict on one EPOLLOUT: which ACK caused it, and what confirms it."""

    waking_ack: int | None            # cumulative ACK number of the waking ACK
    captured: CapturedAck | None      # that ACK in the capture
    confirmed: bool                   # the accounting at wake time names exactly this ACK
    held_after: bool | None           # rule true after the waking ACK (None: not observable)
    held_before: bool | None          # rule true after the ACK before it (must be False)
    problems: tuple[str, ...] = ()
    candidates: tuple[int, ...] = ()  # timed modes: advancing ACKs inside the window before the wake
    read_includes: tuple[int, ...] = ()  # ACKs captured after the wake that the read already holds

    @property
    def ok(self) -> bool:
        return self.confirmed and not self.problems and self.held_after is not False \
            and self.held_before is not True

    @property
    def exact(self) -> bool:
        """Only one ACK can have caused the wake: per-ACK samples say so (gate modes), or a
        single candidate inside the window (timed modes) and a read that holds no ACK
        captured after the wake.  Without either (natural) the read at wake time may trail
        the wake by any number of ACKs: not exact."""
        if self.read_includes:
            return False
        return self.held_after is not None or len(self.candidates) == 1

    def to_fact(self) -> dict:
        return {"waking_ack": self.waking_ack, "captured_at": self.captured.t if self.captured else None,
                "confirmed": self.confirmed, "held_after": self.held_after,
                "held_before": self.held_before, "candidates": list(self.candidates),
                "read_includes": list(self.read_includes),
                "exact": self.exact, "problems": list(self.problems)}


def advancing(acks: Iterable[CapturedAck]) -> list[CapturedAck]:
    """The ACKs that moved the cumulative ACK forward (window updates and duplicates dropped)."""
    out: list[CapturedAck] = []
    high = None
    for a in acks:
        if high is None or a.ack > high:
            out.append(a)
            high = a.ack
    return out


def attribute(acks: Sequence[CapturedAck], acked_at_wake: int, wake_t: float,
              samples: Sequence[AckSample] = (), window: float | None = None,
              clock_slack: float = CLOCK_SLACK, read_t: float | None = None) -> Attribution:
    """Name the ACK behind an EPOLLOUT observed at ``wake_t``.

    ``acked_at_wake`` is the cumulative ACK the sender's accounting reported at wake time
    (``tcp_info.bytes_acked``, which counts the SYN), read at ``read_t`` (after the wake;
    ``wake_t`` if at once).  The waking ACK reached the sender before the wake and before
    that read: it is the last advancing ACK captured at or before ``wake_t`` (plus
    :data:`CLOCK_SLACK`) that the read holds.  An ACK captured after the wake is never
    named: where the read already holds such ACKs (the reading thread was preempted) they
    are listed in ``read_includes`` and the attribution is not exact.  With per-ACK
    ``samples`` (gate modes) the rule is checked after the waking ACK and after the ACK
    before it: exact.  Without them (netem, natural) ``window`` (tied to the configured
    delay) bounds where the other candidates may lie: the advancing ACKs captured within
    ``window`` before the wake, up to the waking one.  More than one candidate makes the
    attribution inexact, which is recorded, not failed: how fast the harness ran is not a
    property of the kernel.
    """
    problems: list[str] = []
    moved = [a for a in advancing(acks) if a.ack <= acked_at_wake]
    before = [a for a in moved if a.t <= wake_t + clock_slack]
    if not any(a.ack == acked_at_wake for a in acks):
        return Attribution(acked_at_wake, None, False, None, None,
                           (f"no captured ACK carries ack {acked_at_wake}, the cumulative ACK "
                            "the accounting reported at wake time",))
    if not before:
        first = moved[0] if moved else next(a for a in acks if a.ack == acked_at_wake)
        return Attribution(None, None, False, None, None,
                           (f"no advancing ACK up to {acked_at_wake} was captured before the wake: "
                            f"the first, ACK {first.ack}, came {1000 * (first.t - wake_t):.3f} ms after it",))
    captured = before[-1]
    waking = captured.ack
    later = tuple(a.ack for a in moved if a.t > wake_t + clock_slack)
    seen_by = wake_t if read_t is None else read_t
    if later and read_t is None:
        problems.append(f"the accounting read at the wake holds ACK {later[-1]}, captured after it")
    elif moved[-1].t > seen_by + clock_slack:
        problems.append(f"ACK {acked_at_wake} was captured {1000 * (moved[-1].t - seen_by):.3f} ms after "
                        "the accounting that reports it was read")
    candidates: tuple[int, ...] = ()
    if window is not None:
        candidates = tuple(a.ack for a in before if wake_t - window <= a.t) or (waking,)
    held_after = held_before = None
    if samples:
        after = next((s for s in samples if s.ack == waking), None)
        earlier = [s for s in samples if s.ack < waking]
        held_after = after.writable if after is not None else None
        held_before = earlier[-1].writable if earlier else None
        if after is None:
            problems.append(f"no accounting sample after ACK {waking}")
        elif not held_after:
            problems.append(f"free >= queued/2 does not hold after ACK {waking}")
        if held_before:
            problems.append(f"free >= queued/2 already held after ACK {earlier[-1].ack}, the ACK before")
    return Attribution(waking, captured, not problems, held_after, held_before, tuple(problems),
                       candidates, later)


def first_writable(samples: Sequence[AckSample]) -> AckSample | None:
    """The first sample after which the rule holds: where the ET EPOLLOUT must come."""
    return next((s for s in samples if s.writable), None)


@dataclass(frozen=True)
class Completeness:
    """Captured segment counts against the sender's own TCP_INFO counters."""

    captured_out: int
    captured_in: int
    segs_out: int
    segs_in: int

    @property
    def ok(self) -> bool:
        return self.captured_out == self.segs_out and self.captured_in == self.segs_in

    @property
    def message(self) -> str:
        if self.ok:
            return f"capture complete: {self.captured_out} out, {self.captured_in} in"
        parts = []
        for what, got, want in (("sent", self.captured_out, self.segs_out),
                                ("received", self.captured_in, self.segs_in)):
            if got < want:
                parts.append(f"captured {got} of the {want} segments the sender {what}")
            elif got > want:
                parts.append(f"captured {got} segments {what}, TCP_INFO counts {want}")
        short = self.captured_out < self.segs_out or self.captured_in < self.segs_in
        return ("ground truth incomplete: " if short else "capture disagrees with TCP_INFO: ") + "; ".join(parts)


def retransmissions(data_segments: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(rel_seq, length) of outgoing data segments that resend bytes already sent before."""
    high = None
    out = []
    for seq, length in data_segments:
        if length <= 0:
            continue
        if high is not None and seq < high:
            out.append((seq, length))
        high = max(high or 0, seq + length)
    return out
