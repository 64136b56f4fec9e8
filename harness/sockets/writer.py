"""A blocking send() in its own thread, observed from /proc without disturbing it.

A blocking send() that runs out of space sets SOCK_NOSPACE and sleeps in
sk_stream_wait_memory() (net/core/stream.c) until sk_stream_write_space() wakes it, which
happens only when __sk_stream_is_writeable(sk, 1) holds: the same rule and the same wakeup
as an edge-triggered EPOLLOUT.  Whether a given ACK woke it is read from the thread's own
state right after the ACK was processed: a wakeup makes it runnable ('R') at once, and once it
has run it either went back to sleep (one more voluntary context switch) or returned.

To make that a synchronous question, :func:`waker_runs_first` pins the harness thread to the
writer's CPU at SCHED_FIFO: a woken writer becomes runnable but cannot run until the harness
blocks, so the harness reads the accounting as it was at the wakeup.  Without it, the woken
writer queues more data on the other CPU while the harness is still reading.  The harness
only blocks in waits with deadlines, so the real-time priority never spins.

The writer itself runs at SCHED_FIFO one priority below (:meth:`BlockingWriter.behind_waker`).
A fair-class writer would run whenever the harness cannot, and a real-time harness can be
stopped without blocking: RT throttling (kernel.sched_rt_runtime_us, a cgroup's
cpu.rt_runtime_us) takes the CPU from it for the rest of the period, and a fair-class writer
woken by the ACK just released would refill its buffer before the harness reads the
accounting that ACK left.  Throttling stops every real-time task of the group on that CPU,
so a real-time writer waits too, and when the period ends the harness runs first.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from netns import CleanupStack

from .sleeping import TaskState, task_state

WAIT_MEMORY = "sk_stream_wait_memory"
WAKER_PRIORITY = 2   # SCHED_FIFO priority of the harness thread in waker_runs_first()
WRITER_PRIORITY = 1  # and of a writer behind it: runs only when the harness blocks


class BlockingWriter:
    """Writes ``total`` bytes with blocking send() calls from its own thread."""

    def __init__(self, sock: socket.socket, total: int, cpu: int | None = None, chunk: int | None = None) -> None:
        self.sock = sock
        self.total = total
        self.cpu = cpu
        self.chunk = chunk or total  # one send() by default: the seed's single write()
        self.written = 0
        self.error: BaseException | None = None
        self.tid: int | None = None
        self.done = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="blocking-writer", daemon=True)

    def _run(self) -> None:
        self.tid = threading.get_native_id()
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})
        self._started.set()
        data = b"b" * self.chunk
        try:
            while self.written < self.total:
                self.written += self.sock.send(data[: self.total - self.written])
        except BaseException as exc:  # reported to the test, never lost in the thread
            self.error = exc
        finally:
            self.done.set()

    @property
    def result(self) -> int | BaseException:
        return self.error if self.error is not None else self.written

    def start(self) -> None:
        self.sock.setblocking(True)
        self._thread.start()
        self._started.wait(5)

    def state(self) -> TaskState:
        return task_state(self.tid)

    def settled(self, timeout: float = 2.0, since: int | None = None) -> TaskState | None:
        """Wait (with a deadline) until the writer sleeps for send space or has returned.

        ``since``: the context-switch count before a wakeup; the writer must have slept
        again after it (more switches) to count as settled.  None when it returned.

        Asleep means the same state read twice with this thread blocked in between: a
        writer preempted on its way to sleep (TASK_INTERRUPTIBLE set, schedule() not yet
        reached; a SCHED_FIFO harness on its CPU preempts it there) reads 'S' in
        sk_stream_wait_memory, but it finishes going to sleep as soon as this thread blocks,
        and that is one voluntary switch more.  Taken for asleep, its sleep would later pass
        for a wakeup by the ACK released meanwhile.
        """
        deadline = time.monotonic() + timeout
        seen: TaskState | None = None
        while time.monotonic() < deadline:
            if self.done.is_set():
                return None
            st = self.state()
            if st.asleep_in(WAIT_MEMORY, "wait_woken") and (since is None or st.voluntary > since):
                if seen is not None and seen.voluntary == st.voluntary:
                    return st
                seen = st
            else:
                seen = None
            self.done.wait(0.0002)  # block, so that the writer may run
        raise AssertionError(f"blocking writer neither slept for space nor returned within {timeout}s: {self.state()}")

    @contextmanager
    def behind_waker(self) -> Iterator[None]:
        """Run the writer at SCHED_FIFO just below :func:`waker_runs_first`'s priority.

        Needs CAP_SYS_NICE, like the harness's own priority; the fair class is restored on
        exit (unless the thread has ended, which drops its policy with it).
        """
        os.sched_setscheduler(self.tid, os.SCHED_FIFO, os.sched_param(WRITER_PRIORITY))
        try:
            yield
        finally:
            try:
                os.sched_setscheduler(self.tid, os.SCHED_OTHER, os.sched_param(0))
            except ProcessLookupError:
                pass

    def woke_since(self, before: TaskState) -> bool:
        """Did anything wake the writer since ``before`` was read?"""
        if self.done.is_set():
            return True
        now = self.state()
        return now.state != "S" or now.voluntary != before.voluntary

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


@contextmanager
def waker_runs_first() -> Iterator[int]:
    """Pin the calling thread to one CPU at SCHED_FIFO priority WAKER_PRIORITY; yields that CPU.

    A writer started with ``BlockingWriter(cpu=...)`` on that CPU (and put
    :meth:`~BlockingWriter.behind_waker`) that an ACK wakes becomes runnable but cannot run
    until the caller sleeps.  Needs CAP_SYS_NICE (the capability
    ``sched_fifo``); the original affinity and policy are restored on exit.
    """
    with CleanupStack() as stack:
        affinity = os.sched_getaffinity(0)
        policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
        cpu = min(affinity)
        os.sched_setaffinity(0, {cpu})
        stack.defer(os.sched_setaffinity, 0, affinity)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(WAKER_PRIORITY))
        stack.defer(os.sched_setscheduler, 0, policy, param)
        yield cpu
