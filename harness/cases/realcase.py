"""A real-peer case: the sender's socket under test, a real receiver, the capture, the model.

Steps read like :class:`harness.cases.case.Case`: act, drain the capture, read the accounting,
advance the rule engine, check the epoll result.  What differs is where ACKs come from:

* gate modes: ``release()`` lets one held ACK go; the sender has processed it when the
  verdict returns, so the accounting read next is the accounting *after that ACK*, and each
  EPOLLOUT is attributed exactly (the rule held after that ACK, not after the one before).
* natural and netem: ACKs arrive on their own; ``settle()`` waits until the sender has
  nothing unacknowledged in flight.  The write-space rule is monotone between writes (an ACK
  only shrinks wmem_queued), so the model fed with the settled accounting predicts the same
  epoll result as one fed ACK by ACK; the wake itself is timed by the :class:`WakeWitness`.
"""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from harness.model import masks as M
from harness.model.rules import EpollModel, KernelRules, writeable
from harness.peers.attribution import AckSample, Attribution, Completeness, attribute, retransmissions
from harness.peers.capture import Capture
from harness.peers.realnet import RealNet
from harness.record.timeline import Timeline
from harness.sockets.epoll import Watch
from harness.sockets.sockinfo import Snapshot, snapshot, tcp_info
from harness.sockets.witness import WakeWitness
from harness.sockets.writer import BlockingWriter

from .inside_ack import InsideAck, series_entry
from .realblocking import STEP_DEADLINE, BlockingSteps, s_acked
from .sending import Sending

MOD = 1 << 32


class GroundTruthError(AssertionError):
    """The capture cannot be trusted for this case (incomplete, or an unexpected retransmit)."""


