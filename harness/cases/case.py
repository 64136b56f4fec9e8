"""A case: one kernel socket under test, its scripted peer, an epoll watch, and the model.

Each method is one step of a scenario.  It acts, collects what the kernel sent, reads the
accounting, advances the rule engine and, for waits, records a check of the required mask
against the observed one.  Tests read as the list of steps; the verdict is the checks.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace

from harness.model import masks as M
from harness.model.rules import EpollModel, KernelRules, writeable
from harness.model.uring import URING_WAITERS, UringModel
from harness.peers.tunpeer import PeerConn
from harness.record.timeline import Timeline
from harness.sockets.epoll import Watch
from harness.sockets.multiwatch import Also, MultiWatch
from harness.sockets.sockinfo import Snapshot, outq, outq_nsd, snapshot
from harness.sockets.waiters import make_watch, mechanism

from .inside_ack import InsideAck, series_entry
from .sending import Sending
from .steps import StateSteps


@dataclass
class Case(Sending, StateSteps, MultiWatch):
    """One socket under test; the steps of the EPOLLOUT core are here, those of state
    changes and socket options in :mod:`harness.cases.steps`, further watchers in
    :mod:`harness.sockets.multiwatch`."""

    sock: socket.socket
    conn: PeerConn
    rules: KernelRules
    timeline: Timeline
    edge: bool = True
    watch: Watch | None = None
    model: EpollModel | None = None
    last: Snapshot | None = None
    accepted: int = 0                     # bytes the kernel accepted from send()
    reports: list[tuple[int, str, int]] = field(default_factory=list)  # (step, label, mask)
    series: list[dict] = field(default_factory=list)
    waiter: str | None = None             # ET, LT, poll, select; None: ET or LT from ``edge``
    shadow: Watch | None = None           # poll/select: an LT epoll watch they must agree with
    shadow_model: EpollModel | None = None
    extra: list[Also] = field(default_factory=list)
    notsent_lowat_sysctl: int | None = None  # the namespace's tcp_notsent_lowat, when a test set it
    disagreements: list[dict] = field(default_factory=list)  # poll/select vs LT epoll, as predicted
    inside: InsideAck | None = None       # the write-space tests inside each ACK (witness or bound)

    # -- accounting -----------------------------------------------------------------------
    def snap(self) -> Snapshot:
        s = snapshot(self.sock)
        if self.notsent_lowat_sysctl is not None and s.notsent_lowat == 0:
            # tcp_notsent_lowat(): the socket's value, else the namespace's sysctl
            s = replace(s, notsent_lowat=self.notsent_lowat_sysctl)
        self.timeline.add("acct", s.brief() + f" writable={'yes' if writeable(s, True) else 'no'}",
                          snapshot=s.to_dict())
        self.last = s
        return s

    @property
    def mode(self) -> str:
        return self.waiter or ("ET" if self.edge else "LT")

    # -- epoll ----------------------------------------------------------------------------
    def register(self, events: int = M.IN | M.OUT) -> None:
        self.timeline.begin(f"epoll_ctl ADD ({self.mode})" if mechanism(self.mode) == "epoll"
                            else f"{self.mode}: watch {M.name(events)}")
        self.watch = make_watch(self.mode, self.sock, events, self.timeline)
        if self.mode in URING_WAITERS:
            self.model = UringModel(self.rules, False, events, multishot=self.mode == "uring-multishot")
        else:
            self.model = EpollModel(self.rules, self.edge, events, mechanism=mechanism(self.mode))
        self.timeline.follow(self.model.history)  # the model's reasoning, step by step
        self.watch.add()
        if mechanism(self.mode) in ("poll", "select"):
            # poll()/select() must agree with level-triggered epoll at every step: watch the
            # same socket with LT epoll too, and compare kernel with kernel at each wait.
            self.shadow = Watch(self.sock, False, events, None)
            self.shadow_model = self.model.sibling(False, events)
            self.shadow.add()
            self.shadow_model.ctl(self.last if self.last is not None else self.snap())
        self.model.ctl(self.snap())

    def modify(self, events: int | None = None) -> None:
        self.timeline.begin("epoll_ctl MOD")
        self.watch.mod(events)
        self.model.ctl(self.snap(), events)
        if self.shadow is not None:
            self.shadow.mod(events)
            self.shadow_model.ctl(self.last, events)

    def wait(self, label: str | None = "epoll_wait") -> int:
        """epoll_wait(timeout=0) and check it against the rule; returns the observed mask.

        With ``label=None`` the wait belongs to the current step (e.g. the ACK before it).
        """
        if label is not None:
            if mechanism(self.mode) != "epoll" and label.startswith("epoll_wait"):
                label = self.mode + label[len("epoll_wait"):]  # scripts name the wait epoll's way
            self.timeline.begin(label)
        acct = self.last if self.last is not None else self.snap()
        required = self.model.wait(acct)
        observed = self.watch.wait(0)
        what = f"epoll_wait({self.mode})" if mechanism(self.mode) == "epoll" else f"{self.mode}()"
        self.timeline.check(what, M.name(required.mask), M.name(observed), required.why)
        if self.mode in URING_WAITERS:
            self.timeline.check(f"{self.mode} completions", self.model.completions,
                                self.watch.last_completions, required.why)
        if self.shadow is not None:
            lt_required = self.shadow_model.wait(acct)
            lt = self.shadow.wait(0)
            self.timeline.check("LT epoll on the same socket", M.name(lt_required.mask), M.name(lt), lt_required.why)
            if self.view(lt_required.mask) == required.mask:
                self.timeline.check(f"{self.mode}() agrees with LT epoll", M.name(self.view(lt)),
                                    M.name(observed), "poll/select re-poll like an LT item on the ready list")
            else:
                # The rule says they part here: the LT item left the ready list and the mask
                # changed without a wakeup; poll/select see it, LT epoll cannot.
                self.disagreements.append({"step": self.timeline.step, "at": self.timeline.labels[self.timeline.step],
                                           "lt_epoll": M.name(lt), self.mode: M.name(observed)})
                self.timeline.add("note", f"{self.mode}() and LT epoll differ here by the rule: "
                                  f"LT {M.name(lt)}, {self.mode} {M.name(observed)}")
        self.reports.append((self.timeline.step, self.timeline.labels[self.timeline.step], observed))
        return observed

    # -- writing (send, fill: harness.cases.sending) ---------------------------------------------
    def collect(self) -> None:
        self.conn.drain()

    # -- the peer -------------------------------------------------------------------------
    def sent_end(self) -> int:
        """Relative sequence just past what the kernel has sent, from its own counters:
        written and unacknowledged (SIOCOUTQ) minus written and unsent (SIOCOUTQNSD), two
        ioctls rather than a whole snapshot (the peer polls this while it waits)."""
        return self.conn.acked + outq(self.sock) - outq_nsd(self.sock)

    def ack(self, rel_ack: int, window: int | None = None) -> bool:
        """The peer acknowledges up to ``rel_ack``; returns whether the model saw a wakeup."""
        self.timeline.begin(f"ACK {rel_ack}")
        prev, acked_before = self.last, self.conn.acked
        seen = len(self.conn.segments)
        self.conn.ack(rel_ack, window)
        self.conn.drain()
        acct = self.snap()
        # SOCK_QUEUE_SHRUNK (before 5.10) is set when the ACK frees an acknowledged skb; a
        # window update acknowledges nothing, although splitting skbs to send can shrink queued.
        freed = prev is not None and rel_ack > acked_before and acct.wmem_queued < prev.wmem_queued
        sent = sum(1 for s in self.conn.segments[seen:] if s.payload)
        inside = self.inside.observe(rel_ack, acct, sent) if self.inside is not None else {}
        woke = self.model.acked(acct, freed, **inside)
        self.series.append({**series_entry(rel_ack, acct, self.model, woke), **acct.layout_conditions()})
        return woke

    def may_send(self) -> bool:
        """Whether the kernel holds unsent bytes that the peer's last window lets it send.

        A window below both the unsent bytes and one MSS does not (tcp_snd_wnd_test()); with
        nothing in flight, cwnd is no limit.
        """
        s = snapshot(self.sock)
        room = self.conn.window_end - self.conn.received_end
        return s.notsent > 0 and room >= min(s.notsent, s.info.get("snd_mss", 1))

    def ack_all(self, step: int) -> None:
        """ACK in steps of ``step`` bytes until nothing is outstanding, waiting after each.

        It stops only when the kernel has nothing left that it may send: a paced sender (bbr,
        tcp_pacing_check()) can put the next segment on the wire from its pacing timer after
        everything sent so far is acknowledged; stopping then would strand it unacknowledged.
        """
        while True:
            self.conn.wait_until_sent(self.sent_end)
            if self.conn.acked >= self.conn.received_end:
                if not self.may_send():
                    break
                self.conn.wait_for_more(self.conn.received_end)
                continue
            self.ack(min(self.conn.acked + step, self.conn.received_end))
            self.wait(None)
            if self.series:
                self.series[-1]["epollout"] = bool(self.reports[-1][2] & M.OUT)

    def peer_data(self, payload: bytes) -> None:
        self.timeline.begin(f"peer sends {len(payload)} bytes")
        self.conn.data(payload)
        self.conn.drain()
        self.model.data_ready(self.snap())

    # -- facts ----------------------------------------------------------------------------
    def view(self, mask: int) -> int:
        """``mask`` as this case's waiter can show it (select() has only three sets)."""
        return M.select_view(mask, self.watch.events) if self.mode == "select" else mask

    def masks(self) -> list[str]:
        """The observed mask of every wait, in order."""
        return [M.name(m) for _, _, m in self.reports]

    def events_at(self) -> list[str]:
        """Each wait that reported something: 'step 4 (epoll_wait after data): IN|OUT'."""
        return [f"step {step} ({label}): {M.name(m)}" for step, label, m in self.reports if m]

    def close(self) -> None:
        if self.inside is not None:
            self.inside.close()
        if self.watch is not None:
            self.watch.close()
        if self.shadow is not None:
            self.shadow.close()
        for also in self.extra:
            also.watch.close()

