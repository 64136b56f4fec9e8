"""A blocking send() in its own thread, observed from /proc without disturbing it.

A writer blocked for send space sleeps in sk_stream_wait_memory() (net/core/stream.c) until
sk_stream_write_space() wakes it.  Whether a given ACK woke it is read from the thread's own
state right after the ACK was processed: a wakeup makes it runnable ('R') at once, and once it
has run it either went back to sleep (one more voluntary context switch) or returned.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from netns import CleanupStack


@dataclass(frozen=True)
class ThreadState:
    state: str    # R, S, D, ... from /proc/<pid>/task/<tid>/stat
    wchan: str    # kernel function it sleeps in, "" when unknown
    nvcsw: int    # voluntary context switches

    def sleeping_for_space(self) -> bool:
        # sk_stream_wait_memory() sleeps through sk_wait_event() -> wait_woken(), which is
        # what wchan names on recent kernels; "" where wchan is hidden.
        return self.state == "S" and self.wchan in ("sk_stream_wait_memory", "wait_woken", "")


class BlockingWriter:
    """``send(total)`` on a blocking socket, started on demand, observed by the test thread."""

    WAIT_FN = "sk_stream_wait_memory"

    def __init__(self, sock: socket.socket, total: int, cpu: int | None = None) -> None:
        self.sock = sock
        self.total = total
        self.cpu = cpu
        self.tid: int | None = None
        self.result: int | BaseException | None = None
        self.done = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="blocking-writer", daemon=True)

    def _run(self) -> None:
        self.tid = threading.get_native_id()
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})
        self._started.set()
        try:
            self.result = self.sock.send(b"b" * self.total)
        except BaseException as exc:  # reported to the test, never lost in the thread
            self.result = exc
        finally:
            self.done.set()

    def start(self) -> None:
        self.sock.setblocking(True)
        self._thread.start()
        self._started.wait(5)

    def state(self) -> ThreadState:
        base = f"/proc/self/task/{self.tid}"
        try:
            with open(f"{base}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"{base}/wchan") as f:
                wchan = f.read().strip()
            with open(f"{base}/status") as f:
                nvcsw = next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
        except (FileNotFoundError, ProcessLookupError):
            return ThreadState("X", "", -1)
        return ThreadState(state, "" if wchan == "0" else wchan, nvcsw)

    def settled(self, timeout: float = 2.0, since: int | None = None) -> ThreadState | None:
        """Wait (with a deadline) until the writer sleeps for send space or has returned.

        ``since``: the context-switch count before a wakeup; the writer must have slept
        again after it (more switches) to count as settled.  None when it returned.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.done.is_set():
                return None
            st = self.state()
            if st.sleeping_for_space() and (since is None or st.nvcsw > since):
                return st
            self.done.wait(0.0002)
        raise AssertionError(f"blocking writer neither slept for space nor returned within {timeout}s: {self.state()}")

    def woke_since(self, before: ThreadState) -> bool:
        """Did anything wake the writer since ``before`` was read?"""
        if self.done.is_set():
            return True
        now = self.state()
        return now.state != "S" or now.nvcsw != before.nvcsw or now.wchan != before.wchan

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


@contextmanager
def waker_runs_first() -> Iterator[int]:
    """Pin the calling thread to one CPU at SCHED_FIFO priority 1; yields that CPU.

    A writer pinned to the same CPU (``BlockingWriter(cpu=...)``) that an ACK wakes becomes
    runnable but cannot run until the caller sleeps: the caller reads the accounting as it
    was at the wakeup, and sees the writer in state 'R'.  Without this, the woken writer
    queues more data on the other CPU while the caller is still reading.  Needs root
    (CAP_SYS_NICE); the original affinity and policy are restored on exit.
    """
    with CleanupStack() as stack:
        affinity = os.sched_getaffinity(0)
        policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
        cpu = min(affinity)
        os.sched_setaffinity(0, {cpu})
        stack.defer(os.sched_setaffinity, 0, affinity)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        stack.defer(os.sched_setscheduler, 0, policy, param)
        yield cpu