@dataclass
class RealCase(Sending, BlockingSteps):
    net: RealNet
    sock: socket.socket      # the sender: the socket under test
    peer: socket.socket      # the receiver's accepted socket
    rules: KernelRules
    timeline: Timeline
    capture: Capture
    edge: bool = True
    watch: Watch | None = None
    model: EpollModel | None = None
    witness: WakeWitness | None = None
    last: Snapshot | None = None
    accepted: int = 0
    received: int = 0
    reports: list[tuple[int, str, int]] = field(default_factory=list)
    samples: list[AckSample] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    attributions: list[Attribution] = field(default_factory=list)
    writer: BlockingWriter | None = None
    exits: ExitStack = field(default_factory=ExitStack, repr=False)  # undo of the writer's CPU pinning
    writer_wakes: list[int] = field(default_factory=list)  # ACKs after which the writer was runnable
    inside: InsideAck | None = None  # the write-space tests inside each ACK (witness or bound)
    _wakes_seen: int = 0
    _data_seen: int = 0  # data segments of the capture already counted for an ACK

    def watch_inside_acks(self) -> InsideAck:
        """Record (kprobes) or bound the write-space tests inside each ACK from now on."""
        self.inside = InsideAck(self.sock, self.timeline, self.net.sender.socket, self.sock.family)
        self._data_seen = self._data_out()
        return self.inside

    def _data_out(self) -> int:
        return sum(1 for c in self.capture.segments if c.outbound and c.length)

    @property
    def mode(self) -> str:
        return "ET" if self.edge else "LT"

    @property
    def control(self):
        return self.net.control

    # -- accounting and epoll (as harness.cases.case.Case) ------------------------------------
    def snap(self) -> Snapshot:
        s = snapshot(self.sock)
        self.timeline.add("acct", s.brief() + f" acked={s.info.get('bytes_acked')} "
                          f"writable={'yes' if writeable(s, True) else 'no'}", snapshot=s.to_dict())
        self.last = s
        return s

    def register(self, events: int = M.IN | M.OUT) -> None:
        self.timeline.begin(f"epoll_ctl ADD ({self.mode})")
        self.watch = Watch(self.sock, self.edge, events, self.timeline)
        self.model = EpollModel(self.rules, self.edge, events)
        self.timeline.follow(self.model.history)  # the model's reasoning, step by step
        self.watch.add()
        self.model.ctl(self.snap())
        if not self.control.gated:
            self.witness = WakeWitness(self.sock)

    def wait(self, label: str | None = "epoll_wait") -> int:
        if label is not None:
            self.timeline.begin(label)
        acct = self.last if self.last is not None else self.snap()
        required = self.model.wait(acct)
        observed = self.watch.wait(0)
        self.timeline.check(f"epoll_wait({self.mode})", M.name(required.mask), M.name(observed), required.why)
        self.reports.append((self.timeline.step, self.timeline.labels[self.timeline.step], observed))
        return observed

    # -- the sender writes (send, fill: harness.cases.sending) ------------------------------------
    def collect(self) -> None:
        self.capture.drain()

    # -- ACKs: the gate ---------------------------------------------------------------------
    def rel_ack(self, ack: int) -> int:
        return (ack - self.capture.flow.iss[True]) % MOD

    def release(self) -> bool:
        """Release the oldest held ACK (after the configured delay in gate-delay mode).

        Returns whether the model says the ACK delivered a write-space wakeup.
        """
        gate = self.net.gate
        if not gate.wait(time.monotonic() + STEP_DEADLINE):
            raise AssertionError(f"the receiver sent no ACK within {STEP_DEADLINE} s "
                                 f"({self.last.brief() if self.last else ''})")
        if self.control.mode == "gate-delay":
            # the configured hold, measured from when the ACK was queued: not a guess
            due = gate.held[0].t + self.control.delay
            gate.wait(time.monotonic() + max(0.0, due - time.time()), count=1 << 30)
        seg = gate.held[0].seg
        rel = self.rel_ack(seg.ack)
        self.timeline.begin(f"ACK {rel}")
        prev = self.last
        gate.release()
        self.timeline.add("note", f"gate released ACK {rel} win {seg.window}")
        self.capture.drain()
        if s_acked(snapshot(self.sock)) < rel:
            # The verdict's softirq was deferred (ksoftirqd): wait until the sender has the ACK.
            self.timeline.add("note", f"ACK {rel} not processed when the verdict returned; waiting")
            self.capture.wait(lambda: s_acked(snapshot(self.sock)) >= rel, time.monotonic() + STEP_DEADLINE)
        acct = self.snap()
        return self._acked(rel, prev, acct)

    def _acked(self, rel: int, prev: Snapshot | None, acct: Snapshot) -> bool:
        freed = prev is not None and acct.wmem_queued < prev.wmem_queued
        sent, self._data_seen = self._data_out() - self._data_seen, self._data_out()
        inside = self.inside.observe(rel, acct, sent) if self.inside is not None else {}
        woke = self.model.acked(acct, freed, **inside)
        # The rule held at the wakeup: after the ACK, or at a witnessed test inside it.
        self.samples.append(AckSample(rel, acct.wmem_queued, acct.sndbuf, writeable(acct, True) or woke))
        self.series.append({**series_entry(rel, acct, self.model, woke), **acct.layout_conditions()})
        return woke

    def quiescent(self, s: Snapshot) -> bool:
        """Nothing in flight and nothing the sender still owes the wire.

        With unsent data and a window that takes it, the sender will transmit (at once with
        cubic, from the pacing timer with bbr: tcp_pace_kick), so ACKs are still to come.
        A window below both the unsent bytes and one MSS is what a closed window looks like
        to the sender (tcp_snd_wnd_test, Nagle/SWS avoidance).
        """
        if s.unacked_bytes:
            return False
        if not s.notsent:
            return True
        window = self.capture.peer_window() or 0
        return window < min(s.notsent, s.info.get("snd_mss", 1))

    def release_all(self) -> None:
        """Release ACKs one at a time, waiting after each, until nothing is in flight."""
        gate = self.net.gate
        while True:
            self.capture.drain()
            if not gate.pump() and self.quiescent(snapshot(self.sock)):
                break
            woke = self.release()
            observed = self.wait(None)
            self.series[-1]["epollout"] = bool(observed & M.OUT)
            if woke and observed & M.OUT:
                self._attribute(s_acked(self.last), time.time())

    # -- ACKs on their own: natural and netem ----------------------------------------------
    def settle(self, label: str = "ACKs arrive") -> bool:
        """Wait until the sender has nothing unacknowledged in flight; feed the model once."""
        self.timeline.begin(label)
        prev = self.last
        done = self.capture.wait(lambda: self.quiescent(snapshot(self.sock)),
                                 time.monotonic() + STEP_DEADLINE + 2 * self.control.delay)
        if not done:
            raise AssertionError(f"the sender still has data in flight after {STEP_DEADLINE} s")
        acct = self.snap()
        # named like a gate step: the cumulative ACK the settled accounting confirms
        self.timeline.labels[self.timeline.step] = f"ACK {s_acked(acct)}"
        woke = self._acked(s_acked(acct), prev, acct)
        observed = self.wait(None)
        self.series[-1]["epollout"] = bool(observed & M.OUT)
        if woke and observed & M.OUT:
            self.witness.wait_for(self._wakes_seen + 1, STEP_DEADLINE)
            wakes = self.witness.wakes[self._wakes_seen:]
            self._wakes_seen = len(self.witness.wakes)
            if not wakes:
                self.attributions.append(Attribution(None, None, False, None, None,
                                                     ("the witness saw no write-space wakeup",)))
            else:
                self._attribute(wakes[0].acked, wakes[0].t, wakes[0].read_t)
        return woke

    def read(self, n: int) -> int:
        """The receiver reads up to ``n`` bytes (what is there), then the ACKs settle."""
        self.timeline.begin(f"receiver reads up to {n}")
        got = 0
        while got < n:
            try:
                data = self.peer.recv(n - got, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if not data:
                break
            got += len(data)
        self.received += got
        self.timeline.add("call", f"receiver recv() = {got}")
        self.capture.drain()
        return got

    # -- attribution and ground truth ------------------------------------------------------
    def _attribute(self, acked: int, wake_t: float, read_t: float | None = None) -> Attribution:
        self.capture.drain()
        a = attribute(self.capture.acks(), acked, wake_t, self.samples if self.control.gated else (),
                      self.control.margin, read_t=read_t)
        self.attributions.append(a)
        self.timeline.add("note", f"EPOLLOUT attributed to ACK {a.waking_ack}: "
                          + ("confirmed" if a.ok else "; ".join(a.problems)))
        return a

    def ground_truth(self) -> Completeness:
        """Join the capture against TCP_INFO; raise GroundTruthError if it cannot be trusted."""
        comp = self.capture.join(lambda: tcp_info(self.sock), time.monotonic() + STEP_DEADLINE)
        self.timeline.add("note", comp.message)
        if not comp.ok:
            raise GroundTruthError(comp.message)
        resent = retransmissions(self.capture.data_out())
        if resent:
            raise GroundTruthError(f"unexpected retransmission in the capture (the gate must never hold "
                                   f"an ACK until TLP/RTO): {resent[:5]}")
        return comp

    def close(self) -> None:
        if self.inside is not None:
            self.inside.close()
        if self.writer is not None:
            self.writer.join(2.0)
        self.exits.close()
        if self.witness is not None:
            self.witness.close()
        if self.watch is not None:
            self.watch.close()
