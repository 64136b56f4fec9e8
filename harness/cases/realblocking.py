"""The blocking writer's steps of a real-peer case (mixed into :class:`RealCase`).

A thread writes with blocking send(); the harness releases the receiver's ACKs one at a time
and, after each, asks whether the writer became runnable (harness.sockets.writer), checking it
against the model and, on kernels that test the rule after each skb sent, against the
write-space tests inside the ACK (harness.cases.inside_ack).  The receiver reads when its
closed window stalls the transfer.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from harness.model import masks as M
from harness.model.transient import RefillBound
from harness.sockets.kprobes import TracingUnavailable
from harness.sockets.sockinfo import Snapshot, inq, snapshot
from harness.sockets.writer import BlockingWriter, waker_runs_first

from .blocking import accepted
from .inside_ack import accepted_on_bound, rt_unthrottled

STEP_DEADLINE = 1.0  # s: an ACK the sender is owed arrives long before (no RTO is involved)
# s: how long a woken writer may take to sleep again; a guard against a hang, not a measure:
# RT throttling stops the writer with the harness for the rest of its period (up to a second)
SETTLE_DEADLINE = 10.0


class BlockingSteps:
    """Needs the :class:`RealCase` attributes (sock, peer, net, capture, model, timeline ...)."""

    def kernel_accepted(self, acct: Snapshot) -> int:
        """Bytes the kernel took from send() so far: acknowledged data plus SIOCOUTQ."""
        return accepted(acct)

    def start_writer(self, total: int) -> None:
        """A thread writes ``total`` bytes with blocking send(); wait until it blocks.

        The harness takes SCHED_FIFO on the writer's CPU only once the writer sleeps: before,
        the writer needs that CPU to fill its buffer, and on a one-CPU guest a real-time
        harness polling its state starves it for longer than the retransmission timeout,
        while the gate holds the first ACKs.
        """
        self.timeline.begin(f"blocking writer: send {total} bytes")
        cpu = min(os.sched_getaffinity(0))  # the CPU waker_runs_first() pins the harness to
        self.writer = BlockingWriter(self.sock, total, cpu=cpu, chunk=65536)
        self.writer.start()
        if self.inside is not None and self.inside.witness is not None:
            try:
                self.inside.witness.follow(self.writer.tid)
            except TracingUnavailable as exc:  # the writer's wakers go unnamed; the calls are still seen
                self.timeline.add("note", f"who wakes the writer is not traced: {exc}")
        self._writer_slept()
        self.exits.enter_context(rt_unthrottled())
        assert self.exits.enter_context(waker_runs_first()) == cpu
        self.exits.enter_context(self.writer.behind_waker())

    def _writer_slept(self, since: int | None = None) -> None:
        """Wait until the writer sleeps for space again (``since``: its voluntary switches
        when the wakeup came: it must have slept after it) or returned."""
        task = self.writer.settled(SETTLE_DEADLINE, since=since)
        self.capture.drain()
        acct = self.snap()
        if task is None:
            self.timeline.add("call", f"writer finished: {self.writer.written} bytes")
            return
        self.timeline.add("call", f"writer sleeps in {task.wchan} (sk_stream_wait_memory), "
                          f"{self.kernel_accepted(acct)} bytes accepted, {task.voluntary} voluntary switches")
        self.model.sent("blocked", acct)

    def release_all_blocking(self) -> None:
        """Release ACKs one at a time; after each, is the writer runnable?  Check it and epoll.

        The writer (on this thread's CPU, which runs SCHED_FIFO meanwhile) cannot run before
        this thread blocks, so its state read right after the release says whether that ACK
        woke it: runnable (R), or, should it have run anyway, one more voluntary switch.
        """
        gate = self.net.gate
        while True:
            self.capture.drain()
            if not gate.pump() and self.quiescent(snapshot(self.sock)) and self.writer.done.is_set():
                break
            if not gate.pump() and self._stalled_on_window():
                continue
            alive = not self.writer.done.is_set()
            before, prev = self.writer.state(), self.last
            woke = self.release()
            runnable = alive and self.writer.woke_since(before)
            ran = self.kernel_accepted(self.last) - self.kernel_accepted(prev) if alive and prev else 0
            if ran > 0 and (self.inside is None or self.inside.witness is None):
                self._judge_refilled(prev, ran, runnable)
                runnable = True  # it accepted bytes: it was woken, whatever its state read says
            elif alive and self.inside is not None:
                self.inside.check(self.samples[-1].ack, self.model, runnable, "blocked writer woken", self.writer.tid)
                if runnable and not woke and self.model.ack_outcome.undecided:
                    self.model.transient_observed(True)  # inside the bound: the rule held inside the ACK
                    self.series[-1]["transient"] = True
                    accepted_on_bound(self.series[-1], self.series[-1].get("bound"))
                    self.samples[-1] = replace(self.samples[-1], writable=True)
            elif alive:
                self.timeline.check("blocked writer woken", woke, runnable,
                                    "sk_stream_write_space wakes the sleeper only if free >= queued/2")
            self.series[-1]["writer_woken"] = runnable
            if runnable:
                # The woken writer can run before this wait: whenever this thread blocks (a
                # forced GIL switch to another of the harness's threads does, every 5 ms) the
                # CPU is free for it, and its send() fills the buffer again.  epoll_wait
                # re-polls tcp_poll() at the instant of the wait, so read the accounting next
                # to it rather than judge the wait by the one read after the ACK.
                self.snap()
            observed = self.wait(None)
            self.series[-1]["epollout"] = bool(observed & M.OUT)
            if runnable:
                self.writer_wakes.append(self.samples[-1].ack)
                self._attribute(s_acked(self.last), time.time())
                self._writer_slept(since=before.voluntary)

    def _judge_refilled(self, prev: Snapshot, ran: int, runnable: bool) -> None:
        """The woken writer ran before the accounting after the ACK was read: judge the
        wakeup on what that ACK can have left, not on the buffer the writer refilled.

        The harness's priority keeps the writer from running before that read unless this
        thread blocks (a GIL hand-over, a wait for a deferred softirq).  A kernel witness
        reads the accounting inside the ACK itself; without one, the ACK's accounting is
        bounded by the read before it (:class:`harness.model.transient.RefillBound`: the
        bytes left queued, each skb still holding some with its head).  The writer accepted
        bytes, so it was woken, whatever its state read says: where the rule cannot hold at
        that bound, the wakeup fails; where it can, it is accepted and marked bounded.
        """
        ack = self.samples[-1].ack
        head = self.inside.head if self.inside is not None and self.inside.head else 0
        bound = RefillBound(max(0, self.kernel_accepted(prev) - (ack - 1)), self.last.sndbuf,
                            self.last.notsent_lowat, head)
        can = bound.may_hold()
        self.timeline.add("note", f"the woken writer ran before the accounting was read: it accepted {ran} "
                          f"bytes (state read: {'runnable' if runnable else 'not runnable'}), so that read "
                          f"no longer describes ACK {ack}")
        self.timeline.check("blocked writer woken", can, True, bound.brief())
        entry = self.series[-1]
        entry.update(writer_ran_first=ran, wakeup_allowed=can, lowest_queued=bound.lowest_queued)
        if can:
            accepted_on_bound(entry, bound.to_fact())
            self.samples[-1] = replace(self.samples[-1], writable=True)

    def writer_facts(self, record) -> None:
        """How the writer's wakeups were judged: how many steps it ran before the read after
        the ACK, and whether every wakeup rests on an exact verdict or some on a bound."""
        ran_first = [s["ack"] for s in self.series if s.get("writer_ran_first")]
        bounded = [s["ack"] for s in self.series if s.get("writer_woken") and s.get("basis") == "bounded"]
        record.fact("writer_ran_first", ran_first or None)
        record.fact("writer_wake_basis", f"bounded at ACK {', '.join(map(str, bounded))}" if bounded else "exact")

    def _stalled_on_window(self) -> bool:
        """Nothing held, nothing in flight, data unsent: the receiver's window is closed.

        A receiver that never reads closes its window once its buffer is full; the sender
        then only sends zero-window probes on a backing-off timer (tcp_probe_timer), and how
        soon that happens depends on the kernel's receive autotuning and pace.  So the
        receiver reads what it holds: tcp_cleanup_rbuf() sends the window update (held by
        the gate like any ACK), the window reopens and the script goes on.  Returns whether
        it read.
        """
        s = snapshot(self.sock)
        if s.unacked_bytes or not s.notsent or not inq(self.peer):
            return False
        self.timeline.add("note", f"window closed ({self.capture.peer_window()} bytes) with {s.notsent} "
                          "bytes unsent: the receiver reads")
        return self.read(1 << 22) > 0


def s_acked(acct: Snapshot) -> int:
    """The relative cumulative ACK the sender has processed.

    tcp_snd_una_update() adds every advance of snd_una to ``bytes_acked``, the SYN's too, so
    ``bytes_acked`` is the ACK number relative to the ISN: 1 + the data bytes acknowledged.
    """
    return acct.info.get("bytes_acked", 0)
